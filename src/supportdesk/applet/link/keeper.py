"""Keeping the applet's link: heartbeats, the resume secret, back-off and the grace.

Pure, in the sans-I/O style: fed instants (seconds of a monotonic clock) and told what
happened, it answers what to do next; the link client (``client.py``) does the
I/O (docs/relay-protocol.md, "Staying connected").

- :class:`Heartbeat`: one link's clock — a heartbeat is due every second, and four
  seconds of silence from the relay mean the link is lost.
- :class:`Backoff`: exponential back-off with jitter between reconnect attempts, never
  more than two seconds, back to the start after a success.
- :class:`LinkKeeper`: the link's phase as a table of transitions, the resume secret
  (in memory only: never written, logged or shown) and the grace after a loss.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

HEARTBEAT_SECONDS = 1.0
LINK_TIMEOUT_SECONDS = 4.0  # session.link_timeout_seconds on the server
FIRST_BACKOFF_SECONDS = 0.1
MAX_BACKOFF_SECONDS = 2.0
DEFAULT_GRACE_SECONDS = 120.0  # until the relay says otherwise in its "resume"
CONNECTION_LOST = "connection_lost"  # the end reason, as the relay names it


class Backoff:
    """Delays between reconnect attempts: doubling from ``first`` up to ``ceiling``,
    each drawn from its upper half ("equal jitter"), so tries from many customers
    spread out and none waits longer than ``ceiling``."""

    def __init__(
        self,
        first: float = FIRST_BACKOFF_SECONDS,
        ceiling: float = MAX_BACKOFF_SECONDS,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if not 0 < first <= ceiling:
            raise ValueError("need 0 < first <= ceiling")
        self.first, self.ceiling = first, ceiling
        self._rand = rand
        self.tries = 0

    def next_delay(self) -> float:
        """The wait before the next attempt (and count that attempt)."""
        step = min(self.ceiling, self.first * 2.0 ** min(self.tries, 32))
        self.tries += 1
        return step * (0.5 + 0.5 * self._rand())

    def reset(self) -> None:
        """An attempt succeeded: the next loss starts from ``first`` again."""
        self.tries = 0


class Heartbeat:
    """One link's heartbeat clock: when to send the next heartbeat, and whether the
    relay has been silent too long. Anything heard from the relay counts."""

    def __init__(
        self,
        now: float,
        interval: float = HEARTBEAT_SECONDS,
        timeout: float = LINK_TIMEOUT_SECONDS,
    ) -> None:
        self.interval, self.timeout = interval, timeout
        self.last_heard = now
        self.last_sent = now - interval  # the first heartbeat is due at once

    def heard(self, now: float) -> None:
        """Something (a heartbeat or any other message) arrived from the relay."""
        self.last_heard = max(self.last_heard, now)

    def sent(self, now: float) -> None:
        """A heartbeat went out."""
        self.last_sent = now

    def send_due(self, now: float) -> bool:
        return now - self.last_sent >= self.interval

    def silent(self, now: float) -> bool:
        """Whether the relay has said nothing for the whole timeout: the link is lost."""
        return now - self.last_heard >= self.timeout

    def next_check(self, now: float) -> float:
        """Seconds until a heartbeat is due or the silence would reach the timeout."""
        due = self.last_sent + self.interval - now
        silence = self.last_heard + self.timeout - now
        return max(0.0, min(due, silence))


class LinkPhase(Enum):
    CONNECTED = "connected"
    LOST = "lost"  # reconnecting within the grace
    OVER = "over"  # nothing more to try


class LinkMove(Enum):
    LOST = "lost"
    CONNECTED = "connected"
    REFUSED = "refused"  # the relay refused the resume: wrong secret or session over
    GAVE_UP = "gave_up"  # no secret (before consent) or the grace ran out
    ENDED = "ended"  # the session ended (either side's word)


_P = LinkPhase
LINK_TRANSITIONS: MappingProxyType[tuple[LinkPhase, LinkMove], LinkPhase] = MappingProxyType(
    {
        (_P.CONNECTED, LinkMove.LOST): _P.LOST,
        (_P.CONNECTED, LinkMove.ENDED): _P.OVER,
        (_P.LOST, LinkMove.CONNECTED): _P.CONNECTED,
        (_P.LOST, LinkMove.REFUSED): _P.OVER,
        (_P.LOST, LinkMove.GAVE_UP): _P.OVER,
        (_P.LOST, LinkMove.ENDED): _P.OVER,
        (_P.OVER, LinkMove.ENDED): _P.OVER,
    }
)
"""(phase, move) -> the next phase; any other move is the shell's mistake."""


class LinkKeeperError(Exception):
    """A move the link's phase does not allow: the link client's mistake."""


@dataclass
class LinkKeeper:
    """The applet's link across drops: when to try again, with which secret, until when."""

    backoff: Backoff = field(default_factory=Backoff)
    phase: LinkPhase = LinkPhase.CONNECTED
    grace: float = DEFAULT_GRACE_SECONDS
    lost_since: float | None = None
    ending: bool = False  # the customer ended while the link was down: deliver "end"
    _secret: str | None = field(default=None, repr=False)

    @property
    def can_resume(self) -> bool:
        """Whether the relay has given a resume secret (it does once consent is given)."""
        return self._secret is not None

    def take_secret(self, secret: object, grace_seconds: object = None) -> None:
        """The relay's ``resume`` message: the new secret replaces (spends) the old one;
        a positive ``grace_seconds`` replaces the grace. Anything but a non-empty
        string is no secret."""
        if isinstance(secret, str) and secret:
            self._secret = secret
        if isinstance(grace_seconds, bool) or not isinstance(grace_seconds, int | float):
            return
        if grace_seconds > 0:
            self.grace = float(grace_seconds)

    def authorization(self, consultation_number: str) -> str:
        """The ``Authorization`` header of a resume: ``Resume <number> <secret>``."""
        if self._secret is None:
            raise LinkKeeperError("no resume secret yet")
        return f"Resume {consultation_number} {self._secret}"

    def lost(self, now: float) -> bool:
        """The link dropped. True: reconnect; False: it cannot be resumed (no secret
        before consent), the session is over."""
        self._move(LinkMove.LOST)
        self.lost_since = now
        if self._secret is None:
            self._move(LinkMove.GAVE_UP)
            return False
        return True

    def next_attempt(self, now: float) -> float | None:
        """Seconds to wait before the next attempt, or None once the grace is over
        (the keeper then gives up)."""
        if self.phase is not LinkPhase.LOST:
            raise LinkKeeperError(f"no attempt while {self.phase.value}")
        left = self.remaining(now)
        if left <= 0:
            self._move(LinkMove.GAVE_UP)
            return None
        return min(self.backoff.next_delay(), left)

    def remaining(self, now: float) -> float:
        """Seconds of the grace left (0 when not lost)."""
        if self.lost_since is None:
            return 0.0
        return self.grace - (now - self.lost_since)

    def connected(self, now: float) -> float:
        """An attempt got through: back to CONNECTED; returns the gap in seconds."""
        gap = now - (self.lost_since if self.lost_since is not None else now)
        self._move(LinkMove.CONNECTED)
        self.lost_since = None
        self.backoff.reset()
        return gap

    def refused(self) -> None:
        """The relay refused the resume (4401/4404): the session is over."""
        self._move(LinkMove.REFUSED)

    def ended(self) -> None:
        """The session ended (the relay's ``end``, or delivered the customer's)."""
        self._move(LinkMove.ENDED)
        self._secret = None

    def _move(self, move: LinkMove) -> None:
        target = LINK_TRANSITIONS.get((self.phase, move))
        if target is None:
            raise LinkKeeperError(f"{move.value} is not allowed while {self.phase.value}")
        self.phase = target
        if target is LinkPhase.OVER:
            self._secret = None  # spent: nothing to resume any more
