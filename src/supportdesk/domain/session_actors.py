"""Who a session's audit entries name as the actor: the customer, the system, or an agent
as "agent:<username>"."""

from __future__ import annotations

from supportdesk.domain.session_events import EndReason, Party

AGENT_ACTOR_PREFIX = "agent:"
CUSTOMER_ACTOR = "customer"
SYSTEM_ACTOR = "system"


def agent_actor(agent_id: str) -> str:
    """The agent ``agent_id`` as the trail names it, prefixed once."""
    # The server passes the agent's actor name itself ("agent:bernd", as the relay
    # compares it); prefixing that again wrote "agent:agent:bernd" into the trail.
    # Entries written so are kept as they are (the chain hashes what was stored);
    # the audit page reads both forms as the same agent.
    if agent_id.startswith(AGENT_ACTOR_PREFIX):
        return agent_id
    return f"{AGENT_ACTOR_PREFIX}{agent_id}"


def party_actor(party: Party, agent: str) -> str:
    """The actor of a party's own move (pause, resume, revoke); ``agent`` is the owning
    agent's actor name."""
    return CUSTOMER_ACTOR if party is Party.CUSTOMER else agent


def end_actor(reason: EndReason, agent: str) -> str:
    """Who ended the session for ``reason``: the customer, the owning agent, or the
    system (every other reason)."""
    if reason is EndReason.CUSTOMER:
        return CUSTOMER_ACTOR
    if reason is EndReason.AGENT:
        return agent
    return SYSTEM_ACTOR
