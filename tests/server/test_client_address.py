"""The client's address: X-Forwarded-For believed only from a trusted proxy, read
from the right; and the join form's throttling keyed by that address."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest

from supportdesk.config import ConfigError, Settings, load_settings
from supportdesk.domain.audit_chain import pseudonymise
from supportdesk.server.app import create_app
from supportdesk.server.client_address import UNKNOWN, client_address, parse_networks
from supportdesk.server.state import desk_of_app
from supportdesk.store.database import create_engine
from supportdesk.store.migrate import upgrade

PROXY = parse_networks(["10.0.0.5", "fd00:1::/64"])


def test_without_trusted_proxies_the_header_is_never_read() -> None:
    assert client_address("192.0.2.7", ["198.51.100.1"], ()) == "192.0.2.7"


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored() -> None:
    assert client_address("192.0.2.7", ["10.0.0.9, 198.51.100.1"], PROXY) == "192.0.2.7"


def test_through_the_proxy_the_rightmost_untrusted_hop_is_the_client() -> None:
    # The client wrote "1.2.3.4" itself; HAProxy appended the address it saw.
    assert client_address("10.0.0.5", ["1.2.3.4, 203.0.113.9"], PROXY) == "203.0.113.9"
    # Several header lines count as one list, in order.
    assert client_address("10.0.0.5", ["1.2.3.4", "203.0.113.9"], PROXY) == "203.0.113.9"


def test_a_chain_of_trusted_proxies_is_stepped_over() -> None:
    hops = ["203.0.113.9, 10.0.0.5"]
    assert client_address("10.0.0.5", hops, PROXY) == "203.0.113.9"


def test_only_trusted_hops_give_the_leftmost() -> None:
    assert client_address("10.0.0.5", ["10.0.0.5"], PROXY) == "10.0.0.5"


def test_a_trusted_peer_without_header_is_the_client() -> None:
    assert client_address("10.0.0.5", [], PROXY) == "10.0.0.5"


def test_garbage_seen_by_a_trusted_proxy_stops_at_the_proxy() -> None:
    assert client_address("10.0.0.5", ["203.0.113.9, not-an-ip"], PROXY) == "10.0.0.5"
    assert client_address("10.0.0.5", ["unknown"], PROXY) == "10.0.0.5"


def test_ipv6_peers_and_hops_are_canonical() -> None:
    assert client_address("fd00:1::7", ["2001:DB8:0:0::1"], PROXY) == "2001:db8::1"
    assert client_address("fd00:1::7", ["[2001:db8::1]:4711"], PROXY) == "2001:db8::1"
    assert client_address("fd00:2::7", ["2001:db8::1"], PROXY) == "fd00:2::7"
    assert client_address("2001:db8:0::1", [], ()) == "2001:db8::1"


def test_ports_and_ipv4_mapped_addresses() -> None:
    assert client_address("10.0.0.5", ["203.0.113.9:5555"], PROXY) == "203.0.113.9"
    assert client_address("::ffff:10.0.0.5", ["203.0.113.9"], PROXY) == "203.0.113.9"


def test_no_peer_is_unknown() -> None:
    assert client_address(None, ["203.0.113.9"], PROXY) == UNKNOWN


def test_the_setting_takes_a_list_or_comma_separated_text(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(SUPPORTDESK_SERVER_TRUSTED_PROXIES="10.0.0.5, fd00:1::/64")
    assert settings.server.trusted_proxies == ("10.0.0.5", "fd00:1::/64")
    assert make_settings().server.trusted_proxies == ()
    with pytest.raises(ConfigError, match="trusted_proxies"):
        load_settings(environ={"SUPPORTDESK_SERVER_TRUSTED_PROXIES": "10.0.0.5, proxy.local"})


@pytest.mark.parametrize(
    ("peer", "trusted", "expected"),
    [
        ("10.0.0.5", "10.0.0.5", "203.0.113.9"),  # through the proxy: the real client
        ("192.0.2.50", "10.0.0.5", "192.0.2.50"),  # not the proxy: the header is a lie
        ("10.0.0.5", "", "10.0.0.5"),  # nothing trusted: the proxy itself
    ],
)
async def test_the_join_refusal_is_counted_against_the_client_address(
    make_settings: Callable[..., Settings], peer: str, trusted: str, expected: str
) -> None:
    settings = make_settings(SUPPORTDESK_SERVER_TRUSTED_PROXIES=trusted)
    engine = create_engine(settings.database.url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        desk = desk_of_app(app)
        desk.remote.answer_time = timedelta(0)
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            answer = await client.post(
                "/api/v1/join",
                json={"name": "Erika Muster", "support_key": "1234 5678 9012"},
                headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9"},
            )
        assert answer.status_code == 404
        actors = [
            entry.actor
            async for entry in desk.audit.entries()
            if entry.event_type == "support_key.redemption_failed"
        ]
    pseudonym = pseudonymise(expected, desk.keys.pseudonym_key, purpose="client-address")
    assert actors == [f"client:{pseudonym}"]
