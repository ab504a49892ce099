"""Window mode's glue: the active window's buttons and file bar acting on the link.

The window (``tk/active_window.py``) knows nothing of the link; these small objects turn
its buttons into the link's requests, and start it in a thread of its own once the
customer consented.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from supportdesk.applet import texts
from supportdesk.applet.chat_lines import LinkChat
from supportdesk.applet.files import FilesUI
from supportdesk.applet.join_text import open_folder, send_file_in_background
from supportdesk.applet.link.client import AppletLink
from supportdesk.applet.texts import gettext_for
from supportdesk.domain.consent import DEFAULT_LANGUAGE, Language


class LinkControls:
    """The active window's buttons, acting on the link (the relay and the applet's own
    sessions follow the state it answers with)."""

    def __init__(self, link: AppletLink) -> None:
        self.link = link
        self._paused = False

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def control(self) -> bool:
        return self.link.control_allowed

    @property
    def stopped(self) -> bool:
        return self.link.facts.ended_at is not None

    def pause(self) -> None:
        self._paused = True
        self.link.request({"type": "pause"})

    def resume(self) -> None:
        self._paused = False
        self.link.request({"type": "resume"})

    def set_control(self, allowed: bool) -> None:
        self.link.request({"type": "grant" if allowed else "revoke", "capability": "control"})

    def stop(self) -> None:
        self.link.request({"type": "end"})


class LinkFileButtons:
    """The active window's file buttons, acting on the link's files."""

    def __init__(self, link: AppletLink, language: Language = DEFAULT_LANGUAGE) -> None:
        self.link = link
        self.language = language

    @property
    def status(self) -> str:
        return str(getattr(self.link.files.ui, "status", ""))

    def send_file(self, path: Path) -> None:
        send_file_in_background(self.link, str(path), sys.stderr, self.language)

    def open_folder(self) -> None:
        open_folder(self.link.files.folder.ensure())

    def cancel_running(self) -> None:
        self.link.files.cancel_running()


def show_active_window(
    link: AppletLink,
    control_offered: bool,
    files: bool = False,
    language: Language = DEFAULT_LANGUAGE,
    chat: LinkChat | None = None,
    state: Callable[[], dict[str, Any]] = dict,
) -> None:
    """The always-on-top window, in a thread of its own (Tk stays in that thread);
    ``state`` gives the relay's last ``state`` message (who watches, who controls)."""
    from supportdesk.applet.tk.active_window import ActiveWindow

    _ = gettext_for(language)

    def run() -> None:
        ActiveWindow(
            LinkControls(link),
            consultation_number=link.facts.consultation_number,
            verification_code=link.verification_code,
            agent_name=link.facts.agent_name,
            control_offered=control_offered,
            watchers=lambda: texts.watchers(state(), _),
            notice=lambda: texts.link_notice(
                link.reconnecting, link.state.held, link.state.notice, _
            ),
            files=LinkFileButtons(link, language) if files else None,
            language=language,
            chat=chat,
            agent_notice=lambda: link.agent_notice,
            refuse_control=lambda notice: link.request(
                {"type": "refuse_control", "notice": notice}
            ),
            privacy=link,
            team=state,
        ).run()

    threading.Thread(target=run, name="active-window", daemon=True).start()


def tk_files_ui(language: Language = DEFAULT_LANGUAGE) -> FilesUI:
    from supportdesk.applet.tk.files import TkFilesUI

    return TkFilesUI(language=language)
