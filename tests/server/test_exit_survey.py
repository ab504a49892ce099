"""The exit survey against the real server and relay: the relay's "end" carries a token
only for a session that ran, the answer is stored once with the consultation number and
no name, and what an attacker would try is refused without a 500 (sessions that never
ran, a second answer, a replayed or made-up token, oversize or binary comments, bad
stars) — a malformed post does not burn the customer's token."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_server import LiveServer, live_server
from tests.server.relay_parties import (
    AgentBrowser,
    FakeApplet,
    add_agent,
    audit_entries,
    control_socket,
    join_token,
    next_of,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("survey")) as running:
        add_agent(running, "anna")
        yield running


def database(server: LiveServer) -> Path:
    found = sorted(server.workdir.rglob("*.db"))
    assert found, "the server's SQLite file"
    return found[0]


def answers(server: LiveServer) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database(server)) as db:
        return db.execute(
            "SELECT consultation_number, stars, solved, comment FROM survey_answers"
        ).fetchall()


async def ended_session(server: LiveServer, *, consent: bool = True) -> tuple[str, dict[str, Any]]:
    """A session that ran (or was declined), ended by the agent: its number and the
    relay's "end" message."""
    agent = await AgentBrowser.log_in(server, "anna")
    key, number = await agent.new_session()
    applet = await FakeApplet.connect(server, await join_token(server, key))
    await applet.next_control("consent_request")
    if consent:
        await applet.send({"type": "consent", "decision": "yes", "capabilities": ["view"]})
        control = await control_socket(await agent.control_url(number), server.url)
        await next_of(control, "state", state="active")
        await control.send('{"type": "end"}')
    else:
        await applet.send({"type": "consent", "decision": "no", "capabilities": []})
    end = await asyncio.wait_for(applet.next_control("end"), timeout=5)
    await agent.close()
    return number, end


async def post(server: LiveServer, body: dict[str, Any]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url) as customer:
        return await customer.post("/api/v1/survey", json=body)


async def test_an_answer_is_stored_once_with_the_number_and_no_name(server: LiveServer) -> None:
    number, end = await ended_session(server)
    token = end["survey"]
    assert isinstance(token, str) and len(token) >= 40
    stored_before = len(answers(server))

    # Broken answers are refused and leave the token good.
    for broken in (
        {"stars": 0}, {"stars": 6}, {"stars": True}, {"stars": "5"}, {"solved": "maybe"},
        {"comment": "x" * 501}, {"comment": "a\x00b"}, {"comment": "\u202eevil"},
    ):  # fmt: skip
        refused = await post(server, {"token": token, **broken})
        assert refused.status_code == 422, (broken, refused.text)
    assert (await post(server, {"token": "x" * 101, "stars": 3})).status_code == 422
    comment = "Sehr gut erklärt.\r\n<b>Danke</b> " + "ä" * 400
    taken = await post(server, {"token": token, "stars": 5, "solved": "partly", "comment": comment})
    assert taken.status_code == 204, taken.text
    rows = answers(server)
    assert len(rows) == stored_before + 1
    assert rows[-1] == (number, 5, "partly", "Sehr gut erklärt.\n<b>Danke</b> " + "ä" * 400)
    with sqlite3.connect(database(server)) as db:
        row = db.execute("SELECT * FROM survey_answers WHERE consultation_number = ?", (number,))
        assert "Erika" not in repr(row.fetchall())  # the customer's name is nowhere

    # The same token again, a made-up one: nothing more is stored.
    assert (await post(server, {"token": token, "stars": 1})).status_code == 404
    assert (await post(server, {"token": "A" * 43, "stars": 1})).status_code == 404
    assert len(answers(server)) == stored_before + 1
    events = [e["event_type"] for e in audit_entries(server, number)]
    assert events.count("survey.answered") == 1
    answered = next(
        e for e in audit_entries(server, number) if e["event_type"] == "survey.answered"
    )
    assert "Danke" not in str(answered) and answered["actor"] == "customer"


async def test_no_token_for_a_session_that_never_ran(server: LiveServer) -> None:
    _number, end = await ended_session(server, consent=False)
    assert "survey" not in end


async def test_an_empty_answer_is_a_skip_and_stores_nothing(server: LiveServer) -> None:
    number, end = await ended_session(server)
    before = len(answers(server))
    skipped = await post(server, {"token": end["survey"], "stars": None, "comment": "   "})
    assert skipped.status_code == 204
    assert len(answers(server)) == before
    assert not [r for r in answers(server) if r[0] == number]
    # The token was spent by the skip: no answer can follow it.
    assert (await post(server, {"token": end["survey"], "stars": 4})).status_code == 404


async def test_racing_answers_store_one(server: LiveServer) -> None:
    number, end = await ended_session(server)
    results = await asyncio.gather(
        *(post(server, {"token": end["survey"], "stars": n}) for n in (1, 2, 3, 4, 5))
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [204, 404, 404, 404, 404], codes
    assert len([r for r in answers(server) if r[0] == number]) == 1
