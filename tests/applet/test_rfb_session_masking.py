"""Masks over a real RFB connection: what the viewer decodes never holds the secret field's
pixels, the Sichtschutz blanks everything (and comes back), the agent's input into a
masked area is dropped, and text scrolling past a still mask arrives by copies around it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import numpy as np
from bench.rfb_client import COPY_RECT, RAW, TIGHT, RFBClient

from supportdesk.applet.screen.masking import SessionMasking
from supportdesk.applet.screen.rfb_session import RFBSession
from supportdesk.capture.mask import MaskArea, MaskKind, MaskPainter, monitor_rects
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


async def updated_until(client: RFBClient, done: Callable[[], bool], tries: int = 6) -> None:
    """Ask for updates until ``done()``: the update budget may cut a whole picture's change
    (the Sichtschutz) into several updates."""
    for _ in range(tries):
        await client.request()
        await client.next_update(within=2)
        if done():
            return
    assert done()


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
        background = np.array((30, 30, 30), np.uint8)
        await updated_until(client, lambda: not (client.fb == background).all(axis=2).any())
        assert secret_pixels(client.fb) == 0
        await client.pointer(5, 5, 0)
        await fresh(client)
        assert len(sink.events) == 1
        masking.toggle_privacy()
        session.refresh_masks()
        await asyncio.sleep(0.05)
        await updated_until(client, lambda: np.array_equal(client.fb, source.desktop[:, :, 2::-1]))
        await client.close()


def lines(height: int, width: int, seed: int) -> np.ndarray:
    """BGRX 'text': random grey glyph rows, 12 of every 16 rows, on white."""
    rng = np.random.default_rng(seed)
    img = np.full((height, width, 4), 255, np.uint8)
    for y in range(0, height - 12, 16):
        img[y : y + 12, 4 : width - 4] = rng.integers(0, 5, (12, width - 8, 1), np.uint8) * 50
    img[..., 3] = 0
    return img


async def test_text_scrolling_past_a_still_secret_field_arrives_by_copies_around_it() -> None:
    source = MemoryScreenSource(((0, 0, W, H),))
    source.fill((30, 30, 30, 0))
    text = lines(H + 16 * 12, 280, seed=7)
    field = Field()
    masking = SessionMasking(None)
    masking._masks.add(field)
    box = Rect(150, 90, 100, 24)
    field.now = (MaskArea(box, MaskKind.SECRET_INPUT),)
    painted = monitor_rects(field.now, (0, 0), (W, H))[0]  # with the margin

    def show(step: int) -> None:
        desktop = source.desktop.copy()
        desktop[20:220, 20:300] = text[16 * step : 16 * step + 200]
        desktop[box.y : box.bottom, box.x : box.right] = (7, 77, 177, 0)  # the PIN, typed
        source.desktop = desktop  # one assignment: a grab sees this picture or the last

    def expected() -> np.ndarray:
        shot = MaskPainter("Geschützte Eingabe").paint(source.desktop.copy(), [painted])
        return shot[:, :, 2::-1]

    show(0)
    session = RFBSession(
        source, RecordingSink(), monitor=1, control=False, max_fps=60, masks=masking,
        on_masks=masking.reported,
    )  # fmt: skip
    async with serve_session(session) as served:
        session.start()
        client = await RFBClient.open("127.0.0.1", served.port)
        await client.set_encodings(COPY_RECT, RAW)
        await fresh(client)
        copies = 0
        for step in range(1, 12):
            show(step)
            async with asyncio.timeout(5):
                while not np.array_equal(client.fb, expected()):
                    await client.request()
                    update = await client.next_update()
                    assert secret_pixels(client.fb) == 0
                    for x, y, w, h, enc in update.rects:
                        if enc == COPY_RECT:
                            copies += 1
                            assert Rect(x, y, w, h).intersect(painted).is_empty
        # The text scrolled past the field by copies (one scroll: several pieces).
        assert copies >= 2 * 11
        await client.close()
