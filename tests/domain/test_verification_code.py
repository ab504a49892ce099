"""Verification codes: alphabet, format, tolerant comparison."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.domain.verification_code import (
    ALPHABET,
    MalformedVerificationCode,
    VerificationCode,
)


def test_alphabet_has_no_look_or_sound_alikes() -> None:
    assert not set(ALPHABET) & set("0O1IL2Z5S8B6GQ")
    assert len(set(ALPHABET)) == len(ALPHABET)


def test_generated_format_and_round_trip() -> None:
    code = VerificationCode.generate()
    assert re.fullmatch(rf"[{ALPHABET}]{{3}}-[{ALPHABET}]{{3}}", str(code))
    assert VerificationCode.parse(str(code)) == code


def test_codes_vary() -> None:
    assert len({VerificationCode.generate() for _ in range(100)}) > 95


def test_matches_tolerates_case_and_separators() -> None:
    code = VerificationCode("K7MHXP")
    assert code.matches("k7m hxp")
    assert code.matches("K7M-HXP")
    assert not code.matches("K7M-HXR")
    assert not code.matches("")
    assert not code.matches("K7M-HX0")


@pytest.mark.parametrize("text", ["", "ABCDE", "ACDEFHJ", "AC0EFH"])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(MalformedVerificationCode):
        VerificationCode.parse(text)


@given(st.text(max_size=12))
def test_matches_never_raises(text: str) -> None:
    VerificationCode("ACDEFH").matches(text)
