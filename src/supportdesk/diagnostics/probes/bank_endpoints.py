"""Probe: can this machine reach the bank's services? DNS, TCP, TLS, certificate.

For each configured endpoint (online banking, FinTS/HBCI, EBICS): resolve the name,
connect, complete a TLS handshake with certificate and host-name verification, and
read the certificate's expiry. Any step failing fails the endpoint and the probe,
with the step and the reason, which is what the agent needs to tell a proxy, a
firewall and a TLS-intercepting virus scanner apart.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from supportdesk.diagnostics.probe import (
    Endpoint,
    Finding,
    JSONValue,
    Label,
    ProbeContext,
    ProbeResult,
)

EXPIRY_WARNING_DAYS = 14
MAX_ADDRESSES = 4


class BankEndpointsProbe:
    name = "bank_endpoints"
    label = Label("Erreichbarkeit der Bank (DNS, TLS)", "Reaching the bank (DNS, TLS)")
    timeout = 15.0

    def run(self, context: ProbeContext) -> ProbeResult:
        if not context.endpoints:
            return ProbeResult.unavailable(
                Label("keine Endpunkte der Bank konfiguriert", "no bank endpoints configured")
            )
        with ThreadPoolExecutor(max_workers=len(context.endpoints)) as pool:
            checks = list(pool.map(lambda e: check_endpoint(e, context), context.endpoints))
        data: dict[str, JSONValue] = {"endpoints": [check for check, _ in checks]}
        findings = [finding for _, found in checks for finding in found]
        broken = [check for check, _ in checks if check["error"] is not None]
        if broken:
            summary = "; ".join(f"{c['host']}: {c['failed_step']}: {c['error']}" for c in broken)
            return ProbeResult.failed(Label.same(summary[:500]), data, *findings)
        return ProbeResult.ok(data, *findings)


def check_endpoint(
    endpoint: Endpoint, context: ProbeContext
) -> tuple[dict[str, JSONValue], list[Finding]]:
    """One endpoint's steps; the first failing step ends it."""
    result: dict[str, JSONValue] = {
        "kind": endpoint.kind,
        "host": endpoint.host,
        "port": endpoint.port,
        "addresses": [],
        "connect_ms": None,
        "tls_version": None,
        "certificate_expires": None,
        "failed_step": None,
        "error": None,
    }
    findings: list[Finding] = []
    step = "dns"
    try:
        infos = socket.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        result["addresses"] = list(addresses[:MAX_ADDRESSES])
        step = "tcp"
        started = time.monotonic()
        with socket.create_connection(
            (endpoint.host, endpoint.port), timeout=context.network_timeout
        ) as raw:
            result["connect_ms"] = round((time.monotonic() - started) * 1000, 1)
            step = "tls"
            tls = context.tls or ssl.create_default_context()
            with tls.wrap_socket(raw, server_hostname=endpoint.host) as secure:
                result["tls_version"] = secure.version()
                certificate = secure.getpeercert()
        expires = _expiry(certificate)
        if expires is not None:
            result["certificate_expires"] = expires.isoformat()
            days = (expires - context.now()).days
            if days < EXPIRY_WARNING_DAYS:
                findings.append(
                    Finding(
                        "certificate_expiring",
                        Label(
                            f"Zertifikat von {endpoint.host} läuft in {days} Tagen ab",
                            f"certificate of {endpoint.host} expires in {days} days",
                        ),
                    )
                )
    except ssl.SSLCertVerificationError as exc:
        result["failed_step"] = step
        result["error"] = f"certificate not trusted: {exc.verify_message}"
    except (OSError, ssl.SSLError, UnicodeError) as exc:
        result["failed_step"] = step
        result["error"] = _describe(exc)
    return result, findings


def _expiry(certificate: Mapping[str, object] | None) -> datetime | None:
    not_after = (certificate or {}).get("notAfter")
    if not isinstance(not_after, str):
        return None
    return datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), UTC)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror):
        return f"name not resolved ({exc.strerror})"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return f"{type(exc).__name__}: {exc}"[:200]
