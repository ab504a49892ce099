"""Screen sources: list the customer's monitors and grab one of them as a frame.

A *frame* is a C-contiguous ``numpy`` array of shape ``(height, width, 4)`` and dtype
``uint8`` in **BGRX** order, exactly as mss delivers it: byte 0 blue, 1 green, 2 red,
byte 3 undefined (mss fills it with 0 or 255 depending on the X visual; never read it).

Monitor 0 is the whole virtual desktop (the bounding box of all monitors); monitors
1..n are the individual screens, so the agent can pick one.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]
"""An ``(height, width, 4)`` uint8 BGRX image."""


class MonitorNotFoundError(LookupError):
    """The caller asked for a monitor index the source does not have."""


@dataclass(frozen=True, slots=True)
class Monitor:
    """One grabbable area in virtual-desktop coordinates (monitor 0 is all of them)."""

    index: int
    left: int
    top: int
    width: int
    height: int
    primary: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"monitor {self.index} has empty size {self.width}x{self.height}")


class ScreenSource(Protocol):
    """What the applet captures from: a list of monitors, and a grab of one of them."""

    def monitors(self) -> list[Monitor]:
        """Return monitor 0 (everything) followed by each individual monitor."""
        ...

    def grab(self, monitor: int = 0) -> Frame:
        """Return a fresh frame of monitor ``monitor``; raise MonitorNotFoundError if absent."""
        ...

    def close(self) -> None:
        """Release the resources held (X connections); the source is unusable afterwards."""
        ...


def bounding_monitor(screens: Sequence[tuple[int, int, int, int]]) -> Monitor:
    """Return monitor 0 for screens given as ``(left, top, width, height)``."""
    if not screens:
        raise ValueError("no screens")
    left = min(s[0] for s in screens)
    top = min(s[1] for s in screens)
    right = max(s[0] + s[2] for s in screens)
    bottom = max(s[1] + s[3] for s in screens)
    return Monitor(0, left, top, right - left, bottom - top, name="all")


class MssScreenSource:
    """Screen source backed by mss (X11 via XCB / MIT-SHM; also Windows and macOS).

    mss connections must not cross threads, so each thread that grabs gets its own
    mss instance, created on first use and reused afterwards; :meth:`close` closes
    them all.
    """

    def __init__(self, display: str | None = None) -> None:
        self._display = display
        self._local = threading.local()
        self._lock = threading.Lock()
        self._instances: list[Any] = []
        self._closed = False

    def _mss(self) -> Any:
        if self._closed:
            raise RuntimeError("screen source is closed")
        inst = getattr(self._local, "mss", None)
        if inst is None:
            import mss  # imported lazily: only a capturing applet needs it

            inst = mss.MSS(display=self._display) if self._display else mss.MSS()
            self._local.mss = inst
            with self._lock:
                self._instances.append(inst)
        return inst

    def monitors(self) -> list[Monitor]:
        """Return the monitors mss reports (it asks XRandR 1.5 on X11), re-read every call."""
        result: list[Monitor] = []
        for i, m in enumerate(self._mss().monitors):
            result.append(
                Monitor(
                    index=i,
                    left=int(m["left"]),
                    top=int(m["top"]),
                    width=int(m["width"]),
                    height=int(m["height"]),
                    primary=bool(m.get("is_primary", False)),
                    name="all" if i == 0 else str(m.get("output", "")),
                )
            )
        return result

    def grab(self, monitor: int = 0) -> Frame:
        """Grab monitor ``monitor`` as a BGRX frame (no copy of the mss buffer)."""
        sct = self._mss()
        mons = sct.monitors
        if not 0 <= monitor < len(mons):
            raise MonitorNotFoundError(f"no monitor {monitor}; have 0..{len(mons) - 1}")
        shot = sct.grab(mons[monitor])
        return np.frombuffer(shot.raw, dtype=np.uint8).reshape(shot.height, shot.width, 4)

    def grab_area(self, monitor: int, area: tuple[int, int, int, int]) -> Frame:
        """Grab ``(x, y, width, height)`` of monitor ``monitor`` (XShm on X11, as :meth:`grab`)."""
        sct = self._mss()
        mons = sct.monitors
        if not 0 <= monitor < len(mons):
            raise MonitorNotFoundError(f"no monitor {monitor}; have 0..{len(mons) - 1}")
        x, y, width, height = area
        m = mons[monitor]
        region = {"left": m["left"] + x, "top": m["top"] + y, "width": width, "height": height}
        shot = sct.grab(region)
        return np.frombuffer(shot.raw, dtype=np.uint8).reshape(shot.height, shot.width, 4)

    def damage_watch(self) -> Any:
        """An :class:`~supportdesk.capture.x11_damage.XDamageWatch` of this X display, or None.

        None on Windows and macOS (no change notification wired there: the capture
        polls) and where the X server lacks DAMAGE.
        """
        if sys.platform in ("win32", "darwin"):
            return None
        from supportdesk.capture.x11_damage import DamageUnavailable, XDamageWatch

        try:
            return XDamageWatch(self._display)
        except DamageUnavailable:
            return None

    def close(self) -> None:
        """Close every per-thread mss instance."""
        with self._lock:
            self._closed = True
            instances, self._instances = self._instances, []
        for inst in instances:
            inst.close()

    def __enter__(self) -> MssScreenSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MemoryScreenSource:
    """An in-memory desktop for tests of consumers (encoders, the applet loop).

    It holds one virtual-desktop framebuffer and a list of monitor rectangles inside
    it; :meth:`grab` returns a copy of a monitor's region.  Paint with :meth:`fill` or
    by writing to :attr:`desktop` directly.
    """

    def __init__(
        self,
        screens: Sequence[tuple[int, int, int, int]] = ((0, 0, 640, 480),),
        *,
        primary: int = 1,
    ) -> None:
        all_ = bounding_monitor(screens)
        self._origin = (all_.left, all_.top)
        self._monitors = [all_] + [
            Monitor(i, *s, primary=(i == primary), name=f"screen-{i}")
            for i, s in enumerate(screens, start=1)
        ]
        self.desktop: Frame = np.zeros((all_.height, all_.width, 4), dtype=np.uint8)
        self.grabs = 0

    def monitors(self) -> list[Monitor]:
        """Return monitor 0 (the bounding box) and the configured screens."""
        return list(self._monitors)

    def _region(self, m: Monitor) -> tuple[slice, slice]:
        y = m.top - self._origin[1]
        x = m.left - self._origin[0]
        return slice(y, y + m.height), slice(x, x + m.width)

    def grab(self, monitor: int = 0) -> Frame:
        """Return a copy of monitor ``monitor``'s pixels."""
        if not 0 <= monitor < len(self._monitors):
            raise MonitorNotFoundError(f"no monitor {monitor}; have 0..{len(self._monitors) - 1}")
        self.grabs += 1
        rows, cols = self._region(self._monitors[monitor])
        return self.desktop[rows, cols].copy()

    def fill(
        self,
        bgrx: tuple[int, int, int, int],
        rect: tuple[int, int, int, int] | None = None,
    ) -> None:
        """Paint ``rect`` ``(x, y, w, h)`` in desktop coordinates (default: everything)."""
        if rect is None:
            self.desktop[...] = bgrx
            return
        x, y, w, h = rect
        x -= self._origin[0]
        y -= self._origin[1]
        self.desktop[y : y + h, x : x + w] = bgrx

    def close(self) -> None:
        """Nothing to release."""
