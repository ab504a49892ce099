"""Child process for the windowed survey's round trip: the real support program
(``program.main``, window mode) on $DISPLAY against the real server, its exit survey
window telling where its controls are.

``python -m tests.e2e.program_survey_child SERVER TOKEN CA_FILE`` runs the program as
``supportdesk join --server SERVER --token=TOKEN --ca-file CA_FILE`` would. Two things
are stood in for: the consent dialog answers through the text dialog's own logic (as in
join_tk_child.py; clicking it has tests of its own), and the survey window, the real
one, prints one line ``@survey {...}`` with the centres of its stars, its "solved"
answers, the comment box and the buttons once it is shown. Everything else on standard
output is the program's own ("Vielen Dank für Ihre Antwort.").
"""

from __future__ import annotations

import json
import sys
from typing import Any

from supportdesk.applet import program
from supportdesk.applet.tk import consent as consent_tk
from supportdesk.applet.tk import exit_survey as exit_survey_tk
from tests.applet.tk_child import centre
from tests.e2e.join_tk_child import consent_with_control

MARK = "@survey "


class ReportingSurvey(exit_survey_tk.SurveyWindow):
    """The real survey window, saying where its controls are once it is shown."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.root.after(100, self._report)

    def _report(self) -> None:
        self.root.update_idletasks()
        if not self.root.winfo_viewable():
            self.root.after(50, self._report)
            return
        widgets: dict[str, Any] = {f"star{n}": b for n, b in self.star_buttons.items()}
        widgets.update({f"solved_{code}": b for code, b in self.solved_buttons.items()})
        widgets.update(self.buttons)
        widgets["comment"] = self.comment
        layout = {name: centre(widget) for name, widget in widgets.items()}
        layout["window"] = int(self.root.wm_frame(), 16)
        print(MARK + json.dumps(layout), flush=True)


def main(server: str, token: str, ca_file: str) -> int:
    consent_tk.ask_consent_tk = consent_with_control  # type: ignore[assignment]
    exit_survey_tk.SurveyWindow = ReportingSurvey  # type: ignore[misc]
    return program.main(["--server", server, f"--token={token}", "--ca-file", ca_file])


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
