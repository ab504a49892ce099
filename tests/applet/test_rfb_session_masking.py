"""Masks over a real RFB connection: what the viewer decodes never holds the secret field's
pixels, the Sichtschutz blanks everything (and comes back), and the agent's input into a
masked area is dropped."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np
from bench.rfb_client import RAW, TIGHT, RFBClient

from supportdesk.applet.masking import SessionMasking
from supportdesk.applet.rfb_session import RFBSession
from supportdesk.capture.mask import MaskArea, MaskKind
from supportdesk.capture.screen_source import MemoryScreenSource
from supportdesk.rfb.geometry import Rect

from .harness import serve_session
from .test_rfb_session import RecordingSink

W, H = 320, 240
SECRET_RGB = (177, 77, 7)  # what the "typed PIN" looks like, decoded


class Field:
    def __init__(self) -> None:
        self.now: Sequence[MaskArea] = ()

    def areas(self) -> Sequence[MaskArea]:
        return self.now


def secret_pixels(fb: np.ndarray) -> int:
    return int((fb == np.array(SECRET_RGB, np.uint8)).all(axis=2).sum())


async def fresh(client: RFBClient) -> None:
    await client.request(incremental=False)
    await client.next_update(within=2)


async def test_the_viewer_never_decodes_a_masked_pixel_and_input_there_is_dropped() -> None:
    source = MemoryScreenSource(((0, 0, W, H),))
    source.fill((30, 30, 30, 0))
    masking = SessionMasking(None)
    field = Field()
    masking._masks.add(field)  # the AT-SPI watcher's place, driven by the test
    sink = RecordingSink()
    session = RFBSession(
        source, sink, monitor=1, control=True, max_fps=60, masks=masking,
        on_masks=masking.reported,
    )  # fmt: skip
    async with serve_session(session) as served:
        session.start()
        client = await RFBClient.open("127.0.0.1", served.port)
        await client.set_encodings(TIGHT, RAW)
        field.now = (MaskArea(Rect(100, 100, 100, 20), MaskKind.SECRET_INPUT),)
        source.fill((7, 77, 177, 0), (110, 104, 60, 12))  # BGRX of SECRET_RGB
        await fresh(client)
        assert secret_pixels(client.fb) == 0
        assert masking.active == {MaskKind.SECRET_INPUT}
        # Keys go to the secret field: dropped, and so is a click into the mask.
        await client.key(0x31, True)
        await client.pointer(150, 110, 1)
        await fresh(client)
        assert sink.events == [] and session.stats.input_masked == 2
        # Focus leaves: the field shows again (dots, in real life) and input passes.
        field.now = ()
        await client.request()
        await client.next_update(within=2)
        assert secret_pixels(client.fb) == 60 * 12
        await client.key(0x32, True)
        await fresh(client)
        assert sink.events == [("key", 0x32, True)]
        # Sichtschutz: the whole picture goes; the session stays.
        masking.toggle_privacy()
        session.refresh_masks()
        await client.request()
        await client.next_update(within=2)
        assert secret_pixels(client.fb) == 0
        assert not (client.fb == np.array((30, 30, 30), np.uint8)).all(axis=2).any()
        await client.pointer(5, 5, 0)
        await fresh(client)
        assert len(sink.events) == 1
        masking.toggle_privacy()
        session.refresh_masks()
        await asyncio.sleep(0.05)
        await client.request()
        await client.next_update(within=2)
        assert np.array_equal(client.fb, source.desktop[:, :, 2::-1])
        await client.close()
