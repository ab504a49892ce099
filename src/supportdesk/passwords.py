"""Password hashing with Argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile),
run off the event loop in a small bounded pool.

One Argon2id hash takes tens of milliseconds of CPU and 64 MiB: done in a request
handler it stalls every other socket of the node. :class:`PasswordHashing` runs hashes
in ``workers`` threads (argon2-cffi releases the GIL while it hashes) and admits at
most ``queue`` more waiting; a further request is refused at once with
:class:`HashingBusy` rather than queued without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verified against when the account does not exist, so the answer takes as long
# as for a real account and timing does not reveal which user names exist.
_DUMMY_HASH = _hasher.hash("supportdesk: no such account, but hash all the same")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class HashingBusy(Exception):
    """Every worker is busy and the queue is full: refuse the request (try again later)."""


class PasswordHashing:
    """The node's bounded pool for password hashes.

    Take a :meth:`slot` first (it refuses at once when the pool is full), then await
    :meth:`verify` or :meth:`hash` inside it; a caller that holds a slot never waits
    for admission, only for its turn.
    """

    def __init__(
        self,
        workers: int = 2,
        queue: int = 8,
        verify: Callable[[str | None, str], bool] = verify_password,
        hash: Callable[[str], str] = hash_password,
    ) -> None:
        if workers < 1 or queue < 0:
            raise ValueError("a hashing pool needs workers >= 1 and queue >= 0")
        self.workers = workers
        self.limit = workers + queue
        self._verify = verify
        self._hash = hash
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="argon2")
        self.admitted = 0
        """Hashes running or waiting now (at most ``workers + queue``)."""

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Room for one hash; HashingBusy when every place is taken."""
        if self.admitted >= self.limit:
            raise HashingBusy()
        self.admitted += 1
        try:
            yield
        finally:
            self.admitted -= 1

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches (against a dummy hash when there is none, so
        an unknown account costs the same as a known one)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._verify, password_hash, password)

    async def hash(self, password: str) -> str:
        """A new hash, for an administrator's change. Needs no slot: admins are few,
        and their request must not fail because of a login storm."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._hash, password)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
