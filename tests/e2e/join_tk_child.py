"""Child process for the window chat test: the real program (``run_join``, window mode) on
$DISPLAY against the real server, its active window reporting what it shows.

``python -m tests.e2e.join_tk_child SERVER TOKEN CA_FILE`` joins the session. Two things
are stood in for: the consent dialog answers through the text dialog's own logic
(control allowed, nothing else, then "Ja"), because clicking the Tk dialog has tests of
its own; and the active window is the real one, with a report on stdout (one JSON object
a line) whenever what it shows changes: the conversation, who watches, where the chat's
toggle and entry are, who the agent line and the helpers' row name, the agent
notice bar's words, the "Sichtschutz" button's text and the masking notice. Everything
the program itself prints goes to stderr.
"""

from __future__ import annotations

import io
import json
import sys
from typing import Any

from supportdesk.applet.consent import ConsentRequest, build_dialog
from supportdesk.applet.consent_text_ui import ask_consent_text
from supportdesk.applet.join import run_join
from supportdesk.applet.tk import active_window
from supportdesk.applet.tk import consent as consent_tk
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import DEFAULT_LANGUAGE, ConsentRecord, Language
from tests.applet.tk_child import centre


def consent_with_control(
    request: ConsentRequest, *, language: Language = DEFAULT_LANGUAGE, screen: object = None
) -> ConsentRecord:
    dialog = build_dialog(request, language)
    answers = [
        "j" if choice.capability is Capability.CONTROL else "n"
        for choice in dialog.choices
        if not choice.required
    ]
    return ask_consent_text(dialog, io.StringIO("\n".join([*answers, "Ja", ""])), sys.stderr)


class ReportingWindow(active_window.ActiveWindow):
    """The real active window, saying on stdout what it shows whenever that changes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._said: dict[str, Any] = {}
        self.root.after(100, self._report)

    def _report(self) -> None:
        panel, bar = self.chat, self.agent_notice
        self.root.update_idletasks()
        if panel is not None and self.root.winfo_viewable():
            shown = {
                "title": self.root.title(),
                "shown": panel.shown(),
                "watching": self.watching.cget("text"),
                "agent": self.agent_label.cget("text"),
                "helpers": self.helpers_label.cget("text"),
                "notice": "" if bar is None else bar.label.cget("text"),
                "toggle_at": centre(panel.toggle),
                "entry_at": centre(panel.entry),
                "privacy": self.buttons["privacy"].cget("text"),
                "masked": self.masked_label.cget("text"),
            }
            if shown != self._said:
                self._said = shown
                print(json.dumps(shown), flush=True)
        self.root.after(100, self._report)


def main(server: str, token: str, ca_file: str) -> None:
    consent_tk.ask_consent_tk = consent_with_control  # type: ignore[assignment]
    active_window.ActiveWindow = ReportingWindow  # type: ignore[misc]
    facts = run_join(
        server,
        token,
        text_mode=False,
        ca_file=ca_file,
        monitor=0,
        language="de",
        stdin=io.StringIO(),
        stdout=sys.stderr,
    )
    print(json.dumps({"ended": facts.end_reason}), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
