"""The marks on a player's timeline and the chat beside it, from a recording's events.

Fed the control, chat and file records of :meth:`RecordingReader.events`, in time
order. Session events come from the relay's published ``state`` messages (the
effect, whoever caused it): consent (the first live state), capability changes,
pause and resume, the end. A hold because the recording could not be written (the
state stays live, ``held`` is true) is marked as a pause with the notice the parties
saw, and its end as a resume. Chat and file events are marked as they are.

Who works on the session comes from the same state messages, as the customer's side
sees it (``agents``: names, who owns, who may control): a new owner is a hand-over,
a helper who appears, changes access or goes is marked as such. The customer's
"Ablehnen" is the relay's own ``control_refused`` record. Only records the relay
wrote count for these marks (``from``: relay), so nothing the customer's program
sends can put a hand-over on the timeline. Agents are told apart by display name,
the only name the recording holds.

Masking comes from the same states too (``masking``: the kinds of mask on the
customer's picture, as the relay audited them): a kind that appears is a start, one
that goes is a stop; the mark's text is the kinds, never where or what was masked.
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
    HAND_OVER = "hand_over"
    HELPER_JOINED = "helper_joined"
    HELPER_CHANGED = "helper_changed"
    HELPER_LEFT = "helper_left"
    CONTROL_REFUSED = "control_refused"
    MASKING_STARTED = "masking_started"
    MASKING_STOPPED = "masking_stopped"


CONTROL, VIEW = "control", "view"
"""A helper mark's text: what the helper may do."""


@dataclass(frozen=True, slots=True)
class Mark:
    at_us: int
    kind: MarkKind
    text: str
    """Free text from the recording: capabilities, the chat message, the file event;
    a hand-over's previous owner; a helper's access (:data:`CONTROL`, :data:`VIEW`);
    the kinds of mask that started or stopped (``secret_input, window_rule, privacy``)."""
    who: str = ""
    """Who wrote a chat line; the agent a team mark is about (a hand-over's new owner)."""


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
    team = _TeamTrail()
    masked: frozenset[str] = frozenset()
    for record in records:
        data = _payload(record)
        if record.kind is RecordKind.CHAT:
            who = str(data.get("name") or data.get("from") or "")
            marks.append(Mark(record.at_us, MarkKind.CHAT, str(data.get("text", "")), who))
        elif record.kind is RecordKind.FILE_EVENT:
            what = [str(data[k]) for k in ("type", "event", "name", "state") if data.get(k)]
            marks.append(Mark(record.at_us, MarkKind.FILE, " ".join(what)))
        elif record.kind is RecordKind.CONTROL and data.get("from") == "relay":
            team.feed(record.at_us, data, marks)
            masked = _masking(record.at_us, data, masked, marks)
        if record.kind is RecordKind.CONTROL and data.get("type") == "state":
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


class _TeamTrail:
    """The team as the last state message showed it; marks for what changed.

    The relay's ``control_refused`` record and the state that shows the control gone
    come in either order (the state may be published while the refusal is stored):
    before it, the state's loss is not marked again; after it, the loss the state
    marked becomes the refusal, at the state's time."""

    def __init__(self) -> None:
        self.owner: str | None = None  # None: no state with the team seen yet
        self.helpers: dict[str, bool] = {}  # name -> may control
        self.refused: set[str] = set()  # refused since the last state: no second mark
        self.lost: dict[str, int] = {}  # helpers who lost control at the last state: mark

    def feed(self, at_us: int, data: dict[str, object], marks: list[Mark]) -> None:
        """Add to ``marks`` what the relay's ``data`` changed of the team."""
        if data.get("type") == "control_refused":
            name = str(data.get("agent_name") or "")
            index = self.lost.pop(name, None)
            if index is None:
                self.refused.add(name)
                marks.append(Mark(at_us, MarkKind.CONTROL_REFUSED, "", name))
            else:
                marks[index] = Mark(marks[index].at_us, MarkKind.CONTROL_REFUSED, "", name)
            return
        if data.get("type") != "state":
            return
        owner, helpers = _team_of(data)
        if owner is None:
            return
        self.lost = {}
        if self.owner is not None:
            self._changes(at_us, owner, helpers, marks)
        self.owner, self.helpers, self.refused = owner, helpers, set()

    def _changes(self, at_us: int, owner: str, helpers: dict[str, bool], marks: list[Mark]) -> None:
        if owner != self.owner:
            marks.append(Mark(at_us, MarkKind.HAND_OVER, self.owner or "", owner))
        for name, control in helpers.items():
            access = CONTROL if control else VIEW
            before = self.helpers.get(name)
            if before is None:
                marks.append(Mark(at_us, MarkKind.HELPER_JOINED, access, name))
            elif before != control and not (before and name in self.refused):
                if before:
                    self.lost[name] = len(marks)
                marks.append(Mark(at_us, MarkKind.HELPER_CHANGED, access, name))
        for name in self.helpers:
            if name not in helpers and name != owner:  # a helper who took over did not leave
                marks.append(Mark(at_us, MarkKind.HELPER_LEFT, "", name))


def _masking(
    at_us: int, state: dict[str, object], before: frozenset[str], marks: list[Mark]
) -> frozenset[str]:
    """The kinds of mask on after the relay's ``state``; a mark for each change."""
    raw = state.get("masking")
    if state.get("type") != "state" or not isinstance(raw, list):
        return before
    after = frozenset(str(kind) for kind in raw)
    if started := after - before:
        marks.append(Mark(at_us, MarkKind.MASKING_STARTED, ", ".join(sorted(started))))
    if stopped := before - after:
        marks.append(Mark(at_us, MarkKind.MASKING_STOPPED, ", ".join(sorted(stopped))))
    return after


def _team_of(state: dict[str, object]) -> tuple[str | None, dict[str, bool]]:
    """The owner's name and the helpers' (name -> may control) in a state message: the
    customer's side's ``agents``, or the consoles' ``owner``, ``helpers`` and
    ``controllers`` (the state the recording starts with); (None, {}) without a team."""
    owner: str | None = None
    helpers: dict[str, bool] = {}
    agents, lead, others = state.get("agents"), state.get("owner"), state.get("helpers")
    if isinstance(agents, list):
        for agent in agents:
            if isinstance(agent, dict):
                name = str(agent.get("name") or "")
                if agent.get("owner") is True:
                    owner = name
                else:
                    helpers[name] = agent.get("control") is True
    elif isinstance(lead, dict) and isinstance(others, list):
        controllers = state.get("controllers")
        controlling = set(controllers) if isinstance(controllers, list) else set()
        owner = str(lead.get("name") or "")
        for helper in others:
            if isinstance(helper, dict):
                helpers[str(helper.get("name") or "")] = helper.get("actor") in controlling
    return owner, helpers


def _state_mark(old: str | None, new: str) -> MarkKind | None:
    if new in _OVER:
        return MarkKind.END
    if new == "paused":
        return MarkKind.PAUSE
    if new == "active":
        return MarkKind.RESUME if old == "paused" else MarkKind.CONSENT
    return None
