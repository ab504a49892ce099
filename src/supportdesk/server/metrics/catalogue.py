"""The metrics this server exposes at ``/metrics``: their names, and where they come from.

Three sources, so no request path pays more than an addition:

- the audit trail: every committed entry passes :meth:`ServerMetrics.observe_audit`,
  which counts keys issued, redemptions and refusals, how sessions ended, failed
  logins and recording holds; what is counted is exactly what the trail says happened;
- counters the relay, the recordings and the bus add to as bytes move or Redis fails;
- the live state, read at each scrape: sessions by state, customers' links, viewers,
  consoles, held recordings.

Every sample carries ``node``: in a cluster each node counts what it did itself.
docs/operations.md lists the names and the alert rules a bank would set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from supportdesk import __version__
from supportdesk.bus import redis_link
from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.server.metrics.exposition import (
    AnyFamily,
    Counter,
    Gauge,
    Histogram,
    Registry,
)
from supportdesk.server.relay.traffic import RelayTraffic

if TYPE_CHECKING:
    from supportdesk.server.relay.hub import RelayHub
    from supportdesk.server.remote_support import RemoteSupport

REDEMPTION_FAILED = "support_key.redemption_failed"  # as remote_support.py writes it


class ServerMetrics:
    """One node's metrics; ``registry.render()`` is the body of ``/metrics``."""

    def __init__(self, node: str) -> None:
        self.registry = registry = Registry({"node": node})
        info = registry.register(
            Gauge("supportdesk_build_info", "The running version (always 1).", ["version"])
        )
        info.labels(version=__version__).set(1)
        self.keys_issued = registry.register(
            Counter(
                "supportdesk_support_keys_issued_total",
                "Support keys issued by agents (each opens a session).",
            )
        )
        self.redemptions = registry.register(
            Counter(
                "supportdesk_key_redemptions_total",
                "Support keys redeemed by customers; kind: first, or again (the same"
                " customer's program after the portal).",
                ["kind"],
            )
        )
        self.refusals = registry.register(
            Counter(
                "supportdesk_key_refusals_total",
                "Redemptions refused, by reason (malformed, unknown, expired, already_redeemed,"
                " void, throttled, rate_limited). Floods of throttled and"
                " rate_limited refusals are counted when their audit window closes.",
                ["reason"],
            )
        )
        self.sessions_ended = registry.register(
            Counter(
                "supportdesk_sessions_ended_total",
                "Sessions that are over, by how: the end reasons (customer, agent, timeout,"
                " error, connection_lost, recording_limit), declined (no consent), expired"
                " (key or redemption not used in time).",
                ["reason"],
            )
        )
        self.login_failures = registry.register(
            Counter(
                "supportdesk_login_failures_total",
                "Failed agent logins, by stage (password, totp).",
                ["stage"],
            )
        )
        self.recording_holds = registry.register(
            Counter(
                "supportdesk_recording_holds_total",
                "Times a live session was held because its recording could not be written.",
            )
        )
        self.recording_problems = registry.register(
            Counter(
                "supportdesk_recording_problems_total",
                "Recording problems by kind: failed (a segment could not be finished),"
                " rate_limited (a session recorded faster than allowed), limit_reached"
                " (a session used its quota and ended).",
                ["kind"],
            )
        )
        self.recording_bytes = registry.register(
            Counter(
                "supportdesk_recording_bytes_total",
                "Bytes the sessions' recordings kept (before encryption).",
            )
        )
        self.relay_bytes = registry.register(
            Counter(
                "supportdesk_relay_bytes_total",
                "Bytes on customers' links, by direction (from_customer, to_customer).",
                ["direction"],
            )
        )
        self.relay_messages = registry.register(
            Counter(
                "supportdesk_relay_messages_from_customer_total",
                "Messages (frames) received on customers' links.",
            )
        )
        self.traffic = RelayTraffic(
            from_customer=self.relay_bytes.labels(direction="from_customer"),
            to_customer=self.relay_bytes.labels(direction="to_customer"),
            messages_from_customer=self.relay_messages.labels(),
        )
        self.http_requests = registry.register(
            Counter(
                "supportdesk_http_requests_total",
                "HTTP requests answered, by status class (2xx, 3xx, 4xx, 5xx).",
                ["code"],
            )
        )
        self.http_duration = registry.register(
            Histogram(
                "supportdesk_http_request_duration_seconds",
                "Time from a request's arrival to the end of its answer (sockets not counted).",
            )
        )
        registry.add_collector(_bus_failures)
        self._start_at_zero()

    def _start_at_zero(self) -> None:
        # Every label value known in advance is written from the start, so a rate()
        # over the first occurrence sees it rise from 0 instead of appear.
        from supportdesk.domain.support_key import RefusalReason
        from supportdesk.domain.support_session import EndReason

        for kind in ("first", "again"):
            self.redemptions.labels(kind=kind)
        for reason in [*(r.value for r in RefusalReason), "throttled", "rate_limited"]:
            self.refusals.labels(reason=reason)
        for reason in [*(r.value for r in EndReason), "declined", "expired"]:
            self.sessions_ended.labels(reason=reason)
        for stage in ("password", "totp"):
            self.login_failures.labels(stage=stage)
        for kind in ("failed", "rate_limited", "limit_reached"):
            self.recording_problems.labels(kind=kind)
        for code in ("2xx", "3xx", "4xx", "5xx"):
            self.http_requests.labels(code=code)

    def observe_audit(self, record: AuditRecord) -> None:
        """Count what a committed audit entry says happened."""
        count = _AUDIT_COUNTERS.get(record.event_type)
        if count is not None:
            count(self, record.data)

    def watch(self, remote: RemoteSupport, relay: RelayHub) -> None:
        """Read the live state of this node at every scrape."""
        self.registry.add_collector(lambda: _live_state(remote, relay))


def _text(data: Any, key: str, default: str) -> str:
    value = data.get(key) if hasattr(data, "get") else None
    return str(value) if isinstance(value, str) and value else default


def _refused(metrics: ServerMetrics, data: Any) -> None:
    # A window's count stands for `count` refusals (server/audit/batching.py).
    count = data.get("count", 1)
    amount = count if isinstance(count, int) and count > 0 else 1
    metrics.refusals.labels(reason=_text(data, "reason", "unknown")).inc(amount)


def _paused(metrics: ServerMetrics, data: Any) -> None:
    if data.get("cause") == "recording_unavailable":
        metrics.recording_holds.inc()


_AUDIT_COUNTERS: dict[str, Callable[[ServerMetrics, Any], None]] = {
    "support_key.issued": lambda m, d: m.keys_issued.inc(),
    "support_key.redeemed": lambda m, d: m.redemptions.labels(
        kind="again" if d.get("again") else "first"
    ).inc(),
    REDEMPTION_FAILED: _refused,
    "session.ended": lambda m, d: m.sessions_ended.labels(
        reason=_text(d, "reason", "unknown")
    ).inc(),
    "consent.declined": lambda m, d: m.sessions_ended.labels(reason="declined").inc(),
    "session.expired": lambda m, d: m.sessions_ended.labels(reason="expired").inc(),
    "login.failed": lambda m, d: m.login_failures.labels(stage=_text(d, "stage", "unknown")).inc(),
    "session.paused": _paused,
    "recording_failed": lambda m, d: m.recording_problems.labels(kind="failed").inc(),
    "recording_rate_limited": lambda m, d: m.recording_problems.labels(kind="rate_limited").inc(),
    "recording_limit_reached": lambda m, d: m.recording_problems.labels(kind="limit_reached").inc(),
}


def _bus_failures() -> Iterable[AnyFamily]:
    failures = Counter(
        "supportdesk_bus_errors_total",
        "Redis operations of the cluster bus that failed, by kind (buckets, leases,"
        " tickets, publish, subscribe); always 0 without Redis.",
        ["kind"],
    )
    for kind in ("buckets", "leases", "tickets", "publish", "subscribe"):
        failures.labels(kind=kind)
    for kind, count in redis_link.FAILURES.items():
        failures.labels(kind=kind).inc(count)
    return [failures]


def _live_state(remote: RemoteSupport, hub: RelayHub) -> Iterable[AnyFamily]:
    from supportdesk.domain.support_session import TERMINAL_STATES, SessionState

    sessions = Gauge(
        "supportdesk_sessions",
        "Sessions not over that this node has in hand, by state (issued, redeemed,"
        " awaiting_consent, active, paused).",
        ["state"],
    )
    for state in SessionState:
        if state not in TERMINAL_STATES:
            sessions.labels(state=state.value)
    for session in list(remote.live.values()):
        if not session.is_terminal:
            sessions.labels(state=session.state.value).inc()
    relays = Gauge("supportdesk_relays", "Live sessions whose relay this node serves.")
    links = Gauge(
        "supportdesk_customer_links",
        "Customers' links connected to this node, by kind (applet, browser).",
        ["kind"],
    )
    for kind in ("applet", "browser"):
        links.labels(kind=kind)
    viewers = Gauge(
        "supportdesk_viewers",
        "Agents' viewers connected to this node, by kind (rfb: the program's screen,"
        " video: a browser's shared screen).",
        ["kind"],
    )
    viewers.labels(kind="rfb")
    viewers.labels(kind="video")
    consoles = Gauge(
        "supportdesk_console_sockets", "Agents' live-page control sockets on this node."
    )
    held = Gauge(
        "supportdesk_sessions_held",
        "Live sessions on this node held because their recording cannot be written.",
    )
    served = [r for r in list(hub.relays.values()) if not r.ended.is_set()]
    relays.set(len(served))
    for relay in served:
        if relay.applet is not None and relay.link is not None:
            links.labels(kind=relay.link.value).inc()
        viewers.labels(kind="rfb").inc(len(relay.viewers))
        viewers.labels(kind="video").inc(len(relay.video.viewers))
        consoles.labels().inc(len(relay.consoles))
        if relay.session.held:
            held.labels().inc()
    return [sessions, relays, links, viewers, consoles, held]
