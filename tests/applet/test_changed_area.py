"""What a frame cost the frame clock: the pixels it grabbed and compared, not what it sent."""

from __future__ import annotations

import numpy as np

from supportdesk.applet.screen.capture_loop import CopyOp, FrameDelta
from supportdesk.applet.screen.rfb_link import _changed_area
from supportdesk.rfb.geometry import Rect

FRAME = np.zeros((1080, 1920, 4), dtype=np.uint8)


def test_a_whole_frame_counts_every_pixel() -> None:
    assert _changed_area(FrameDelta(FRAME, full=True)) == 1920 * 1080


def test_damage_driven_patches_count_their_areas_whatever_changed_in_them() -> None:
    patches = [(Rect(0, 0, 640, 32), FRAME[:32, :640]), (Rect(0, 100, 480, 270), FRAME[:270, :480])]
    delta = FrameDelta(FRAME, [Rect(0, 0, 8, 8)], patches=patches)
    assert _changed_area(delta) == 640 * 32 + 480 * 270


def test_polled_frames_count_their_damage_but_not_their_copies() -> None:
    ops = [Rect(0, 0, 100, 10), CopyOp(Rect(0, 20, 800, 600), 0, 36), Rect(0, 620, 800, 16)]
    assert _changed_area(FrameDelta(FRAME, ops)) == 100 * 10 + 800 * 16
