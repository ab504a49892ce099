"""Service requests ("Serviceaufträge"): what a valid request is, its reference number,
the life cycle of its status, and how long its personal data is kept.

Validation returns error codes per field rather than sentences, so the web layer
can translate them and show each beside its field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

REFERENCE_PREFIX = "SA"
DESCRIPTION_MIN = 10
DESCRIPTION_MAX = 4000
_REFERENCE = re.compile(r"^\s*SA-(\d{4})-(\d{6})\s*$", re.IGNORECASE)
_PHONE = re.compile(r"^\+?[0-9][0-9 ()/-]{4,28}[0-9]$")
# Deliberately simple: one @, a dot in the domain, no spaces. The mail server is
# the real judge; this catches typing slips.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")


class ContactKind(Enum):
    PHONE = "phone"
    EMAIL = "email"


class RequestStatus(Enum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING_FOR_CUSTOMER = "waiting_for_customer"
    DONE = "done"


# Agents may move a request forward, park it with the customer, pick it up again,
# and reopen a finished one; every move is audited by the caller.
ALLOWED_STATUS_CHANGES: dict[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.NEW: frozenset({RequestStatus.IN_PROGRESS, RequestStatus.DONE}),
    RequestStatus.IN_PROGRESS: frozenset({RequestStatus.WAITING_FOR_CUSTOMER, RequestStatus.DONE}),
    RequestStatus.WAITING_FOR_CUSTOMER: frozenset({RequestStatus.IN_PROGRESS, RequestStatus.DONE}),
    RequestStatus.DONE: frozenset({RequestStatus.IN_PROGRESS}),
}


class IllegalStatusChange(ValueError):
    """A status change the life cycle does not allow."""


def check_status_change(old: RequestStatus, new: RequestStatus, *, purged: bool = False) -> None:
    if purged:
        # Its contact detail and text are erased: nobody could work on it again.
        raise IllegalStatusChange("a purged request stays closed")
    if new not in ALLOWED_STATUS_CHANGES[old]:
        raise IllegalStatusChange(f"a request cannot move from {old.value} to {new.value}")


# Retention. A request is closed when its status becomes DONE (``closed_at``); reopening
# it (DONE -> IN_PROGRESS) clears that, and the period starts again at the next close.
# Once closed longer than the retention period, its personal fields are erased: the
# customer's contact detail, their description, and the agents' notes (which may quote
# either). Reference number, topic, contact kind, status and dates stay, for statistics
# and so the reference still answers the customer's status look-up.
DEFAULT_REQUEST_RETENTION = timedelta(days=90)
PURGED_PERSONAL_FIELDS = ("description", "contact_value", "notes")
ERASED = ""
"""What an erased field holds."""


def closed_at_after(new: RequestStatus, now: datetime) -> datetime | None:
    """The request's ``closed_at`` once it moved to ``new`` at ``now``."""
    return now if new is RequestStatus.DONE else None


def purge_cutoff(now: datetime, retention: timedelta = DEFAULT_REQUEST_RETENTION) -> datetime:
    """Requests closed at or before this moment are due for purging."""
    if retention <= timedelta(0):
        raise ValueError("the retention period must be positive")
    return now - retention


def due_for_purge(
    closed_at: datetime | None,
    purged: bool,
    now: datetime,
    retention: timedelta = DEFAULT_REQUEST_RETENTION,
) -> bool:
    """Whether a request's personal fields are to be erased now (the rule the store's
    query implements)."""
    return closed_at is not None and not purged and closed_at <= purge_cutoff(now, retention)


@dataclass(frozen=True)
class ReferenceNumber:
    """``SA-2026-000123``: year of filing and a running number within that year."""

    year: int
    sequence: int

    def __post_init__(self) -> None:
        if not (2000 <= self.year <= 9999 and 0 < self.sequence <= 999_999):
            raise ValueError(f"reference out of range: {self.year}/{self.sequence}")

    def __str__(self) -> str:
        return f"{REFERENCE_PREFIX}-{self.year:04d}-{self.sequence:06d}"

    @classmethod
    def parse(cls, text: str) -> ReferenceNumber:
        match = _REFERENCE.match(text)
        if not match:
            raise ValueError(f"{text!r} is not a reference number like SA-2026-000123")
        return cls(int(match.group(1)), int(match.group(2)))


@dataclass(frozen=True)
class ServiceRequestDraft:
    """A request as the customer typed it, after normalising whitespace."""

    topic: str
    description: str
    contact_kind: ContactKind
    contact_value: str


def validate_request(
    topic: str,
    description: str,
    contact_kind: str,
    contact_value: str,
    known_topics: frozenset[str],
) -> ServiceRequestDraft | dict[str, str]:
    """Return a clean draft, or a mapping of field name to error code.

    Error codes: ``required``, ``unknown_topic``, ``too_short``, ``too_long``,
    ``invalid_phone``, ``invalid_email``, ``invalid_choice``.
    """
    errors: dict[str, str] = {}
    topic = topic.strip()
    description = description.strip()
    contact_value = " ".join(contact_value.split())
    if not topic:
        errors["topic"] = "required"
    elif topic not in known_topics:
        errors["topic"] = "unknown_topic"
    if not description:
        errors["description"] = "required"
    elif len(description) < DESCRIPTION_MIN:
        errors["description"] = "too_short"
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = "too_long"
    kind: ContactKind | None = None
    try:
        kind = ContactKind(contact_kind)
    except ValueError:
        errors["contact_kind"] = "required" if not contact_kind else "invalid_choice"
    if not contact_value:
        errors["contact_value"] = "required"
    elif kind is ContactKind.PHONE and not _PHONE.match(contact_value):
        errors["contact_value"] = "invalid_phone"
    elif kind is ContactKind.EMAIL and not _EMAIL.match(contact_value):
        errors["contact_value"] = "invalid_email"
    if errors or kind is None:
        return errors
    return ServiceRequestDraft(topic, description, kind, contact_value)
