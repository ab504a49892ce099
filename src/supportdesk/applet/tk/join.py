"""The program's first window: name and support key, then "Weiter >>", as on the portal.

A customer who downloaded the program needs nothing else: the window asks what the
portal's form asks, exchanges it for a join token at the bank's server, and shows a
refusal or an unreachable server in words in the same window, where the customer can
correct the key and try again. Closing the window (or Escape) gives up: nothing was
joined. The exchange itself is the caller's (``redeem``), so the window holds no
network code and is tested with a stand-in.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import Any

from supportdesk.applet.texts import N_, SUPPORT_KEY, YOUR_NAME, gettext_for, language_of
from supportdesk.applet.tk import theme
from supportdesk.applet.tk.theme import pt
from supportdesk.domain.consent import DEFAULT_LANGUAGE, Language

__all__ = ["JoinWindow", "Redeem"]

Redeem = Callable[[str, str], dict[str, Any]]
"""(name, support key) -> the server's answer with the join token; raises an error whose
text is the customer's words (``LinkError``)."""

TITLE = N_("Start remote support now")
INTRO = N_("Enter your name and the support key your adviser gives you on the phone.")
CONTINUE = N_("Continue >>")
CHECKING = N_("The support key is being checked …")
BOTH_NEEDED = N_("Please enter your name and the support key.")
WRAP = pt(270)


class JoinWindow:
    """The window; :meth:`run` blocks until a key was accepted (the server's answer) or
    the customer gave up (None)."""

    def __init__(
        self,
        redeem: Redeem,
        *,
        language: str | Language = DEFAULT_LANGUAGE,
        screen: str | None = None,
    ) -> None:
        self._redeem = redeem
        _ = self._ = gettext_for(language_of(language))
        self.answer: dict[str, Any] | None = None
        # The server's answer comes on a worker thread; the window picks it up here
        # (Tk is touched from its own thread only).
        self._outcomes: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self.root = theme.new_root(screen)
        self.root.title(_(TITLE))
        self.root.resizable(False, False)
        self.root.protocol("WM_DELETE_WINDOW", self.give_up)
        self.root.bind("<Escape>", lambda _e: self.give_up())
        body = ttk.Frame(self.root, padding=(pt(12), pt(10)))
        body.pack(fill="both", expand=True)
        body.columnconfigure(1, weight=1)
        intro = ttk.Label(body, text=_(INTRO), wraplength=WRAP, justify="left")
        intro.grid(row=0, column=0, columnspan=2, sticky="we", pady=(0, pt(8)))
        theme.wrap_to_width(intro)
        # Created in the order Tab moves through them: name, key, then the button.
        self.name = ttk.Entry(body, width=32)
        self.key = ttk.Entry(body, width=32)
        for row, (label, entry) in enumerate(((YOUR_NAME, self.name), (SUPPORT_KEY, self.key)), 1):
            ttk.Label(body, text=_(label) + ":").grid(
                row=row, column=0, sticky="w", padx=(0, pt(6)), pady=pt(2)
            )
            entry.grid(row=row, column=1, sticky="we", pady=pt(2))
        self.message = ttk.Label(
            body, text="", style=theme.ERROR, wraplength=WRAP, justify="left", anchor="nw"
        )
        self.message.grid(row=3, column=0, columnspan=2, sticky="nwe", pady=(pt(6), 0))
        theme.wrap_to_width(self.message)
        # Two lines kept free for the messages, so the button never moves under the
        # pointer: ttk labels have no height in lines, so the row gets the height the
        # label asks for with two lines in it.
        self.message.configure(text="\n")
        two_lines = self.message.winfo_reqheight() + self.root.winfo_pixels(pt(6))
        self.message.configure(text="")
        body.rowconfigure(3, minsize=two_lines)
        self.button = ttk.Button(
            body, text=_(CONTINUE), style=theme.PRIMARY, default="active", command=self.submit
        )
        self.button.grid(row=4, column=1, sticky="e", pady=(pt(8), 0))
        self.root.bind("<Return>", lambda _e: self.submit())
        self.name.focus_set()
        # The customer has just started the program: typing the name needs no click.
        theme.take_keyboard_when_shown(self.root, self.name)

    def run(self) -> dict[str, Any] | None:
        self.root.after(50, self._poll)
        self.root.mainloop()
        with contextlib.suppress(tk.TclError):
            self.root.destroy()
        return self.answer

    def submit(self) -> None:
        """Check the fields, then ask the server, off the window's thread."""
        if self.button.instate(["disabled"]):
            return  # a check is under way
        name, key = self.name.get().strip(), self.key.get().strip()
        if not name or not key:
            self.message.configure(text=self._(BOTH_NEEDED), style=theme.ERROR)
            return
        self.message.configure(text=self._(CHECKING), style="TLabel")
        self.button.state(["disabled"])
        threading.Thread(target=self._ask_server, args=(name, key), daemon=True).start()

    def _ask_server(self, name: str, key: str) -> None:
        try:
            answer = self._redeem(name, key)
        except Exception as exc:  # the refusal's own words, or the error as it came
            failure = str(exc) or type(exc).__name__
            self._on_window(lambda: self._refused(failure))
            return
        self._on_window(lambda: self._accepted(answer))

    def _on_window(self, action: Callable[[], None]) -> None:
        self._outcomes.put(action)

    def _poll(self) -> None:
        while not self._outcomes.empty():
            self._outcomes.get()()
        with contextlib.suppress(tk.TclError):  # the window is gone
            self.root.after(50, self._poll)

    def _refused(self, failure: str) -> None:
        self.message.configure(text=failure, style=theme.ERROR)
        self.button.state(["!disabled"])
        self.key.focus_set()
        self.key.select_range(0, tk.END)

    def _accepted(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        self.root.quit()

    def give_up(self) -> None:
        self.answer = None
        self.root.quit()
