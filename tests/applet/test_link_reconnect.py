"""The applet's link across drops, against a scripted relay behind the fault proxy: it
beats, notices a dead link, dials again with the resume secret, asks consent again on
request, and ends (here at once, over the link later) when the customer ends offline."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from supportdesk.applet.consent import ConsentRequest, build_dialog
from supportdesk.applet.link.client import AppletLink
from supportdesk.applet.session_facts import SessionFacts
from supportdesk.capture.screen_source import MemoryScreenSource
from supportdesk.domain.consent import CURRENT_CONSENT_VERSION, ConsentRecord
from supportdesk.link.frames import decode_control, decode_frame, encode_control
from tests.desktop import wait_until
from tests.faults import FaultProxy
from tests.live_server import self_signed_certificate

NUMBER = "1234-5678-9012"
CONSENT_REQUEST = {
    "type": "consent_request",
    "bank": "Musterbank",
    "domain": "127.0.0.1",
    "agent_name": "Anna Berger",
    "consultation_number": NUMBER,
    "verification_code": "4711",
    "capabilities": ["view", "control"],
    "consent_version": CURRENT_CONSENT_VERSION,
}


@dataclass
class FakeRelay:
    """Speaks the relay's side of the applet link as the test scripts it."""

    given: list[str] = field(default_factory=list)  # resume secrets, the last one valid
    refuse_resume: bool = False
    grace_seconds: float = 120
    renewal: bool = False  # ask consent again on a resumed link
    authorizations: list[str] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    heartbeats: int = 0
    rfb: list[tuple[int, int, bytes]] = field(default_factory=list)  # (link, channel, bytes)
    links: list[ServerConnection] = field(default_factory=list)
    server: Server | None = None

    def check(self, connection: ServerConnection, request: Request) -> Response | None:
        authorization = request.headers.get("Authorization", "")
        self.authorizations.append(authorization)
        if authorization.startswith("Resume "):
            offered = authorization.split(" ")[2]
            if self.refuse_resume or not self.given or offered != self.given[-1]:
                return Response(403, "Forbidden", Headers(), b"")
        return None

    async def handle(self, link: ServerConnection) -> None:
        self.links.append(link)
        authorization = self.authorizations[-1]
        beating = asyncio.create_task(self._beat(link))
        try:
            if authorization.startswith("Bearer "):
                await link.send(encode_control(CONSENT_REQUEST))
            else:
                await self._resume(link)
                if self.renewal:
                    await link.send(encode_control({**CONSENT_REQUEST, "renewal": True}))
                else:
                    await self._open(link)
            async for message in link:
                assert isinstance(message, bytes)
                frame = decode_frame(message)
                if frame.channel != 0:
                    self.rfb.append((len(self.links), frame.channel, frame.payload))
                    continue
                control = decode_control(frame.payload)
                if control["type"] == "heartbeat":
                    self.heartbeats += 1
                    continue
                self.received.append(control)
                if control["type"] == "consent" and control["decision"] == "yes":
                    if authorization.startswith("Bearer "):
                        await self._resume(link)
                    await self._open(link)
                elif control["type"] == "end" or (
                    control["type"] == "consent" and control["decision"] == "no"
                ):
                    await link.send(encode_control({"type": "end", "reason": "customer"}))
                    await link.close()
        finally:
            beating.cancel()

    async def _resume(self, link: ServerConnection) -> None:
        secret = f"secret-{len(self.given) + 1}"
        self.given.append(secret)
        message = {"type": "resume", "secret": secret, "grace_seconds": self.grace_seconds}
        await link.send(encode_control(message))

    async def _open(self, link: ServerConnection) -> None:
        # A new viewer channel on every link: the numbers of the old one are gone.
        channel = len(self.links)
        await link.send(encode_control({"type": "open", "channel": channel, "view_only": False}))

    async def _beat(self, link: ServerConnection) -> None:
        with contextlib.suppress(Exception):
            while True:
                await link.send(encode_control({"type": "heartbeat"}))
                await asyncio.sleep(1)

    async def end_session(self, reason: str = "agent") -> None:
        await self.links[-1].send(encode_control({"type": "end", "reason": reason}))
        await self.links[-1].close()


@dataclass
class Customer:
    link: AppletLink
    events: list[tuple[str, dict[str, Any]]]
    over: list[SessionFacts]
    asked: list[ConsentRequest]
    task: asyncio.Task[SessionFacts]

    def kinds(self) -> list[str]:
        return [kind for kind, _data in self.events]

    async def wait_for(self, kind: str, within: float = 15) -> None:
        deadline = time.monotonic() + within
        while kind not in self.kinds():
            if time.monotonic() > deadline or self.task.done():
                raise AssertionError(f"no {kind!r} event; got {self.kinds()}")
            await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
async def relay(tls: tuple[Path, Path]) -> AsyncIterator[tuple[FakeRelay, FaultProxy, str]]:
    fake = FakeRelay()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls)
    async with serve(
        fake.handle, "127.0.0.1", 0, ssl=context, process_request=fake.check
    ) as server:
        fake.server = server
        port = next(iter(server.sockets)).getsockname()[1]
        with FaultProxy("127.0.0.1", port) as proxy:
            yield fake, proxy, f"https://127.0.0.1:{proxy.port}"


def start_customer(
    server: str,
    tls: tuple[Path, Path],
    folder: Path,
    answers: Callable[[int], bool] = lambda n: True,
) -> Customer:
    events: list[tuple[str, dict[str, Any]]] = []
    over: list[SessionFacts] = []
    asked: list[ConsentRequest] = []

    def ask(request: ConsentRequest) -> ConsentRecord:
        asked.append(request)
        return build_dialog(request).decide(answers(len(asked)), set(), datetime.now(UTC))

    link = AppletLink(
        server,
        "join-token",
        ask_consent=ask,
        screen_source=lambda: MemoryScreenSource(((0, 0, 64, 48),)),
        input_sink=lambda: None,
        ssl_context=ssl.create_default_context(cafile=str(tls[0])),
        on_event=lambda kind, data: events.append((kind, data)),
        on_over=over.append,
        files_folder=folder,
    )
    return Customer(link, events, over, asked, asyncio.create_task(link.run()))


async def test_a_dead_link_is_noticed_and_resumed_with_the_secret(
    relay: tuple[FakeRelay, FaultProxy, str], tls: tuple[Path, Path], tmp_path: Path
) -> None:
    fake, proxy, server = relay
    customer = start_customer(server, tls, tmp_path)
    await customer.wait_for("active")
    await asyncio.sleep(2.5)
    assert fake.heartbeats >= 2  # one a second
    proxy.black_hole(True)
    lost_at = time.monotonic()
    await customer.wait_for("link_lost", within=8)
    noticed = time.monotonic() - lost_at
    assert 2.9 <= noticed <= 5.5, noticed  # four seconds of silence since the last word
    assert customer.link.reconnecting
    await asyncio.sleep(2)
    customer.link.request({"type": "chat", "text": "noch da?"})  # waits for the link
    customer.link.request({"type": "pause"})  # at once here, and told to the relay later
    proxy.black_hole(False)
    back_at = time.monotonic()
    await customer.wait_for("link_restored", within=8)
    assert time.monotonic() - back_at < 4
    assert fake.authorizations[0] == "Bearer join-token"
    assert fake.authorizations[-1] == f"Resume {NUMBER} secret-1"
    await asyncio.sleep(0.5)
    assert {"type": "chat", "text": "noch da?"} in fake.received
    assert {"type": "pause"} in fake.received
    new_channel = customer.link.channels.open[2]
    assert new_channel.session.paused  # the customer's pause holds on the new link
    assert "heartbeat" not in customer.kinds()  # never shown
    # Each link had its own RFB channel: the first link's channel 1, the new link's 2.
    assert (1, 1, b"RFB 003.008\n") in fake.rfb and (2, 2, b"RFB 003.008\n") in fake.rfb
    assert not [c for link_number, c, _bytes in fake.rfb if link_number == 2 and c == 1]
    await fake.end_session("agent")
    facts = await asyncio.wait_for(customer.task, 10)
    assert facts.end_reason == "agent"
    assert customer.over == [facts]


async def test_a_refused_resume_ends_the_session_as_connection_lost(
    relay: tuple[FakeRelay, FaultProxy, str], tls: tuple[Path, Path], tmp_path: Path
) -> None:
    fake, proxy, server = relay
    fake.refuse_resume = True
    customer = start_customer(server, tls, tmp_path)
    await customer.wait_for("active")
    await asyncio.sleep(0.3)
    proxy.cut()
    facts = await asyncio.wait_for(customer.task, 10)
    assert facts.end_reason == "connection_lost"
    assert ("end", {"type": "end", "reason": "connection_lost"}) in customer.events
    assert customer.over == [facts] and facts.ended_at is not None


async def test_past_the_grace_the_applet_gives_up_on_its_own(
    relay: tuple[FakeRelay, FaultProxy, str], tls: tuple[Path, Path], tmp_path: Path
) -> None:
    fake, proxy, server = relay
    fake.grace_seconds = 2
    customer = start_customer(server, tls, tmp_path)
    await customer.wait_for("active")
    await asyncio.sleep(0.3)
    proxy.black_hole(True)
    started = time.monotonic()
    facts = await asyncio.wait_for(customer.task, 15)
    assert 5.5 <= time.monotonic() - started <= 9  # 4 s of silence, then 2 s of grace
    assert facts.end_reason == "connection_lost"
    assert customer.kinds().count("link_lost") == 1


async def test_ending_offline_is_immediate_and_the_end_goes_out_once_the_link_is_back(
    relay: tuple[FakeRelay, FaultProxy, str], tls: tuple[Path, Path], tmp_path: Path
) -> None:
    fake, proxy, server = relay
    customer = start_customer(server, tls, tmp_path)
    await customer.wait_for("active")
    await asyncio.sleep(0.3)
    proxy.black_hole(True)
    await customer.wait_for("link_lost", within=8)
    customer.link.request({"type": "pause"})
    customer.link.request({"type": "end"})
    await asyncio.sleep(0.3)
    # Over here at once: the receipt's facts are out while the link is still down.
    assert len(customer.over) == 1 and customer.over[0].end_reason == "customer"
    assert ("end", {"type": "end", "reason": "customer"}) in customer.events
    assert not customer.task.done()
    proxy.black_hole(False)
    facts = await asyncio.wait_for(customer.task, 10)
    assert facts.end_reason == "customer"
    assert fake.authorizations[-1].startswith("Resume ")
    assert fake.received[-1] == {"type": "end"}
    assert {"type": "pause"} not in fake.received  # over is over: only the end is sent
    assert len(customer.over) == 1


async def test_an_end_into_a_link_not_yet_known_dead_is_delivered_on_the_next(
    relay: tuple[FakeRelay, FaultProxy, str], tls: tuple[Path, Path], tmp_path: Path
) -> None:
    fake, proxy, server = relay
    customer = start_customer(server, tls, tmp_path)
    await customer.wait_for("active")
    await asyncio.sleep(0.3)
    proxy.black_hole(True)
    customer.link.request({"type": "end"})  # the link looks fine, but is dead
    started = time.monotonic()
    await customer.wait_for("end", within=5)
    assert time.monotonic() - started < 3.5  # the relay's answer is not waited for long
    assert len(customer.over) == 1 and customer.over[0].end_reason == "customer"
    assert "link_lost" not in customer.kinds()  # nothing to restore after an end
    proxy.black_hole(False)
    facts = await asyncio.wait_for(customer.task, 10)
    assert facts.end_reason == "customer"
    assert fake.authorizations[-1].startswith("Resume ")
    assert fake.received[-1] == {"type": "end"}


async def test_a_renewal_asks_again_and_no_ends_the_session(
    relay: tuple[FakeRelay, FaultProxy, str], tls: tuple[Path, Path], tmp_path: Path
) -> None:
    fake, proxy, server = relay
    fake.renewal = True
    customer = start_customer(server, tls, tmp_path, answers=lambda n: n == 1)
    await customer.wait_for("active")
    await asyncio.sleep(0.3)
    proxy.cut()
    await customer.wait_for("renewal", within=8)
    facts = await asyncio.wait_for(customer.task, 10)
    assert len(customer.asked) == 2
    no = fake.received[-1]
    assert (no["type"], no["decision"], no["consent_version"]) == (
        "consent", "no", CURRENT_CONSENT_VERSION
    )  # fmt: skip
    assert facts.end_reason == "customer"
    assert "renewed" not in customer.kinds()


async def test_a_link_lost_before_consent_is_the_end(
    relay: tuple[FakeRelay, FaultProxy, str], tls: tuple[Path, Path], tmp_path: Path
) -> None:
    fake, proxy, server = relay
    reading = threading.Event()

    def never_answers(n: int) -> bool:
        reading.wait(30)  # the customer still reads the dialog when the link drops
        return True

    customer = start_customer(server, tls, tmp_path, answers=never_answers)
    await asyncio.to_thread(lambda: wait_until(lambda: customer.asked, 10, "the dialog"))
    proxy.cut()
    try:
        # Over at once: no secret to resume with, and the open dialog holds nothing up.
        facts = await asyncio.wait_for(customer.task, 10)
    finally:
        reading.set()
    assert facts.end_reason == "connection_lost"
    assert len(fake.authorizations) == 1
