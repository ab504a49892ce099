"""``GET /metrics``: the node's metrics in Prometheus's text format, for the scraper only.

Not public: answered to a client whose address lies in ``[metrics] allowed_networks``
(by default loopback), or that sends the configured bearer token; everyone else gets
the portal's plain 404, as for a path that does not exist. The client's address is the
one ``server/client_address.py`` finds, so an X-Forwarded-For header opens nothing
unless a trusted proxy wrote it; and a request that a proxy which is *not* trusted
forwarded (it carries forwarding headers) is refused even from an allowed address: a
proxy on the same host would otherwise make every outside request look like loopback.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Sequence

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4

from supportdesk.config.metrics import MetricsConfig
from supportdesk.server.client_address import (
    IPNetwork,
    client_address,
    in_networks,
    parse_address,
    parse_networks,
)
from supportdesk.server.metrics.catalogue import ServerMetrics
from supportdesk.server.state import desk_of

router = APIRouter(include_in_schema=False)

FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


def bearer_matches(authorization: str | None, token: str) -> bool:
    """Whether an Authorization header carries ``token`` (compared in constant time)."""
    if not token or not authorization:
        return False
    scheme, _, given = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def may_scrape(
    peer: str | None,
    forwarded_for: Sequence[str],
    forwarded: bool,
    authorization: str | None,
    *,
    trusted: Sequence[IPNetwork],
    allowed: Sequence[IPNetwork],
    token: str,
) -> bool:
    """Whether a request may read the metrics.

    ``peer`` is the socket's remote address, ``forwarded_for`` the X-Forwarded-For
    lines, ``forwarded`` whether any forwarding header came at all.
    """
    if bearer_matches(authorization, token):
        return True
    peer_address = parse_address(peer) if peer is not None else None
    if peer_address is None:
        return False
    if forwarded and not in_networks(peer_address, trusted):
        return False  # forwarded by a proxy we do not trust: who the client is, is unknown
    client = parse_address(client_address(peer, forwarded_for, trusted))
    if client is None:
        return False
    if forwarded and in_networks(client, trusted):
        # The walk ended at a proxy (the header named no client, or nothing but
        # proxies): a scraper asks a node directly, never through the balancer.
        return False
    return in_networks(client, allowed)


@functools.lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return parse_networks(entries)


def request_may_scrape(request: Request, config: MetricsConfig, trusted: tuple[str, ...]) -> bool:
    headers = request.headers
    return config.enabled and may_scrape(
        request.client.host if request.client else None,
        headers.getlist("x-forwarded-for"),
        any(name in headers for name in FORWARDING_HEADERS),
        headers.get("authorization"),
        trusted=_networks(trusted),
        allowed=_networks(config.allowed_networks),
        token=config.bearer_token,
    )


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    settings = desk_of(request).settings
    if not request_may_scrape(request, settings.metrics, settings.server.trusted_proxies):
        raise HTTPException(404)
    found: ServerMetrics = request.app.state.metrics
    return Response(
        found.render(),
        media_type=CONTENT_TYPE_PLAIN_0_0_4,
        headers={"Cache-Control": "no-store"},
    )
