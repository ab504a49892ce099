"""What the relay's latest ``state`` message says about the session, as the applet keeps it.

The relay runs the session: who may control, whether a party paused it or the server
holds it (it cannot record), who is watching. The applet follows the latest word and
nothing else; this is that word, read once from a checked message
(``relay_messages.check_relay_message``) into plain fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from supportdesk.domain.capabilities import Capability

__all__ = ["RelayState"]


@dataclass(frozen=True)
class RelayState:
    """The session as the relay last described it (before its first word: nothing granted)."""

    capabilities: frozenset[str] = frozenset()
    state: str = ""
    paused: bool = False
    """Paused by a party, or held by the system."""
    held: bool = False
    """The server holds the session: it cannot record."""
    notice: str = ""
    """The server's words for why it holds the session, if any."""
    watchers: tuple[tuple[str, str], ...] = ()
    """(name, role) of everyone watching."""

    @property
    def control_allowed(self) -> bool:
        return Capability.CONTROL.value in self.capabilities

    @classmethod
    def of(cls, message: Mapping[str, Any]) -> RelayState:
        """The state a ``state`` message describes."""
        return cls(
            capabilities=frozenset(str(c) for c in message.get("capabilities", [])),
            state=str(message.get("state")),
            paused=bool(message.get("paused")),
            held=bool(message.get("held")),
            notice=str(message.get("notice") or ""),
            watchers=tuple(
                (str(w.get("name")), str(w.get("role")))
                for w in message.get("watchers", [])
                if isinstance(w, dict)
            ),
        )
