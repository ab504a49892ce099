"""The auditor's view of the audit trail: pages of entries filtered by time, event,
actor and consultation number (a filtered view is a link), read by keyset on the
sequence number, never the whole chain; verifying the chain; exporting what the filter
selects as CSV or JSON, streamed, the export itself written to the trail first."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response, StreamingResponse

from supportdesk.domain.agent_accounts import Permission
from supportdesk.domain.audit_chain import AuditRecord, VerificationResult
from supportdesk.server.agents.auth import SignedIn, check_csrf, require
from supportdesk.server.audit.export import MEDIA_TYPES, WRITERS, EntryView
from supportdesk.server.audit.names import EVENT_NAMES
from supportdesk.server.audit.query import AuditQuery
from supportdesk.server.state import desk_of

router = APIRouter(prefix="/console", include_in_schema=False)
FormField = Annotated[str, Form()]

_MAX_SEQUENCE = 2**31 - 1  # the column is a 32-bit integer on PostgreSQL


def _sequence(request: Request, name: str) -> int | None:
    """A sequence number from the query; anything else (or out of range) is ignored."""
    value = request.query_params.get(name, "")
    if not value.isascii() or not value.isdigit() or len(value) > 10:
        return None
    number = int(value)
    return number if number <= _MAX_SEQUENCE else None


async def _page(
    request: Request,
    signed_in: SignedIn,
    query: AuditQuery,
    result: VerificationResult | None = None,
    paged: bool = True,
) -> Response:
    desk = desk_of(request)
    page = await desk.audit.page(
        desk.settings.audit.page_size,
        before=_sequence(request, "before") if paged else None,
        after=_sequence(request, "after") if paged else None,
        where=query.where,
    )
    gettext = desk.pages.gettext_for(request)
    events = sorted(
        ((code, gettext(name)) for code, name in EVENT_NAMES.items()), key=lambda e: e[1]
    )
    return desk.pages.render(
        request,
        "console/audit.html",
        signed_in=signed_in,
        page=page,
        rows=[EntryView(e, desk.settings.zone, gettext) for e in page.entries],
        query=query,
        events=events,
        result=result,
    )


@router.get("/audit")
async def audit_trail(request: Request) -> Response:
    """One page of the entries the filter selects, newest first (``?before=`` /
    ``?after=`` a sequence number, beside the filter's own fields)."""
    desk = desk_of(request)
    signed_in = await require(request, Permission.READ_AUDIT)
    query = AuditQuery.read(request.query_params, desk.settings.zone)
    return await _page(request, signed_in, query)


@router.post("/audit/verify")
async def verify_audit_trail(request: Request, csrf_token: FormField = "") -> Response:
    """Check the whole chain, a batch at a time with the hashing in a worker thread
    (``AuditLog.verify``), so the server answers everyone else meanwhile; audited."""
    desk = desk_of(request)
    signed_in = await require(request, Permission.READ_AUDIT)
    check_csrf(signed_in, csrf_token)
    result = await desk.audit.verify()
    await desk.audit.record(
        AuditRecord(
            desk.clock(), "audit.verified", signed_in.agent.actor, "audit", {"ok": result.ok}
        )
    )
    unfiltered = AuditQuery.read({}, desk.settings.zone)
    return await _page(request, signed_in, unfiltered, result, paged=False)


@router.post("/audit/export")
async def export_audit_trail(request: Request) -> Response:
    """The entries the filter (the page's, sent along as form fields) selects, oldest
    first, as a CSV or JSON download streamed a batch at a time. Auditors read
    everything, so the export is itself an entry, written before the first byte: with
    its filter, format and the newest entry it covers (entries added while it streams
    are not part of it)."""
    desk = desk_of(request)
    signed_in = await require(request, Permission.READ_AUDIT)
    form = await request.form()
    check_csrf(signed_in, str(form.get("csrf_token", "")))
    kind = str(form.get("format", ""))
    if kind not in WRITERS:
        kind = "csv"
    query = AuditQuery.read({k: str(v) for k, v in form.items()}, desk.settings.zone)
    up_to = await desk.audit.newest_sequence()
    now = desk.clock()
    data = {"format": kind, "filter": query.where.audit_data(), "up_to": up_to}
    await desk.audit.record(
        AuditRecord(now, "audit.exported", signed_in.agent.actor, "audit", data)
    )
    where = replace(query.where, up_to=up_to)
    chunks = WRITERS[kind](
        desk.audit.selected(where), desk.settings.zone, desk.pages.gettext_for(request)
    )
    stamp = now.astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        chunks,
        media_type=MEDIA_TYPES[kind],
        headers={
            "Content-Disposition": f'attachment; filename="audit-trail-{stamp}.{kind}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
