"""The small always-on-top window the customer sees while the session runs.

"Fernwartung aktiv — wird aufgezeichnet", the consultation number, the verification
code, the responsible agent's name and the colleagues helping (both following a
hand-over or an invitation, ``team_lines.py``), and three buttons: pause/resume,
revoke/grant control, and "Sitzung beenden"; who is watching and who controls; why
the server holds the session, when it does (no recording); with file transfer
granted, "Datei senden …" and the folder of received files; the chat with the agent
(``chat_panel.py``). All of it in the customer's language (German unless told
otherwise). The buttons call straight into the session (an
:class:`~supportdesk.applet.screen.rfb_session.RFBSession` or anything with the same four
methods); ending works without any network, because stopping capture is local.
"""

from __future__ import annotations

import contextlib
import gc
import tkinter as tk
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from tkinter import ttk
from typing import Any, Protocol

from supportdesk.applet import team_lines, texts
from supportdesk.applet.receipt import SessionTimeline
from supportdesk.applet.texts import N_
from supportdesk.applet.tk import theme
from supportdesk.applet.tk.agent_notice import AgentNoticeBar
from supportdesk.applet.tk.chat_panel import ChatLink, ChatPanel
from supportdesk.applet.tk.theme import pt
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import DEFAULT_LANGUAGE, Language

TITLE = texts.SESSION_ACTIVE
WATCHING = N_("Watching: {names}")
NOBODY = N_("nobody")
PAUSE = N_("Pause sharing")
RESUME = N_("Resume sharing")
REVOKE_CONTROL = N_("Revoke control")
ALLOW_CONTROL = N_("Allow control")
END = N_("End session")
SEND_FILE = N_("Send file …")
RECEIVED_FILES = N_("Received files")
CANCEL_TRANSFER = N_("Cancel transfer")
PICK_FILE = N_("Send a file to the agent")
UNREAD_TITLE = "({count}) {title}"  # the title's mark for unread chat, as browsers do it
POLL_MS = 200
WRAP = pt(300)


class SessionControls(Protocol):
    """What the window needs from a session; :class:`RFBSession` has all of it."""

    @property
    def paused(self) -> bool: ...

    @property
    def control(self) -> bool: ...

    @property
    def stopped(self) -> bool: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def set_control(self, allowed: bool) -> None: ...

    def stop(self) -> None: ...


class PrivacyControls(Protocol):
    """The "Sichtschutz" and the masking notice (an AppletLink has both)."""

    @property
    def privacy_on(self) -> bool: ...

    @property
    def masked(self) -> bool:
        """Whether any part of the picture is masked right now."""
        ...

    def toggle_privacy(self) -> bool: ...


PRIVACY_KEY = "<Control-Alt-s>"
"""The key combination of the "Sichtschutz" button while this window has the focus."""


class FileButtons(Protocol):
    """What the window's file buttons act on."""

    @property
    def status(self) -> str: ...

    def send_file(self, path: Path) -> None:
        """Hash, confirm and offer ``path``; must not block the window."""
        ...

    def open_folder(self) -> None: ...

    def cancel_running(self) -> None: ...


class ActiveWindow:
    """The window; :meth:`run` blocks until the session ends (here or elsewhere).

    ``control_offered`` is False when the agent never asked for control: then the
    control button is not shown. ``timeline`` (optional) records control changes for
    the receipt. ``watchers`` and ``notice`` give text already in ``language``.
    ``team`` gives the relay's latest ``state`` message: who is responsible now and
    who helps (``agent_name`` until it names an owner).
    """

    def __init__(
        self,
        session: SessionControls,
        *,
        consultation_number: str,
        verification_code: str,
        agent_name: str,
        control_offered: bool = True,
        timeline: SessionTimeline | None = None,
        screen: str | None = None,
        watchers: Callable[[], Sequence[str]] = tuple,
        files: FileButtons | None = None,
        notice: Callable[[], str] = str,
        language: Language = DEFAULT_LANGUAGE,
        chat: ChatLink | None = None,
        agent_notice: Callable[[], dict[str, Any] | None] | None = None,
        refuse_control: Callable[[str], None] = lambda _notice: None,
        privacy: PrivacyControls | None = None,
        team: Callable[[], Mapping[str, Any]] = dict,
    ) -> None:
        self.language = language
        self.agent_name = agent_name
        self.team = team
        self.privacy = privacy
        self._ = _ = texts.gettext_for(language)
        self.session = session
        self.notice = notice
        self.timeline = timeline
        self.watchers = watchers
        self.files = files
        self.root = theme.new_root(screen)
        self.root.title(_(TITLE))
        # Tk's own file chooser (X11) takes its words from msgcat: the customer's language.
        with contextlib.suppress(tk.TclError):
            self.root.tk.call("::msgcat::mclocale", language.value)
        self.root.resizable(False, False)
        self.root.attributes("-topmost", True)
        # Closing the window must not leave an invisible session running: it ends it.
        self.root.protocol("WM_DELETE_WINDOW", self.end)
        frame = ttk.Frame(self.root, padding=(pt(9), pt(6)))
        frame.pack(fill="both", expand=True)
        ttk.Label(frame, text=_(TITLE), style=theme.BANNER, anchor="center").pack(fill="x")
        details = ttk.Frame(frame)
        details.pack(anchor="w", pady=pt(5))
        values: list[ttk.Label] = []
        for row, (label, value) in enumerate(
            (
                (_(texts.CONSULTATION_NUMBER), consultation_number),
                (_(texts.VERIFICATION_CODE), verification_code),
                (_(texts.AGENT), agent_name),
                (_(team_lines.HELPING), ""),
            )
        ):
            ttk.Label(details, text=label + ":").grid(
                row=row, column=0, sticky="w", padx=(0, pt(6))
            )
            values.append(ttk.Label(details, text=value, style=theme.BOLD, wraplength=WRAP))
            values[-1].grid(row=row, column=1, sticky="w")
        # The agent's line follows a hand-over; the helpers' row shows only with helpers.
        self.agent_label, self.helpers_label = values[2], values[3]
        self.helpers_row = details.grid_slaves(row=3, column=0)[0]
        # Why the bank's server holds the session, e.g. it cannot record right now. Its
        # line stays when empty, so the buttons do not jump when a notice comes and goes.
        self.notice_label = ttk.Label(
            frame, anchor="w", justify="left", style=theme.ERROR, wraplength=WRAP
        )
        self.notice_label.pack(fill="x")
        # Who sees the screen right now (the agent, a supervisor watching along).
        self.watching = ttk.Label(frame, anchor="w", justify="left", wraplength=WRAP)
        self.watching.pack(fill="x", pady=(0, pt(5)))
        self.agent_notice = _agent_notice_bar(frame, _, agent_notice, refuse_control)
        self.file_status = ttk.Label(frame, anchor="w", justify="left", wraplength=WRAP)
        if files is not None:
            self.file_status.pack(fill="x", pady=(0, pt(5)))
        # The session's own buttons in one row ("Sitzung beenden" always at its right
        # end), the file buttons in a row below: the window stays narrow.
        bar = ttk.Frame(frame)
        bar.pack(fill="x")
        self.buttons: dict[str, ttk.Button] = {
            "pause": ttk.Button(bar, command=self.toggle_pause),
            "end": ttk.Button(bar, text=_(END), command=self.end, style=theme.DANGER),
        }
        if control_offered:
            self.buttons["control"] = ttk.Button(bar, command=self.toggle_control)
        if privacy is not None:
            self._add_privacy(frame, bar)
        if files is not None:
            file_bar = ttk.Frame(frame)
            file_bar.pack(fill="x", pady=(pt(5), 0))
            self.buttons["send_file"] = ttk.Button(
                file_bar, text=_(SEND_FILE), command=self.pick_file
            )
            self.buttons["folder"] = ttk.Button(
                file_bar, text=_(RECEIVED_FILES), command=files.open_folder
            )
            self.buttons["cancel_files"] = ttk.Button(
                file_bar, text=_(CANCEL_TRANSFER), command=files.cancel_running
            )
        for name in ("pause", "privacy", "control", "send_file", "folder", "cancel_files"):
            if name in self.buttons:
                self.buttons[name].pack(side="left", padx=(0, pt(5)))
        self.buttons["end"].pack(side="right")
        self.chat: ChatPanel | None = None
        if chat is not None:
            ttk.Separator(frame).pack(fill="x", pady=(pt(6), pt(5)))
            self.chat = ChatPanel(frame, chat, _, on_unread=self._mark_unread)
            self.chat.frame.pack(fill="both", expand=True)
        self._refresh()
        self.root.after(POLL_MS, self._poll)

    def _refresh(self) -> None:
        _ = self._
        self.notice_label.configure(text=self.notice())
        self._refresh_team()
        names = ", ".join(self.watchers()) or _(NOBODY)
        self.watching.configure(text=_(WATCHING).format(names=names))
        if self.agent_notice is not None:
            self.agent_notice.refresh()
        if self.files is not None:
            self.file_status.configure(text=self.files.status)
        self.buttons["pause"].configure(text=_(RESUME if self.session.paused else PAUSE))
        self._refresh_privacy()
        if "control" in self.buttons:
            self.buttons["control"].configure(
                text=_(REVOKE_CONTROL if self.session.control else ALLOW_CONTROL)
            )

    def _refresh_team(self) -> None:
        """Who is responsible and who helps, as the relay's last state says."""
        state = self.team()
        agent = team_lines.responsible_agent(state, self.agent_name, self._)
        self.agent_label.configure(text=agent)
        helpers = team_lines.helpers_line(state, self._)
        self.helpers_label.configure(text=helpers)
        for widget in (self.helpers_row, self.helpers_label):
            if helpers:
                widget.grid()
            else:
                widget.grid_remove()

    def _mark_unread(self, count: int) -> None:
        title = self._(TITLE)
        self.root.title(UNREAD_TITLE.format(count=count, title=title) if count else title)

    def _add_privacy(self, frame: ttk.Frame, bar: ttk.Frame) -> None:
        """The "Sichtschutz" button, its key, and the line saying the agent sees a mask."""
        self.buttons["privacy"] = ttk.Button(bar, command=self.toggle_privacy)
        self.root.bind_all(PRIVACY_KEY, lambda _event: self.toggle_privacy())
        self.masked_label = ttk.Label(frame, anchor="w", justify="left", wraplength=WRAP)
        self.masked_label.pack(fill="x", before=bar)

    def _refresh_privacy(self) -> None:
        privacy, _ = self.privacy, self._
        if privacy is None:
            return
        self.buttons["privacy"].configure(
            text=_(texts.PRIVACY_SCREEN_OFF if privacy.privacy_on else texts.PRIVACY_SCREEN)
        )
        self.masked_label.configure(text=_(texts.PROTECTED_NOTICE) if privacy.masked else "")

    def toggle_privacy(self) -> None:
        """ "Sichtschutz": blank the whole picture (session and chat go on), or show it again."""
        if self.privacy is not None:
            self.privacy.toggle_privacy()
        self._refresh()

    def toggle_pause(self) -> None:
        """Pause sharing (picture frozen, input blocked), or resume it."""
        if self.session.paused:
            self.session.resume()
        else:
            self.session.pause()
        self._refresh()

    def toggle_control(self) -> None:
        """Revoke the agent's mouse and keyboard, or grant them again."""
        allowed = not self.session.control
        self.session.set_control(allowed)
        if self.timeline is not None:
            if allowed:
                self.timeline.grant(Capability.CONTROL)
            else:
                self.timeline.revoke(Capability.CONTROL)
        self._refresh()

    def pick_file(self) -> None:
        """ "Datei senden …": the customer picks a file; sending asks once more."""
        from tkinter import filedialog

        assert self.files is not None
        chosen = filedialog.askopenfilename(parent=self.root, title=self._(PICK_FILE))
        if chosen:
            self.files.send_file(Path(chosen))

    def end(self) -> None:
        """ "Sitzung beenden": stop the session (capture halts within 1 s) and close."""
        self.session.stop()
        self.root.destroy()

    def _poll(self) -> None:
        # The session may end from the other side (agent, network): close with it.
        if self.session.stopped:
            self.root.destroy()
            return
        if self.chat is not None:
            self.chat.poll()
        self._refresh()
        self.root.after(POLL_MS, self._poll)

    def run(self) -> None:
        """Show the window until the session ends."""
        try:
            self.root.mainloop()
        finally:
            # Window gone by any route (destroyed, display lost): the customer can no
            # longer pause or end, so the session must not outlive it.
            if not self.session.stopped:
                self.session.stop()
            self._release_tk()

    def _release_tk(self) -> None:
        """Delete this window's Tcl interpreter here, in the thread that made it. Left to
        the garbage collector, it may be deleted in another thread (the main one, while
        the exit survey's window runs), and Tcl then aborts the whole program
        ("Tcl_AsyncDelete: async handler deleted by the wrong thread")."""
        with contextlib.suppress(tk.TclError):
            self.root.destroy()
        del self.root
        gc.collect()


def _agent_notice_bar(
    frame: ttk.Frame,
    _: texts.Gettext,
    latest: Callable[[], dict[str, Any] | None] | None,
    refuse: Callable[[str], None],
) -> AgentNoticeBar | None:
    """Who took over or joined, with "Ablehnen" (``agent_notice.py``)."""
    return None if latest is None else AgentNoticeBar(frame, _, latest, refuse, WRAP)
