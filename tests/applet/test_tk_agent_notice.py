"""The active window's notice of another agent, for real on Xvfb: the bar names who
took over or joined and shows "Ablehnen" while that agent could control; clicked with
xdotool (twice, as a hurried double click), it sends exactly one ``refuse_control``
naming the notice, says the agent may not control, and the button goes; a notice
that cannot be refused has no button (tk_notice_child.py). The window's agent line
follows the relay's state: after a hand-over it names the new agent and who controls,
and a row of helpers shows while colleagues help."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.desktop import Desktop, require_tool

pytestmark = pytest.mark.desktop
ROOT = Path(__file__).resolve().parents[2]


def notice(notice: str, change: str, name: str, refusable: bool) -> dict[str, Any]:
    return {"notice": {"type": "agent_notice", "notice": notice, "change": change,
                       "agent_name": name, "refusable": refusable}}  # fmt: skip


class NoticeWindow:
    """tk_notice_child.py on the test desktop: commands in on stdin, reports out."""

    def __init__(self, desk: Desktop, language: str) -> None:
        self.desk = desk
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.applet.tk_notice_child", language],
            cwd=ROOT, env=desk.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self._lines: queue.SimpleQueue[str] = queue.SimpleQueue()
        threading.Thread(target=self._read, daemon=True).start()
        self._next()  # the window is shown

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put("")

    def _next(self, timeout: float = 15) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            self.proc.kill()
            raise AssertionError("the window said nothing") from None
        if not line:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise AssertionError(f"the window ended: {err}")
        data: dict[str, Any] = json.loads(line)
        return data

    def send(self, command: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def report(self) -> dict[str, Any]:
        self.send({"report": True})
        return self._next()

    def click(self, at: list[int], times: int = 1) -> None:
        # Off the spot first: "--sync" waits for a move, and none comes to where it is.
        xdotool = require_tool("xdotool")
        self.desk.run(xdotool, "mousemove", "--sync", str(at[0] + 40), str(at[1] + 40))
        self.desk.run(
            xdotool, "mousemove", "--sync", str(at[0]), str(at[1]),
            "click", "--repeat", str(times), "--delay", "60", "1",
        )  # fmt: skip

    def close(self) -> None:
        self.send({"quit": True})
        assert self.proc.wait(10) == 0


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("de", {
            "button": "Ablehnen",
            "took_over": "Bernd hat Ihre Fernwartung übernommen.",
            "refused": "Bernd darf Ihren Computer nicht steuern.",
            "joined": "Carla ist Ihrer Fernwartung beigetreten.",
            "joined_control": "Dora ist Ihrer Fernwartung beigetreten und darf Ihren "
                              "Computer steuern.",
        }),
        ("en", {
            "button": "Refuse",
            "took_over": "Bernd has taken over your support session.",
            "refused": "Bernd may not control your computer.",
            "joined": "Carla has joined your support session.",
            "joined_control": "Dora has joined your support session and may control your "
                              "computer.",
        }),
    ],
)  # fmt: skip
def test_ablehnen_sends_exactly_one_refusal(
    desktop: Desktop, language: str, words: dict[str, str]
) -> None:
    window = NoticeWindow(desktop, language)
    try:
        window.send(notice("n1", "took_over", "Bernd", True))
        shown = window.report()
        assert (shown["text"], shown["button"]) == (words["took_over"], words["button"])
        assert shown["refuse_shown"] and shown["sent"] == []
        window.click(shown["refuse_at"], times=2)  # a hurried double click
        after = window.report()
        assert after["sent"] == [{"type": "refuse_control", "notice": "n1"}]
        assert after["text"] == words["refused"] and not after["refuse_shown"]
        # The same place clicked again: nothing is there to send another.
        window.click(shown["refuse_at"])
        assert window.report()["sent"] == after["sent"]

        window.send(notice("n2", "joined", "Carla", False))
        watching = window.report()
        assert watching["text"] == words["joined"] and not watching["refuse_shown"]

        window.send(notice("n3", "joined", "Dora", True))
        helper = window.report()
        assert helper["text"] == words["joined_control"] and helper["refuse_shown"]
        window.click(helper["refuse_at"])
        assert window.report()["sent"] == [
            {"type": "refuse_control", "notice": "n1"},
            {"type": "refuse_control", "notice": "n3"},
        ]
    finally:
        window.close()


def team_state(owner: str, helpers: list[tuple[str, bool]], control: bool = True) -> dict[str, Any]:
    agents = [{"name": owner, "owner": True, "control": control}]
    agents += [{"name": name, "owner": False, "control": c} for name, c in helpers]
    return {"state": {"type": "state", "state": "active", "capabilities": ["view", "control"],
                      "paused": False, "agents": agents}}  # fmt: skip


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("de", {"before": "Anna Schmidt", "after": "Bernd Becker (steuert)",
                "helping": "Hinzugezogen:", "helpers": "Anna Berger (sieht zu)"}),
        ("en", {"before": "Anna Schmidt", "after": "Bernd Becker (controls)",
                "helping": "Helping:", "helpers": "Anna Berger (watching)"}),
    ],
)  # fmt: skip
def test_the_agent_line_names_who_took_over(
    desktop: Desktop, language: str, words: dict[str, str]
) -> None:
    window = NoticeWindow(desktop, language)
    try:
        first = window.report()  # before any state: the name consent was given to
        assert (first["agent"], first["helpers"]) == (words["before"], None)
        window.send(team_state("Bernd Becker", [("Anna Berger", False)]))
        window.send(notice("n1", "took_over", "Bernd Becker", True))
        after = window.report()
        assert after["agent"] == words["after"]
        assert (after["helpers_label"], after["helpers"]) == (words["helping"], words["helpers"])
        window.send(team_state("Bernd Becker", []))  # Anna no longer watches
        alone = window.report()
        assert (alone["agent"], alone["helpers"]) == (words["after"], None)
    finally:
        window.close()
