"""Where masks come from: the customer's "Sichtschutz", the bank's window rules, secret fields.

A :class:`MaskSource` answers one question, many times a second, from the capture
thread: which desktop areas must not be seen right now? Its answer must be quick (no
I/O in :meth:`MaskSource.areas`; sources that ask the desktop do so in their own thread
and keep the last answer) and must fail closed: a source that lost track of an area it
masked keeps masking it rather than guessing. One bounded wait is allowed: the AT-SPI
watcher holds the capture thread (at most 0.1 s) while a focused object's role is being
asked, so that a grab is never handed on without a mask the answer is about to bring.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from supportdesk.capture.mask import MaskArea, MaskKind
from supportdesk.domain.mask_rules import MaskRules
from supportdesk.rfb.geometry import Rect

log = logging.getLogger(__name__)

EVERYWHERE = Rect(-(1 << 30), -(1 << 30), 1 << 31, 1 << 31)
"""A rectangle larger than any desktop: clipped to the picture, it is the whole picture."""


class MaskSource(Protocol):
    """Something that knows which areas to mask."""

    def areas(self) -> Sequence[MaskArea]:
        """The areas to mask now, in virtual-desktop coordinates; quick and thread-safe."""
        ...


class PrivacyScreen:
    """The customer's "Sichtschutz": while on, the whole picture is masked."""

    def __init__(self) -> None:
        self.on = False

    def toggle(self) -> bool:
        """Switch it and return the new state."""
        self.on = not self.on
        return self.on

    def areas(self) -> Sequence[MaskArea]:
        """The whole picture while on, else nothing."""
        return (MaskArea(EVERYWHERE, MaskKind.PRIVACY),) if self.on else ()


class CombinedMasks:
    """The union of several sources (a source that raises masks everything: fail closed)."""

    def __init__(self, *sources: MaskSource) -> None:
        self.sources = list(sources)

    def add(self, source: MaskSource) -> None:
        """Mask what ``source`` says too, from the next grab on."""
        self.sources = [*self.sources, source]

    def areas(self) -> Sequence[MaskArea]:
        """Every source's areas."""
        out: list[MaskArea] = []
        for source in self.sources:
            try:
                out.extend(source.areas())
            except Exception:  # a broken source must never unmask: blank instead
                log.exception("mask source %r failed; masking the whole picture", source)
                out.append(MaskArea(EVERYWHERE, MaskKind.PRIVACY))
        return out


@dataclass(frozen=True, slots=True)
class DesktopWindow:
    """A visible top-level window: its title, its application names, where it is."""

    title: str
    applications: tuple[str, ...]
    rect: Rect


WindowLister = Callable[[], Sequence[DesktopWindow]]


class WindowRuleMasks:
    """Masks every window the bank's rules name; lists the windows in its own thread.

    Listing windows takes a few X round trips per window, too slow for every frame, so a
    thread lists them every ``interval`` seconds and the capture thread reads the result.
    A window that moved between two listings is masked at both places (the old and the
    new answer are both kept) so a window dragged across the screen stays covered.
    """

    def __init__(self, rules: MaskRules, lister: WindowLister, *, interval: float = 0.05) -> None:
        self.rules = rules
        self._lister = lister
        self._interval = interval
        self._lock = threading.Lock()
        self._now: tuple[MaskArea, ...] = ()
        self._before: tuple[MaskArea, ...] = ()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh(self) -> None:
        """List the windows once and remember the matching ones (the thread calls this)."""
        matched = tuple(
            MaskArea(w.rect, MaskKind.WINDOW_RULE)
            for w in self._lister()
            if self.rules.matches(w.title, w.applications)
        )
        with self._lock:
            self._before, self._now = self._now, matched

    def start(self) -> None:
        """List once now (so the first grab is already masked), then keep listing."""
        if not self.rules.windows or self._thread is not None:
            return
        self.refresh()
        self._thread = threading.Thread(target=self._run, name="mask-windows", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.refresh()
            except Exception:  # the display went away: keep the last answer masked
                log.exception("listing windows for the mask rules failed")

    def stop(self) -> None:
        """Stop listing (the last answer stays)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0)

    def areas(self) -> Sequence[MaskArea]:
        """The matching windows, where they are and where they were one listing ago."""
        with self._lock:
            now, before = self._now, self._before
        return now + tuple(a for a in before if a not in now)
