"""Who the customer's window names: the responsible agent and the helpers, from the
state the relay sends the applet (its own ``applet_team``), in German and English,
with who controls; a malformed team is refused before it is shown."""

from __future__ import annotations

from typing import Any

import pytest

from supportdesk.applet.link.relay_messages import check_relay_message
from supportdesk.applet.team_lines import helpers_line, responsible_agent
from supportdesk.applet.texts import gettext_for
from supportdesk.domain.consent import Language
from supportdesk.link.frames import LinkProtocolError
from supportdesk.server.relay.team_side import applet_team

DE = gettext_for(Language.DE)
EN = gettext_for(Language.EN)


def state(
    owner: tuple[str, str],
    helpers: list[tuple[str, str, bool]] = [],  # noqa: B006 - read only
    controllers: list[str] | None = None,
    capabilities: tuple[str, ...] = ("view", "control"),
    paused: bool = False,
) -> dict[str, Any]:
    """The applet's state message as the relay makes it (``team_side.applet_team``)."""
    team = {
        "owner": {"actor": owner[0], "name": owner[1]},
        "helpers": [{"actor": a, "name": n, "control": c} for a, n, c in helpers],
        "controllers": controllers if controllers is not None else [owner[0]],
    }
    message = {"type": "state", "state": "active", "capabilities": list(capabilities),
               "paused": paused, **applet_team(team)}  # fmt: skip
    check_relay_message(message)
    return message


def test_the_window_names_who_took_over_and_that_they_control() -> None:
    before = state(("agent:anna", "Anna Berger"))
    after = state(("agent:bernd", "Bernd Becker"), [("agent:anna", "Anna Berger", False)],
                  controllers=["agent:bernd"])  # fmt: skip
    assert responsible_agent(before, "Anna Berger", DE) == "Anna Berger (steuert)"
    assert responsible_agent(after, "Anna Berger", DE) == "Bernd Becker (steuert)"
    assert responsible_agent(after, "Anna Berger", EN) == "Bernd Becker (controls)"
    assert helpers_line(after, DE) == "Anna Berger (sieht zu)"
    assert helpers_line(after, EN) == "Anna Berger (watching)"
    assert helpers_line(before, DE) == ""


def test_control_needs_the_team_the_customers_grant_and_no_pause() -> None:
    helped = [("agent:carla", "Carla Schulz", True), ("agent:dirk", "Dirk Weber", False)]
    both = ["agent:bernd", "agent:carla"]
    assert helpers_line(state(("agent:bernd", "Bernd"), helped, both), DE) == (
        "Carla Schulz (steuert), Dirk Weber (sieht zu)"
    )
    view_only = state(("agent:bernd", "Bernd"), helped, both, capabilities=("view",))
    assert responsible_agent(view_only, "", DE) == "Bernd"
    assert helpers_line(view_only, DE) == "Carla Schulz (sieht zu), Dirk Weber (sieht zu)"
    paused = state(("agent:bernd", "Bernd"), helped, both, paused=True)
    assert responsible_agent(paused, "", DE) == "Bernd"
    refused = state(("agent:bernd", "Bernd"), controllers=[])  # the customer's "Ablehnen"
    assert responsible_agent(refused, "", DE) == "Bernd"


def test_before_a_state_names_an_owner_the_consented_name_stands() -> None:
    assert responsible_agent({}, "Anna Berger", DE) == "Anna Berger"
    assert responsible_agent({"agents": []}, "Anna Berger", DE) == "Anna Berger"
    assert helpers_line({}, DE) == ""


@pytest.mark.parametrize(
    "agents",
    [
        "Bernd",
        [{"owner": True}],
        [{"name": 7, "owner": True}],
        [{"name": "Bernd", "owner": "yes"}],
        [{"name": "Bernd", "control": 1}],
        ["Bernd"],
    ],
)
def test_a_malformed_team_is_refused(agents: object) -> None:
    with pytest.raises(LinkProtocolError):
        check_relay_message({"type": "state", "state": "active", "capabilities": [],
                             "agents": agents})  # fmt: skip
