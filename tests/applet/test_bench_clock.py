"""The benchmark's painted clock reads back exactly, and a torn clock is rejected."""

from __future__ import annotations

import numpy as np
from bench.workload import BLOCK, CLOCK_BITS, clock_bits, read_clock


def paint(ms: int) -> np.ndarray:
    fb = np.zeros((BLOCK, CLOCK_BITS * BLOCK, 3), dtype=np.uint8)
    for i, bit in enumerate(clock_bits(ms)):
        fb[:, i * BLOCK : (i + 1) * BLOCK] = 255 * bit
    return fb


def test_round_trip() -> None:
    for ms in (0, 1, 123_456_789, 0xFFFFFFFF, 1_764_380_000_123 & 0xFFFFFFFF):
        assert read_clock(paint(ms)) == ms


def test_torn_clock_is_rejected() -> None:
    a, b = paint(1000), paint(0x00FF00FF)
    torn = np.concatenate([a[:, : 20 * BLOCK], b[:, 20 * BLOCK :]], axis=1)
    assert read_clock(torn) is None
