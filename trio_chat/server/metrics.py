"""The server's numbers, for Prometheus (served by ``metrics_http``).

Nothing here is counted per recipient: the pump counts a whole batch at a
time (``delivered``), in plain integers that are read, like what can be read
off the sessions (connections, bytes queued), only when scraped. Each server
has a registry of its own, so that several in one process (tests) do not mix
their figures. docs/operating.md lists every metric.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from trio_chat.chat import Deliver, Effect
from trio_chat.protocol import events as ev
from trio_chat.protocol import notices
from trio_chat.protocol.irc import IrcServerConnection
from trio_chat.protocol.moderation import Kicked

if TYPE_CHECKING:
    from trio_chat.server.session import Session

# What the pump counts of each event type it delivers: a kind of message, or a kick.
COUNTED: dict[type[ev.Event], str] = {
    ev.Message: "room",
    ev.Action: "room",
    notices.NoticeMessage: "room",
    ev.Private: "private",
    notices.PrivateNotice: "private",
    Kicked: "kick",
}
# Why connections end, as labels: a bounded set, since a reason may carry a
# client's words (a quit message, an operator's reason).
REASONS = {
    "connection closed": "connection_closed",
    "connection lost": "connection_lost",
    "send queue exceeded": "send_queue_exceeded",
    "excess flood": "excess_flood",
    "ping timeout": "ping_timeout",
    "no nickname chosen in time": "no_nickname",
    "server shutting down": "shutdown",
    "logged in from elsewhere": "ghosted",
    "reconnected": "reconnected",
}
REASON_PREFIXES = {"quit": "quit", "disconnected by ": "disconnected"}
STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """One server's counters, and its health: ``ready`` while it serves."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.ready = False  # listening with its store open, and not shutting down
        self.transports: dict[Session, str] = {}  # each open session: what carries it
        self.deliveries = 0
        self.counted = dict.fromkeys(COUNTED.values(), 0)
        self._opened = Counter(
            "trio_chat_connections_opened",
            "Connections accepted, by transport",
            ["transport"],
            registry=registry,
        )
        self._closed = Counter(
            "trio_chat_disconnects",
            "Sessions ended, by reason",
            ["reason"],
            registry=registry,
        )
        self._refused = Counter(
            "trio_chat_refused",
            "Connections refused at the door, by reason",
            ["reason"],
            registry=registry,
        )
        store = Histogram(
            "trio_chat_store_seconds",
            "Time taken by the store, by operation",
            ["operation"],
            buckets=STORE_BUCKETS,
            registry=registry,
        )
        self.store_append = store.labels("append")
        self.store_read = store.labels("read")
        self._reloads = Counter(
            "trio_chat_reloads", "Configuration reloads, by result", ["result"], registry=registry
        )
        registry.register(_Live(self))

    def opened(self, session: Session, transport: str) -> None:
        """``transport``: what carries its bytes (``transports.carrier``)."""
        self.transports[session] = transport
        self._opened.labels(transport).inc()

    def closed(self, session: Session) -> None:
        self.transports.pop(session, None)
        self._closed.labels(reason_label(session.reason)).inc()

    def refused(self, code: str) -> None:
        self._refused.labels(code).inc()

    def delivered(self, batch: Sequence[Effect]) -> None:
        """Count a batch the pump has delivered: one pass over its effects."""
        deliveries = 0
        counted, kinds = self.counted, COUNTED
        for effect in batch:
            if type(effect) is Deliver:
                deliveries += len(effect.to)
                if (kind := kinds.get(type(effect.event))) is not None:
                    counted[kind] += 1
        self.deliveries += deliveries

    def reloaded(self, ok: bool) -> None:
        """A configuration reload was applied (``ok``) or refused."""
        self._reloads.labels("applied" if ok else "failed").inc()


class _Live(Collector):
    """What is read when scraped: the pump's counts, and the open sessions."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        metrics = self._metrics
        yield CounterMetricFamily(
            "trio_chat_deliveries",
            "Live events handed to a recipient's outbox, one per recipient",
            value=metrics.deliveries,
        )
        messages = CounterMetricFamily(
            "trio_chat_messages", "Messages said, by kind", labels=["kind"]
        )
        for kind in ("room", "private"):
            messages.add_metric([kind], metrics.counted[kind])
        yield messages
        yield CounterMetricFamily(
            "trio_chat_kicks", "Members kicked out of a room", value=metrics.counted["kick"]
        )
        connections = GaugeMetricFamily(
            "trio_chat_connections", "Open connections", labels=["transport", "mode"]
        )
        counts: dict[tuple[str, str], int] = {}
        queued = 0
        for session, transport in metrics.transports.items():
            key = (transport, mode_of(session))
            counts[key] = counts.get(key, 0) + 1
            queued += session.outbox.queued_bytes
        for (transport, mode), count in sorted(counts.items()):
            connections.add_metric([transport, mode], count)
        yield connections
        yield GaugeMetricFamily(
            "trio_chat_queued_bytes", "Bytes queued for clients, not yet sent", value=queued
        )


def mode_of(session: Session) -> str:
    """The wire format: irc, json, text, or none before a text or JSON client's first line."""
    conn = session.conn
    if isinstance(conn, IrcServerConnection):
        return "irc"
    return getattr(conn, "mode", None) or "none"


def reason_label(reason: str) -> str:
    if (label := REASONS.get(reason)) is not None:
        return label
    for prefix, label in REASON_PREFIXES.items():
        if reason.startswith(prefix):
            return label
    return "other"
