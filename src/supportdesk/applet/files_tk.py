"""File transfer and diagnostics questions as small Tk dialogs.

Each question is a window of its own, opened in the worker thread that asks it (Tk
stays in the thread that created it) and closed when answered. Nothing defaults to
yes: closing a window, or losing the display, declines. Progress and results go to a
progress window that stays open while files move.
"""

from __future__ import annotations

import contextlib
import functools
import tkinter as tk
from pathlib import Path
from tkinter import scrolledtext

from supportdesk.applet.files import FileQuestion, OfferAnswer
from supportdesk.diagnostics.report import DiagnosticsReport
from supportdesk.transfer.endpoint import TransferEvent
from supportdesk.transfer.protocol import Direction, TransferState

WRAP = 460


class ChoiceDialog:
    """A question with buttons; :meth:`run` returns the chosen key, or ``default``
    if the window is closed without an answer."""

    def __init__(
        self,
        title: str,
        text: str,
        choices: list[tuple[str, str]],
        *,
        default: str,
        details: str | None = None,
        screen: str | None = None,
    ) -> None:
        self.answer = default
        self.root = tk.Tk(screenName=screen, className="supportdesk")
        self.root.title(title)
        self.root.attributes("-topmost", True)
        self.root.protocol("WM_DELETE_WINDOW", self.root.destroy)
        frame = tk.Frame(self.root, padx=14, pady=10)
        frame.pack(fill="both", expand=True)
        tk.Label(frame, text=text, wraplength=WRAP, justify="left").pack(anchor="w")
        if details is not None:
            box = scrolledtext.ScrolledText(frame, width=80, height=24, wrap="word")
            box.insert("1.0", details)
            box.configure(state="disabled")
            box.pack(fill="both", expand=True, pady=6)
        bar = tk.Frame(frame)
        bar.pack(anchor="e", pady=(8, 0))
        self.buttons: dict[str, tk.Button] = {}
        for key, label in choices:
            button = tk.Button(bar, text=label, command=functools.partial(self.choose, key))
            button.pack(side="left", padx=(6, 0))
            self.buttons[key] = button

    def choose(self, key: str) -> None:
        self.answer = key
        self.root.destroy()

    def run(self) -> str:
        with contextlib.suppress(tk.TclError):
            self.root.mainloop()
        return self.answer


def _size(count: int) -> str:
    return (
        f"{count / (1024 * 1024):.1f} MiB".replace(".", ",")
        if count >= 1024 * 1024
        else (f"{count} Bytes")
    )


def offer_dialog(question: FileQuestion, screen: str | None = None) -> ChoiceDialog:
    text = (
        f"Ihr Berater möchte Ihnen eine Datei senden:\n\n{question.name}\n"
        f"{_size(question.size)}, SHA-256 {question.sha256[:16]}…\n\nDatei annehmen?"
    )
    choices = [("decline", "Ablehnen")]
    if question.name_taken:
        text += f"\n\n„{question.name}“ gibt es schon: ersetzen oder beide behalten?"
        choices += [("replace", "Ersetzen"), ("keep_both", "Beide behalten")]
    else:
        choices += [("accept", "Annehmen")]
    return ChoiceDialog("Datei annehmen?", text, choices, default="decline", screen=screen)


def report_dialog(report: DiagnosticsReport, screen: str | None = None) -> ChoiceDialog:
    return ChoiceDialog(
        "Diagnoseinformationen",
        "Ihr Berater bittet um Diagnoseinformationen. Bericht senden?",
        [("withhold", "Zurückhalten"), ("send", "Senden")],
        default="withhold",
        details=report.render_text("de"),
        screen=screen,
    )


class TkFilesUI:
    """The :class:`~supportdesk.applet.files.FilesUI` of the windowed applet."""

    def __init__(self, screen: str | None = None) -> None:
        self.screen = screen
        self.status = ""
        """The latest transfer news, for the active window's file line."""

    def ask_offer(self, question: FileQuestion) -> OfferAnswer:
        try:
            return OfferAnswer(offer_dialog(question, self.screen).run())
        except tk.TclError:
            return OfferAnswer.DECLINE

    def confirm_send(self, name: str, size: int) -> bool:
        try:
            dialog = ChoiceDialog(
                "Datei senden?",
                f"Datei an den Berater senden?\n\n{name}\n{_size(size)}",
                [("no", "Abbrechen"), ("yes", "Senden")],
                default="no",
                screen=self.screen,
            )
            return dialog.run() == "yes"
        except tk.TclError:
            return False

    def ask_report(self, report: DiagnosticsReport) -> bool:
        try:
            return report_dialog(report, self.screen).run() == "send"
        except tk.TclError:
            return False

    def show(self, event: TransferEvent, folder: Path) -> None:
        # Called on the link's loop: never block. The active window shows the line.
        if event.state is TransferState.DONE and event.direction is Direction.TO_CUSTOMER:
            self.status = f"Empfangen: {event.final_name or event.name} (in {folder})"
        elif event.state is TransferState.DONE:
            self.status = f"Gesendet: {event.name}"
        elif event.state in (TransferState.DECLINED, TransferState.CANCELLED, TransferState.FAILED):
            self.status = f"Nicht übertragen: {event.name} ({event.outcome or event.state.value})"
        else:
            self.status = f"Übertragung: {event.name}"

    def progress(self, name: str, done: int, size: int) -> None:
        self.status = f"Übertragung: {name} {done * 100 // max(size, 1)} %"
