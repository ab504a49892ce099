"""The recording's RFB decoder against the real engine's output, whole and byte by byte."""

from __future__ import annotations

import numpy as np
import pytest

from supportdesk.recording import PlaybackError, encode_keyframe, parse_keyframe
from supportdesk.recording.rfb_decoder import (
    ClientStreamTracker,
    ServerInit,
    ServerMessageKind,
    ServerStreamDecoder,
)
from supportdesk.rfb import Rect, RFBServerConnection, SetPixelFormat
from tests.rfb import viewer as v

from .session import NOVNC_FORMAT, TIGHT_NOVNC, desktop

W, H = 160, 96


def engine_stream(
    encodings: tuple[int, ...], steps: int = 4
) -> tuple[bytes, bytes, list[np.ndarray]]:
    conn = RFBServerConnection(W, H, "pc")
    client = (
        b"RFB 003.008\n\x01\x01" + v.set_pixel_format(NOVNC_FORMAT) + v.set_encodings(*encodings)
    )
    conn.receive_data(client)
    frames = []
    for step in range(steps):
        request = v.update_request(step > 0, 0, 0, W, H)
        client += request
        conn.receive_data(request)
        conn.add_damage([Rect(0, 0, W, H)])
        frame = desktop(W, H, step)
        conn.send_framebuffer_update(frame)
        frames.append(frame)
    conn.events_received()
    return conn.data_to_send(), client, frames


@pytest.mark.parametrize("encodings", [TIGHT_NOVNC, (0,), (7, 1, -256 + 9, -32 + 5)])
@pytest.mark.parametrize("piece", [None, 1, 777])
def test_decodes_the_engine_stream(encodings: tuple[int, ...], piece: int | None) -> None:
    server, client, frames = engine_stream(encodings)
    decoder = ServerStreamDecoder()
    handshake_size = 12 + 2 + 4 + 24 + 2
    messages = decoder.feed(server[:handshake_size])
    # As recorded: ServerInit first, then the viewer's SetPixelFormat.
    for message in ClientStreamTracker().feed(client):
        if isinstance(message, SetPixelFormat):
            decoder.set_pixel_format(message.pixel_format)
    size = piece or len(server)
    for i in range(handshake_size, len(server), size):
        messages += decoder.feed(server[i : i + size])
    kinds = [m.kind for m in messages]
    assert kinds[0] is ServerMessageKind.HANDSHAKE
    assert kinds.count(ServerMessageKind.FRAMEBUFFER_UPDATE) == len(frames)
    assert b"".join(m.raw for m in messages) == server
    assert decoder.server_init is not None
    assert (decoder.server_init.width, decoder.server_init.name) == (W, "pc")
    assert decoder.framebuffer is not None
    if -32 + 5 in encodings:  # JPEG: lossy
        assert v.psnr(decoder.framebuffer, frames[-1]) > 30
    else:
        assert np.array_equal(decoder.framebuffer, frames[-1])


def test_framing_only_finds_the_same_boundaries() -> None:
    server, _, _ = engine_stream(TIGHT_NOVNC)
    full = ServerStreamDecoder().feed(server)
    framing = ServerStreamDecoder(decode_pixels=False).feed(server)
    assert [m.raw for m in framing] == [m.raw for m in full]


@pytest.mark.parametrize("encoding", ["tight", "raw"])
def test_keyframe_decodes_standalone_even_after_other_zlib_history(encoding: str) -> None:
    server, _, _ = engine_stream(TIGHT_NOVNC)
    decoder = ServerStreamDecoder(server_init=ServerInit(W, H, NOVNC_FORMAT, "pc"))
    decoder.feed(server[12 + 2 + 4 + 24 + 2 :])  # zlib streams now hold history
    picture = desktop(W, H, 99)
    keyframe = parse_keyframe(encode_keyframe(picture, NOVNC_FORMAT, encoding=encoding))  # type: ignore[arg-type]
    assert (keyframe.width, keyframe.height, keyframe.pixel_format) == (W, H, NOVNC_FORMAT)
    decoder.feed(keyframe.update)
    assert decoder.framebuffer is not None
    assert np.array_equal(decoder.framebuffer, picture)
    fresh = ServerStreamDecoder(server_init=ServerInit(W, H, NOVNC_FORMAT, "pc"))
    fresh.feed(keyframe.update)
    assert fresh.framebuffer is not None
    assert np.array_equal(fresh.framebuffer, picture)
    viewer = v.Viewer(W, H, NOVNC_FORMAT)  # the independent test decoder agrees
    viewer.feed(keyframe.update)
    assert np.array_equal(viewer.fb, picture)


def test_garbage_is_a_playback_error() -> None:
    decoder = ServerStreamDecoder(server_init=ServerInit(W, H, NOVNC_FORMAT, "pc"))
    with pytest.raises(PlaybackError):
        decoder.feed(b"\x63")
    with pytest.raises(PlaybackError):
        ServerStreamDecoder().feed(b"RFB 003.003\n")
