"""Logins hash in the node's bounded pool: the event loop answers /healthz while the
workers are busy and hashes wait, a full pool answers 503 with a German page at once,
a throttled attempt is refused before any hash, and an unknown account costs a hash
like a known one."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI

from supportdesk.passwords import PasswordHashing, verify_password
from supportdesk.server.state import desk_of_app
from tests.server.console_client import add_agent, token_in
from tests.server.test_support_sessions import customer


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(30):
        while not condition():  # noqa: ASYNC110 - the condition is a plain counter
            await asyncio.sleep(0.01)


class BlockedVerify:
    """Argon2 verification that waits until released, and notes what it was given."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.hashes: list[str | None] = []
        self.threads: set[int] = set()

    def __call__(self, password_hash: str | None, password: str) -> bool:
        self.hashes.append(password_hash)
        self.threads.add(threading.get_ident())
        self.release.wait(30)
        return verify_password(password_hash, password)


@pytest.fixture
def blocked(app: FastAPI) -> Iterator[BlockedVerify]:
    desk = desk_of_app(app)
    verify = BlockedVerify()
    desk.hashing.close()
    desk.hashing = PasswordHashing(workers=1, queue=3, verify=verify)
    yield verify
    verify.release.set()


async def attempt(app: FastAPI, address: str, username: str) -> httpx.Response:
    async with await customer(app, address) as browser:
        form = await browser.get("/console/login")
        return await browser.post(
            "/console/login",
            data={"username": username, "password": "x" * 14, "csrf_token": token_in(form)},
        )


async def test_a_full_pool_answers_busy_and_the_loop_keeps_serving(
    app: FastAPI, client: httpx.AsyncClient, blocked: BlockedVerify
) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna")
    # Four logins from four addresses fill the pool: one hashing, three waiting.
    pending = [
        asyncio.create_task(attempt(app, f"192.0.2.{n}", "anna" if n % 2 else "niemand"))
        for n in range(4)
    ]
    await until(lambda: desk.hashing.admitted == 4)
    # While they wait the event loop answers other requests...
    assert (await client.get("/healthz")).status_code == 200
    # ...and one more login is told to come back, at once and in German.
    busy = await attempt(app, "192.0.2.99", "anna")
    assert busy.status_code == 503
    assert busy.headers["retry-after"]
    assert "ausgelastet" in busy.text
    blocked.release.set()
    answers = await asyncio.gather(*pending)
    assert {answer.status_code for answer in answers} == {401}
    # Hashed off the event loop's thread, and an unknown account was hashed as well
    # (against the dummy hash: no telling by time which accounts exist).
    assert threading.get_ident() not in blocked.threads
    assert None in blocked.hashes and any(h is not None for h in blocked.hashes)
    # The busy attempt used no try: the address may try again straight away.
    assert (await attempt(app, "192.0.2.99", "anna")).status_code == 401


async def test_a_throttled_attempt_is_refused_before_hashing(
    app: FastAPI, blocked: BlockedVerify
) -> None:
    blocked.release.set()
    for _ in range(6):
        assert (await attempt(app, "192.0.2.7", "anna")).status_code == 401
    hashed = len(blocked.hashes)
    assert (await attempt(app, "192.0.2.7", "anna")).status_code == 401
    assert len(blocked.hashes) == hashed
