"""Who is asking: the client's address from the socket peer and X-Forwarded-For.

A forwarded header is believed only from a trusted proxy (``[server]
trusted_proxies``). Walking the header from the right, every hop that is itself a
trusted proxy is stepped over; the first address that is not is the client. Whatever
lies left of it was written by the client and may be forged, so it is never read.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Sequence

from starlette.requests import HTTPConnection

from supportdesk.server.state import desk_of

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

UNKNOWN = "unknown"
"""The address of a connection without a peer (e.g. an in-process test transport)."""


def parse_networks(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    """``["10.0.0.5", "10.1.0.0/16", "::1"]`` as networks; a bare address is a /32 or /128.

    Raises ValueError on anything that is not an address or a network.
    """
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def _address(text: str) -> IPAddress | None:
    """An address as it appears in a peer or a hop, with or without port and brackets."""
    text = text.strip().strip('"')
    if text.startswith("["):  # "[2001:db8::1]:4711" or "[2001:db8::1]"
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # "192.0.2.7:4711"
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # "::ffff:192.0.2.7" is 192.0.2.7
    return address


def _is_trusted(address: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in trusted)


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]
) -> str:
    """The client's address, canonical (``2001:db8::1``, ``192.0.2.7``).

    ``peer`` is the socket's remote address; ``forwarded_for`` every X-Forwarded-For
    header line in the order received (several lines count as one comma-separated
    list). With no trusted proxies, or a peer that is not one, the header is ignored.
    A hop that is not an address, seen from a trusted proxy, ends the walk at that
    proxy: the client then counts as the proxy, never as what the header claims.
    """
    if peer is None:
        return UNKNOWN
    current = _address(peer)
    if current is None:
        return peer.strip().lower()
    if not trusted or not _is_trusted(current, trusted):
        return current.compressed
    hops = [hop for line in forwarded_for for hop in line.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break
        current = address
        if not _is_trusted(address, trusted):
            break
    return current.compressed


@functools.lru_cache(maxsize=8)
def _trusted_networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return parse_networks(entries)


def client_address_of(connection: HTTPConnection) -> str:
    """The client's address for a request or socket, by this server's trusted proxies."""
    trusted = _trusted_networks(desk_of(connection).settings.server.trusted_proxies)
    peer = connection.client.host if connection.client else None
    return client_address(peer, connection.headers.getlist("x-forwarded-for"), trusted)


def parse_address(text: str) -> IPAddress | None:
    """An address as a peer or a forwarded hop writes it (port, brackets and an
    IPv4-mapped form allowed); None if it is none."""
    return _address(text)


def in_networks(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    """Whether ``address`` lies in one of ``networks``."""
    return _is_trusted(address, networks)
