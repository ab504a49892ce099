"""Socket tickets on the bus: one use, bound to the session and the purpose, expired
after their lifetime; unreadable values are refused, not trusted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from supportdesk.bus import InProcessTickets
from supportdesk.server.relay.socket_tickets import SocketTickets

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
NUMBER = "BN-2026-4821-7730-8"


async def test_a_ticket_opens_one_socket_of_its_session_and_purpose() -> None:
    tickets = SocketTickets(InProcessTickets())
    token = await tickets.issue(7, NUMBER, "viewer", NOW, "login-digest")
    ticket = await tickets.take_ticket(token, NUMBER, "viewer", NOW)
    assert ticket is not None and (ticket.agent_id, ticket.login) == (7, "login-digest")
    assert await tickets.take_ticket(token, NUMBER, "viewer", NOW) is None


async def test_another_session_purpose_or_a_late_take_spends_it_for_nothing() -> None:
    tickets = SocketTickets(InProcessTickets())
    for number, purpose, at in (
        ("BN-2026-0000-0000-0", "viewer", NOW),
        (NUMBER, "control", NOW),
        (NUMBER, "viewer", NOW + timedelta(seconds=61)),
    ):
        token = await tickets.issue(7, NUMBER, "viewer", NOW)
        assert await tickets.take_ticket(token, number, purpose, at) is None
        assert await tickets.take_ticket(token, NUMBER, "viewer", NOW) is None


async def test_parallel_takes_let_one_socket_in() -> None:
    tickets = SocketTickets(InProcessTickets())
    token = await tickets.issue(7, NUMBER, "viewer", NOW)
    taken = await asyncio.gather(
        *(tickets.take_ticket(token, NUMBER, "viewer", NOW) for _ in range(20))
    )
    assert len([t for t in taken if t is not None]) == 1


async def test_an_unreadable_value_is_refused() -> None:
    store = InProcessTickets()
    tickets = SocketTickets(store)
    token = await store.issue('{"agent_id": "seven"}', 60)
    assert await tickets.take_ticket(token, NUMBER, "viewer", NOW) is None
    assert await tickets.take_ticket("", NUMBER, "viewer", NOW) is None
