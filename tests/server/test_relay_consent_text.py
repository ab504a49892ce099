"""The audit cites the consent text the customer read: the program reports it, the relay
accepts only a text it knows (real server, real link, the program's own consent code)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from supportdesk.applet.consent import build_dialog
from supportdesk.applet.link.consent import consent_answer, consent_request
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import Language
from supportdesk.link.frames import encode_control
from tests.live_server import LiveServer, live_server
from tests.server.relay_parties import (
    AgentBrowser,
    FakeApplet,
    add_agent,
    audit_entries,
    join_token,
)

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("consent-text")) as running:
        add_agent(running, "anna")
        yield running


async def asked(server: LiveServer) -> tuple[FakeApplet, dict, str]:
    agent = await AgentBrowser.log_in(server, "anna")
    key, number = await agent.new_session()
    applet = await FakeApplet.connect(server, await join_token(server, key))
    return applet, await applet.next_control("consent_request"), number


def entries(server: LiveServer, number: str, kind: str) -> list[dict]:
    return [e["data"] for e in audit_entries(server, number) if e["event_type"] == kind]


async def test_the_audit_cites_the_switched_language_and_the_ticks(server: LiveServer) -> None:
    """The relay once audited the text it rendered in the link's language (German here),
    naming every capability, while the customer read the English one for view and
    control."""
    applet, request, number = await asked(server)
    dialog = build_dialog(consent_request(request, None), Language.DE)  # opened in German
    english = build_dialog(dialog.request, Language.EN, [Capability.CONTROL])  # switched
    record = english.decide(True, [Capability.CONTROL], NOW)
    await applet.send(consent_answer(record))
    state = await applet.next_control("state")
    assert state["state"] == "active"
    (given,) = entries(server, number, "consent.given")
    assert given["language"] == "en"
    assert given["text_sha256"] == english.rendered.sha256
    assert given["capabilities"] == ["control", "view"]
    (requested,) = entries(server, number, "consent.requested")
    assert requested["language"] == "de" and requested["text_sha256"] != given["text_sha256"]


@pytest.mark.parametrize(
    "forged",
    [
        {"capabilities": ["control", "diagnostics", "view"]},  # more than the text named
        {"consent_sha256": "0" * 64},  # a text the server never had
        {"language": "de"},  # the English text passed off as the German one
    ],
    ids=["more-than-read", "unknown-text", "wrong-language"],
)
async def test_a_yes_on_a_text_the_server_does_not_know_declines(
    server: LiveServer, forged: dict
) -> None:
    applet, request, number = await asked(server)
    dialog = build_dialog(consent_request(request, None), Language.EN, [Capability.CONTROL])
    message = consent_answer(dialog.decide(True, [Capability.CONTROL], NOW)) | forged
    await applet.send(message)
    state = await applet.next_control("state")
    assert state["state"] == "declined"
    assert state["declined_reason"] == "text_mismatch"
    (declined,) = entries(server, number, "consent.declined")
    assert declined["reason"] == "text_mismatch" and declined["capabilities"] == []
    assert not entries(server, number, "consent.given")


async def test_a_program_that_cites_no_text_is_not_taken_at_its_word(server: LiveServer) -> None:
    applet, _request, _number = await asked(server)
    bare = {"type": "consent", "decision": "yes", "capabilities": ["view", "control"]}
    await applet.socket.send(encode_control(bare))  # past the fake's own citing
    state = await applet.next_control("state")
    assert state["declined_reason"] == "text_mismatch"
