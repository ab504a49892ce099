"""The service request's receipt after the redirect: reference and access code, kept
for a few minutes on the bus under a random one-time name that only the customer's
browser holds (a cookie), so neither ever appears in a URL.

Post/redirect/get: the POST files the request and answers 303 to the receipt page; a
reload of that page shows the same receipt (until the flash expires) and never files a
request again. Each showing spends the ticket and issues a fresh one for the time that
is left, because the bus's tickets are single use by design (``bus/interfaces.py``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from supportdesk.bus import Tickets
from supportdesk.domain.utc import iso_utc, parse_utc

RECEIPT_COOKIE = "sd_receipt"
RECEIPT_PATH = "/serviceauftrag/eingegangen"
RECEIPT_LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class Receipt:
    reference: str
    access_code: str
    by_phone: bool
    shown_until: datetime


async def keep(tickets: Tickets, receipt: Receipt, now: datetime) -> str | None:
    """The ticket under which ``receipt`` waits, or None once it has expired.

    Raises BusUnavailable when the cluster's Redis is away."""
    left = (receipt.shown_until - now).total_seconds()
    if left <= 0:
        return None
    # The desk's clock may be zoned (tests run on Berlin time); the bus keeps UTC.
    value = {**asdict(receipt), "shown_until": iso_utc(receipt.shown_until.astimezone(UTC))}
    return await tickets.issue(json.dumps(value), left)


async def take(tickets: Tickets, ticket: str, now: datetime) -> Receipt | None:
    """The receipt under ``ticket`` if it is still to be shown; the ticket is spent."""
    value = await tickets.take(ticket) if ticket else None
    if value is None:
        return None
    try:
        data = json.loads(value)
        receipt = Receipt(
            str(data["reference"]),
            str(data["access_code"]),
            bool(data["by_phone"]),
            parse_utc(data["shown_until"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
    return receipt if receipt.shown_until > now else None
