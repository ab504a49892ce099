"""Whether the customer-facing address can work: the check behind ``serve``'s warning.

The support program connects only over TLS 1.3 to the address the portal gives it
(``[server] public_url``, by default where the server listens). An ``http://`` address
is fine on this machine (trying it out, tests), but anywhere else the customer's
program cannot connect, and the portal's pages go over the network unencrypted.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from supportdesk.config import ServerConfig


def is_loopback_host(host: str) -> bool:
    """``localhost``, ``*.localhost``, 127.0.0.0/8 and ``::1`` (RFC 6761: local only)."""
    host = host.strip().strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def insecure_public_address(server: ServerConfig) -> str | None:
    """The warning to give when customers are sent to an ``http://`` address that is
    not this machine's own; None when the address is https:// or loopback."""
    base = server.base_url
    parts = urlsplit(base)
    if parts.scheme != "http" or is_loopback_host(parts.hostname or ""):
        return None
    return (
        f"the customer-facing address is {base}, plain http:// on a host other than "
        "this machine: the customer's support program will not connect (it requires "
        "TLS 1.3) and pages travel unencrypted. Set [server] public_url to the https:// "
        "address of the TLS proxy in front, or tls_cert and tls_key (docs/operations.md)"
    )
