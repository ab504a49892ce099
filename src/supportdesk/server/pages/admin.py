"""The admin page: agent accounts (the audit trail's page is pages/audit_trail.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from supportdesk.accounts import AccountAdmin
from supportdesk.domain.agent_accounts import InvalidAccount, Permission, Role
from supportdesk.server.agents.auth import SignedIn, check_csrf, require
from supportdesk.server.page_notes import drop_note, put_note, read_note
from supportdesk.server.pages.confirmation import confirmation
from supportdesk.server.state import desk_of

router = APIRouter(prefix="/console", include_in_schema=False)
FormField = Annotated[str, Form()]


def _admin(request: Request) -> AccountAdmin:
    """Account changes hashed in the node's pool; ended logins close their sockets."""
    desk = desk_of(request)

    async def logins_ended(agent_id: int) -> None:
        await desk.agent_sockets.ended(agent_id=agent_id)

    return AccountAdmin(desk.audit, desk.hashing, logins_ended)


@dataclass(frozen=True)
class AccountNotice:
    """What the agents list confirms after a change: shown once, then gone."""

    done: str  # "added" or "password-reset"
    username: str
    password: str


_NOTICE = ("agents_notice", "agents-notice", "/console/admin/agents")
NOTICE_MINUTES = 10  # long enough to hand it over; it is shown once in any case


async def _agents_page(
    request: Request,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    desk = desk_of(request)
    signed_in = await require(request, Permission.MANAGE_AGENTS)
    note = read_note(request, signed_in, _NOTICE, desk.clock())
    notice = AccountNotice(**note) if note is not None else None
    response = desk.pages.render(
        request,
        "console/agents.html",
        status_code,
        signed_in=signed_in,
        agents=await _admin(request).list(),
        roles=[r.value for r in Role],
        error=error,
        notice=notice,
    )
    # Read once: a reload of the list no longer shows the one-time password.
    drop_note(request, response, _NOTICE)
    return response


@router.get("/admin/agents")
async def agents(request: Request) -> Response:
    return await _agents_page(request)


@router.post("/admin/agents")
async def change_agents(
    request: Request,
    action: FormField = "",
    username: FormField = "",
    display_name: FormField = "",
    role: FormField = "agent",
    csrf_token: FormField = "",
    confirmed: FormField = "",
) -> Response:
    """Every change answers with a redirect to the list (post/redirect/get: a reload
    repeats nothing); a new one-time password waits for that list sealed in a cookie
    (page_notes.py), never in the URL. Locking an account and resetting a password ask
    first: each is a second POST with ``confirmed=yes`` from the confirmation page."""
    desk = desk_of(request)
    signed_in = await require(request, Permission.MANAGE_AGENTS)
    check_csrf(signed_in, csrf_token)
    admin = _admin(request)
    actor, now = signed_in.agent.actor, desk.clock()
    done = RedirectResponse("/console/admin/agents", status_code=303)

    def notice(kind: str, who: str, password: str) -> None:
        value = {"done": kind, "username": who, "password": password}
        until = now + timedelta(minutes=NOTICE_MINUTES)
        put_note(request, done, signed_in, _NOTICE, value, until, now)

    try:
        if action == "add":
            agent, password = await admin.add(username, display_name, Role(role), None, actor, now)
            notice("added", agent.username, password or "")
        elif action in ("disable", "enable"):
            if username.strip().lower() == signed_in.agent.username and action == "disable":
                raise InvalidAccount("you cannot disable your own account")
            if action == "disable" and confirmed != "yes":
                return _confirm_lock(request, signed_in, username.strip().lower())
            await admin.set_disabled(username, action == "disable", actor, now)
        elif action == "set-role":
            if username.strip().lower() == signed_in.agent.username:
                raise InvalidAccount("you cannot change your own role")
            await admin.set_role(username, Role(role), actor, now)
        elif action == "reset-password":
            if confirmed != "yes":
                return _confirm_reset(request, signed_in, username.strip().lower())
            password = await admin.reset_password(username, actor, now)
            notice("password-reset", username.strip().lower(), password)
        else:
            raise InvalidAccount("unknown action")
    except (InvalidAccount, ValueError) as exc:
        return await _agents_page(request, 422, error=str(exc))
    return done


def _confirm_lock(request: Request, signed_in: SignedIn, username: str) -> Response:
    gettext = desk_of(request).pages.gettext_for(request)
    return confirmation(
        request,
        signed_in,
        title=gettext("Lock the account %(user)s?") % {"user": username},
        question=gettext(
            "The account's logins end at once and it can no longer sign in"
            " until an administrator enables it again."
        ),
        action="/console/admin/agents",
        fields={"action": "disable", "username": username},
        yes=gettext("Yes, lock"),
        back="/console/admin/agents",
    )


def _confirm_reset(request: Request, signed_in: SignedIn, username: str) -> Response:
    gettext = desk_of(request).pages.gettext_for(request)
    return confirmation(
        request,
        signed_in,
        title=gettext("Reset the password of %(user)s?") % {"user": username},
        question=gettext(
            "The current password stops working at once, the account's logins end and"
            " its authenticator app is set up afresh at the next login. You get a"
            " one-time password to hand over in person."
        ),
        action="/console/admin/agents",
        fields={"action": "reset-password", "username": username},
        yes=gettext("Yes, reset the password"),
        back="/console/admin/agents",
    )
