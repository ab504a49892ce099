"""What a fuzz target is: seeds, one function that runs an input, the errors it may raise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["InvariantBroken", "Target"]


class InvariantBroken(AssertionError):
    """The input was handled without an error, but a promise of the code was broken."""


@dataclass(frozen=True)
class Target:
    """``run(data)`` must return, or raise one of ``clean`` (the documented rejections)."""

    name: str
    describe: str
    seeds: Callable[[], list[bytes]]
    run: Callable[[bytes], None]
    clean: tuple[type[BaseException], ...]
    max_size: int = 8192
