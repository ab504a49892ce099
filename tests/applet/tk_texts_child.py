"""Child process for the language tests: every applet window in one language, read back.

``python -m tests.applet.tk_texts_child de|en`` builds the first window, the consent
window, the active window and the file dialogs on $DISPLAY one after the other, reads
the texts Tk shows (titles, labels, buttons) and prints them as one JSON object. Tk runs
in a child so it never outlives the test's X server.
"""

from __future__ import annotations

import json
import sys
import tkinter as tk
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from supportdesk.applet.consent import ConsentRequest
from supportdesk.applet.files import FileQuestion
from supportdesk.applet.texts import gettext_for, link_notice
from supportdesk.applet.tk.active_window import ActiveWindow
from supportdesk.applet.tk.consent import ConsentWindow
from supportdesk.applet.tk.files import offer_dialog, report_dialog, send_dialog
from supportdesk.applet.tk.join import JoinWindow
from supportdesk.applet.tk.link_lost import ConnectionLostWindow
from supportdesk.diagnostics.probe import Label, ProbeStatus
from supportdesk.diagnostics.report import DiagnosticsReport, ReportEntry
from supportdesk.domain.consent import Language

REQUEST = ConsentRequest(
    bank_name="Volksbank Musterstadt eG",
    bank_domain="support.volksbank-musterstadt.de",
    agent_name="Anna Schmidt",
    consultation_number="BN-2026-4821-7730-8",
    verification_code="K7M-4XP",
)


def labels(widget: tk.Misc) -> list[str]:
    """The text of every label (themed or classic) under ``widget``, in creation order."""
    found = []
    for child in widget.winfo_children():
        if child.winfo_class() in ("TLabel", "Label"):
            found.append(str(child.cget("text")))
        found += labels(child)
    return found


def texts(widget: tk.Misc) -> list[str]:
    """The contents of every text box under ``widget`` (the diagnostics report)."""
    found = []
    for child in widget.winfo_children():
        if isinstance(child, tk.Text):
            found.append(child.get("1.0", "end"))
        found += texts(child)
    return found


def buttons(named: Mapping[str, tk.Misc]) -> dict[str, str]:
    return {name: str(button.cget("text")) for name, button in named.items()}


class Session:
    paused = False
    control = True
    stopped = False

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def set_control(self, allowed: bool) -> None:
        self.control = allowed

    def stop(self) -> None:
        self.stopped = True


class Files:
    status = ""

    def send_file(self, path: Path) -> None: ...

    def open_folder(self) -> None: ...

    def cancel_running(self) -> None: ...


def consent(language: Language) -> dict[str, Any]:
    window = ConsentWindow(REQUEST, language=language)
    shown = {
        "title": window.root.title(),
        "labels": labels(window.root),
        "buttons": buttons(window.buttons),
        "choices": [str(box.cget("text")) for box in window.checkbuttons.values()],
    }
    window.switch_language()
    shown["switched_title"] = window.root.title()
    shown["switched_buttons"] = buttons(window.buttons)
    window.root.destroy()
    return shown


def active(language: Language) -> dict[str, Any]:
    session, watching = Session(), list[str]()
    window = ActiveWindow(
        session,
        consultation_number=REQUEST.consultation_number,
        verification_code=REQUEST.verification_code,
        agent_name=REQUEST.agent_name,
        watchers=lambda: watching,
        files=Files(),
        language=language,
    )
    window.root.update()
    shown: dict[str, Any] = {
        "title": window.root.title(),
        "labels": labels(window.root),
        "buttons": buttons(window.buttons),
        # The words Tk's own file chooser uses (X11): "Öffnen" / "Open".
        "file_chooser_open": window.root.tk.eval('namespace eval ::tk {::msgcat::mc "&Open"}'),
    }
    window.toggle_pause()
    window.toggle_control()
    watching.append("Anna Schmidt")
    window._refresh()
    shown["toggled_buttons"] = buttons(window.buttons)
    shown["watching"] = window.watching.cget("text")
    window.root.destroy()
    return shown


def a_report() -> DiagnosticsReport:
    entry = ReportEntry(
        "clock", Label("Uhrzeit und Zeitzone", "Clock and time zone"), ProbeStatus.OK,
        {"time_zone": "Europe/Berlin"}, None, (), 0.01,
    )  # fmt: skip
    return DiagnosticsReport(datetime(2026, 11, 30, 9, 0, tzinfo=UTC), (entry,))


def dialogs(language: Language) -> dict[str, Any]:
    report = a_report()
    taken = FileQuestion("t1", "brief.txt", 3 * 1024 * 1024, "ab" * 32, name_taken=True)
    fresh = FileQuestion("t2", "neu.txt", 10, "ab" * 32, name_taken=False)
    shown = {}
    for name, dialog in (
        ("offer_taken", offer_dialog(taken, language=language)),
        ("offer_fresh", offer_dialog(fresh, language=language)),
        ("report", report_dialog(report, language=language)),
        ("send", send_dialog("Kontoauszug.csv", 1234, language=language)),
    ):
        shown[name] = {
            "title": dialog.root.title(),
            "labels": labels(dialog.root),
            "buttons": buttons(dialog.buttons),
            "details": texts(dialog.root),
        }
        dialog.root.destroy()
    return shown


def link(language: Language) -> dict[str, Any]:
    """A lost link: the active window's notice while reconnecting, and the window that
    says the session ended because the link did not come back."""
    _ = gettext_for(language)
    window = ActiveWindow(
        Session(),
        consultation_number=REQUEST.consultation_number,
        verification_code=REQUEST.verification_code,
        agent_name=REQUEST.agent_name,
        notice=lambda: link_notice(True, False, "", _),
        language=language,
    )
    window.root.update()
    shown: dict[str, Any] = {"reconnecting_notice": window.notice_label.cget("text")}
    window.root.destroy()
    lost = ConnectionLostWindow(language)
    lost.root.update()
    shown["lost"] = {
        "title": lost.root.title(),
        "labels": labels(lost.root),
        "button": lost.button.cget("text"),
    }
    lost.root.destroy()
    return shown


def join(language: Language) -> dict[str, Any]:
    """The program's first window, and what it says when a field is empty."""
    window = JoinWindow(lambda name, key: {}, language=language)
    window.root.update()
    shown: dict[str, Any] = {
        "title": window.root.title(),
        "labels": [text for text in labels(window.root) if text],
        "button": window.button.cget("text"),
    }
    window.submit()
    shown["both_needed"] = window.message.cget("text")
    window.root.destroy()
    return shown


if __name__ == "__main__":
    chosen = Language(sys.argv[1])
    result = {
        "consent": consent(chosen),
        "active": active(chosen),
        "dialogs": dialogs(chosen),
        "link": link(chosen),
        "join": join(chosen),
    }
    print(json.dumps(result, ensure_ascii=False), flush=True)
