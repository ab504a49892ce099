"""The byte-stream pair an RFB session runs over, and its adapter to asyncio streams.

The session only needs "read some bytes" and "write these bytes, returning once the
transport has taken them"; a TCP stream in tests and a WebSocket channel of the
applet link both fit behind these two small protocols.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

READ_SIZE = 64 * 1024


class ByteReader(Protocol):
    """The client-to-applet direction of one RFB stream."""

    async def read(self) -> bytes:
        """Return the next bytes that arrived; ``b""`` means the peer closed its side."""
        ...


class ByteWriter(Protocol):
    """The applet-to-client direction of one RFB stream."""

    async def write(self, data: bytes) -> None:
        """Send ``data``; return only once the transport has drained (this is the backpressure)."""
        ...

    async def close(self) -> None:
        """Close the stream; further writes fail."""
        ...


class AsyncioByteReader:
    """:class:`ByteReader` over an :class:`asyncio.StreamReader` (a TCP connection)."""

    def __init__(self, reader: asyncio.StreamReader, read_size: int = READ_SIZE) -> None:
        self._reader = reader
        self._read_size = read_size

    async def read(self) -> bytes:
        """Up to ``read_size`` bytes, ``b""`` at end of stream."""
        return await self._reader.read(self._read_size)


class AsyncioByteWriter:
    """:class:`ByteWriter` over an :class:`asyncio.StreamWriter`; ``write`` awaits ``drain``."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def write(self, data: bytes) -> None:
        """Write and wait until the kernel buffer has room again."""
        self._writer.write(data)
        await self._writer.drain()

    async def close(self) -> None:
        """Close the socket; a peer that already went away is not an error here."""
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()
