"""What an exit-survey answer may hold: every rule, and the skip."""

from __future__ import annotations

import pytest

from supportdesk.domain.exit_survey import (
    COMMENT_MAX,
    InvalidAnswer,
    Solved,
    SurveyAnswer,
    parse_answer,
)


def test_a_full_answer() -> None:
    answer = parse_answer({"stars": 4, "solved": "partly", "comment": "  Gut.\r\nDanke  "})
    assert answer == SurveyAnswer(4, Solved.PARTLY, "Gut.\nDanke")
    assert not answer.is_skip


@pytest.mark.parametrize(
    "data", [{}, {"stars": None, "solved": None, "comment": None}, {"comment": " \n "},
             {"stars": "", "solved": ""}],
)  # fmt: skip
def test_nothing_answered_is_a_skip(data: dict[str, object]) -> None:
    assert parse_answer(data).is_skip


@pytest.mark.parametrize(
    "data",
    [{"stars": 0}, {"stars": 6}, {"stars": True}, {"stars": 2.5}, {"stars": "3"},
     {"solved": "maybe"}, {"solved": 1}, {"comment": 5}, {"comment": "x" * (COMMENT_MAX + 1)},
     {"comment": "a\x00b"}, {"comment": "a\x1bb"}, {"comment": "\u202egnp.exe"},
     {"comment": "\ud800"}, {"comment": "x" * 10_000_000}],
)  # fmt: skip
def test_broken_answers_are_refused(data: dict[str, object]) -> None:
    with pytest.raises(InvalidAnswer):
        parse_answer(data)


def test_a_comment_of_exactly_500_characters_after_normalising_is_taken() -> None:
    # "e" + combining acute is one character after NFC; CRLF counts as one.
    text = "e\u0301" * 250 + "\r\n".join([""] * 1) + "x" * 250
    assert len(parse_answer({"comment": text}).comment or "") == COMMENT_MAX


def test_markup_is_kept_as_text() -> None:
    # Pages escape it and the CSV defuses formulas; the customer's words stay as typed.
    assert parse_answer({"comment": "<b>x</b>"}).comment == "<b>x</b>"
