"""The relay and the customer's masking (real server, real link): the bank's window rules
go out with the consent request, the consent's masking facts and every mask that starts
or stops are audited (kinds only), and the consoles are told."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from supportdesk.applet.consent import build_dialog
from supportdesk.applet.link.consent import consent_answer, consent_request, mask_rules
from supportdesk.domain.consent import Language
from supportdesk.domain.mask_rules import MaskRules, WindowRule
from tests.live_server import LiveServer, live_server
from tests.server.relay_parties import (
    AgentBrowser,
    FakeApplet,
    add_agent,
    audit_entries,
    join_token,
)

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
CONFIG = """
[masking]
rules_version = "2026-12-tan"
windows = [{ title = "SecureGo" }, { application = "keepassxc" }]
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir: Path = tmp_path_factory.mktemp("masking")
    (workdir / "masking.toml").write_text(CONFIG, "utf-8")
    with live_server(workdir, SUPPORTDESK_CONFIG=str(workdir / "masking.toml")) as running:
        add_agent(running, "anna")
        yield running


def kinds_of(server: LiveServer, number: str) -> list[tuple[str, dict]]:
    return [
        (e["event_type"], e["data"])
        for e in audit_entries(server, number)
        if e["event_type"].startswith("session.masking")
    ]


async def test_rules_go_out_and_masking_is_audited_without_content(server: LiveServer) -> None:
    agent = await AgentBrowser.log_in(server, "anna")
    key, number = await agent.new_session()
    applet = await FakeApplet.connect(server, await join_token(server, key))
    request = await applet.next_control("consent_request")
    assert mask_rules(request) == MaskRules(
        "2026-12-tan", (WindowRule(title="SecureGo"), WindowRule(application="keepassxc"))
    )
    dialog = build_dialog(consent_request(request, None), Language.DE)
    answer = consent_answer(dialog.decide(True, [], NOW))
    answer["masking"] = {"automatic": True, "rules_version": "2026-12-tan"}
    await applet.send(answer)
    assert (await applet.next_control("state"))["state"] == "active"

    await applet.send({"type": "masking", "kinds": ["secret_input"]})
    state = await applet.next_control("state")
    assert state["masking"] == ["secret_input"]
    await applet.send({"type": "masking", "kinds": ["privacy", "secret_input"]})
    await applet.next_control("state")
    await applet.send({"type": "masking", "kinds": []})
    state = await applet.next_control("state")
    assert state["masking"] == []
    entries = kinds_of(server, number)
    # written beside the consent path: somewhere in the trail, once
    assert (
        entries.count(
            (
                "session.masking_setup",
                {
                    "automatic": True,
                    "rules_version": "2026-12-tan",
                    "rules": 2,
                    "rules_confirmed": True,
                },
            )
        )
        == 1
    )
    assert [e for e in entries if e[0] != "session.masking_setup"] == [
        ("session.masking_started", {"kinds": ["secret_input"]}),
        ("session.masking_started", {"kinds": ["privacy"]}),
        ("session.masking_stopped", {"kinds": ["privacy", "secret_input"]}),
    ]  # fmt: skip


async def test_a_masking_message_with_an_unknown_kind_breaks_the_link(server: LiveServer) -> None:
    agent = await AgentBrowser.log_in(server, "anna")
    key, number = await agent.new_session()
    applet = await FakeApplet.connect(server, await join_token(server, key))
    request = await applet.next_control("consent_request")
    dialog = build_dialog(consent_request(request, None), Language.DE)
    await applet.send(consent_answer(dialog.decide(True, [], NOW)))
    await applet.next_control("state")
    await applet.send({"type": "masking", "kinds": ["where=100,200"]})
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(applet.next_control("(nothing)"), 10)
    (setup,) = [d for e, d in kinds_of(server, number) if e == "session.masking_setup"]
    assert setup["automatic"] is False  # not reported: not claimed
