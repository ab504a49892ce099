"""start_eagerly: a coroutine runs on the caller's task until it must wait."""

from __future__ import annotations

import asyncio

import pytest

from supportdesk.server.eager import start_eagerly


async def test_a_coroutine_that_never_waits_finishes_before_the_call_returns() -> None:
    done: list[str] = []

    async def send() -> None:
        done.append("sent")

    assert start_eagerly(send()) is None
    assert done == ["sent"]


async def test_a_coroutine_that_must_wait_is_finished_by_a_task() -> None:
    gate = asyncio.Event()
    steps: list[str] = []

    async def send() -> None:
        steps.append("started")
        await gate.wait()
        steps.append("after the wait")
        await asyncio.sleep(0)
        steps.append("done")

    task = start_eagerly(send())
    assert task is not None
    assert steps == ["started"]  # ran on our task up to the wait
    gate.set()
    await task
    assert steps == ["started", "after the wait", "done"]


async def test_the_awaited_result_reaches_the_coroutine() -> None:
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    got: list[int] = []

    async def receive() -> None:
        got.append(await future)

    task = start_eagerly(receive())
    assert task is not None
    future.set_result(42)
    await task
    assert got == [42]


async def test_errors_before_and_after_the_first_wait_reach_the_right_place() -> None:
    async def fails_at_once() -> None:
        raise ConnectionError("gone")

    with pytest.raises(ConnectionError):
        start_eagerly(fails_at_once())

    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    seen: list[str] = []

    async def fails_later() -> None:
        try:
            await future
        except ConnectionError:
            seen.append("handled in the coroutine")
            raise

    task = start_eagerly(fails_later())
    assert task is not None
    future.set_exception(ConnectionError("gone later"))
    with pytest.raises(ConnectionError):
        await task
    assert seen == ["handled in the coroutine"]


async def test_cancelling_the_task_cancels_the_coroutine() -> None:
    cleaned: list[str] = []

    async def waits_forever() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.append("finally ran")

    task = start_eagerly(waits_forever())
    assert task is not None
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == ["finally ran"]


async def test_a_wait_still_pending_when_the_task_takes_over_completes() -> None:
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    got: list[int] = []

    async def receive() -> None:
        got.append(await future)

    task = start_eagerly(receive())
    assert task is not None
    await asyncio.sleep(0)  # the task now waits on the future itself
    future.set_result(7)
    await task
    assert got == [7]
