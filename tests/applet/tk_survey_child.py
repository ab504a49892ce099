"""Child process for the exit survey's Tk window: shows it on $DISPLAY in the language of
argv[1], prints the centres of its controls (JSON), then the answer (null: skipped)."""

from __future__ import annotations

import sys

from supportdesk.applet.tk.exit_survey import SurveyWindow
from tests.applet.tk_child import report_when_mapped, say


def main() -> None:
    window = SurveyWindow(sys.argv[1])
    widgets = {f"star{n}": b for n, b in window.star_buttons.items()}
    widgets.update({f"solved_{code}": b for code, b in window.solved_buttons.items()})
    widgets.update(window.buttons)
    widgets["comment"] = window.comment
    report_when_mapped(window.root, widgets)
    texts = {k: str(b.cget("text")) for k, b in window.buttons.items()}
    answer = window.run()
    say(
        texts=texts,
        answer=None
        if answer is None
        else {
            "stars": answer.stars,
            "solved": answer.solved.value if answer.solved else None,
            "comment": answer.comment,
        },
    )


if __name__ == "__main__":
    main()
