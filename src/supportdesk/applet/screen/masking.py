"""The session's masking: what the support program hides from the agent, and how it says so.

One :class:`SessionMasking` per session joins the three sources of masks every RFB
channel paints over its grabs (capture/mask_sources.py): the customer's "Sichtschutz"
(always there), the bank's window rules (sent with the consent request), and the
password fields the desktop reports: on X11 the accessibility bus
(capture/atspi_secrets.py), on Windows UI Automation (capture/win32_secrets.py) and on
macOS the AX API (capture/macos_secrets.py), both polled (capture/focus_poll.py). The
platform picks the watcher and the window lister (:func:`secret_watcher`,
:func:`window_lister`). A watcher that cannot start leaves automatic masking off, which
the consent then says; the Sichtschutz and the rules still work. Window rules that
cannot be followed blank the whole picture.

It also folds what the channels report into one state for the server (``masking``
control message: which kinds of mask are on, never where or what) and the customer's
window.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from supportdesk.applet.texts import PROTECTED_INPUT
from supportdesk.capture.backends import Platform
from supportdesk.capture.mask import MaskArea, MaskKind
from supportdesk.capture.mask_sources import (
    CombinedMasks,
    PrivacyScreen,
    WindowLister,
    WindowRuleMasks,
)
from supportdesk.domain.consent import AutomaticMasking
from supportdesk.domain.mask_rules import MaskRules

log = logging.getLogger(__name__)

MASK_LABEL = PROTECTED_INPUT
"""The words painted on a mask (a gettext id, translated where it is painted)."""


class SessionMasking:
    """Masks for one session on ``platform`` (``display``: an X display for tests)."""

    def __init__(
        self,
        platform: Platform | None,
        *,
        display: str | None = None,
        session_bus: str | None = None,
    ) -> None:
        self.platform = platform
        self._display = display
        self._session_bus = session_bus
        self.privacy = PrivacyScreen()
        self.rules = MaskRules()
        self._watcher: Any = None
        self._windows: WindowRuleMasks | None = None
        self.automatic = False
        """True while password fields are found automatically (the accessibility bus answers)."""
        self._masks = CombinedMasks(self.privacy)
        self._lock = threading.Lock()
        self._active: frozenset[MaskKind] = frozenset()
        self._listeners: list[Callable[[frozenset[MaskKind]], None]] = []

    # -- life ------------------------------------------------------------------------------

    def start(self, rules: MaskRules) -> bool:
        """Start watching for secret input and ``rules``' windows; True if automatic masking
        is on. Idempotent (a renewed consent calls it again)."""
        self.rules = rules
        if self.platform is not None and self._watcher is None:
            self._watcher = secret_watcher(self.platform, session_bus=self._session_bus)
            try:
                self.automatic = self._watcher.start()
            except Exception:  # never a crash: the consent says automatic masking is off
                log.exception("the secret-field watcher failed to start")
                self.automatic = False
            if self.automatic:
                self._masks.add(self._watcher)
            else:
                log.warning("automatic masking off: %s", getattr(self._watcher, "reason", ""))
        if self.platform is not None and rules.windows and self._windows is None:
            try:
                self._windows = WindowRuleMasks(rules, window_lister(self.platform, self._display))
                self._windows.start()
                self._masks.add(self._windows)
            except Exception:  # no window list: the rules cannot be kept, so blank it all
                log.exception("window rules cannot be followed; masking the whole picture")
                self.privacy.on = True
        return self.automatic

    def stop(self) -> None:
        """Stop watching and put the desktop's accessibility setting back."""
        if self._watcher is not None:
            self._watcher.stop()
        if self._windows is not None:
            self._windows.stop()

    # -- what the channels use -----------------------------------------------------------------

    def areas(self) -> Sequence[MaskArea]:
        """Every area to mask now (the channels' mask source)."""
        return self._masks.areas()

    def toggle_privacy(self) -> bool:
        """The customer's "Sichtschutz" button: switch it, return the new state."""
        on = self.privacy.toggle()
        self.reported(self._active - {MaskKind.PRIVACY} | ({MaskKind.PRIVACY} if on else set()))
        return on

    @property
    def active(self) -> frozenset[MaskKind]:
        """The kinds of mask on in the newest picture."""
        return self._active

    def listen(self, listener: Callable[[frozenset[MaskKind]], None]) -> None:
        """Call ``listener`` (from any thread) whenever the kinds of mask on change."""
        self._listeners.append(listener)

    def reported(self, kinds: frozenset[MaskKind] | set[MaskKind]) -> None:
        """A channel masked ``kinds`` in its newest grab (capture thread)."""
        kinds = frozenset(kinds)
        with self._lock:
            if kinds == self._active:
                return
            self._active = kinds
        for listener in list(self._listeners):
            try:
                listener(kinds)
            except Exception:
                log.exception("masking listener failed")

    @property
    def notice(self) -> AutomaticMasking:
        """Which sentence of the consent text says how password fields are masked: off,
        or on — with the accessibility interface switched on for the session (X11), or
        asked where the system keeps it on anyway (Windows, macOS)."""
        if not self.automatic:
            return AutomaticMasking.OFF
        if self.platform is Platform.X11:
            return AutomaticMasking.SWITCHED_ON
        return AutomaticMasking.ASKED

    def consent_facts(self) -> dict[str, Any]:
        """What the consent answer reports about masking (audited with the consent)."""
        return {"automatic": self.automatic, "rules_version": self.rules.version}


def secret_watcher(platform: Platform, *, session_bus: str | None = None) -> Any:
    """The (not yet started) watcher of focused password fields on ``platform``: it has
    ``start() -> bool``, ``stop()``, ``areas()`` and a ``reason`` when it did not start."""
    if platform is Platform.X11:
        from supportdesk.capture.atspi_secrets import SecretFieldWatcher

        return SecretFieldWatcher(session_bus=session_bus)
    from supportdesk.capture.focus_poll import FocusPollWatcher

    if platform is Platform.WINDOWS:
        from supportdesk.capture.win32_secrets import UiaSecretProbe

        return FocusPollWatcher(UiaSecretProbe)
    from supportdesk.capture.macos_secrets import AxSecretProbe

    return FocusPollWatcher(AxSecretProbe)


def window_lister(platform: Platform, display: str | None = None) -> WindowLister:
    """The window lister of ``platform`` for the bank's rules (raises if it cannot open)."""
    if platform is Platform.WINDOWS:
        from supportdesk.capture.win32_windows import Win32WindowLister

        return Win32WindowLister()
    if platform is Platform.MACOS:
        from supportdesk.capture.macos_windows import QuartzWindowLister

        return QuartzWindowLister()
    from supportdesk.capture.x11_windows import X11WindowLister

    return X11WindowLister(display)


def masking_message(kinds: frozenset[MaskKind]) -> dict[str, Any]:
    """The ``masking`` control message: which kinds are on (no place, no content)."""
    return {"type": "masking", "kinds": sorted(k.value for k in kinds)}
