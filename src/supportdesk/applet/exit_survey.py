"""The exit survey in the support program: the questions, asking them in text mode, and
sending the answer to the bank's server.

Asked once after a session that ran, when the relay's "end" carried a survey token;
optional and anonymous (the answer goes with the token only; the server keeps it with
the consultation number). Skipping is one step: an empty line to the first question in
text mode, "Skip" or closing the window in the Tk window (``tk/exit_survey.py``). A
skipped survey sends nothing. The receipt mentions nothing of it.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, TextIO

from supportdesk.applet.texts import N_, gettext_for
from supportdesk.domain.consent import DEFAULT_LANGUAGE, Language
from supportdesk.domain.exit_survey import COMMENT_MAX, InvalidAnswer, SurveyAnswer, parse_answer

TITLE = N_("Your opinion (optional and anonymous)")
STARS_QUESTION = N_("How satisfied were you with the remote support?")
SOLVED_QUESTION = N_("Was your matter resolved?")
COMMENT_LABEL = N_("Comment (at most 500 characters)")
PRIVACY = N_(
    "Your answer is stored with the consultation number, without your name. "
    "Please write no personal data."
)
YES, PARTLY, NO = N_("Yes"), N_("Partly"), N_("No")
SEND, SKIP = N_("Send answer"), N_("Skip")
THANKS = N_("Thank you for your answer.")
NOT_SENT = N_("Your answer could not be sent.")
TEXT_STARS = N_("1 (poor) to 5 (very good); an empty line skips the survey:")
TEXT_SOLVED = N_("y = yes, p = partly, n = no; empty: no answer:")
TEXT_COMMENT = N_("One line, at most 500 characters; empty: no comment:")

SOLVED_ANSWERS = {
    "j": "yes", "ja": "yes", "y": "yes", "yes": "yes",
    "t": "partly", "teilweise": "partly", "p": "partly", "partly": "partly",
    "n": "no", "nein": "no", "no": "no",
}  # fmt: skip


def ask_text(
    readline: Callable[[], str | None], stdout: TextIO, language: Language = DEFAULT_LANGUAGE
) -> SurveyAnswer | None:
    """Ask the three questions on ``stdout``, reading answers with ``readline`` (None or
    "" at the end of input). None: skipped (an empty first answer, or no input)."""
    _ = gettext_for(language)
    print("\n" + _(TITLE), file=stdout, flush=True)

    def ask(question: str, hint: str) -> str | None:
        print(f"{_(question)} {_(hint)}", file=stdout, flush=True)
        line = readline()
        return None if line is None else line.strip()

    stars_text = ask(STARS_QUESTION, TEXT_STARS)
    if not stars_text:
        return None
    stars = int(stars_text) if stars_text in ("1", "2", "3", "4", "5") else None
    solved_text = ask(SOLVED_QUESTION, TEXT_SOLVED) or ""
    comment = (ask(COMMENT_LABEL, TEXT_COMMENT) or "")[:COMMENT_MAX]
    data = {"stars": stars, "solved": SOLVED_ANSWERS.get(solved_text.lower()), "comment": comment}
    try:
        answer = parse_answer(data)
    except InvalidAnswer:  # e.g. a control character in the comment: leave it out
        answer = parse_answer({**data, "comment": None})
    return None if answer.is_skip else answer


def as_json(token: str, answer: SurveyAnswer) -> dict[str, Any]:
    """The body of ``POST /api/v1/survey``."""
    return {
        "token": token,
        "stars": answer.stars,
        "solved": answer.solved.value if answer.solved else None,
        "comment": answer.comment,
    }


def send_answer(
    server: str, token: str, answer: SurveyAnswer, context: ssl.SSLContext, timeout: float = 15
) -> bool:
    """Post the answer over the same verified TLS as the session's link; True if the
    server took it. Never raises: the session is over, a lost answer is only lost."""
    url = server.rstrip("/") + "/api/v1/survey"
    if not url.startswith("https://"):
        return False
    body = json.dumps(as_json(token, answer)).encode()
    request = urllib.request.Request(  # noqa: S310 - https only, checked above
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=timeout) as response:  # noqa: S310
            return bool(response.status == 204)
    except (urllib.error.URLError, OSError, ValueError):
        return False
