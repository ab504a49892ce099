"""Storing and finding service requests, and the yearly reference-number sequence."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from supportdesk.domain.service_requests import (
    ReferenceNumber,
    RequestStatus,
    ServiceRequestDraft,
)
from supportdesk.store.models import Counter, ServiceRequestRow

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
