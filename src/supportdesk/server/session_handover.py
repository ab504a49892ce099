"""Handing a live session to a colleague and inviting one to help, as the live page asks.

The session decides who may change the team and how (``domain/session_team.py``);
this module reads from the store what the domain needs to know of the chosen
colleague (the account active, signed in with both factors, not locked out by the
login throttle, of a role that runs sessions), applies the event in one audited
transaction (``RemoteSupport.apply``, which locks the session's row: parallel
requests are decided one after another), and lets the relay carry it out
(``relay/team_side.py``). A refused request is audited too, with why, and the
console is told.

It also offers the live page its colleagues: the accounts online now
(``agents/presence.py``) that could be chosen.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from starlette.websockets import WebSocket

from supportdesk.domain.agent_accounts import Permission, may
from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.domain.session_events import SessionError, TimeWentBackwards
from supportdesk.domain.session_team import (
    HandedOver,
    HelperInvited,
    HelperLeft,
    NotAllowed,
    StaleHandOver,
    TargetRefusal,
    TeamError,
    TeamEvent,
    check_target,
)
from supportdesk.i18n import N_
from supportdesk.server.agents.auth import SignedIn, require
from supportdesk.server.pages.login import LOGIN_BACKOFF
from supportdesk.server.relay.agent_side import TeamRequest
from supportdesk.server.relay.session_relay import SessionRelay
from supportdesk.server.relay.team_side import after_team_change
from supportdesk.server.state import Desk, desk_of
from supportdesk.store.agents import Agent, AgentAccounts
from supportdesk.store.support_sessions import SessionSummary, SupportSessionRecords

router = APIRouter(prefix="/console", include_in_schema=False)

REFUSED = "session.team_change_refused"
TEAM_REFUSALS: dict[str, str] = {
    "locked": N_("The colleague's account is locked for now."),
    "disabled": N_("The colleague's account is disabled."),
    "not_signed_in": N_("The colleague is not signed in."),
    "not_permitted": N_("The colleague's role does not run sessions."),
    "unknown": N_("There is no such account."),
    "stale": N_("Someone else handed the session over meanwhile."),
    "not_allowed": N_("Only the session's agent or a supervisor may do this."),
    "not_possible": N_("That is not possible in this session right now."),
}
"""The live page's words for why a team request was refused (``team_refused``)."""


async def live_access(request: Request, number: str) -> tuple[SignedIn, SessionSummary, bool]:
    """The live session for its owner, a helper, or a role that watches any session;
    whether the signed-in agent owns it. Anyone else gets a 404."""
    desk = desk_of(request)
    signed_in = await require(request)
    async with desk.sessions() as db:
        summary = await SupportSessionRecords(db).get(number)
    session = await desk.remote.session(number) if summary else None
    if summary is None or session is None:
        raise HTTPException(404)
    actor = signed_in.agent.actor
    owner = session.agent_id == actor
    if not session.on_team(actor) and not signed_in.may(Permission.WATCH_SESSIONS):
        raise HTTPException(404)
    return signed_in, summary, owner


async def target_refusal(desk: Desk, agent: Agent, now: datetime) -> TargetRefusal | None:
    """Why ``agent`` cannot be handed a session or invited now; None if it can."""
    security = desk.settings.security
    async with desk.sessions() as db:
        signed_in = agent.id in await AgentAccounts(db).signed_in_agents(
            now - timedelta(hours=security.login_absolute_hours),
            now - timedelta(minutes=security.login_idle_minutes),
        )
    count = await desk.counters.get(f"login:account:{agent.username}")
    locked = not LOGIN_BACKOFF.may_attempt(count.failures, count.last_failure_at, now)
    return check_target(agent.role, disabled=agent.disabled, locked=locked, signed_in=signed_in)


@router.get("/sessions/{number}/colleagues")
async def colleagues(request: Request, number: str) -> Response:
    """The colleagues online who could take the session over or help: for the live
    page's dialog (JSON)."""
    desk = desk_of(request)
    signed_in, _summary, _owner = await live_access(request, number)
    session = await desk.remote.session(number)
    online = desk.presence.online() if desk.presence is not None else set()
    now = desk.clock()
    async with desk.sessions() as db:
        accounts = await AgentAccounts(db).all()
    found = []
    for agent in accounts:
        if agent.id not in online or agent.id == signed_in.agent.id:
            continue
        if session is None or agent.actor == session.agent_id:
            continue
        if await target_refusal(desk, agent, now) is None:
            helper = session.team.helper(agent.actor)
            found.append(
                {
                    "id": agent.id,
                    "name": agent.display_name,
                    "role": agent.role.value,
                    "helping": None
                    if helper is None
                    else ("control" if helper.control else "view"),
                }
            )
    return JSONResponse({"colleagues": found})


def team_requests(desk: Desk, relay: SessionRelay, socket: WebSocket, by: Agent) -> TeamRequest:
    """What carries out this console's team messages (``serve_console``)."""

    async def carry_out(message: dict[str, Any]) -> None:
        await _team_request(desk, relay, socket, by, message)

    return carry_out


async def _team_request(
    desk: Desk, relay: SessionRelay, socket: WebSocket, by: Agent, message: dict[str, Any]
) -> None:
    kind = message["type"]
    now = desk.clock()
    supervisor = may(by.role, Permission.SEE_ALL_LIVE_SESSIONS)
    session = relay.session
    before_owner, before = session.agent_id, session.team
    target: Agent | None = None
    event: TeamEvent
    if kind == "release_helper":
        event = HelperLeft(now, by.actor, supervisor, message["actor"])
    else:
        async with desk.sessions() as db:
            target = await AgentAccounts(db).by_id(message["agent"])
        if target is None:
            await _refused(desk, relay, socket, by, kind, "-", "unknown", now)
            return
        refusal = await target_refusal(desk, target, now)
        if refusal is not None:
            await _refused(desk, relay, socket, by, kind, target.actor, refusal.value, now)
            return
        if kind == "hand_over":
            event = HandedOver(
                now,
                by.actor,
                supervisor,
                from_owner=message["owner"],
                to=target.actor,
                to_name=target.display_name,
                from_name=relay.info.agent_name,
                previous_stays=bool(message.get("keep_watching", False)),
            )
        else:
            event = HelperInvited(
                now, by.actor, supervisor, target.actor, target.display_name,
                bool(message.get("control", False)),
            )  # fmt: skip
    owner_id = target.id if isinstance(event, HandedOver) and target is not None else None
    try:
        try:
            await desk.remote.apply(relay.number, event, owner_id=owner_id)
        except TimeWentBackwards:
            # A parallel request read the clock later but was applied first: the rules
            # decide this one at a time after that (a stale hand-over is "stale").
            event = replace(event, at=desk.clock())
            await desk.remote.apply(relay.number, event, owner_id=owner_id)
    except (TeamError, SessionError, KeyError) as exc:
        reason = (
            "stale"
            if isinstance(exc, StaleHandOver)
            else "not_allowed"
            if isinstance(exc, NotAllowed)
            else "not_possible"
        )
        who = target.actor if target is not None else str(message.get("actor", "-"))
        await _refused(desk, relay, socket, by, kind, who, reason, now)
        return
    names = {before_owner: relay.info.agent_name}
    await after_team_change(relay, before_owner, before, names)
    await _answer(socket, {"type": "team_done", "request": kind})


async def _refused(
    desk: Desk,
    relay: SessionRelay,
    socket: WebSocket,
    by: Agent,
    kind: str,
    target: str,
    reason: str,
    now: datetime,
) -> None:
    await desk.audit.record(
        AuditRecord(
            now,
            REFUSED,
            by.actor,
            relay.number,
            {"request": kind, "target": target, "reason": reason},
        )
    )
    await _answer(socket, {"type": "team_refused", "request": kind, "reason": reason})


async def _answer(socket: WebSocket, message: dict[str, Any]) -> None:
    try:
        await socket.send_json(message)
    except Exception:  # the console went away (its agent left the team): nothing to say
        return
