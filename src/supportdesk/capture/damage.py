"""Change detection: which rectangles of a frame differ from the previous frame.

Frames are compared in square tiles (64x64 by default) with a handful of vectorised
numpy passes; changed tiles are merged into a short list of tile-aligned rectangles
(runs along a tile row, then runs with equal columns stacked vertically).  A second
function spots a vertical scroll, which an RFB server can send as one CopyRect; masked
areas (painted over in both frames) can be left out of its comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from supportdesk.capture.screen_source import Frame

DEFAULT_TILE = 64
DEFAULT_MAX_RECTS = 32

TileGrid = npt.NDArray[np.bool_]


class Rect(NamedTuple):
    """A rectangle in frame pixels."""

    x: int
    y: int
    width: int
    height: int

    @property
    def area(self) -> int:
        """Number of pixels covered."""
        return self.width * self.height


class Area(Protocol):
    """Anything with a rectangle's four fields (this module's :class:`Rect`, the RFB one)."""

    @property
    def x(self) -> int: ...
    @property
    def y(self) -> int: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...


class VerticalScroll(NamedTuple):
    """Rows ``src_y..src_y+height`` of columns ``x..x+width`` moved to ``dst_y`` (a CopyRect)."""

    x: int
    width: int
    src_y: int
    dst_y: int
    height: int


def _pixels(frame: Frame) -> npt.NDArray[np.uint32]:
    """View a BGRX frame as one uint32 per pixel.

    No copy when each pixel's four bytes lie together (a whole grab, or any area cut out
    of one): the capture compares areas of its copy of the screen, and copying them
    first had cost as much as the comparison.
    """
    if frame.ndim != 3 or frame.shape[2] != 4 or frame.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 4) uint8 frame, got {frame.shape} {frame.dtype}")
    if frame.strides[2] != 1 or frame.strides[1] != 4:
        frame = np.ascontiguousarray(frame)
    return frame.view(np.uint32)[:, :, 0]


def changed_tiles(previous: Frame, current: Frame, tile: int = DEFAULT_TILE) -> TileGrid:
    """Return a ``(ceil(H/tile), ceil(W/tile))`` grid, True where any pixel differs.

    The X byte of BGRX is compared too; sources keep it constant per visual.
    """
    if previous.shape != current.shape:
        raise ValueError(f"frame size changed: {previous.shape} -> {current.shape}")
    if tile <= 0:
        raise ValueError("tile size must be positive")
    diff = _pixels(previous) != _pixels(current)
    h, w = diff.shape
    rows_full, cols_full = h // tile, w // tile
    th, tw = -(-h // tile), -(-w // tile)
    bands = np.empty((th, w), dtype=np.bool_)
    bands[:rows_full] = diff[: rows_full * tile].reshape(rows_full, tile, w).any(axis=1)
    if h % tile:
        bands[rows_full] = diff[rows_full * tile :].any(axis=0)
    grid = np.empty((th, tw), dtype=np.bool_)
    grid[:, :cols_full] = bands[:, : cols_full * tile].reshape(th, cols_full, tile).any(axis=2)
    if w % tile:
        grid[:, cols_full] = bands[:, cols_full * tile :].any(axis=1)
    return grid


def _row_runs(row: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """Return ``(start, stop)`` of each run of True in a 1-D bool array."""
    edges = np.flatnonzero(np.diff(np.concatenate(([False], row, [False])).astype(np.int8)))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))


def _grid_runs(grid: TileGrid) -> list[list[tuple[int, int]]]:
    """:func:`_row_runs` of every row of ``grid``, found in one numpy pass."""
    rows, cols = grid.shape
    padded = np.zeros((rows, cols + 2), dtype=np.int8)
    padded[:, 1:-1] = grid
    r, c = np.nonzero(np.diff(padded, axis=1))  # row-major: each run's start, then its stop
    runs: list[list[tuple[int, int]]] = [[] for _ in range(rows)]
    cl = c.tolist()
    for i, row in enumerate(r[0::2].tolist()):
        runs[row].append((cl[2 * i], cl[2 * i + 1]))
    return runs


def _stack_runs(runs_per_row: list[list[tuple[int, int]]]) -> list[tuple[int, int, int, int]]:
    """Merge runs with the same columns on consecutive rows: ``(c0, r0, c1, r1)`` in tiles."""
    done: list[tuple[int, int, int, int]] = []
    open_: dict[tuple[int, int], int] = {}
    for r, runs in enumerate(runs_per_row):
        keys = set(runs)
        for key in [k for k in open_ if k not in keys]:
            done.append((key[0], open_.pop(key), key[1], r))
        for key in runs:
            open_.setdefault(key, r)
    end = len(runs_per_row)
    done.extend((k[0], r0, k[1], end) for k, r0 in open_.items())
    done.sort(key=lambda t: (t[1], t[0]))
    return done


def tiles_to_rects(
    grid: TileGrid,
    frame_width: int,
    frame_height: int,
    tile: int = DEFAULT_TILE,
    max_rects: int = DEFAULT_MAX_RECTS,
) -> list[Rect]:
    """Merge changed tiles into at most ``max_rects`` tile-aligned rectangles in the frame.

    Runs of tiles along a row become one rectangle, and equal runs on consecutive rows
    are stacked.  If that yields more than ``max_rects``, each tile row is collapsed to
    the span from its first to its last changed tile; if still too many, the bounding
    box of all changes is returned.  Rectangles are clipped to the frame.
    """
    if max_rects < 1:
        raise ValueError("max_rects must be at least 1")
    if not grid.any():
        return []
    runs = _grid_runs(grid)
    boxes = _stack_runs(runs)
    if len(boxes) > max_rects:
        spans = [[(rr[0][0], rr[-1][1])] if rr else [] for rr in runs]
        boxes = _stack_runs(spans)
    if len(boxes) > max_rects:
        boxes = [
            (
                min(b[0] for b in boxes),
                min(b[1] for b in boxes),
                max(b[2] for b in boxes),
                max(b[3] for b in boxes),
            )
        ]
    rects = []
    for c0, r0, c1, r1 in boxes:
        x, y = c0 * tile, r0 * tile
        rects.append(Rect(x, y, min(c1 * tile, frame_width) - x, min(r1 * tile, frame_height) - y))
    return rects


def detect_damage(
    previous: Frame | None,
    current: Frame,
    tile: int = DEFAULT_TILE,
    max_rects: int = DEFAULT_MAX_RECTS,
) -> list[Rect]:
    """Return the tile-aligned rectangles of ``current`` that differ from ``previous``.

    Every changed pixel lies in one of the returned rectangles; an unchanged frame
    gives ``[]``; no previous frame (first update) or a size change gives the whole
    frame as one rectangle.
    """
    h, w = current.shape[:2]
    if previous is None or previous.shape != current.shape:
        return [Rect(0, 0, w, h)] if h and w else []
    grid = changed_tiles(previous, current, tile)
    return tiles_to_rects(grid, w, h, tile, max_rects)


PROBE_SAMPLES = 32
"""Pixels per row of the first, cheap vote (see :func:`detect_vertical_scroll`)."""


def detect_vertical_scroll(
    previous: Frame,
    current: Frame,
    min_height: int = 32,
    samples: int = 256,
    masks: Sequence[Area] = (),
    bounds: tuple[int, int, int, int] | None = None,
) -> VerticalScroll | None:
    """Find the tallest band of rows that moved vertically between two frames.

    Destination rows are searched among the rows that changed, within the columns that
    changed; rows are matched by a sample of up to ``samples`` pixels per row.  Rows whose
    sample is one flat colour (blank lines) and rows that occur more than once are
    ignored when voting for the distance, and the winning move is verified on the
    sampled pixels (rows that differ elsewhere are left to the damage found after the
    move: :func:`~supportdesk.capture.scroll_copies.frame_changes` compares again
    after the copies).  Returns None unless at least
    ``min_height`` rows moved.  Horizontal scrolling is not detected.

    ``masks`` are areas painted over (in either frame) that stand still while the text
    around them scrolls: their pixels are left out of the vote and of the verification
    ("don't care", where the row is read and where it lands), so text that scrolls past
    a mask is still found as one move.  The move found then holds only outside the
    masks: :func:`~supportdesk.capture.scroll_copies.copies_around` cuts them out.

    ``bounds`` (x0, y0, x1, y1), if the caller knows it, encloses every changed pixel
    (the union of :func:`detect_damage`'s rectangles will do): the frames are then not
    compared again. A first vote on :data:`PROBE_SAMPLES` pixels per row must find
    some rows moved by one distance before the full vote runs: a moving picture or
    rewritten text, which is no scroll, costs an eighth of a full vote.
    """
    if previous.shape != current.shape:
        return None
    p, c = _pixels(previous), _pixels(current)
    if bounds is None:
        diff = p != c
        changed_rows = np.flatnonzero(diff.any(axis=1))
        if changed_rows.size < min_height:
            return None
        changed_cols = np.flatnonzero(diff.any(axis=0))
        x0, x1 = int(changed_cols[0]), int(changed_cols[-1]) + 1
        y0, y1 = int(changed_rows[0]), int(changed_rows[-1]) + 1
    else:
        x0, y0, x1, y1 = bounds
        if y1 - y0 < min_height or x1 <= x0:
            return None
    shift = None
    every = np.arange(x0, x1)
    free = _sample_columns(x0, y0, x1, y1, masks)
    # The columns spread over the band first; if that finds nothing and masks stand over
    # most rows of some columns, once more without those (a mask's columns still key
    # the rows above or below it, so they are not left out from the start).
    for where in (every, free) if free.size < every.size else (every,):
        for count in (min(PROBE_SAMPLES, samples), samples):
            cols = where[np.linspace(0, where.size - 1, num=min(count, where.size)).astype(np.intp)]
            ps = p[:, cols]  # fancy indexing: copies, so the masks can be blanked in them
            cs = c[y0:y1, cols]
            for m in masks:  # one constant in both: the rows' keys see only unmasked samples
                c0, c1 = np.searchsorted(cols, [m.x, m.x + m.width])
                ps[max(m.y, 0) : max(m.y + m.height, 0), c0:c1] = 0
                cs[max(m.y - y0, 0) : max(m.y + m.height - y0, 0), c0:c1] = 0
            flat_p = (ps == ps[:, :1]).all(axis=1)
            flat_c = (cs == cs[:, :1]).all(axis=1)
            votes = min_height // 4 if count < samples else 1
            shift = _vote(ps, flat_p, cs, flat_c, y0, votes)
            if shift is None or count >= samples:
                break
        if shift is not None:
            break
    if shift is None:
        return None

    # Verify: dst row y (absolute) equals src row y - shift, on the sampled columns: the
    # band is only chosen here; what differs between the samples is damage the caller
    # finds after the move (scroll_copies.frame_changes), so the picture stays exact.
    lo, hi = max(y0, shift), min(y1, p.shape[0] + shift)
    if hi - lo < min_height:
        return None
    same = cs[lo - y0 : hi - y0] == ps[lo - shift : hi - shift]
    for m in masks:  # where the row lands, and where it is read, in a mask
        c0, c1 = np.searchsorted(cols, [m.x, m.x + m.width])
        for top in (m.y, m.y + shift):
            r0, r1 = max(top, lo) - lo, min(top + m.height, hi) - lo
            if r0 < r1 and c0 < c1:
                same[r0:r1, c0:c1] = True
    start, stop = _longest_run(same.all(axis=1))
    if stop - start < min_height:
        return None
    return VerticalScroll(x0, x1 - x0, lo + start - shift, lo + start, stop - start)


def _sample_columns(
    x0: int, y0: int, x1: int, y1: int, masks: Sequence[Area]
) -> npt.NDArray[np.intp]:
    """The columns of ``x0..x1`` the votes' second try samples: those masked in less than
    a quarter of the rows ``y0..y1`` (all of them if none is).

    A masked sample says nothing, and a row keyed on few samples matches by chance or
    is flat: with a 640x480 window rule over half the changed band's width, the first
    vote's 32 samples spread over the whole band found too few rows to agree on
    (bench.masking, polling path) and the scroll went as pixels. A small field's
    columns stay in: blanked only in its own rows, they still key every other row.
    """
    masked = np.zeros(x1 - x0, dtype=np.intp)
    for x, y, w, h in dict.fromkeys((m.x, m.y, m.width, m.height) for m in masks):
        rows = min(y + h, y1) - max(y, y0)  # a mask given twice (both frames') counts once
        if rows > 0:
            masked[max(x - x0, 0) : max(x + w - x0, 0)] += rows
    free = np.flatnonzero(masked * 4 < y1 - y0)
    return (free if free.size else np.arange(x1 - x0)) + x0


_HASH_WEIGHTS = np.random.default_rng(0x5D).integers(1, 1 << 63, 1024, dtype=np.uint64) | 1


def _row_keys(rows: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint64]:
    """One 64-bit key per row of samples (a collision only costs the verification)."""
    weights = _HASH_WEIGHTS[: rows.shape[1]]
    keys: npt.NDArray[np.uint64] = (rows.astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)
    return keys


def _vote(
    ps: npt.NDArray[np.uint32],
    flat_p: npt.NDArray[np.bool_],
    cs: npt.NDArray[np.uint32],
    flat_c: npt.NDArray[np.bool_],
    y0: int,
    min_votes: int = 1,
) -> int | None:
    """The distance most rows of ``cs`` (starting at row ``y0``) moved from rows of ``ps``.

    Flat rows and rows that occur more than once in ``ps`` do not vote; on a tie the
    shorter distance wins; a distance fewer than ``min_votes`` rows agree on is none.
    All in numpy: sort the previous rows' keys, look the current ones up.
    """
    src_rows = np.flatnonzero(~flat_p)
    keys = _row_keys(ps[src_rows])
    order = np.argsort(keys, kind="stable")
    keys, src_rows = keys[order], src_rows[order]
    repeated = np.zeros(keys.size, dtype=np.bool_)
    if keys.size > 1:
        same = keys[1:] == keys[:-1]
        repeated[1:] |= same
        repeated[:-1] |= same
    keys, src_rows = keys[~repeated], src_rows[~repeated]
    if keys.size == 0:
        return None
    dst_rows = np.flatnonzero(~flat_c)
    wanted = _row_keys(cs[dst_rows])
    at = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
    hit = keys[at] == wanted
    shifts = dst_rows[hit] + y0 - src_rows[at[hit]]
    shifts = shifts[shifts != 0]
    if shifts.size == 0:
        return None
    values, counts = np.unique(shifts, return_counts=True)
    if counts.max() < min_votes:
        return None
    best = counts == counts.max()
    candidates = values[best]
    return int(candidates[np.argmin(np.abs(candidates))])


def _longest_run(flags: npt.NDArray[np.bool_]) -> tuple[int, int]:
    """Return ``(start, stop)`` of the longest run of True (``(0, 0)`` if none)."""
    runs = _row_runs(flags)
    if not runs:
        return 0, 0
    return max(runs, key=lambda r: r[1] - r[0])
