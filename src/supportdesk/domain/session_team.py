"""Who works on a live session: the one agent who owns it, the helpers the owner
invited (to watch, or to control when the owner allows), and the agents whose
control the customer refused. Pure rules and events, no I/O.

The session applies the events of this module like its others
(``support_session.SupportSession.apply``, rows in ``session_events.TRANSITIONS``);
:func:`change` is the one place that decides them:

- :class:`HandedOver` moves ownership. Only the owner or a supervisor may hand over,
  and the request names the owner it saw (``from_owner``): of two parallel requests
  the first wins and the second, naming an owner who no longer is one, raises
  :class:`StaleHandOver` — a session has one owner, always. The previous owner loses
  control with the event; it keeps watching only if the request says so, as a helper
  without control.
- :class:`HelperInvited` adds a helper or changes what one may do;
  :class:`HelperLeft` takes one away (the owner, a supervisor, or the helper itself).
- :class:`ControlRefused` is the customer's "Ablehnen": that agent's keyboard and
  mouse no longer reach the customer's machine, for the rest of the session.

Nothing here grows what the customer granted: control still needs the customer's
CONTROL grant (``SupportSession.input_allowed``). A hand-over therefore carries the
consent over unchanged and asks for none; the customer is told and may refuse.

Whether an agent may be chosen at all (an active, signed-in account with the
RUN_SESSIONS permission, not locked) is :func:`check_target`, fed facts the shell
read from the store.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Any

from supportdesk.domain.agent_accounts import Permission, Role, may

__all__ = [
    "ControlRefused",
    "HandedOver",
    "Helper",
    "HelperInvited",
    "HelperLeft",
    "NotAllowed",
    "NotOnTeam",
    "SessionTeam",
    "StaleHandOver",
    "TargetRefusal",
    "TeamChange",
    "TeamError",
    "TeamEvent",
    "change",
    "check_target",
]


@dataclass(frozen=True)
class Helper:
    """An agent helping the owner: watching, and controlling if ``control``."""

    actor: str  # "agent:<username>", as the audit trail names it
    name: str  # the display name the customer and the consoles see
    control: bool = False


@dataclass(frozen=True)
class SessionTeam:
    """The helpers of a session and the agents whose control the customer refused.
    The owner is the session's ``agent_id``; the owner's display name is kept here
    so the customer can be told who took over."""

    owner_name: str = ""
    helpers: tuple[Helper, ...] = ()
    refused: frozenset[str] = frozenset()

    def helper(self, actor: str) -> Helper | None:
        return next((h for h in self.helpers if h.actor == actor), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "owner_name": self.owner_name,
            "helpers": [
                {"actor": h.actor, "name": h.name, "control": h.control} for h in self.helpers
            ],
            "refused": sorted(self.refused),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> SessionTeam:
        if not data:
            return cls()
        return cls(
            owner_name=str(data.get("owner_name", "")),
            helpers=tuple(
                Helper(str(h["actor"]), str(h["name"]), bool(h["control"]))
                for h in data.get("helpers", [])
            ),
            refused=frozenset(str(a) for a in data.get("refused", [])),
        )


def may_control(owner: str, team: SessionTeam, actor: str) -> bool:
    """Whether ``actor``'s input may reach the customer as far as the team goes (the
    customer's grant and the session's state are checked beside it)."""
    if actor in team.refused:
        return False
    if actor == owner:
        return True
    helper = team.helper(actor)
    return helper is not None and helper.control


def on_team(owner: str, team: SessionTeam, actor: str) -> bool:
    """Whether ``actor`` owns or helps in the session."""
    return actor == owner or team.helper(actor) is not None


# -- events ------------------------------------------------------------------------


@dataclass(frozen=True)
class HandedOver:
    """``by`` hands the session from ``from_owner`` (the owner as the request saw it)
    to ``to``; ``previous_stays``: the previous owner goes on watching as a helper."""

    at: datetime
    by: str
    by_supervisor: bool
    from_owner: str
    to: str
    to_name: str
    from_name: str = ""
    previous_stays: bool = False


@dataclass(frozen=True)
class HelperInvited:
    """``by`` invites ``helper`` to watch (and control, if ``control``), or changes
    what a helper may do."""

    at: datetime
    by: str
    by_supervisor: bool
    helper: str
    name: str
    control: bool = False


@dataclass(frozen=True)
class HelperLeft:
    """``helper`` no longer helps: sent away by ``by`` (the owner, a supervisor), or
    leaving (``by`` is the helper)."""

    at: datetime
    by: str
    by_supervisor: bool
    helper: str


@dataclass(frozen=True)
class ControlRefused:
    """The customer refused ``agent``'s control ("Ablehnen")."""

    at: datetime
    agent: str


TeamEvent = HandedOver | HelperInvited | HelperLeft | ControlRefused
TEAM_EVENT_TYPES: tuple[type[TeamEvent], ...] = (
    HandedOver,
    HelperInvited,
    HelperLeft,
    ControlRefused,
)


class TeamError(Exception):
    """Base of the team changes :func:`change` refuses; not a ``SessionError``, so the
    shells catch both."""


class NotAllowed(TeamError):
    """The one asking is neither the owner nor a supervisor."""


class StaleHandOver(TeamError):
    """The hand-over names an owner who no longer owns the session: another hand-over
    came first."""


class NotOnTeam(TeamError):
    """The agent named does not work on the session (or already does, as asked)."""


@dataclass(frozen=True)
class TeamChange:
    """What an event makes of the team, and who the audit entry names, with what data."""

    owner: str
    team: SessionTeam
    actor: str
    data: dict[str, Any]


def change(owner: str, team: SessionTeam, event: TeamEvent) -> TeamChange | None:
    """The team after ``event``; None if the event changes nothing (a helper who left
    already); raises a :class:`TeamError` if the event breaks a rule (nothing changes
    then)."""
    match event:
        case HandedOver():
            # Stale first: of two parallel hand-overs the second is told that another
            # came first, also when it was the previous owner's, who may no longer ask.
            if event.from_owner != owner:
                raise StaleHandOver(f"the session is no longer {event.from_owner}'s")
            _check_leader(owner, event.by, event.by_supervisor)
            if event.to == owner:
                raise NotOnTeam("the session already belongs to that agent")
            helpers = tuple(h for h in team.helpers if h.actor not in (event.to, owner))
            if event.previous_stays:
                helpers = (*helpers, Helper(owner, event.from_name or team.owner_name, False))
            new = replace(team, owner_name=event.to_name, helpers=helpers)
            data = {"from": owner, "to": event.to, "previous_stays": event.previous_stays}
            return TeamChange(event.to, new, event.by, data)
        case HelperInvited():
            _check_leader(owner, event.by, event.by_supervisor)
            if event.helper == owner:
                raise NotOnTeam("the owner cannot be a helper")
            before = team.helper(event.helper)
            if before is not None and before.control == event.control:
                raise NotOnTeam("that helper already has this access")
            others = tuple(h for h in team.helpers if h.actor != event.helper)
            new = replace(team, helpers=(*others, Helper(event.helper, event.name, event.control)))
            data = {"helper": event.helper, "control": event.control, "changed": before is not None}
            return TeamChange(owner, new, event.by, data)
        case HelperLeft():
            if event.by != event.helper:
                _check_leader(owner, event.by, event.by_supervisor)
            if team.helper(event.helper) is None:
                return None  # gone already (a second click, a closed page): no change
            new = replace(team, helpers=tuple(h for h in team.helpers if h.actor != event.helper))
            return TeamChange(owner, new, event.by, {"helper": event.helper})
        case ControlRefused():
            if not on_team(owner, team, event.agent) or event.agent in team.refused:
                raise NotOnTeam("that agent has no control to refuse")
            new = replace(team, refused=team.refused | {event.agent})
            return TeamChange(owner, new, "customer", {"agent": event.agent})


def _check_leader(owner: str, by: str, by_supervisor: bool) -> None:
    if by != owner and not by_supervisor:
        raise NotAllowed("only the session's owner or a supervisor")


# -- choosing a colleague -------------------------------------------------------------


class TargetRefusal(Enum):
    """Why an agent cannot take over or help."""

    DISABLED = "disabled"
    LOCKED = "locked"  # the login throttle locked the account out for now
    NOT_SIGNED_IN = "not_signed_in"
    NOT_PERMITTED = "not_permitted"  # the role may not run sessions


def check_target(
    role: Role, *, disabled: bool, locked: bool, signed_in: bool
) -> TargetRefusal | None:
    """None if an agent with these facts may be handed a session or invited; else why
    not (the first reason of the table's order)."""
    if disabled:
        return TargetRefusal.DISABLED
    if locked:
        return TargetRefusal.LOCKED
    if not may(role, Permission.RUN_SESSIONS):
        return TargetRefusal.NOT_PERMITTED
    if not signed_in:
        return TargetRefusal.NOT_SIGNED_IN
    return None
