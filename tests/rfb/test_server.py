"""RFBServerConnection after the handshake: updates, requests, extensions."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from supportdesk.rfb import (
    ClientFence,
    KeyEvent,
    LocalProtocolError,
    Rect,
    RemoteProtocolError,
    SetDesktopSize,
)
from supportdesk.rfb.encodings.pseudo import DesktopSizeReason, DesktopSizeStatus

from . import viewer as v
from .conftest import NOVNC_FORMAT, Pair, desktop_frame
from .test_pixel_format import RGB565_LE, RGBX_BE

TIGHT_NOVNC = (7, 1, 0, -308, -223, -239, -224, -313, -312, -256 + 2, -32 + 6)


def request(
    conn: object, incremental: bool = False, area: tuple[int, int, int, int] | None = None
) -> None:
    from supportdesk.rfb import RFBServerConnection

    assert isinstance(conn, RFBServerConnection)
    x, y, w, h = area or (0, 0, conn.width, conn.height)
    conn.receive_data(v.update_request(incremental, x, y, w, h))


def test_events_are_reported(connect: Callable[..., Pair]) -> None:
    conn, _ = connect()
    conn.receive_data(v.key_event(True, 0x61))
    assert conn.events_received() == [KeyEvent(True, 0x61)]


@pytest.mark.parametrize("pf", [None, NOVNC_FORMAT, RGBX_BE])
def test_raw_full_update_is_exact(connect: Callable[..., Pair], pf: object) -> None:
    conn, viewer = connect(pixel_format=pf)
    frame = desktop_frame()
    request(conn)
    assert conn.update_ready
    assert conn.send_framebuffer_update(frame) >= 1
    viewer.feed(conn.data_to_send())
    assert set(viewer.rect_encodings) == {0}
    assert np.array_equal(viewer.fb, frame)
    assert not conn.update_requested


def test_raw_16_bit_update_round_trips_quantised(connect: Callable[..., Pair]) -> None:
    conn, viewer = connect(pixel_format=RGB565_LE)
    frame = desktop_frame()
    request(conn)
    conn.send_framebuffer_update(frame)
    viewer.feed(conn.data_to_send())
    expected = RGB565_LE.decode_pixels(RGB565_LE.encode_pixels(frame)).reshape(frame.shape)
    assert np.array_equal(viewer.fb, expected)


@pytest.mark.parametrize("pf", [None, NOVNC_FORMAT, RGB565_LE])
def test_tight_lossless_update_is_exact(connect: Callable[..., Pair], pf: object) -> None:
    conn, viewer = connect(300, 200, encodings=(7, 0), pixel_format=pf)
    frame = desktop_frame(300, 200)
    request(conn)
    conn.send_framebuffer_update(frame)
    viewer.feed(conn.data_to_send())
    assert set(viewer.rect_encodings) == {7}
    expected = viewer.pixel_format.decode_pixels(viewer.pixel_format.encode_pixels(frame))
    assert np.array_equal(viewer.fb, expected.reshape(frame.shape))
    kinds = set(viewer.tight_kinds)
    assert {"fill", "copy"} <= kinds
    assert kinds & {"mono", "palette"}


def test_tight_jpeg_update_is_close(connect: Callable[..., Pair]) -> None:
    conn, viewer = connect(300, 200, encodings=TIGHT_NOVNC, pixel_format=NOVNC_FORMAT)
    frame = desktop_frame(300, 200)
    request(conn)
    conn.send_framebuffer_update(frame)
    viewer.feed(conn.data_to_send())
    assert "jpeg" in viewer.tight_kinds
    assert v.psnr(viewer.fb, frame) >= 35


def test_incremental_updates_keep_zlib_state_across_many_updates(
    connect: Callable[..., Pair],
) -> None:
    conn, viewer = connect(256, 160, encodings=(7,), pixel_format=NOVNC_FORMAT)
    rng = np.random.default_rng(5)
    frame = desktop_frame(256, 160)
    request(conn)
    conn.send_framebuffer_update(frame)
    viewer.feed(conn.data_to_send())
    for step in range(12):
        x, y = int(rng.integers(0, 200)), int(rng.integers(0, 120))
        frame[y : y + 30, x : x + 50] = rng.integers(0, 4, (1, 1, 3)) * 60 + step
        frame[y + 5 : y + 10, x : x + 50] = (255, 255, 255)
        conn.add_damage([Rect(x, y, 50, 30)])
        request(conn, incremental=True)
        assert conn.send_framebuffer_update(frame) >= 1
        viewer.feed(conn.data_to_send())
        assert np.array_equal(viewer.fb, frame)


def test_incremental_request_without_damage_sends_nothing(connect: Callable[..., Pair]) -> None:
    conn, _ = connect()
    request(conn, incremental=True)
    assert conn.update_requested and not conn.update_ready
    assert conn.send_framebuffer_update(desktop_frame()) == 0
    assert conn.data_to_send() == b""
    conn.add_damage([Rect(10, 10, 5, 5)])
    assert conn.update_ready
    assert conn.send_framebuffer_update(desktop_frame()) == 1


def test_damage_outside_the_requested_area_waits(connect: Callable[..., Pair]) -> None:
    conn, viewer = connect()
    frame = desktop_frame()
    conn.add_damage([Rect(0, 0, 200, 120)])
    request(conn, incremental=True, area=(0, 0, 100, 120))
    conn.send_framebuffer_update(frame)
    viewer.feed(conn.data_to_send())
    assert np.array_equal(viewer.fb[:, :100], frame[:, :100])
    assert not viewer.fb[:, 100:].any()
    request(conn, incremental=True)
    conn.send_framebuffer_update(frame)
    viewer.feed(conn.data_to_send())
    assert np.array_equal(viewer.fb, frame)


def test_update_without_request_is_a_local_error(connect: Callable[..., Pair]) -> None:
    conn, _ = connect()
    with pytest.raises(LocalProtocolError):
        conn.send_framebuffer_update(desktop_frame())


def test_frame_of_wrong_size_is_a_local_error(connect: Callable[..., Pair]) -> None:
    conn, _ = connect()
    request(conn)
    with pytest.raises(LocalProtocolError):
        conn.send_framebuffer_update(desktop_frame(100, 100))


def test_requests_outside_the_framebuffer_are_clamped(connect: Callable[..., Pair]) -> None:
    conn, viewer = connect()
    frame = desktop_frame()
    request(conn, area=(150, 100, 65535, 65535))
    conn.send_framebuffer_update(frame)
    out = conn.data_to_send()
    viewer.feed(out)
    assert out[4:12] == b"\x00\x96\x00\x64\x00\x32\x00\x14"  # 150,100 50x20
    assert np.array_equal(viewer.fb[100:, 150:], frame[100:, 150:])
    request(conn, area=(500, 500, 10, 10))  # entirely outside: ignored
    assert not conn.update_requested


def test_copy_rect_scroll(connect: Callable[..., Pair]) -> None:
    conn, viewer = connect(encodings=(1, 0))
    frame = desktop_frame()
    request(conn)
    conn.send_framebuffer_update(frame)
    viewer.feed(conn.data_to_send())
    scrolled = frame.copy()
    scrolled[0:100] = frame[20:120]
    scrolled[100:120] = (1, 2, 3)
    conn.copy_rect(Rect(0, 0, 200, 100), 0, 20)
    conn.add_damage([Rect(0, 100, 200, 20)])
    request(conn, incremental=True)
    conn.send_framebuffer_update(scrolled)
    out = conn.data_to_send()
    viewer.feed(out)
    assert viewer.rect_encodings[-2:] == [1, 0]
    assert len(out) < 200 * 30 * 4
    assert np.array_equal(viewer.fb, scrolled)


def test_copy_rect_moves_unsent_damage_along(connect: Callable[..., Pair]) -> None:
    conn, viewer = connect(encodings=(1, 0))
    frame = desktop_frame()
    request(conn)
    conn.send_framebuffer_update(frame)
    viewer.feed(conn.data_to_send())
    changed = frame.copy()
    changed[50:60, 0:200] = (200, 0, 0)  # damage not yet sent...
    conn.add_damage([Rect(0, 50, 200, 10)])
    scrolled = changed.copy()
    scrolled[0:100] = changed[20:120]  # ...then scrolled up by 20
    conn.copy_rect(Rect(0, 0, 200, 100), 0, 20)
    conn.add_damage([Rect(0, 100, 200, 20)])
    request(conn, incremental=True)
    conn.send_framebuffer_update(scrolled)
    viewer.feed(conn.data_to_send())
    assert np.array_equal(viewer.fb, scrolled)


def test_copy_rect_without_client_support_sends_pixels(connect: Callable[..., Pair]) -> None:
    conn, viewer = connect(encodings=(0,))
    frame = desktop_frame()
    request(conn)
    conn.send_framebuffer_update(frame)
    viewer.feed(conn.data_to_send())
    scrolled = np.roll(frame, -20, axis=0)
    conn.copy_rect(Rect(0, 0, 200, 100), 0, 20)
    conn.add_damage([Rect(0, 100, 200, 20)])
    request(conn, incremental=True)
    conn.send_framebuffer_update(scrolled)
    viewer.feed(conn.data_to_send())
    assert 1 not in viewer.rect_encodings
    assert np.array_equal(viewer.fb, scrolled)


def test_cut_text_and_bell(connect: Callable[..., Pair]) -> None:
    conn, viewer = connect()
    conn.send_cut_text("Grüße €")
    conn.send_bell()
    out = conn.data_to_send()
    assert out[:8] == b"\x03\x00\x00\x00\x00\x00\x00\x07"
    viewer.feed(out)
    assert viewer.log[-2:] == [("cut", "Grüße ?"), ("bell",)]


def test_continuous_updates(connect: Callable[..., Pair]) -> None:
    conn, viewer = connect(encodings=(0, -313))
    assert viewer.log == [("end-cu",)]  # confirms the extension once
    conn.receive_data(v.set_encodings(0, -313))
    assert conn.data_to_send() == b""
    frame = desktop_frame()
    conn.receive_data(v.enable_continuous_updates(True, 0, 0, 200, 120))
    assert conn.continuous_updates
    for i in range(3):
        frame[i * 10 : i * 10 + 5] = (i, i, i)
        conn.add_damage([Rect(0, i * 10, 200, 5)])
        assert conn.update_ready
        assert conn.send_framebuffer_update(frame) == 1
    viewer.feed(conn.data_to_send())
    for i in range(3):
        assert np.array_equal(viewer.fb[i * 10 : i * 10 + 5], frame[i * 10 : i * 10 + 5])
    conn.receive_data(v.enable_continuous_updates(False, 0, 0, 200, 120))
    assert conn.data_to_send() == b"\x96"
    assert not conn.update_requested


def test_continuous_updates_before_confirmation_is_refused(connect: Callable[..., Pair]) -> None:
    conn, _ = connect(encodings=(0,))
    with pytest.raises(RemoteProtocolError):
        conn.receive_data(v.enable_continuous_updates(True, 0, 0, 10, 10))


def test_fences(connect: Callable[..., Pair]) -> None:
    conn, viewer = connect(encodings=(0, -312))
    assert viewer.log == [("fence", 0x80000000, b"")]
    conn.receive_data(v.client_fence(0x80000000 | 0x7 | 0x100, b"ping"))
    assert conn.data_to_send() == b"\xf8\x00\x00\x00\x00\x00\x00\x07\x04ping"
    conn.receive_data(v.client_fence(0x3, b""))  # a response: no reply
    assert conn.data_to_send() == b""
    assert conn.events_received()[-1] == ClientFence(3, b"")
    conn.send_fence(1, b"x")
    assert conn.data_to_send() == b"\xf8\x00\x00\x00\x80\x00\x00\x01\x01x"


def test_send_fence_requires_client_support(connect: Callable[..., Pair]) -> None:
    conn, _ = connect(encodings=(0,))
    with pytest.raises(LocalProtocolError):
        conn.send_fence(0)


def test_extended_desktop_size_announced_and_resize(connect: Callable[..., Pair]) -> None:
    conn, viewer = connect(encodings=(7, -308))
    frame = desktop_frame()
    request(conn)
    conn.send_framebuffer_update(frame)
    viewer.feed(conn.data_to_send())
    assert viewer.log[1] == ("ext-desktop-size", 0, 0, 200, 120, [(0, 0, 0, 200, 120, 0)])
    conn.resize(100, 80)
    bigger = desktop_frame(100, 80, seed=3)
    request(conn, incremental=True)
    conn.send_framebuffer_update(bigger)
    viewer.feed(conn.data_to_send())
    assert viewer.log[-1] == ("ext-desktop-size", 0, 0, 100, 80, [(0, 0, 0, 100, 80, 0)])
    assert np.array_equal(viewer.fb, bigger)


def test_set_desktop_size_refused(connect: Callable[..., Pair]) -> None:
    conn, viewer = connect(encodings=(0, -308))
    conn.receive_data(v.set_desktop_size(800, 600, [(0, 0, 0, 800, 600, 0)]))
    assert isinstance(conn.events_received()[-1], SetDesktopSize)
    conn.reply_desktop_size(DesktopSizeStatus.PROHIBITED)
    request(conn, incremental=True)
    assert conn.update_ready
    conn.send_framebuffer_update(desktop_frame())
    viewer.feed(conn.data_to_send())
    assert viewer.log[-1][:3] == ("ext-desktop-size", DesktopSizeReason.THIS_CLIENT, 1)


def test_plain_desktop_size(connect: Callable[..., Pair]) -> None:
    conn, viewer = connect(encodings=(0, -223))
    conn.resize(64, 48)
    request(conn, incremental=True)
    frame = desktop_frame(64, 48)
    conn.send_framebuffer_update(frame)
    viewer.feed(conn.data_to_send())
    assert ("desktop-size", 64, 48) in viewer.log
    assert np.array_equal(viewer.fb, frame)


def test_resize_without_client_support_is_a_local_error(connect: Callable[..., Pair]) -> None:
    conn, _ = connect(encodings=(0,))
    with pytest.raises(LocalProtocolError):
        conn.resize(10, 10)


def test_cursor_shape(connect: Callable[..., Pair]) -> None:
    conn, viewer = connect(encodings=(0, -239))
    cursor = np.zeros((4, 10, 4), dtype=np.uint8)
    cursor[..., :3] = (255, 0, 0)
    cursor[1:3, 2:9, 3] = 255
    assert conn.set_cursor(2, 1, cursor)
    request(conn, incremental=True)
    assert conn.update_ready
    assert conn.send_framebuffer_update(desktop_frame()) == 1
    viewer.feed(conn.data_to_send())
    kind, hx, hy, pixels, mask = viewer.log[-1]
    assert (kind, hx, hy) == ("cursor", 2, 1)
    assert (pixels == (255, 0, 0)).all()
    assert mask == bytes([0, 0, 0, 0, 0x3F, 0x80, 0x3F, 0x80, 0, 0, 0, 0][0:0]) + bytes(
        [0, 0, 0x3F, 0x80, 0x3F, 0x80, 0, 0]
    )


def test_cursor_ignored_without_support(connect: Callable[..., Pair]) -> None:
    conn, _ = connect(encodings=(0,))
    assert not conn.set_cursor(0, 0, np.zeros((2, 2, 4), dtype=np.uint8))


def test_pixel_format_change_applies_to_next_update(connect: Callable[..., Pair]) -> None:
    conn, viewer = connect()
    conn.receive_data(v.set_pixel_format(RGB565_LE))
    viewer.pixel_format = RGB565_LE
    request(conn)
    frame = desktop_frame()
    conn.send_framebuffer_update(frame)
    out = conn.data_to_send()
    assert len(out) == 4 + 12 + 200 * 120 * 2
    viewer.feed(out)


def test_update_header_bytes_exact(connect: Callable[..., Pair]) -> None:
    conn, _ = connect(width=2, height=1)
    request(conn)
    conn.send_framebuffer_update(np.array([[[1, 2, 3], [4, 5, 6]]], dtype=np.uint8))
    assert conn.data_to_send() == (
        b"\x00\x00\x00\x01"  # FramebufferUpdate, 1 rectangle
        b"\x00\x00\x00\x00\x00\x02\x00\x01\x00\x00\x00\x00"  # 0,0 2x1 Raw
        b"\x03\x02\x01\x00\x06\x05\x04\x00"  # BGRX
    )
