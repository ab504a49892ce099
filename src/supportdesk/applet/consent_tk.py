"""The consent dialog as a Tk window: "Ja" consents, "Nein" or closing the window declines.

The window shows the :class:`~supportdesk.applet.consent.ConsentDialog` model line for
line (German first, a button switches to English and back, keeping the ticks) and stays
on top. Nothing defaults to consent: optional capabilities start unticked, Return does
not press "Ja", and a window that disappears without an answer (closed, destroyed,
display gone) counts as "Nein".
"""

from __future__ import annotations

import contextlib
import tkinter as tk
from collections.abc import Callable
from datetime import UTC, datetime

from supportdesk.applet.consent import ConsentRequest, build_dialog
from supportdesk.applet.texts import other_language
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import DEFAULT_LANGUAGE, ConsentRecord, Language

WRAP = 520
WARNING_COLOUR = "#a00000"


class ConsentWindow:
    """The window; :meth:`run` blocks until the customer answers and returns the record."""

    def __init__(
        self,
        request: ConsentRequest,
        *,
        language: Language = DEFAULT_LANGUAGE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        screen: str | None = None,
    ) -> None:
        self.request = request
        self._clock = clock
        self.root = tk.Tk(screenName=screen, className="supportdesk")
        self.root.resizable(False, False)
        self.root.attributes("-topmost", True)
        self.root.protocol("WM_DELETE_WINDOW", self.decline)
        self.root.bind("<Escape>", lambda _e: self.decline())
        self._ticks = {c: tk.BooleanVar(self.root, value=False) for c in Capability}
        self._body: tk.Frame | None = None
        self.buttons: dict[str, tk.Button] = {}
        self.checkbuttons: dict[Capability, tk.Checkbutton] = {}
        self.record: ConsentRecord | None = None
        self.dialog = build_dialog(request, language)
        self._build()

    def _build(self) -> None:
        """(Re)build the contents for the current language."""
        if self._body is not None:
            self._body.destroy()
        d = self.dialog
        self.root.title(d.title)
        body = self._body = tk.Frame(self.root, padx=16, pady=12)
        body.pack(fill="both", expand=True)
        grid = tk.Frame(body)
        grid.pack(anchor="w")
        for row, (label, value) in enumerate(d.identity_lines()):
            tk.Label(grid, text=label + ":").grid(row=row, column=0, sticky="w", padx=(0, 8))
            font = ("TkFixedFont", 16, "bold") if row == 4 else ("TkDefaultFont", 10, "bold")
            tk.Label(grid, text=value, font=font).grid(row=row, column=1, sticky="w")
        tk.Label(body, text=d.labels["code_hint"], wraplength=WRAP, justify="left").pack(
            anchor="w", pady=(4, 8)
        )
        tk.Label(body, text=d.body, wraplength=WRAP, justify="left").pack(anchor="w")
        tk.Label(body, text=d.labels["choices"], font=("TkDefaultFont", 10, "bold")).pack(
            anchor="w", pady=(8, 0)
        )
        self.checkbuttons = {}
        for choice in d.choices:
            var = self._ticks[choice.capability]
            if choice.required:
                var.set(True)
            box = tk.Checkbutton(body, text=choice.label, variable=var, anchor="w")
            if choice.required:
                box.configure(state="disabled")
            box.pack(anchor="w")
            self.checkbuttons[choice.capability] = box
        tk.Label(body, text=d.recording_notice, wraplength=WRAP, justify="left").pack(
            anchor="w", pady=(8, 0)
        )
        tk.Label(
            body,
            text=d.warning,
            wraplength=WRAP,
            justify="left",
            fg=WARNING_COLOUR,
            font=("TkDefaultFont", 10, "bold"),
        ).pack(anchor="w", pady=(8, 8))
        bar = tk.Frame(body)
        bar.pack(fill="x")
        other = d.labels["other_language"]
        self.buttons = {
            "language": tk.Button(bar, text=other, command=self.switch_language),
            "no": tk.Button(bar, text=d.labels["no"], width=8, command=self.decline),
            "yes": tk.Button(bar, text=d.labels["yes"], width=8, command=self.accept),
        }
        self.buttons["language"].pack(side="left")
        self.buttons["yes"].pack(side="right")
        self.buttons["no"].pack(side="right", padx=8)

    def switch_language(self) -> None:
        """Show the dialog in the other language; the ticks stay as they are."""
        self.dialog = build_dialog(self.request, other_language(self.dialog.language))
        self._build()

    def accept(self) -> None:
        """ "Ja": consent with the ticked capabilities."""
        chosen = [c for c, var in self._ticks.items() if var.get()]
        self._answer(self.dialog.decide(True, chosen, self._clock()))

    def decline(self) -> None:
        """ "Nein", Escape, or the window's close button."""
        self._answer(self.dialog.decide(False, (), self._clock()))

    def _answer(self, record: ConsentRecord) -> None:
        if self.record is None:
            self.record = record
        self.root.destroy()

    def run(self) -> ConsentRecord:
        """Run the window until answered; a window destroyed without an answer declines."""
        with contextlib.suppress(tk.TclError):  # the display went away: no answer
            self.root.mainloop()
        if self.record is None:
            self.record = self.dialog.decide(False, (), self._clock())
        return self.record


def ask_consent_tk(
    request: ConsentRequest,
    *,
    language: Language = DEFAULT_LANGUAGE,
    screen: str | None = None,
) -> ConsentRecord:
    """Show the consent window and block until the customer answers."""
    return ConsentWindow(request, language=language, screen=screen).run()
