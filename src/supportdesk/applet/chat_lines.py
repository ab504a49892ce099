"""The chat as the customer's window keeps it: clean lines, own lines waiting to go out,
and a bounded history; no Tk, no I/O.

The agent's words are untrusted. :func:`clean_text` takes out what could do more than
show letters (control characters, bidirectional overrides that reorder what is read,
lone surrogates Tk cannot hold) before a line is kept. The window keeps the last
:data:`HISTORY_LINES` lines; the recording keeps them all.

A line the customer types is kept as *pending* ("wird gesendet …") until the relay
echoes it back: the relay sends every chat line, the customer's own included, to the
applet once it has recorded it (``server/relay/session_relay.py`` ``post_chat``). While
the link is away the link keeps the message and sends it when it is back, so the echo,
and with it the end of "pending", comes then.

:class:`LinkChat` carries the messages between the link's thread and the window's:
the link puts what it hears, the window takes it on its own poll (Tk stays in its
thread), and sends through the link's thread-safe ``request``.
"""

from __future__ import annotations

import itertools
import queue
import unicodedata
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

CHAT_MAX = 2000
"""The longest line the relay takes (``CHAT_MAX`` in ``server/relay/session_relay.py``,
which the program cannot import; a test keeps the two equal). Longer is refused here,
with a word to the customer, rather than cut short by the relay."""

HISTORY_LINES = 200
"""Lines the window keeps; older ones leave it (they are in the recording)."""

# Bidirectional embeddings, overrides and isolates (and the marks): they reorder how a
# line reads without being seen, e.g. to make a link look like another.
_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class Sender(Enum):
    AGENT = "agent"
    CUSTOMER = "customer"


def clean_text(text: object, *, newlines: bool = True) -> str:
    """``text`` with every control character, bidirectional control and lone surrogate
    taken out, ends stripped; line breaks kept (as ``\\n``) unless ``newlines`` is False,
    then they become spaces (a terminal line must stay one line)."""
    raw = str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    kept = []
    for char in raw:
        if char == "\n":
            kept.append("\n" if newlines else " ")
        elif char in _BIDI or unicodedata.category(char) in ("Cc", "Cs"):
            continue
        else:
            kept.append(char)
    return "".join(kept).strip()


def too_long(text: str) -> bool:
    """Whether ``text`` (cleaned) is longer than the relay takes."""
    return len(text) > CHAT_MAX


def local_time(at: object, now: Callable[[], datetime]) -> datetime:
    """When a line was said, on the customer's clock: the relay's ``at`` (ISO 8601 with
    its zone) in local time, or ``now()`` when it has none that can be read."""
    if isinstance(at, str):
        try:
            said = datetime.fromisoformat(at)
        except ValueError:
            said = None
        if said is not None and said.tzinfo is not None:
            return said.astimezone()
    return now()


_numbers = itertools.count(1)


@dataclass
class ChatLine:
    """One line of the conversation; ``name`` is the agent's ("" when the relay gave
    none), ``number`` tells lines apart for the window."""

    sender: Sender
    text: str
    at: datetime
    name: str = ""
    pending: bool = False
    number: int = field(default_factory=lambda: next(_numbers))


@dataclass
class Change:
    """What the window must redraw after a message: a new line, a line no longer
    pending, lines that left the history."""

    added: ChatLine | None = None
    confirmed: ChatLine | None = None
    dropped: list[ChatLine] = field(default_factory=list)


class ChatHistory:
    """The conversation in the window: the last ``limit`` lines, in order."""

    def __init__(
        self, limit: int = HISTORY_LINES, now: Callable[[], datetime] = lambda: datetime.now()
    ) -> None:
        self.limit = limit
        self.now = now
        self._lines: deque[ChatLine] = deque()

    def __iter__(self) -> Iterator[ChatLine]:
        return iter(self._lines)

    def __len__(self) -> int:
        return len(self._lines)

    def typed(self, text: str) -> Change:
        """The customer sent ``text`` (cleaned, not too long): a pending line."""
        return self._add(ChatLine(Sender.CUSTOMER, text, self.now(), pending=True))

    def heard(self, message: dict[str, Any]) -> Change:
        """A ``chat`` message from the relay: the agent's line, or the echo of the
        customer's own (which ends the oldest pending line with the same words)."""
        text = clean_text(message.get("text", ""))
        if not text:
            return Change()
        at = local_time(message.get("at"), self.now)
        if message.get("from") == Sender.CUSTOMER.value:
            for line in self._lines:
                if line.pending and line.text == text:
                    line.pending = False
                    return Change(confirmed=line)
            return self._add(ChatLine(Sender.CUSTOMER, text, at))
        name = clean_text(message.get("name") or "", newlines=False)
        return self._add(ChatLine(Sender.AGENT, text, at, name=name))

    def _add(self, line: ChatLine) -> Change:
        self._lines.append(line)
        dropped = []
        while len(self._lines) > self.limit:
            dropped.append(self._lines.popleft())
        return Change(added=line, dropped=dropped)


class LinkChat:
    """Chat between the link's thread and the window's: :meth:`put` from the link's
    ``on_event``, :meth:`take` and :meth:`send` from the window."""

    def __init__(self, request: Callable[[dict[str, Any]], None]) -> None:
        self._request = request
        self._heard: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()

    def put(self, message: dict[str, Any]) -> None:
        self._heard.put(message)

    def take(self) -> list[dict[str, Any]]:
        """Every message heard since the last call, in order."""
        taken = []
        while True:
            try:
                taken.append(self._heard.get_nowait())
            except queue.Empty:
                return taken

    def send(self, text: str) -> None:
        """Send the customer's line; the link keeps it while it is away."""
        self._request({"type": "chat", "text": text})
