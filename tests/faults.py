"""A fault-injecting TCP proxy on loopback for tests: a dead Wi-Fi (black hole) or reset links.

`FaultProxy(target_host, target_port)` listens on 127.0.0.1 and forwards every accepted
connection to the target, byte for byte, so TLS and WebSocket traffic pass unchanged.
One thread runs it, so sync and async tests alike can use it:

    with FaultProxy("127.0.0.1", server_port) as proxy:
        port = proxy.port               # connect here instead of to the server
        proxy.black_hole(True)          # nothing crosses, every connection stays open
        proxy.black_hole(False)         # what was sent meanwhile crosses now, as TCP would
        proxy.cut()                     # every current connection is reset (RST)

A black hole stops reading and writing on both sides of every connection, so bytes wait
in the kernel's buffers and closes go unnoticed, as behind a dead Wi-Fi; a connection
accepted meanwhile is not connected to the target until the black hole lifts.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
from dataclasses import dataclass, field
from types import TracebackType

_CHUNK = 64 * 1024
_MAX_PENDING = 256 * 1024  # bytes held per direction before the proxy stops reading


@dataclass
class _Direction:
    """One way of a proxied connection: what has been read and not yet written."""

    pending: bytearray = field(default_factory=bytearray)
    eof: bool = False  # the reading side has ended its stream
    shut: bool = False  # the writing side has been told (shutdown SHUT_WR)


@dataclass
class _Connection:
    client: socket.socket
    upstream: socket.socket | None = None  # connected only when no black hole is on
    to_upstream: _Direction = field(default_factory=_Direction)
    to_client: _Direction = field(default_factory=_Direction)

    def sockets(self) -> list[socket.socket]:
        return [s for s in (self.client, self.upstream) if s is not None]


def _reset(sock: socket.socket) -> None:
    """Close with RST instead of FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class FaultProxy:
    """A loopback TCP proxy whose links can be black-holed or cut on demand."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._lock = threading.Lock()
        self._black_hole = False
        self._stopping = False
        self._cut_requests: list[threading.Event] = []
        self._state_seen: list[threading.Event] = []  # set once the thread runs on a new state
        self._connections: list[_Connection] = []
        self.accepted = 0  # connections accepted so far
        self.port = 0

    # -- control, from any thread ---------------------------------------------------

    def start(self) -> int:
        """Listen on 127.0.0.1 and start forwarding; returns the listening port (once started,
        further calls return the same port)."""
        if self._thread is not None:
            return self.port
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        listener.setblocking(False)
        self._listener = listener
        self.port = int(listener.getsockname()[1])
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self._thread.start()
        return self.port

    def black_hole(self, on: bool) -> None:
        """Stop (True) or resume (False) forwarding in both directions, keeping links open.

        Returns once the forwarding thread has finished the round it was in, so nothing the
        caller does afterwards (a close, a send) is forwarded under the old state."""
        seen = threading.Event()
        with self._lock:
            self._black_hole = on
            self._state_seen.append(seen)
        self._wake()
        seen.wait(5)

    def cut(self) -> None:
        """Reset every current connection (both sides get RST); returns once done."""
        done = threading.Event()
        with self._lock:
            self._cut_requests.append(done)
        self._wake()
        done.wait(5)

    def stop(self) -> None:
        """Reset every connection, stop listening and end the thread."""
        with self._lock:
            self._stopping = True
        self._wake()
        if self._thread is not None:
            self._thread.join(5)
        for sock in (self._wake_r, self._wake_w):
            sock.close()

    @property
    def open_connections(self) -> int:
        """How many proxied connections are currently open."""
        with self._lock:
            return len(self._connections)

    def __enter__(self) -> FaultProxy:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    # -- the forwarding thread ------------------------------------------------------

    def _run(self) -> None:
        assert self._listener is not None
        try:
            while True:
                with self._lock:
                    stopping, blocked = self._stopping, self._black_hole
                    cuts, self._cut_requests = self._cut_requests, []
                    seen, self._state_seen = self._state_seen, []
                for event in seen:
                    event.set()
                if stopping:
                    break
                if cuts:
                    self._reset_all()
                    for done in cuts:
                        done.set()
                if not blocked:
                    self._connect_waiting()
                self._step(blocked)
        finally:
            self._reset_all()
            self._listener.close()
            with self._lock:
                for done in self._cut_requests + self._state_seen:
                    done.set()

    def _step(self, blocked: bool) -> None:
        assert self._listener is not None
        readers: list[socket.socket] = [self._wake_r, self._listener]
        writers: list[socket.socket] = []
        if not blocked:
            for conn in self._connections:
                if conn.upstream is None:
                    continue
                for src, dst, way in self._ways(conn):
                    if not way.eof and len(way.pending) < _MAX_PENDING:
                        readers.append(src)
                    if way.pending:
                        writers.append(dst)
        readable, writable, _ = select.select(readers, writers, [], 0.5)
        if self._wake_r in readable:
            with contextlib.suppress(BlockingIOError):
                self._wake_r.recv(4096)
        if self._listener in readable:
            self._accept()
        if blocked:
            return
        for conn in list(self._connections):
            if conn.upstream is None:
                continue  # accepted just now: connected on the next round
            try:
                self._pump(conn, readable, writable)
            except OSError:
                self._drop(conn)

    def _ways(self, conn: _Connection) -> list[tuple[socket.socket, socket.socket, _Direction]]:
        assert conn.upstream is not None
        return [
            (conn.client, conn.upstream, conn.to_upstream),
            (conn.upstream, conn.client, conn.to_client),
        ]

    def _pump(
        self, conn: _Connection, readable: list[socket.socket], writable: list[socket.socket]
    ) -> None:
        for src, dst, way in self._ways(conn):
            if src in readable and not way.eof:
                data = src.recv(_CHUNK)
                if data:
                    way.pending += data
                else:
                    way.eof = True
            if way.pending and dst in writable:
                sent = dst.send(way.pending)
                del way.pending[:sent]
            if way.eof and not way.pending and not way.shut:
                way.shut = True
                dst.shutdown(socket.SHUT_WR)
        if conn.to_upstream.shut and conn.to_client.shut:
            self._close(conn)

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                client, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            client.setblocking(False)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._connections.append(_Connection(client))
                self.accepted += 1

    def _connect_waiting(self) -> None:
        for conn in list(self._connections):
            if conn.upstream is not None:
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                self._drop(conn)
                continue
            upstream.setblocking(False)
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.upstream = upstream

    def _close(self, conn: _Connection) -> None:
        for sock in conn.sockets():
            with contextlib.suppress(OSError):
                sock.close()
        with self._lock:
            if conn in self._connections:
                self._connections.remove(conn)

    def _drop(self, conn: _Connection) -> None:
        for sock in conn.sockets():
            _reset(sock)
        with self._lock:
            if conn in self._connections:
                self._connections.remove(conn)

    def _reset_all(self) -> None:
        for conn in list(self._connections):
            self._drop(conn)
