"""Which audit entries a reader asked for: a time range, an event code, actors, a
subject; as SQL conditions for the trail's pages and exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, true

from supportdesk.domain.utc import iso_utc
from supportdesk.store.models import AuditEntryRow


@dataclass(frozen=True)
class AuditFilter:
    """Every part is optional; an empty filter selects the whole trail. ``since`` is
    inclusive, ``until`` exclusive (both aware UTC); ``actors`` matches any of them."""

    since: datetime | None = None
    until: datetime | None = None
    event_type: str | None = None
    actors: tuple[str, ...] = ()
    subject: str | None = None
    up_to: int | None = None
    """Entries up to this sequence number only: an export stays the trail as it was
    when it began, however much is appended while it streams."""

    def condition(self) -> ColumnElement[bool]:
        # Timestamps are stored as fixed-width ISO strings (iso_utc), so they compare
        # as text in time order.
        parts: list[ColumnElement[bool]] = []
        if self.since is not None:
            parts.append(AuditEntryRow.timestamp >= iso_utc(self.since))
        if self.until is not None:
            parts.append(AuditEntryRow.timestamp < iso_utc(self.until))
        if self.event_type:
            parts.append(AuditEntryRow.event_type == self.event_type)
        if self.actors:
            parts.append(AuditEntryRow.actor.in_(self.actors))
        if self.subject:
            parts.append(AuditEntryRow.subject == self.subject)
        if self.up_to is not None:
            parts.append(AuditEntryRow.sequence <= self.up_to)
        return and_(true(), *parts)

    def audit_data(self) -> dict[str, Any]:
        """The filter as an ``audit.exported`` entry records it (canonical JSON)."""
        data: dict[str, Any] = {}
        if self.since is not None:
            data["since"] = iso_utc(self.since)
        if self.until is not None:
            data["until"] = iso_utc(self.until)
        if self.event_type:
            data["event_type"] = self.event_type
        if self.actors:
            data["actors"] = list(self.actors)
        if self.subject:
            data["subject"] = self.subject
        return data


EVERYTHING = AuditFilter()
