"""Storing and finding service requests, the yearly reference-number sequence, and
erasing the personal data of requests closed longer than the retention period."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from supportdesk.domain.service_requests import (
    ERASED,
    ReferenceNumber,
    RequestStatus,
    ServiceRequestDraft,
    check_status_change,
    closed_at_after,
    purge_cutoff,
)
from supportdesk.store.audit_log import AuditLog
from supportdesk.store.models import Counter, ServiceRequestNoteRow, ServiceRequestRow
from supportdesk.store.retention_purge import purge_audited, rows_changed

# Unambiguous when read aloud or copied by hand: no 0/O, 1/I/L.
_SECRET_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # noqa: S105 - an alphabet
SECRET_LENGTH = 12  # 31**12 ≈ 2**59 guesses


@dataclass(frozen=True)
class FiledRequest:
    """What the customer is told once: the reference and the secret for look-ups."""

    reference: ReferenceNumber
    secret: str


@dataclass(frozen=True)
class RequestStatusView:
    reference: str
    topic: str
    status: RequestStatus
    created_at: datetime
    updated_at: datetime


def new_secret() -> str:
    raw = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(SECRET_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, SECRET_LENGTH, 4))


def _normalise_secret(secret: str) -> str:
    return "".join(ch for ch in secret.upper() if ch.isalnum())


def secret_digest(secret: str) -> str:
    # The secret has ~59 bits of entropy, so a plain hash suffices; no slow KDF needed.
    return hashlib.sha256(_normalise_secret(secret).encode()).hexdigest()


async def _next_in_sequence(session: AsyncSession, name: str) -> int:
    result = await session.execute(
        update(Counter)
        .where(Counter.name == name)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    )
    value = result.scalar_one_or_none()
    if value is not None:
        return value
    try:
        async with session.begin_nested():
            session.add(Counter(name=name, value=1))
        return 1
    except IntegrityError:
        # Another transaction created the counter first; take the next number.
        return await _next_in_sequence(session, name)


class ServiceRequestStore:
    """Repository of service requests."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def file(self, draft: ServiceRequestDraft, now: datetime | None = None) -> FiledRequest:
        now = now or datetime.now(UTC)
        secret = new_secret()
        async with self._sessions.begin() as session:
            sequence = await _next_in_sequence(session, f"service_request:{now.year}")
            reference = ReferenceNumber(now.year, sequence)
            session.add(
                ServiceRequestRow(
                    reference=str(reference),
                    topic=draft.topic,
                    description=draft.description,
                    contact_kind=draft.contact_kind.value,
                    contact_value=draft.contact_value,
                    status=RequestStatus.NEW.value,
                    secret_digest=secret_digest(secret),
                    created_at=now,
                    updated_at=now,
                )
            )
        return FiledRequest(reference, secret)

    async def look_up(self, reference: ReferenceNumber, secret: str) -> RequestStatusView | None:
        """The request's status if reference and secret match; None for any mismatch."""
        async with self._sessions() as session:
            row = await session.scalar(
                select(ServiceRequestRow).where(ServiceRequestRow.reference == str(reference))
            )
        expected = row.secret_digest if row else secret_digest("no such request")
        if not hmac.compare_digest(expected, secret_digest(secret)) or row is None:
            return None
        return RequestStatusView(
            row.reference,
            row.topic,
            RequestStatus(row.status),
            _aware(row.created_at),
            _aware(row.updated_at),
        )


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class RequestNote:
    agent_id: int
    text: str
    created_at: datetime


@dataclass(frozen=True)
class QueuedRequest:
    """A request as agents see it in the console (with the contact detail)."""

    id: int
    reference: str
    topic: str
    description: str
    contact_kind: str
    contact_value: str
    status: RequestStatus
    assigned_agent_id: int | None
    created_at: datetime
    updated_at: datetime
    notes: tuple[RequestNote, ...] = ()
    closed_at: datetime | None = None
    purged_at: datetime | None = None

    @classmethod
    def of(cls, row: ServiceRequestRow, notes: tuple[RequestNote, ...] = ()) -> QueuedRequest:
        return cls(
            row.id,
            row.reference,
            row.topic,
            row.description,
            row.contact_kind,
            row.contact_value,
            RequestStatus(row.status),
            row.assigned_agent_id,
            _aware(row.created_at),
            _aware(row.updated_at),
            notes,
            _aware(row.closed_at) if row.closed_at else None,
            _aware(row.purged_at) if row.purged_at else None,
        )


class RequestQueue:
    """The agents' side of service requests, within a caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_requests(self, limit: int = 200) -> list[QueuedRequest]:
        rows = await self.session.scalars(
            select(ServiceRequestRow)
            .where(ServiceRequestRow.status != RequestStatus.DONE.value)
            .order_by(ServiceRequestRow.created_at)
            .limit(limit)
        )
        return [QueuedRequest.of(row) for row in rows]

    async def get(self, reference: str) -> QueuedRequest | None:
        row = await self.session.scalar(
            select(ServiceRequestRow).where(ServiceRequestRow.reference == reference)
        )
        if row is None:
            return None
        notes = await self.session.scalars(
            select(ServiceRequestNoteRow)
            .where(ServiceRequestNoteRow.request_id == row.id)
            .order_by(ServiceRequestNoteRow.id)
        )
        return QueuedRequest.of(
            row, tuple(RequestNote(n.agent_id, n.text, _aware(n.created_at)) for n in notes)
        )

    async def assign(self, request: QueuedRequest, agent_id: int, now: datetime) -> None:
        await self.session.execute(
            update(ServiceRequestRow)
            .where(ServiceRequestRow.id == request.id)
            .values(assigned_agent_id=agent_id, updated_at=now)
        )

    async def change_status(
        self, request: QueuedRequest, status: RequestStatus, now: datetime
    ) -> None:
        check_status_change(request.status, status, purged=request.purged_at is not None)
        await self.session.execute(
            update(ServiceRequestRow)
            .where(ServiceRequestRow.id == request.id)
            .where(ServiceRequestRow.status == request.status.value)
            .where(ServiceRequestRow.purged_at.is_(None))
            .values(status=status.value, updated_at=now, closed_at=closed_at_after(status, now))
        )

    async def add_note(
        self, request: QueuedRequest, agent_id: int, text: str, now: datetime
    ) -> None:
        self.session.add(
            ServiceRequestNoteRow(
                request_id=request.id, agent_id=agent_id, text=text, created_at=now
            )
        )


PURGE_ACTOR = "system:retention"


async def purge_closed_requests(
    audit: AuditLog, retention: timedelta, now: datetime, actor: str = PURGE_ACTOR
) -> int:
    """Erase the personal fields of every request closed at least ``retention`` ago
    and not purged yet (domain/service_requests.py says which), in one audited
    transaction; returns how many. The audit entry ``service_request.purged`` holds
    the count and the rule, no reference and no content. Idempotent: a second run (or
    a second node at the same hour) finds nothing left and writes nothing."""
    cutoff = purge_cutoff(now, retention)
    due = (
        select(ServiceRequestRow.id)
        .where(ServiceRequestRow.status == RequestStatus.DONE.value)
        .where(ServiceRequestRow.closed_at <= cutoff)
        .where(ServiceRequestRow.purged_at.is_(None))
    )

    async def erase(session: AsyncSession) -> int:
        if session.get_bind().dialect.name == "postgresql":
            # Lock the due rows so an agent's reopening waits for the purge (and then
            # finds it purged), never the other way round half-way.
            await session.execute(due.with_for_update())
        await session.execute(
            update(ServiceRequestNoteRow)
            .where(ServiceRequestNoteRow.request_id.in_(due))
            .values(text=ERASED)
        )
        result = await session.execute(
            update(ServiceRequestRow)
            .where(ServiceRequestRow.id.in_(due))
            .values(description=ERASED, contact_value=ERASED, purged_at=now)
            .execution_options(synchronize_session=False)
        )
        return rows_changed(result)

    return await purge_audited(
        audit,
        "service_request.purged",
        actor=actor,
        subject="service_requests",
        cutoff_key="closed_before",
        retention=retention,
        cutoff=cutoff,
        now=now,
        erase=erase,
    )
