"""The marks on a player's timeline and the chat beside it, from a recording's events.

Fed the control, chat and file records of :meth:`RecordingReader.events`, in time
order. Session events come from the relay's published ``state`` messages (the
effect, whoever caused it): consent (the first live state), capability changes,
pause and resume, the end. A hold because the recording could not be written (the
state stays live, ``held`` is true) is marked as a pause with the notice the parties
saw, and its end as a resume. Chat and file events are marked as they are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from .format import Record, RecordKind

__all__ = ["Mark", "MarkKind", "timeline"]

_LIVE = {"active", "paused"}
_OVER = {"ended", "declined", "expired"}


class MarkKind(Enum):
    CONSENT = "consent"
    CAPABILITIES = "capabilities"
    PAUSE = "pause"
    RESUME = "resume"
    CHAT = "chat"
    FILE = "file"
    END = "end"


@dataclass(frozen=True, slots=True)
class Mark:
    at_us: int
    kind: MarkKind
    text: str
    """Free text from the recording: capabilities, the chat message, the file event."""
    who: str = ""


def _payload(record: Record) -> dict[str, object]:
    try:
        value = json.loads(record.payload)
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def timeline(records: Iterable[Record]) -> list[Mark]:
    marks: list[Mark] = []
    state: str | None = None
    capabilities: tuple[str, ...] | None = None
    held = False
    for record in records:
        data = _payload(record)
        if record.kind is RecordKind.CHAT:
            who = str(data.get("name") or data.get("from") or "")
            marks.append(Mark(record.at_us, MarkKind.CHAT, str(data.get("text", "")), who))
        elif record.kind is RecordKind.FILE_EVENT:
            what = [str(data[k]) for k in ("type", "event", "name", "state") if data.get(k)]
            marks.append(Mark(record.at_us, MarkKind.FILE, " ".join(what)))
        elif record.kind is RecordKind.CONTROL and data.get("type") == "state":
            new_state = str(data.get("state", ""))
            if bool(data.get("held")) != held:
                held = not held
                notice = str(data.get("notice") or "") if held else ""
                marks.append(
                    Mark(record.at_us, MarkKind.PAUSE if held else MarkKind.RESUME, notice)
                )
            raw = data.get("capabilities")
            new_caps = tuple(str(c) for c in raw) if isinstance(raw, list) else capabilities
            if new_state != state:
                kind = _state_mark(state, new_state)
                if kind is not None:
                    marks.append(Mark(record.at_us, kind, ", ".join(new_caps or ())))
            elif new_caps != capabilities and new_state in _LIVE:
                marks.append(Mark(record.at_us, MarkKind.CAPABILITIES, ", ".join(new_caps or ())))
            state, capabilities = new_state, new_caps
    return marks


def _state_mark(old: str | None, new: str) -> MarkKind | None:
    if new in _OVER:
        return MarkKind.END
    if new == "paused":
        return MarkKind.PAUSE
    if new == "active":
        return MarkKind.RESUME if old == "paused" else MarkKind.CONSENT
    return None
