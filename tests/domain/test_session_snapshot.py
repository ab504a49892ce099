"""A session's snapshot: everything but the name, read back equal; the link's facts;
damaged or foreign snapshots refused; a refresh keeps the object's identity."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import Language
from supportdesk.domain.consent_texts import consent_text
from supportdesk.domain.consultation_number import ConsultationNumber
from supportdesk.domain.session_events import (
    ConsentGiven,
    ConsentRequested,
    CustomerName,
    KeyRedeemed,
    Paused,
)
from supportdesk.domain.session_snapshot import (
    LinkFacts,
    SnapshotInvalid,
    restore,
    restore_into,
    snapshot,
)
from supportdesk.domain.support_session import SupportSession
from supportdesk.domain.verification_code import VerificationCode

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _active() -> SupportSession:
    session, _ = SupportSession.issue(
        consultation_number=ConsultationNumber.generate(NOW),
        agent_id="agent:7",
        verification_code=VerificationCode.generate(),
        key_expires_at=NOW + timedelta(minutes=10),
        now=NOW,
    )
    session.apply(KeyRedeemed(NOW, CustomerName("Erika Mustermann"), "c1", "p1"))
    shown = consent_text(language=Language.EN).render("Anna Agent")
    session.apply(ConsentRequested(NOW + timedelta(seconds=1), shown))
    session.apply(ConsentGiven(NOW + timedelta(seconds=2), frozenset(Capability)))
    session.apply(Paused(NOW + timedelta(seconds=3)))
    return session


def test_a_snapshot_holds_everything_but_the_name() -> None:
    session = _active()
    text = snapshot(session)
    assert "Erika" not in text
    back, link = restore(text)
    assert link is None and back.customer_name is None
    back._customer_name = session.customer_name
    assert back == session


def test_the_name_comes_back_only_when_given_and_the_session_is_not_over() -> None:
    back, _ = restore(snapshot(_active()), CustomerName("Erika Mustermann"))
    assert back.customer_name == CustomerName("Erika Mustermann")


def test_link_facts_travel_with_the_session() -> None:
    facts = LinkFacts("browser", "en", "ab" * 32, NOW, True, NOW - timedelta(seconds=4))
    _, link = restore(snapshot(_active(), facts))
    assert link == facts


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.update(v=99),
        lambda d: d.update(state="levitating"),
        lambda d: d.pop("number"),
        lambda d: d.update(granted=["teleport"]),
        lambda d: d.update(issued_at="2026-12-06T09:00:00+01:00"),
    ],
)
def test_a_damaged_or_foreign_snapshot_is_refused(damage) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(snapshot(_active()))
    damage(data)
    with pytest.raises(SnapshotInvalid):
        restore(json.dumps(data))


def test_a_refresh_keeps_the_object_and_refuses_another_session() -> None:
    held = _active()
    fresh, _ = restore(snapshot(held))
    fresh.held_for = "disk full"
    restore_into(held, fresh)
    assert held.held_for == "disk full"
    with pytest.raises(ValueError):
        restore_into(_active(), fresh)


def test_a_link_taken_over_is_lost_and_resumes_with_the_customers_secret() -> None:
    from supportdesk.domain.customer_link import CustomerLink, LinkPhase, LinkPolicy

    first = CustomerLink("BN-1", LinkPolicy())
    secret = first.new_secret()
    assert first.secret_digest is not None
    taken = CustomerLink.taken_over("BN-1", LinkPolicy(), first.secret_digest, NOW, False)
    assert taken.phase is LinkPhase.LOST and not taken.crossing_allowed
    assert taken.may_resume(secret) and not taken.may_resume("guess")
    taken.restored(NOW + timedelta(seconds=10))
    assert taken.phase is LinkPhase.CONNECTED
    late = CustomerLink.taken_over("BN-1", LinkPolicy(), first.secret_digest, NOW, False)
    late.restored(NOW + timedelta(seconds=31))
    assert late.phase is LinkPhase.RENEWING  # past the re-consent limit: asked again
    owed = CustomerLink.taken_over("BN-1", LinkPolicy(), first.secret_digest, NOW, True)
    owed.restored(NOW + timedelta(seconds=1))
    assert owed.phase is LinkPhase.RENEWING
    assert owed.grace_over(NOW + timedelta(seconds=121)) is False  # not lost any more


def test_the_customers_name_is_sealed_to_its_session() -> None:
    from supportdesk.secret_keys import ServerKeys

    keys = ServerKeys.derive(b"s" * 32)
    sealed = keys.seal("Erika Mustermann", "BN-1")
    assert "Erika" not in sealed and keys.unseal(sealed, "BN-1") == "Erika Mustermann"
    assert keys.unseal(sealed, "BN-2") is None
    assert ServerKeys.derive(b"t" * 32).unseal(sealed, "BN-1") is None
    assert keys.unseal(sealed[:-4] + "AAAA", "BN-1") is None
    assert keys.unseal("not base64!", "BN-1") is None
