"""Restarting the Tight zlib streams (recording rule K2): after the restart a decoder
with no history decodes every rectangle; without it, it cannot."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from supportdesk.recording import PlaybackError
from supportdesk.recording.rfb_decoder import ServerInit, ServerStreamDecoder
from supportdesk.rfb import Rect, RFBServerConnection
from supportdesk.rfb.encodings.tight import TightEncoder, TightSubencoding

from . import viewer as v
from .conftest import NOVNC_FORMAT

W, H = 160, 96
TIGHT_NOVNC = (7, 1, 0, -308, -223, -239, -224, -313, -312, -256 + 2)


def busy(step: int) -> np.ndarray:
    """Hundreds of colours with repetition: Tight full-colour zlib, every stream busy."""
    rng = np.random.default_rng(step)
    frame = rng.integers(0, 256, (H, W, 3)).astype(np.uint8)
    frame[:, W // 2 :] = frame[:, : W // 2]
    frame[H // 2 :, :, 0] = 255 * (rng.random((H - H // 2, W)) > 0.5)  # two-colour-ish band
    return frame


def test_the_next_rectangle_resets_all_streams_and_decodes_alone() -> None:
    encoder = TightEncoder()
    history = v.Viewer(W, H, NOVNC_FORMAT)
    for step in range(3):
        rgb = busy(step)[:64, :64]
        head = b"\x00\x00\x00\x01" + v.encode_rect_header(0, 0, 64, 64, 7)
        history.feed(head + encoder.encode(rgb, NOVNC_FORMAT))
    encoder.restart_streams()
    rgb = busy(9)[:64, :64]
    body = encoder.encode(rgb, NOVNC_FORMAT)
    assert encoder.last_subencoding is TightSubencoding.FULL_COLOUR
    assert body[0] & 0x0F == 0x0F  # reset bits of all four streams
    data = b"\x00\x00\x00\x01" + v.encode_rect_header(0, 0, 64, 64, 7) + body
    fresh = v.Viewer(W, H, NOVNC_FORMAT)
    fresh.feed(data)
    assert np.array_equal(fresh.fb[:64, :64], rgb)
    history.feed(data)  # a viewer with history resets on the bits and agrees
    assert np.array_equal(history.fb[:64, :64], rgb)
    # Only the first rectangle after the restart carries the bits.
    assert encoder.encode(rgb, NOVNC_FORMAT)[0] & 0x0F == 0


def engine() -> tuple[RFBServerConnection, ServerStreamDecoder]:
    conn = RFBServerConnection(W, H, "pc")
    conn.receive_data(
        b"RFB 003.008\n\x01\x01" + v.set_pixel_format(NOVNC_FORMAT) + v.set_encodings(*TIGHT_NOVNC)
    )
    conn.events_received()
    conn.data_to_send()  # the handshake: the keyframe-started decoder gets ServerInit instead
    return conn, ServerStreamDecoder(server_init=ServerInit(W, H, NOVNC_FORMAT, "pc"))


def update(conn: RFBServerConnection, frame: np.ndarray) -> bytes:
    conn.receive_data(v.update_request(True, 0, 0, W, H))
    conn.add_damage([Rect(0, 0, W, H)])
    assert conn.send_framebuffer_update(frame) > 0
    return conn.data_to_send()


@pytest.mark.parametrize("piece", [None, 1])
def test_updates_after_restart_compression_decode_without_history(piece: int | None) -> None:
    conn, _ = engine()
    for step in range(4):
        update(conn, busy(step))  # the streams now hold history a late decoder lacks
    conn.restart_compression()
    later = [busy(10 + step) for step in range(3)]
    stream = b"".join(update(conn, frame) for frame in later)
    fresh = ServerStreamDecoder(server_init=ServerInit(W, H, NOVNC_FORMAT, "pc"))
    size = piece or len(stream)
    messages = []
    for i in range(0, len(stream), size):
        messages += fresh.feed(stream[i : i + size])
    assert len(messages) == 3
    assert fresh.framebuffer is not None
    assert np.array_equal(fresh.framebuffer, later[-1])


def test_without_the_restart_a_late_decoder_fails() -> None:
    conn, fresh = engine()
    for step in range(4):
        update(conn, busy(step))
    with pytest.raises(PlaybackError) as caught:
        fresh.feed(update(conn, busy(10)))
    assert isinstance(caught.value.__cause__, zlib.error)
