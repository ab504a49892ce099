"""TOTP codes for test agents, as an authenticator app would make them.

The server takes each code once per account (no replay), so a test that signs the
same agent in twice within 30 seconds must use the next step's code, which the server
also accepts (one step of clock drift); a third login in the same step waits for the
next. Secrets are remembered by user name as enrolment pages show them, newest first
(one user name may be enrolled on several test servers).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from supportdesk import totp

_SECRETS: dict[str, list[str]] = {}
_LAST_STEP: dict[str, int] = {}  # secret -> last step a code was made for


def remember(username: str, secret: str) -> None:
    """An enrolment page showed ``secret`` for ``username``."""
    known = _SECRETS.setdefault(username, [])
    if secret in known:
        known.remove(secret)
    known.insert(0, secret)


def secrets_of(username: str) -> list[str]:
    """The secrets enrolled for ``username``, newest first."""
    return list(_SECRETS.get(username, []))


def code(secret: str, now: datetime) -> str | None:
    """A code for a step after the last one used with ``secret``, within the drift the
    server allows around ``now``; None if both of those steps are used."""
    current = totp.step_of(now)
    step = max(current, _LAST_STEP.get(secret, current - 1) + 1)
    if step > current + totp.DRIFT_STEPS:
        return None
    _LAST_STEP[secret] = step
    return totp.code_for_step(secret, step)


async def fresh_code(secret: str) -> str:
    """A code not used before, by the real clock (waits for the next step if needed)."""
    while True:
        made = code(secret, datetime.now(UTC))
        if made is not None:
            return made
        await asyncio.sleep(1)
