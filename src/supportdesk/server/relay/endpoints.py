"""The WebSocket endpoints of the relay and the console's live page.

Every socket authenticates on the upgrade: the applet with its join token in the
Authorization header, a customer's browser with it in a subprotocol (a browser cannot
set headers), the console's sockets with a one-time ticket. Browser sockets must come
from an allowed Origin.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import JSONResponse, Response

from supportdesk.domain.agent_accounts import Permission, may
from supportdesk.domain.consent import Language
from supportdesk.domain.session_events import LIVE_STATES, SessionState
from supportdesk.server.agents.auth import SignedIn, check_csrf
from supportdesk.server.agents.sockets import agent_for_socket, allowed_origins, while_signed_in
from supportdesk.server.cluster.hand_on import hand_on, handed_on, try_again_later
from supportdesk.server.relay.agent_side import serve_console, serve_rfb_viewer, serve_video_viewer
from supportdesk.server.relay.hub import Elsewhere, TryLater
from supportdesk.server.relay.link_rules import LinkKind
from supportdesk.server.relay.session_relay import SessionRelay
from supportdesk.server.relay.team_side import team_may_control
from supportdesk.server.session_handover import TEAM_REFUSALS, live_access, team_requests
from supportdesk.server.state import Desk, desk_of
from supportdesk.store.agents import Agent

router = APIRouter(include_in_schema=False)

VIEWER, CONTROL = "viewer", "control"
LINK_PROTOCOL = "supportdesk.link.v1"
"""The subprotocol a customer's browser offers, beside ``token.<join token>``."""


async def _refuse(socket: WebSocket, code: int, reason: str) -> None:
    # Closing before accept answers the upgrade with 403; the reason is for logs.
    await socket.close(code=code, reason=reason)


async def _relay_or_hand_on(socket: WebSocket, number: str) -> SessionRelay | None:
    """This node's relay of the session; or the socket is handed on to the node that
    serves it (None: it has been dealt with, or there is no such session)."""
    desk = desk_of(socket)
    try:
        found = await desk.relay.find(number) if number else None
    except TryLater:
        await try_again_later(socket)
        return None
    if isinstance(found, SessionRelay):
        return found
    if isinstance(found, Elsewhere) and not handed_on(socket):
        await hand_on(socket, found.url, desk.relay.node.id)
        return None
    if found is None:
        await _refuse(socket, 4404, "no such session")
    else:  # a handed-on socket that found no relay here: the holders changed meanwhile
        await try_again_later(socket)
    return None


@router.websocket("/ws/applet")
async def applet_link(socket: WebSocket) -> None:
    desk = desk_of(socket)
    origin = socket.headers.get("origin")
    # The applet is no browser and sends no Origin; a browser page may not pose as it.
    if origin is not None and origin not in allowed_origins(desk):
        await _refuse(socket, 4403, "origin not allowed")
        return
    scheme, _, credentials = socket.headers.get("authorization", "").partition(" ")
    if scheme == "Resume":
        number, _, secret = credentials.strip().partition(" ")
        await _resume(socket, LinkKind.APPLET, number, secret)
        return
    token = credentials.strip() if scheme == "Bearer" else ""
    # Which session, before the token is spent: on the node that serves it.
    peeked = await desk.remote.peek_join_token(token, desk.clock()) if token else None
    if peeked is None:
        await _refuse(socket, 4401, "invalid join token")
        return
    relay = await _relay_or_hand_on(socket, str(peeked.consultation_number))
    if relay is None:
        return
    session = await desk.remote.take_join_token(token, desk.clock())
    if session is None:
        await _refuse(socket, 4401, "invalid join token")
        return
    language = (
        Language.EN if socket.headers.get("accept-language", "de")[:2] == "en" else Language.DE
    )
    await socket.accept()
    await relay.run_applet(socket, language)


async def _resume(
    socket: WebSocket, kind: LinkKind, number: str, secret: str, subprotocol: str | None = None
) -> None:
    """A customer's side coming back with its resume secret (docs/relay-protocol.md),
    to this node or, handed on, to the one that serves the session."""
    try:
        found = await desk_of(socket).relay.find(number) if number and secret else None
    except TryLater:
        await try_again_later(socket)
        return
    if isinstance(found, Elsewhere) and not handed_on(socket):
        await hand_on(socket, found.url, desk_of(socket).relay.node.id)
        return
    relay = found if isinstance(found, SessionRelay) else None
    if relay is None or not secret or not relay.may_resume(kind, secret):
        # Unknown session, over, wrong or spent secret: one answer for all. A browser
        # cannot read a refused upgrade's status: it gets the socket, closed with 4401,
        # so the page stops trying at once instead of until the grace runs out.
        if kind is LinkKind.BROWSER:
            await socket.accept(subprotocol=subprotocol)
            await socket.close(code=4401, reason="cannot resume")
        else:
            await _refuse(socket, 4401, "cannot resume")
        return
    await socket.accept(subprotocol=subprotocol)
    await relay.run_applet(socket, relay.language, kind, resumed=True)


def _offered(socket: WebSocket) -> list[str]:
    return [p.strip() for p in socket.headers.get("sec-websocket-protocol", "").split(",")]


@router.websocket("/ws/browser")
async def browser_link(socket: WebSocket) -> None:
    """The customer's browser sharing its screen (docs/browser-share.md)."""
    desk = desk_of(socket)
    # Unlike the applet, a browser always sends Origin: only the bank's own pages may
    # open this link, so a foreign page holding a stolen token cannot.
    if socket.headers.get("origin") not in allowed_origins(desk):
        await _refuse(socket, 4403, "origin not allowed")
        return
    offered = _offered(socket)
    resume = next((p.removeprefix("resume.") for p in offered if p.startswith("resume.")), "")
    if LINK_PROTOCOL in offered and resume:
        number, _, secret = resume.partition(".")
        await _resume(socket, LinkKind.BROWSER, number, secret, LINK_PROTOCOL)
        return
    token = next((p.removeprefix("token.") for p in offered if p.startswith("token.")), "")
    if LINK_PROTOCOL not in offered or not token:
        await _refuse(socket, 4400, f"offer the {LINK_PROTOCOL} subprotocol and a token")
        return
    peeked = await desk.remote.peek_join_token(token, desk.clock())
    if peeked is None:
        await _refuse(socket, 4401, "invalid join token")
        return
    relay = await _relay_or_hand_on(socket, str(peeked.consultation_number))
    if relay is None:
        return
    session = await desk.remote.take_join_token(token, desk.clock())
    if session is None:
        await _refuse(socket, 4401, "invalid join token")
        return
    language = Language.EN if "lang.en" in offered else Language.DE
    await socket.accept(subprotocol=LINK_PROTOCOL)
    await relay.run_applet(socket, language, LinkKind.BROWSER)


@dataclass(frozen=True)
class AgentOnSession:
    """An agent's socket on a live session's relay, as its ticket allowed."""

    agent: Agent
    login: str  # the login it ends with
    relay: SessionRelay

    @property
    def view_only(self) -> bool:
        """Whether a viewer opened now carries no input (the team's say; the relay's
        gate asks again for every message)."""
        return not team_may_control(self.relay, self.agent.actor)

    def by_team(self, socket: WebSocket) -> None:
        """An agent here as owner or helper, not by a role that watches any session:
        the socket closes when the agent leaves the team."""
        if not may(self.agent.role, Permission.WATCH_SESSIONS):
            self.relay.team_sockets[socket] = self.agent.actor


async def _agent_on_session(socket: WebSocket, number: str, purpose: str) -> AgentOnSession | None:
    """The agent and this node's relay; the ticket is checked on the node that serves
    the session, so a socket handed on spends it there."""
    relay = await _relay_or_hand_on(socket, number)
    if relay is None:
        return None
    agent, login = await agent_for_socket(socket, number, purpose)
    if agent is None or login is None:
        await _refuse(socket, 4401, "not allowed")
        return None
    return AgentOnSession(agent, login, relay)


@router.websocket("/ws/viewer/{number}")
async def viewer_socket(socket: WebSocket, number: str) -> None:
    """noVNC on the support program's screen."""
    if (on := await _agent_on_session(socket, number, VIEWER)) is None:
        return
    await socket.accept(subprotocol="binary" if "binary" in _offered(socket) else None)
    agent = on.agent
    on.by_team(socket)
    try:
        async with while_signed_in(desk_of(socket), socket, on.login):
            await serve_rfb_viewer(
                on.relay, socket, agent.display_name, agent.role.value, on.view_only, agent.actor
            )
    finally:
        on.relay.team_sockets.pop(socket, None)


@router.websocket("/ws/video/{number}")
async def video_socket(socket: WebSocket, number: str) -> None:
    """An agent's or supervisor's view of a browser's shared screen."""
    if (on := await _agent_on_session(socket, number, VIEWER)) is None:
        return
    await socket.accept()
    agent = on.agent
    on.by_team(socket)
    try:
        async with while_signed_in(desk_of(socket), socket, on.login):
            await serve_video_viewer(
                on.relay, socket, agent.display_name, agent.role.value, on.view_only, agent.actor
            )
    finally:
        on.relay.team_sockets.pop(socket, None)


@router.websocket("/ws/control/{number}")
async def control_socket(socket: WebSocket, number: str) -> None:
    """The live page's state, chat and commands."""
    if (on := await _agent_on_session(socket, number, CONTROL)) is None:
        return
    desk, agent, login = desk_of(socket), on.agent, on.login
    await socket.accept()
    on.by_team(socket)
    try:
        async with while_signed_in(desk, socket, login):
            await serve_console(
                on.relay,
                socket,
                agent.display_name,
                agent.actor,
                supervisor=may(agent.role, Permission.SEE_ALL_LIVE_SESSIONS),
                mint_viewer_ticket=lambda: desk.tickets.issue(
                    agent.id, number, VIEWER, desk.clock(), login
                ),
                team_request=team_requests(desk, on.relay, socket, agent),
            )
    finally:
        on.relay.team_sockets.pop(socket, None)


async def _control_ticket(desk: Desk, signed_in: SignedIn, number: str) -> str:
    """A ticket for the live page's control socket, bound to this login."""
    return await desk.tickets.issue(
        signed_in.agent.id, number, CONTROL, desk.clock(), signed_in.login.id_digest
    )


@router.post("/console/sessions/{number}/control-ticket")
async def control_ticket(request: Request, number: str) -> Response:
    """A fresh control ticket for the live page whose control socket dropped, so it
    reconnects without a reload (CSRF token in ``X-CSRF-Token``)."""
    desk = desk_of(request)
    signed_in, _summary, _owner = await live_access(request, number)
    check_csrf(signed_in, request.headers.get("x-csrf-token", ""))
    session = await desk.remote.session(number)
    if session is None or session.is_terminal:
        return JSONResponse({"error": "the session is over"}, status_code=409)
    ticket = await _control_ticket(desk, signed_in, number)
    return JSONResponse({"url": f"/ws/control/{number}?ticket={ticket}"})


@router.get("/console/sessions/{number}/live")
async def live_page(request: Request, number: str) -> Response:
    desk = desk_of(request)
    signed_in, summary, owner = await live_access(request, number)
    session = await desk.remote.session(number)
    if session is None or session.state not in (
        *LIVE_STATES,
        SessionState.REDEEMED,
        SessionState.AWAITING_CONSENT,
    ):
        return desk.pages.render(
            request, "console/session_over.html", 409, signed_in=signed_in, summary=summary
        )
    ticket = await _control_ticket(desk, signed_in, number)
    return desk.pages.render(
        request,
        "console/live.html",
        signed_in=signed_in,
        summary=summary,
        control_ticket=ticket,
        view_only=not owner,
        clipboard_max=desk.settings.clipboard.max_text,
        team_refusals=TEAM_REFUSALS,
    )
