"""How a session ends on the customer's side: the first reason stands, the end and receipt once.

A session can end here in five ways: the customer ends it, the relay ends it, the link
is lost for good, the relay breaks the protocol, or the customer declines a renewed
consent. Several of them can happen in any order (the customer presses "Sitzung
beenden" while the link is lost; the relay's "end" crosses the customer's). The first
reason stands, the window hears "end" once, and the receipt is written once with
whatever is known by then. Plain state and callbacks: no sockets, no event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from supportdesk.applet.link.keeper import CONNECTION_LOST
from supportdesk.applet.session_facts import SessionFacts

log = logging.getLogger(__name__)

__all__ = ["CONNECTION_LOST", "CUSTOMER", "PROTOCOL_ERROR", "SessionEnding"]

CUSTOMER = "customer"
PROTOCOL_ERROR = "error"
"""The end reason when the relay broke the link protocol ("because of an error")."""

SURVEY_TOKEN_MAX = 100


class SessionEnding:
    """The end of one session here: who ended it, and who has been told."""

    def __init__(
        self,
        facts: SessionFacts,
        *,
        tell: Callable[[str, dict[str, Any]], None],
        over: Callable[[SessionFacts], None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.facts = facts
        self._tell = tell  # the window's events: "end" goes out once
        self._over = over  # the receipt, once
        self._clock = clock
        self.by_customer = False
        """The customer ended the session (or declined its renewal): nothing to resume."""
        self.heard_relay = False
        """The relay's "end" arrived: over on both sides."""
        self._end_told = False
        self._over_told = False

    def customer_ends(self) -> bool:
        """The customer's "Sitzung beenden"; False if the customer had ended it already."""
        if self.by_customer:
            return False
        self.by_customer = True
        self._stand(CUSTOMER)
        return True

    def declined(self) -> None:
        """The customer said "Nein" to a renewed consent: the relay ends the session, and
        there is nothing to resume; the reason is the relay's, else the customer's."""
        self.by_customer = True

    def relay_ends(self, message: Mapping[str, Any]) -> None:
        """The relay's "end" (with its reason, and the exit survey's token if any)."""
        self.heard_relay = True
        if not self.by_customer:
            self.facts.end_reason = str(message.get("reason") or "ended")
        survey = message.get("survey")
        if isinstance(survey, str) and len(survey) <= SURVEY_TOKEN_MAX:
            self.facts.survey_token = survey
        self.facts.ended_at = self.facts.ended_at or self._clock()
        self._tell_end(dict(message))

    def lost_for_good(self) -> bool:
        """The link is gone and will not come back; False if the customer had ended
        already (the receipt says so)."""
        if self.by_customer:
            return False
        self.facts.end_reason = CONNECTION_LOST
        self.facts.ended_at = self.facts.ended_at or self._clock()
        self.tell_end(CONNECTION_LOST)
        return True

    def protocol_error(self) -> None:
        """The relay broke the link protocol: over here for good, unless it already was."""
        if self.facts.ended_at is None:
            self.facts.end_reason = PROTOCOL_ERROR
            self.facts.ended_at = self._clock()
        self.tell_end(self.facts.end_reason or PROTOCOL_ERROR)

    def nothing_to_resume(self) -> bool:
        """After a link closed: whether the session is over on both sides (the relay's
        "end", a declined consent) or here for good (connection lost, protocol error)."""
        declined = self.facts.consent is not None and self.facts.started_at is None
        over_here = self.facts.ended_at is not None and not self.by_customer
        return declined or over_here or self.heard_relay

    def finish(self) -> None:
        """The program is done with the session: whatever is missing is filled in, and
        the receipt is written if it was not yet."""
        self.facts.ended_at = self.facts.ended_at or self._clock()
        if not self.facts.end_reason:
            self.facts.end_reason = CUSTOMER if self.by_customer else CONNECTION_LOST
        self.tell_over()

    def tell_end(self, reason: str) -> None:
        self._tell_end({"type": "end", "reason": reason})

    def tell_over(self) -> None:
        if self._over_told:
            return
        self._over_told = True
        try:
            self._over(self.facts)
        except Exception:
            log.exception("could not finish the session's paperwork")

    def _stand(self, reason: str) -> None:
        self.facts.end_reason = self.facts.end_reason or reason
        self.facts.ended_at = self.facts.ended_at or self._clock()

    def _tell_end(self, message: dict[str, Any]) -> None:
        if not self._end_told:
            self._end_told = True
            self._tell("end", message)
