"""Conformance of one-time tickets, in-process and Redis."""

from __future__ import annotations

import asyncio

import pytest

from tests.bus.conftest import Harness


async def test_a_ticket_gives_its_value_once(harness: Harness) -> None:
    tickets = harness.bus.tickets
    ticket = await tickets.issue("agent 7 opens session 123", 30)
    assert await tickets.take(ticket) == "agent 7 opens session 123"
    assert await tickets.take(ticket) is None


async def test_every_ticket_is_new(harness: Harness) -> None:
    tickets = harness.bus.tickets
    issued = {await harness.bus.tickets.issue("same", 30) for _ in range(20)}
    assert len(issued) == 20
    assert all([await tickets.take(t) == "same" for t in issued])


async def test_an_expired_ticket_gives_nothing(harness: Harness) -> None:
    tickets = harness.bus.tickets
    ticket = await tickets.issue("v", 0.1)
    await harness.advance(0.2)
    assert await tickets.take(ticket) is None


async def test_twenty_parallel_takers_one_winner(harness: Harness) -> None:
    tickets = harness.bus.tickets
    ticket = await tickets.issue("prize", 30)
    got = await asyncio.gather(*(tickets.take(ticket) for _ in range(20)))
    assert got.count("prize") == 1
    assert got.count(None) == 19


@pytest.mark.parametrize("forged", ["", "short", "x" * 65, "../../etc/passwd", "a b" * 10, "*"])
async def test_unknown_or_malformed_tickets_give_nothing(harness: Harness, forged: str) -> None:
    await harness.bus.tickets.issue("v", 30)
    assert await harness.bus.tickets.take(forged) is None


async def test_a_ttl_must_be_positive(harness: Harness) -> None:
    with pytest.raises(ValueError):
        await harness.bus.tickets.issue("v", 0)
