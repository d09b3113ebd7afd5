"""A hall's gateway inside a province worker: the hall gateway's ingest, rules and subsystems
unchanged, but on the worker's MQTT connection and the shared store, without HTTP or a birth
message of its own.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa

from gateway.app import Gateway
from gateway.config import Config
from gateway.ingest import Publish
from gateway.mqtt import MqttLink
from gateway.registry import ensure_hall


class Outlet(MqttLink):
    """The worker's one connection, seen by a hall's gateway as its link. The worker connects,
    subscribes and reconnects; the hall only publishes (acks and commands)."""

    def __init__(self, hall: str, publish: Publish) -> None:
        # No paho client of its own: MqttLink.__init__ would make one per hall.
        self.hall = hall
        self._publish = publish
        self.connected = threading.Event()
        self.connected.set()

    def start(self, timeout: float = 10.0) -> None:
        """The worker's connection is already up."""

    def stop(self) -> None:
        """The worker's connection outlives the hall (no per-hall will or birth on it)."""

    def publish(self, topic: str, payload: bytes) -> None:
        self._publish(topic, payload)


class HallGateway(Gateway):
    def __init__(
        self,
        config: Config,
        engine: sa.Engine,
        publish: Publish,
        subsystems: list[str] | None = None,
    ) -> None:
        super().__init__(config, engine, subsystems)
        self.mqtt = Outlet(config.hall, publish)
        self.receiver = None  # the worker's connection receives the hall's events
        self.ingest.publish = publish

    def prepare(self) -> None:
        """The worker migrated the shared store once; a claimed hall only needs its row."""
        with self.engine.begin() as conn:
            ensure_hall(conn, self.hall, self.config.hall_name)

    def stop(self) -> None:
        """Store and ack what has arrived; the shared store stays open for the other halls."""
        self.ingest.stop()
        for service in reversed(self.services):
            service.stop()
