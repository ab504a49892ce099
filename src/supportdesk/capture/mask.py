"""Painting masks into captured frames: where secret input is, the agent sees a neutral pattern.

Pure geometry and numpy, no I/O. A :class:`MaskArea` is a rectangle on the virtual
desktop (what the accessibility API or a window rule reports); :func:`monitor_rects`
grows it by a margin (the field's border, its pop-ups, a pixel of rounding), moves it
into the shared monitor's coordinates and clips it. :class:`MaskPainter` overwrites
those pixels of the frame **in place** with diagonal grey stripes and a label ("Geschützte
Eingabe") — so the secret never reaches damage detection, an encoder or the recording.

The pattern is anchored to the area, not to the frame: an area that stays put paints the
same pixels every frame (no damage while the customer types underneath), and one that
moves keeping its size paints at its new place exactly what it painted at its old one,
so a viewer that holds the old place can be told to copy it there (a CopyRect:
:mod:`supportdesk.capture.mask_copies`) instead of being sent the stripes again.
Overlapping areas are painted in a fixed order (by place), so the same set of areas
always gives the same pixels.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from supportdesk.capture import mask_font_data as font
from supportdesk.capture.screen_source import Frame
from supportdesk.rfb.geometry import Rect

__all__ = [
    "DEFAULT_MARGIN",
    "MaskArea",
    "MaskKind",
    "MaskPainter",
    "monitor_rects",
    "render_label",
]

DEFAULT_MARGIN = 8
"""Pixels added on every side of a reported field: its border, focus ring, and the
off-by-one of toolkits that report the text area without its frame."""

# BGRX greys of the stripes and the label: neutral, readable, never the field's colours.
_LIGHT = (0xD4, 0xD4, 0xD4, 0xFF)
_DARK = (0xBC, 0xBC, 0xBC, 0xFF)
_INK = (0x30, 0x30, 0x30, 0xFF)
_STRIPE = 8  # pixels per stripe, diagonal


class MaskKind(StrEnum):
    """Why an area is masked (the audit and the live page name it, never its content)."""

    SECRET_INPUT = "secret_input"  # noqa: S105 - a kind of area, not a password
    """A focused password field reported by the accessibility API."""
    WINDOW_RULE = "window_rule"
    """A window matching one of the bank's window rules (a TAN generator, say)."""
    PRIVACY = "privacy"
    """The customer's "Sichtschutz": the whole picture."""


@dataclass(frozen=True, slots=True)
class MaskArea:
    """One rectangle on the virtual desktop (screen coordinates) to be masked."""

    rect: Rect
    kind: MaskKind


def monitor_rects(
    areas: Iterable[MaskArea],
    origin: tuple[int, int],
    size: tuple[int, int],
    *,
    margin: int = DEFAULT_MARGIN,
) -> list[Rect]:
    """The areas as rectangles of a frame of ``size`` (w, h) whose top-left is ``origin``.

    Each area grows by ``margin`` on every side (not a privacy area: that is the whole
    picture already), is shifted into frame coordinates and clipped; empty results drop.
    """
    ox, oy = origin
    frame = Rect(0, 0, size[0], size[1])
    out: list[Rect] = []
    for area in areas:
        r = area.rect
        m = 0 if area.kind is MaskKind.PRIVACY else margin
        grown = Rect(r.x - ox - m, r.y - oy - m, r.width + 2 * m, r.height + 2 * m)
        clipped = grown.intersect(frame)
        if not clipped.is_empty:
            out.append(clipped)
    return out


@lru_cache(maxsize=8)
def _strip() -> npt.NDArray[np.bool_]:
    bits = np.frombuffer(zlib.decompress(base64.b64decode("".join(font.STRIP))), np.uint8)
    return bits.reshape(font.HEIGHT, -1).astype(bool)


@lru_cache(maxsize=16)
def render_label(text: str) -> npt.NDArray[np.bool_]:
    """``text`` as a boolean bitmap (True = ink) in the mask font; unknown characters as '?'."""
    strip = _strip()
    starts: dict[str, tuple[int, int]] = {}
    x = 0
    for ch, w in zip(font.CHARS, font.WIDTHS, strict=True):
        starts[ch] = (x, w)
        x += w
    parts = [strip[:, a : a + w] for a, w in (starts.get(ch, starts["?"]) for ch in text)]
    if not parts:
        return np.zeros((font.HEIGHT, 0), dtype=bool)
    return np.concatenate(parts, axis=1)


class MaskPainter:
    """Paints mask rectangles into frames, with ``label`` centred in each one that fits it.

    Not thread-safe: one painter per capture thread. It keeps one pattern as large as the
    largest frame it painted (4 bytes a pixel), made on first use, and the label on the
    stripes at each of the pattern's 16 phases (made as needed). Stripes and label are
    placed by the rectangle's own top-left corner: a rectangle painted alone (no other
    overlapping it) gets the same pixels wherever it stands (:meth:`alone`).
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self._ink = render_label(label)
        self._pattern: Frame | None = None
        self._labels: dict[int, Frame] = {}
        self._alone: dict[tuple[int, int], Frame] = {}

    def _label_block(self, phase: int) -> Frame:
        """The label on the stripes, placed where ``(x + y) % (2 * _STRIPE)`` of its
        top-left, counted from the mask's top-left, is ``phase`` (the pattern repeats
        so): copied in, not inked pixel by pixel (a boolean-indexed write took 0.045 ms
        a label, more than copying the stripes of a 300x32 field)."""
        block = self._labels.get(phase)
        if block is None:
            lh, lw = self._ink.shape
            ys = np.arange(lh)[:, None]
            xs = np.arange(lw)[None, :]
            light = (((xs + ys + phase) // _STRIPE) % 2 == 0)[:, :, None]
            block = np.where(light, np.array(_LIGHT, np.uint8), np.array(_DARK, np.uint8))
            block = np.ascontiguousarray(block, dtype=np.uint8)
            block[self._ink] = _INK
            self._labels[phase] = block
        return block

    def _pattern_for(self, height: int, width: int) -> Frame:
        p = self._pattern
        if p is None or p.shape[0] < height or p.shape[1] < width:
            ys = np.arange(height)[:, None]
            xs = np.arange(width)[None, :]
            light = (((xs + ys) // _STRIPE) % 2 == 0)[:, :, None]
            p = np.where(light, np.array(_LIGHT, np.uint8), np.array(_DARK, np.uint8))
            p = np.ascontiguousarray(p, dtype=np.uint8)
            self._pattern = p
        return p

    def alone(self, width: int, height: int) -> Frame:
        """The pixels of a ``width`` x ``height`` mask painted alone (no other overlapping
        it): the same wherever it stands in a picture it fits in. Read-only; the last
        few sizes are kept."""
        got = self._alone.get((width, height))
        if got is None:
            got = self.paint(np.empty((height, width, 4), np.uint8), [Rect(0, 0, width, height)])
            got.flags.writeable = False
            if len(self._alone) >= 4:
                self._alone.pop(next(iter(self._alone)))
            self._alone[(width, height)] = got
        return got

    def paint(
        self,
        frame: Frame,
        rects: Sequence[Rect],
        *,
        at: tuple[int, int] = (0, 0),
        size: tuple[int, int] | None = None,
    ) -> Frame:
        """Overwrite ``rects`` of ``frame``; return it (a writable copy if it was read-only).

        ``frame`` may be a piece of a larger picture (an area grab): ``at`` is where its
        top-left lies in that picture and ``size`` the picture's (width, height); the
        ``rects`` are in picture coordinates. A piece gets exactly the pixels painting
        the whole picture would have given it (pattern and label are placed by the
        rectangle, clipped to the picture), so a mask painted piece by piece matches one
        painted whole. Where rectangles overlap, the one last in (y, x, width, height)
        order shows: the pixels depend on the set of rectangles, not on their order.
        """
        if not rects:
            return frame
        height, width = frame.shape[:2]
        px, py = at
        pw, ph = size if size is not None else (width, height)
        piece = Rect(px, py, width, height).intersect(Rect(0, 0, pw, ph))
        pattern: Frame | None = None
        ink = self._ink
        for whole in sorted(rects, key=lambda m: (m.y, m.x, m.width, m.height)):
            whole = whole.intersect(Rect(0, 0, pw, ph))  # pattern and label are placed by this
            r = whole.intersect(piece)
            if r.is_empty:
                continue
            if not frame.flags.writeable:
                frame = frame.copy()
            if pattern is None:
                pattern = self._pattern_for(ph, pw)
            frame[r.y - py : r.bottom - py, r.x - px : r.right - px] = pattern[
                r.y - whole.y : r.bottom - whole.y, r.x - whole.x : r.right - whole.x
            ]
            lh, lw = ink.shape
            if lw and lh <= whole.height and lw <= whole.width:
                label = Rect(
                    whole.x + (whole.width - lw) // 2, whole.y + (whole.height - lh) // 2, lw, lh
                )
                part = label.intersect(r)
                if not part.is_empty:
                    phase = (label.x - whole.x + label.y - whole.y) % (2 * _STRIPE)
                    block = self._label_block(phase)
                    frame[part.y - py : part.bottom - py, part.x - px : part.right - px] = block[
                        part.y - label.y : part.bottom - label.y,
                        part.x - label.x : part.right - label.x,
                    ]
        return frame
