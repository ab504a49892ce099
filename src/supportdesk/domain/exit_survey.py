"""The customer's exit survey: what an answer may hold, checked before anything is stored.

Asked once when a session that ran is over, optional and anonymous: stars (1–5), whether
the matter was solved (yes / partly / no) and a comment of at most
:data:`COMMENT_MAX` characters. Every part may be left out; an answer with no part at
all is a skip and stores nothing. The answer is kept with the consultation number,
never the customer's name. The comment is the customer's own text: it is stored as
typed (no markup is interpreted anywhere; pages escape it, the CSV export defuses
spreadsheet formulas), but control characters other than line breaks and tabs are
refused, and line breaks are normalised.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import Enum
from typing import Any

COMMENT_MAX = 500
"""Characters (after normalisation) a comment may have."""
STARS_MIN, STARS_MAX = 1, 5
SURVEY_TOKEN_LIFETIME_SECONDS = 24 * 3600
"""How long after the end a survey token is taken: a customer may answer later on the
same page, but an old token is worth nothing."""


class Solved(Enum):
    """ "Wurde Ihr Anliegen gelöst?" """

    YES = "yes"
    PARTLY = "partly"
    NO = "no"


class InvalidAnswer(ValueError):
    """The answer breaks a rule (the customer's side sent it: a 422, never stored)."""


@dataclass(frozen=True)
class SurveyAnswer:
    """One customer's answer; None for every part left out."""

    stars: int | None = None
    solved: Solved | None = None
    comment: str | None = None

    @property
    def is_skip(self) -> bool:
        """Nothing answered: nothing is stored."""
        return self.stars is None and self.solved is None and not self.comment


def _stars(value: Any) -> int | None:
    if value is None or value == "":
        return None
    # bool is an int in Python: True must not count as one star.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAnswer("stars must be a whole number from 1 to 5")
    if not STARS_MIN <= value <= STARS_MAX:
        raise InvalidAnswer("stars must be a whole number from 1 to 5")
    return value


def _solved(value: Any) -> Solved | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidAnswer("solved must be yes, partly or no")
    try:
        return Solved(value)
    except ValueError:
        raise InvalidAnswer("solved must be yes, partly or no") from None


def clean_comment(value: Any) -> str | None:
    """The comment NFC-normalised, line breaks as ``\\n``, stripped; None if empty.
    Raises :class:`InvalidAnswer` for a non-string, control characters or overlength."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidAnswer("the comment must be text")
    if len(value) > COMMENT_MAX * 4:  # refuse huge input before normalising it
        raise InvalidAnswer(f"the comment may have at most {COMMENT_MAX} characters")
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    for char in text:
        if char in "\n\t":
            continue
        # Cc: control characters; Cs/Co/Cn: surrogates, private use, unassigned;
        # bidi overrides (Cf) could make the comment read differently to a supervisor.
        if unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn") or char in _BIDI_CONTROLS:
            raise InvalidAnswer("the comment contains characters that are not text")
    if len(text) > COMMENT_MAX:
        raise InvalidAnswer(f"the comment may have at most {COMMENT_MAX} characters")
    return text or None


_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def parse_answer(data: dict[str, Any]) -> SurveyAnswer:
    """The answer in ``data`` (``stars``, ``solved``, ``comment``; other keys are
    ignored), or :class:`InvalidAnswer` saying which rule it broke."""
    return SurveyAnswer(
        stars=_stars(data.get("stars")),
        solved=_solved(data.get("solved")),
        comment=clean_comment(data.get("comment")),
    )
