"""What the customer's link may do, by kind: the support program or a browser.

Pure rules, no sockets: which control messages each kind of link may send, what a
``consent`` message grants, which platform a ``hello`` may name, and which of the
agent's pointer messages go on to a browser (docs/browser-share.md).
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import RenderedConsent
from supportdesk.domain.consent_texts import cited_text
from supportdesk.domain.session_events import ConsentDeclined, ConsentGiven
from supportdesk.link.frames import LinkProtocolError

POINTER_RATE = 30
"""Pointer messages a second the agent's console may send towards a browser."""
_BROWSER_ONLY = frozenset({"video_config"})
# "refuse_control": a browser gives no control to refuse.
_APPLET_ONLY = frozenset({"grant", "revoke", "hello", "close", "refuse_control"})
_APPLET_ONLY_PREFIXES = ("file_", "diagnostics_")
PLATFORMS = frozenset({"x11", "windows", "macos"})
"""The desktops the support program says it runs on (its ``hello``)."""


class LinkKind(enum.Enum):
    """What the customer connected with."""

    APPLET = "applet"  # the support program: RFB channels, control, files, diagnostics
    BROWSER = "browser"  # a browser page: one video channel, view only


def customer_platform(value: object) -> str | None:
    """The platform a ``hello`` names, if it is one the program has; anything else
    (a crafted message) counts as unknown."""
    return value if isinstance(value, str) and value in PLATFORMS else None


def check_message(kind: LinkKind, message_type: str) -> None:
    """Refuse a control message that has no place on this kind of link."""
    if kind is LinkKind.BROWSER:
        refused = message_type in _APPLET_ONLY or message_type.startswith(_APPLET_ONLY_PREFIXES)
    else:
        refused = message_type in _BROWSER_ONLY
    if refused:
        raise LinkProtocolError(f"{message_type!r} has no place on a {kind.value} link")


def consent_event(
    kind: LinkKind,
    message: dict[str, Any],
    shown: RenderedConsent | None,
    at: datetime,
    *,
    agent_name: str = "",
    offered: frozenset[Capability] = frozenset(Capability),
) -> ConsentGiven | ConsentDeclined:
    """The session event a ``consent`` message amounts to.

    Consent counts only on a text the server knows, and the audit cites the very text
    the customer read. A browser grants ``view`` and nothing else, on the text the
    page showed (``consent_sha256`` equal to ``shown``'s). The support program reports
    ``consent_version``, ``language`` and ``consent_sha256`` of the text its dialog
    showed at "Ja" (in the language the customer switched to, naming what was ticked):
    it must be ``shown``'s version, for ``agent_name``, naming exactly the granted
    capabilities, all of them ``offered``. Anything else is a refusal
    (``text_mismatch``). A "no" says why: ``declined``, or ``picker_cancelled`` when
    the browser's screen picker was closed; it cites the text the customer's side
    reports if that is a known one.
    """
    if message.get("decision") != "yes":
        reason = "picker_cancelled" if message.get("reason") == "picker_cancelled" else "declined"
        read = None if shown is None else _reported(kind, message, shown, agent_name, offered)
        return ConsentDeclined(at, reason, read)
    if shown is None:
        return ConsentDeclined(at, "text_mismatch")
    if kind is LinkKind.BROWSER:
        if message.get("consent_sha256") != shown.sha256:
            return ConsentDeclined(at, "text_mismatch")
        return ConsentGiven(at, frozenset({Capability.VIEW}), shown)
    names = message.get("capabilities", [])
    granted = frozenset(Capability(c) for c in names if isinstance(c, str))
    read = _reported(kind, message, shown, agent_name, offered, granted)
    if read is None:
        return ConsentDeclined(at, "text_mismatch")
    return ConsentGiven(at, granted, read)


def _reported(
    kind: LinkKind,
    message: dict[str, Any],
    shown: RenderedConsent,
    agent_name: str,
    offered: frozenset[Capability],
    granted: frozenset[Capability] | None = None,
) -> RenderedConsent | None:
    """The known text the customer's side says it showed, or None."""
    if kind is LinkKind.BROWSER:
        return shown if message.get("consent_sha256") == shown.sha256 else None
    if message.get("consent_version") != shown.version or not agent_name:
        return None
    return cited_text(
        shown.version,
        agent_name,
        offered,
        message.get("consent_sha256"),
        language=message.get("language"),
        granted=granted,
    )


@dataclass
class PointerGate:
    """The agent's pointer messages that go on to a browser: checked, and at most
    ``rate`` a second (a flood is cut, not queued)."""

    rate: int = POINTER_RATE

    def __post_init__(self) -> None:
        self._sent: deque[float] = deque()

    def admit(self, message: dict[str, Any], now: float) -> dict[str, Any] | None:
        """The pointer message to send for ``message`` at ``now`` (seconds), or None."""
        x, y = message.get("x"), message.get("y")
        if x is None or y is None:
            point: dict[str, Any] = {"type": "pointer", "x": None, "y": None, "down": False}
        elif _fraction(x) and _fraction(y):
            point = {"type": "pointer", "x": x, "y": y, "down": message.get("down") is True}
        else:
            return None
        while self._sent and now - self._sent[0] >= 1.0:
            self._sent.popleft()
        if len(self._sent) >= self.rate:
            return None
        self._sent.append(now)
        return point


def _fraction(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
