"""Secret input where the desktop can only be asked, not listened to: poll the focused element.

Windows (UI Automation, capture/win32_secrets.py) and macOS (the AX API,
capture/macos_secrets.py) answer "which element has the focus, is it a password field,
where is it" cheaply, so a thread of its own asks every ``interval`` seconds and keeps
the answer for the capture thread, with the promises of the AT-SPI watcher
(capture/atspi_secrets.py):

- the newest and the previous extents are both masked (a field that moves is covered
  where it was and where it went);
- the probe is **opened on the polling thread** (COM objects belong to the apartment of
  the thread that made them) and :meth:`FocusPollWatcher.start` waits for its first
  answer: a probe that cannot open or answer then leaves automatic masking off, which
  the consent says — never a crash;
- a probe that fails later keeps the last answer masked for a moment (a focus change
  can make one question fail), and once no answer has come for ``stale_after``
  seconds — errors, or a question that hangs on a busy program — the whole picture is
  masked until the probe answers again (fail closed: the customer may be typing into a
  password field nobody can see).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future

from supportdesk.capture.mask import MaskArea, MaskKind
from supportdesk.capture.mask_sources import EVERYWHERE
from supportdesk.rfb.geometry import Rect

log = logging.getLogger(__name__)

SecretProbe = Callable[[], Rect | None]
"""Where the focused element is if it is a password field, else None; may raise."""

ProbeFactory = Callable[[], SecretProbe]
"""Opens a probe (on the polling thread); raises if the desktop cannot be asked."""

DEFAULT_STALE_AFTER = 1.0
"""Seconds without an answer after which everything is masked."""


class FocusPollWatcher:
    """Mask the focused password field the probe ``open_probe`` makes reports."""

    def __init__(
        self,
        open_probe: ProbeFactory,
        *,
        interval: float = 0.015,
        stale_after: float = DEFAULT_STALE_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open_probe = open_probe
        self._interval = interval
        self._stale_after = stale_after
        self._clock = clock
        self._probe: SecretProbe | None = None
        self._lock = threading.Lock()
        self._now: Rect | None = None
        self._before: Rect | None = None
        self._answered_at = clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ready: Future[bool] = Future()
        self.reason = ""
        """Why automatic masking is off (for the log; never shown verbatim)."""

    # -- any thread -------------------------------------------------------------------------

    def start(self, timeout: float = 5.0) -> bool:
        """Open the probe on a new thread and wait for its first answer; True if it came."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="mask-focus", daemon=True)
            self._thread.start()
        try:
            started = self._ready.result(timeout)
        except TimeoutError:
            self.reason = "the focus probe did not answer"
            started = False
        if not started:
            self._stop.set()
            log.warning("automatic masking unavailable: %s", self.reason)
        return started

    def stop(self) -> None:
        """Stop asking."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0)

    def areas(self) -> Sequence[MaskArea]:
        """The focused password field where it is and was one poll ago; everything when
        the probe has not answered for ``stale_after`` seconds."""
        with self._lock:
            rects = {r for r in (self._now, self._before) if r is not None}
            stale = self._clock() - self._answered_at > self._stale_after
        if stale:
            return [MaskArea(EVERYWHERE, MaskKind.SECRET_INPUT)]
        return [MaskArea(r, MaskKind.SECRET_INPUT) for r in rects]

    # -- the polling thread -----------------------------------------------------------------

    def poll(self) -> None:
        """Ask once (the thread calls this); an error keeps the last answer."""
        probe = self._probe
        if probe is None:
            return
        try:
            rect = probe()
        except Exception:
            log.debug("focus probe failed; keeping the last mask", exc_info=True)
            return
        with self._lock:
            self._before, self._now = self._now, rect
            self._answered_at = self._clock()

    def open(self) -> bool:
        """Open the probe and ask once; True if both worked (the thread calls this first)."""
        try:
            probe = self._open_probe()
            rect = probe()
        except Exception as exc:
            self.reason = f"{type(exc).__name__}: {exc}"
            return False
        with self._lock:
            self._probe = probe
            self._now = rect
            self._answered_at = self._clock()
        return True

    def _run(self) -> None:
        opened = self.open()
        self._ready.set_result(opened)
        if not opened:
            return
        while not self._stop.wait(self._interval):
            self.poll()
        close = getattr(self._probe, "close", None)
        if close is not None:
            try:
                close()
            except Exception:
                log.debug("closing the focus probe failed", exc_info=True)
