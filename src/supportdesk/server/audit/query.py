"""The audit page's filter as the query string carries it (``from``, ``to``, ``event``,
``actor``, ``session``): read into an AuditFilter, with what the form shows back and
which fields could not be read, and written back into the links of the pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.datastructures import QueryParams

from supportdesk.server.audit.names import EVENT_NAMES, stored_actors
from supportdesk.store.audit_filter import AuditFilter

FIELDS = ("from", "to", "event", "actor", "session")
_MAX_TEXT = 128  # as long as the actor and subject columns

# What a datetime-local field sends ("2026-11-30T09:15", seconds optional), a date, or
# the German way of writing either ("30.11.2026 09:15").
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?")
_GERMAN = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:,? (\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def _moment(text: str, zone: ZoneInfo, end: bool) -> datetime | None:
    """A local date or time as UTC. The end of a range includes what it names: "to
    30.11.2026" runs to the end of that day, "to 09:15" to the end of that minute.
    None for anything unreadable."""
    iso, german = _ISO.fullmatch(text), _GERMAN.fullmatch(text)
    if iso:
        year, month, day, hour, minute, second = iso.groups()
    elif german:
        day, month, year, hour, minute, second = german.groups()
    else:
        return None
    try:
        start = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
    except ValueError:
        return None
    step = (
        timedelta(days=1)
        if hour is None
        else timedelta(minutes=1)
        if second is None
        else timedelta(seconds=1)
    )
    local = start + step if end else start
    return local.replace(tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class AuditQuery:
    """A reader's filter: ``where`` for the store, ``values`` to fill the form again,
    ``invalid`` the fields that were ignored because they could not be read."""

    where: AuditFilter
    values: dict[str, str]
    invalid: tuple[str, ...] = ()
    active: bool = False

    @classmethod
    def read(cls, params: QueryParams | dict[str, str], zone: ZoneInfo) -> AuditQuery:
        values = {name: str(params.get(name, "")).strip()[:_MAX_TEXT] for name in FIELDS}
        invalid: list[str] = []
        since = _moment(values["from"], zone, end=False) if values["from"] else None
        until = _moment(values["to"], zone, end=True) if values["to"] else None
        for name, moment in (("from", since), ("to", until)):
            if values[name] and moment is None:
                invalid.append(name)
        event = values["event"] or None
        if event is not None and event not in EVENT_NAMES:
            invalid.append("event")
            event = None
        where = AuditFilter(
            since=since,
            until=until,
            event_type=event,
            actors=stored_actors(values["actor"]),
            subject=values["session"].upper() or None,
        )
        active = any(values.values())
        return cls(where, values, tuple(invalid), active)

    def link(self, **paging: int) -> str:
        """The query string of this filter, with ``before``/``after`` for a page."""
        pairs = [(name, value) for name, value in self.values.items() if value]
        pairs += [(name, str(number)) for name, number in paging.items()]
        return "?" + urlencode(pairs) if pairs else ""
