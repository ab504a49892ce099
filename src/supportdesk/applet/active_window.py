"""The small always-on-top window the customer sees while the session runs.

"Fernwartung aktiv — wird aufgezeichnet", the consultation number, the verification
code, the agent's name, and three buttons: pause/resume, revoke/grant control, and
"Sitzung beenden"; who is watching; why the server holds the session, when it
does (no recording); with file transfer granted, "Datei senden …" and
the folder of received files. All of it in the customer's language (German unless
told otherwise). The buttons call straight into the session (an
:class:`~supportdesk.applet.rfb_session.RFBSession` or anything with the same four
methods); ending works without any network, because stopping capture is local.
"""

from __future__ import annotations

import contextlib
import tkinter as tk
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from supportdesk.applet import texts
from supportdesk.applet.receipt import SessionTimeline
from supportdesk.applet.texts import N_
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
POLL_MS = 200
BANNER_COLOUR = "#a00000"


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
    ) -> None:
        self.language = language
        self._ = _ = texts.gettext_for(language)
        self.session = session
        self.notice = notice
        self.timeline = timeline
        self.watchers = watchers
        self.files = files
        self.root = tk.Tk(screenName=screen, className="supportdesk")
        self.root.title(_(TITLE))
        # Tk's own file chooser (X11) takes its words from msgcat: the customer's language.
        with contextlib.suppress(tk.TclError):
            self.root.tk.call("::msgcat::mclocale", language.value)
        self.root.resizable(False, False)
        self.root.attributes("-topmost", True)
        # Closing the window must not leave an invisible session running: it ends it.
        self.root.protocol("WM_DELETE_WINDOW", self.end)
        frame = tk.Frame(self.root, padx=12, pady=8)
        frame.pack()
        tk.Label(
            frame, text=_(TITLE), fg="white", bg=BANNER_COLOUR, font=("TkDefaultFont", 11, "bold")
        ).pack(fill="x", ipady=4)
        details = tk.Frame(frame)
        details.pack(anchor="w", pady=6)
        for row, (label, value) in enumerate(
            (
                (_(texts.CONSULTATION_NUMBER), consultation_number),
                (_(texts.VERIFICATION_CODE), verification_code),
                (_(texts.AGENT), agent_name),
            )
        ):
            tk.Label(details, text=label + ":").grid(row=row, column=0, sticky="w", padx=(0, 8))
            tk.Label(details, text=value, font=("TkDefaultFont", 10, "bold")).grid(
                row=row, column=1, sticky="w"
            )
        # Why the bank's server holds the session, e.g. it cannot record right now.
        self.notice_label = tk.Label(frame, anchor="w", fg=BANNER_COLOUR, wraplength=360)
        self.notice_label.pack(fill="x")
        # Who sees the screen right now (the agent, a supervisor watching along).
        self.watching = tk.Label(frame, anchor="w", justify="left", wraplength=360)
        self.watching.pack(fill="x", pady=(0, 6))
        self.file_status = tk.Label(frame, anchor="w", justify="left", wraplength=360)
        if files is not None:
            self.file_status.pack(fill="x", pady=(0, 6))
        bar = tk.Frame(frame)
        bar.pack(fill="x")
        self.buttons: dict[str, tk.Button] = {
            "pause": tk.Button(bar, command=self.toggle_pause),
            "end": tk.Button(bar, text=_(END), command=self.end, fg=BANNER_COLOUR),
        }
        if control_offered:
            self.buttons["control"] = tk.Button(bar, command=self.toggle_control)
        if files is not None:
            self.buttons["send_file"] = tk.Button(bar, text=_(SEND_FILE), command=self.pick_file)
            self.buttons["folder"] = tk.Button(
                bar, text=_(RECEIVED_FILES), command=files.open_folder
            )
            self.buttons["cancel_files"] = tk.Button(
                bar, text=_(CANCEL_TRANSFER), command=files.cancel_running
            )
        for name in ("pause", "control", "send_file", "folder", "cancel_files", "end"):
            if name in self.buttons:
                self.buttons[name].pack(side="left", padx=(0, 6))
        self._refresh()
        self.root.after(POLL_MS, self._poll)

    def _refresh(self) -> None:
        _ = self._
        self.notice_label.configure(text=self.notice())
        names = ", ".join(self.watchers()) or _(NOBODY)
        self.watching.configure(text=_(WATCHING).format(names=names))
        if self.files is not None:
            self.file_status.configure(text=self.files.status)
        self.buttons["pause"].configure(text=_(RESUME if self.session.paused else PAUSE))
        if "control" in self.buttons:
            self.buttons["control"].configure(
                text=_(REVOKE_CONTROL if self.session.control else ALLOW_CONTROL)
            )

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
