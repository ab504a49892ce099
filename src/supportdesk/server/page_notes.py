"""What a page must still show after a post/redirect/get - the support key just issued,
a one-time password - carried from the POST to the GET sealed in a short-lived cookie.

It may go neither into the URL nor, in clear, into any store. Node memory would not do:
behind the balancer the POST goes round-robin and the session's pages go to the node its
number hashes to. So the value is sealed with the server key (AES-GCM, every node has
it) and bound to the login session and the purpose (its consultation number): another
login, another session or a changed byte unseals nothing. The cookie is HttpOnly,
SameSite=Strict, limited to the one page's path, and lives no longer than its value -
which carries its own expiry, checked here, not trusted to the browser.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from supportdesk.server.agents.auth import SignedIn
from supportdesk.server.security_headers import served_over_https
from supportdesk.server.state import desk_of


def _cookie(request: Request, name: str) -> str:
    return f"__Secure-sd_{name}" if served_over_https(request) else f"sd_{name}"


def _context(signed_in: SignedIn, purpose: str) -> str:
    return f"page-note/{purpose}/{signed_in.login.id_digest}"


def put_note(
    request: Request,
    response: Response,
    signed_in: SignedIn,
    where: tuple[str, str, str],
    value: dict[str, Any],
    expires_at: datetime,
    now: datetime,
) -> None:
    """Seal ``value`` for this login into cookie ``where`` = (name, purpose, path)."""
    name, purpose, path = where
    text = json.dumps({"value": value, "until": expires_at.isoformat()})
    response.set_cookie(
        _cookie(request, name),
        desk_of(request).keys.seal(text, _context(signed_in, purpose)),
        max_age=max(1, int((expires_at - now).total_seconds()) + 1),
        path=path,
        httponly=True,
        samesite="strict",
        secure=served_over_https(request),
    )


def read_note(
    request: Request, signed_in: SignedIn, where: tuple[str, str, str], now: datetime
) -> dict[str, Any] | None:
    """The value sealed for this login and purpose, while it is valid; else None."""
    name, purpose, _path = where
    sealed = request.cookies.get(_cookie(request, name))
    if not sealed:
        return None
    text = desk_of(request).keys.unseal(sealed, _context(signed_in, purpose))
    if text is None:
        return None
    note = json.loads(text)
    if datetime.fromisoformat(note["until"]) <= now:
        return None
    value: dict[str, Any] = note["value"]
    return value


def drop_note(request: Request, response: Response, where: tuple[str, str, str]) -> None:
    name, _purpose, path = where
    response.delete_cookie(
        _cookie(request, name),
        path=path,
        httponly=True,
        samesite="strict",
        secure=served_over_https(request),
    )
