"""Prometheus metrics of one gateway (own registry, so several gateways can share a process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.events = Counter(
            "yuping_events_stored", "Device events newly stored, by kind", ["kind"], registry=r
        )
        self.duplicates = Counter(
            "yuping_events_duplicate", "Redelivered events acked again, not stored", registry=r
        )
        self.refused = Counter(
            "yuping_events_refused",
            "Stored events a rule refused, by reason",
            ["reason"],
            registry=r,
        )
        self.rejects = Counter(
            "yuping_rejects", "Messages rejected and not stored, by reason", ["reason"], registry=r
        )
        self.ack_latency = Histogram(
            "yuping_ack_latency_seconds",
            "From receipt of an event to the publish of its ack",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=r,
        )
        self.batch_size = Histogram(
            "yuping_ingest_batch_size",
            "Messages per ingest transaction",
            buckets=(1, 5, 20, 50, 100, 200, 500),
            registry=r,
        )
        self.outbox = Gauge(
            "yuping_device_outbox", "Events waiting in a device's outbox", ["device"], registry=r
        )
        self.online = Gauge("yuping_devices_online", "Devices whose state is online", registry=r)
        self.store_errors = Counter(
            "yuping_store_errors", "Ingest transactions that failed and were retried", registry=r
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
