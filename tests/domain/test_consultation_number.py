"""Consultation numbers: format, Damm check digit, parsing errors."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.domain.consultation_number import (
    ConsultationNumber,
    ConsultationNumberCheckFailed,
    InvalidConsultationNumber,
    MalformedConsultationNumber,
    damm_check_digit,
    damm_valid,
)

NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
numbers = st.builds(
    ConsultationNumber,
    st.integers(2000, 9999),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
)


def test_damm_reference_value() -> None:
    # The worked example from Damm's algorithm descriptions: 572 -> 4.
    assert damm_check_digit("572") == 4
    assert damm_valid("5724")
    assert not damm_valid("5727")


def test_generate_format() -> None:
    number = ConsultationNumber.generate(NOW)
    assert re.fullmatch(r"BN-2026-\d{4}-\d{4}-\d", str(number))
    assert ConsultationNumber.parse(str(number)) == number


def test_generate_requires_utc() -> None:
    with pytest.raises(ValueError):
        ConsultationNumber.generate(NOW.astimezone(timezone(timedelta(hours=1))))


@given(numbers)
def test_round_trip(number: ConsultationNumber) -> None:
    text = str(number)
    assert ConsultationNumber.parse(text) == number
    assert ConsultationNumber.parse(text.lower()) == number
    assert ConsultationNumber.parse(text.replace("-", "")) == number
    assert ConsultationNumber.parse(text.replace("-", " ").removeprefix("BN ")) == number


@given(numbers, st.data())
def test_every_single_digit_error_is_caught(
    number: ConsultationNumber, data: st.DataObject
) -> None:
    digits = str(number).replace("BN-", "").replace("-", "")
    position = data.draw(st.integers(0, len(digits) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != digits[position]]))
    mutated = digits[:position] + wrong + digits[position + 1 :]
    with pytest.raises(ConsultationNumberCheckFailed):
        ConsultationNumber.parse(mutated)


@given(numbers, st.data())
def test_every_adjacent_transposition_is_caught(
    number: ConsultationNumber, data: st.DataObject
) -> None:
    digits = str(number).replace("BN-", "").replace("-", "")
    position = data.draw(st.integers(0, len(digits) - 2))
    a, b = digits[position], digits[position + 1]
    if a == b:
        return
    swapped = digits[:position] + b + a + digits[position + 2 :]
    with pytest.raises(ConsultationNumberCheckFailed):
        ConsultationNumber.parse(swapped)


def test_damm_catches_all_single_errors_and_transpositions_exhaustively_for_pairs() -> None:
    # Exhaustive over every two-digit body: the quasigroup property in full.
    for body in (f"{n:02d}" for n in range(100)):
        full = body + str(damm_check_digit(body))
        for i in range(3):
            for d in "0123456789":
                if d != full[i]:
                    assert not damm_valid(full[:i] + d + full[i + 1 :])
        for i in range(2):
            if full[i] != full[i + 1]:
                assert not damm_valid(full[:i] + full[i + 1] + full[i] + full[i + 2 :])


@pytest.mark.parametrize(
    "text",
    [
        "",
        "BN-",
        "BN-2026-4821-7730",
        "BN-2026-4821-7730-85",
        "XY-2026-4821-7730-8",
        "BN-2026-48a1-7730-5",
    ],
)
def test_malformed(text: str) -> None:
    with pytest.raises(MalformedConsultationNumber):
        ConsultationNumber.parse(text)


def test_error_classes_share_a_base() -> None:
    assert issubclass(MalformedConsultationNumber, InvalidConsultationNumber)
    assert issubclass(ConsultationNumberCheckFailed, InvalidConsultationNumber)
    assert issubclass(InvalidConsultationNumber, ValueError)


def test_constructor_validates() -> None:
    with pytest.raises(MalformedConsultationNumber):
        ConsultationNumber(1999, "12345678")
    with pytest.raises(MalformedConsultationNumber):
        ConsultationNumber(2026, "1234567")


@given(st.text(max_size=30))
def test_parse_accepts_or_raises_documented_error(text: str) -> None:
    with contextlib.suppress(InvalidConsultationNumber):
        ConsultationNumber.parse(text)
