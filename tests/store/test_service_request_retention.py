"""Service requests' personal data has a retention period (finding 11): closed
requests are erased after ``portal.request_retention_days`` (90), by the server's daily
task and by ``supportdesk service-requests purge``, on both databases; reference,
topic, dates and status stay, and the audit trail records how many, never what."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text

from supportdesk.config import Settings
from supportdesk.domain.service_requests import (
    ContactKind,
    IllegalStatusChange,
    RequestStatus,
    ServiceRequestDraft,
)
from supportdesk.server.app import create_app
from supportdesk.server.state import desk_of_app
from supportdesk.store.audit_log import AuditLog
from supportdesk.store.database import create_engine, session_factory
from supportdesk.store.migrate import upgrade
from supportdesk.store.models import ServiceRequestNoteRow, ServiceRequestRow
from supportdesk.store.service_requests import (
    RequestQueue,
    ServiceRequestStore,
    purge_closed_requests,
)
from tests.conftest import FixedClock
from tests.server.console_client import add_agent, console_token, log_in
from tests.test_cli import run_cli

PHONE = "0941 987654"
QUESTION = "Herr Maier kommt nicht mehr ins Online-Banking."
NOTE = "Rückruf bei Herrn Maier, Handy 0171 555123"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RETENTION = timedelta(days=90)


def draft(contact: str = PHONE) -> ServiceRequestDraft:
    return ServiceRequestDraft("online-banking", QUESTION, ContactKind.PHONE, contact)


async def close(queue: RequestQueue, reference: str, now: datetime, *, note: bool = False) -> None:
    found = await queue.get(reference)
    assert found is not None
    if note:
        await queue.add_note(found, 1, NOTE, now)
    await queue.change_status(found, RequestStatus.DONE, now)


async def test_closed_requests_are_erased_after_the_retention_period(settings: Settings) -> None:
    engine = create_engine(settings.database.url)
    sessions = session_factory(engine)
    audit = AuditLog(sessions)
    store = ServiceRequestStore(sessions)
    try:
        from supportdesk.accounts import AccountAdmin
        from supportdesk.domain.agent_accounts import Role

        await AccountAdmin(audit).add("anna", "Anna", Role.AGENT, "x" * 16, "test", T0)
        closed = await store.file(draft(), T0)
        reopened = await store.file(draft("0941 111111"), T0)
        still_open = await store.file(draft("0941 222222"), T0)
        async with sessions.begin() as db:
            queue = RequestQueue(db)
            await close(queue, str(closed.reference), T0, note=True)
            await close(queue, str(reopened.reference), T0)
        async with sessions.begin() as db:
            queue = RequestQueue(db)
            found = await queue.get(str(reopened.reference))
            assert found is not None and found.closed_at == T0
            await queue.change_status(found, RequestStatus.IN_PROGRESS, T0 + timedelta(days=1))

        # One day short of the period: nothing.
        assert (
            await purge_closed_requests(audit, RETENTION, T0 + RETENTION - timedelta(days=1)) == 0
        )
        now = T0 + RETENTION
        assert await purge_closed_requests(audit, RETENTION, now) == 1

        async with sessions() as db:
            rows = {r.reference: r for r in await db.scalars(select(ServiceRequestRow))}
            notes = list(await db.scalars(select(ServiceRequestNoteRow)))
        gone = rows[str(closed.reference)]
        assert (gone.contact_value, gone.description) == ("", "")
        assert gone.purged_at is not None
        # What statistics need stays.
        assert (gone.topic, gone.status, gone.contact_kind) == ("online-banking", "done", "phone")
        assert gone.created_at.replace(tzinfo=UTC) == T0
        assert [n.text for n in notes] == [""]
        # The reopened and the open one keep everything.
        assert rows[str(reopened.reference)].contact_value == "0941 111111"
        assert rows[str(still_open.reference)].description == QUESTION
        # The customer's status look-up still answers.
        view = await store.look_up(closed.reference, closed.secret)
        assert view is not None and view.status is RequestStatus.DONE

        # Audited: how many and by which rule, no content.
        entries = [e async for e in audit.entries() if e.event_type == "service_request.purged"]
        assert len(entries) == 1
        assert entries[0].actor == "system:retention"
        assert entries[0].data == {
            "count": 1,
            "retention_days": 90,
            "closed_before": "2026-03-02T09:00:00.000000Z",
        }
        trail = json.dumps([e.to_dict() async for e in audit.entries()], ensure_ascii=False)
        assert PHONE not in trail and "Maier" not in trail and str(closed.reference) not in trail

        # Again (a second node at the same hour): nothing left, nothing written.
        assert await purge_closed_requests(audit, RETENTION, now + timedelta(minutes=1)) == 0
        assert (
            len([e async for e in audit.entries() if e.event_type == "service_request.purged"]) == 1
        )
        # A purged request stays closed.
        async with sessions.begin() as db:
            queue = RequestQueue(db)
            found = await queue.get(str(closed.reference))
            assert found is not None and found.purged_at is not None
            with pytest.raises(IllegalStatusChange):
                await queue.change_status(found, RequestStatus.IN_PROGRESS, now)
        assert (await audit.verify()).ok
    finally:
        await engine.dispose()


async def test_requests_done_before_the_migration_count_as_closed_at_their_last_change(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    settings = make_settings(database_url)
    engine = create_engine(settings.database.url)
    try:
        await upgrade(engine, "0005")
        async with engine.begin() as connection:
            for reference, status in (("SA-2026-000001", "done"), ("SA-2026-000002", "new")):
                await connection.execute(
                    text(
                        "INSERT INTO service_requests (reference, topic, description,"
                        " contact_kind, contact_value, status, secret_digest, created_at,"
                        " updated_at) VALUES (:r, 'online-banking', 'Frage', 'phone',"
                        " '0941 1', :s, 'x', :t, :t)"
                    ),
                    {"r": reference, "s": status, "t": T0},
                )
        await upgrade(engine)
        async with session_factory(engine)() as db:
            rows = {r.reference: r for r in await db.scalars(select(ServiceRequestRow))}
        assert rows["SA-2026-000001"].closed_at is not None
        assert rows["SA-2026-000001"].closed_at.replace(tzinfo=UTC) == T0
        assert rows["SA-2026-000002"].closed_at is None
        audit = AuditLog(session_factory(engine))
        assert await purge_closed_requests(audit, RETENTION, T0 + RETENTION) == 1
    finally:
        await engine.dispose()


async def test_the_servers_daily_task_purges_at_the_purge_hour(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    settings = make_settings(database_url, SUPPORTDESK_PORTAL_REQUEST_RETENTION_DAYS="30")
    engine = create_engine(settings.database.url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    # Just before 03:00 UTC (recording.purge_hour), 30 days after the request closed.
    clock = FixedClock(datetime(2026, 4, 1, 2, 59, 59, 900000, tzinfo=UTC))
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        desk = desk_of_app(application)
        filed = await desk.service_requests.file(draft(), T0)
        async with desk.sessions.begin() as db:
            await close(RequestQueue(db), str(filed.reference), clock.now - timedelta(days=30))
        for _ in range(100):
            await asyncio.sleep(0.05)
            purged = [
                e async for e in desk.audit.entries() if e.event_type == "service_request.purged"
            ]
            if purged:
                break
        assert purged and purged[0].data["count"] == 1 and purged[0].data["retention_days"] == 30
        async with desk.sessions() as db:
            found = await RequestQueue(db).get(str(filed.reference))
        assert found is not None and found.contact_value == "" and found.purged_at is not None
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/healthz")).status_code == 200


def test_the_cli_purges_and_is_audited(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0
    url = f"sqlite+aiosqlite:///{tmp_path}/var/supportdesk.db"
    long_ago = datetime.now(UTC) - timedelta(days=91)

    async def fill() -> None:
        engine = create_engine(url)
        try:
            sessions = session_factory(engine)
            filed = await ServiceRequestStore(sessions).file(draft(), long_ago)
            recent = await ServiceRequestStore(sessions).file(draft(), long_ago)
            async with sessions.begin() as db:
                await close(RequestQueue(db), str(filed.reference), long_ago)
                await close(RequestQueue(db), str(recent.reference), datetime.now(UTC))
        finally:
            await engine.dispose()

    asyncio.run(fill())
    result = run_cli(tmp_path, "service-requests", "purge", "--actor", "dsb")
    assert result.returncode == 0, result.stderr
    assert "1 service requests" in result.stdout
    trail = [json.loads(line) for line in run_cli(tmp_path, "audit", "export").stdout.splitlines()]
    purged = [e for e in trail if e["event_type"] == "service_request.purged"]
    assert [(e["actor"], e["data"]["count"]) for e in purged] == [("cli:dsb", 1)]


async def test_the_console_shows_a_purged_request_without_its_details(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna")
    filed = await desk.service_requests.file(draft(), T0)
    reference = str(filed.reference)
    async with desk.sessions.begin() as db:
        await close(RequestQueue(db), reference, T0)
    assert await purge_closed_requests(desk.audit, RETENTION, T0 + RETENTION) == 1
    await log_in(client, desk, "anna")
    page = await client.get(f"/console/requests/{reference}")
    assert page.status_code == 200 and "data-purged" in page.text
    assert PHONE not in page.text and QUESTION not in page.text
    answer = await client.post(
        f"/console/requests/{reference}",
        data={"action": "note", "note": NOTE, "csrf_token": await console_token(client)},
    )
    assert answer.status_code == 303
    async with desk.sessions() as db:
        notes = list(await db.scalars(select(ServiceRequestNoteRow)))
    assert notes == []  # nothing more is written to it
