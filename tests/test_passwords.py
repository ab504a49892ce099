"""The password hashing pool: hashes run in worker threads, never on the event loop,
and a full pool refuses at once instead of queueing without bound."""

from __future__ import annotations

import asyncio
import threading

import pytest

from supportdesk.passwords import HashingBusy, PasswordHashing, hash_password, verify_password


async def test_a_real_hash_verifies_in_a_worker_thread() -> None:
    pool = PasswordHashing(workers=1, queue=0)
    try:
        stored = await pool.hash("korrekt pferd batterie")
        with pool.slot():
            assert await pool.verify(stored, "korrekt pferd batterie")
        with pool.slot():
            assert not await pool.verify(stored, "falsch")
        with pool.slot():
            assert not await pool.verify(None, "korrekt pferd batterie")  # the dummy hash
    finally:
        pool.close()


async def test_the_pool_is_bounded_and_the_loop_stays_free_while_it_is_full() -> None:
    release = threading.Event()
    threads: list[int] = []

    def slow_verify(password_hash: str | None, password: str) -> bool:
        threads.append(threading.get_ident())
        release.wait(30)
        return verify_password(password_hash, password)

    pool = PasswordHashing(workers=2, queue=3, verify=slow_verify)
    stored = hash_password("korrekt pferd batterie")

    async def one() -> bool:
        with pool.slot():
            return await pool.verify(stored, "korrekt pferd batterie")

    waiting = [asyncio.create_task(one()) for _ in range(5)]
    try:
        # The loop runs while two hashes block their threads (plain counters to poll).
        while pool.admitted < 5 or len(threads) < 2:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        with pytest.raises(HashingBusy), pool.slot():
            pass
        assert len(threads) == 2  # two workers busy, three waiting: no more admitted
    finally:
        release.set()
    assert await asyncio.gather(*waiting) == [True] * 5
    assert threading.get_ident() not in threads
    assert pool.admitted == 0
    pool.close()
