"""The consent dialog as a Tk window: "Ja" consents, "Nein" or closing the window declines.

The window shows the :class:`~supportdesk.applet.consent.ConsentDialog` model line for
line (German first, a button switches to English and back, keeping the ticks) and stays
on top. The consent text follows the ticks: ticking or unticking a box shows the text
that names what is now allowed, and "Ja" cites that text, in the language shown.
Nothing defaults to consent: optional capabilities start unticked, Return does not
press "Ja", and a window that disappears without an answer (closed, destroyed, display
gone) counts as "Nein".
"""

from __future__ import annotations

import contextlib
import tkinter as tk
from collections.abc import Callable
from datetime import UTC, datetime
from tkinter import ttk

from supportdesk.applet.consent import ConsentRequest, build_dialog
from supportdesk.applet.texts import other_language
from supportdesk.applet.tk import theme
from supportdesk.applet.tk.theme import pt
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import DEFAULT_LANGUAGE, ConsentRecord, Language

WRAP = pt(390)


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
        self.root = theme.new_root(screen)
        self.root.resizable(False, False)
        self.root.attributes("-topmost", True)
        self.root.protocol("WM_DELETE_WINDOW", self.decline)
        self.root.bind("<Escape>", lambda _e: self.decline())
        self._ticks = {c: tk.BooleanVar(self.root, value=False) for c in Capability}
        for var in self._ticks.values():
            var.trace_add("write", lambda *_args: self._follow_ticks())
        self._body: ttk.Frame | None = None
        self._text: ttk.Label | None = None
        self.buttons: dict[str, ttk.Button] = {}
        self.checkbuttons: dict[Capability, ttk.Checkbutton] = {}
        self.record: ConsentRecord | None = None
        self.dialog = build_dialog(request, language)
        self._build()
        # The question is to be answered now: the dialog takes the keyboard, with no
        # widget focused, so only Tab (to the first box that can be ticked) does anything.
        theme.take_keyboard_when_shown(self.root, self.root)

    def _build(self) -> None:
        """(Re)build the contents for the current language."""
        if self._body is not None:
            self._body.destroy()
        d = self.dialog
        self.root.title(d.title)
        body = self._body = ttk.Frame(self.root, padding=(pt(12), pt(10)))
        body.pack(fill="both", expand=True)
        grid = ttk.Frame(body)
        grid.pack(anchor="w")
        for row, (label, value) in enumerate(d.identity_lines()):
            ttk.Label(grid, text=label + ":").grid(row=row, column=0, sticky="w", padx=(0, pt(6)))
            # Row 4 is the verification code the agent reads out: large, fixed-width.
            style = theme.CODE if row == 4 else theme.BOLD
            ttk.Label(grid, text=value, style=style).grid(row=row, column=1, sticky="w")
        ttk.Label(body, text=d.labels["code_hint"], wraplength=WRAP, justify="left").pack(
            anchor="w", pady=(pt(3), pt(6))
        )
        # The text follows the ticks; its place is as tall as the longest (every choice
        # ticked), so ticking never moves "Ja" and "Nein" under the customer's pointer.
        holder = ttk.Frame(body)
        holder.pack(anchor="w", fill="x")
        longest = d.ticked(c.capability for c in d.choices).body
        self._text = ttk.Label(holder, text=longest, wraplength=WRAP, justify="left")
        self._text.grid(row=0, column=0, sticky="nw")
        holder.grid_rowconfigure(0, minsize=self._text.winfo_reqheight())
        self._text.configure(text=d.body)
        ttk.Label(body, text=d.labels["choices"], style=theme.BOLD).pack(
            anchor="w", pady=(pt(6), pt(2))
        )
        self.checkbuttons = {}
        for choice in d.choices:
            var = self._ticks[choice.capability]
            if choice.required:
                var.set(True)
            box = ttk.Checkbutton(body, text=choice.label, variable=var)
            if choice.required:
                box.state(["disabled"])  # VIEW: ticked, and cannot be unticked
            box.pack(anchor="w", pady=pt(1))
            self.checkbuttons[choice.capability] = box
        ttk.Label(body, text=d.recording_notice, wraplength=WRAP, justify="left").pack(
            anchor="w", pady=(pt(6), 0)
        )
        ttk.Label(body, text=d.warning, wraplength=WRAP, justify="left", style=theme.WARNING).pack(
            anchor="w", pady=(pt(6), pt(8))
        )
        bar = ttk.Frame(body)
        bar.pack(fill="x")
        other = d.labels["other_language"]
        # "Ja" and "Nein" look alike on purpose: nothing here nudges towards consent.
        self.buttons = {
            "language": ttk.Button(bar, text=other, command=self.switch_language),
            "no": ttk.Button(bar, text=d.labels["no"], width=8, command=self.decline),
            "yes": ttk.Button(bar, text=d.labels["yes"], width=8, command=self.accept),
        }
        self.buttons["language"].pack(side="left")
        self.buttons["yes"].pack(side="right")
        self.buttons["no"].pack(side="right", padx=pt(6))

    def _chosen(self) -> list[Capability]:
        return [c for c, var in self._ticks.items() if var.get()]

    def _follow_ticks(self) -> None:
        """A tick changed: show the text that names what is ticked now."""
        self.dialog = self.dialog.ticked(self._chosen())
        if self._text is not None:
            with contextlib.suppress(tk.TclError):  # while the window is being built
                self._text.configure(text=self.dialog.body)

    def switch_language(self) -> None:
        """Show the dialog in the other language; the ticks stay as they are."""
        language = other_language(self.dialog.language)
        self.dialog = build_dialog(self.request, language, self._chosen())
        self._build()

    def accept(self) -> None:
        """ "Ja": consent with the ticked capabilities, on the text shown for them."""
        self._answer(self.dialog.decide(True, self._chosen(), self._clock()))

    def decline(self) -> None:
        """ "Nein", Escape, or the window's close button (citing the text shown)."""
        self._answer(self.dialog.decide(False, self._chosen(), self._clock()))

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
