"""The polling watcher (Windows/macOS probes): masks where the probe says, at both the
new and the previous place, and keeps the last mask when the probe fails."""

from __future__ import annotations

from supportdesk.capture.focus_poll import FocusPollWatcher
from supportdesk.capture.mask import MaskKind
from supportdesk.rfb.geometry import Rect


class Probe:
    def __init__(self) -> None:
        self.answer: Rect | None = None
        self.broken = False

    def __call__(self) -> Rect | None:
        if self.broken:
            raise OSError("element gone")
        return self.answer


def rects(watcher: FocusPollWatcher) -> set[Rect]:
    assert all(a.kind is MaskKind.SECRET_INPUT for a in watcher.areas())
    return {a.rect for a in watcher.areas()}


def test_the_focused_password_field_is_masked_where_it_is_and_was() -> None:
    probe = Probe()
    watcher = FocusPollWatcher(probe, interval=3600)  # polled by hand here
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
        watcher.poll()  # an error keeps the last answer masked
        assert Rect(50, 20, 200, 30) in rects(watcher)
        probe.broken, probe.answer = False, None
        watcher.poll()
        watcher.poll()
        assert rects(watcher) == set()
    finally:
        watcher.stop()


def test_a_probe_that_cannot_start_says_so() -> None:
    probe = Probe()
    probe.broken = True
    assert FocusPollWatcher(probe).start() is False
