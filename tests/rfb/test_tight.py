"""Tight encoder: each sub-encoding decoded by the test viewer, stream state, compact lengths."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportdesk.rfb import NATIVE_PIXEL_FORMAT, PixelFormat, Rect
from supportdesk.rfb.encodings.pseudo import EncodingPreferences
from supportdesk.rfb.encodings.tight import (
    TightEncoder,
    TightSettings,
    TightSubencoding,
    encode_compact_length,
)

from . import viewer as v
from .conftest import NOVNC_FORMAT, desktop_frame
from .test_pixel_format import BGR233, RGB565_LE, RGBX_BE


def rect_stream(encoder: TightEncoder, rgb: np.ndarray, pf: PixelFormat) -> bytes:
    h, w = rgb.shape[:2]
    body = encoder.encode(rgb, pf)
    return b"\x00\x00\x00\x01" + v.encode_rect_header(0, 0, w, h, 7) + body


def decode(viewer: v.Viewer, data: bytes) -> np.ndarray:
    viewer.feed(data)
    return viewer.fb


def frames() -> dict[TightSubencoding, np.ndarray]:
    rng = np.random.default_rng(7)
    solid = np.full((20, 30, 3), (12, 34, 56), dtype=np.uint8)
    mono = np.where(rng.random((21, 29, 1)) > 0.5, (255, 255, 255), (0, 0, 80)).astype(np.uint8)
    palette = rng.integers(0, 6, (25, 31, 1)) * np.array([40, 20, 10])
    full = rng.integers(0, 256, (17, 23, 3))
    return {
        TightSubencoding.FILL: solid,
        TightSubencoding.MONO: mono,
        TightSubencoding.PALETTE: palette.astype(np.uint8),
        TightSubencoding.FULL_COLOUR: full.astype(np.uint8),
    }


@pytest.mark.parametrize("pf", [NATIVE_PIXEL_FORMAT, NOVNC_FORMAT, RGBX_BE, RGB565_LE, BGR233])
@pytest.mark.parametrize("kind", list(TightSubencoding)[:4], ids=lambda k: k.value)
def test_lossless_subencodings_round_trip(pf: PixelFormat, kind: TightSubencoding) -> None:
    rgb = frames()[kind]
    encoder = TightEncoder()
    data = rect_stream(encoder, rgb, pf)
    if kind is TightSubencoding.FULL_COLOUR and pf.bits_per_pixel == 8:
        assert encoder.last_subencoding in (TightSubencoding.PALETTE, TightSubencoding.FULL_COLOUR)
    else:
        assert encoder.last_subencoding is kind
    h, w = rgb.shape[:2]
    viewer = v.Viewer(w, h, pf)
    expected = pf.decode_pixels(pf.encode_pixels(rgb)).reshape(rgb.shape)
    assert np.array_equal(decode(viewer, data), expected)


def test_fill_bytes_exact_for_888() -> None:
    rgb = np.full((4, 4, 3), (1, 2, 3), dtype=np.uint8)
    assert TightEncoder().encode(rgb, NOVNC_FORMAT) == b"\x80\x01\x02\x03"
    assert TightEncoder().encode(rgb, NATIVE_PIXEL_FORMAT) == b"\x80\x01\x02\x03"
    assert TightEncoder().encode(rgb, RGB565_LE) == b"\x80" + RGB565_LE.encode_pixels(rgb[:1, :1])


def test_small_data_is_sent_uncompressed() -> None:
    rgb = np.array([[[1, 1, 1], [2, 2, 2]], [[2, 2, 2], [1, 1, 1]]], dtype=np.uint8)
    body = TightEncoder().encode(rgb, NOVNC_FORMAT)
    # mono palette: ctl 0x50 (stream 1, explicit filter), filter 1, 2 colours, rows 0x40 0x80
    assert body == b"\x50\x01\x01\x01\x01\x01\x02\x02\x02\x40\x80"


def test_zlib_streams_keep_state_across_rectangles() -> None:
    encoder = TightEncoder()
    viewer = v.Viewer(40, 30, NOVNC_FORMAT)
    rng = np.random.default_rng(3)
    sizes = []
    for _ in range(5):
        rgb = rng.integers(0, 256, (30, 40, 3)).astype(np.uint8)
        rgb[:, :20] = rgb[:, 20:]  # something zlib finds
        data = rect_stream(encoder, rgb, NOVNC_FORMAT)
        sizes.append(len(data))
        assert np.array_equal(decode(viewer, data), rgb)
    # A fresh decompressor cannot read the second rectangle: the stream is continued.
    rgb = rng.integers(0, 256, (30, 40, 3)).astype(np.uint8)
    data = rect_stream(encoder, rgb, NOVNC_FORMAT)
    assert encoder.last_subencoding is TightSubencoding.FULL_COLOUR
    fresh = v.Viewer(40, 30, NOVNC_FORMAT)
    with pytest.raises((AssertionError, zlib.error)):
        fresh.feed(data)


def test_compress_level_change_resets_streams() -> None:
    encoder = TightEncoder(TightSettings(compress_level=1))
    viewer = v.Viewer(20, 20, NOVNC_FORMAT)
    rng = np.random.default_rng(4)
    rgb = rng.integers(0, 256, (20, 20, 3)).astype(np.uint8)
    viewer.feed(rect_stream(encoder, rgb, NOVNC_FORMAT))
    encoder.configure(TightSettings(compress_level=9))
    data = rect_stream(encoder, rgb, NOVNC_FORMAT)
    assert data[16] & 0x0F == 0x01  # reset bit of stream 0
    assert np.array_equal(decode(viewer, data), rgb)
    data = rect_stream(encoder, rgb, NOVNC_FORMAT)
    assert data[16] & 0x0F == 0
    assert np.array_equal(decode(viewer, data), rgb)


@pytest.mark.parametrize("level", [0, 3, 6, 9])
def test_jpeg_quality_levels(level: int) -> None:
    prefs = EncodingPreferences.from_encodings([7, -32 + level])
    encoder = TightEncoder(
        TightSettings(jpeg_quality=prefs.jpeg_quality, jpeg_subsampling=prefs.jpeg_subsampling)
    )
    rgb = desktop_frame(128, 128)[64:128, 64:128]
    data = rect_stream(encoder, rgb, NOVNC_FORMAT)
    assert encoder.last_subencoding is TightSubencoding.JPEG
    viewer = v.Viewer(64, 64, NOVNC_FORMAT)
    out = decode(viewer, data)
    if level >= 6:
        assert v.psnr(out, rgb) >= 35


def test_fine_quality_and_grey_subsampling() -> None:
    prefs = EncodingPreferences.from_encodings([7, -512 + 95, -768 + 3])
    assert prefs.jpeg_quality == 95 and prefs.jpeg_subsampling == "Gray"
    encoder = TightEncoder(TightSettings(jpeg_quality=95, jpeg_subsampling="Gray"))
    rgb = desktop_frame(128, 128)[64:128, 64:128]
    data = rect_stream(encoder, rgb, NOVNC_FORMAT)
    assert encoder.last_subencoding is TightSubencoding.JPEG
    out = decode(v.Viewer(64, 64, NOVNC_FORMAT), data)
    assert out.shape == rgb.shape


def test_jpeg_never_for_non_888_formats() -> None:
    encoder = TightEncoder(TightSettings(jpeg_quality=90))
    rgb = desktop_frame(128, 128)[64:128, 64:128]
    encoder.encode(rgb, RGB565_LE)
    assert encoder.last_subencoding is TightSubencoding.FULL_COLOUR


@pytest.mark.parametrize(
    ("length", "wire"),
    [
        (0, b"\x00"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (16383, b"\xff\x7f"),
        (16384, b"\x80\x80\x01"),
        (4194303, b"\xff\xff\xff"),
    ],
)
def test_compact_length(length: int, wire: bytes) -> None:
    assert encode_compact_length(length) == wire


def test_compact_length_limit() -> None:
    with pytest.raises(ValueError):
        encode_compact_length(1 << 22)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, (1 << 22) - 1))
def test_compact_length_round_trips(length: int) -> None:
    assert v.Viewer._compact_length(v.Reader(encode_compact_length(length))) == length


def test_subrects_split_solid_and_mixed_runs_within_limits() -> None:
    frame = np.zeros((200, 3000, 3), dtype=np.uint8)
    frame[70:90, 100:300] = 255
    rects = TightEncoder().subrects(frame, Rect(0, 0, 3000, 200))
    covered = np.zeros((200, 3000), dtype=int)
    for r in rects:
        assert r.width <= 2048 and r.area <= 65536
        covered[r.y : r.bottom, r.x : r.right] += 1
    assert (covered == 1).all()
    assert Rect(64, 64, 256, 64) in rects  # the mixed blocks of the white bar's band
