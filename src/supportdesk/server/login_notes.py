"""Short-lived things a page shows to one login, kept in this node's memory.

A form that creates something answers with a redirect (post/redirect/get), so a reload
never creates it twice; what the created thing's page must still show - the support key
just issued, an account's one-time password - cannot travel in the URL and must not be
stored in clear. It waits here, under the login session's id digest, until it expires
(the key: when the key does) or is taken (a one-time password: shown once).

Memory is per node: behind a balancer the redirect reaches the node that made the note
when the console's requests stick to one node; otherwise the page falls back to what the
database holds (the session without its key).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from starlette.requests import HTTPConnection

MAX_NOTES = 10_000  # bounded: a note outlives its request by minutes at most


@dataclass(frozen=True)
class _Note:
    value: object
    expires_at: datetime


class LoginNotes:
    """Values by (login session, name), each with an expiry; bounded in number."""

    def __init__(self, limit: int = MAX_NOTES) -> None:
        self._notes: dict[tuple[str, str], _Note] = {}
        self._limit = limit

    def put(
        self, login: str, name: str, value: object, expires_at: datetime, now: datetime
    ) -> None:
        self._drop_expired(now)
        while len(self._notes) >= self._limit:  # the oldest note goes first
            del self._notes[next(iter(self._notes))]
        self._notes[(login, name)] = _Note(value, expires_at)

    def get(self, login: str, name: str, now: datetime) -> object | None:
        """The value while it is valid, left in place (a reload shows it again)."""
        note = self._notes.get((login, name))
        if note is None or note.expires_at <= now:
            self._notes.pop((login, name), None)
            return None
        return note.value

    def take(self, login: str, name: str, now: datetime) -> object | None:
        """The value while it is valid, removed: shown once."""
        value = self.get(login, name, now)
        self._notes.pop((login, name), None)
        return value

    def _drop_expired(self, now: datetime) -> None:
        for key in [k for k, note in self._notes.items() if note.expires_at <= now]:
            del self._notes[key]


def notes_of(connection: HTTPConnection) -> LoginNotes:
    """The application's notes, made on first use."""
    state = connection.app.state
    notes = getattr(state, "login_notes", None)
    if notes is None:
        notes = state.login_notes = LoginNotes()
    return notes
