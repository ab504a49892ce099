"""UTC instants at the core's boundary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from supportdesk.domain.utc import NaiveOrNonUtcTime, iso_utc, require_utc


def test_require_utc() -> None:
    moment = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    assert require_utc(moment) is moment
    assert require_utc(moment.replace(tzinfo=timezone(timedelta(0))))
    with pytest.raises(NaiveOrNonUtcTime, match="naive"):
        require_utc(datetime(2026, 11, 3, 9, 0))
    with pytest.raises(NaiveOrNonUtcTime, match="offset"):
        require_utc(moment.astimezone(timezone(timedelta(hours=1))))


def test_iso_utc_is_fixed_width() -> None:
    assert iso_utc(datetime(2026, 11, 3, 9, 0, tzinfo=UTC)) == "2026-11-03T09:00:00.000000Z"
    assert iso_utc(datetime(2026, 11, 3, 9, 0, 0, 5, tzinfo=UTC)) == "2026-11-03T09:00:00.000005Z"
