"""Verification codes: a short code the agent reads out from the console and the
customer finds again in the consent dialog, so both know they are in the same session.

Six characters in two groups ("K7M-4XP") from an alphabet without look-alikes or
sound-alikes on the phone (no 0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G, Q). The code only has
to make a blind guess by a fraudster fail: 22**6 is about 1.1e8, so a fraudster who
has talked a customer onto the real portal with his own key cannot predict the code
the console shows the real session.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

ALPHABET = "ACDEFHJKMNPRTUVWXY3479"
CODE_LENGTH = 6
GROUP_SIZE = 3

_IGNORED = frozenset(" -\t\u2010\u2011\u2012\u2013\u2014\u2015\u2212")


class MalformedVerificationCode(ValueError):
    """Text that cannot be a verification code."""


@dataclass(frozen=True)
class VerificationCode:
    """A verification code in canonical form (upper case, no separators)."""

    chars: str

    def __post_init__(self) -> None:
        if len(self.chars) != CODE_LENGTH or not set(self.chars) <= set(ALPHABET):
            raise MalformedVerificationCode(
                f"a verification code has {CODE_LENGTH} characters from {ALPHABET}"
            )

    @classmethod
    def generate(cls) -> VerificationCode:
        return cls("".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH)))

    @classmethod
    def parse(cls, text: str) -> VerificationCode:
        """Read a code as typed: case and separators do not matter."""
        return cls("".join(c for c in text.upper() if c not in _IGNORED))

    def matches(self, text: str) -> bool:
        """True if ``text`` is this code as typed; never raises on junk input."""
        try:
            return VerificationCode.parse(text) == self
        except MalformedVerificationCode:
            return False

    def __str__(self) -> str:
        return f"{self.chars[:GROUP_SIZE]}-{self.chars[GROUP_SIZE:]}"
