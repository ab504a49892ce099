"""The pure parts of the masking bench: its damage-driven wake-up ends where the real loop
does (the screen with the masks painted over it, a moved mask grabbed again), scrolling
text goes by copies around a still mask on both paths, its encode sends what changed,
and its medians and table."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence

import numpy as np
import pytest
from bench.masking import changes, engine, percentiles, sent_table, table
from bench.masking_damage import Lane, Masks, encode, start_lane, wake
from bench.masking_drag import FROM_X, STEP, TO_X, place

from supportdesk.applet.screen import damage_capture
from supportdesk.applet.screen.capture_loop import CopyOp
from supportdesk.applet.screen.damage_capture import DamageCaptureLoop
from supportdesk.capture.mask import MaskArea, MaskKind, MaskPainter, monitor_rects
from supportdesk.capture.screen_source import Frame, MemoryScreenSource
from supportdesk.rfb import Rect

W, H = 320, 240
SECRET = (0x07, 0x4D, 0xB1)  # BGR
UPPER = MaskArea(Rect(64, 64, 120, 20), MaskKind.SECRET_INPUT)
LOWER = MaskArea(Rect(64, 150, 120, 20), MaskKind.SECRET_INPUT)


class Watch:
    """Damage handed out as the test draws (the XDamageWatch's place)."""

    def __init__(self) -> None:
        self.queue: list[list[Rect]] = []
        self.lock = threading.Lock()

    def take(self, timeout: float) -> list[Rect]:
        with self.lock:
            if self.queue:
                return self.queue.pop(0)
        time.sleep(min(timeout, 0.005))
        return []

    def interrupt(self) -> None:
        pass

    def close(self) -> None:
        pass


class Screen(MemoryScreenSource):
    """An in-memory screen that grabs areas and reports what the test draws."""

    def __init__(self) -> None:
        super().__init__(((0, 0, W, H),))
        self.desktop[...] = 0x30
        self.watch = Watch()

    def grab_area(self, monitor: int, area: tuple[int, int, int, int]) -> Frame:
        x, y, w, h = area
        return self.desktop[y : y + h, x : x + w].copy()

    def damage_watch(self) -> Watch:
        return self.watch

    def draw(self, rect: Rect, bgr: tuple[int, int, int]) -> Rect:
        self.desktop[rect.y : rect.bottom, rect.x : rect.right, :3] = bgr
        with self.watch.lock:
            self.watch.queue.append([rect])
        return rect


def masked(screen: Screen, areas: Sequence[MaskArea]) -> Frame:
    return MaskPainter("Geschützte Eingabe").paint(
        screen.desktop.copy(), monitor_rects(areas, (0, 0), (W, H))
    )


def secret_pixels(pixels: Frame) -> int:
    return int((pixels[..., :3] == np.array(SECRET, np.uint8)).all(axis=-1).sum())


def real_loop_picture(screen: Screen, masks: Masks, steps: list[tuple[Rect, bool]]) -> Frame:
    """What a started DamageCaptureLoop's deltas add up to after the same steps."""
    picture: list[Frame] = []
    loop = DamageCaptureLoop(screen, 0, polling_max_fps=200.0, masks=masks)

    def on_delta() -> None:
        delta = loop.take()
        if delta is None:
            return
        if delta.full or not picture:
            picture[:] = [np.array(delta.frame)]
        for area, pixels in [] if delta.full else delta.patches:
            picture[0][area.y : area.bottom, area.x : area.right] = pixels

    loop._on_delta = on_delta
    loop.start()
    loop.want(True)
    try:
        for rect, move in steps:
            if move:
                masks.move()
            screen.draw(rect, SECRET)
            time.sleep(0.05)  # one wake-up each (the test's clock, not a measurement)
        deadline = time.monotonic() + 5
        while not (picture and np.array_equal(picture[0], masked(screen, masks.now))):
            assert time.monotonic() < deadline, "the real loop never showed the masked screen"
            time.sleep(0.02)
        return picture[0]
    finally:
        loop.stop()


def test_a_wake_paints_the_masks_over_what_it_grabs_and_hands_on_the_rest() -> None:
    screen = Screen()
    lane = start_lane(screen, Masks((UPPER,)), None)
    drawn = screen.draw(Rect(40, 60, 200, 40), SECRET)  # across the field and beside it
    spent, ops = wake(lane, [drawn])
    assert spent > 0
    assert np.array_equal(lane.mirror, masked(screen, (UPPER,)))
    assert secret_pixels(lane.mirror[64:84, 64:184]) == 0
    assert secret_pixels(lane.mirror) > 0  # beside the field it shows
    assert ops and all(isinstance(op, Rect) and not op.intersect(drawn).is_empty for op in ops)


def test_a_mask_that_moves_is_grabbed_again_where_it_went_and_where_it_came() -> None:
    screen = Screen()
    screen.desktop[64:84, 64:184, :3] = SECRET  # typed into the upper field
    screen.desktop[150:170, 64:184, :3] = SECRET  # and into the lower one
    masks = Masks((UPPER,), (LOWER,))
    lane = start_lane(screen, masks, None)
    assert secret_pixels(lane.mirror) == 120 * 20  # the lower field shows, unmasked
    masks.move()  # the focus goes to the lower field: no drawing at all
    held = lane.mirror.copy()
    _, ops = wake(lane, [])
    assert np.array_equal(lane.mirror, masked(screen, (LOWER,)))
    assert secret_pixels(lane.mirror) == 120 * 20  # now the upper one shows
    # Both handed on, though nothing was drawn: where it went as damage, where it came
    # as a copy from where it was (the same size, the same picture).
    upper, lower = monitor_rects([UPPER, LOWER], (0, 0), (W, H))
    assert any(isinstance(op, Rect) and not op.intersect(upper).is_empty for op in ops)
    assert CopyOp(lower, upper.x, upper.y) in ops
    assert np.array_equal(viewer(held, ops, lane.mirror), lane.mirror)
    assert wake(lane, [])[1] == []  # a still mask costs no grab


def test_a_moved_masks_new_place_is_compared_only_in_its_grab(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Where the mask came was grabbed (a piece on the grid) and painted: the kept copy
    # holds its stripes, so it is not painted and compared a second time on its own.
    areas: list[Rect] = []
    take = DamageCaptureLoop._take_piece

    def spy(self: DamageCaptureLoop, mirror: Frame, area: Rect, *a: object, **k: object) -> None:
        areas.append(area)
        take(self, mirror, area, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(DamageCaptureLoop, "_take_piece", spy)
    lower = monitor_rects([LOWER], (0, 0), (W, H))[0]
    screen = Screen()
    masks = Masks((UPPER,), (LOWER,))
    lane = start_lane(screen, masks, None)
    masks.move()
    wake(lane, [])
    assert areas and lower not in areas
    assert np.array_equal(lane.mirror, masked(screen, (LOWER,)))
    areas.clear()  # the real loop, as the bench's wake
    real_loop_picture(Screen(), Masks((UPPER,), (LOWER,)), [(Rect(8, 8, 8, 8), True)])
    assert areas and lower not in areas


def test_where_only_a_mask_moved_nothing_is_compared(monkeypatch: pytest.MonkeyPatch) -> None:
    # Its places are known to have changed (stripes came, stripes left) and nothing else
    # was drawn there: they are sent as they are, in the bench's wake and the real loop.
    compared: list[tuple[int, ...]] = []
    changes = damage_capture.frame_changes

    def spy(old: Frame, new: Frame, **kw: object) -> object:
        compared.append(new.shape)
        return changes(old, new, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(damage_capture, "frame_changes", spy)
    screen = Screen()
    masks = Masks((UPPER,), (LOWER,))
    lane = start_lane(screen, masks, None)
    masks.move()
    _, ops = wake(lane, [])
    assert compared == []
    assert np.array_equal(lane.mirror, masked(screen, (LOWER,)))
    upper, lower = monitor_rects([UPPER, LOWER], (0, 0), (W, H))
    assert ops == [CopyOp(lower, upper.x, upper.y), upper]  # the copy, the text it left
    real_loop_picture(Screen(), Masks((UPPER,), (LOWER,)), [(Rect(8, 8, 8, 8), True)])
    assert compared and all(shape[:2] == (32, 32) for shape in compared)  # the drawing only


class FocusedDuringTheGrab(Masks):
    """No mask when the wake-up reads the areas before its grab, the field after it."""

    def __init__(self) -> None:
        super().__init__((), (UPPER,))
        self.reads = 0

    def areas(self) -> Sequence[MaskArea]:
        self.reads += 1
        if self.reads == 3:  # the start's two reads, then this wake-up's first
            self.move()
            return self.places[-1]
        return self.now


def test_a_mask_that_came_after_the_grab_is_painted_into_the_kept_copy() -> None:
    screen = Screen()
    lane = start_lane(screen, FocusedDuringTheGrab(), None)
    screen.desktop[64:84, 64:184, :3] = SECRET  # typed before the wake-up's grab
    wake(lane, [Rect(0, 0, 32, 32)])  # the damage elsewhere: the field is not grabbed
    assert secret_pixels(lane.mirror) == 0
    assert np.array_equal(lane.mirror[64:84, 64:184], masked(screen, (UPPER,))[64:84, 64:184])


def test_without_masks_a_wake_only_compares() -> None:
    screen = Screen()
    lane = start_lane(screen, None, None)
    drawn = screen.draw(Rect(0, 0, 32, 32), SECRET)
    _, ops = wake(lane, [drawn])
    assert np.array_equal(lane.mirror, screen.desktop)
    assert ops == [Rect(0, 0, 32, 32)]
    assert wake(lane, [drawn])[1] == []  # drawn again the same: nothing changed


def test_the_bench_wake_ends_at_the_picture_the_real_loop_hands_on() -> None:
    steps = [
        (Rect(40, 60, 200, 40), False),  # across the upper field
        (Rect(0, 140, 100, 40), True),  # the lower field masked, drawn across
        (Rect(8, 8, 8, 8), True),  # back to the upper one, drawn elsewhere
    ]
    ours, theirs = Screen(), Screen()
    lane = start_lane(ours, Masks((UPPER,), (LOWER,)), None)
    for rect, move in steps:
        if move:
            assert lane.masks is not None
            lane.masks.move()
        wake(lane, [ours.draw(rect, SECRET)])
    assert np.array_equal(lane.mirror, real_loop_picture(theirs, Masks((UPPER,), (LOWER,)), steps))


def test_encode_sends_the_changes_as_one_update() -> None:
    screen = Screen()
    lane: Lane = start_lane(screen, None, engine(W, H))
    assert lane.conn is not None
    _, ops = wake(lane, [screen.draw(Rect(10, 10, 40, 40), SECRET)])
    sent = encode(lane.conn, ops, lane.mirror)
    assert sent > 16  # an update header and a rectangle's pixels
    assert lane.conn.data_to_send() == b""


def test_the_engine_takes_copyrect_as_the_agents_viewer_does() -> None:
    # Without it every scroll's copies went out as pixels (noVNC asks for CopyRect first).
    assert engine(W, H).preferences.copy_rect
    screen = Screen()
    scroll_text(screen, 0)
    lane: Lane = start_lane(screen, None, engine(W, H))
    assert lane.conn is not None
    _, ops = wake(lane, [scroll_text(screen, 1)])
    copy = next(op for op in ops if isinstance(op, CopyOp))
    sent = encode(lane.conn, ops, lane.mirror)
    assert sent < copy.dst.area  # the copy went as a CopyRect, not as its pixels


def test_percentiles_leave_out_the_warm_up() -> None:
    samples = [100.0] * 5 + [float(i) for i in range(1, 101)]
    assert percentiles(samples) == (50.5, 96.0)
    assert percentiles([3.0, 1.0, 2.0], warm=0) == (2.0, 3.0)
    with pytest.raises(ValueError):
        percentiles([1.0] * 5)


def test_the_table_has_a_row_per_mode_in_ms() -> None:
    times = {
        "off": {"mask": [0.0] * 10, "total": [4.0] * 10},
        "Sichtschutz": {"mask": [0.25] * 10, "total": [1.5] * 10},
    }
    lines = table("wake", times).splitlines()
    assert lines[0].split()[:5] == ["mode", "mask", "p50", "mask", "p95"]
    assert lines[1].split() == ["off", "0.000", "0.000", "4.00", "4.00"]
    assert lines[2].split() == ["Sichtschutz", "0.250", "0.250", "1.50", "1.50"]


def test_the_sent_table_counts_per_wake_up() -> None:
    screen = Screen()
    quiet = start_lane(screen, None, None)
    busy = start_lane(screen, None, None)
    busy.encode_ms, busy.copies, busy.tight, busy.sent = [2.0, 4.0, 9.0], 3, 30_000, 12_000
    lines = sent_table({"masked": quiet, "off": busy}, 10).splitlines()
    assert lines[1].split() == ["masked", "-", "0.00", "0", "0.0"]
    assert lines[2].split() == ["off", "4.00", "0.30", "3", "1.2"]


def scroll_text(screen: Screen, step: int) -> Rect:
    """The text of a 256x192 window at (32, 24), scrolled by ``step`` lines of 16 rows."""
    rng = np.random.default_rng(11)
    text = np.full((192 + 16 * 8, 256, 3), 255, np.uint8)
    for y in range(0, text.shape[0] - 12, 16):
        text[y : y + 12, 4:252] = rng.integers(0, 5, (12, 248, 1), np.uint8) * 50
    window = Rect(32, 24, 256, 192)
    screen.desktop[window.y : window.bottom, window.x : window.right, :3] = text[
        16 * step : 16 * step + 192
    ]
    with screen.watch.lock:
        screen.watch.queue.append([window])
    return window


def viewer(previous: Frame, ops: Sequence[object], current: Frame) -> Frame:
    """What a viewer holding ``previous`` holds after ``ops``, damage sent from ``current``."""
    fb = previous.copy()
    for op in ops:
        if isinstance(op, CopyOp):
            d = op.dst
            fb[d.y : d.bottom, d.x : d.right] = fb[
                op.src_y : op.src_y + d.height, op.src_x : op.src_x + d.width
            ]
        else:
            assert isinstance(op, Rect)
            fb[op.y : op.bottom, op.x : op.right] = current[op.y : op.bottom, op.x : op.right]
    return fb


def test_a_wake_copies_scrolling_text_around_a_still_mask() -> None:
    screen = Screen()
    scroll_text(screen, 0)
    lane = start_lane(screen, Masks((UPPER,)), None)
    field = monitor_rects([UPPER], (0, 0), (W, H))[0]
    for step in range(1, 4):
        held = lane.mirror.copy()
        _, ops = wake(lane, [scroll_text(screen, step)])
        copies = [op for op in ops if isinstance(op, CopyOp)]
        assert len(copies) >= 2  # the text above, beside and below the field
        for c in copies:
            assert c.dst.intersect(field).is_empty
            assert c.dst.translate(c.src_x - c.dst.x, c.src_y - c.dst.y).intersect(field).is_empty
        assert np.array_equal(viewer(held, ops, lane.mirror), lane.mirror)
        assert np.array_equal(lane.mirror, masked(screen, [UPPER]))


def test_the_polling_bench_compares_as_the_loop_with_copies_around_the_mask() -> None:
    screen = Screen()
    field = monitor_rects([UPPER], (0, 0), (W, H))
    scroll_text(screen, 0)
    before = masked(screen, [UPPER])
    scroll_text(screen, 1)
    after = masked(screen, [UPPER])
    ops = changes(before, after, field, field)
    assert sum(isinstance(op, CopyOp) for op in ops) >= 2
    assert np.array_equal(viewer(before, ops, after), after)


def test_the_dragged_window_goes_to_and_fro_over_the_text_a_step_at_a_time() -> None:
    xs = [place(k)[0] for k in range(200)]
    assert min(xs) == FROM_X and max(xs) == TO_X
    assert all(abs(b - a) == STEP for a, b in itertools.pairwise(xs))
    assert all(abs(place(k + 1)[1] - place(k)[1]) <= 2 for k in range(200))


@pytest.mark.parametrize("scrolling", [False, True])
def test_a_moved_field_is_copied_from_where_the_viewer_holds_it(scrolling: bool) -> None:
    # A field with typed text in it moves every wake-up (a dragged window: its old and
    # new places are drawn), over still or scrolling text: its new place goes as a
    # CopyRect (after the scroll's copies), never as pixels; the viewer following the
    # ops holds the masked screen and no secret.
    screen = Screen()
    scroll_text(screen, 0)
    spots = [Rect(64 + 8 * k, 64 + 5 * k, 120, 20) for k in range(6)] + [Rect(100, 160, 120, 20)]
    masks = Masks(*[(MaskArea(r, MaskKind.SECRET_INPUT),) for r in spots])
    screen.desktop[64:84, 64:184, :3] = SECRET
    lane = start_lane(screen, masks, None)
    for step in range(1, len(spots)):
        was, now = spots[step - 1], spots[step]
        drawn = [scroll_text(screen, step)] if scrolling else []
        screen.desktop[was.y : was.bottom, was.x : was.right, :3] = 0x30  # the window left
        screen.desktop[now.y : now.bottom, now.x : now.right, :3] = SECRET  # and came
        masks.move()
        held = lane.mirror.copy()
        _, ops = wake(lane, [*drawn, was, now])
        assert np.array_equal(lane.mirror, masked(screen, masks.now))
        new = monitor_rects(masks.now, (0, 0), (W, H))[0]
        assert [op for op in ops if isinstance(op, CopyOp) and op.dst == new]
        assert all(not isinstance(op, Rect) or op.intersect(new).is_empty for op in ops)
        seen = viewer(held, ops, lane.mirror)
        assert np.array_equal(seen, lane.mirror) and secret_pixels(seen) == 0


def test_the_polling_path_copies_a_moved_field_after_the_scroll() -> None:
    screen = Screen()
    was, now = monitor_rects([UPPER], (0, 0), (W, H)), monitor_rects([LOWER], (0, 0), (W, H))
    scroll_text(screen, 0)
    before = masked(screen, [UPPER])
    scroll_text(screen, 1)
    after = masked(screen, [LOWER])
    ops = changes(before, after, was, now)
    copies = [op for op in ops if isinstance(op, CopyOp)]
    assert copies[-1].dst == now[0] and len(copies) >= 2  # the scroll's, then the field
    assert all(not isinstance(op, Rect) or op.intersect(now[0]).is_empty for op in ops)
    assert np.array_equal(viewer(before, ops, after), after)


class Counted(Screen):
    """A screen that lists the areas grabbed."""

    def __init__(self) -> None:
        super().__init__()
        self.grabbed: list[tuple[int, int, int, int]] = []

    def grab_area(self, monitor: int, area: tuple[int, int, int, int]) -> Frame:
        self.grabbed.append(area)
        return super().grab_area(monitor, area)


class MovedOnDuringTheGrab(Masks):
    """The field goes from the upper place to the lower one; read again after the grab,
    a second mask overlaps it (so its new place is not its own picture there)."""

    def __init__(self) -> None:
        super().__init__((UPPER,), (LOWER,))
        self.reads = 0

    def areas(self) -> Sequence[MaskArea]:
        self.reads += 1
        if self.reads == 4:  # the start's two reads, the wake-up's first, then this one
            return (*self.now, MaskArea(Rect(100, 140, 40, 40), MaskKind.SECRET_INPUT))
        return self.now


def test_a_copied_new_place_is_not_grabbed_and_one_not_copied_after_all_is_painted() -> None:
    screen = Counted()
    screen.desktop[150:170, 64:184, :3] = SECRET  # typed into the lower field
    masks = Masks((UPPER,), (LOWER,))
    lane = start_lane(screen, masks, None)
    masks.move()
    wake(lane, [])
    upper, lower = monitor_rects([UPPER, LOWER], (0, 0), (W, H))
    assert screen.grabbed and all(
        Rect(*a).intersect(lower).is_empty or Rect(*a).contains(upper) for a in screen.grabbed
    )  # where it went only: where it came is copied
    assert np.array_equal(lane.mirror, masked(screen, (LOWER,)))
    moving = MovedOnDuringTheGrab()
    lane = start_lane(screen, moving, None)
    moving.move()
    held = lane.mirror.copy()
    _, ops = wake(lane, [])
    now = (*moving.now, MaskArea(Rect(100, 140, 40, 40), MaskKind.SECRET_INPUT))
    assert np.array_equal(lane.mirror, masked(screen, now))
    assert not any(isinstance(op, CopyOp) for op in ops)
    assert np.array_equal(viewer(held, ops, lane.mirror), lane.mirror)
    assert secret_pixels(lane.mirror) == 0
