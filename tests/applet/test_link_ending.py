"""How a session ends on the customer's side, fed events as they can cross each other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from supportdesk.applet.link.ending import CUSTOMER, PROTOCOL_ERROR, SessionEnding
from supportdesk.applet.link.keeper import CONNECTION_LOST
from supportdesk.applet.session_facts import SessionFacts
from supportdesk.domain.consent import ConsentDecision, ConsentRecord, Language

START = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


class Ends:
    """A SessionEnding with a clock that moves a minute a reading, and what it told."""

    def __init__(self) -> None:
        self.told: list[dict[str, Any]] = []
        self.receipts: list[SessionFacts] = []
        self._minutes = 0
        self.facts = SessionFacts()
        self.ending = SessionEnding(
            self.facts, tell=self._tell, over=self.receipts.append, clock=self._now
        )

    def _now(self) -> datetime:
        self._minutes += 1
        return START + timedelta(minutes=self._minutes)

    def _tell(self, kind: str, message: dict[str, Any]) -> None:
        assert kind == "end"
        self.told.append(message)


def test_the_customer_ends_once_and_the_first_time_stands() -> None:
    ends = Ends()
    assert ends.ending.customer_ends()
    at = ends.facts.ended_at
    assert not ends.ending.customer_ends()  # a second press changes nothing
    assert (ends.facts.end_reason, ends.facts.ended_at) == (CUSTOMER, at)
    ends.ending.tell_end(CUSTOMER)
    ends.ending.tell_over()
    ends.ending.finish()
    assert ends.told == [{"type": "end", "reason": CUSTOMER}]
    assert ends.receipts == [ends.facts]


def test_the_relays_end_after_the_customers_keeps_the_customers_reason_and_takes_the_survey() -> (
    None
):
    ends = Ends()
    ends.ending.customer_ends()
    ends.ending.relay_ends({"type": "end", "reason": "agent", "survey": "s" * 100})
    assert ends.facts.end_reason == CUSTOMER
    assert ends.facts.survey_token == "s" * 100
    assert ends.ending.nothing_to_resume()


def test_the_relays_end_names_the_reason_and_an_oversized_survey_token_is_not_taken() -> None:
    ends = Ends()
    ends.ending.relay_ends({"type": "end", "reason": "agent", "survey": "s" * 101})
    assert ends.facts.end_reason == "agent" and ends.facts.survey_token is None
    assert ends.told == [{"type": "end", "reason": "agent", "survey": "s" * 101}]
    ends.ending.lost_for_good()  # the socket closes after the end: no second "end"
    assert len(ends.told) == 1


def test_a_link_lost_for_good_ends_with_connection_lost_unless_the_customer_ended() -> None:
    ends = Ends()
    assert not ends.ending.nothing_to_resume()  # a lost link is dialled again first
    assert ends.ending.lost_for_good()
    assert ends.facts.end_reason == CONNECTION_LOST and ends.ending.nothing_to_resume()

    ended = Ends()
    ended.ending.customer_ends()
    assert not ended.ending.lost_for_good()
    assert ended.facts.end_reason == CUSTOMER and ended.told == []


def test_a_protocol_error_after_an_end_keeps_that_end() -> None:
    ends = Ends()
    ends.ending.protocol_error()
    assert ends.facts.end_reason == PROTOCOL_ERROR
    ends.ending.relay_ends({"type": "end", "reason": "agent"})  # too late to change it
    assert len(ends.told) == 1

    lost = Ends()
    lost.ending.lost_for_good()
    at = lost.facts.ended_at
    lost.ending.protocol_error()
    assert (lost.facts.end_reason, lost.facts.ended_at) == (CONNECTION_LOST, at)


def test_a_declined_consent_has_nothing_to_resume() -> None:
    ends = Ends()
    ends.facts.consent = ConsentRecord(  # answered "Nein": the session never started
        "1", Language.DE, "0" * 64, frozenset(), ConsentDecision.DECLINED, START
    )
    assert ends.ending.nothing_to_resume()


@pytest.mark.parametrize("by_customer", [True, False])
def test_finish_fills_in_what_is_missing_and_writes_the_receipt_once(by_customer: bool) -> None:
    ends = Ends()
    if by_customer:
        ends.ending.declined()  # "Nein" to a renewal: the relay ends it, nothing to resume
    ends.ending.finish()
    ends.ending.finish()
    assert ends.facts.end_reason == (CUSTOMER if by_customer else CONNECTION_LOST)
    assert ends.facts.ended_at is not None and len(ends.receipts) == 1


def test_a_failing_receipt_does_not_end_the_program() -> None:
    facts = SessionFacts()

    def broken(_facts: SessionFacts) -> None:
        raise OSError("disk full")

    ending = SessionEnding(facts, tell=lambda kind, message: None, over=broken)
    ending.finish()  # logged, not raised
    ending.finish()
