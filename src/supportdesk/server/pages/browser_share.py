"""The customer's browser way in: the page that asks consent and shares the screen.

``POST /fernwartung/browser`` carries the one-time join token from ``join_ready`` (a
hidden field, never a URL) and the CSRF token. The token is checked without being
spent: the page's own script spends it when it opens the link (``/ws/browser``), so
the support program's way stays open until then. Any bad token gets the portal's plain
"no session" answer, exactly like a wrong support key.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from supportdesk.domain.consent import (
    BROWSER_CONSENT_VERSION,
    InvalidAgentName,
    Language,
    clean_agent_name,
)
from supportdesk.domain.consent_texts import consent_text
from supportdesk.domain.session_events import SessionState
from supportdesk.domain.support_session import SupportSession
from supportdesk.server import csrf
from supportdesk.server.rendering import language_of
from supportdesk.server.state import Desk, desk_of
from supportdesk.store.agents import AgentAccounts

router = APIRouter(include_in_schema=False)

FormField = Annotated[str, Form()]
LINK_PATH = "/ws/browser"


async def agent_name_of(desk: Desk, session: SupportSession) -> str:
    """The name the relay puts into its consent request: the agent's display name,
    else the user name (as ``server/app.py``'s session info does)."""
    username = session.agent_id.removeprefix("agent:")
    async with desk.sessions() as db:
        agent = await AgentAccounts(db).by_username(username)
    return agent.display_name if agent else username


def _no_session(request: Request) -> Response:
    # The same page, status and words as a wrong support key on /fernwartung/start.
    return desk_of(request).pages.render(
        request, "join.html", 404, values={}, errors={"support_key": "no_session"}
    )


@router.get("/fernwartung/browser")
async def browser_share_get(request: Request) -> Response:
    """The page exists only as the answer to the join form's POST; a reload or a
    language switch lands here and goes back to the start."""
    return RedirectResponse("/fernwartung/start", status_code=303)


@router.post("/fernwartung/browser", response_class=HTMLResponse)
async def browser_share(
    request: Request, join_token: FormField = "", csrf_token: FormField = ""
) -> Response:
    desk = desk_of(request)
    if not csrf.csrf_valid(request, csrf_token):
        return desk.pages.render(request, "join.html", 400, values={}, errors={"form": "csrf"})
    session = await desk.remote.peek_join_token(join_token.strip(), desk.clock())
    if session is None or session.state is not SessionState.REDEEMED:
        return _no_session(request)
    language = Language(language_of(request, desk.settings))
    try:
        agent_name = clean_agent_name(await agent_name_of(desk, session))
    except InvalidAgentName:
        return _no_session(request)
    shown = consent_text(BROWSER_CONSENT_VERSION, language).render(agent_name)
    return desk.pages.render(
        request,
        "browser_share.html",
        token=join_token.strip(),
        # The number in the query lets a load balancer send every socket of the
        # session to the node that serves it (deploy/haproxy.cfg).
        link_path=f"{LINK_PATH}?{urlencode({'session': str(session.consultation_number)})}",
        consultation_number=str(session.consultation_number),
        verification_code=str(session.verification_code),
        agent_name=agent_name,
        consent=shown,
        consent_paragraphs=shown.text.split("\n\n"),
        server_url=desk.settings.server.base_url,
    )
