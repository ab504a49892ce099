"""A session's chat in the audit trail: one summary entry, not one entry per line.

The words are in the encrypted recording (kind ``chat``); the trail says who chatted
how much and when, and carries a keyed digest of the lines, so an auditor who holds
the server key can check that the recording's chat is the one that was audited
without the trail letting anyone guess short answers ("ja"). The relay feeds every
line it recorded to :meth:`ChatTally.line` and asks for :meth:`ChatTally.summary`
when the session ends on this node or goes on elsewhere; a line that comes more than
``every`` after the tally began closes the tally first, so a node that dies loses
at most that much of the count (never a line: those are in the recording).

The digest is HMAC-SHA256 under the pseudonym key over
``"supportdesk/chat/v1\\0"`` followed by, per line in order,
``from \\0 at \\0 text \\n`` with the recording's own values (``from``, ``at``,
``text`` of its chat entry), truncated to 32 hex characters.

Pure: no clock, no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from supportdesk.domain.audit_chain import (
    MIN_PSEUDONYM_KEY_BYTES,
    PSEUDONYM_HEX_CHARS,
    AuditRecord,
    WeakPseudonymKey,
)
from supportdesk.domain.utc import iso_utc, require_utc

CHAT_EVENT = "session.chat"
DEFAULT_EVERY = timedelta(minutes=10)
_LABEL = b"supportdesk/chat/v1\x00"


class ChatTally:
    """Counts one session's chat lines per side (and which agents wrote) until the
    summary is taken."""

    def __init__(self, subject: str, key: bytes, every: timedelta = DEFAULT_EVERY) -> None:
        if len(key) < MIN_PSEUDONYM_KEY_BYTES:
            raise WeakPseudonymKey(f"the chat digest key needs {MIN_PSEUDONYM_KEY_BYTES} bytes")
        if every <= timedelta(0):
            raise ValueError("every must be positive")
        self.subject = subject
        self._key = key
        self.every = every
        self._start()

    def _start(self) -> None:
        self._lines: dict[str, int] = {}
        self._characters: dict[str, int] = {}
        self._writers: set[str] = set()
        self._first: datetime | None = None
        self._last: datetime | None = None
        self._digest = hmac.new(self._key, _LABEL, hashlib.sha256)

    @property
    def lines(self) -> int:
        """Lines counted since the last summary."""
        return sum(self._lines.values())

    def line(
        self, side: str, actor: str, text: str, at: datetime, at_text: str
    ) -> list[AuditRecord]:
        """Count a line the recording kept (``at_text``: its ``at`` as recorded). Returns
        the summary to write first if the tally ran longer than ``every``."""
        require_utc(at, "at")
        due = []
        if self._first is not None and at - self._first >= self.every:
            due = self.summary(at)
        if self._first is None:
            self._first = at
        self._last = at
        self._lines[side] = self._lines.get(side, 0) + 1
        self._characters[side] = self._characters.get(side, 0) + len(text)
        if actor.startswith("agent:"):
            self._writers.add(actor)
        self._digest.update(side.encode("utf-8") + b"\x00" + at_text.encode("utf-8") + b"\x00")
        self._digest.update(text.encode("utf-8") + b"\n")
        return due

    def summary(self, at: datetime) -> list[AuditRecord]:
        """The summary entry of the lines counted so far (none if there were none), and
        a fresh tally."""
        if self._first is None or self._last is None:
            return []
        record = AuditRecord(
            at,
            CHAT_EVENT,
            "system",
            self.subject,
            {
                "lines": dict(sorted(self._lines.items())),
                "characters": dict(sorted(self._characters.items())),
                "agents": sorted(self._writers),
                "from": iso_utc(self._first),
                "until": iso_utc(self._last),
                "digest": self._digest.hexdigest()[:PSEUDONYM_HEX_CHARS],
            },
        )
        self._start()
        return [record]
