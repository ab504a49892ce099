"""Mask sources: the privacy screen, the window rules, fail-closed combination; and the
capture loop masking every grab before damage detection sees it."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np

from supportdesk.applet.screen.capture_loop import CaptureLoop, FrameDelta
from supportdesk.capture.mask import MaskArea, MaskKind
from supportdesk.capture.mask_sources import (
    CombinedMasks,
    DesktopWindow,
    PrivacyScreen,
    WindowRuleMasks,
)
from supportdesk.capture.screen_source import MemoryScreenSource
from supportdesk.domain.mask_rules import MaskRules, WindowRule
from supportdesk.rfb.geometry import Rect

SECRET = (7, 77, 177, 0)  # BGRX of the "typed digits": must never reach a frame


class Areas:
    """A mask source the test moves by hand."""

    def __init__(self, *areas: MaskArea) -> None:
        self.now: tuple[MaskArea, ...] = areas

    def areas(self) -> Sequence[MaskArea]:
        return self.now


class Broken:
    def areas(self) -> Sequence[MaskArea]:
        raise RuntimeError("bus gone")


def test_the_privacy_screen_masks_everything_while_on() -> None:
    screen = PrivacyScreen()
    assert screen.areas() == ()
    assert screen.toggle() is True
    (area,) = screen.areas()
    assert area.kind is MaskKind.PRIVACY and area.rect.width > 10**9
    assert screen.toggle() is False and screen.areas() == ()


def test_a_failing_source_masks_the_whole_picture() -> None:
    field = MaskArea(Rect(1, 2, 3, 4), MaskKind.SECRET_INPUT)
    kinds = [a.kind for a in CombinedMasks(Areas(field), Broken()).areas()]
    assert kinds == [MaskKind.SECRET_INPUT, MaskKind.PRIVACY]


def test_window_rules_mask_matching_windows_where_they_are_and_were() -> None:
    windows = [
        DesktopWindow("SecureGo plus", ("securego",), Rect(10, 10, 100, 100)),
        DesktopWindow("Terminal", ("xterm",), Rect(0, 0, 50, 50)),
    ]
    masks = WindowRuleMasks(MaskRules("1", (WindowRule(title="securego"),)), lambda: windows)
    masks.refresh()
    assert [a.rect for a in masks.areas()] == [Rect(10, 10, 100, 100)]
    windows[0] = DesktopWindow("SecureGo plus", (), Rect(200, 10, 100, 100))
    masks.refresh()
    assert {a.rect for a in masks.areas()} == {Rect(10, 10, 100, 100), Rect(200, 10, 100, 100)}
    masks.refresh()
    assert [a.rect for a in masks.areas()] == [Rect(200, 10, 100, 100)]


def _next_delta(loop: CaptureLoop, ready: threading.Event, timeout: float = 2.0) -> FrameDelta:
    loop.want(True)
    assert ready.wait(timeout), "no frame"
    ready.clear()
    delta = loop.take()
    assert delta is not None
    return delta


def _secret_pixels(frame: np.ndarray) -> int:
    return int((frame[:, :, :3] == np.array(SECRET[:3], np.uint8)).all(axis=2).sum())


def test_the_capture_loop_masks_before_damage_detection() -> None:
    source = MemoryScreenSource(((0, 0, 320, 240),))
    source.fill((40, 40, 40, 0))
    field = Rect(100, 100, 120, 24)
    masks = Areas(MaskArea(field, MaskKind.SECRET_INPUT))
    ready = threading.Event()
    seen: list[frozenset[MaskKind]] = []
    loop = CaptureLoop(
        source, 1, max_fps=100, idle_fps=50, on_delta=ready.set, masks=masks,
        on_masks=seen.append,
    )  # fmt: skip
    loop.start()
    try:
        source.fill(SECRET, (110, 106, 60, 12))  # the customer types
        first = _next_delta(loop, ready)
        assert _secret_pixels(first.frame) == 0
        assert seen == [frozenset({MaskKind.SECRET_INPUT})]
        assert loop.mask_rects == (Rect(92, 92, 136, 40),)
        # More typing under the mask: nothing changes in the picture, so no update at all.
        source.fill(SECRET, (110, 106, 100, 12))
        loop.want(True)
        time.sleep(0.2)
        assert loop.take() is None
        # Something else changes: the delta covers it, and still no secret pixel.
        source.fill((200, 200, 200, 0), (0, 0, 20, 20))
        delta = _next_delta(loop, ready)
        assert _secret_pixels(delta.frame) == 0
        # The field loses focus: the very next frame shows what is there again.
        masks.now = ()
        delta = _next_delta(loop, ready)
        assert _secret_pixels(delta.frame) == 100 * 12
        assert any(isinstance(op, Rect) and op.x <= 110 < op.x + op.width for op in delta.ops)
        assert seen[-1] == frozenset()
    finally:
        loop.stop()
