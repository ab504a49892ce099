"""Certificates and a tiny TLS server for the bank-domain tests (made with openssl)."""

from __future__ import annotations

import contextlib
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.diagnostics.tls_server import tls_server as serving


def certificate(folder: Path, stem: str, names: str, days: int = 2) -> tuple[Path, Path]:
    """A self-signed certificate (its own CA) for ``names`` (subjectAltName syntax,
    e.g. ``DNS:localhost,IP:127.0.0.1``); returns (cert.pem, key.pem)."""
    cert, key = folder / f"{stem}.pem", folder / f"{stem}-key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", str(days),
            "-subj", f"/CN={stem}", "-addext", f"subjectAltName={names}",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 17\r\n"
    b'Connection: close\r\n\r\n{"token": "t-1"}\n'
)


def read_request(tls: ssl.SSLSocket) -> bytes:
    """One HTTP request, headers and body (by its Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = tls.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length and (chunk := tls.recv(65536)):
        body += chunk
    return data


@contextlib.contextmanager
def tls_server(cert: Path, key: Path) -> Iterator[int]:
    """A TLS server on 127.0.0.1 that answers every request with a join token; yields
    its port. A client that refuses the certificate simply hangs up."""

    def answer(tls: ssl.SSLSocket) -> None:
        read_request(tls)  # all of it: closing on unread bytes would reset the link
        tls.sendall(ANSWER)

    with serving(cert, key, answer) as port:
        yield port
