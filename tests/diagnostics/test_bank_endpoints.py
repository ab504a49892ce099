"""The endpoint probe against loopback TLS servers only: trusted, untrusted, closed,
soon expiring."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import pytest

from supportdesk.diagnostics.probe import Endpoint, ProbeContext, ProbeResult, ProbeStatus
from supportdesk.diagnostics.probes.bank_endpoints import BankEndpointsProbe

from .tls_server import closed_port, make_ca, make_leaf, tls_server

PROBE = BankEndpointsProbe()


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pki")
    ca_path, ca_cert, ca_key = make_ca(folder)
    good, good_key = make_leaf(folder, "good", (ca_cert, ca_key))
    soon, soon_key = make_leaf(folder, "soon", (ca_cert, ca_key), valid_days=5)
    self_signed, self_key = make_leaf(folder, "self", None)
    other, other_key = make_leaf(folder, "other", (ca_cert, ca_key), host="banking.example")
    return {
        "ca": ca_path,
        "good": good,
        "good_key": good_key,
        "soon": soon,
        "soon_key": soon_key,
        "self": self_signed,
        "self_key": self_key,
        "other": other,
        "other_key": other_key,
    }


@pytest.fixture
def trust(certificates: dict[str, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificates["ca"]))


@pytest.fixture
def good_server(certificates: dict[str, Path]) -> Iterator[int]:
    with tls_server(certificates["good"], certificates["good_key"]) as port:
        yield port


def endpoints(result: ProbeResult) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], result.data["endpoints"])


def context(trust: ssl.SSLContext, *endpoints: Endpoint) -> ProbeContext:
    return ProbeContext(endpoints=endpoints, tls=trust, network_timeout=3)


def test_trusted_certificate_is_ok(trust: ssl.SSLContext, good_server: int) -> None:
    result = PROBE.run(context(trust, Endpoint("online_banking", "localhost", good_server)))
    assert result.status is ProbeStatus.OK, result.reason
    (endpoint,) = endpoints(result)
    assert endpoint["addresses"]
    assert endpoint["tls_version"] in ("TLSv1.2", "TLSv1.3")
    assert datetime.fromisoformat(endpoint["certificate_expires"]).year >= 2000
    assert endpoint["error"] is None
    assert result.findings == ()


def test_ip_address_endpoints_are_verified_too(trust: ssl.SSLContext, good_server: int) -> None:
    result = PROBE.run(context(trust, Endpoint("fints", "127.0.0.1", good_server)))
    assert result.status is ProbeStatus.OK, result.reason


def test_self_signed_untrusted_certificate_fails(
    trust: ssl.SSLContext, certificates: dict[str, Path]
) -> None:
    with tls_server(certificates["self"], certificates["self_key"]) as port:
        result = PROBE.run(context(trust, Endpoint("ebics", "localhost", port)))
    assert result.status is ProbeStatus.FAILED
    (endpoint,) = endpoints(result)
    assert endpoint["failed_step"] == "tls"
    assert "certificate not trusted" in endpoint["error"]
    assert result.reason is not None and "certificate not trusted" in result.reason.en


def test_closed_port_fails(trust: ssl.SSLContext) -> None:
    result = PROBE.run(context(trust, Endpoint("fints", "127.0.0.1", closed_port())))
    assert result.status is ProbeStatus.FAILED
    (endpoint,) = endpoints(result)
    assert (endpoint["failed_step"], endpoint["error"]) == ("tcp", "connection refused")


def test_one_bad_endpoint_fails_the_probe_but_the_others_report(
    trust: ssl.SSLContext, good_server: int
) -> None:
    result = PROBE.run(
        context(
            trust,
            Endpoint("online_banking", "localhost", good_server),
            Endpoint("fints", "127.0.0.1", closed_port()),
        )
    )
    assert result.status is ProbeStatus.FAILED
    first, second = endpoints(result)
    assert first["error"] is None and second["error"] == "connection refused"


def test_a_certificate_about_to_expire_is_a_finding(
    trust: ssl.SSLContext, certificates: dict[str, Path]
) -> None:
    with tls_server(certificates["soon"], certificates["soon_key"]) as port:
        result = PROBE.run(context(trust, Endpoint("online_banking", "localhost", port)))
    assert result.status is ProbeStatus.OK
    assert [f.code for f in result.findings] == ["certificate_expiring"]


def test_a_certificate_for_another_host_fails(
    trust: ssl.SSLContext, certificates: dict[str, Path]
) -> None:
    with tls_server(certificates["other"], certificates["other_key"]) as port:
        result = PROBE.run(context(trust, Endpoint("online_banking", "localhost", port)))
    assert result.status is ProbeStatus.FAILED
    (endpoint,) = endpoints(result)
    assert endpoint["failed_step"] == "tls"
    assert "certificate not trusted" in endpoint["error"]


def test_without_endpoints_the_probe_is_unavailable() -> None:
    result = PROBE.run(ProbeContext())
    assert result.status is ProbeStatus.UNAVAILABLE
    assert result.reason is not None
