"""Schemathesis against the real server: no input the API document admits breaks it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.live_server import LiveServer, live_server


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # The API document is for staff by default: published here for the fuzzer.
    with live_server(
        tmp_path_factory.mktemp("schema"), SUPPORTDESK_SERVER_API_DOCS="public"
    ) as server:
        yield server


def test_no_input_causes_a_server_error(running: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(f"{running.url}/api/v1/openapi.json")
    schema.config.update(base_url=running.url)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 3
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
        def no_server_error(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call(timeout=10)
            case.validate_response(response, checks=[not_a_server_error])

        no_server_error()
    log = (running.workdir / "server.log").read_text()
    assert "Traceback" not in log
