"""CSRF protection for forms: a random token in a cookie and in a hidden field.

Both must match on every state-changing request. The cookie is SameSite=Strict,
so a cross-site form post arrives without it.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from supportdesk.server.security_headers import served_over_https

FIELD = "csrf_token"


def cookie_name(request: HTTPConnection) -> str:
    # Browsers accept the __Host- prefix only on Secure cookies, hence only over TLS:
    # the configured public address's, since behind a TLS proxy requests arrive as http.
    return "__Host-sd_csrf" if served_over_https(request) else "sd_csrf"


def csrf_token(request: HTTPConnection) -> str:
    """The token for forms on this page; minted once per browser."""
    token = getattr(request.state, "csrf_token", None)
    if token is None:
        token = request.cookies.get(cookie_name(request)) or secrets.token_urlsafe(32)
        request.state.csrf_token = token
    return str(token)


def attach_cookie(request: Request, response: Response) -> None:
    token = getattr(request.state, "csrf_token", None)
    if token and request.cookies.get(cookie_name(request)) != token:
        response.set_cookie(
            cookie_name(request),
            token,
            httponly=True,
            samesite="strict",
            secure=served_over_https(request),
            path="/",
        )


def csrf_valid(request: Request, submitted: str | None) -> bool:
    expected = request.cookies.get(cookie_name(request))
    return bool(expected and submitted) and hmac.compare_digest(
        str(expected).encode(), str(submitted).encode()
    )
