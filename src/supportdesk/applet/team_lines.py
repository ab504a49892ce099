"""Who works on the session, as the customer's window names them: the responsible agent
and the colleagues helping, each with whether they control, read from the relay's
``state`` message (its ``agents``: names and control, never user names).

A hand-over changes the responsible agent, an invitation adds a helper; the relay
sends a new ``state`` after each (``server/relay/team_side.py``), so the window's
"Berater/in" line follows it. An agent "controls" only while the team lets them
(``control``), the customer granted control and sharing is not paused, the same
rule as the watchers' line (``texts.watchers``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from supportdesk.applet.texts import N_, Gettext
from supportdesk.domain.capabilities import Capability

__all__ = ["HELPING", "helpers_line", "responsible_agent"]

HELPING = N_("Helping")  # the window's row of colleagues the agent invited
IN_CONTROL = N_("controls")
WATCHING_ONLY = N_("watching")


def _agents(state: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    agents = state.get("agents")
    return [a for a in agents if isinstance(a, Mapping)] if isinstance(agents, list) else []


def _controls(state: Mapping[str, Any], agent: Mapping[str, Any]) -> bool:
    granted = Capability.CONTROL.value in state.get("capabilities", [])
    return bool(agent.get("control")) and granted and not state.get("paused")


def responsible_agent(state: Mapping[str, Any], fallback: str, _: Gettext) -> str:
    """The agent responsible now: "Bernd Becker (steuert)" while that agent controls,
    else the name alone; ``fallback`` (the name consent was given to) until a state
    names an owner."""
    owner = next((a for a in _agents(state) if a.get("owner")), None)
    if owner is None or not owner.get("name"):
        return fallback
    name = str(owner["name"])
    return f"{name} ({_(IN_CONTROL)})" if _controls(state, owner) else name


def helpers_line(state: Mapping[str, Any], _: Gettext) -> str:
    """The colleagues helping: "Carla Schulz (sieht zu), Dirk Weber (steuert)"; empty
    when nobody helps."""
    return ", ".join(
        f"{a.get('name')} ({_(IN_CONTROL if _controls(state, a) else WATCHING_ONLY)})"
        for a in _agents(state)
        if not a.get("owner")
    )
