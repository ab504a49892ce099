"""A small deterministic mutation engine: bit flips, byte edits, boundary values, splicing.

Seeded from valid streams; the same ``seed`` gives the same inputs, so a failure can be
replayed by its index. No coverage feedback: breadth comes from the seeds, which are
whole valid conversations, and from length fields set to their boundary values.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Sequence

__all__ = ["Mutator"]

_INTERESTING_8 = (0, 1, 0x7F, 0x80, 0xFE, 0xFF)
_INTERESTING_16 = (0, 1, 0x00FF, 0x0100, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF)
_INTERESTING_32 = (
    0,
    1,
    0x0000FFFF,
    0x00010000,
    0x00100000,  # 1 MiB, a common limit
    0x00100001,
    0x7FFFFFFF,
    0x80000000,
    0xFFFFFFFC,  # -4 as S32: the smallest Extended Clipboard length
    0xFFFFFFFF,
)


class Mutator:
    """Endless mutated inputs from ``seeds``; at most ``max_size`` bytes each."""

    def __init__(self, seeds: Sequence[bytes], seed: int, max_size: int = 8192) -> None:
        if not seeds:
            raise ValueError("a mutator needs at least one seed input")
        self.seeds = list(seeds)
        self.rng = random.Random(seed)  # noqa: S311 -- replayable inputs, not secrets
        self.max_size = max_size
        self._ops: list[Callable[[bytearray], None]] = [
            self._flip_bit,
            self._set_byte,
            self._interesting,
            self._interesting,
            self._insert,
            self._delete,
            self._duplicate,
            self._splice,
            self._truncate,
            self._repeat,
        ]

    def next(self) -> bytes:
        """One new input: a seed with one to four mutations (now and then, none)."""
        rng = self.rng
        data = bytearray(rng.choice(self.seeds))
        if rng.random() < 0.02:
            return bytes(data)
        for _ in range(rng.randint(1, 4)):
            rng.choice(self._ops)(data)
        return bytes(data[: self.max_size])

    # -- operations ---------------------------------------------------------------------

    def _pos(self, data: bytearray, room: int = 1) -> int:
        return self.rng.randrange(max(1, len(data) - room + 1))

    def _flip_bit(self, data: bytearray) -> None:
        if data:
            i = self._pos(data)
            data[i] ^= 1 << self.rng.randrange(8)

    def _set_byte(self, data: bytearray) -> None:
        if data:
            data[self._pos(data)] = self.rng.randrange(256)

    def _interesting(self, data: bytearray) -> None:
        rng = self.rng
        width = rng.choice((1, 2, 4))
        if len(data) < width:
            return
        i = self._pos(data, width)
        order = rng.choice(">>><")  # network order mostly
        if width == 1:
            data[i] = rng.choice(_INTERESTING_8)
        elif width == 2:
            data[i : i + 2] = struct.pack(order + "H", rng.choice(_INTERESTING_16))
        else:
            data[i : i + 4] = struct.pack(order + "I", rng.choice(_INTERESTING_32))

    def _insert(self, data: bytearray) -> None:
        rng = self.rng
        i = rng.randrange(len(data) + 1)
        data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))

    def _delete(self, data: bytearray) -> None:
        if data:
            i = self._pos(data)
            del data[i : i + self.rng.randint(1, 16)]

    def _duplicate(self, data: bytearray) -> None:
        if data:
            i = self._pos(data)
            piece = data[i : i + self.rng.randint(1, 64)]
            j = self.rng.randrange(len(data) + 1)
            data[j:j] = piece

    def _splice(self, data: bytearray) -> None:
        other = self.rng.choice(self.seeds)
        if other:
            cut = self.rng.randrange(len(data) + 1)
            start = self.rng.randrange(len(other))
            data[cut:] = other[start:]

    def _truncate(self, data: bytearray) -> None:
        if data:
            del data[self.rng.randrange(len(data)) :]

    def _repeat(self, data: bytearray) -> None:
        """A piece repeated many times: floods of one message."""
        if data:
            i = self._pos(data)
            piece = data[i : i + self.rng.randint(1, 32)]
            count = self.rng.choice((2, 16, 256))
            data[i:i] = piece * count
