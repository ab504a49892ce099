"""The consent dialog's "verified address" is the certificate's, never the server's word;
a built program refuses any other server, and every link wants TLS 1.3 — checked against
real TLS WebSocket servers on loopback, with the program's own link code."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from supportdesk.applet.bank_tls import BankTLSContext, certified_name, expected_name
from supportdesk.applet.consent import ConsentRequest, build_dialog
from supportdesk.applet.join import redeem_by_hand, ssl_context
from supportdesk.applet.link.client import AppletLink, LinkError
from supportdesk.capture.screen_source import MemoryScreenSource, ScreenSource
from supportdesk.domain.consent import CURRENT_CONSENT_VERSION, ConsentRecord
from supportdesk.link.frames import decode_control, decode_frame, encode_control
from tests.applet.bank_certs import certificate
from tests.diagnostics.tls_server import tls_server as old_tls_server

# What a fraudster's server says: the bank's name and domain.
LIE = {
    "type": "consent_request",
    "bank": "LIGA Bank eG",
    "domain": "www.ligabank.de",
    "agent_name": "Anna Berger",
    "consultation_number": "1234-5678-9012",
    "verification_code": "4711",
    "capabilities": ["view", "control"],
    "consent_version": CURRENT_CONSENT_VERSION,
}


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    folder = tmp_path_factory.mktemp("certs")
    return {
        "localhost": certificate(folder, "localhost", "DNS:localhost,IP:127.0.0.1"),
        "wildcard": certificate(folder, "wildcard", "DNS:*.liga-bank.test,IP:127.0.0.1"),
        "fraud": certificate(folder, "fraud", "DNS:ligabank-support.example,IP:127.0.0.1"),
    }


class Relay:
    """A relay that asks for consent with ``LIE`` and ends at the answer."""

    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []
        self.links = 0

    async def handle(self, link: ServerConnection) -> None:
        self.links += 1
        await link.send(encode_control(LIE))
        async for message in link:
            assert isinstance(message, bytes)
            control = decode_control(decode_frame(message).payload)
            if control["type"] == "consent":
                self.answers.append(control)
                await link.send(encode_control({"type": "end", "reason": "agent"}))
                await link.close()
                return


@asynccontextmanager
async def relay_at(
    cert: tuple[Path, Path], tls_max: ssl.TLSVersion | None = None
) -> AsyncIterator[tuple[Relay, int]]:
    relay = Relay()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*cert)
    if tls_max is not None:
        context.maximum_version = tls_max
    async with serve(relay.handle, "127.0.0.1", 0, ssl=context) as server:
        yield relay, next(iter(server.sockets)).getsockname()[1]


class Customer:
    """The program's link, with a dialog that notes what it was asked and says "Ja"."""

    def __init__(self, server: str, context: ssl.SSLContext) -> None:
        self.asked: list[ConsentRequest] = []
        self.captured = 0
        self.link = AppletLink(
            server,
            "join-token",
            ask_consent=self.ask,
            screen_source=self.screen,
            input_sink=lambda: None,
            ssl_context=context,
        )

    def ask(self, request: ConsentRequest) -> ConsentRecord:
        self.asked.append(request)
        return build_dialog(request).decide(True, (), datetime.now(UTC))

    def screen(self) -> ScreenSource:
        self.captured += 1
        return MemoryScreenSource(((0, 0, 64, 48),))

    async def run(self) -> None:
        await asyncio.wait_for(self.link.run(), 20)


def trusting(cert: Path) -> ssl.SSLContext:
    return ssl_context(str(cert))


async def test_development_mode_shows_the_certificates_name_not_the_servers(
    certs: dict[str, tuple[Path, Path]],
) -> None:
    """`--server` with `--ca-file`: the dialog once showed whatever the server sent as
    its domain (here the bank's, from a server whose certificate is someone else's)."""
    cert = certs["fraud"]
    async with relay_at(cert) as (relay, port):
        customer = Customer(f"https://127.0.0.1:{port}", trusting(cert[0]))
        await customer.run()
    (asked,) = customer.asked
    assert asked.bank_domain == "127.0.0.1"  # the IP entry that matched the address dialled
    assert "ligabank.de" not in asked.bank_domain
    assert customer.link.facts.bank_domain == "127.0.0.1"  # and the receipt's
    assert relay.answers[0]["decision"] == "yes"


async def test_development_mode_by_name(certs: dict[str, tuple[Path, Path]]) -> None:
    cert = certs["localhost"]
    async with relay_at(cert) as (_relay, port):
        customer = Customer(f"https://localhost:{port}", trusting(cert[0]))
        await customer.run()
    assert [a.bank_domain for a in customer.asked] == ["localhost"]


async def test_a_built_program_shows_the_name_that_covers_the_banks_domain(
    certs: dict[str, tuple[Path, Path]],
) -> None:
    cert = certs["wildcard"]  # *.liga-bank.test: covers the bank's name
    context = BankTLSContext("fernwartung.liga-bank.test", ca_file=str(cert[0]))
    async with relay_at(cert) as (_relay, port):
        customer = Customer(f"https://127.0.0.1:{port}", context)
        await customer.run()
    assert [a.bank_domain for a in customer.asked] == ["fernwartung.liga-bank.test"]


async def test_a_built_program_refuses_another_server_before_anything_is_asked_or_captured(
    certs: dict[str, tuple[Path, Path]],
) -> None:
    cert = certs["fraud"]  # valid and trusted here, but not the bank's
    context = BankTLSContext("liga-bank.test", ca_file=str(cert[0]), bank_name="LIGA Bank eG")
    async with relay_at(cert) as (relay, port):
        customer = Customer(f"https://127.0.0.1:{port}", context)
        with pytest.raises(LinkError) as raised:
            await customer.run()
    assert "Diese Verbindung führt nicht zur LIGA Bank eG (liga-bank.test)" in str(raised.value)
    assert "ligabank-support.example" in str(raised.value)
    assert relay.links == 0 and relay.answers == []
    assert customer.asked == [] and customer.captured == 0


@pytest.mark.parametrize(
    "context_for",
    [
        lambda cert: trusting(cert),
        lambda cert: BankTLSContext("localhost", ca_file=str(cert)),
        lambda cert: ssl.create_default_context(cafile=str(cert)),  # a caller's own context
    ],
    ids=["development", "built", "plain-context"],
)
async def test_the_link_refuses_a_server_without_tls13(
    certs: dict[str, tuple[Path, Path]], context_for: Callable[[Path], ssl.SSLContext]
) -> None:
    cert = certs["localhost"]
    done: list[str] = []
    with old_tls_server(*cert, maximum_version=ssl.TLSVersion.TLSv1_2, handshakes=done) as port:
        customer = Customer(f"https://127.0.0.1:{port}", context_for(cert[0]))
        with pytest.raises(LinkError) as raised:
            await customer.run()
    assert str(raised.value) == (
        f"Der Server 127.0.0.1:{port} bietet keine mit TLS 1.3 gesicherte Verbindung an. "
        "Das Programm verbindet sich nicht mit ihm und gibt nichts frei."
    )
    assert done == [] and customer.asked == [] and customer.captured == 0


async def test_the_link_takes_a_tls13_server(certs: dict[str, tuple[Path, Path]]) -> None:
    """The same server offering TLS 1.3 completes the handshake (the refusal above is
    the version, not the certificate)."""
    cert = certs["localhost"]
    done: list[str] = []
    with old_tls_server(*cert, handshakes=done) as port:
        customer = Customer(f"https://127.0.0.1:{port}", trusting(cert[0]))
        with pytest.raises(LinkError):  # no WebSocket behind it
            await customer.run()
    assert done == ["TLSv1.3"]


def test_the_join_request_wants_tls13_too(certs: dict[str, tuple[Path, Path]]) -> None:
    cert = certs["localhost"]
    done: list[str] = []
    old = ssl.TLSVersion.TLSv1_2
    with (
        old_tls_server(*cert, maximum_version=old, handshakes=done) as port,
        pytest.raises(LinkError),
    ):
        redeem_by_hand(f"https://127.0.0.1:{port}", "Erika", "1", trusting(cert[0]))
    assert done == []


def test_certified_name_is_the_name_that_covers_what_was_expected() -> None:
    wildcard = {"subjectAltName": (("DNS", "*.Liga-Bank.test"), ("IP Address", "127.0.0.1"))}
    assert certified_name(wildcard, "fernwartung.liga-bank.test") == "fernwartung.liga-bank.test"
    assert certified_name(wildcard, "liga-bank.test") is None
    assert certified_name(wildcard, "a.b.liga-bank.test") is None
    assert certified_name(wildcard, "127.0.0.1") == "127.0.0.1"
    assert certified_name(wildcard, "127.0.0.2") is None
    exact = {"subjectAltName": (("DNS", "Fernwartung.LIGA-bank.de"),)}
    assert certified_name(exact, "fernwartung.liga-bank.de.") == "fernwartung.liga-bank.de"
    v6 = {"subjectAltName": (("IP Address", "2001:DB8:0:0:0:0:0:1\n"),)}
    assert certified_name(v6, "[2001:db8::1]") == "2001:db8::1"
    assert certified_name({}, "localhost") is None and certified_name(None, "x") is None
    assert expected_name(BankTLSContext("Bank.example"), "https://other:8443") == "bank.example"
    assert expected_name(ssl.create_default_context(), "https://Host.example:8443") == (
        "host.example"
    )
