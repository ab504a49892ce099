"""The metrics this server exposes at ``/metrics``: their names, and where they come from.

Three sources, so no request path pays more than an addition:

- the audit trail: every committed entry passes :meth:`ServerMetrics.observe_audit`,
  which counts keys issued, redemptions and refusals, how sessions ended, failed
  logins and recording holds; what is counted is exactly what the trail says happened;
- counters and histograms the relay, the recordings and the HTTP middleware add to as
  bytes and frames move, viewers wait or Redis fails;
- the live state, read at each scrape (server/metrics/live.py): sessions by state,
  customers' links, viewers and what waits for them, consoles, held sessions.

Each :class:`ServerMetrics` has prometheus_client registries of its own, never the
package's global one: tests run several servers in one process, and each counts only
what it did. Every sample carries ``node``: in a cluster each node counts what it did
itself. docs/operations.md lists the names and the alert rules a bank would set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, Info, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from supportdesk import __version__
from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.server.metrics.live import BusFailures, LiveState
from supportdesk.server.relay.traffic import RelayTraffic

if TYPE_CHECKING:
    from supportdesk.server.relay.hub import RelayHub
    from supportdesk.server.remote_support import RemoteSupport

REDEMPTION_FAILED = "support_key.redemption_failed"  # as remote_support.py writes it

# Seconds: from a page served from memory (a few ms) to a slow login (Argon2id, seconds).
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Seconds a frame waits for a viewer: most go out at once (0); a viewer on a slow line
# keeps them tens to hundreds of milliseconds; seconds mean an agent sees an old screen.
LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class NodeLabelled(Collector):
    """Another registry's metrics with ``node`` on every sample, and without the
    ``_created`` series prometheus_client adds (a scraper of the 0.0.4 text format
    reads them as gauges of their own; Prometheus finds resets without them)."""

    def __init__(self, source: CollectorRegistry, node: str) -> None:
        self.source = source
        self.node = node

    def collect(self) -> Iterator[Metric]:
        for family in self.source.collect():
            created = family.name + "_created"
            family.samples = [
                sample._replace(labels={"node": self.node, **sample.labels})
                for sample in family.samples
                if sample.name != created
            ]
            yield family


class ServerMetrics:
    """One node's metrics; :meth:`render` is the body of ``/metrics``."""

    def __init__(self, node: str) -> None:
        self.kept = kept = CollectorRegistry()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(NodeLabelled(kept, node))
        Info("supportdesk_build", "The running version.", registry=kept).info(
            {"version": __version__}
        )
        self.keys_issued = Counter(
            "supportdesk_support_keys_issued_total",
            "Support keys issued by agents (each opens a session).",
            registry=kept,
        )
        self.redemptions = Counter(
            "supportdesk_key_redemptions_total",
            "Support keys redeemed by customers; kind: first, or again (the same"
            " customer's program after the portal).",
            ["kind"],
            registry=kept,
        )
        self.refusals = Counter(
            "supportdesk_key_refusals_total",
            "Redemptions refused, by reason (malformed, unknown, expired, already_redeemed,"
            " void, throttled, rate_limited). Floods of throttled and"
            " rate_limited refusals are counted when their audit window closes.",
            ["reason"],
            registry=kept,
        )
        self.sessions_ended = Counter(
            "supportdesk_sessions_ended_total",
            "Sessions that are over, by how: the end reasons (customer, agent, timeout,"
            " error, connection_lost, recording_limit), declined (no consent), expired"
            " (key or redemption not used in time).",
            ["reason"],
            registry=kept,
        )
        self.login_failures = Counter(
            "supportdesk_login_failures_total",
            "Failed agent logins, by stage (password, totp).",
            ["stage"],
            registry=kept,
        )
        self.recording_holds = Counter(
            "supportdesk_recording_holds_total",
            "Times a live session was held because its recording could not be written.",
            registry=kept,
        )
        self.recording_problems = Counter(
            "supportdesk_recording_problems_total",
            "Recording problems by kind: failed (a segment could not be finished),"
            " rate_limited (a session recorded faster than allowed), limit_reached"
            " (a session used its quota and ended).",
            ["kind"],
            registry=kept,
        )
        self.recording_bytes = Counter(
            "supportdesk_recording_bytes_total",
            "Bytes the sessions' recordings kept (before encryption).",
            registry=kept,
        )
        self.relay_bytes = Counter(
            "supportdesk_relay_bytes_total",
            "Bytes on customers' links, by direction (from_customer, to_customer).",
            ["direction"],
            registry=kept,
        )
        self.relay_frames = Counter(
            "supportdesk_relay_frames_total",
            "Messages (frames) on customers' links, by direction (from_customer, to_customer).",
            ["direction"],
            registry=kept,
        )
        self.viewer_lag = Histogram(
            "supportdesk_viewer_lag_seconds",
            "How long a frame from the customer waited before its viewer's socket took it,"
            " by kind (rfb, video); 0 for one that went out at once.",
            ["kind"],
            buckets=LAG_BUCKETS,
            registry=kept,
        )
        self.traffic = RelayTraffic(
            from_customer=self.relay_bytes.labels(direction="from_customer"),
            to_customer=self.relay_bytes.labels(direction="to_customer"),
            frames_from_customer=self.relay_frames.labels(direction="from_customer"),
            frames_to_customer=self.relay_frames.labels(direction="to_customer"),
            rfb_lag=self.viewer_lag.labels(kind="rfb"),
            video_lag=self.viewer_lag.labels(kind="video"),
        )
        self.http_requests = Counter(
            "supportdesk_http_requests_total",
            "HTTP requests answered, by status class (2xx, 3xx, 4xx, 5xx).",
            ["code"],
            registry=kept,
        )
        self.http_duration = Histogram(
            "supportdesk_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer (sockets not counted).",
            buckets=REQUEST_BUCKETS,
            registry=kept,
        )
        kept.register(BusFailures())
        self._start_at_zero()

    def _start_at_zero(self) -> None:
        # Every label value known in advance is written from the start, so a rate()
        # over the first occurrence sees it rise from 0 instead of appear.
        from supportdesk.domain.session_events import EndReason
        from supportdesk.domain.support_key import RefusalReason

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

    def render(self) -> bytes:
        """The body of ``/metrics``: Prometheus's text format, version 0.0.4."""
        return generate_latest(self.registry)

    def value(self, name: str, **labels: str) -> float:
        """One sample's value as the scrape would show it (node left out); 0 if absent."""
        found = self.kept.get_sample_value(name, labels)
        return 0.0 if found is None else found

    def observe_audit(self, record: AuditRecord) -> None:
        """Count what a committed audit entry says happened."""
        count = _AUDIT_COUNTERS.get(record.event_type)
        if count is not None:
            count(self, record.data)

    def watch(self, remote: RemoteSupport, relay: RelayHub) -> None:
        """Read the live state of this node at every scrape."""
        self.kept.register(LiveState(remote, relay))


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
