"""Security headers on every response: a strict CSP with no inline script, and friends.

Whether this server is reached over HTTPS is configuration (``[server] public_url``,
else ``tls_cert``), never the request: behind a TLS proxy every request arrives as
plain http, and a request's scheme is whatever the hop before says. HSTS, the
``Secure`` flag and the ``__Host-`` cookie prefix follow :func:`served_over_https`.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from supportdesk.config import ServerConfig

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HSTS = "max-age=31536000; includeSubDomains"


def public_https(server: ServerConfig) -> bool:
    """Whether customers and agents reach this server over HTTPS, by configuration."""
    return server.base_url.startswith("https://")


def served_over_https(connection: HTTPConnection) -> bool:
    """:func:`public_https` for the server answering ``connection`` (cookies' ``Secure``
    and ``__Host-``), whatever scheme the request itself arrived with: what
    :func:`mark_https` put on the app."""
    return bool(connection.app.state.public_https)


def mark_https(app: Any, server: ServerConfig) -> None:
    """Remember on ``app`` whether it is reached over HTTPS (read per request by
    :func:`served_over_https`, with no import of the app's state)."""
    app.state.public_https = public_https(server)


class SecurityHeadersMiddleware:
    """Adds the headers to HTTP responses; HSTS when the server's public address is
    https (``hsts``), also on the plain-http requests a TLS proxy forwards."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        over_tls = self.hsts

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                headers["X-Frame-Options"] = "DENY"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
                if over_tls:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, send_with_headers)
