"""Service requests on both databases: reference numbers, secrets, concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from supportdesk.config import Settings
from supportdesk.domain.service_requests import (
    ContactKind,
    ReferenceNumber,
    RequestStatus,
    ServiceRequestDraft,
)
from supportdesk.store.database import create_engine, session_factory
from supportdesk.store.migrate import current_revision, head_revision
from supportdesk.store.service_requests import ServiceRequestStore

DRAFT = ServiceRequestDraft(
    "online-banking", "Meine VR-NetKey wird gesperrt angezeigt.", ContactKind.PHONE, "0941 123456"
)


async def test_migrations_reach_the_newest_revision(settings: Settings) -> None:
    engine = create_engine(settings.database.url)
    try:
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_references_run_per_year_and_secrets_unlock_the_status(settings: Settings) -> None:
    engine = create_engine(settings.database.url)
    store = ServiceRequestStore(session_factory(engine))
    try:
        first = await store.file(DRAFT, datetime(2026, 12, 31, 22, 0, tzinfo=UTC))
        second = await store.file(DRAFT, datetime(2026, 12, 31, 23, 0, tzinfo=UTC))
        next_year = await store.file(DRAFT, datetime(2027, 1, 1, 8, 0, tzinfo=UTC))
        assert [str(first.reference), str(second.reference), str(next_year.reference)] == [
            "SA-2026-000001",
            "SA-2026-000002",
            "SA-2027-000001",
        ]
        found = await store.look_up(first.reference, first.secret)
        assert found is not None
        assert found.status is RequestStatus.NEW
        assert found.topic == "online-banking"
        assert found.created_at == datetime(2026, 12, 31, 22, 0, tzinfo=UTC)
        # The secret is forgiving about case and dashes, strict about content.
        assert await store.look_up(first.reference, first.secret.lower().replace("-", ""))
        assert await store.look_up(first.reference, second.secret) is None
        assert await store.look_up(ReferenceNumber(2026, 999), first.secret) is None
    finally:
        await engine.dispose()


async def test_concurrent_filings_get_distinct_references(settings: Settings) -> None:
    engine = create_engine(settings.database.url)
    store = ServiceRequestStore(session_factory(engine))
    try:
        filed = await asyncio.gather(*(store.file(DRAFT) for _ in range(12)))
        references = {str(f.reference) for f in filed}
        assert len(references) == 12
        sequences = sorted(f.reference.sequence for f in filed)
        assert sequences == list(range(1, 13))
    finally:
        await engine.dispose()


async def test_secret_is_stored_only_as_a_digest(settings: Settings) -> None:
    from sqlalchemy import select

    from supportdesk.store.models import ServiceRequestRow

    engine = create_engine(settings.database.url)
    sessions = session_factory(engine)
    try:
        filed = await ServiceRequestStore(sessions).file(DRAFT)
        async with sessions() as session:
            row = await session.scalar(select(ServiceRequestRow))
        assert row is not None
        assert filed.secret not in row.secret_digest
        assert filed.secret.replace("-", "") not in row.secret_digest
    finally:
        await engine.dispose()
