"""The node's register of open agent sockets, and closing them when their login ends.

Every node keeps its open agent sockets here, by login. When a login ends (logout,
disabling, password reset, role change) the node that ended it closes its own sockets
of that login or account (4401) before it answers, and announces it on the bus
(``agent-logins``), so every other node closes its sockets as soon as the message
arrives. A closed socket's serving task is cancelled too, so a message it had already
received does not take effect. As a backstop each node looks all its sockets' logins
up in the store every ``security.socket_check_seconds`` (one query per node, not per
socket): that catches a change made where no bus reaches (the command line beside a
single node without Redis), a missed bus message, and logins past their absolute limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocket

from supportdesk.bus import MISSED, BusUnavailable, Events
from supportdesk.store.agents import AgentAccounts

log = logging.getLogger(__name__)

CHANNEL = "agent-logins"
CLOSE_CODE = 4401
CLOSE_REASON = "signed out or account disabled"
CLOSE_WAIT_SECONDS = 2.0
RETRY_SECONDS = 1.0


@dataclass
class _Served:
    agent_id: int
    task: asyncio.Task[Any] | None
    ended: bool = False


class AgentSockets:
    """This node's open agent sockets, by login, and closing them when it ends."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        events: Events,
        clock: Callable[[], datetime],
        absolute_limit: timedelta,
        check_seconds: float,
    ) -> None:
        self._sessions = sessions
        self._events = events
        self._clock = clock
        self._absolute_limit = absolute_limit
        self.check_seconds = check_seconds
        self._open: dict[str, dict[WebSocket, _Served]] = {}  # login -> sockets

    @contextlib.asynccontextmanager
    async def serving(self, socket: WebSocket, login: str, agent_id: int) -> AsyncIterator[None]:
        """Register the socket while the block runs. When its login ends the socket is
        closed and the block cancelled; that cancellation ends the block quietly."""
        served = _Served(agent_id, asyncio.current_task())
        self._open.setdefault(login, {})[socket] = served
        try:
            yield
        except asyncio.CancelledError:
            task = served.task
            if not (served.ended and task is not None and task.uncancel() == 0):
                raise
        finally:
            sockets = self._open.get(login, {})
            sockets.pop(socket, None)
            if not sockets:
                self._open.pop(login, None)

    def agent_ids(self) -> set[int]:
        """The accounts with an open socket on this node (``presence.py``)."""
        return {served.agent_id for sockets in self._open.values() for served in sockets.values()}

    def open_count(self) -> int:
        return sum(len(sockets) for sockets in self._open.values())

    async def ended(self, *, login: str | None = None, agent_id: int | None = None) -> None:
        """A login (or every login of an account) has ended in the store: close this
        node's sockets of it now, and tell the other nodes. Call after the commit."""
        await self._close_matching(login, agent_id)
        message: dict[str, Any] = {"type": "logins.ended", "login": login, "agent": agent_id}
        try:
            await self._events.publish(CHANNEL, message)
        except BusUnavailable:
            # The store has the change; the other nodes' backstop check finds it.
            log.warning("ended login not announced (bus unavailable)")

    async def _close_matching(self, login: str | None, agent_id: int | None) -> None:
        await self._end(
            [
                (socket, served)
                for digest, sockets in self._open.items()
                for socket, served in sockets.items()
                if digest == login or (agent_id is not None and served.agent_id == agent_id)
            ]
        )

    async def recheck(self) -> None:
        """Close every socket whose login no longer stands, as the store says now."""
        if not self._open:
            return
        logins = list(self._open)
        async with self._sessions() as db:
            alive = await AgentAccounts(db).logins_alive(
                logins, self._clock() - self._absolute_limit
            )
        await self._end(
            [
                (socket, served)
                for login in logins
                if login not in alive
                for socket, served in self._open.get(login, {}).items()
            ]
        )

    @staticmethod
    async def _end(doomed: list[tuple[WebSocket, _Served]]) -> None:
        doomed = [(socket, served) for socket, served in doomed if not served.ended]
        for _, served in doomed:
            served.ended = True
        # Start every close (the close frame goes out, the socket takes no more sends),
        # stop the serving tasks so nothing they already received takes effect, then
        # wait a little for the closing handshakes.
        closing = [asyncio.create_task(_close(socket)) for socket, _ in doomed]
        await asyncio.sleep(0)
        for _, served in doomed:
            if served.task is not None and served.task is not asyncio.current_task():
                served.task.cancel("the agent's login ended")
        if closing:
            await asyncio.wait(closing, timeout=CLOSE_WAIT_SECONDS)

    async def follow(self) -> None:
        """Close sockets as other nodes announce ended logins; runs until cancelled."""
        while True:
            try:
                async with await self._events.subscribe(CHANNEL) as messages:
                    await self.recheck()  # what ended while not listening
                    async for message in messages:
                        if message == MISSED:
                            await self.recheck()
                            continue
                        login, agent = message.get("login"), message.get("agent")
                        await self._close_matching(
                            login if isinstance(login, str) else None,
                            agent if isinstance(agent, int) else None,
                        )
            except asyncio.CancelledError:
                raise
            except Exception:  # the bus or the database is away: the backstop holds
                log.warning("following ended logins failed; retrying", exc_info=True)
            await asyncio.sleep(RETRY_SECONDS)

    async def watch(self) -> None:
        """The backstop: look every socket's login up every ``check_seconds``."""
        while True:
            await asyncio.sleep(self.check_seconds)
            try:
                await self.recheck()
            except Exception:  # keep watching; one failed look must not stop it
                log.warning("checking agents' sockets failed", exc_info=True)


async def _close(socket: WebSocket) -> None:
    with contextlib.suppress(Exception):
        await socket.close(code=CLOSE_CODE, reason=CLOSE_REASON)
