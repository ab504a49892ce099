"""The exit survey's Tk window for real on Xvfb, clicked and typed into with xdotool:
an answer comes back as chosen; "Überspringen" returns nothing (nothing is sent)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.applet.test_tk_windows import ROOT, Child
from tests.desktop import Desktop, require_tool

pytestmark = pytest.mark.desktop


class SurveyChild(Child):
    def __init__(self, desk: Desktop, language: str) -> None:
        import queue
        import threading

        self.desk = desk
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.applet.tk_survey_child", language],
            cwd=ROOT, env=desk.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self._lines: queue.SimpleQueue[str] = queue.SimpleQueue()
        threading.Thread(target=self._read_lines, daemon=True).start()
        self.layout = self.read()


def test_an_answer_comes_back_as_chosen(desktop: Desktop) -> None:
    child = SurveyChild(desktop, "de")
    child.click("star4")
    child.click("solved_no")
    child.click("comment")
    desktop.run(require_tool("xdotool"), "type", "--delay", "20", "Zu lange gewartet")
    child.click("send")
    result = child.result()
    assert result["texts"] == {"send": "Antwort senden", "skip": "Überspringen"}
    assert result["answer"] == {"stars": 4, "solved": "no", "comment": "Zu lange gewartet"}


def test_skip_is_one_click(desktop: Desktop) -> None:
    child = SurveyChild(desktop, "en")
    child.click("star2")
    child.click("skip")
    result = child.result()
    assert result["texts"] == {"send": "Send answer", "skip": "Skip"}
    assert result["answer"] is None


def test_sending_nothing_chosen_is_a_skip(desktop: Desktop) -> None:
    child = SurveyChild(desktop, "de")
    child.click("send")
    assert child.result()["answer"] is None
