"""The applet link's inbox: work runs in arrival order, and the queued bytes are bounded."""

from __future__ import annotations

import asyncio

import pytest

from supportdesk.server.relay.link_inbox import LinkInbox


def inbox(limit: int = 100) -> tuple[LinkInbox, list[str]]:
    reading: list[str] = []
    box = LinkInbox(
        limit, pause=lambda: reading.append("pause"), resume=lambda: reading.append("resume")
    )
    return box, reading


async def test_work_runs_in_order_and_the_inbox_is_busy_until_it_is_done() -> None:
    box, _ = inbox()
    done: list[int] = []
    release = asyncio.Event()

    async def slow() -> None:
        await release.wait()
        done.append(1)

    async def quick(n: int) -> None:
        done.append(n)

    assert not box.busy
    box.put(slow)
    box.put(lambda: quick(2))
    runner = asyncio.create_task(box.run())
    await asyncio.sleep(0.01)
    assert box.busy and done == []  # the first is under way, the second waits behind it
    box.put(lambda: quick(3))
    release.set()
    await asyncio.sleep(0.01)
    assert done == [1, 2, 3]
    assert not box.busy
    box.close()
    await asyncio.wait_for(runner, 1)


async def test_closing_lets_the_queued_work_finish_first() -> None:
    box, _ = inbox()
    done: list[str] = []

    async def note(text: str) -> None:
        await asyncio.sleep(0)
        done.append(text)

    box.put(lambda: note("end"))
    box.close()
    await asyncio.wait_for(box.run(), 1)
    assert done == ["end"]


async def test_reading_pauses_above_the_limit_and_resumes_below_half() -> None:
    box, reading = inbox(limit=100)

    async def nothing() -> None:
        await asyncio.sleep(0)

    for _ in range(3):
        box.put(nothing, 40)
    assert reading == ["pause"] and box.queued_bytes == 120
    runner = asyncio.create_task(box.run())
    await asyncio.sleep(0.05)
    assert reading == ["pause", "resume"]  # once, when 40 <= 50 bytes were left
    assert box.queued_bytes == 0
    box.close()
    await asyncio.wait_for(runner, 1)


async def test_stop_ends_the_run_after_the_piece_that_made_it_true() -> None:
    box, _ = inbox()
    ended = False
    done: list[int] = []

    async def end() -> None:
        nonlocal ended
        ended = True

    async def later() -> None:
        done.append(1)

    box.put(end)
    box.put(later)
    await asyncio.wait_for(box.run(stop=lambda: ended), 1)
    assert done == []


async def test_a_failing_piece_of_work_ends_the_run_with_its_error() -> None:
    box, _ = inbox()

    async def broken() -> None:
        raise ValueError("bad frame")

    box.put(broken, 10)
    with pytest.raises(ValueError, match="bad frame"):
        await asyncio.wait_for(box.run(), 1)
    assert not box.busy and box.queued_bytes == 0
