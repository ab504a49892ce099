"""The recording of a session with a hand-over and a helper, through the real server:
the player's timeline marks the colleague invited to watch, given control, refused by
the customer, sent away, and the hand-over, in the order they happened and at the
times the audit trail has for them; the auditor's player page names them in German
and in English."""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from supportdesk.domain.audit_chain import AuditEntry
from supportdesk.recording import RecordingReader
from supportdesk.recording.timeline import Mark, MarkKind, timeline
from supportdesk.server.state import Desk
from tests.live_server import LiveServer
from tests.server.in_process_server import in_process_server
from tests.server.relay_parties import TOKEN, AgentBrowser, add_agent, control_socket, next_of
from tests.server.test_session_handover import agent_id, answer, live_session

TEAM_MARKS = {
    MarkKind.HAND_OVER,
    MarkKind.HELPER_JOINED,
    MarkKind.HELPER_CHANGED,
    MarkKind.HELPER_LEFT,
    MarkKind.CONTROL_REFUSED,
}
# The audit entry each team mark stands for, in the order they happen.
AUDITED = [
    "session.helper_invited",
    "session.helper_invited",
    "session.control_refused",
    "session.helper_left",
    "session.handed_over",
    "session.handed_over",  # Anna watching on is part of the same hand-over
]
EVENT = re.compile(
    r'<li data-at-us="(\d+)" data-kind="([a-z_]+)"><button[^>]*>[^<]*</button> ([^<]*)</li>'
)
CLOCK_SLACK_US = 500_000  # the audit entry and the recorded state are a few ms apart


@pytest.fixture(scope="module")
async def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[LiveServer, Desk]]:
    async with in_process_server(tmp_path_factory.mktemp("handover-rec")) as (running, app):
        for name, role in (("anna", "agent"), ("bernd", "agent"), ("carla", "agent"),
                           ("rita", "auditor")):  # fmt: skip
            await asyncio.to_thread(add_agent, running, name, role)
        yield running, app.state.desk


async def audited(desk: Desk, number: str, event_type: str) -> list[AuditEntry]:
    for _ in range(100):
        found = [e for e in await desk.audit.for_subject(number) if e.event_type == event_type]
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {event_type} for {number}")


async def session_with_a_team(server: LiveServer, desk: Desk) -> str:
    """Anna invites Carla to watch, then to control; the customer refuses Carla; Anna
    sends her away and hands the session to Bernd, watching on; Bernd ends it."""
    anna, applet, control, number = await live_session(server)
    for name in ("carla", "bernd"):
        await AgentBrowser.log_in(server, name)
    carla = await agent_id(desk, "carla")
    await control.send(json.dumps({"type": "invite_helper", "agent": carla}))
    assert (await answer(control))["type"] == "team_done"
    await asyncio.sleep(0.3)  # marks a moment apart, so their order is the time's
    await control.send(json.dumps({"type": "invite_helper", "agent": carla, "control": True}))
    assert (await answer(control))["type"] == "team_done"
    joined = await applet.next_control("agent_notice")
    while not joined["refusable"]:
        joined = await applet.next_control("agent_notice")
    await asyncio.sleep(0.3)
    await applet.send({"type": "refuse_control", "notice": joined["notice"]})
    await next_of(control, "state", controllers=["agent:anna"])
    await asyncio.sleep(0.3)
    await control.send(json.dumps({"type": "release_helper", "actor": "agent:carla"}))
    assert (await answer(control))["type"] == "team_done"
    await asyncio.sleep(0.3)
    bernd_id = await agent_id(desk, "bernd")
    await control.send(
        json.dumps(
            {"type": "hand_over", "agent": bernd_id, "owner": "agent:anna", "keep_watching": True}
        )
    )
    assert (await answer(control))["type"] == "team_done"
    await applet.next_control("agent_notice")
    await asyncio.sleep(0.3)
    bernd = await AgentBrowser.log_in(server, "bernd")
    taken = await control_socket(await bernd.control_url(number), server.url)
    await next_of(taken, "state", state="active")
    await taken.send('{"type": "end"}')
    await applet.next_control("end")
    for agent in (anna, bernd):
        await agent.close()
    return number


async def test_the_timeline_marks_the_team_in_order_at_the_audited_times(
    served: tuple[LiveServer, Desk],
) -> None:
    server, desk = served
    number = await session_with_a_team(server, desk)
    (finished,) = await audited(desk, number, "recording_finished")
    path = Path(desk.relay.recordings.directory) / finished.data["file"]
    with RecordingReader(path, desk.settings.recording.master_key_bytes()) as reader:
        started = reader.started_at
        marks = [m for m in timeline(reader.events()) if m.kind in TEAM_MARKS]
    assert [(m.kind, m.who, m.text) for m in marks] == [
        (MarkKind.HELPER_JOINED, "Carla", "view"),
        (MarkKind.HELPER_CHANGED, "Carla", "control"),
        (MarkKind.CONTROL_REFUSED, "Carla", ""),
        (MarkKind.HELPER_LEFT, "Carla", ""),
        (MarkKind.HAND_OVER, "Bernd", "Anna"),
        (MarkKind.HELPER_JOINED, "Anna", "view"),
    ]
    entries = [e for e in await desk.audit.for_subject(number) if e.event_type in set(AUDITED)]
    assert [e.event_type for e in entries] == AUDITED[:-1]
    times = [_since(started, e) for e in entries]
    for mark, at_us in zip(marks, [*times, times[-1]], strict=True):
        assert abs(mark.at_us - at_us) < CLOCK_SLACK_US, (mark, at_us)
    assert [m.at_us for m in marks] == sorted(m.at_us for m in marks)
    await _player_page_names_them(server, number, marks)


def _since(started: datetime, entry: AuditEntry) -> int:
    return int((datetime.fromisoformat(entry.timestamp) - started).total_seconds() * 1_000_000)


async def _player_page_names_them(server: LiveServer, number: str, marks: list[Mark]) -> None:
    rita = await AgentBrowser.log_in(server, "rita")
    listing = await rita.http.get("/console/recordings")
    token = TOKEN.search(listing.text)
    assert token
    opened = await rita.http.post(
        f"/console/recordings/{number}/open",
        data={"reason": "Beschwerde des Kunden prüfen", "csrf_token": token.group(1)},
    )
    assert opened.status_code == 303, opened.text
    shown = {
        "de": [
            "Kollegin oder Kollege hinzugezogen: Carla (sieht zu)",
            "Rechte der Kollegin oder des Kollegen geändert: Carla (darf steuern)",
            "Steuerung vom Kunden abgelehnt: Carla",
            "Kollegin oder Kollege nicht mehr dabei: Carla",
            "Sitzung übergeben: Anna → Bernd",
            "Kollegin oder Kollege hinzugezogen: Anna (sieht zu)",
        ],
        "en": [
            "Colleague invited to help: Carla (watching)",
            "Colleague's access changed: Carla (may control)",
            "Control refused by the customer: Carla",
            "Colleague no longer helping: Carla",
            "Session handed over: Anna → Bernd",
            "Colleague invited to help: Anna (watching)",
        ],
    }
    for language, lines in shown.items():
        rita.http.cookies.set("sd_lang", language)
        page = await rita.http.get(f"/console/recordings/{number}/player")
        assert page.status_code == 200
        events = EVENT.findall(page.text)
        team = [(int(at), kind, html.unescape(text)) for at, kind, text in events
                if kind in {k.value for k in TEAM_MARKS}]  # fmt: skip
        assert team == [
            (m.at_us, m.kind.value, line) for m, line in zip(marks, lines, strict=True)
        ], language
        # Each one is on the timeline track too, where the auditor can see it.
        for mark in marks:
            assert f'class="mark mark-{mark.kind.value}" data-at-us="{mark.at_us}"' in page.text
    await rita.close()
