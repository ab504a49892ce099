"""The fault-injecting proxy (tests/faults.py) against a plain echo server, in clear and TLS."""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults import FaultProxy
from tests.live_server import self_signed_certificate


class EchoServer:
    """A threaded TCP echo server on loopback; counts the connections it accepted."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self._tls = tls
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self.accepted = 0
        self.ended = threading.Event()  # some connection saw EOF or a reset
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._echo, args=(sock,), daemon=True).start()

    def _echo(self, sock: socket.socket) -> None:
        try:
            conn = self._tls.wrap_socket(sock, server_side=True) if self._tls else sock
            with conn:
                while data := conn.recv(65536):
                    conn.sendall(data)
        except OSError:
            pass
        self.ended.set()

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    yield server
    server.close()


def _receive(sock: socket.socket, size: int, timeout: float = 5) -> bytes:
    sock.settimeout(timeout)
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def _nothing_arrives(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        sock.recv(1)
    except TimeoutError:
        return True
    return False


def test_bytes_cross_both_ways_unchanged(echo: EchoServer) -> None:
    payload = os.urandom(3 * 1024 * 1024)
    with FaultProxy("127.0.0.1", echo.port) as proxy:
        with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
            sender = threading.Thread(target=sock.sendall, args=(payload,))
            sender.start()
            assert _receive(sock, len(payload), timeout=20) == payload
            sender.join()
        assert proxy.accepted == 1


def test_a_black_hole_holds_bytes_and_keeps_the_link_open(echo: EchoServer) -> None:
    proxy = FaultProxy("127.0.0.1", echo.port)
    with proxy, socket.create_connection(("127.0.0.1", proxy.start())) as sock:
        sock.sendall(b"before")
        assert _receive(sock, 6) == b"before"
        proxy.black_hole(True)
        sock.sendall(b"during")
        assert _nothing_arrives(sock, 1.0)  # no echo, and no EOF either
        assert proxy.open_connections == 1
        proxy.black_hole(False)
        assert _receive(sock, 6) == b"during"  # as TCP would deliver after the gap


def test_a_connection_made_in_a_black_hole_waits_for_it_to_lift(echo: EchoServer) -> None:
    with FaultProxy("127.0.0.1", echo.port) as proxy:
        proxy.black_hole(True)
        with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
            sock.sendall(b"hello")
            assert _nothing_arrives(sock, 1.0)
            assert echo.accepted == 0  # nothing reached the server
            proxy.black_hole(False)
            assert _receive(sock, 5) == b"hello"
            assert echo.accepted == 1


def test_a_close_in_a_black_hole_crosses_when_it_lifts(echo: EchoServer) -> None:
    with FaultProxy("127.0.0.1", echo.port) as proxy:
        sock = socket.create_connection(("127.0.0.1", proxy.port))
        sock.sendall(b"x")
        assert _receive(sock, 1) == b"x"
        proxy.black_hole(True)
        sock.close()
        assert not echo.ended.wait(1.0)
        proxy.black_hole(False)
        assert echo.ended.wait(5)


def test_cut_resets_every_connection(echo: EchoServer) -> None:
    with FaultProxy("127.0.0.1", echo.port) as proxy:
        socks = [socket.create_connection(("127.0.0.1", proxy.port)) for _ in range(2)]
        for sock in socks:
            sock.sendall(b"ping")
            assert _receive(sock, 4) == b"ping"
        proxy.cut()
        for sock in socks:
            sock.settimeout(5)
            with pytest.raises(ConnectionResetError):
                sock.recv(1)
                sock.sendall(b"more")  # a reset may show only on the next write
            sock.close()
        assert echo.ended.wait(5)
        assert proxy.open_connections == 0
        with socket.create_connection(("127.0.0.1", proxy.port)) as sock:  # still listening
            sock.sendall(b"again")
            assert _receive(sock, 5) == b"again"


def test_an_end_of_stream_crosses(echo: EchoServer) -> None:
    with FaultProxy("127.0.0.1", echo.port) as proxy:
        with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
            sock.sendall(b"last words")
            sock.shutdown(socket.SHUT_WR)
            assert _receive(sock, 100) == b"last words"  # then EOF: the echo server closed
        assert echo.ended.wait(5)


def test_stop_closes_the_port(echo: EchoServer) -> None:
    proxy = FaultProxy("127.0.0.1", echo.port)
    port = proxy.start()
    proxy.stop()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_tls_crosses_and_survives_a_black_hole(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    server = EchoServer(tls=server_context)
    client_context = ssl.create_default_context(cafile=str(cert))
    try:
        with FaultProxy("127.0.0.1", server.port) as proxy:
            raw = socket.create_connection(("127.0.0.1", proxy.port))
            with client_context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(b"secret")
                assert _receive(tls, 6) == b"secret"
                proxy.black_hole(True)
                tls.sendall(b"later")
                with contextlib.suppress(ssl.SSLWantReadError):
                    assert _nothing_arrives(tls, 1.0)
                proxy.black_hole(False)
                assert _receive(tls, 5) == b"later"
    finally:
        server.close()
