"""Time-based one-time passwords (RFC 6238) for the agents' second factor.

A code is good for the 30-second step it was made for and one step either side (clock
drift between phone and server), and only once: :func:`matching_step` names the step
a code matched, and the store accepts a login only for a step later than the last one
the account used (``store/agents.py``), so a code seen over a shoulder or in a proxy
log cannot be used again.
"""

from __future__ import annotations

import binascii
import hmac
from datetime import datetime

import pyotp
import segno

ISSUER = "supportdesk"
STEP_SECONDS = 30
DRIFT_STEPS = 1
CODE_DIGITS = 6


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str, issuer: str = ISSUER) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg_data_uri(uri: str) -> str:
    """The enrolment QR code as an SVG data URI (allowed by the CSP's img-src)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


def clean_code(code: str) -> str | None:
    """The six ASCII digits of a typed code (spaces allowed), or None if it is not one."""
    cleaned = "".join(code.split())
    if len(cleaned) == CODE_DIGITS and cleaned.isascii() and cleaned.isdigit():
        return cleaned
    return None


def step_of(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step ``code`` is the right code for (within the drift allowed), or
    None for a wrong or malformed code or an unusable secret."""
    cleaned = clean_code(code)
    if cleaned is None:
        return None
    try:
        generator = pyotp.TOTP(secret)
        current = step_of(now)
        for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
            expected = generator.generate_otp(step)
            if hmac.compare_digest(expected.encode(), cleaned.encode()):
                return step
    except (binascii.Error, ValueError, TypeError):
        return None
    return None


def verify_code(secret: str, code: str, now: datetime) -> bool:
    return matching_step(secret, code, now) is not None


def current_code(secret: str, now: datetime) -> str:
    """For tests and the enrolment check."""
    return str(pyotp.TOTP(secret).at(now))


def code_for_step(secret: str, step: int) -> str:
    """For tests: the code of a given step."""
    return str(pyotp.TOTP(secret).generate_otp(step))
