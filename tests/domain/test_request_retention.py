"""The retention rule of service requests (domain/service_requests.py), without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from supportdesk.domain.service_requests import (
    IllegalStatusChange,
    RequestStatus,
    check_status_change,
    closed_at_after,
    due_for_purge,
)

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def test_closing_starts_the_period_and_reopening_stops_it() -> None:
    assert closed_at_after(RequestStatus.DONE, NOW) == NOW
    for status in (RequestStatus.IN_PROGRESS, RequestStatus.WAITING_FOR_CUSTOMER):
        assert closed_at_after(status, NOW) is None


@pytest.mark.parametrize(
    ("closed_days_ago", "purged", "due"),
    [
        (None, False, False),
        (89, False, False),
        (90, False, True),
        (400, False, True),
        (400, True, False),
    ],
)
def test_due_after_90_days_closed_and_only_once(
    closed_days_ago: int | None, purged: bool, due: bool
) -> None:
    closed = None if closed_days_ago is None else NOW - timedelta(days=closed_days_ago)
    assert due_for_purge(closed, purged, NOW) is due


def test_a_purged_request_cannot_be_reopened() -> None:
    check_status_change(RequestStatus.DONE, RequestStatus.IN_PROGRESS)
    with pytest.raises(IllegalStatusChange):
        check_status_change(RequestStatus.DONE, RequestStatus.IN_PROGRESS, purged=True)


def test_the_period_must_be_positive() -> None:
    with pytest.raises(ValueError):
        due_for_purge(NOW, False, NOW, timedelta(0))
