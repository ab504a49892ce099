"""What a change of who works on a session means for its relay: the team in the state
message, the customer told who joined or took over (and asked nothing: "Ablehnen"
is offered when the new agent could control), the sockets of agents who left closed,
and the viewers whose control changed reopened.

The decisions are the session's (``domain/session_team.py``); this module carries
them out on the sockets the relay serves, which it reaches through :class:`TeamRelay`.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from starlette.websockets import WebSocket

from supportdesk.domain.capabilities import Capability
from supportdesk.domain.session_events import SessionError
from supportdesk.domain.session_team import ControlRefused, SessionTeam, TeamError, may_control
from supportdesk.domain.support_session import SupportSession
from supportdesk.server.recordings.session_recording import SessionRecording
from supportdesk.server.relay.link_rules import LinkKind
from supportdesk.server.relay.rfb_viewers import RfbViewers, Viewer
from supportdesk.server.relay.session_info import SessionInfo
from supportdesk.server.remote_support import RemoteSupport

__all__ = [
    "TeamRelay",
    "after_team_change",
    "applet_team",
    "refuse_control",
    "team_may_control",
    "team_state",
]

LEFT_CODE = 4403
LEFT_REASON = "no longer working on this session"
RECONNECT_CODE = 1012  # the live page reconnects its viewer with what it may do now
NOTICES_KEPT = 16


class TeamRelay(Protocol):
    """What the team's side needs of its relay; ``SessionRelay`` is one. A protocol, so
    the relay imports this module and not the other way round."""

    number: str
    clock: Callable[[], datetime]
    remote: RemoteSupport
    session: SupportSession
    info: SessionInfo
    link: LinkKind | None
    recording: SessionRecording
    rfb: RfbViewers
    viewers: dict[int, Viewer]
    notices: dict[str, str]
    """The customer's "Ablehnen" -> whose control."""
    team_sockets: dict[WebSocket, str]
    """Sockets of agents here by the team -> their actor."""

    async def to_applet(self, message: dict[str, Any]) -> None: ...

    async def publish(self) -> None: ...


def team_may_control(relay: TeamRelay, actor: str) -> bool:
    """Whether the team lets ``actor`` control (the customer's grant aside)."""
    session = relay.session
    owner = session.agent_id
    return may_control(owner, session.team, actor)


def team_state(relay: TeamRelay) -> dict[str, Any]:
    """The team as the consoles see it (the applet's view drops the actors)."""
    session = relay.session
    team = session.team
    return {
        "owner": {"actor": session.agent_id, "name": team.owner_name or relay.info.agent_name},
        "helpers": [{"actor": h.actor, "name": h.name, "control": h.control} for h in team.helpers],
        "controllers": sorted(
            actor
            for actor in {session.agent_id, *(h.actor for h in team.helpers)}
            if team_may_control(relay, actor)
        ),
    }


def applet_team(state: dict[str, Any]) -> dict[str, Any]:
    """The team for the customer's window: names and who controls, no user names."""
    controllers = set(state["controllers"])
    owner = state["owner"]
    agents = [{"name": owner["name"], "owner": True, "control": owner["actor"] in controllers}]
    agents += [
        {"name": h["name"], "owner": False, "control": h["actor"] in controllers}
        for h in state["helpers"]
    ]
    return {"agents": agents}


async def after_team_change(
    relay: TeamRelay, before_owner: str, before: SessionTeam, name_of: dict[str, str]
) -> None:
    """Carry out a team change the session made: tell the customer, close the sockets
    of agents who left, reopen viewers whose control changed, publish the state."""
    session = relay.session
    owner, team = session.agent_id, session.team
    # Who left first, who came last: the customer's window and page show the latest
    # notice, and its "Ablehnen" must be the new agent's, not lost behind a "left".
    for old in before.helpers:
        if not session.on_team(old.actor):
            await _tell_customer(relay, "left", old.actor, old.name)
    if before_owner != owner and not session.on_team(before_owner):
        await _tell_customer(relay, "left", before_owner, name_of.get(before_owner, ""))
    if owner != before_owner:
        relay.info.agent_name = team.owner_name or relay.info.agent_name
        await _tell_customer(relay, "took_over", owner, team.owner_name)
    for helper in team.helpers:
        was = before.helper(helper.actor)
        if helper.actor == before_owner:
            continue  # the previous owner, kept watching: nothing new for the customer
        if was is None or was.control != helper.control:
            await _tell_customer(relay, "joined", helper.actor, helper.name)
    await _close_left(relay)
    await _reopen_viewers(relay)
    await relay.publish()


async def _tell_customer(relay: TeamRelay, change: str, actor: str, name: str) -> None:
    """A notice in the customer's window; "Ablehnen" when the agent could control."""
    could_control = (
        change != "left"
        and relay.link is LinkKind.APPLET
        and Capability.CONTROL in relay.session.granted
        and team_may_control(relay, actor)
    )
    notice = secrets.token_urlsafe(9)
    if could_control:
        # The customer's answer names the notice, never the agent's user name.
        relay.notices[notice] = actor
        while len(relay.notices) > NOTICES_KEPT:
            relay.notices.pop(next(iter(relay.notices)))
    await relay.to_applet(
        {
            "type": "agent_notice",
            "notice": notice,
            "change": change,
            "agent_name": name,
            "refusable": could_control,
        }
    )


async def _close_left(relay: TeamRelay) -> None:
    """Agents who came by the team and are no longer on it lose every socket."""
    for socket, actor in list(relay.team_sockets.items()):
        if not relay.session.on_team(actor):
            relay.team_sockets.pop(socket, None)
            with contextlib.suppress(Exception):
                await socket.close(code=LEFT_CODE, reason=LEFT_REASON)


async def _reopen_viewers(relay: TeamRelay) -> None:
    """A viewer opened with other control than its agent has now reconnects, so the
    applet's channel matches (it gates input itself: defence in depth). Losing
    control needs no reconnect to take effect: the relay's gate asks every message."""
    for viewer in list(relay.viewers.values()):
        if viewer.actor and viewer.view_only == team_may_control(relay, viewer.actor):
            await relay.rfb.drop(viewer.channel, "control changed", code=RECONNECT_CODE)


async def refuse_control(relay: TeamRelay, notice: object) -> None:
    """The customer's "Ablehnen" on a notice: that agent controls no more."""
    actor = relay.notices.pop(notice, None) if isinstance(notice, str) else None
    if actor is None:
        return  # an old or unknown notice: nothing to refuse
    before_owner, before = relay.session.agent_id, relay.session.team
    helper = before.helper(actor)
    name = helper.name if helper is not None else before.owner_name or relay.info.agent_name
    with contextlib.suppress(KeyError, SessionError, TeamError):
        await relay.remote.apply(relay.number, ControlRefused(relay.clock(), actor))
        # For the player's timeline: whose control the customer refused (the state
        # that follows only shows that it went).
        relay.recording.control("relay", {"type": "control_refused", "agent_name": name})
        await after_team_change(relay, before_owner, before, {})
