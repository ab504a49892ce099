"""The metrics read at each scrape rather than counted: this node's sessions, links,
viewers and consoles as they are now, and the cluster bus's failed Redis operations.

Two prometheus_client collectors; ``collect()`` runs on the event loop inside the
``/metrics`` request, so it reads the relay's state without a lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from supportdesk.bus import redis_link

if TYPE_CHECKING:
    from supportdesk.server.relay.hub import RelayHub
    from supportdesk.server.remote_support import RemoteSupport

BUS_KINDS = ("buckets", "leases", "tickets", "publish", "subscribe")


class BusFailures(Collector):
    """Redis operations of the cluster bus that failed (bus/redis_link.py counts them
    for the whole process)."""

    def collect(self) -> Iterator[Metric]:
        failures = CounterMetricFamily(
            "supportdesk_bus_errors",
            "Redis operations of the cluster bus that failed, by kind (buckets, leases,"
            " tickets, publish, subscribe); always 0 without Redis.",
            labels=["kind"],
        )
        counts = dict.fromkeys(BUS_KINDS, 0) | dict(redis_link.FAILURES)
        for kind, count in counts.items():
            failures.add_metric([kind], count)
        yield failures


class LiveState(Collector):
    """This node's live sessions and who is connected to them, read at each scrape."""

    def __init__(self, remote: RemoteSupport, hub: RelayHub) -> None:
        self.remote = remote
        self.hub = hub

    def collect(self) -> Iterator[Metric]:
        from supportdesk.domain.session_events import TERMINAL_STATES, SessionState

        by_state = {s.value: 0 for s in SessionState if s not in TERMINAL_STATES}
        for session in list(self.remote.live.values()):
            if not session.is_terminal:
                by_state[session.state.value] += 1
        links = {"applet": 0, "browser": 0}
        viewers = {"rfb": 0, "video": 0}
        queued = {"rfb": 0, "video": 0}
        consoles = held = 0
        served = [r for r in list(self.hub.relays.values()) if not r.ended.is_set()]
        for relay in served:
            if relay.applet is not None and relay.link is not None:
                links[relay.link.value] = links.get(relay.link.value, 0) + 1
            viewers["rfb"] += len(relay.viewers)
            viewers["video"] += len(relay.video.viewers)
            queued["rfb"] += sum(v.queued_bytes for v in relay.viewers.values())
            queued["video"] += sum(v.backlog_bytes for v in relay.video.viewers)
            consoles += len(relay.consoles)
            held += 1 if relay.session.held else 0
        yield _by(
            "supportdesk_sessions",
            "Sessions not over that this node has in hand, by state (issued, redeemed,"
            " awaiting_consent, active, paused).",
            "state",
            by_state,
        )
        yield GaugeMetricFamily(
            "supportdesk_relays", "Live sessions whose relay this node serves.", len(served)
        )
        yield _by(
            "supportdesk_customer_links",
            "Customers' links connected to this node, by kind (applet, browser).",
            "kind",
            links,
        )
        yield _by(
            "supportdesk_viewers",
            "Agents' viewers connected to this node, by kind (rfb: the program's screen,"
            " video: a browser's shared screen).",
            "kind",
            viewers,
        )
        yield _by(
            "supportdesk_viewer_queued_bytes",
            "Bytes from customers waiting for a slow viewer's socket on this node, by kind"
            " (rfb, video); bounded per viewer by the credit window and the video backlog.",
            "kind",
            queued,
        )
        yield GaugeMetricFamily(
            "supportdesk_console_sockets",
            "Agents' live-page control sockets on this node.",
            consoles,
        )
        yield GaugeMetricFamily(
            "supportdesk_sessions_held",
            "Live sessions on this node held because their recording cannot be written.",
            held,
        )


def _by(name: str, documentation: str, label: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for value, count in values.items():
        family.add_metric([value], count)
    return family
