"""The customer's link of a consented session: lost, back within the grace, asked for
consent again after a long gap, and the resume secret."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from supportdesk.domain.consent import BROWSER_CONSENT_VERSION, Language
from supportdesk.domain.consent_texts import consent_text
from supportdesk.domain.customer_link import (
    LINK_TRANSITIONS,
    CustomerLink,
    LinkMove,
    LinkPhase,
    LinkPolicy,
    LinkStateError,
)

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
POLICY = LinkPolicy(grace=timedelta(seconds=120), reconsent_after=timedelta(seconds=30))


def link() -> CustomerLink:
    return CustomerLink("BN-2026-4821-7730-8", POLICY)


def test_a_short_gap_goes_on_without_asking_again() -> None:
    customer = link()
    [lost] = customer.lost(T0)
    assert lost.event_type == "session.link_lost" and not customer.crossing_allowed
    [back] = customer.restored(T0 + timedelta(seconds=10))
    assert back.data == {"gap_ms": 10_000, "consent_again": False}
    assert customer.phase is LinkPhase.CONNECTED and customer.crossing_allowed


def test_a_gap_past_the_reconsent_limit_asks_again_before_anything_crosses() -> None:
    customer = link()
    customer.lost(T0)
    [back] = customer.restored(T0 + timedelta(seconds=31))
    assert back.data["consent_again"] is True
    assert customer.phase is LinkPhase.RENEWING and not customer.crossing_allowed
    shown = consent_text(BROWSER_CONSENT_VERSION, Language.EN).render("Anna Berger")
    [renewed] = customer.renewed(T0 + timedelta(seconds=40), shown)
    assert renewed.event_type == "consent.renewed" and renewed.actor == "customer"
    assert renewed.data == {
        "consent_version": shown.version, "language": "en", "text_sha256": shown.sha256,
    }  # fmt: skip
    assert customer.crossing_allowed


def test_exactly_the_limit_is_still_a_short_gap() -> None:
    customer = link()
    customer.lost(T0)
    customer.restored(T0 + POLICY.reconsent_after)
    assert customer.phase is LinkPhase.CONNECTED


def test_the_grace_runs_out_only_while_lost() -> None:
    customer = link()
    assert not customer.grace_over(T0 + timedelta(hours=1))
    customer.lost(T0)
    assert not customer.grace_over(T0 + timedelta(seconds=119))
    assert customer.grace_over(T0 + timedelta(seconds=120))
    customer.restored(T0 + timedelta(seconds=119))
    assert not customer.grace_over(T0 + timedelta(seconds=500))


def test_a_link_lost_again_while_renewing_waits_again_and_still_asks() -> None:
    customer = link()
    customer.lost(T0)
    customer.restored(T0 + timedelta(seconds=60))
    customer.lost(T0 + timedelta(seconds=61))
    assert customer.phase is LinkPhase.LOST and customer.lost_since == T0 + timedelta(seconds=61)
    # Back after a short gap: the consent it was being asked for is still owed.
    [back] = customer.restored(T0 + timedelta(seconds=63))
    assert back.data["consent_again"] is True and customer.phase is LinkPhase.RENEWING
    customer.renewed(T0 + timedelta(seconds=64), consent_text().render("Anna"))
    customer.lost(T0 + timedelta(seconds=65))
    customer.restored(T0 + timedelta(seconds=66))
    assert customer.phase is LinkPhase.CONNECTED  # given again: nothing owed any more


@pytest.mark.parametrize("phase", list(LinkPhase))
@pytest.mark.parametrize("move", list(LinkMove))
def test_every_move_outside_the_table_raises(phase: LinkPhase, move: LinkMove) -> None:
    customer = link()
    customer.phase = phase
    customer.lost_since = T0
    shown = consent_text().render("Anna")
    act = {
        LinkMove.LOST: lambda: customer.lost(T0 + timedelta(seconds=1)),
        LinkMove.RESTORED: lambda: customer.restored(T0 + timedelta(seconds=1)),
        LinkMove.RENEWED: lambda: customer.renewed(T0 + timedelta(seconds=1), shown),
    }[move]
    if (phase, move) in LINK_TRANSITIONS:
        act()
    else:
        with pytest.raises(LinkStateError):
            act()
        assert customer.phase is phase


def test_the_resume_secret_works_until_a_new_one_is_issued() -> None:
    customer = link()
    assert not customer.may_resume("anything")
    first = customer.new_secret()
    assert len(first) >= 43 and customer.may_resume(first)
    assert not customer.may_resume(first[:-1]) and not customer.may_resume("")
    second = customer.new_secret()
    assert customer.may_resume(second) and not customer.may_resume(first)
    assert first not in repr(customer) and second not in repr(customer)
