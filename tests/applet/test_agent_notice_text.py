"""Text mode's notice of another agent: the line says who took over or joined and, while
that agent could control, the command that refuses it; the command ("a", or "r") sends
exactly one ``refuse_control`` naming the notice. First with the link stood in for (as
the other text-mode tests do), then the real program in text mode (``run_join``)
against the real server, while the session's owner invites a colleague with control."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from supportdesk.applet.agent_notice_text import TextNotices
from supportdesk.applet.join import run_join
from supportdesk.applet.join_text import TextControls
from supportdesk.capture.screen_source import MemoryScreenSource
from supportdesk.domain.consent import Language
from supportdesk.store.agents import AgentAccounts
from supportdesk.store.database import create_engine, session_factory
from tests.live_server import LiveServer, live_server, self_signed_certificate
from tests.server.relay_parties import AgentBrowser, add_agent, audit_entries, next_of

DE, EN = Language.DE, Language.EN


class FakeLink:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.control_allowed = True

    def request(self, message: dict[str, Any]) -> None:
        self.requests.append(message)


def notice(**fields: object) -> dict[str, Any]:
    return {"type": "agent_notice", "notice": "n1", "change": "joined", "agent_name": "Carla",
            "refusable": True, **fields}  # fmt: skip


def run_commands(link: FakeLink, notices: TextNotices, commands: str, out: io.StringIO) -> None:
    controls = TextControls(link, io.StringIO(commands), out, notices=notices)  # type: ignore[arg-type]
    controls.start()
    controls.thread.join(5)
    assert not controls.thread.is_alive()


@pytest.mark.parametrize(
    ("language", "shown", "refused", "nothing"),
    [
        (
            DE,
            "Carla ist Ihrer Fernwartung beigetreten und darf Ihren Computer steuern. "
            "Geben Sie a ein, um die Steuerung durch diese Person abzulehnen.",
            "Carla darf Ihren Computer nicht steuern.",
            "Gerade gibt es nichts abzulehnen.",
        ),
        (
            EN,
            "Carla has joined your support session and may control your computer. "
            "Type r to refuse their control.",
            "Carla may not control your computer.",
            "There is nothing to refuse right now.",
        ),
    ],
)
def test_the_notice_names_the_command_and_it_refuses_once(
    language: Language, shown: str, refused: str, nothing: str
) -> None:
    link, out = FakeLink(), io.StringIO()
    notices = TextNotices(link.request, out, language)
    notices.show(notice())
    assert out.getvalue().splitlines() == [shown]  # one line
    # Both letters work in both languages; the second refusal of one notice sends nothing.
    run_commands(link, notices, "a\nr\n", out)
    assert link.requests == [{"type": "refuse_control", "notice": "n1"}]
    assert out.getvalue().splitlines()[-2:] == [refused, nothing]


def test_without_a_refusable_notice_the_command_sends_nothing() -> None:
    link, out = FakeLink(), io.StringIO()
    notices = TextNotices(link.request, out, DE)
    run_commands(link, notices, "a\n", out)  # no notice at all
    notices.show(notice(refusable=False, agent_name="Dora"))
    notices.show(notice(change="left", notice="n2", refusable=False))
    run_commands(link, notices, "a\n", out)
    assert link.requests == []
    assert [line for line in out.getvalue().splitlines() if not line.startswith("Befehle")] == [
        "Gerade gibt es nichts abzulehnen.",
        "Dora ist Ihrer Fernwartung beigetreten.",
        "Carla hat Ihre Fernwartung verlassen.",
        "Gerade gibt es nichts abzulehnen.",
    ]
    # A name with control characters (from the server) cannot steer the terminal.
    notices.show(notice(change="took_over", notice="n3", agent_name="Bernd\x1b[2J\nX"))
    assert out.getvalue().splitlines()[-1].startswith("Bernd[2J X hat Ihre Fernwartung")


def test_a_newer_notice_is_the_one_refused() -> None:
    link, out = FakeLink(), io.StringIO()
    notices = TextNotices(link.request, out, DE)
    notices.show(notice())
    notices.show(notice(notice="n2", agent_name="Bernd", change="took_over"))
    notices.refuse()
    assert link.requests == [{"type": "refuse_control", "notice": "n2"}]


# -- the real program against the real server ----------------------------------------------


PASSWORD = "korrekt pferd batterie heftklammer"


class Output(io.TextIOBase):
    """The program's standard output, lines as they come, waited for by pattern."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._partial = ""
        self._changed = threading.Condition()

    def write(self, text: str) -> int:
        with self._changed:
            self._partial += text
            *done, self._partial = self._partial.split("\n")
            self.lines += done
            self._changed.notify_all()
        return len(text)

    def wait_for(self, pattern: str, after: int = 0, timeout: float = 30) -> int:
        """The index of the first line from ``after`` on matching ``pattern``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for index in range(after, len(self.lines)):
                    if re.search(pattern, self.lines[index]):
                        return index
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"never printed {pattern!r}:\n" + "\n".join(self.lines))
                self._changed.wait(left)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("text-notice")
    tls = self_signed_certificate(folder)
    with live_server(folder, tls=tls) as running:
        for name in ("anna", "carla"):
            add_agent(running, name)
        yield running


def tls_of(server: LiveServer) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.workdir / "cert.pem"))


async def test_the_program_in_text_mode_refuses_a_colleagues_control(
    server: LiveServer,
) -> None:
    context = tls_of(server)
    anna = await AgentBrowser.log_in(
        server, "anna", httpx.AsyncClient(base_url=server.url, verify=context)
    )
    key, number = await anna.new_session()
    async with httpx.AsyncClient(base_url=server.url, verify=context) as customer:
        joined = await customer.post("/api/v1/join", json={"name": "Erika", "support_key": key})
    token = joined.json()["token"]
    read, write = os.pipe()
    stdin, typing = os.fdopen(read, "r"), os.fdopen(write, "w")
    out = Output()
    over: list[Any] = []
    program = threading.Thread(
        target=lambda: over.append(
            run_join(
                server.url, token, text_mode=True, ca_file=str(server.workdir / "cert.pem"),
                monitor=0, language="de", stdin=stdin, stdout=out,  # type: ignore[arg-type]
                screen_source=lambda: MemoryScreenSource(), input_sink=lambda: None,
            )
        ),
        daemon=True,
    )  # fmt: skip
    program.start()
    try:
        await asyncio.to_thread(out.wait_for, "Maus und Tastatur steuern")  # the dialog
        typing.write("j\nn\nn\nJa\n")  # control yes, files and diagnostics no, "Ja"
        typing.flush()
        active = await asyncio.to_thread(out.wait_for, "Fernwartung aktiv")
        control_url = await anna.control_url(number)
        async with connect(
            control_url, ssl=context, additional_headers={"Origin": server.url}
        ) as control:
            await next_of(control, "state", state="active")
            carla = await AgentBrowser.log_in(
                server, "carla", httpx.AsyncClient(base_url=server.url, verify=context)
            )
            carla_id = await _agent_id(server, "carla")
            await control.send(
                json.dumps({"type": "invite_helper", "agent": carla_id, "control": True})
            )
            line = await asyncio.to_thread(out.wait_for, "Carla ist Ihrer Fernwartung", active)
            assert out.lines[line] == (
                "Carla ist Ihrer Fernwartung beigetreten und darf Ihren Computer steuern. "
                "Geben Sie a ein, um die Steuerung durch diese Person abzulehnen."
            )
            await next_of(control, "state", controllers=["agent:anna", "agent:carla"])
            typing.write("a\n")
            typing.flush()
            await asyncio.to_thread(out.wait_for, "Carla darf Ihren Computer nicht steuern", line)
            await next_of(control, "state", controllers=["agent:anna"])
            typing.write("a\n")  # again: nothing left to refuse, nothing sent
            typing.flush()
            await asyncio.to_thread(out.wait_for, "Gerade gibt es nichts abzulehnen", line)
            await control.send('{"type": "end"}')
            await asyncio.to_thread(out.wait_for, "Wie zufrieden", line)  # the exit survey
            typing.write("\n")  # skipped
            typing.flush()
            await asyncio.to_thread(program.join, 30)
        assert over and over[0].end_reason == "agent"
        refusals = [
            e for e in audit_entries(server, number) if e["event_type"] == "session.control_refused"
        ]
        assert [(e["actor"], e["data"]) for e in refusals] == [
            ("customer", {"agent": "agent:carla"})
        ]
        await carla.close()
    finally:
        typing.close()
        await anna.close()


async def _agent_id(server: LiveServer, username: str) -> int:
    engine = create_engine(f"sqlite+aiosqlite:///{server.workdir / 'var' / 'supportdesk.db'}")
    try:
        async with session_factory(engine)() as db:
            agent = await AgentAccounts(db).by_username(username)
    finally:
        await engine.dispose()
    assert agent is not None
    return agent.id
