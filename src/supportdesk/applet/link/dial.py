"""Dialling the relay and keeping one link's heartbeat: the applet link's socket-level I/O.

:func:`dial` opens ``wss://…/ws/applet`` with verified TLS 1.3 and an ``Authorization``
header (the join token, or the resume secret) and sorts failures into the three
kinds the link client acts on differently; :func:`beat` sends the heartbeats of one
link and drops it when the relay has gone silent (:class:`~.keeper.Heartbeat`
decides). Neither the header nor a heartbeat is ever logged: websockets gets a logger
of its own that never logs at debug level, where it would print request headers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from supportdesk.applet.bank_tls import require_tls13
from supportdesk.applet.link.keeper import Heartbeat, LinkKeeper
from supportdesk.applet.texts import N_, gettext_for, language_of
from supportdesk.domain.consent import DEFAULT_LANGUAGE, Language
from supportdesk.link.frames import encode_control

log = logging.getLogger(__name__)

HEARTBEAT = encode_control({"type": "heartbeat"})
MAX_MESSAGE = 8 * 1024 * 1024
# websockets logs every request header at debug level; the join token and the resume
# secret travel in one, so its logger stays at INFO whatever the root logger says.
_quiet = logging.getLogger("supportdesk.applet.websocket")
_quiet.setLevel(logging.INFO)


class LinkError(Exception):
    """The link could not be set up (bad URL, refused token, TLS failure).

    The message is for the customer, in the customer's language."""


HTTPS_ONLY = N_("The server address must start with https://: {server}")
CERTIFICATE_REFUSED = N_("The bank's server certificate was not accepted: {error}")
UNREACHABLE = N_("Cannot reach {server}: {error}")
LINK_REFUSED = N_("The bank's server refused the connection: {error}")
NO_TLS13 = N_(
    "The server {server} does not offer a connection secured with TLS 1.3. The program "
    "does not connect to it and shares nothing."
)
# OpenSSL's reasons when the two sides have no TLS version in common.
_VERSION_REASONS = frozenset(
    {
        "UNSUPPORTED_PROTOCOL",
        "TLSV1_ALERT_PROTOCOL_VERSION",
        "WRONG_SSL_VERSION",
        "NO_PROTOCOLS_AVAILABLE",
    }
)


def applet_url(server: str, language: Language = DEFAULT_LANGUAGE) -> str:
    """``https://bank.example`` → ``wss://bank.example/ws/applet``; TLS only."""
    parts = urlsplit(server)
    if parts.scheme != "https" or not parts.hostname:
        raise LinkError(gettext_for(language)(HTTPS_ONLY).format(server=repr(server)))
    return urlunsplit(("wss", parts.netloc, "/ws/applet", "", ""))


class DialRefused(Exception):
    """The server answered the upgrade with a refusal (a spent token or secret, a
    session that is over): trying again will not help."""


class DialFailed(Exception):
    """The server could not be reached, or the handshake did not finish: the network,
    worth another try."""


class CertificateRefused(Exception):
    """The server's certificate was not accepted: never retried."""


class TLSVersionRefused(CertificateRefused):
    """The server offers no TLS 1.3: never retried; the message is the customer's."""


async def dial(
    url: str,
    authorization: str,
    *,
    language: str,
    ssl_context: ssl.SSLContext,
    open_timeout: float,
) -> ClientConnection:
    """Open the applet link; raise one of the three errors above on failure."""
    headers = {"Authorization": authorization, "Accept-Language": language}
    try:
        return await connect(
            url,
            additional_headers=headers,
            ssl=require_tls13(ssl_context),  # a server offering less is refused
            max_size=MAX_MESSAGE,
            open_timeout=open_timeout,
            close_timeout=1,
            ping_interval=None,  # the protocol's own heartbeats watch the link
            logger=_quiet,
        )
    except ssl.SSLCertVerificationError as exc:
        raise CertificateRefused(str(exc)) from None
    except InvalidStatus as exc:
        status = exc.response.status_code
        if 400 <= status < 500:
            raise DialRefused(f"HTTP {status}") from None
        raise DialFailed(f"HTTP {status}") from None
    except ssl.SSLError as exc:
        if exc.reason in _VERSION_REASONS:
            host = urlsplit(url).netloc
            words = gettext_for(language_of(language))(NO_TLS13).format(server=host)
            raise TLSVersionRefused(words) from None
        raise DialFailed(str(exc) or type(exc).__name__) from None
    except (OSError, TimeoutError) as exc:
        raise DialFailed(str(exc) or type(exc).__name__) from None
    except Exception as exc:  # websockets' InvalidHandshake and kin: a broken upgrade
        raise DialFailed(str(exc) or type(exc).__name__) from None


async def dial_with_token(
    url: str, token: str, language: str, ssl_context: ssl.SSLContext
) -> ClientConnection:
    """The first link, with the join token; a failure is a :class:`LinkError` in the
    customer's language."""
    _ = gettext_for(language_of(language))
    try:
        return await dial(
            url, f"Bearer {token}", language=language, ssl_context=ssl_context, open_timeout=15
        )
    except TLSVersionRefused as exc:
        raise LinkError(str(exc)) from None
    except CertificateRefused as exc:
        raise LinkError(_(CERTIFICATE_REFUSED).format(error=exc)) from None
    except DialFailed as exc:
        raise LinkError(_(UNREACHABLE).format(server=url, error=exc)) from None
    except DialRefused as exc:
        raise LinkError(_(LINK_REFUSED).format(error=exc)) from None


class Dial(Protocol):
    async def __call__(self, authorization: str, *, open_timeout: float) -> ClientConnection: ...


async def redial(
    keeper: LinkKeeper,
    consultation_number: str,
    dial_with: Dial,
    clock: Callable[[], float] = time.monotonic,
) -> ClientConnection | None:
    """Dial again with the resume secret, with the keeper's back-off, until a link is
    up (returned), the server refuses or the grace is over (None: the session is
    over; the keeper says which). The keeper must be LOST."""
    while True:
        delay = keeper.next_attempt(clock())
        if delay is None:
            log.info("link not back within the grace: the session is over")
            return None
        await asyncio.sleep(delay)
        try:
            return await dial_with(
                keeper.authorization(consultation_number),
                open_timeout=max(1.0, min(5.0, keeper.remaining(clock()))),
            )
        except (DialRefused, CertificateRefused) as exc:
            log.info("the server refused to resume the session (%s)", exc)
            keeper.refused()
            return None
        except DialFailed as exc:
            log.info("reconnect failed (%s): trying again", exc)


async def beat(
    socket: ClientConnection,
    heartbeat: Heartbeat,
    send: Callable[[bytes], Awaitable[None]],
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Send a heartbeat every second on ``socket`` and abort it once the relay has been
    silent for the timeout; returns then (or when cancelled). A heartbeat stuck behind
    a full socket does not hold up the silence check."""
    sending: asyncio.Task[None] | None = None
    try:
        while True:
            now = clock()
            if heartbeat.silent(now):
                log.info("no word from the server for %.0f s: link lost", heartbeat.timeout)
                socket.transport.abort()  # a dead link: no closing handshake to wait for
                return
            if heartbeat.send_due(now) and (sending is None or sending.done()):
                heartbeat.sent(now)
                sending = asyncio.create_task(_send_quietly(send))
            await asyncio.sleep(min(0.25, heartbeat.next_check(now)) or 0.05)
    finally:
        if sending is not None and not sending.done():
            sending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sending


async def _send_quietly(send: Callable[[bytes], Awaitable[None]]) -> None:
    with contextlib.suppress(Exception):  # a lost link shows in the reader, not here
        await send(HEARTBEAT)
