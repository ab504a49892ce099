"""Error pages of the console: 400, 403 and 404 inside its layout, in the signed-in
user's language, for browsers; API clients and scripts keep their JSON answers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from supportdesk.i18n import N_
from supportdesk.server.agents.auth import current_login
from supportdesk.server.state import desk_of

PAGES: dict[int, tuple[str, str]] = {
    400: (
        N_("The form could not be processed"),
        N_("The form has expired or was incomplete. Go back, reload the page and try again."),
    ),
    403: (
        N_("Not allowed for your role"),
        N_(
            "Your role does not include this page. If you need it for your work,"
            " ask an administrator."
        ),
    ),
    404: (
        N_("Not found"),
        N_("There is no such page or session, or it is not one of yours."),
    ),
}


def wants_page(request: Request, status: int) -> bool:
    """A console page asked for by a browser (its navigations accept text/html); the
    JSON routes under /console and fetch() calls (Accept */*) keep JSON."""
    return (
        status in PAGES
        and request.url.path.startswith("/console/")
        and "text/html" in request.headers.get("accept", "")
    )


async def console_error_page(request: Request, status: int) -> Response:
    desk = desk_of(request)
    signed_in = await current_login(request, desk.clock())
    gettext = desk.pages.gettext_for(request)
    heading, explanation = PAGES[status]
    return desk.pages.render(
        request,
        "console/error.html",
        status,
        signed_in=signed_in,
        status=status,
        heading=gettext(heading),
        explanation=gettext(explanation),
    )
