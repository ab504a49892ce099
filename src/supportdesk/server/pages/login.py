"""Signing agents in and out: password, then the TOTP second factor (or its enrolment).

Every failure gets the same answer, whether the account exists or not, and failures
are throttled per account and per client address.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from supportdesk import totp
from supportdesk.domain.agent_accounts import needs_second_factor
from supportdesk.domain.audit_chain import AuditRecord, pseudonymise
from supportdesk.domain.support_key import ClientBackoff
from supportdesk.passwords import verify_password
from supportdesk.server import csrf
from supportdesk.server.agent_auth import (
    LoginRequired,
    check_csrf,
    clear_login_cookie,
    cookie_name,
    current_login,
    new_session_id,
    set_login_cookie,
)
from supportdesk.server.client_address import client_address_of
from supportdesk.server.remote_support import normalise_address
from supportdesk.server.security_headers import served_over_https
from supportdesk.server.state import Desk, desk_of
from supportdesk.store.agents import AgentAccounts

router = APIRouter(prefix="/console", include_in_schema=False)
FormField = Annotated[str, Form()]

# A person mistyping gets five free tries; after that each failure doubles the wait.
LOGIN_BACKOFF = ClientBackoff(base=timedelta(seconds=2), cap=timedelta(minutes=15), free_failures=5)


def _client(request: Request, desk: Desk) -> str:
    address = client_address_of(request)
    return pseudonymise(
        normalise_address(address), desk.keys.pseudonym_key, purpose="client-address"
    )


async def _throttled(desk: Desk, keys: list[str], now: datetime) -> bool:
    for key in keys:
        count = await desk.counters.get(key)
        if not LOGIN_BACKOFF.may_attempt(count.failures, count.last_failure_at, now):
            return True
    return False


async def _fail(desk: Desk, keys: list[str], record: AuditRecord) -> None:
    for key in keys:
        await desk.counters.record_failure(key, record.at)
    await desk.audit.record(record)


@router.get("/login")
async def login_form(request: Request) -> Response:
    return desk_of(request).pages.render(request, "console/login.html", error=None, username="")


@router.post("/login")
async def login(
    request: Request,
    username: FormField = "",
    password: FormField = "",
    csrf_token: FormField = "",
) -> Response:
    desk = desk_of(request)
    now = desk.clock()
    name = username.strip().lower()[:64]
    if not csrf.csrf_valid(request, csrf_token):
        return desk.pages.render(
            request, "console/login.html", 400, error="csrf", username=username
        )
    client = _client(request, desk)
    keys = [f"login:account:{name}", f"login:client:{client}"]
    async with desk.sessions() as db:
        agent = await AgentAccounts(db).by_username(name)
    if await _throttled(desk, keys, now):
        # Still hash, so a throttled answer takes as long as any other.
        verify_password(None, password)
        ok = False
    else:
        ok = verify_password(agent.password_hash if agent else None, password)
    if not ok or agent is None or agent.disabled:
        await _fail(
            desk,
            keys,
            AuditRecord(
                now,
                "login.failed",
                f"client:{client}",
                agent.actor if agent else "unknown-account",
                {"stage": "password"},
            ),
        )
        return desk.pages.render(
            request, "console/login.html", 401, error="failed", username=username
        )
    await desk.counters.reset(*keys)
    second_factor_done = agent.totp_secret is None and not needs_second_factor(
        agent.role, desk.settings.security.agent_totp_required
    )
    session_id = new_session_id()
    async with desk.audit.work() as work:
        await AgentAccounts(work.session).start_login_session(
            agent.id, desk.keys.token_digest(session_id), second_factor_done, now
        )
        await work.record(
            AuditRecord(
                now,
                "login.password_ok" if not second_factor_done else "login.succeeded",
                agent.actor,
                agent.actor,
                {"client": client},
            )
        )
    target = "/console/" if second_factor_done else "/console/login/totp"
    response = RedirectResponse(target, status_code=303)
    set_login_cookie(request, response, session_id)
    return response


async def _pending(request: Request):  # type: ignore[no-untyped-def]
    desk = desk_of(request)
    signed_in = await current_login(request, desk.clock())
    if signed_in is None:
        raise LoginRequired()
    return signed_in


@router.get("/login/totp")
async def totp_form(request: Request) -> Response:
    desk = desk_of(request)
    signed_in = await _pending(request)
    if signed_in.login.second_factor_done:
        return RedirectResponse("/console/", status_code=303)
    enrolling = signed_in.agent.totp_secret is None
    context: dict[str, Any] = {"enrolling": enrolling, "error": None, "signed_in": signed_in}
    if enrolling:
        secret = request.cookies.get("sd_totp_enrol") or totp.new_secret()
        context.update(_enrolment(desk, signed_in.agent.username, secret))
        response = desk.pages.render(request, "console/totp.html", **context)
        response.set_cookie(
            "sd_totp_enrol",
            secret,
            httponly=True,
            samesite="strict",
            secure=served_over_https(request),
            path="/console/login/totp",
            max_age=600,
        )
        return response
    return desk.pages.render(request, "console/totp.html", **context)


def _enrolment(desk: Desk, username: str, secret: str) -> dict[str, object]:
    uri = totp.provisioning_uri(secret, username, desk.settings.portal.bank_name)
    return {"qr": totp.qr_svg_data_uri(uri), "secret": secret}


@router.post("/login/totp")
async def totp_submit(
    request: Request, code: FormField = "", csrf_token: FormField = ""
) -> Response:
    desk = desk_of(request)
    now = desk.clock()
    signed_in = await _pending(request)
    check_csrf(signed_in, csrf_token)
    agent = signed_in.agent
    enrolling = agent.totp_secret is None
    secret = agent.totp_secret or request.cookies.get("sd_totp_enrol", "")
    keys = [f"login:account:{agent.username}", f"login:client:{_client(request, desk)}"]
    if await _throttled(desk, keys, now) or not (secret and totp.verify_code(secret, code, now)):
        await _fail(
            desk,
            keys,
            AuditRecord(now, "login.failed", agent.actor, agent.actor, {"stage": "totp"}),
        )
        context: dict[str, Any] = {
            "enrolling": enrolling,
            "error": "failed",
            "signed_in": signed_in,
        }
        if enrolling and secret:
            context.update(_enrolment(desk, agent.username, secret))
        return desk.pages.render(request, "console/totp.html", 401, **context)
    await desk.counters.reset(*keys)
    digest = desk.keys.token_digest(request.cookies[cookie_name(request)])
    async with desk.audit.work() as work:
        accounts = AgentAccounts(work.session)
        records = [AuditRecord(now, "login.succeeded", agent.actor, agent.actor, {})]
        if enrolling:
            await accounts.set_totp_secret(agent.id, secret)
            records.insert(0, AuditRecord(now, "account.totp_enrolled", agent.actor, agent.actor))
        await accounts.touch_login_session(digest, now, second_factor_done=True)
        await work.record(*records)
    response = RedirectResponse("/console/", status_code=303)
    response.delete_cookie("sd_totp_enrol", path="/console/login/totp")
    return response


@router.post("/logout")
async def logout(request: Request, csrf_token: FormField = "") -> Response:
    desk = desk_of(request)
    now = desk.clock()
    signed_in = await current_login(request, now)
    response = RedirectResponse("/console/login", status_code=303)
    if signed_in is not None:
        check_csrf(signed_in, csrf_token)
        async with desk.audit.work() as work:
            await AgentAccounts(work.session).end_login_session(signed_in.login.id_digest)
            await work.record(
                AuditRecord(now, "logout", signed_in.agent.actor, signed_in.agent.actor)
            )
    clear_login_cookie(request, response)
    return response
