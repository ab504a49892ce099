"""One regression test per libvncserver / TigerVNC CVE class, against every parser we have.

Each test sends the bytes that broke the C implementations to the part of ours that
would meet them: the applet's engine (client-to-server messages), the relay's input
gate, and the recording's decoders (server-to-client streams, as the player and the
export read them). The outcome must be a clean, bounded one: a documented error
raised before anything of the announced size is allocated, or a correct picture.
"""

from __future__ import annotations

import struct
import tracemalloc
import zlib
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from supportdesk.recording.errors import PlaybackError
from supportdesk.recording.rfb_decoder import ClientStreamTracker, ServerInit, ServerStreamDecoder
from supportdesk.rfb import PixelFormat, RemoteProtocolError, RFBServerConnection
from supportdesk.rfb.input_filter import ViewerInputFilter

from . import viewer as v

HANDSHAKE = b"RFB 003.008\n\x01\x01"
SMALL = 64 * 1024  # no parser may allocate more than this for a few hostile bytes
TRUE_COLOUR = PixelFormat(32, 24, False, True, 255, 255, 255, 16, 8, 0)


@pytest.fixture
def peak() -> Iterator[Callable[[], int]]:
    tracemalloc.start()
    try:
        yield lambda: tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def engine() -> RFBServerConnection:
    conn = RFBServerConnection(64, 48)
    conn.receive_data(HANDSHAKE)
    return conn


def player(width: int = 64, height: int = 48) -> ServerStreamDecoder:
    return ServerStreamDecoder(server_init=ServerInit(width, height, TRUE_COLOUR, "x"))


def update(*rects: bytes) -> bytes:
    return struct.pack(">BxH", 0, len(rects)) + b"".join(rects)


@pytest.mark.parametrize("length", [0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFD, (1 << 20) + 1])
def test_cve_2018_7225_client_cut_text_length_is_checked_before_anything_is_allocated(
    length: int, peak: Callable[[], int]
) -> None:
    """libvncserver trusted ClientCutText's U32 length (malloc(length + 1) wrapped to 0)."""
    hostile = struct.pack(">BxxxI", 6, length) + b"A" * 16
    with pytest.raises(RemoteProtocolError):
        engine().receive_data(hostile)
    with pytest.raises(RemoteProtocolError):
        ViewerInputFilter(lambda: True).feed(HANDSHAKE + hostile)
    with pytest.raises(PlaybackError):
        ClientStreamTracker().feed(HANDSHAKE + hostile)
    assert peak() < SMALL


def test_cve_2019_15690_a_huge_cursor_shape_waits_for_its_bytes_without_allocating(
    peak: Callable[[], int],
) -> None:
    """libvncclient's HandleCursorShape overflowed width * height * bpp into a small buffer."""
    decoder = player()
    cursor = struct.pack(">HHHHi", 0, 0, 0xFFFF, 0xFFFF, -239) + b"\xff" * 100
    assert decoder.feed(update(cursor)) == []
    assert decoder.buffered == 100  # the cursor bytes that arrived, nothing reserved
    assert peak() < SMALL


def test_cve_2019_15691_zrle_is_never_decoded_or_sent() -> None:
    """TigerVNC's ZRLE decoder used stack memory after return; we speak no ZRLE at all."""
    with pytest.raises(PlaybackError, match="unsupported encoding 16"):
        player().feed(update(struct.pack(">HHHHi", 0, 0, 8, 8, 16) + bytes(64)))
    conn = engine()
    conn.receive_data(v.set_encodings(16) + v.update_request(False, 0, 0, 64, 48))
    conn.data_to_send()
    conn.send_framebuffer_update(np.zeros((48, 64, 3), dtype=np.uint8))
    rects = v.Viewer(64, 48, conn.pixel_format)
    rects.feed(conn.data_to_send())
    assert 16 not in rects.rect_encodings


def test_cve_2019_15692_copyrect_from_outside_the_framebuffer_is_refused() -> None:
    """TigerVNC's CopyRect decoder copied from a source rectangle it never checked."""
    for sx, sy in [(60, 0), (0, 45), (0xFFFF, 0xFFFF)]:
        with pytest.raises(PlaybackError, match="outside the framebuffer"):
            player().feed(update(struct.pack(">HHHHiHH", 0, 0, 8, 8, 1, sx, sy)))


def test_cve_2019_15693_tight_gradient_filter_is_refused_when_decoding() -> None:
    """TigerVNC's Tight gradient filter overflowed its row buffer."""
    pixels = zlib.compress(bytes(4 * 4 * 3))
    rect = struct.pack(">HHHHi", 0, 0, 4, 4, 7) + bytes([0x40, 2, len(pixels)]) + pixels
    with pytest.raises(PlaybackError, match="gradient"):
        player().feed(update(rect))


@pytest.mark.parametrize(
    ("x", "y", "w", "h"), [(60, 0, 8, 8), (0, 0, 0xFFFF, 1), (0xFFFF, 0xFFFF, 2, 2)]
)
def test_cve_2019_15694_rectangles_outside_the_framebuffer_are_refused(
    x: int, y: int, w: int, h: int
) -> None:
    """TigerVNC's DecodeManager took rectangles (signed sizes) it never bounded."""
    for encoding in (0, 7):
        with pytest.raises(PlaybackError, match="outside the framebuffer"):
            player().feed(update(struct.pack(">HHHHi", x, y, w, h, encoding) + bytes(64)))


@pytest.mark.parametrize(
    "fields",
    [
        (0, 24, 0, 1, 255, 255, 255, 16, 8, 0),  # no bits per pixel
        (7, 24, 0, 1, 255, 255, 255, 16, 8, 0),  # not a whole byte
        (64, 24, 0, 1, 255, 255, 255, 16, 8, 0),
        (32, 24, 0, 1, 0, 0, 0, 16, 8, 0),  # no colours
        (32, 24, 0, 1, 255, 255, 255, 40, 8, 0),  # a shift past the pixel
        (8, 8, 0, 0, 0, 0, 0, 0, 0, 0),  # a colour map
    ],
)
def test_cve_2019_15695_unusable_pixel_formats_are_refused(fields: tuple[int, ...]) -> None:
    """TigerVNC trusted a PixelFormat it never sanitised (readSetXCursor's stack overflow)."""
    message = b"\x00\x00\x00\x00" + struct.pack(">BBBBHHHBBB3x", *fields)
    with pytest.raises(RemoteProtocolError, match="pixel format"):
        engine().receive_data(message)
    with pytest.raises(PlaybackError):
        ClientStreamTracker().feed(HANDSHAKE + message)


@pytest.mark.parametrize("encoding", [2, 4, 5])  # RRE, CoRRE, Hextile
@pytest.mark.parametrize(
    "pixel_format",
    [
        PixelFormat(8, 8, False, True, 7, 7, 3, 0, 3, 6),
        PixelFormat(16, 16, True, True, 31, 63, 31, 11, 5, 0),
        TRUE_COLOUR,
    ],
)
def test_cve_2020_14402_14403_14404_encoders_stay_inside_the_framebuffer(
    encoding: int, pixel_format: PixelFormat
) -> None:
    """libvncserver's RRE, CoRRE and Hextile encoders read outside the frame for edge
    rectangles in client-chosen formats. We send none of them, and what we send for a
    request that reaches past every edge is exactly the frame, in the client's format."""
    conn = RFBServerConnection(67, 45)  # sizes that are no multiple of any tile
    conn.receive_data(HANDSHAKE)
    conn.data_to_send()
    conn.receive_data(v.set_pixel_format(pixel_format) + v.set_encodings(encoding, 7))
    conn.receive_data(v.update_request(False, 60, 40, 0xFFFF, 0xFFFF))
    frame = np.random.default_rng(9).integers(0, 256, (45, 67, 3), dtype=np.uint8)
    conn.send_framebuffer_update(frame)
    viewer = v.Viewer(67, 45, pixel_format)
    viewer.feed(conn.data_to_send())
    assert set(viewer.rect_encodings) <= {7}
    expected = pixel_format.decode_pixels(pixel_format.encode_pixels(frame[40:, 60:]))
    assert np.array_equal(viewer.fb[40:, 60:], expected.reshape(5, 7, 3))


def test_cve_2020_14405_text_chat_is_an_unknown_message_not_a_length_to_trust(
    peak: Callable[[], int],
) -> None:
    """libvncclient did not limit TextChat's length; TextChat (type 11) is not ours at all."""
    chat = struct.pack(">BxxxI", 11, 0xFFFFFFFF) + b"x" * 32
    with pytest.raises(RemoteProtocolError, match="unknown client message type 11"):
        engine().receive_data(chat)
    with pytest.raises(RemoteProtocolError):
        ViewerInputFilter(lambda: True).feed(HANDSHAKE + chat)
    with pytest.raises(PlaybackError, match="unknown server message type 11"):
        player().feed(chat)
    assert peak() < SMALL
