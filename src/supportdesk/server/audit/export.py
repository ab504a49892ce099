"""Writing audit entries for download as CSV or JSON, a batch at a time as they are
read, so an export of the whole trail never sits in memory.

CSV is for a spreadsheet: UTF-8 with a byte-order mark and semicolons (what Excel
opens into columns on a German system), and every cell that a spreadsheet would read
as a formula (starting with = + - @, a tab or a carriage return) starts with an
apostrophe instead: actors, subjects and data carry text an outsider chose (a client
address header, a file name). JSON is for machines: an array of the entries exactly as
stored (``AuditEntry.to_dict``, so each entry's hash can be checked), each with the
readable names beside them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable
from datetime import tzinfo
from typing import Any

from supportdesk.domain.audit_chain import AuditEntry
from supportdesk.domain.utc import parse_utc
from supportdesk.i18n import N_
from supportdesk.server.audit.names import Actor, actor_kind_name, event_name

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FLUSH_ROWS = 200  # rows per chunk sent: small chunks, few writes
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}

CSV_HEADER = (
    N_("Sequence"),
    N_("Time (local)"),
    N_("Time (UTC, as stored)"),
    N_("Event"),
    N_("Event code"),
    N_("Actor"),
    N_("Actor kind"),
    N_("Actor as stored"),
    N_("Subject"),
    N_("Data"),
    N_("Previous hash"),
    N_("Hash"),
)


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class EntryView:
    """One entry as a reader sees it: local time to the second, named event and actor."""

    def __init__(self, entry: AuditEntry, zone: tzinfo, gettext: Callable[[str], str]) -> None:
        self.entry = entry
        moment = parse_utc(entry.timestamp).astimezone(zone)
        self.local_time = moment.strftime("%d.%m.%Y %H:%M:%S")
        self.local_iso = moment.isoformat(timespec="seconds")
        self.event_name = event_name(entry.event_type, gettext)
        actor = Actor.of(entry.actor)
        self.actor_kind = actor.kind
        self.actor_kind_name = actor_kind_name(actor.kind, gettext)
        self.actor_name = actor.name

    def csv_row(self) -> list[str]:
        e = self.entry
        data = json.dumps(e.data, ensure_ascii=False, sort_keys=True)
        cells = (
            e.sequence,
            self.local_time,
            e.timestamp,
            self.event_name,
            e.event_type,
            self.actor_name,
            self.actor_kind_name,
            e.actor,
            e.subject,
            data,
            e.prev_hash,
            e.hash,
        )
        return [csv_cell(cell) for cell in cells]

    def json_object(self) -> dict[str, Any]:
        return {
            **self.entry.to_dict(),
            "local_time": self.local_iso,
            "event_name": self.event_name,
            "actor_kind": self.actor_kind,
            "actor_name": self.actor_name,
        }


async def csv_chunks(
    entries: AsyncIterator[AuditEntry], zone: tzinfo, gettext: Callable[[str], str]
) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([gettext(title) for title in CSV_HEADER])
    rows = 0
    async for entry in entries:
        writer.writerow(EntryView(entry, zone, gettext).csv_row())
        rows += 1
        if rows % FLUSH_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


async def json_chunks(
    entries: AsyncIterator[AuditEntry], zone: tzinfo, gettext: Callable[[str], str]
) -> AsyncIterator[bytes]:
    parts: list[str] = ["["]
    rows = 0
    async for entry in entries:
        item = json.dumps(EntryView(entry, zone, gettext).json_object(), ensure_ascii=False)
        parts.append(("\n" if rows == 0 else ",\n") + item)
        rows += 1
        if rows % FLUSH_ROWS == 0:
            yield "".join(parts).encode("utf-8")
            parts = []
    parts.append("\n]\n")
    yield "".join(parts).encode("utf-8")


WRITERS = {"csv": csv_chunks, "json": json_chunks}
