"""Time-based one-time passwords (RFC 6238) for the agents' second factor."""

from __future__ import annotations

from datetime import datetime

import pyotp
import segno

ISSUER = "supportdesk"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str, issuer: str = ISSUER) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg_data_uri(uri: str) -> str:
    """The enrolment QR code as an SVG data URI (allowed by the CSP's img-src)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


def verify_code(secret: str, code: str, now: datetime) -> bool:
    cleaned = "".join(code.split())
    if not (cleaned.isdigit() and len(cleaned) == 6):
        return False
    # One step either side absorbs clock drift between phone and server.
    return bool(pyotp.TOTP(secret).verify(cleaned, for_time=now, valid_window=1))


def current_code(secret: str, now: datetime) -> str:
    """For tests and the enrolment check."""
    return str(pyotp.TOTP(secret).at(now))
