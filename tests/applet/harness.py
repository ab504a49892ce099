"""Test harness: serve an RFBSession on loopback TCP (only tests listen; the applet never does)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from concurrent.futures import Future
from dataclasses import dataclass

from supportdesk.applet.screen.rfb_session import RFBSession
from supportdesk.applet.screen.streams import AsyncioByteReader, AsyncioByteWriter


@dataclass
class Served:
    """Where the harness listens, and whether the served connection has ended."""

    port: int
    done: asyncio.Event


@contextlib.asynccontextmanager
async def serve_session(session: RFBSession) -> AsyncIterator[Served]:
    """Serve ``session`` to connections on 127.0.0.1 (an ephemeral port); stop it afterwards."""
    done = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await session.serve(AsyncioByteReader(reader), AsyncioByteWriter(writer))
        finally:
            done.set()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield Served(server.sockets[0].getsockname()[1], done)
    finally:
        session.stop()
        server.close()
        await server.wait_closed()


class ThreadedServer:
    """The same, with its own event loop in a thread, for synchronous clients (vncdotool)."""

    def __init__(self, session: RFBSession) -> None:
        self.session = session
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.done: Future[None] = Future()
        self.port: int = asyncio.run_coroutine_threadsafe(self._listen(), self.loop).result(5)

    async def _listen(self) -> int:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await self.session.serve(AsyncioByteReader(reader), AsyncioByteWriter(writer))
            finally:
                if not self.done.done():
                    self.done.set_result(None)

        self._server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def close(self) -> None:
        self.session.stop()

        async def shutdown() -> None:
            self._server.close()
            await self._server.wait_closed()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()
