"""A live session as plain JSON, so any node can read it and another can take it over.

The snapshot holds every field of a :class:`SupportSession` except the customer's
name (that travels sealed, beside it: ``secret_keys``), and what the customer's link
needs to be resumed on another node (:class:`LinkFacts`): the resume secret's digest,
never the secret, and when the link was last known alive. Pure: no I/O.

``restore_into`` refreshes an existing object in place, because the relay and the
console hold references to the one session object they serve.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import ConsentDecision, ConsentRecord, Language, RenderedConsent
from supportdesk.domain.consultation_number import ConsultationNumber
from supportdesk.domain.session_events import CustomerName, EndReason, SessionState
from supportdesk.domain.session_team import SessionTeam
from supportdesk.domain.support_session import SupportSession
from supportdesk.domain.utc import iso_utc, parse_utc
from supportdesk.domain.verification_code import VerificationCode

SNAPSHOT_VERSION = 1


class SnapshotInvalid(ValueError):
    """The stored snapshot cannot be read: of another version, or damaged."""


@dataclass(frozen=True)
class LinkFacts:
    """What a node taking a session over needs to know about the customer's link."""

    kind: str  # "applet" or "browser"
    language: str  # "de" or "en": the language the customer's side speaks
    secret_digest: str | None = None  # hex SHA-256 of the resume secret
    lost_since: datetime | None = None  # the link is away since then (None: connected)
    renewal_owed: bool = False  # consent must be asked again on return
    seen_at: datetime | None = None  # last known alive (refreshed while connected)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "language": self.language,
            "secret_digest": self.secret_digest,
            "lost_since": _iso(self.lost_since),
            "renewal_owed": self.renewal_owed,
            "seen_at": _iso(self.seen_at),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinkFacts:
        return cls(
            kind=str(data["kind"]),
            language=str(data["language"]),
            secret_digest=data.get("secret_digest"),
            lost_since=_time(data.get("lost_since")),
            renewal_owed=bool(data.get("renewal_owed", False)),
            seen_at=_time(data.get("seen_at")),
        )


def snapshot(session: SupportSession, link: LinkFacts | None = None) -> str:
    """The session (without the name) and its link facts as one JSON text."""
    shown, record = session.consent_shown, session.consent_record
    data = {
        "v": SNAPSHOT_VERSION,
        "number": str(session.consultation_number),
        "agent_id": session.agent_id,
        "verification_code": str(session.verification_code),
        "issued_at": iso_utc(session.issued_at),
        "key_expires_at": iso_utc(session.key_expires_at),
        "state": session.state.value,
        "granted": sorted(c.value for c in session.granted),
        "consent_shown": None
        if shown is None
        else {"version": shown.version, "language": shown.language.value, "text": shown.text},
        "consent_record": None
        if record is None
        else {
            "version": record.version,
            "language": record.language.value,
            "text_sha256": record.text_sha256,
            "capabilities": sorted(c.value for c in record.capabilities),
            "decision": record.decision.value,
            "at": iso_utc(record.at),
        },
        "end_reason": None if session.end_reason is None else session.end_reason.value,
        "last_event_at": _iso(session.last_event_at),
        "held_for": session.held_for,
        "team": session.team.to_dict(),
        "link": None if link is None else link.to_dict(),
    }
    return json.dumps(data, separators=(",", ":"), sort_keys=True)


def restore(text: str, name: CustomerName | None = None) -> tuple[SupportSession, LinkFacts | None]:
    """The session and link facts a snapshot holds; SnapshotInvalid if it cannot."""
    try:
        data = json.loads(text)
        if data.get("v") != SNAPSHOT_VERSION:
            raise SnapshotInvalid(f"snapshot version {data.get('v')!r} is not {SNAPSHOT_VERSION}")
        shown, record = data["consent_shown"], data["consent_record"]
        session = SupportSession(
            consultation_number=ConsultationNumber.parse(data["number"]),
            agent_id=str(data["agent_id"]),
            verification_code=VerificationCode.parse(data["verification_code"]),
            issued_at=parse_utc(data["issued_at"]),
            key_expires_at=parse_utc(data["key_expires_at"]),
            state=SessionState(data["state"]),
            granted=frozenset(Capability(c) for c in data["granted"]),
            consent_shown=None
            if shown is None
            else RenderedConsent(shown["version"], Language(shown["language"]), shown["text"]),
            consent_record=None
            if record is None
            else ConsentRecord(
                record["version"],
                Language(record["language"]),
                record["text_sha256"],
                frozenset(Capability(c) for c in record["capabilities"]),
                ConsentDecision(record["decision"]),
                parse_utc(record["at"]),
            ),
            end_reason=None if data["end_reason"] is None else EndReason(data["end_reason"]),
            last_event_at=_time(data["last_event_at"]),
            held_for=data["held_for"],
            # Snapshots written before hand-overs existed have no team: nobody helps.
            team=SessionTeam.from_dict(data.get("team")),
        )
        link = None if data["link"] is None else LinkFacts.from_dict(data["link"])
    except SnapshotInvalid:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotInvalid(f"unreadable session snapshot: {exc!r}") from exc
    if name is not None and not session.is_terminal:
        session._customer_name = name
    return session, link


def restore_into(target: SupportSession, fresh: SupportSession) -> None:
    """Make ``target`` equal to ``fresh``, keeping ``target``'s identity."""
    if target.consultation_number != fresh.consultation_number:
        raise ValueError("a snapshot of another session")
    for each in fields(SupportSession):
        setattr(target, each.name, getattr(fresh, each.name))


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else iso_utc(moment)


def _time(text: Any) -> datetime | None:
    return None if text is None else parse_utc(str(text))
