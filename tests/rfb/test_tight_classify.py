"""The vectorised Tight classifier: packing, solid blocks, colour classes, and what they send."""

from __future__ import annotations

import numpy as np
import pytest

from supportdesk.rfb import NATIVE_PIXEL_FORMAT, Rect
from supportdesk.rfb.encodings.tight import TightEncoder, TightSettings, TightSubencoding
from supportdesk.rfb.encodings.tight_classify import (
    MAX_PALETTE,
    PixelClass,
    classify,
    pack_rgb,
    solid_blocks,
)

from . import viewer as v
from .conftest import NOVNC_FORMAT, desktop_frame
from .test_pixel_format import RGB565_LE


def packed_slowly(rgb: np.ndarray) -> np.ndarray:
    r, g, b = (rgb[:, :, i].astype(np.uint32) for i in range(3))
    return (r << 16) | (g << 8) | b


def bgrx_frame(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (h, w, 4), dtype=np.uint8)


def test_pack_reads_the_rgb_view_of_bgrx_as_one_word_per_pixel() -> None:
    frame = bgrx_frame(37, 53)
    rgb = frame[:, :, 2::-1]  # what the applet gives the engine
    assert rgb.strides[1:] == (4, -1)
    assert np.array_equal(pack_rgb(rgb), packed_slowly(rgb))
    sub = rgb[5:20, 7:40]  # a tile of it: same fast path, offsets kept
    assert np.array_equal(pack_rgb(sub), packed_slowly(sub))
    plain = np.ascontiguousarray(rgb)  # any other layout: channel by channel
    assert np.array_equal(pack_rgb(plain), packed_slowly(plain))


def test_solid_blocks_whole_area_and_ragged_edges() -> None:
    packed = np.zeros((150, 130), dtype=np.uint32)
    packed[:64, 64:128] = 7
    packed[100, 129] = 1  # last column block (2 px wide), middle row band
    packed[149, 0] = 3  # last row band (22 rows), first column
    solid, colour = solid_blocks(packed, 64)
    assert solid.shape == colour.shape == (3, 3)
    assert solid.tolist() == [[True, True, True], [True, True, False], [False, True, True]]
    assert colour[0, 1] == 7


def test_classes_from_cheapest_to_photo() -> None:
    flat = np.full((8, 8), 5, dtype=np.uint32)
    assert classify(flat, photo_allowed=True).kind is PixelClass.SOLID
    mono = flat.copy()
    mono[3, 4] = 9
    found = classify(mono, photo_allowed=True)
    assert found.kind is PixelClass.MONO
    assert found.palette is not None and found.indices is not None
    assert found.palette.tolist() == [5, 9] and found.indices[3, 4] == 1
    assert int(found.indices.sum()) == 1
    palette = np.arange(64 * 64, dtype=np.uint32).reshape(64, 64) % 200
    found = classify(palette, photo_allowed=True)
    assert found.kind is PixelClass.PALETTE
    assert found.palette is not None and found.indices is not None
    assert np.array_equal(found.palette[found.indices], palette)
    rng = np.random.default_rng(2)
    photo = rng.integers(0, 1 << 24, (64, 64)).astype(np.uint32)
    assert classify(photo, photo_allowed=True).kind is PixelClass.PHOTO
    assert classify(photo, photo_allowed=False).kind is PixelClass.MANY


@pytest.mark.parametrize(("colours", "kind"), [(MAX_PALETTE, "palette"), (MAX_PALETTE + 1, "many")])
def test_palette_limit_is_exact(colours: int, kind: str) -> None:
    # Few colours in the sample, the extra one off it: the full count decides.
    values = np.zeros(64 * 64, dtype=np.uint32)
    values[: colours * 8] = np.repeat(np.arange(colours, dtype=np.uint32), 8)
    values = values.reshape(64, 64)
    assert classify(values, photo_allowed=False).kind.value == kind


@pytest.mark.parametrize("pf", [NOVNC_FORMAT, NATIVE_PIXEL_FORMAT, RGB565_LE])
def test_palette_of_many_colours_decodes_exactly(pf: object) -> None:
    rng = np.random.default_rng(5)
    colours = rng.integers(0, 256, (150, 3)).astype(np.uint8)
    rgb = colours[rng.integers(0, 150, (40, 70))]
    encoder = TightEncoder()
    body = encoder.encode(rgb, pf)  # type: ignore[arg-type]
    assert encoder.last_subencoding is TightSubencoding.PALETTE
    viewer = v.Viewer(70, 40, pf)  # type: ignore[arg-type]
    viewer.feed(b"\x00\x00\x00\x01" + v.encode_rect_header(0, 0, 70, 40, 7) + body)
    expected = pf.decode_pixels(pf.encode_pixels(rgb)).reshape(rgb.shape)  # type: ignore[attr-defined]
    assert np.array_equal(viewer.fb, expected)


def test_lossless_forbids_jpeg_and_photo_subsampling_applies_to_jpeg() -> None:
    rgb = desktop_frame(128, 128)[64:128, 64:128]
    encoder = TightEncoder(TightSettings(jpeg_quality=92, jpeg_subsampling="444"))
    full = encoder.encode(rgb, NOVNC_FORMAT)
    assert encoder.last_subencoding is TightSubencoding.JPEG
    exact = encoder.encode(rgb, NOVNC_FORMAT, lossless=True)
    assert encoder.last_subencoding is not TightSubencoding.JPEG
    out = v.Viewer(64, 64, NOVNC_FORMAT)
    out.feed(b"\x00\x00\x00\x01" + v.encode_rect_header(0, 0, 64, 64, 7) + exact)
    assert np.array_equal(out.fb, rgb)
    moving = TightEncoder(
        TightSettings(jpeg_quality=92, jpeg_subsampling="444", photo_subsampling="420")
    )
    assert moving.encode(rgb, NOVNC_FORMAT) == full  # a picture seen once: as asked
    smaller = moving.encode(rgb, NOVNC_FORMAT, moving=True)
    assert moving.last_subencoding is TightSubencoding.JPEG
    assert len(smaller) < len(full)


def test_subrects_stack_a_photo_into_tiles_within_the_limits() -> None:
    rng = np.random.default_rng(9)
    frame = np.zeros((400, 700, 3), dtype=np.uint8)
    frame[64:334, 128:608] = rng.integers(0, 256, (270, 480, 3))
    rects = TightEncoder().subrects(frame, Rect(0, 0, 700, 400))
    covered = np.zeros((400, 700), dtype=int)
    for r in rects:
        assert r.width <= 2048 and r.area <= 65536
        covered[r.y : r.bottom, r.x : r.right] += 1
    assert (covered == 1).all()
    # 480 wide: two 64-row bands fit in one tile (61,440 pixels), not three.
    assert Rect(128, 64, 512, 128) in rects
    assert not any(r.height > 128 for r in rects)
