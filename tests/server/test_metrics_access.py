"""Who may read /metrics: the rule (may_scrape) and the running server, which answers
everyone else with the portal's plain 404; a forged X-Forwarded-For opens nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request

from supportdesk.config.metrics import MetricsConfig
from supportdesk.server.client_address import parse_networks
from supportdesk.server.metrics.endpoint import bearer_matches, may_scrape, request_may_scrape
from tests.live_server import LiveServer, live_server

TOKEN = "s3cret-metrics-token-of-enough-length-42"
LOOPBACK = parse_networks(["127.0.0.0/8", "::1"])
SCRAPERS = parse_networks(["10.9.0.0/16"])
PROXY = parse_networks(["10.0.0.5"])


def allowed(
    peer: str,
    forwarded_for: tuple[str, ...] = (),
    authorization: str | None = None,
    *,
    trusted: object = (),
    networks: object = LOOPBACK,
    forwarded: bool | None = None,
) -> bool:
    return may_scrape(
        peer,
        forwarded_for,
        bool(forwarded_for) if forwarded is None else forwarded,
        authorization,
        trusted=trusted,  # type: ignore[arg-type]
        allowed=networks,  # type: ignore[arg-type]
        token=TOKEN,
    )


def test_the_rule() -> None:
    # By address: loopback by default, or the configured networks.
    assert allowed("127.0.0.1")
    assert allowed("::1")
    assert allowed("::ffff:127.0.0.1")
    assert not allowed("203.0.113.5")
    assert allowed("10.9.4.4", networks=SCRAPERS)
    assert not allowed("127.0.0.1", networks=SCRAPERS)
    # A forged header from an address that is no trusted proxy counts for nothing...
    assert not allowed("203.0.113.5", ("10.9.4.4",), networks=SCRAPERS)
    # ...and a request some untrusted proxy forwarded is refused, even from loopback
    # (a proxy on the same host would make every outsider look like 127.0.0.1).
    assert not allowed("127.0.0.1", ("203.0.113.5",))
    assert not allowed("127.0.0.1", forwarded=True)  # Forwarded: or X-Real-IP: only
    # Through the trusted proxy, the client it saw decides; what the client wrote to
    # the left of it does not.
    assert allowed("10.0.0.5", ("10.9.4.4",), trusted=PROXY, networks=SCRAPERS)
    assert not allowed("10.0.0.5", ("203.0.113.5",), trusted=PROXY, networks=SCRAPERS)
    assert not allowed("10.0.0.5", ("10.9.4.4, 203.0.113.5",), trusted=PROXY, networks=SCRAPERS)
    # A header naming no client leaves the proxy itself: never a scraper.
    both = parse_networks(["10.0.0.0/24"])
    assert not allowed("10.0.0.5", ("not-an-address",), trusted=PROXY, networks=both)
    assert not allowed("10.0.0.5", ("10.0.0.5",), trusted=PROXY, networks=both)
    # The bearer token opens it from anywhere; a wrong or partial one does not.
    assert allowed("203.0.113.5", (), f"Bearer {TOKEN}")
    assert allowed("203.0.113.5", ("1.2.3.4",), f"bearer  {TOKEN} ")
    assert not allowed("203.0.113.5", (), f"Bearer {TOKEN[:-1]}")
    assert not allowed("203.0.113.5", (), f"Basic {TOKEN}")
    assert not allowed("203.0.113.5", (), TOKEN)
    assert not allowed("unknown")


def test_no_token_configured_accepts_no_token() -> None:
    assert not bearer_matches("Bearer ", "")
    assert not bearer_matches("Bearer anything", "")
    assert not bearer_matches(None, TOKEN)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server behind a (pretended) proxy on loopback, scraped from 10.9.0.0/16."""
    with live_server(
        tmp_path_factory.mktemp("metrics-guarded"),
        SUPPORTDESK_SERVER_TRUSTED_PROXIES="127.0.0.1",
        SUPPORTDESK_METRICS_ALLOWED_NETWORKS="10.9.0.0/16",
        SUPPORTDESK_METRICS_BEARER_TOKEN=TOKEN,
    ) as running:
        yield running


def scrape(server: LiveServer, **headers: str) -> httpx.Response:
    return httpx.get(f"{server.url}/metrics", headers=headers, timeout=10)


def test_the_server_answers_an_allowed_client_and_hides_from_others(guarded: LiveServer) -> None:
    # The proxy (trusted) saw a scraper's address: allowed.
    ok = scrape(guarded, **{"X-Forwarded-For": "10.9.1.2"})
    assert ok.status_code == 200
    assert ok.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "# TYPE supportdesk_sessions_ended_total counter" in ok.text
    # The loopback peer itself is not in the allowed networks here.
    refused = scrape(guarded)
    assert refused.status_code == 404
    assert "supportdesk_" not in refused.text
    # The proxy saw an outsider who wrote a scraper's address into the header first.
    assert scrape(guarded, **{"X-Forwarded-For": "10.9.1.2, 203.0.113.5"}).status_code == 404
    assert scrape(guarded, **{"X-Forwarded-For": "203.0.113.5"}).status_code == 404
    # The token opens it for the outsider; a wrong one is the same 404 as any path.
    outsider = {"X-Forwarded-For": "203.0.113.5"}
    assert scrape(guarded, Authorization=f"Bearer {TOKEN}", **outsider).status_code == 200
    wrong = scrape(guarded, Authorization="Bearer " + "x" * 40, **outsider)
    unknown = httpx.get(f"{guarded.url}/no-such-page", headers=outsider, timeout=10)
    assert wrong.status_code == unknown.status_code == 404
    # The same page but for the path it names (the language switch links back to it).
    assert wrong.text == unknown.text.replace("/no-such-page", "/metrics")


def test_by_default_only_loopback_and_no_forwarded_request(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        assert scrape(server).status_code == 200
        assert scrape(server, **{"X-Forwarded-For": "127.0.0.1"}).status_code == 404
        assert (
            scrape(server, Authorization=f"Bearer {TOKEN}", **{"X-Real-IP": "1.2.3.4"}).status_code
            == 404
        )


def test_switched_off_it_answers_nobody() -> None:
    def request(**headers: str) -> Request:
        raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        return Request({"type": "http", "headers": raw, "client": ("127.0.0.1", 4711)})

    on = MetricsConfig(bearer_token=TOKEN)
    off = MetricsConfig(enabled=False, bearer_token=TOKEN)
    assert request_may_scrape(request(), on, ())
    assert not request_may_scrape(request(), off, ())
    assert not request_may_scrape(request(Authorization=f"Bearer {TOKEN}"), off, ())
