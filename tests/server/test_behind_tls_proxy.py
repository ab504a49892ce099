"""The server behind a TLS proxy (HAProxy on loopback, terminating TLS): forwarded
addresses believed from the configured proxy only, and HSTS, ``Secure`` and ``__Host-``
cookies from the configured https address although every request arrives as http.

Customers and the attacker are told apart by their own loopback addresses (127.0.0.2,
127.0.0.3, …: Linux routes all of 127/8 to lo), as real clients are by theirs."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.cluster.harness import ensure_haproxy
from tests.live_server import LiveServer, free_port, live_server, self_signed_certificate
from tests.server.relay_parties import AgentBrowser, add_agent

ATTACKER, CUSTOMER, AGENT = "127.0.0.2", "127.0.0.3", "127.0.0.4"
WRONG_KEY = "000 000 000 000"

HAPROXY_CFG = """\
global
    maxconn 256
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend public
    bind 127.0.0.1:{port} ssl crt {pem} ssl-min-ver TLSv1.3
    option forwardfor
    http-request set-header X-Forwarded-Proto https
    default_backend desk
backend desk
    server one 127.0.0.1:{backend}
"""


@dataclass
class Proxied:
    server: LiveServer  # the node itself (plain http on loopback)
    url: str  # https through HAProxy: the public address
    tls: ssl.SSLContext  # trusts HAProxy's certificate


@contextlib.contextmanager
def haproxy_in_front(folder: Path, backend: int, port: int) -> Iterator[None]:
    cert, key = self_signed_certificate(folder)
    pem = folder / "haproxy.pem"
    pem.write_text(cert.read_text() + key.read_text())
    config = folder / "haproxy.cfg"
    config.write_text(HAPROXY_CFG.format(port=port, pem=pem, backend=backend))
    process = subprocess.Popen(
        [ensure_haproxy(), "-f", str(config), "-db"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"haproxy did not start: {process.stderr}")
            time.sleep(0.1)
        yield
    finally:
        process.terminate()
        process.wait(10)


@contextlib.contextmanager
def proxied(folder: Path, *, trust_proxy: bool) -> Iterator[Proxied]:
    port = free_port()
    public = f"https://127.0.0.1:{port}"
    environ = {"SUPPORTDESK_SERVER_PUBLIC_URL": public}
    if trust_proxy:
        environ["SUPPORTDESK_SERVER_TRUSTED_PROXIES"] = "127.0.0.1"
    with live_server(folder, **environ) as server:
        add_agent(server, "anna")
        backend = int(server.url.rsplit(":", 1)[1])
        tls_folder = folder / "tls"
        tls_folder.mkdir()
        with haproxy_in_front(tls_folder, backend, port):
            context = ssl.create_default_context(cafile=str(tls_folder / "cert.pem"))
            yield Proxied(server, public, context)


def client(base: str, local: str, verify: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
    """A client whose connections come from ``local``."""
    transport = httpx.AsyncHTTPTransport(local_address=local, verify=verify)
    return httpx.AsyncClient(base_url=base, transport=transport)


async def new_key(site: Proxied) -> str:
    agent = await AgentBrowser.log_in(site.server, "anna", client(site.url, AGENT, site.tls))
    try:
        return (await agent.new_session())[0]
    finally:
        await agent.close()


async def redeem(http: httpx.AsyncClient, key: str, **headers: str) -> int:
    answer = await http.post(
        "/api/v1/join", json={"name": "Erika", "support_key": key}, headers=headers
    )
    return answer.status_code


async def burst(http: httpx.AsyncClient, **headers: str) -> None:
    """Wrong keys from one address until it waits 4 s between tries (three free
    failures, then 1 s, 2 s, 4 s): spaced so each one counts."""
    for pause in (0, 0, 0, 1.1, 2.1):
        await asyncio.sleep(pause)
        assert await redeem(http, WRONG_KEY, **headers) == 404


async def test_one_forwarded_attacker_does_not_throttle_another_customer(
    tmp_path: Path,
) -> None:
    with proxied(tmp_path, trust_proxy=True) as site:
        key = await new_key(site)
        async with (
            client(site.url, ATTACKER, site.tls) as attacker,
            client(site.url, CUSTOMER, site.tls) as customer,
        ):
            # Forging the customer's address in front of HAProxy does not help: the
            # proxy appends the address it saw, and that is the one believed.
            await burst(attacker, **{"X-Forwarded-For": CUSTOMER})
            assert await redeem(attacker, key) == 404  # the attacker waits now
            assert await redeem(customer, key) == 200  # the customer does not


async def test_a_forged_forwarded_header_from_anyone_else_is_ignored(tmp_path: Path) -> None:
    with proxied(tmp_path, trust_proxy=True) as site:
        key = await new_key(site)
        async with client(site.server.url, ATTACKER) as direct:
            # Straight to the node, a fresh made-up address on every try: all count
            # against the attacker's own address.
            for n, pause in enumerate((0, 0, 0, 1.1, 2.1)):
                await asyncio.sleep(pause)
                assert await redeem(direct, WRONG_KEY, **{"X-Forwarded-For": f"10.9.9.{n}"}) == 404
            assert await redeem(direct, key, **{"X-Forwarded-For": "10.9.9.99"}) == 404
        async with client(site.url, CUSTOMER, site.tls) as customer:
            assert await redeem(customer, key) == 200


async def test_without_trusted_proxies_every_customer_is_the_proxy(tmp_path: Path) -> None:
    """What the finding was: with no proxy trusted, the attacker's burst through the
    proxy throttles the customer behind the same proxy."""
    with proxied(tmp_path, trust_proxy=False) as site:
        key = await new_key(site)
        async with (
            client(site.url, ATTACKER, site.tls) as attacker,
            client(site.url, CUSTOMER, site.tls) as customer,
        ):
            await burst(attacker)
            assert await redeem(customer, key) == 404


async def test_hsts_and_host_cookies_come_from_the_configured_https_address(
    tmp_path: Path,
) -> None:
    """HAProxy speaks plain http to the node; the node once took that scheme for its
    own and sent no HSTS, and cookies without Secure and without __Host-."""
    with proxied(tmp_path, trust_proxy=True) as site:
        async with client(site.url, AGENT, site.tls) as http:
            portal = await http.get("/")
            assert portal.status_code == 200
            assert portal.headers["strict-transport-security"].startswith("max-age=")
            agent = await AgentBrowser.log_in(site.server, "anna", http)
            assert (await agent.http.get("/console/")).status_code == 200
            jar = {cookie.name: cookie for cookie in http.cookies.jar}
            assert {"__Host-sd_agent", "__Host-sd_csrf"} <= set(jar)
            assert "sd_agent" not in jar and "sd_csrf" not in jar
            assert jar["__Host-sd_agent"].secure and jar["__Host-sd_csrf"].secure
