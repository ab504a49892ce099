"""Recording keyframes from the applet's RFB session (docs/recording-format.md, K1-K3):
the keyframe shows what the viewer has, sits between two RFB messages, and everything
after it decodes without the history before it; on the link it travels in pieces."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from supportdesk.applet.screen.rfb_session import RFBSession
from supportdesk.capture.screen_source import MemoryScreenSource
from supportdesk.link.frames import (
    KEYFRAME_FLAG,
    MAX_PAYLOAD,
    LinkProtocolError,
    decode_frame,
    encode_keyframe_pieces,
)
from supportdesk.link.keyframe import parse_keyframe
from supportdesk.recording.rfb_decoder import (
    ServerInit,
    ServerMessageKind,
    ServerStreamDecoder,
)
from supportdesk.rfb import PixelFormat
from tests.rfb import viewer as v

W, H = 320, 240
NOVNC_FORMAT = PixelFormat(32, 24, False, True, 255, 255, 255, 0, 8, 16)
TIGHT_NOVNC = (7, 1, 0, -308, -223, -239, -224, -313, -312, -256 + 2)


class ViewerPipe:
    """The viewer's bytes in, the session's output out, keyframes in the same log."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[bytes] = asyncio.Queue()
        self.log: list[tuple[str, bytes]] = []
        self.changed = asyncio.Event()

    async def read(self) -> bytes:
        return await self.incoming.get()

    async def write(self, data: bytes) -> None:
        self.log.append(("rfb", data))
        self.changed.set()

    async def close(self) -> None:
        pass

    async def keyframe(self, payload: bytes) -> None:
        self.log.append(("keyframe", payload))
        self.changed.set()

    async def wait_for(self, check: object, what: str) -> None:
        async def loop() -> None:
            while not check():  # type: ignore[operator]
                self.changed.clear()
                await self.changed.wait()

        try:
            await asyncio.wait_for(loop(), timeout=10)
        except TimeoutError:
            raise AssertionError(f"no {what}: {[kind for kind, _ in self.log]}") from None

    def rfb_after(self, index: int) -> bytes:
        return b"".join(data for kind, data in self.log[index + 1 :] if kind == "rfb")

    def keyframes(self) -> list[int]:
        return [i for i, (kind, _) in enumerate(self.log) if kind == "keyframe"]


def busy(source: MemoryScreenSource, seed: int) -> None:
    """Many colours with repetition, so Tight uses its zlib streams."""
    rng = np.random.default_rng(seed)
    picture = rng.integers(0, 256, (H, W // 2, 4), dtype=np.uint8)
    source.desktop[:, : W // 2] = picture
    source.desktop[:, W // 2 :] = picture


def updates(stream: bytes, decoder: ServerStreamDecoder) -> int:
    return sum(m.kind is ServerMessageKind.FRAMEBUFFER_UPDATE for m in decoder.feed(stream))


def count_updates(after_keyframe: bytes) -> int:
    framing = ServerInit(W, H, NOVNC_FORMAT, "")
    return updates(after_keyframe, ServerStreamDecoder(decode_pixels=False, server_init=framing))


async def test_keyframe_after_the_first_update_then_fresh_streams() -> None:
    source = MemoryScreenSource(((0, 0, W, H),))
    busy(source, 1)
    pipe = ViewerPipe()
    session = RFBSession(source, monitor=1, max_fps=60, on_keyframe=pipe.keyframe)
    session.start()
    serving = asyncio.create_task(session.serve(pipe, pipe))
    # Asked before there is anything on the viewer's screen: it follows the first update.
    session.request_keyframe()
    pipe.incoming.put_nowait(
        b"RFB 003.008\n\x01\x01"
        + v.set_pixel_format(NOVNC_FORMAT)
        + v.set_encodings(*TIGHT_NOVNC)
        + v.update_request(False, 0, 0, W, H)
    )
    await pipe.wait_for(lambda: pipe.keyframes(), "keyframe after the first update")
    (at,) = pipe.keyframes()
    first_screen = source.desktop[:, :, 2::-1].copy()
    before = b"".join(data for kind, data in pipe.log[:at] if kind == "rfb")
    assert updates(before, ServerStreamDecoder()) == 1  # the keyframe follows that update

    keyframe = parse_keyframe(pipe.log[at][1])
    assert (keyframe.width, keyframe.height, keyframe.pixel_format) == (W, H, NOVNC_FORMAT)
    late = ServerStreamDecoder(server_init=ServerInit(W, H, NOVNC_FORMAT, "late"))
    late.feed(keyframe.update)
    assert late.framebuffer is not None
    assert np.array_equal(late.framebuffer, first_screen)

    def after_keyframe() -> object:
        shown = ServerStreamDecoder(server_init=ServerInit(W, H, NOVNC_FORMAT, "late"))
        shown.feed(keyframe.update)
        shown.feed(pipe.rfb_after(at))
        return shown.framebuffer

    # The screen changes twice; a decoder that knows only the keyframe decodes both (the
    # update budget may carry a whole new screen in several updates: asked until it has).
    for seed in (2, 3):
        busy(source, seed)
        screen = source.desktop[:, :, 2::-1].copy()
        for _ in range(8):
            seen = count_updates(pipe.rfb_after(at))
            pipe.incoming.put_nowait(v.update_request(True, 0, 0, W, H))
            await pipe.wait_for(
                lambda n=seen: count_updates(pipe.rfb_after(at)) > n, f"update for screen {seed}"
            )
            if np.array_equal(after_keyframe(), screen):
                break
        assert np.array_equal(after_keyframe(), screen)
    assert updates(pipe.rfb_after(at), late) >= 2
    assert np.array_equal(late.framebuffer, source.desktop[:, :, 2::-1])

    # Another request: another keyframe, of the newest picture, after the last update.
    session.request_keyframe()
    await pipe.wait_for(lambda: len(pipe.keyframes()) == 2, "second keyframe")
    second = parse_keyframe(pipe.log[pipe.keyframes()[1]][1])
    fresh = ServerStreamDecoder(server_init=ServerInit(W, H, NOVNC_FORMAT, "late"))
    fresh.feed(second.update)
    assert np.array_equal(fresh.framebuffer, source.desktop[:, :, 2::-1])
    assert session.stats.keyframes == 2
    session.stop()
    await asyncio.wait_for(serving, 5)


def test_a_keyframe_crosses_the_link_in_pieces_on_its_flagged_channel() -> None:
    payload = bytes(range(256)) * ((2 * MAX_PAYLOAD) // 256 + 1)
    frames = [decode_frame(m) for m in encode_keyframe_pieces(3, payload)]
    assert {f.channel for f in frames} == {KEYFRAME_FLAG | 3}
    assert [f.payload[0] for f in frames] == [1, 1, 0]  # more, more, last
    assert b"".join(f.payload[1:] for f in frames) == payload
    assert all(len(f.payload) <= MAX_PAYLOAD for f in frames)
    for channel in (0, KEYFRAME_FLAG):
        with pytest.raises(LinkProtocolError):
            encode_keyframe_pieces(channel, payload)
