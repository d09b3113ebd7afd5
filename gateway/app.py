"""The hall gateway: store, MQTT ingest, core rules (devices, shifts, ratings) and HTTP API.

gw = Gateway(config)          # or Gateway(config, engine=...)
gw.hooks.on("rating", fn)     # subsystems join the ingest (gateway/hooks.py)
gw.routers.append(router)     # and the HTTP API (gateway/http/)
gw.start(); ...; gw.stop()
"""

from __future__ import annotations

import gc
import importlib
import logging
import threading
import time
from typing import Any

import sqlalchemy as sa

import gateway.store.tables  # noqa: F401 - the core tables join the metadata before migrating
from gateway.brokeraccess import broker_access
from gateway.config import Config
from gateway.devices import Presence, device_config
from gateway.hooks import Hooks
from gateway.ingest import Ingest
from gateway.metrics import Metrics
from gateway.mqtt import BrokerRefused, MqttLink
from gateway.ratings import Ratings
from gateway.receiver import EventReceiver, ReceiverSettings
from gateway.registry import ensure_hall, hall_devices
from gateway.shifts import Shifts
from gateway.store import make_engine, migrate
from gateway.timeutil import HallClock
from protocol import codec, messages, topics

log = logging.getLogger("yuping.gateway")

# name -> "module:function"; each subsystem (queue, follow-up, fleet …) adds ONE line here. The
# function is called with the Gateway before it starts, to register hooks and HTTP routers.
SUBSYSTEMS: dict[str, str] = {
    "queue": "gateway.queue.integration:install",
    "followup": "gateway.followup.service:install",
    "fleet": "gateway.fleet:install_subsystem",
    "pairing": "gateway.pairing:install",
    "web": "gateway.web:install",  # last: the pages read the queue and the alert feed
}


def _install_subsystems(gw: Gateway, names: list[str] | None) -> None:
    for name in SUBSYSTEMS if names is None else names:
        module_name, attr = SUBSYSTEMS[name].split(":")
        getattr(importlib.import_module(module_name), attr)(gw)


class Gateway:
    def __init__(
        self, config: Config, engine: sa.Engine | None = None, subsystems: list[str] | None = None
    ) -> None:
        """`subsystems`: names from SUBSYSTEMS to install; None installs them all."""
        self.config = config
        self.hall = config.hall
        self.engine = engine or make_engine(config.db)
        self.clock = HallClock(config.timezone)
        self.hooks = Hooks()
        self.metrics = Metrics()
        self.routers: list[Any] = []  # extra fastapi.APIRouter objects, mounted by gateway.http
        # Subsystems' background work (objects with start() and stop()): started after the
        # ingest, stopped after it, so they see every event stored.
        self.services: list[Any] = []
        broker = broker_access(config)
        client_id = config.client_id or f"yuping-gateway-{config.hall}"
        self.mqtt = MqttLink(
            config.hall,
            broker.host,
            broker.port,
            client_id,
            self._on_message,
            user=broker.user,
            password=broker.password,
            tls=broker.tls,
            events=False,
        )
        self.ingest = Ingest(
            self.engine, config.hall, self.hooks, self.metrics, self.mqtt.publish, config.batch_max
        )
        # The device events arrive through a process of their own (gateway/receiver.py).
        receiving = ReceiverSettings(
            config.hall,
            broker.host,
            broker.port,
            client_id,
            broker.user,
            broker.password,
            broker.tls,
        )
        self.receiver: EventReceiver | None = EventReceiver(receiving, self.ingest.submit_received)
        Presence(config).install(self.hooks)
        Shifts(self.clock).install(self.hooks)
        Ratings(self.clock).install(self.hooks)
        _install_subsystems(self, subsystems)
        self._http: Any = None
        self._http_thread: threading.Thread | None = None

    def _on_message(self, topic: str, payload: bytes) -> None:
        self.ingest.submit(topic, payload)

    def prepare(self) -> None:
        """Migrate the store and register the configured hall (no network)."""
        migrate(self.engine)
        with self.engine.begin() as conn:
            ensure_hall(conn, self.hall, self.config.hall_name)

    def start(self, broker_timeout: float = 10.0) -> Gateway:
        self.prepare()
        self.ingest.start()
        for service in self.services:
            service.start()
        try:
            self.mqtt.start(broker_timeout)
        except BrokerRefused:  # a set-up error: leave nothing running
            self.stop()
            raise
        if self.receiver is not None:  # after the login was checked: same broker, same account
            self.receiver.start(broker_timeout if self.mqtt.connected.is_set() else 0)
        if self.config.http_host_port:
            self._start_http(*self.config.http_host_port)
        log.info("gateway started", extra={"hall": self.hall})
        return self

    def online(self) -> bool:
        """Connected to the broker and subscribed to the hall's device events and states."""
        events = self.receiver is None or self.receiver.subscribed.is_set()
        return self.mqtt.connected.is_set() and events

    def wait_online(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.online():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def settle(self) -> None:
        """For the long-running service, once started: keep what start-up made (modules, the
        web app, compiled statements) out of the cyclic garbage collector's way, so its full
        passes walk only what the ingest makes since (bench/gateway_ingest). Not for a process
        that starts many gateways, such as the tests: what is frozen is never collected."""
        gc.collect()
        gc.freeze()

    def stop(self) -> None:
        """Store and ack what has arrived, say goodbye on the broker, close the store."""
        if self._http is not None:
            self._http.should_exit = True
            if self._http_thread is not None:
                self._http_thread.join(timeout=10)
        if self.receiver is not None:
            self.receiver.stop()  # no new events; what it had taken goes to the ingest first
        self.ingest.stop()
        for service in reversed(self.services):
            service.stop()
        self.mqtt.stop()
        self.engine.dispose()
        log.info("gateway stopped", extra={"hall": self.hall})

    def __enter__(self) -> Gateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def send(self, device: str, kind: str, **fields: Any) -> None:
        """Publish a command to a device now (outside the ingest, e.g. from the HTTP API)."""
        body = messages.make_command(kind, int(time.time() * 1000), **fields)
        self.mqtt.publish(topics.command(self.hall, device, kind), codec.encode_command(kind, body))

    def push_config(self, device: str | None = None) -> int:
        """Send cmd/config (badge list included for terminals) to one device or all; returns count."""
        with self.engine.connect() as conn:
            rows = hall_devices(conn, self.hall)
            chosen = [rows[device]] if device else list(rows.values())
            configs = [(row.id, device_config(conn, self.config, row)) for row in chosen]
        for device_id, fields in configs:
            self.send(device_id, "config", **fields)
        return len(configs)

    def http_app(self) -> Any:
        from gateway.http import create_app

        return create_app(self)

    def _start_http(self, host: str, port: int) -> None:
        import uvicorn

        server = uvicorn.Server(
            uvicorn.Config(self.http_app(), host=host, port=port, log_config=None)
        )
        self._http = server
        self._http_thread = threading.Thread(target=server.run, name="yuping-http", daemon=True)
        self._http_thread.start()
