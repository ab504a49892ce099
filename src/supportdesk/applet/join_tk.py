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
from typing import Any

from supportdesk.applet.join import SUPPORT_KEY, YOUR_NAME
from supportdesk.applet.texts import N_, gettext_for, language_of
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
ERROR_COLOUR = "#a00000"


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
        self.root = tk.Tk(screenName=screen, className="supportdesk")
        self.root.title(_(TITLE))
        self.root.resizable(False, False)
        self.root.protocol("WM_DELETE_WINDOW", self.give_up)
        self.root.bind("<Escape>", lambda _e: self.give_up())
        body = tk.Frame(self.root, padx=16, pady=12)
        body.pack(fill="both", expand=True)
        tk.Label(body, text=_(INTRO), wraplength=360, justify="left").grid(
            row=0, column=0, columnspan=2, sticky="w", pady=(0, 10)
        )
        self.name = tk.Entry(body, width=32)
        self.key = tk.Entry(body, width=32)
        for row, (label, entry) in enumerate(((YOUR_NAME, self.name), (SUPPORT_KEY, self.key)), 1):
            tk.Label(body, text=_(label) + ":").grid(row=row, column=0, sticky="w", pady=2)
            entry.grid(row=row, column=1, sticky="we", pady=2)
        # Two lines kept free for the messages, so the button never moves under the pointer.
        self.message = tk.Label(
            body, text="", fg=ERROR_COLOUR, wraplength=360, justify="left", height=2, anchor="nw"
        )
        self.message.grid(row=3, column=0, columnspan=2, sticky="w", pady=(8, 0))
        self.button = tk.Button(body, text=_(CONTINUE), command=self.submit)
        self.button.grid(row=4, column=1, sticky="e", pady=(10, 0))
        self.root.bind("<Return>", lambda _e: self.submit())
        self.name.focus_set()

    def run(self) -> dict[str, Any] | None:
        self.root.after(50, self._poll)
        self.root.mainloop()
        with contextlib.suppress(tk.TclError):
            self.root.destroy()
        return self.answer

    def submit(self) -> None:
        """Check the fields, then ask the server, off the window's thread."""
        if str(self.button["state"]) == tk.DISABLED:
            return  # a check is under way
        name, key = self.name.get().strip(), self.key.get().strip()
        if not name or not key:
            self.message.configure(text=self._(BOTH_NEEDED))
            return
        self.message.configure(text=self._(CHECKING), fg="black")
        self.button.configure(state=tk.DISABLED)
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
        self.message.configure(text=failure, fg=ERROR_COLOUR)
        self.button.configure(state=tk.NORMAL)
        self.key.focus_set()
        self.key.select_range(0, tk.END)

    def _accepted(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        self.root.quit()

    def give_up(self) -> None:
        self.answer = None
        self.root.quit()
