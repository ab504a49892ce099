"""PixelFormat: wire form, validation and conversion of RGB frames."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from supportdesk.rfb import NATIVE_PIXEL_FORMAT, PixelFormat, RemoteProtocolError
from supportdesk.rfb.pixel_format import as_rgb

BGRX = NATIVE_PIXEL_FORMAT
RGBX_BE = PixelFormat(32, 24, True, True, 255, 255, 255, 24, 16, 8)
RGB565_LE = PixelFormat(16, 16, False, True, 31, 63, 31, 11, 5, 0)
RGB555_BE = PixelFormat(16, 15, True, True, 31, 31, 31, 10, 5, 0)
BGR233 = PixelFormat(8, 8, False, True, 7, 7, 3, 0, 3, 6)
NOVNC = PixelFormat(32, 24, False, True, 255, 255, 255, 0, 8, 16)
FORMATS = [BGRX, RGBX_BE, RGB565_LE, RGB555_BE, BGR233, NOVNC]


def test_native_format_bytes() -> None:
    assert BGRX.pack() == bytes.fromhex("20180001 00ff00ff00ff 100800 000000".replace(" ", ""))


@pytest.mark.parametrize("pf", FORMATS)
def test_pack_unpack_round_trip(pf: PixelFormat) -> None:
    assert PixelFormat.unpack(pf.pack()) == pf


def test_native_pixel_layout_is_bgrx_little_endian() -> None:
    rgb = np.array([[[0x11, 0x22, 0x33]]], dtype=np.uint8)
    assert BGRX.encode_pixels(rgb) == b"\x33\x22\x11\x00"
    assert RGBX_BE.encode_pixels(rgb) == b"\x11\x22\x33\x00"
    assert NOVNC.encode_pixels(rgb) == b"\x11\x22\x33\x00"


def test_rgb565_known_value() -> None:
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], dtype=np.uint8)
    assert RGB565_LE.encode_pixels(rgb) == b"\x00\xf8\xe0\x07\x1f\x00"
    assert RGB555_BE.encode_pixels(rgb) == b"\x7c\x00\x03\xe0\x00\x1f"


def test_colour_map_is_refused_with_clear_error() -> None:
    raw = bytes([8, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    with pytest.raises(RemoteProtocolError, match="colour-map"):
        PixelFormat.unpack(raw)
    with pytest.raises(ValueError, match="colour-map"):
        PixelFormat(8, 8, False, False, 7, 7, 3, 0, 3, 6)


def test_nonzero_flag_bytes_count_as_true() -> None:
    raw = bytearray(RGBX_BE.pack())
    raw[2] = raw[3] = 0x80
    assert PixelFormat.unpack(bytes(raw)) == RGBX_BE


def test_as_rgb_accepts_rgbx_and_refuses_other_shapes() -> None:
    frame = np.zeros((2, 3, 4), dtype=np.uint8)
    assert as_rgb(frame).shape == (2, 3, 3)
    with pytest.raises(ValueError):
        as_rgb(np.zeros((2, 3), dtype=np.uint8))
    with pytest.raises(ValueError):
        as_rgb(np.zeros((2, 3, 3), dtype=np.float32))


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(FORMATS),
    arrays(np.uint8, st.tuples(st.integers(1, 5), st.integers(1, 5), st.just(3))),
)
def test_conversion_round_trips(pf: PixelFormat, rgb: np.ndarray) -> None:
    encoded = pf.encode_pixels(rgb)
    assert len(encoded) == rgb.shape[0] * rgb.shape[1] * pf.bytes_per_pixel
    decoded = pf.decode_pixels(encoded).reshape(rgb.shape)
    if pf.red_max == pf.green_max == pf.blue_max == 255:
        assert np.array_equal(decoded, rgb)
    else:
        assert pf.encode_pixels(decoded) == encoded
        step = 255 / min(pf.red_max, pf.green_max, pf.blue_max)
        assert np.abs(decoded.astype(int) - rgb.astype(int)).max() <= step / 2 + 1


@settings(max_examples=60, deadline=None)
@given(
    bpp=st.sampled_from([8, 16, 32]),
    bits=st.tuples(st.integers(1, 8), st.integers(1, 8), st.integers(1, 8)),
    big_endian=st.booleans(),
    data=st.data(),
)
def test_any_valid_layout_round_trips(
    bpp: int, bits: tuple[int, int, int], big_endian: bool, data: st.DataObject
) -> None:
    if sum(bits) > bpp:
        return
    order = data.draw(st.permutations([0, 1, 2]))
    shifts = [0, 0, 0]
    pos = data.draw(st.integers(0, bpp - sum(bits)))
    for channel in order:
        shifts[channel] = pos
        pos += bits[channel]
    maxes = [(1 << b) - 1 for b in bits]
    pf = PixelFormat(bpp, min(bpp, sum(bits)), big_endian, True, *maxes, *shifts)
    rgb = np.arange(0, 256 * 3, dtype=np.uint16).astype(np.uint8).reshape(16, 16, 3)
    encoded = pf.encode_pixels(rgb)
    assert pf.encode_pixels(pf.decode_pixels(encoded).reshape(rgb.shape)) == encoded
