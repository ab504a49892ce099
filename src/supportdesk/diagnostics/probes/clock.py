"""Probe: the time zone and how far the clock is off from the server's.

TAN procedures and HBCI/FinTS reject messages whose time is off by more than a
little, so an offset beyond :data:`MAX_OFFSET_SECONDS` is a finding.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from pathlib import Path

from supportdesk.diagnostics.probe import Finding, JSONValue, Label, ProbeContext, ProbeResult

MAX_OFFSET_SECONDS = 30.0
LOCALTIME = Path("/etc/localtime")
TIMEZONE_FILE = Path("/etc/timezone")


class ClockProbe:
    name = "clock"
    label = Label("Uhrzeit und Zeitzone", "Clock and time zone")
    timeout = 5.0

    def run(self, context: ProbeContext) -> ProbeResult:
        local_now = context.now()
        local = local_now.astimezone()
        offset_from_utc = local.utcoffset() or timedelta(0)
        data: dict[str, JSONValue] = {
            "time_zone": _zone_name(context.platform) or local.tzname(),
            "utc_offset_minutes": int(offset_from_utc.total_seconds() // 60),
            "daylight_saving": bool(local.dst()) if local.dst() is not None else None,
            "local_time": local.isoformat(timespec="seconds"),
        }
        offset = clock_offset(context, local_now)
        if offset is None:
            data["offset_seconds"] = None
            return ProbeResult.ok(data)
        data["offset_seconds"] = round(offset, 1)
        if abs(offset) <= MAX_OFFSET_SECONDS:
            return ProbeResult.ok(data)
        ahead = offset > 0
        seconds = round(abs(offset))
        finding = Finding(
            "clock_off",
            Label(
                f"Die Uhr geht {seconds} s {'vor' if ahead else 'nach'}. "
                "TAN-Verfahren und HBCI/FinTS können deshalb scheitern.",
                f"The clock is {seconds} s {'ahead' if ahead else 'behind'}. "
                "TAN procedures and HBCI/FinTS may fail because of it.",
            ),
        )
        return ProbeResult.ok(data, finding)


def clock_offset(context: ProbeContext, local_now: datetime) -> float | None:
    """Seconds the local clock is ahead of the server (negative: behind), or None
    without a server time. The time since the server's time arrived is added to it,
    measured on the monotonic clock, which a wrong wall clock does not affect."""
    if context.server_time is None:
        return None
    server_now = context.server_time
    if context.server_time_received is not None:
        waited = max(0.0, context.monotonic() - context.server_time_received)
        server_now += timedelta(seconds=waited)
    return (local_now - server_now).total_seconds()


def _zone_name(target: str) -> str | None:
    """The IANA name where the system keeps one (Linux, macOS); else None."""
    configured = os.environ.get("TZ", "").lstrip(":")
    if configured and "/" in configured and not configured.startswith("/"):
        return configured
    if target == "win32":
        return time.tzname[0] or None  # Windows names, e.g. "W. Europe Standard Time"
    try:
        target_path = os.readlink(LOCALTIME)
    except OSError:
        target_path = ""
    if "zoneinfo/" in target_path:
        return target_path.split("zoneinfo/", 1)[1]
    try:
        return TIMEZONE_FILE.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None
