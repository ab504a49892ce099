"""Consultation numbers ("Beratungsnummer"): the readable, checkable name under which
everything about one support session is filed.

Format: ``BN-2026-4821-7730-8`` — the year of issue, eight random digits in two
groups of four, and a Damm check digit over year and digits. Damm catches every
single-digit error and every transposition of adjacent digits (Luhn misses 09<->90),
which are the mistakes people make reading a number over the phone.

Random rather than sequential so a number reveals nothing about volume or about
neighbouring sessions. Uniqueness needs the store: with 10**8 numbers per year and
about 200,000 sessions a year a fresh number collides with an earlier one with chance
below 0.2 %; the store's unique constraint catches it and the shell draws again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from supportdesk.domain.utc import require_utc

PREFIX = "BN"
SERIAL_DIGITS = 8

# Damm's totally anti-symmetric quasigroup of order 10 (Damm 2004): row = interim,
# column = next digit.
_DAMM_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

_DIGITS = frozenset("0123456789")
_SEPARATORS = frozenset(" -\t\u2010\u2011\u2012\u2013\u2014\u2015\u2212")


class InvalidConsultationNumber(ValueError):
    """Text that is not a valid consultation number."""


class MalformedConsultationNumber(InvalidConsultationNumber):
    """Wrong shape: not ``BN-YYYY-NNNN-NNNN-C`` (prefix and separators optional)."""


class ConsultationNumberCheckFailed(InvalidConsultationNumber):
    """Right shape, wrong check digit: most likely a digit misread or two swapped."""


def damm_check_digit(digits: str) -> int:
    """The Damm check digit of a string of ASCII digits."""
    interim = 0
    for char in digits:
        interim = _DAMM_TABLE[interim][ord(char) - 48]
    return interim


def damm_valid(digits_with_check: str) -> bool:
    """True if the last digit is the Damm check digit of the ones before it."""
    return damm_check_digit(digits_with_check) == 0


@dataclass(frozen=True, order=True)
class ConsultationNumber:
    """A consultation number; construct with :meth:`generate` or :meth:`parse`."""

    year: int
    serial: str

    def __post_init__(self) -> None:
        if not 2000 <= self.year <= 9999:
            raise MalformedConsultationNumber(f"year {self.year} is out of range")
        if len(self.serial) != SERIAL_DIGITS or not set(self.serial) <= _DIGITS:
            raise MalformedConsultationNumber(f"the serial has {SERIAL_DIGITS} digits")

    @classmethod
    def generate(cls, now: datetime) -> ConsultationNumber:
        """A new random number for a session opened at ``now`` (aware UTC)."""
        require_utc(now)
        return cls(now.year, f"{secrets.randbelow(10**SERIAL_DIGITS):0{SERIAL_DIGITS}d}")

    @classmethod
    def parse(cls, text: str) -> ConsultationNumber:
        """Read a number as typed: case, separators and the ``BN`` prefix are optional;
        the check digit is not."""
        compact = "".join(c for c in text.strip() if c not in _SEPARATORS)
        if compact[: len(PREFIX)].upper() == PREFIX:
            compact = compact[len(PREFIX) :]
        expected = 4 + SERIAL_DIGITS + 1
        if not compact or not set(compact) <= _DIGITS:
            raise MalformedConsultationNumber(
                f"{text!r} is not a consultation number (expected e.g. BN-2026-4821-7730-8)"
            )
        if len(compact) != expected:
            raise MalformedConsultationNumber(
                f"{text!r} has {len(compact)} digits, a consultation number has {expected}"
            )
        if not damm_valid(compact):
            raise ConsultationNumberCheckFailed(
                f"{text!r} has a wrong check digit: please read the number again"
            )
        return cls(int(compact[:4]), compact[4:-1])

    @property
    def check_digit(self) -> int:
        return damm_check_digit(f"{self.year:04d}{self.serial}")

    def __str__(self) -> str:
        half = SERIAL_DIGITS // 2
        return (
            f"{PREFIX}-{self.year:04d}-{self.serial[:half]}-{self.serial[half:]}-{self.check_digit}"
        )
