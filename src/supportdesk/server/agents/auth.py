"""Who is signed in to the console: the login-session cookie, timeouts, roles, CSRF.

Login sessions live in the database under a digest of the cookie's random id, so a
database reader cannot take one over, logout and disable end them at once, and any
node behind a balancer can check them.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import HTTPException, Request
from starlette.responses import Response

from supportdesk.domain.agent_accounts import Permission, may
from supportdesk.server.security_headers import served_over_https
from supportdesk.server.state import desk_of
from supportdesk.store.agents import Agent, AgentAccounts, LoginSession

# Writing last_seen on every request would turn every page view into a write.
TOUCH_EVERY = timedelta(minutes=1)


class LoginRequired(Exception):
    """Raised by handlers; the app turns it into a redirect to the login page."""

    def __init__(self, target: str = "/console/login") -> None:
        self.target = target


def cookie_name(request: Request) -> str:
    # By the configured public address, not the request: behind a TLS proxy requests
    # arrive as plain http, and the cookie must still be __Host- and Secure.
    return "__Host-sd_agent" if served_over_https(request) else "sd_agent"


def set_login_cookie(request: Request, response: Response, session_id: str) -> None:
    response.set_cookie(
        cookie_name(request),
        session_id,
        httponly=True,
        samesite="strict",
        secure=served_over_https(request),
        path="/",
    )


def clear_login_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(cookie_name(request), path="/")


def new_session_id() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


@dataclass(frozen=True)
class SignedIn:
    agent: Agent
    login: LoginSession

    def may(self, permission: Permission) -> bool:
        return may(self.agent.role, permission)


async def current_login(request: Request, now: datetime) -> SignedIn | None:
    """The agent behind this request's cookie, if the login is still valid."""
    cached = getattr(request.state, "signed_in", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    session_id = request.cookies.get(cookie_name(request))
    if not session_id:
        return None
    desk = desk_of(request)
    security = desk.settings.security
    digest = desk.keys.token_digest(session_id)
    async with desk.sessions.begin() as db:
        accounts = AgentAccounts(db)
        login = await accounts.login_session(digest)
        if login is None:
            return None
        agent = await accounts.by_id(login.agent_id)
        idle = now - login.last_seen_at > timedelta(minutes=security.login_idle_minutes)
        absolute = now - login.created_at > timedelta(hours=security.login_absolute_hours)
        if agent is None or agent.disabled or idle or absolute:
            await accounts.end_login_session(digest)
            return None
        if now - login.last_seen_at >= TOUCH_EVERY:
            await accounts.touch_login_session(digest, now)
    signed_in = SignedIn(agent, login)
    request.state.signed_in = signed_in
    return signed_in


async def require(request: Request, permission: Permission | None = None) -> SignedIn:
    """The signed-in agent with a completed second factor, or a redirect to log in."""
    desk = desk_of(request)
    signed_in = await current_login(request, desk.clock())
    if signed_in is None:
        raise LoginRequired()
    if not signed_in.login.second_factor_done:
        raise LoginRequired("/console/login/totp")
    if permission is not None and not signed_in.may(permission):
        raise HTTPException(403, "your role does not allow this")
    return signed_in


def check_csrf(signed_in: SignedIn, submitted: str) -> None:
    if not hmac.compare_digest(signed_in.login.csrf_token.encode(), submitted.encode()):
        raise HTTPException(400, "the form has expired; reload the page and try again")
