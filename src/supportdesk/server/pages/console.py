"""The agents' console: new remote-support sessions, a session's pages, the request queue
(the dashboard is ``dashboard.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from supportdesk.domain.agent_accounts import Permission
from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.domain.service_requests import IllegalStatusChange, RequestStatus
from supportdesk.domain.session_events import EndReason, SessionState
from supportdesk.server.agents.auth import SignedIn, check_csrf, require
from supportdesk.server.page_notes import drop_note, put_note, read_note
from supportdesk.server.pages.confirmation import confirmation
from supportdesk.server.rendering import language_of
from supportdesk.server.state import desk_of
from supportdesk.store.agents import AgentAccounts
from supportdesk.store.service_requests import RequestQueue
from supportdesk.store.support_sessions import SessionSummary, SupportSessionRecords

router = APIRouter(prefix="/console", include_in_schema=False)
FormField = Annotated[str, Form()]
NOTE_MAX = 4000


@router.post("/sessions")
async def new_session(request: Request, csrf_token: FormField = "") -> Response:
    """Issue a key, then show it on its own page (post/redirect/get): a reload of that
    page shows the same key and never issues another."""
    desk = desk_of(request)
    signed_in = await require(request, Permission.RUN_SESSIONS)
    check_csrf(signed_in, csrf_token)
    now = desk.clock()
    issued = await desk.remote.issue(signed_in.agent, now)
    number = issued.consultation_number
    response = RedirectResponse(f"/console/sessions/{number}/key", status_code=303)
    shown = {
        "key": issued.key.grouped(),
        "verification_code": issued.verification_code,
        "expires_at": issued.expires_at.isoformat(),
    }
    put_note(request, response, signed_in, _key_note(number), shown, issued.expires_at, now)
    return response


def _key_note(number: str) -> tuple[str, str, str]:
    """The key page's note: cookie name, purpose (bound to the number), path."""
    path = f"/console/sessions/{number}/key"
    return "support_key", f"support-key/{number}", path


@router.get("/sessions/{number}/key")
async def issued_key(request: Request, number: str) -> Response:
    """The key just issued, for the login that issued it, while it can be redeemed;
    afterwards (or for anyone else) the session's page, which never shows a key."""
    desk = desk_of(request)
    signed_in, summary, own = await visible_session(
        request, number, Permission.SEE_ALL_LIVE_SESSIONS
    )
    shown = read_note(request, signed_in, _key_note(number), desk.clock())
    if not own or summary.state is not SessionState.ISSUED or shown is None:
        response = RedirectResponse(f"/console/sessions/{number}", status_code=303)
        drop_note(request, response, _key_note(number))
        return response
    return desk.pages.render(
        request,
        "console/session_issued.html",
        signed_in=signed_in,
        key_text=shown["key"],
        number=number,
        verification_code=shown["verification_code"],
        expires_at=datetime.fromisoformat(shown["expires_at"]),
        minutes=desk.settings.security.support_key_minutes,
    )


async def visible_session(
    request: Request, number: str, others_need: Permission
) -> tuple[SignedIn, SessionSummary, bool]:
    """The session, whether the signed-in agent owns it; another agent's session only
    for roles with ``others_need``. Anything else is a 404, so nobody learns which
    consultation numbers exist."""
    desk = desk_of(request)
    signed_in = await require(request)
    async with desk.sessions() as db:
        summary = await SupportSessionRecords(db).get(number)
    if summary is None:
        raise HTTPException(404)
    own = summary.agent_id == signed_in.agent.id
    if not own and not signed_in.may(others_need):
        raise HTTPException(404)
    return signed_in, summary, own


@router.get("/sessions/{number}")
async def session_detail(request: Request, number: str) -> Response:
    desk = desk_of(request)
    signed_in, summary, own = await visible_session(
        request, number, Permission.SEE_ALL_LIVE_SESSIONS
    )
    return desk.pages.render(
        request,
        "console/session.html",
        signed_in=signed_in,
        summary=summary,
        customer_name=await desk.remote.customer_name(number),
        may_end=own or signed_in.may(Permission.SEE_ALL_LIVE_SESSIONS),
    )


@router.post("/sessions/{number}/end")
async def end_session(
    request: Request, number: str, csrf_token: FormField = "", confirmed: FormField = ""
) -> Response:
    """Ending is final for the customer: the first POST asks (a page with "Yes, end" and
    "Cancel", no script needed), only the confirmed one ends."""
    desk = desk_of(request)
    signed_in = await require(request, Permission.RUN_SESSIONS)
    check_csrf(signed_in, csrf_token)
    async with desk.sessions() as db:
        summary = await SupportSessionRecords(db).get(number)
    if summary is None or (
        summary.agent_id != signed_in.agent.id
        and not signed_in.may(Permission.SEE_ALL_LIVE_SESSIONS)
    ):
        raise HTTPException(404)
    if confirmed != "yes":
        gettext = desk.pages.gettext_for(request)
        return confirmation(
            request,
            signed_in,
            title=gettext("End session %(number)s?") % {"number": number},
            question=gettext(
                "The customer's screen is no longer shared and the support program stops."
                " A new session needs a new support key."
            ),
            action=f"/console/sessions/{number}/end",
            yes=gettext("Yes, end the session"),
            back=f"/console/sessions/{number}",
        )
    await desk.remote.end(number, EndReason.AGENT, desk.clock())
    return RedirectResponse(f"/console/sessions/{number}", status_code=303)


@router.get("/requests/{reference}")
async def request_detail(request: Request, reference: str) -> Response:
    desk = desk_of(request)
    signed_in = await require(request, Permission.HANDLE_REQUESTS)
    language = language_of(request, desk.settings)
    async with desk.sessions() as db:
        found = await RequestQueue(db).get(reference)
        agents = {a.id: a for a in await AgentAccounts(db).all()}
    if found is None:
        raise HTTPException(404)
    line = desk.directory.get(found.topic)
    return desk.pages.render(
        request,
        "console/request.html",
        signed_in=signed_in,
        found=found,
        agents=agents,
        topic=line.name.in_language(language) if line else found.topic,
        statuses=[s.value for s in RequestStatus],
        error=request.query_params.get("error"),
    )


@router.post("/requests/{reference}")
async def update_request(
    request: Request,
    reference: str,
    action: FormField = "",
    status: FormField = "",
    note: FormField = "",
    csrf_token: FormField = "",
) -> Response:
    desk = desk_of(request)
    signed_in = await require(request, Permission.HANDLE_REQUESTS)
    check_csrf(signed_in, csrf_token)
    now = desk.clock()
    actor = signed_in.agent.actor
    target = f"/console/requests/{reference}"
    async with desk.audit.work() as work:
        queue = RequestQueue(work.session)
        found = await queue.get(reference)
        if found is None:
            raise HTTPException(404)
        if found.purged_at is not None:
            # Erased after its retention period: nothing more is written to it.
            return RedirectResponse(target, status_code=303)
        if action == "assign":
            await queue.assign(found, signed_in.agent.id, now)
            await work.record(AuditRecord(now, "service_request.assigned", actor, reference))
        elif action == "status":
            try:
                new = RequestStatus(status)
                await queue.change_status(found, new, now)
            except (ValueError, IllegalStatusChange):
                return RedirectResponse(f"{target}?error=status", status_code=303)
            await work.record(
                AuditRecord(
                    now,
                    "service_request.status_changed",
                    actor,
                    reference,
                    {"from": found.status.value, "to": new.value},
                )
            )
        elif action == "note":
            text = note.strip()
            if not text or len(text) > NOTE_MAX:
                return RedirectResponse(f"{target}?error=note", status_code=303)
            await queue.add_note(found, signed_in.agent.id, text, now)
            # The note itself may hold customer details: the trail records that one
            # was written, not what it says.
            await work.record(AuditRecord(now, "service_request.note_added", actor, reference))
        else:
            raise HTTPException(400, "unknown action")
    return RedirectResponse(target, status_code=303)
