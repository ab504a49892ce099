"""Signing agents in and out: password, then the TOTP second factor (or its enrolment).

Every failure gets the same answer, whether the account exists or not. Each attempt
is counted per account and per client address before it is evaluated
(``store/failure_counters.py``), so parallel attempts cannot slip past the throttle,
and a throttled attempt is refused before any password is hashed. Hashes run in the
node's bounded pool (``passwords.py``); when it is full the answer is "busy, try
again" (503) at once.
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
from supportdesk.passwords import HashingBusy
from supportdesk.server import csrf
from supportdesk.server.agents.auth import (
    LoginRequired,
    SignedIn,
    check_csrf,
    clear_login_cookie,
    current_login,
    new_session_id,
    set_login_cookie,
)
from supportdesk.server.client_address import client_address_of
from supportdesk.server.remote_support import normalise_address
from supportdesk.server.state import Desk, desk_of
from supportdesk.store.agents import AgentAccounts
from supportdesk.store.failure_counters import FailureCount

router = APIRouter(prefix="/console", include_in_schema=False)
FormField = Annotated[str, Form()]

# A person mistyping gets five free tries; after that each failure doubles the wait.
LOGIN_BACKOFF = ClientBackoff(base=timedelta(seconds=2), cap=timedelta(minutes=15), free_failures=5)


def _client(request: Request, desk: Desk) -> str:
    address = client_address_of(request)
    return pseudonymise(
        normalise_address(address), desk.keys.pseudonym_key, purpose="client-address"
    )


async def _reserve(desk: Desk, keys: list[str], now: datetime) -> bool:
    """Count this attempt against every key, if each still allows one (atomically)."""

    def allowed(count: FailureCount) -> bool:
        return LOGIN_BACKOFF.may_attempt(count.failures, count.last_failure_at, now)

    return await desk.counters.reserve(keys, now, allowed)


def _busy(request: Request, desk: Desk, username: str) -> Response:
    response = desk.pages.render(
        request, "console/login.html", 503, error="busy", username=username
    )
    response.headers["Retry-After"] = "5"
    return response


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
    agent, stage, ok = None, "throttled", False
    # Refused before hashing: the throttle's keys do not depend on whether the account
    # exists, so neither does this answer or its time.
    if await _reserve(desk, keys, now):
        try:
            with desk.hashing.slot():
                async with desk.sessions() as db:
                    agent = await AgentAccounts(db).by_username(name)
                stage = "password"
                # An unknown account is verified against a dummy hash: the same cost.
                ok = await desk.hashing.verify(agent.password_hash if agent else None, password)
        except HashingBusy:
            await desk.counters.release(keys)  # not evaluated: no try used up
            return _busy(request, desk, username)
    if not ok or agent is None or agent.disabled:
        await desk.audit.record(
            AuditRecord(
                now,
                "login.failed",
                f"client:{client}",
                agent.actor if agent else "unknown-account",
                {"stage": stage},
            )
        )
        return desk.pages.render(
            request, "console/login.html", 401, error="failed", username=username
        )
    await desk.counters.reset(*keys)
    relaxed = desk.settings.security.agents_without_totp
    second_factor_done = agent.totp_secret is None and not needs_second_factor(agent.role, relaxed)
    session_id = new_session_id()
    async with desk.audit.work() as work:
        await AgentAccounts(work.session).start_login_session(
            agent.id, desk.keys.token_digest(session_id), second_factor_done, now
        )
        data = {"client": client}
        if second_factor_done:
            data["second_factor"] = "relaxed: security.agents_without_totp"
        await work.record(
            AuditRecord(
                now,
                "login.password_ok" if not second_factor_done else "login.succeeded",
                agent.actor,
                agent.actor,
                data,
            )
        )
    target = "/console/" if second_factor_done else "/console/login/totp"
    response = RedirectResponse(target, status_code=303)
    set_login_cookie(request, response, session_id)
    return response


async def _pending(request: Request) -> SignedIn:
    desk = desk_of(request)
    signed_in = await current_login(request, desk.clock())
    if signed_in is None:
        raise LoginRequired()
    return signed_in


async def _enrolment_secret(desk: Desk, signed_in: SignedIn) -> str:
    """The secret this login enrols, chosen on the server and kept with the login."""
    if signed_in.login.totp_pending_secret:
        return signed_in.login.totp_pending_secret
    async with desk.sessions.begin() as db:
        return await AgentAccounts(db).set_pending_totp_secret(
            signed_in.login.id_digest, totp.new_secret()
        )


def _totp_page(
    request: Request,
    desk: Desk,
    signed_in: SignedIn,
    status_code: int = 200,
    error: str | None = None,
    secret: str | None = None,
) -> Response:
    context: dict[str, Any] = {
        "enrolling": secret is not None,
        "error": error,
        "signed_in": signed_in,
    }
    if secret is not None:
        uri = totp.provisioning_uri(
            secret, signed_in.agent.username, desk.settings.portal.bank_name
        )
        context.update(qr=totp.qr_svg_data_uri(uri), secret=secret)
    return desk.pages.render(request, "console/totp.html", status_code, **context)


@router.get("/login/totp")
async def totp_form(request: Request) -> Response:
    desk = desk_of(request)
    signed_in = await _pending(request)
    if signed_in.login.second_factor_done:
        return RedirectResponse("/console/", status_code=303)
    enrolling = signed_in.agent.totp_secret is None
    secret = await _enrolment_secret(desk, signed_in) if enrolling else None
    return _totp_page(request, desk, signed_in, secret=secret)


@router.post("/login/totp")
async def totp_submit(
    request: Request, code: FormField = "", csrf_token: FormField = ""
) -> Response:
    desk = desk_of(request)
    now = desk.clock()
    signed_in = await _pending(request)
    check_csrf(signed_in, csrf_token)
    if signed_in.login.second_factor_done:
        return RedirectResponse("/console/", status_code=303)
    agent = signed_in.agent
    enrolling = agent.totp_secret is None
    secret = agent.totp_secret or await _enrolment_secret(desk, signed_in)
    shown = secret if enrolling else None
    if totp.clean_code(code) is None:
        # Not six digits: cannot be right, so it is no attempt and costs no try.
        return _totp_page(request, desk, signed_in, 400, "malformed", shown)
    keys = [f"login:account:{agent.username}", f"login:client:{_client(request, desk)}"]
    reserved = await _reserve(desk, keys, now)
    step = totp.matching_step(secret, code, now) if reserved else None
    accepted = False
    if step is not None:
        async with desk.audit.work() as work:
            accounts = AgentAccounts(work.session)
            # One statement each: of two parallel logins with one code, one wins.
            if enrolling:
                accepted = await accounts.enrol_totp(agent.id, secret, step)
            else:
                accepted = await accounts.use_totp_step(agent.id, step)
            if accepted:
                records = [AuditRecord(now, "login.succeeded", agent.actor, agent.actor, {})]
                if enrolling:
                    records.insert(
                        0, AuditRecord(now, "account.totp_enrolled", agent.actor, agent.actor)
                    )
                await accounts.touch_login_session(
                    signed_in.login.id_digest, now, second_factor_done=True
                )
                await work.record(*records)
    if not accepted:
        reason = "throttled" if not reserved else "wrong" if step is None else "replayed"
        await desk.audit.record(
            AuditRecord(
                now, "login.failed", agent.actor, agent.actor, {"stage": "totp", "code": reason}
            )
        )
        return _totp_page(request, desk, signed_in, 401, "failed", shown)
    await desk.counters.reset(*keys)
    return RedirectResponse("/console/", status_code=303)


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
        # The login's sockets close before the answer: nothing sent on them after the
        # browser sees it takes effect.
        await desk.agent_sockets.ended(login=signed_in.login.id_digest)
    clear_login_cookie(request, response)
    return response
