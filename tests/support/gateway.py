"""A real gateway in-process, and devices that talk to it over the real broker — for tests.

    from support.gateway import GatewayHarness

    def test_login(broker, tmp_path, hall):
        with GatewayHarness(broker, tmp_path, hall) as gw:      # fresh SQLite file, migrated, started
            gw.add_window("w3", 3)                              # label "3号窗口"
            gw.add_device("t-01", "terminal", window="w3")
            gw.add_staff("张三", "1001", badge_uid="04A1B2C3")
            with gw.device("t-01") as dev:                      # an MQTT client speaking as t-01
                dev.hello()
                dev.send_acked("badge", uid="04A1B2C3", action="login")
                assert dev.command("session")["clerk"]["name"] == "张三"

- `GatewayHarness(broker, tmp_path, hall, db_url=pg_url)` runs on PostgreSQL instead (pg_url fixture).
  `gw.device("t-01", password=...)` logs in as the device (a broker using `yuping provision` files).
  `subsystems=[...]` picks which of gateway.app.SUBSYSTEMS to install (default: all); other
  keyword arguments are gateway.config.Config fields (rating_timeout_s=…, attendance=…).
- Before `start()` (or the `with`), `gw.gateway` is the unstarted `gateway.app.Gateway`: register
  hooks (`gw.gateway.hooks.on(...)`) and HTTP routers (`gw.gateway.routers.append(...)`) there, or
  pass `setup=callable(gateway)`. `gw.engine` reads the store; `gw.gateway.send(...)` commands.
- `dev.send(kind, **fields)` publishes a valid event (id, ts, up filled in) and returns its id;
  `dev.send_acked(...)` also waits for the ack; `dev.wait_ack(*ids)`; `dev.command(kind)` waits for
  the next command of that kind (returns its body); `dev.commands` holds all received
  (kind, body) pairs. Commands caused by an event are published before its ack, so after
  `send_acked` they have arrived. `dev.publish_raw(topic, payload)` sends anything at all;
  `dev.send_until_acked(kind, ...)` resends one event like an outbox (for fault tests).
- A rejected message is never acked: `dev.sync()` (a heartbeat, acked) proves everything the device
  sent before has been processed; then `gw.rejects()` lists the stored reject reasons.
- `dev.open_rating(**service)` publishes rw_open and returns the rating window id;
  `dev.rate(rw, level)` publishes a rating in it.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion

from gateway import registry, staff
from gateway.app import Gateway
from gateway.config import Config
from gateway.store.tables import rejects
from protocol import codec, messages, topics

WAIT_S = 10.0


class GatewayHarness:
    def __init__(
        self,
        broker: Any,
        tmp_path: Path,
        hall: str,
        db_url: str | None = None,
        setup: Any = None,
        subsystems: list[str] | None = None,
        **config: Any,
    ) -> None:
        self.broker = broker
        self.hall = hall
        db = db_url or f"sqlite:///{tmp_path / f'{hall}.db'}"
        self.config = Config(hall=hall, broker=broker.url, db=db, **config)
        self.gateway = Gateway(self.config, subsystems=subsystems)
        self.engine = self.gateway.engine
        self._devices: list[DeviceClient] = []
        if setup is not None:
            setup(self.gateway)

    def start(self) -> GatewayHarness:
        self.gateway.start()
        if not self.gateway.wait_online(WAIT_S):
            raise RuntimeError("gateway did not subscribe on the test broker")
        return self

    def stop(self) -> None:
        for dev in self._devices:
            dev.close()
        self.gateway.stop()

    def __enter__(self) -> GatewayHarness:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_window(self, window: str, number: int, label: str | None = None) -> None:
        with self.engine.begin() as conn:
            registry.add_window(conn, self.hall, window, number, label)

    def add_device(
        self,
        device: str,
        kind: str = "terminal",
        window: str | None = None,
        paired: str | None = None,
    ) -> None:
        with self.engine.begin() as conn:
            registry.add_device(conn, self.hall, device, kind, window, paired)

    def add_staff(
        self,
        name: str,
        staff_no: str,
        role: str = "clerk",
        badge_uid: str | None = None,
        team: str | None = None,
    ) -> int:
        entry = staff.StaffEntry(name, staff_no, role, badge_uid, team)
        with self.engine.begin() as conn:
            return staff.add_staff(conn, self.hall, entry)

    def add_user(
        self, username: str, password: str, role: str, staff_id: int | None = None
    ) -> None:
        from gateway import users

        with self.engine.begin() as conn:
            users.add_user(conn, username, password, role, self.hall, staff_id)

    def rejects(self) -> list[str]:
        query = (
            sa.select(rejects.c.reason).where(rejects.c.hall == self.hall).order_by(rejects.c.id)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def rows(self, table: sa.Table, *where: Any) -> list[sa.Row]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(table).where(*where)))

    def device(self, device: str, boot: int = 1, password: str | None = None) -> DeviceClient:
        dev = DeviceClient(self.broker, self.hall, device, boot, password)
        self._devices.append(dev)
        return dev


class DeviceClient:
    """A minimal device over the real broker: publishes valid events, collects acks and commands."""

    def __init__(
        self, broker: Any, hall: str, device: str, boot: int = 1, password: str | None = None
    ) -> None:
        self.hall = hall
        self.device = device
        self.boot = boot
        self.seq = 0
        self.started = time.monotonic()
        self.acked: set[str] = set()
        self.ack_messages = 0  # how many ack messages arrived (the gateway acks per batch)
        self.commands: list[tuple[str, dict]] = []
        self._inbox: queue.Queue[tuple[str, dict]] = queue.Queue()
        self._ack_changed = threading.Condition()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"test-{hall}-{device}-{id(self):x}"
        )
        if password is not None:  # a broker with `yuping provision` accounts: log in as itself
            self.client.username_pw_set(device, password)
        self.client.on_message = self._on_message
        self.client.on_connect = self._on_connect  # (re)subscribes after every (re)connect
        self.client.on_subscribe = lambda *_a: self._subscribed.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        if not self._subscribed.wait(WAIT_S):
            raise RuntimeError(f"device {device} could not subscribe")

    def __enter__(self) -> DeviceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, *_a: Any) -> None:
        topics_ = [(topics.ack(self.hall, self.device), 1)]
        topics_.append((topics.device_commands(self.hall, self.device), 1))
        client.subscribe(topics_)

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        decoded = codec.decode(msg.topic, msg.payload)
        if decoded.topic.direction == "ack":
            with self._ack_changed:
                self.ack_messages += 1
                self.acked.update(decoded.body["ids"])
                self._ack_changed.notify_all()
        else:
            self.commands.append((decoded.kind, decoded.body))
            self._inbox.put((decoded.kind, decoded.body))

    def next_id(self) -> str:
        self.seq += 1
        return f"{self.boot}-{self.seq}"

    def event(self, kind: str, /, **fields: Any) -> dict:
        """A valid event body (not sent); fields may override id, ts or up."""
        up = fields.pop("up", int((time.monotonic() - self.started) * 1000))
        ts = fields.pop("ts", int(time.time() * 1000))
        event_id = fields.pop("id", None) or self.next_id()
        # Not messages.make_event: its own `kind` parameter collides with hello's `kind` field.
        body = {"v": messages.VERSION, "id": event_id, "ts": ts, "up": up, **fields}
        return messages.validate_event(kind, body)

    def send(self, kind: str, /, **fields: Any) -> str:
        body = self.event(kind, **fields)
        self.publish_raw(topics.event(self.hall, self.device, kind), codec.encode_event(kind, body))
        return str(body["id"])

    def send_acked(self, kind: str, /, **fields: Any) -> str:
        event_id = self.send(kind, **fields)
        self.wait_ack(event_id)
        return event_id

    def send_until_acked(self, kind: str, /, tries: int = 10, **fields: Any) -> str:
        """Like a device's outbox: send the same event again until it is acked."""
        body = self.event(kind, **fields)
        topic, payload = topics.event(self.hall, self.device, kind), codec.encode_event(kind, body)
        for _ in range(tries):
            if self.client.is_connected():
                self.client.publish(topic, payload, qos=1)
            try:
                self.wait_ack(str(body["id"]), timeout=2)
                return str(body["id"])
            except AssertionError:
                continue
        raise AssertionError(f"{body['id']} never acked after {tries} tries")

    def publish_raw(self, topic: str, payload: bytes | str) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(WAIT_S)

    def wait_ack(self, *ids: str, timeout: float = WAIT_S) -> None:
        with self._ack_changed:
            if not self._ack_changed.wait_for(lambda: set(ids) <= self.acked, timeout):
                raise AssertionError(f"no ack for {sorted(set(ids) - self.acked)} on {self.device}")

    def command(self, kind: str, timeout: float = WAIT_S) -> dict:
        """Wait for the next command of `kind` (earlier ones of other kinds are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                got, body = self._inbox.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no cmd/{kind} for {self.device}") from None
            if got == kind:
                return body

    def sync(self) -> None:
        """Everything sent before has been processed once this heartbeat is acked."""
        self.send_acked("heartbeat", uptime_s=1, outbox=0)

    def hello(self, kind: str = "terminal", fw: str = "test-1", **fields: Any) -> str:
        return self.send_acked("hello", kind=kind, fw=fw, boot=self.boot, **fields)

    def open_rating(self, timeout_s: int = 30, by: str = "clerk", **service: Any) -> str:
        rw = self.next_id()
        extra = {"service": service} if service else {}
        self.send_acked("rw_open", id=rw, rw=rw, timeout_s=timeout_s, by=by, **extra)
        return rw

    def rate(self, rw: str, level: str, **fields: Any) -> str:
        return self.send_acked("rating", rw=rw, level=level, **fields)
