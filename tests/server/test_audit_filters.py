"""The audit page as an auditor reads it, on the real app and database (SQLite and
PostgreSQL): local time to the second, named events with the code beside them, the
actor once; filters by time, event, actor and consultation number as a link, paged;
CSV and JSON exports of what the filter selects, safe for a spreadsheet, streamed,
audited, and refused to a role without the audit permission."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from supportdesk.domain.agent_accounts import Role
from supportdesk.domain.audit_chain import AuditEntry, AuditRecord, verify
from supportdesk.server.audit import export as audit_export
from supportdesk.server.state import Desk, desk_of_app
from supportdesk.store.models import AuditEntryRow
from tests.server.console_client import add_agent, log_in, token_in

ROW = re.compile(r'<tr data-sequence="(\d+)">')
OLDER = re.compile(r'href="/console/audit\?([^"]*before=\d+)"')
NEWER = re.compile(r'href="/console/audit\?([^"]*after=\d+)"')
NUMBER = "BN-2026-4821-7730-8"
OTHER = "BN-2026-1111-2222-3"
# 30 November 2026, 09:00:05.123456 UTC: 10:00:05 in Berlin (winter time).
T0 = datetime(2026, 11, 30, 9, 0, 5, 123456, tzinfo=UTC)


async def auditor(app: FastAPI, client: httpx.AsyncClient, role: Role = Role.AUDITOR) -> Desk:
    desk = desk_of_app(app)
    await add_agent(desk, "rita", role)
    await log_in(client, desk, "rita")
    return desk


async def write(desk: Desk, *records: AuditRecord) -> list[AuditEntry]:
    async with desk.audit.work() as work:
        return await work.record(*records)


def sequences(page: httpx.Response) -> list[int]:
    return [int(n) for n in ROW.findall(page.text)]


async def a_day_of_work(desk: Desk) -> dict[str, int]:
    """Entries of one session (written with the doubled actor of before the fix),
    another session, a failed redemption and filler; their sequence numbers by name."""
    made = await write(
        desk,
        AuditRecord(T0, "support_key.issued", "agent:agent:bernd", NUMBER, {}),
        AuditRecord(T0 + timedelta(minutes=2), "support_key.redemption_failed",
                    "client:203.0.113.7", "-", {"reason": "wrong"}),
        AuditRecord(T0 + timedelta(minutes=3), "support_key.redeemed", "customer", NUMBER, {}),
        AuditRecord(T0 + timedelta(minutes=20), "session.ended", "agent:bernd", NUMBER, {}),
        AuditRecord(T0 + timedelta(hours=2), "support_key.issued", "agent:anna", OTHER, {}),
        AuditRecord(T0 + timedelta(days=1), "session.ended", "agent:anna", OTHER, {}),
    )  # fmt: skip
    names = ["issued", "refused", "redeemed", "ended", "other_issued", "other_ended"]
    return dict(zip(names, (e.sequence for e in made), strict=True))


async def test_local_time_named_events_and_the_actor_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk = await auditor(app, client)
    seq = await a_day_of_work(desk)
    page = await client.get("/console/audit")
    assert page.status_code == 200
    row = re.search(rf'<tr data-sequence="{seq["issued"]}">(.*?)</tr>', page.text, re.S)
    assert row
    cells = row.group(1)
    # Berlin time to the second; the stored UTC instant with microseconds in the title.
    assert ">30.11.2026 10:00:05</time>" in cells
    assert 'title="2026-11-30T09:00:05.123456Z"' in cells
    assert "<span data-event-name>Support-Schlüssel ausgegeben</span>" in cells
    assert '<code class="event-code" data-event-code>support_key.issued</code>' in cells
    # "agent:agent:bernd" as stored, read once: bernd, a staff member.
    actor = re.search(r'<td data-actor title="agent:agent:bernd">(.*?)</td>', cells)
    assert actor and re.sub(r"<[^>]+>", "", actor.group(1)) == "bernd (Mitarbeiter)"
    assert "agent:agent" not in re.sub(r'title="[^"]*"', "", page.text)
    refused = re.search(rf'<tr data-sequence="{seq["refused"]}">(.*?)</tr>', page.text, re.S)
    assert refused and "Support-Schlüssel abgewiesen" in refused.group(1)
    assert '203.0.113.7 <span class="actor-kind">(Adresse)</span>' in refused.group(1)
    client.cookies.set("sd_lang", "en")
    english = await client.get("/console/audit")
    client.cookies.delete("sd_lang")
    assert "<span data-event-name>Support key refused</span>" in english.text
    # The stored rows are untouched: the chain still verifies.
    assert (await desk.audit.verify()).ok


async def test_each_filter_and_their_combination_as_a_link(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk = await auditor(app, client)
    seq = await a_day_of_work(desk)

    async def shown(query: str) -> list[int]:
        page = await client.get(f"/console/audit?{query}")
        assert page.status_code == 200, query
        return [n for n in sequences(page) if n in seq.values()]

    session = [seq["ended"], seq["redeemed"], seq["issued"]]
    assert await shown(f"session={NUMBER}") == session
    assert await shown(f"session={NUMBER.lower()}") == session
    assert await shown("event=support_key.issued") == [seq["other_issued"], seq["issued"]]
    # "bernd" finds both stored forms of the agent; the address and "customer" too.
    assert await shown("actor=bernd") == [seq["ended"], seq["issued"]]
    assert await shown("actor=Bernd") == [seq["ended"], seq["issued"]]
    assert await shown("actor=203.0.113.7") == [seq["refused"]]
    assert await shown("actor=customer") == [seq["redeemed"]]
    # Local times: from 10:02 to 10:20 (Berlin) takes the minute it names in full.
    assert await shown("from=30.11.2026+10:02&to=30.11.2026+10:20") == [
        seq["ended"], seq["redeemed"], seq["refused"]
    ]  # fmt: skip
    assert await shown("from=2026-11-30T10:03&to=2026-11-30T10:19") == [seq["redeemed"]]
    assert await shown("from=2026-11-30T10:00:06") == [
        seq["other_ended"], seq["other_issued"], seq["ended"], seq["redeemed"], seq["refused"]
    ]  # fmt: skip
    # A day as the end: all of that day, nothing of the next.
    assert await shown("to=30.11.2026") == [
        seq["other_issued"], seq["ended"], seq["redeemed"], seq["refused"], seq["issued"]
    ]  # fmt: skip
    assert await shown(f"event=session.ended&actor=anna&session={OTHER}") == [seq["other_ended"]]
    assert await shown("event=session.ended&actor=customer") == []
    page = await client.get("/console/audit?actor=nobody")
    assert "Keine Einträge passen zu diesem Filter." in page.text
    # The form shows the filter again: the event selected, the values kept.
    page = await client.get(f"/console/audit?event=session.ended&session={NUMBER}&actor=bernd")
    assert '<option value="session.ended" selected>Sitzung beendet</option>' in page.text
    assert f'name="session" type="text" value="{NUMBER}"' in page.text
    assert 'href="/console/audit">Filter zurücksetzen</a>' in page.text
    # What cannot be read is said and left out, never a 500.
    odd = await client.get("/console/audit?from=31.02.2026&event=no.such&to=gestern")
    assert odd.status_code == 200
    assert "data-filter-errors" in odd.text and odd.text.count('aria-invalid="true"') == 3
    assert len(sequences(odd)) == len(sequences(await client.get("/console/audit")))


async def test_paging_keeps_the_filter(app: FastAPI, client: httpx.AsyncClient) -> None:
    desk = await auditor(app, client)
    # 250 entries of the session (pages of 100), interleaved with as many of another.
    records = []
    for i in range(500):
        subject = NUMBER if i % 2 == 0 else OTHER
        records.append(AuditRecord(T0 + timedelta(seconds=i), "session.chat", "system", subject))
    entries = await write(desk, *records)
    mine = [e.sequence for e in entries if e.subject == NUMBER][::-1]  # newest first
    first = await client.get(f"/console/audit?session={NUMBER}")
    assert sequences(first) == mine[:100]
    assert not NEWER.search(first.text)
    seen, page = list(sequences(first)), first
    while older := OLDER.search(page.text):
        link = older.group(1).replace("&amp;", "&")
        assert f"session={NUMBER}" in link
        page = await client.get(f"/console/audit?{link}")
        seen += sequences(page)
    assert seen == mine and len(seen) == 250
    newer = NEWER.search(page.text)
    assert newer and f"session={NUMBER}" in newer.group(1)
    back = await client.get(f"/console/audit?{newer.group(1).replace('&amp;', '&')}")
    assert sequences(back) == mine[100:200]


@pytest.fixture
def rows_loaded() -> Iterator[list[int]]:
    loaded: list[int] = []

    def count(row: AuditEntryRow, _context: object) -> None:
        loaded.append(row.sequence)

    event.listen(AuditEntryRow, "load", count)
    try:
        yield loaded
    finally:
        event.remove(AuditEntryRow, "load", count)


async def export(client: httpx.AsyncClient, kind: str, **filters: str) -> httpx.Response:
    page = await client.get("/console/audit")
    form = {"csrf_token": token_in(page), "format": kind, **filters}
    return await client.post("/console/audit/export", data=form)


async def test_csv_export_of_the_filter_safe_for_a_spreadsheet(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk = await auditor(app, client)
    seq = await a_day_of_work(desk)
    hostile = await write(
        desk,
        AuditRecord(T0 + timedelta(minutes=5), "session.file_transfer", "customer", NUMBER,
                    {"name": "=HYPERLINK(\"http://evil\")"}),
        AuditRecord(T0 + timedelta(minutes=6), "support_key.redemption_failed",
                    "client:=1+2", "@SUM(A1)", {"reason": "wrong"}),
        AuditRecord(T0 + timedelta(minutes=7), "login.failed", "client:-5", "+49 941", {}),
    )  # fmt: skip
    answer = await export(client, "csv", session=NUMBER)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="audit-trail-\d{8}-\d{6}\.csv"',
        answer.headers["content-disposition"],
    )
    assert answer.content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM for Excel
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:5] == ["Laufnummer", "Zeit (Ortszeit)", "Zeit (UTC, wie gespeichert)",
                           "Ereignis", "Ereigniscode"]  # fmt: skip
    body = rows[1:]
    assert [int(r[0]) for r in body] == [
        seq["issued"], seq["redeemed"], seq["ended"], hostile[0].sequence
    ]  # fmt: skip
    issued = body[0]
    assert issued[1:5] == [
        "30.11.2026 10:00:05", "2026-11-30T09:00:05.123456Z",
        "Support-Schlüssel ausgegeben", "support_key.issued",
    ]  # fmt: skip
    assert issued[5:8] == ["bernd", "Mitarbeiter", "agent:agent:bernd"]
    # The data column: JSON text, starting with "{", so kept as it is.
    assert body[3][9] == '{"name": "=HYPERLINK(\\"http://evil\\")"}'
    # Every cell that a spreadsheet would run starts with an apostrophe instead.
    everything = await export(client, "csv")
    cells = [c for r in csv.reader(io.StringIO(everything.text), delimiter=";") for c in r]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'@SUM(A1)" in cells and "'+49 941" in cells  # subjects
    assert "'=1+2" in cells and "'-5" in cells  # actors' names
    assert "client:=1+2" in cells  # the stored actor: not a formula, kept as it is
    # The export is in the trail, with its filter and how far it reached.
    last = [e async for e in desk.audit.entries()][-1]
    assert last.event_type == "audit.exported" and last.actor == "agent:rita"
    assert last.data["format"] == "csv" and last.data["filter"] == {}
    exported = [e async for e in desk.audit.entries() if e.event_type == "audit.exported"]
    assert exported[0].data["filter"] == {"subject": NUMBER}
    assert exported[0].data["up_to"] == hostile[-1].sequence


async def test_json_export_is_the_stored_entries_with_their_names(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk = await auditor(app, client)
    seq = await a_day_of_work(desk)
    answer = await export(client, "json", actor="bernd", event="support_key.issued")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    items: list[dict[str, Any]] = answer.json()
    assert [i["sequence"] for i in items] == [seq["issued"]]
    item = items[0]
    assert item["local_time"] == "2026-11-30T10:00:05+01:00"
    assert item["event_name"] == "Support-Schlüssel ausgegeben"
    assert (item["actor_kind"], item["actor_name"], item["actor"]) == (
        "agent", "bernd", "agent:agent:bernd"
    )  # fmt: skip
    # Each exported entry is as stored: its hash checks against its predecessor's.
    stored = [e async for e in desk.audit.entries()]
    entry = AuditEntry.from_dict({k: item[k] for k in stored[0].to_dict()})
    assert entry == stored[seq["issued"] - 1]
    assert entry.computed_hash() == entry.hash
    everything = (await export(client, "json")).json()
    as_stored = [AuditEntry.from_dict({k: i[k] for k in stored[0].to_dict()}) for i in everything]
    assert verify(as_stored).ok  # unfiltered, the export is the chain itself
    entries = [e async for e in desk.audit.entries() if e.event_type == "audit.exported"]
    assert entries[0].data == {
        "format": "json",
        "filter": {"actors": ["agent:bernd", "agent:agent:bernd", "cli:bernd", "client:bernd"],
                   "event_type": "support_key.issued"},
        "up_to": seq["other_ended"],
    }  # fmt: skip


async def test_a_large_export_streams_a_batch_at_a_time(
    app: FastAPI,
    client: httpx.AsyncClient,
    rows_loaded: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first chunk leaves the server before the trail is read: the export is not
    built in memory. Driven through the ASGI interface itself, which sees every chunk."""
    desk = await auditor(app, client)
    records = [
        AuditRecord(T0 + timedelta(seconds=i), "session.chat", "system", NUMBER, {"i": i})
        for i in range(3000)
    ]
    await write(desk, *records)
    monkeypatch.setattr(audit_export, "FLUSH_ROWS", 100)
    page = await client.get("/console/audit")
    form = f"csrf_token={token_in(page)}&format=csv".encode()
    cookies = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/console/audit/export", "raw_path": b"/console/audit/export",
        "query_string": b"", "root_path": "", "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"testserver"), (b"cookie", cookies.encode()),
                    (b"content-type", b"application/x-www-form-urlencoded"),
                    (b"content-length", str(len(form)).encode())],
    }  # fmt: skip
    sent = False
    chunks: list[tuple[int, int]] = []  # (bytes, rows read by then)
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": form, "more_body": False}
        await asyncio.Event().wait()  # the client stays: the response is read to its end
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif message["type"] == "http.response.body" and message.get("body"):
            chunks.append((len(message["body"]), len(rows_loaded)))

    rows_loaded.clear()
    await app(scope, receive, send)
    assert status == [200]
    assert len(chunks) >= 30  # 3000 rows, 100 a chunk
    assert chunks[0][1] < 1000, chunks[:3]  # the first chunk went out after one batch
    assert len(rows_loaded) >= 3000


async def test_an_agent_without_the_audit_permission_gets_403(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna")
    await log_in(client, desk, "anna")
    dashboard = await client.get("/console/")
    form = {"csrf_token": token_in(dashboard), "format": "csv"}
    assert (await client.post("/console/audit/export", data=form)).status_code == 403
    assert (await client.get("/console/audit?actor=anna")).status_code == 403
    assert not [e async for e in desk.audit.entries() if e.event_type == "audit.exported"]


async def test_an_admin_exports_too_and_a_stale_form_does_not(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk = await auditor(app, client, Role.ADMIN)
    assert (await export(client, "json")).status_code == 200
    refused = await client.post("/console/audit/export", data={"csrf_token": "x"})
    assert refused.status_code == 400
    exports = [e async for e in desk.audit.entries() if e.event_type == "audit.exported"]
    assert len(exports) == 1
