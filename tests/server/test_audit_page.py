"""The console's audit trail page: a page of entries, newest first, read by keyset on
the sequence number, never the whole chain; verifying the chain is a button whose
hashing runs in a worker thread, a batch at a time."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, text

from supportdesk.domain import audit_chain
from supportdesk.domain.agent_accounts import Role
from supportdesk.domain.audit_chain import AuditRecord, Tampering
from supportdesk.server.state import Desk, desk_of_app
from supportdesk.store import audit_log
from supportdesk.store.models import AuditEntryRow
from tests.server.console_client import add_agent, log_in, token_in

ROW = re.compile(r'<tr data-sequence="(\d+)">')
OLDER = re.compile(r'href="/console/audit\?before=(\d+)"')
NEWER = re.compile(r'href="/console/audit\?after=(\d+)"')
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def rows_loaded() -> Iterator[list[int]]:
    """Every audit row the ORM builds from a query, by sequence number."""
    loaded: list[int] = []

    def count(row: AuditEntryRow, _context: object) -> None:
        loaded.append(row.sequence)

    event.listen(AuditEntryRow, "load", count)
    try:
        yield loaded
    finally:
        event.remove(AuditEntryRow, "load", count)


async def fill(desk: Desk, n: int) -> None:
    records = [
        AuditRecord(T0 + timedelta(seconds=i), "test.filler", "system", f"n{i}", {"i": i})
        for i in range(n)
    ]
    async with desk.audit.work() as work:
        await work.record(*records)


async def auditor(app: FastAPI, client: httpx.AsyncClient) -> Desk:
    desk = desk_of_app(app)
    await add_agent(desk, "rita", Role.AUDITOR)
    await log_in(client, desk, "rita")
    return desk


async def test_a_page_shows_100_of_1000_entries_and_reads_only_those(
    app: FastAPI, client: httpx.AsyncClient, rows_loaded: list[int]
) -> None:
    desk = await auditor(app, client)
    await fill(desk, 1000)
    newest = max([e.sequence async for e in desk.audit.entries()])
    rows_loaded.clear()
    first = await client.get("/console/audit")
    assert first.status_code == 200
    shown = [int(n) for n in ROW.findall(first.text)]
    assert shown == list(range(newest, newest - 100, -1))  # newest first
    # The page read its 100 rows and one to know there are older ones: not the chain.
    assert len(rows_loaded) <= 101, len(rows_loaded)
    assert not NEWER.search(first.text)
    older = OLDER.search(first.text)
    assert older and int(older.group(1)) == shown[-1]
    assert "Ältere" in first.text

    rows_loaded.clear()
    second = await client.get(f"/console/audit?before={older.group(1)}")
    shown2 = [int(n) for n in ROW.findall(second.text)]
    assert shown2 == list(range(shown[-1] - 1, shown[-1] - 101, -1))
    assert len(rows_loaded) <= 101
    newer = NEWER.search(second.text)
    assert newer and int(newer.group(1)) == shown2[0] and "Neuere" in second.text
    back = await client.get(f"/console/audit?after={newer.group(1)}")
    assert [int(n) for n in ROW.findall(back.text)] == shown
    # The oldest page has no link further back.
    last = await client.get("/console/audit?before=51")
    assert [int(n) for n in ROW.findall(last.text)] == list(range(50, 0, -1))
    assert not OLDER.search(last.text) and NEWER.search(last.text)
    # Nonsense in the query is ignored: the newest page.
    for query in ("before=-5&after=x", "before=99999999999", "after=%C2%B2"):
        odd = await client.get(f"/console/audit?{query}")
        assert odd.status_code == 200, query
        assert [int(n) for n in ROW.findall(odd.text)] == shown, query


async def test_verifying_hashes_in_a_worker_thread_a_batch_at_a_time(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = await auditor(app, client)
    await fill(desk, 2500)
    threads: list[tuple[str, int]] = []

    def watched(entries: list[audit_chain.AuditEntry], **kwargs: object) -> object:
        threads.append((threading.current_thread().name, len(entries)))
        return audit_chain.verify(entries, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(audit_log, "verify", watched)
    page = await client.get("/console/audit")
    checked = await client.post("/console/audit/verify", data={"csrf_token": token_in(page)})
    assert 'data-verify="ok"' in checked.text
    main = threading.main_thread().name
    assert threads and all(name != main for name, _ in threads)
    assert max(size for _, size in threads) <= 1000  # one batch in memory, not the chain
    last = [e async for e in desk.audit.entries()][-1]
    assert last.event_type == "audit.verified" and last.actor == "agent:rita"


@pytest.mark.parametrize("sequence", [9, 10, 11, 20, 33])
async def test_batched_verification_finds_a_change_at_any_place(
    app: FastAPI, sequence: int
) -> None:
    desk = desk_of_app(app)
    await fill(desk, 35)
    assert (await desk.audit.verify(batch=10)).ok
    async with desk.audit.database.begin() as db:
        await db.execute(
            text("UPDATE audit_entries SET data = :d WHERE sequence = :s"),
            {"d": json.dumps({"i": -1}), "s": sequence},
        )
    result = await desk.audit.verify(batch=10)
    assert not result.ok and result.problem is Tampering.CHANGED
    assert result.sequence == sequence and result.position == sequence - 1
    assert result.entries_checked == sequence - 1


async def test_batched_verification_finds_a_removed_entry_at_a_batch_border(app: FastAPI) -> None:
    desk = desk_of_app(app)
    await fill(desk, 35)
    async with desk.audit.database.begin() as db:
        await db.execute(text("DELETE FROM audit_entries WHERE sequence = 21"))
    result = await desk.audit.verify(batch=10)
    assert not result.ok and result.problem is Tampering.REMOVED and result.sequence == 21
