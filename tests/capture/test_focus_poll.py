"""The polling watcher (Windows/macOS probes): masks where the probe says, at both the
new and the previous place; opens the probe on its own thread and reports whether it
answered; keeps the last mask through a failing question and masks everything once
the probe has been silent too long (fail closed)."""

from __future__ import annotations

import threading

from supportdesk.capture.focus_poll import FocusPollWatcher
from supportdesk.capture.mask import MaskKind, monitor_rects
from supportdesk.capture.mask_sources import EVERYWHERE
from supportdesk.rfb.geometry import Rect

try:
    from tests.desktop import wait_until
except ModuleNotFoundError:
    from desktop import wait_until  # type: ignore[no-redef,import-not-found]


class Probe:
    def __init__(self) -> None:
        self.answer: Rect | None = None
        self.broken = False
        self.threads: set[int] = set()
        self.closed = False

    def __call__(self) -> Rect | None:
        self.threads.add(threading.get_ident())
        if self.broken:
            raise OSError("element gone")
        return self.answer

    def close(self) -> None:
        self.closed = True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def rects(watcher: FocusPollWatcher) -> set[Rect]:
    assert all(a.kind is MaskKind.SECRET_INPUT for a in watcher.areas())
    return {a.rect for a in watcher.areas()}


def test_the_focused_password_field_is_masked_where_it_is_and_was() -> None:
    probe, clock = Probe(), Clock()
    watcher = FocusPollWatcher(lambda: probe, interval=3600, clock=clock)  # polled by hand
    assert watcher.start()
    try:
        assert rects(watcher) == set()
        probe.answer = Rect(10, 20, 200, 30)
        watcher.poll()
        assert rects(watcher) == {Rect(10, 20, 200, 30)}
        probe.answer = Rect(50, 20, 200, 30)
        watcher.poll()
        assert rects(watcher) == {Rect(10, 20, 200, 30), Rect(50, 20, 200, 30)}
        probe.broken = True
        clock.now += 0.5
        watcher.poll()  # one failed question keeps the last answer masked
        assert Rect(50, 20, 200, 30) in rects(watcher)
        probe.broken, probe.answer = False, None
        watcher.poll()
        watcher.poll()
        assert rects(watcher) == set()
    finally:
        watcher.stop()


def test_a_probe_silent_too_long_masks_everything_until_it_answers() -> None:
    probe, clock = Probe(), Clock()
    watcher = FocusPollWatcher(lambda: probe, interval=3600, stale_after=1.0, clock=clock)
    assert watcher.start()
    try:
        probe.broken = True
        clock.now += 0.9
        watcher.poll()
        assert rects(watcher) == set()  # no field had the focus, and 0.9 s is not too long
        clock.now += 0.2
        watcher.poll()
        assert rects(watcher) == {EVERYWHERE}  # the customer may be typing a PIN now
        # ... painted over the whole frame, whatever the margin of a secret field does
        assert monitor_rects(watcher.areas(), (-1920, 0), (3840, 1080)) == [Rect(0, 0, 3840, 1080)]
        clock.now += 5  # a question that hangs is silence too: no poll at all
        assert rects(watcher) == {EVERYWHERE}
        probe.broken = False
        watcher.poll()
        assert rects(watcher) == set()
    finally:
        watcher.stop()


def test_the_probe_is_opened_and_asked_on_the_watchers_own_thread() -> None:
    probe = Probe()
    opened_on: list[int] = []

    def open_probe() -> Probe:
        opened_on.append(threading.get_ident())
        return probe

    watcher = FocusPollWatcher(open_probe, interval=0.005)
    assert watcher.start()
    probe.answer = Rect(1, 2, 3, 4)
    wait_until(lambda: Rect(1, 2, 3, 4) in rects(watcher), 5.0, what="the polled answer")
    watcher.stop()
    assert opened_on and opened_on[0] != threading.get_ident()
    assert probe.threads == {opened_on[0]}  # COM: asked in the apartment that made it
    assert probe.closed


def test_a_probe_that_cannot_open_or_answer_says_so() -> None:
    def cannot_open() -> Probe:
        raise OSError("UI Automation not available")

    watcher = FocusPollWatcher(cannot_open)
    assert watcher.start() is False
    assert "UI Automation not available" in watcher.reason

    probe = Probe()
    probe.broken = True
    watcher = FocusPollWatcher(lambda: probe)
    assert watcher.start() is False
    assert "element gone" in watcher.reason


def test_a_probe_that_hangs_at_start_leaves_automatic_masking_off() -> None:
    release = threading.Event()

    def hanging() -> Probe:
        release.wait(10)
        return Probe()

    watcher = FocusPollWatcher(hanging)
    try:
        assert watcher.start(timeout=0.2) is False
        assert watcher.reason == "the focus probe did not answer"
    finally:
        release.set()
        watcher.stop()
