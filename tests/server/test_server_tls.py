"""`supportdesk serve` with its own certificate speaks TLS 1.3 and nothing older: the
program refuses less, and a browser that offers only TLS 1.2 must not get a weaker
channel for the portal or the console than the program gets."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.live_server import LiveServer, live_server, self_signed_certificate


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("tls13")
    with live_server(workdir, tls=self_signed_certificate(workdir)) as running:
        yield running


def handshake(server: LiveServer, version: ssl.TLSVersion) -> str:
    """The version a client limited to ``version`` agrees on with the server."""
    context = ssl.create_default_context(cafile=str(Path(server.workdir) / "cert.pem"))
    context.minimum_version = context.maximum_version = version
    address = urlsplit(server.url)
    with (
        socket.create_connection((address.hostname, address.port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=address.hostname) as tls,
    ):
        return str(tls.version())


def test_the_server_speaks_tls_1_3(server: LiveServer) -> None:
    assert handshake(server, ssl.TLSVersion.TLSv1_3) == "TLSv1.3"


def test_the_server_refuses_tls_1_2(server: LiveServer) -> None:
    with pytest.raises(ssl.SSLError):
        handshake(server, ssl.TLSVersion.TLSv1_2)
