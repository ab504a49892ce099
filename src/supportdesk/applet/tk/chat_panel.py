"""The chat in the customer's active window: the conversation, a line to type in, and the
mark that says a message is waiting.

The panel starts closed, so the always-on-top window stays as small as before; its
button opens it ("Chat anzeigen") and says when the agent wrote while it was closed
("Neue Nachricht (2)"). A message that arrives while the window does not have the
keyboard counts as unread too; the window puts the count in its title. Opening the panel,
or coming back to the window with it open, clears the mark.

The conversation is a read-only Tk text box: the agent's words go in with ``insert`` as
plain text (never interpreted) after :func:`~supportdesk.applet.chat_lines.clean_text`,
each under its sender and the local time; the box scrolls to the newest line and keeps
the last :data:`~supportdesk.applet.chat_lines.HISTORY_LINES`. Enter or "Senden" sends;
a line longer than the relay takes is refused with a word, and the customer's own line
shows "wird gesendet …" until the relay has it.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import Any, Protocol

from supportdesk.applet import texts
from supportdesk.applet.chat_lines import (
    CHAT_MAX,
    Change,
    ChatHistory,
    ChatLine,
    Sender,
    clean_text,
    too_long,
)
from supportdesk.applet.texts import N_, Gettext
from supportdesk.applet.tk import theme
from supportdesk.applet.tk.theme import pt

SHOW_CHAT = N_("Show chat")
HIDE_CHAT = N_("Hide chat")
NEW_MESSAGES = N_("New message ({count})")
SEND = N_("Send")
YOU = N_("You")
SENDING = N_("sending …")
TOO_LONG = N_("The message is too long: at most {limit} characters, this one has {count}.")
CONVERSATION_LINES = 8  # fewer on a small screen (theme.lines_that_fit)
MUTED = "#5a5a5a"  # time and "wird gesendet …": readable, but behind the words


class ChatLink(Protocol):
    """Where the panel's messages come from and go to (:class:`LinkChat`)."""

    def take(self) -> list[dict[str, Any]]: ...

    def send(self, text: str) -> None: ...


class ChatPanel:
    """The chat part of the active window, built into ``parent`` (pack :attr:`frame`).

    ``on_unread`` hears the unread count whenever it changes (the window's title).
    """

    def __init__(
        self,
        parent: tk.Misc,
        chat: ChatLink,
        _: Gettext,
        *,
        on_unread: Callable[[int], None] = lambda count: None,
        history: ChatHistory | None = None,
    ) -> None:
        self.chat = chat
        self._ = _
        self.on_unread = on_unread
        self.history = history or ChatHistory()
        self.unread = 0
        self.is_open = False
        self.frame = ttk.Frame(parent)
        self.toggle = ttk.Button(self.frame, command=self.toggle_open)
        self.toggle.pack(anchor="w")
        self.body = ttk.Frame(self.frame)
        root = parent.winfo_toplevel()
        lines = theme.lines_that_fit(root, CONVERSATION_LINES, "TkDefaultFont", share=0.2)
        box, self.text = theme.text_box(
            self.body,
            height=lines,
            width=1,  # as wide as the window's other rows make it, no wider
            wrap="word",
            takefocus=0,
            cursor="",
            font="TkDefaultFont",  # a conversation, not code: the window's own letters
        )
        box.pack(fill="both", expand=True, pady=(pt(4), pt(4)))
        self.text.tag_configure("who", font=theme.BOLD_FONT, spacing1=pt(3))
        self.text.tag_configure("time", foreground=MUTED)
        self.text.tag_configure("pending", foreground=MUTED)
        self.text.tag_configure("words", lmargin1=pt(6), lmargin2=pt(6))
        self.text.configure(state="disabled")  # read-only; the customer may still select
        row = ttk.Frame(self.body)
        row.pack(fill="x")
        self.entry = ttk.Entry(row)
        self.entry.pack(side="left", fill="x", expand=True, padx=(0, pt(5)))
        self.send_button = ttk.Button(row, text=_(SEND), command=self.send)
        self.send_button.pack(side="right")
        self.entry.bind("<Return>", self._enter)
        self.entry.bind("<KP_Enter>", self._enter)
        self.message = ttk.Label(
            self.body, style=theme.ERROR, anchor="w", justify="left", wraplength=pt(300)
        )
        self.message.pack(fill="x")
        # Any widget of the window taking the keyboard: the customer is back.
        root.bind("<FocusIn>", self._focus_in, add=True)
        self._label()

    # -- the customer's side ---------------------------------------------------------------

    def toggle_open(self) -> None:
        """Open the conversation (and count what was waiting as read), or close it."""
        self.is_open = not self.is_open
        if self.is_open:
            self.body.pack(fill="both", expand=True)
            self.text.see("end")
            self.entry.focus_set()
            self._seen()
        else:
            self.body.pack_forget()
        self._label()

    def send(self) -> None:
        """Send what is typed, unless it is empty or too long (then say so)."""
        text = clean_text(self.entry.get())
        if not text:
            return
        if too_long(text):
            self.message.configure(text=self._(TOO_LONG).format(limit=CHAT_MAX, count=len(text)))
            return
        self.message.configure(text="")
        self.entry.delete(0, "end")
        self._show(self.history.typed(text))
        self.chat.send(text)

    def _enter(self, event: tk.Event[Any]) -> str:
        self.send()
        return "break"

    # -- the link's side -------------------------------------------------------------------

    def poll(self) -> None:
        """Show what the link heard since the last poll (call from the window's thread)."""
        for message in self.chat.take():
            change = self.history.heard(message)
            self._show(change)
            added = change.added
            if added is not None and added.sender is Sender.AGENT and not self._reading():
                self.unread += 1
                self._label()
                self.on_unread(self.unread)

    def _reading(self) -> bool:
        """Whether the customer sees the conversation: open, and the window has the keyboard."""
        return self.is_open and self.frame.focus_displayof() is not None

    def _focus_in(self, event: tk.Event[Any]) -> None:
        if self.is_open:
            self._seen()

    def _seen(self) -> None:
        if self.unread:
            self.unread = 0
            self._label()
            self.on_unread(0)

    def _label(self) -> None:
        _ = self._
        if self.is_open:
            text = _(HIDE_CHAT)
        elif self.unread:
            text = _(NEW_MESSAGES).format(count=self.unread)
        else:
            text = _(SHOW_CHAT)
        self.toggle.configure(text=text, style=theme.PRIMARY if self.unread else "TButton")

    # -- the conversation ------------------------------------------------------------------

    def sender(self, line: ChatLine) -> str:
        """Who said ``line``: "Sie", the agent's name, or "Berater" without one."""
        if line.sender is Sender.CUSTOMER:
            return self._(YOU)
        return line.name or self._(texts.AGENT_IN_CHAT)

    def _show(self, change: Change) -> None:
        text = self.text
        text.configure(state="normal")
        try:
            for gone in change.dropped:
                self._delete(f"line{gone.number}")
            if change.confirmed is not None:
                self._delete(f"pending{change.confirmed.number}")
            if (line := change.added) is not None:
                tag = f"line{line.number}"
                if text.index("end-1c") != "1.0":
                    text.insert("end", "\n", tag)
                text.insert("end", self.sender(line), ("who", tag))
                text.insert("end", "  " + line.at.strftime("%H:%M"), ("time", tag))
                if line.pending:
                    pending = ("pending", f"pending{line.number}", tag)
                    text.insert("end", "  " + self._(SENDING), pending)
                text.insert("end", "\n" + line.text, ("words", tag))
                text.see("end")
        finally:
            text.configure(state="disabled")

    def _delete(self, tag: str) -> None:
        ranges = self.text.tag_ranges(tag)
        if ranges:
            first, last = str(ranges[0]), str(ranges[-1])
            if tag.startswith("line") and self.text.compare(first, "==", "1.0"):
                # The oldest line: take the break after it too, so none is left on top.
                last += "+1c"
            self.text.delete(first, last)

    def shown(self) -> str:
        """The conversation as the customer reads it (for tests and screen readers)."""
        return self.text.get("1.0", "end-1c")
