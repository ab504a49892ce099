"""Screen sources: mss against a real Xvfb desktop, and the in-memory source."""

import threading
from collections.abc import Iterator

import numpy as np
import pytest

from supportdesk.capture.screen_source import (
    MemoryScreenSource,
    Monitor,
    MonitorNotFoundError,
    MssScreenSource,
    ScreenSource,
)

try:
    from tests.desktop import Desktop, requires_xvfb
except ModuleNotFoundError:
    from desktop import Desktop, requires_xvfb  # type: ignore[no-redef,import-not-found]


def fill_root(desk: Desktop, rgb: int, rect: tuple[int, int, int, int]) -> None:
    """Paint a rectangle straight onto the root window (no window manager, no compositor)."""
    d = desk.connect()
    try:
        root = d.screen().root
        gc = root.create_gc(foreground=rgb)
        root.fill_rectangle(gc, *rect)
        d.sync()
    finally:
        d.close()


@pytest.mark.desktop
@requires_xvfb
def test_grab_sees_the_root_colour(desktop: Desktop) -> None:
    desktop.run("xsetroot", "-solid", "#336699")
    with MssScreenSource(desktop.display) as source:
        frame = source.grab(0)
    assert frame.shape == (800, 1280, 4) and frame.dtype == np.uint8
    assert (frame[:, :, :3] == (0x99, 0x66, 0x33)).all()  # BGRX


@pytest.mark.desktop
@requires_xvfb
def test_grab_matches_a_direct_screenshot(desktop: Desktop) -> None:
    desktop.run("xsetroot", "-solid", "#204060")
    desktop.xterm(["sh", "-c", "printf 'Grüße aus dem Test\\n'; sleep 30"], geometry="60x10+30+40")
    fill_root(desktop, 0xFF8000, (900, 600, 100, 50))
    with MssScreenSource(desktop.display) as source:
        frame = source.grab(0)
    direct = desktop.screenshot()
    assert np.array_equal(frame[:, :, :3], direct[:, :, :3])
    assert (frame[600:650, 900:1000, :3] == (0x00, 0x80, 0xFF)).all()
    # the xterm drew something that is neither the root colour nor uniform
    window = frame[40:200, 30:400, :3].reshape(-1, 3)
    assert len(np.unique(window, axis=0)) >= 2


@pytest.mark.desktop
@requires_xvfb
def test_single_screen_lists_all_plus_one(desktop: Desktop) -> None:
    with MssScreenSource(desktop.display) as source:
        mons = source.monitors()
    assert mons[0] == Monitor(0, 0, 0, 1280, 800, name="all")
    assert [(m.left, m.top, m.width, m.height) for m in mons[1:]] == [(0, 0, 1280, 800)]


@pytest.mark.desktop
@requires_xvfb
def test_two_monitors_in_one_screen(desktop: Desktop) -> None:
    """Two RandR 1.5 monitors side by side, as a dual-head desktop reports them."""
    desktop.run("xrandr", "--setmonitor", "LEFT", "640/170x800/210+0+0", "screen")
    desktop.run("xrandr", "--setmonitor", "RIGHT", "640/170x800/210+640+0", "none")
    fill_root(desktop, 0x0000FF, (0, 0, 640, 800))
    fill_root(desktop, 0x00FF00, (640, 0, 640, 800))
    with MssScreenSource(desktop.display) as source:
        mons = source.monitors()
        assert [(m.index, m.left, m.width) for m in mons] == [
            (0, 0, 1280),
            (1, 0, 640),
            (2, 640, 640),
        ]
        left, right, whole = source.grab(1), source.grab(2), source.grab(0)
        with pytest.raises(MonitorNotFoundError):
            source.grab(3)
    assert left.shape == right.shape == (800, 640, 4)
    assert (left[:, :, :3] == (255, 0, 0)).all()
    assert (right[:, :, :3] == (0, 255, 0)).all()
    assert np.array_equal(whole[:, 640:, :3], right[:, :, :3])


@pytest.mark.desktop
@requires_xvfb
def test_one_mss_instance_per_thread(desktop: Desktop) -> None:
    source = MssScreenSource(desktop.display)
    shapes: list[tuple[int, ...]] = []

    def grab_twice() -> None:
        shapes.append(source.grab().shape)
        shapes.append(source.grab().shape)

    threads = [threading.Thread(target=grab_twice) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    grab_twice()
    assert shapes == [(800, 1280, 4)] * 8
    assert len(source._instances) == 4  # three threads and this one, each reused
    source.close()
    with pytest.raises(RuntimeError):
        source.grab()


def test_memory_source_lists_monitor_zero_as_bounding_box() -> None:
    source = MemoryScreenSource([(0, 0, 1920, 1080), (1920, 200, 1280, 1024)])
    mons = source.monitors()
    assert mons[0] == Monitor(0, 0, 0, 3200, 1224, name="all")
    assert mons[1].primary and not mons[2].primary
    assert (mons[2].left, mons[2].top, mons[2].width, mons[2].height) == (1920, 200, 1280, 1024)


def test_memory_source_grabs_each_monitor_region() -> None:
    source = MemoryScreenSource([(0, 0, 100, 50), (100, 0, 60, 40)])
    source.fill((1, 2, 3, 0), (0, 0, 100, 50))
    source.fill((9, 9, 9, 0), (100, 0, 60, 40))
    source.fill((7, 7, 7, 0), (150, 30, 1, 1))
    left, right, everything = source.grab(1), source.grab(2), source.grab(0)
    assert left.shape == (50, 100, 4) and (left == (1, 2, 3, 0)).all()
    assert right.shape == (40, 60, 4) and tuple(right[30, 50]) == (7, 7, 7, 0)
    assert everything.shape == (50, 160, 4) and (everything[40:, 100:] == 0).all()
    right[0, 0] = 99  # grabs are copies
    assert source.grab(2)[0, 0, 0] == 9
    with pytest.raises(MonitorNotFoundError):
        source.grab(3)


def test_memory_source_with_negative_origin() -> None:
    source = MemoryScreenSource([(-800, 0, 800, 600), (0, 0, 1024, 768)], primary=2)
    assert source.monitors()[0] == Monitor(0, -800, 0, 1824, 768, name="all")
    source.fill((5, 5, 5, 0), (-800, 0, 800, 600))
    assert (source.grab(1)[..., :3] == 5).all() and not source.grab(2).any()


def test_monitor_rejects_empty_size() -> None:
    with pytest.raises(ValueError):
        Monitor(1, 0, 0, 0, 10)


@pytest.fixture(params=["memory", "mss"])
def any_source(request: pytest.FixtureRequest) -> Iterator[ScreenSource]:
    """Every ScreenSource implementation, for the conformance checks below."""
    if request.param == "memory":
        yield MemoryScreenSource([(0, 0, 320, 200), (320, 0, 160, 100)])
        return
    request.applymarker(pytest.mark.desktop)
    desk: Desktop = request.getfixturevalue("desktop")
    source = MssScreenSource(desk.display)
    yield source
    source.close()


def test_conformance_monitor_zero_bounds_the_others(any_source: ScreenSource) -> None:
    mons = any_source.monitors()
    assert [m.index for m in mons] == list(range(len(mons))) and len(mons) >= 2
    everything = mons[0]
    for m in mons[1:]:
        assert everything.left <= m.left and m.left + m.width <= everything.left + everything.width
        assert everything.top <= m.top and m.top + m.height <= everything.top + everything.height


def test_conformance_grab_shapes_and_errors(any_source: ScreenSource) -> None:
    mons = any_source.monitors()
    for m in mons:
        frame = any_source.grab(m.index)
        assert frame.shape == (m.height, m.width, 4) and frame.dtype == np.uint8
        assert frame.flags.c_contiguous
    with pytest.raises(MonitorNotFoundError):
        any_source.grab(len(mons))
    with pytest.raises(MonitorNotFoundError):
        any_source.grab(-1)


def test_conformance_frames_are_independent(any_source: ScreenSource) -> None:
    first = any_source.grab(0)
    before = first.copy()
    second = any_source.grab(0)
    second[...] = 77
    assert np.array_equal(first, before)


@pytest.mark.desktop
@requires_xvfb
def test_earlier_frames_keep_their_pixels(desktop: Desktop) -> None:
    with MssScreenSource(desktop.display) as source:
        desktop.run("xsetroot", "-solid", "#112233")
        first = source.grab()
        desktop.run("xsetroot", "-solid", "#445566")
        second = source.grab()
    assert tuple(first[0, 0, :3]) == (0x33, 0x22, 0x11)
    assert tuple(second[0, 0, :3]) == (0x66, 0x55, 0x44)
