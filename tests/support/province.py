"""Province-tier helpers for tests and bench/province_ingest: worker processes, and devices
with an outbox that resend unacked events, as the real firmware does (firmware/terminal/link.py).

    workers = [WorkerProcess(broker.url, pg_url, group, f"w{i}") for i in range(3)]
    dev = OutboxDevice(broker.port, hall, "t-01", resend_s=1.0)
    dev.send_many("heartbeat", 100, uptime_s=1, outbox=0)
    dev.wait_all_acked(60)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion

from gateway import registry
from gateway.store import make_engine, migrate
from protocol import codec, messages, topics

ROOT = Path(__file__).resolve().parents[2]


def furnish(db_url: str, hall: str, devices: int, windows: bool = True) -> list[str]:
    """Register a hall with `devices` terminals (t-01 …) at numbered windows in the store."""
    engine = make_engine(db_url)
    migrate(engine)
    names = [f"t-{n:02d}" for n in range(1, devices + 1)]
    with engine.begin() as conn:
        registry.ensure_hall(conn, hall, f"{hall}大厅")
        for number, name in enumerate(names, start=1):
            window = str(number) if windows else None
            if windows:
                registry.add_window(conn, hall, window, number)
            registry.add_device(conn, hall, name, "terminal", window)
    engine.dispose()
    return names


class WorkerProcess:
    """`yuping province worker` in a subprocess, so a test can SIGKILL it."""

    def __init__(
        self, broker_url: str, db_url: str, group: str, worker_id: str, *extra: str
    ) -> None:
        self.worker_id = worker_id
        self.log = Path(os.environ.get("TMPDIR", "/tmp")) / f"yp-worker-{group}-{worker_id}.log"
        args = [sys.executable, "-c", "from gateway.cli import main; main()", "province"]
        args += ["worker", "--db", db_url, "--broker", broker_url, "--group", group]
        args += ["--worker-id", worker_id, *extra]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Until the worker has subscribed on the central broker (it logs that)."""
        wait_until(
            lambda: (
                "connected to the central broker" in self.output() or self.proc.poll() is not None
            ),
            timeout,
            f"worker {self.worker_id} to connect",
        )
        if self.proc.poll() is not None:
            raise RuntimeError(f"worker {self.worker_id} exited: {self.output()}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def wait_until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class OutboxDevice:
    """Publishes events and keeps each in an outbox until the gateway's ack; resends the
    unacked ones every `resend_s` (None: never) and after each reconnect."""

    def __init__(
        self, port: int, hall: str, device: str, resend_s: float | None = 1.0, boot: int = 1
    ) -> None:
        self.hall, self.device, self.boot = hall, device, boot
        self.seq = 0
        self.started = time.monotonic()
        self.outbox: dict[str, tuple[str, bytes]] = {}
        self.sent: list[str] = []
        self.acked: set[str] = set()
        self.acks_received = 0
        self.publishes = 0
        self.commands: list[tuple[str, dict]] = []
        self._changed = threading.Condition()
        self._subscribed = threading.Event()
        self._stop = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"dev-{hall}-{device}", clean_session=False
        )
        self.client.on_message = self._on_message
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_a: self._subscribed.set()
        self.client.reconnect_delay_set(0.2, 2)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise RuntimeError(f"device {device} could not subscribe")
        if resend_s is not None:
            threading.Thread(target=self._resend_loop, args=(resend_s,), daemon=True).start()

    def _on_connect(self, client: mqtt.Client, *_a: Any) -> None:
        client.subscribe(
            [
                (topics.ack(self.hall, self.device), 1),
                (topics.device_commands(self.hall, self.device), 1),
            ]
        )

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        decoded = codec.decode(msg.topic, msg.payload)
        with self._changed:
            if decoded.topic.direction == "ack":
                self.acks_received += 1
                for event_id in decoded.body["ids"]:
                    self.acked.add(event_id)
                    self.outbox.pop(event_id, None)
            else:
                self.commands.append((decoded.kind, decoded.body))
            self._changed.notify_all()

    def send(self, kind: str, /, **fields: Any) -> str:
        self.seq += 1
        event_id = f"{self.boot}-{self.seq}"
        up = int((time.monotonic() - self.started) * 1000)
        body = {"v": messages.VERSION, "id": event_id, "ts": int(time.time() * 1000), "up": up}
        body = messages.validate_event(kind, {**body, **fields})
        message = (topics.event(self.hall, self.device, kind), codec.encode_event(kind, body))
        with self._changed:
            self.outbox[event_id] = message
            self.sent.append(event_id)
        self._publish(*message)
        return event_id

    def send_many(self, kind: str, count: int, pause_s: float = 0.0, **fields: Any) -> list[str]:
        sent = []
        for _ in range(count):
            sent.append(self.send(kind, **fields))
            if pause_s:
                time.sleep(pause_s)
        return sent

    def _publish(self, topic: str, payload: bytes) -> None:
        self.publishes += 1
        self.client.publish(topic, payload, qos=1)

    def _resend_loop(self, every: float) -> None:
        while not self._stop.wait(every):
            with self._changed:
                waiting = list(self.outbox.values())
            for message in waiting:
                self._publish(*message)

    def wait_acked(self, ids: list[str], timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: set(ids) <= self.acked, timeout)

    def wait_all_acked(self, timeout: float) -> bool:
        return self.wait_acked(list(self.sent), timeout)

    def wait_command(self, kind: str, after: int, timeout: float = 20.0) -> dict:
        """The first command of `kind` received after the first `after` commands."""

        def found() -> dict | None:
            return next((b for k, b in self.commands[after:] if k == kind), None)

        with self._changed:
            if not self._changed.wait_for(lambda: found() is not None, timeout):
                raise AssertionError(f"no cmd/{kind} for {self.device}")
            body = found()
        assert body is not None
        return body

    def close(self) -> None:
        self._stop.set()
        self.client.disconnect()
        self.client.loop_stop()


def stored_events(db_url: str, hall: str) -> list[tuple[str, str]]:
    """(device, event id) of every stored event of a hall, duplicates included if any."""
    from gateway.store.tables import events

    engine = make_engine(db_url)
    query = sa.select(events.c.device, events.c.event_id).where(events.c.hall == hall)
    with engine.connect() as conn:
        rows = [(r.device, r.event_id) for r in conn.execute(query)]
    engine.dispose()
    return rows
