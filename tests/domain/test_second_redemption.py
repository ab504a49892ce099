"""The second redemption of a support key: the rule (``second_redemption``) and the
session's own move (``KeyRedeemedAgain``), with no I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from supportdesk.domain.audit_chain import pseudonymise
from supportdesk.domain.consent_texts import consent_text
from supportdesk.domain.consultation_number import ConsultationNumber
from supportdesk.domain.second_redemption import (
    RedeemedKeyFacts,
    SecondRedemptionRefusal,
    decide_second_redemption,
)
from supportdesk.domain.session_events import (
    ConsentRequested,
    CustomerName,
    IllegalTransition,
    KeyRedeemed,
    KeyRedeemedAgain,
    KeyRedeemedTooLate,
    SessionState,
    TimeWentBackwards,
)
from supportdesk.domain.support_session import SupportSession
from supportdesk.domain.verification_code import VerificationCode

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
KEY = b"p" * 32
NAME = "Erika Müller"
ERIKA = pseudonymise(NAME, KEY, purpose="customer-name")
CLIENT = pseudonymise("198.51.100.7", KEY, purpose="client-address")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


# Redeemed at 09:01 on the portal: the key lives until 09:10, the token until 09:06.
WAITING = RedeemedKeyFacts(
    state=SessionState.REDEEMED,
    key_expires_at=at(10),
    customer_pseudonym=ERIKA,
    join_token_unspent=True,
    join_token_expires_at=at(6),
)


def test_the_same_customer_may_redeem_again_while_the_session_waits() -> None:
    decision = decide_second_redemption(WAITING, ERIKA, at(2))
    assert decision.allowed and decision.refusal is None


@pytest.mark.parametrize(
    ("facts", "customer", "now", "refusal"),
    [
        # Another name: the key overheard by someone else is no use to them.
        (
            WAITING,
            pseudonymise("Max Mustermann", KEY, purpose="customer-name"),
            at(2),
            SecondRedemptionRefusal.OTHER_CUSTOMER,
        ),
        # The same letters in another role are not the same pseudonym.
        (
            WAITING,
            pseudonymise(NAME, KEY, purpose="client-address"),
            at(2),
            SecondRedemptionRefusal.OTHER_CUSTOMER,
        ),
        (
            replace(WAITING, customer_pseudonym=None),
            ERIKA,
            at(2),
            SecondRedemptionRefusal.OTHER_CUSTOMER,
        ),
        # A link spent the token: one link ever opens with the key.
        (
            replace(WAITING, join_token_unspent=False),
            ERIKA,
            at(2),
            SecondRedemptionRefusal.LINK_OPENED,
        ),
        # The session moved on.
        (
            replace(WAITING, state=SessionState.AWAITING_CONSENT, join_token_unspent=False),
            ERIKA,
            at(2),
            SecondRedemptionRefusal.NOT_WAITING,
        ),
        (
            replace(WAITING, state=SessionState.ENDED),
            ERIKA,
            at(2),
            SecondRedemptionRefusal.NOT_WAITING,
        ),
        (
            replace(WAITING, state=SessionState.EXPIRED),
            ERIKA,
            at(2),
            SecondRedemptionRefusal.NOT_WAITING,
        ),
        # The token ran out (the session is due to expire), or the key did.
        (WAITING, ERIKA, at(6), SecondRedemptionRefusal.TOKEN_EXPIRED),
        (
            replace(WAITING, join_token_expires_at=None),
            ERIKA,
            at(2),
            SecondRedemptionRefusal.TOKEN_EXPIRED,
        ),
        (
            replace(WAITING, join_token_expires_at=at(30)),
            ERIKA,
            at(10),
            SecondRedemptionRefusal.KEY_EXPIRED,
        ),
    ],
)
def test_everything_else_is_refused(
    facts: RedeemedKeyFacts,
    customer: str,
    now: datetime,
    refusal: SecondRedemptionRefusal,
) -> None:
    decision = decide_second_redemption(facts, customer, now)
    assert not decision.allowed
    assert decision.refusal is refusal


def test_the_last_instant_before_expiry_is_still_in_time() -> None:
    facts = replace(WAITING, join_token_expires_at=at(30))
    just_before = at(10) - timedelta(microseconds=1)
    assert decide_second_redemption(facts, ERIKA, just_before).allowed


def test_a_naive_now_is_refused_loudly() -> None:
    with pytest.raises(ValueError):
        decide_second_redemption(WAITING, ERIKA, datetime(2026, 11, 3, 9, 2))


# -- the session's move --------------------------------------------------------------


def redeemed_session() -> SupportSession:
    session, _ = SupportSession.issue(
        consultation_number=ConsultationNumber(2026, "48217730"),
        agent_id="anna",
        verification_code=VerificationCode("ACDEFH"),
        key_expires_at=at(10),
        now=T0,
    )
    session.apply(KeyRedeemed(at(1), CustomerName(NAME), CLIENT, ERIKA))
    return session


def test_the_session_stays_redeemed_keeps_the_name_and_audits_the_second_redemption() -> None:
    session = redeemed_session()
    (record,) = session.apply(KeyRedeemedAgain(at(2), CLIENT, ERIKA))
    assert session.state is SessionState.REDEEMED
    assert session.last_event_at == at(2)  # the waiting time starts again with the token
    name = session.customer_name
    assert name is not None and name.reveal() == NAME
    assert record.event_type == "support_key.redeemed"
    assert record.actor == "customer"
    assert record.data == {"client": CLIENT, "customer": ERIKA, "again": True}
    assert NAME not in repr(record)
    # And again: each replaces the token before it; only a link ends the waiting.
    session.apply(KeyRedeemedAgain(at(3), CLIENT, ERIKA))
    assert session.state is SessionState.REDEEMED


def test_the_session_refuses_it_after_the_key_expired() -> None:
    session = redeemed_session()
    with pytest.raises(KeyRedeemedTooLate):
        session.apply(KeyRedeemedAgain(at(10), CLIENT, ERIKA))
    assert session.state is SessionState.REDEEMED and session.last_event_at == at(1)


def test_the_session_refuses_it_once_the_link_asked_for_consent() -> None:
    session = redeemed_session()
    session.apply(ConsentRequested(at(2), consent_text().render("Anna Berger")))
    with pytest.raises(IllegalTransition):
        session.apply(KeyRedeemedAgain(at(3), CLIENT, ERIKA))


def test_time_must_not_go_backwards_for_it_either() -> None:
    session = redeemed_session()
    with pytest.raises(TimeWentBackwards):
        session.apply(KeyRedeemedAgain(at(0.5), CLIENT, ERIKA))
