"""The terminal's MQTT link: delivers the outbox, receives acks and commands.

paho-mqtt 2.x with a persistent session (clean_session=False, client id = device id), QoS 1,
a retained birth `state` {online: true} and last will {online: false}. One thread owns the client:
it connects, runs the network loop, publishes what the outbox holds, and after a lost connection
waits as `Backoff` says before trying again. Everything unacked is published again after every
(re)connect and every `resend_s` while connected: the gateway dedupes on the event id, so a
repeat is harmless and a loss is not.
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from firmware.terminal.config import BrokerConfig
from firmware.terminal.outbox import Outbox
from protocol import ProtocolError, codec, decode, make_state, topics

log = logging.getLogger(__name__)

LOOP_S = 0.05  # network loop slice: the longest a new event waits before it is published
WINDOW = 100  # unacked events in flight at most
GOODBYE_S = 2.0  # how long a clean exit waits for its offline state to reach the broker


def wall_ms() -> int:
    return int(time.time() * 1000)


class Backoff:
    """Exponential backoff with jitter: `first_s`, doubling up to `cap_s`, each delay drawn
    uniformly from its upper half so that a hall's devices do not reconnect in step."""

    def __init__(
        self, first_s: float = 0.5, cap_s: float = 30.0, rng: Callable[[], float] = random.random
    ):
        self.first_s = first_s
        self.cap_s = cap_s
        self._rng = rng
        self.attempt = 0

    def next(self) -> float:
        ceiling = min(self.cap_s, self.first_s * 2**self.attempt)
        self.attempt += 1
        return ceiling / 2 + self._rng() * ceiling / 2

    def reset(self) -> None:
        self.attempt = 0


class Link:
    def __init__(
        self,
        hall: str,
        device: str,
        broker: BrokerConfig,
        outbox: Outbox,
        fw: str,
        backoff: Backoff | None = None,
        resend_s: float = 30.0,
    ):
        self.hall, self.device, self.broker = hall, device, broker
        self.outbox = outbox
        # Set by the terminal, as gpiozero devices take when_pressed.
        self.when_command: Callable[[str, dict[str, Any]], None] = lambda kind, body: None
        self.when_online: Callable[[bool], None] = lambda online: None
        self.when_connected: Callable[[], None] = lambda: None
        self.fw = fw
        self.backoff = backoff or Backoff()
        self.resend_s = resend_s
        self.connected = False
        self.gateway_online = True  # until the gateway's retained state says otherwise
        self._sent: dict[str, float] = {}  # event id -> when last published on this connection
        self._kick = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.client = self._make_client()

    @property
    def online(self) -> bool:
        """The gateway can be reached: broker connected and the gateway's state not offline."""
        return self.connected and self.gateway_online

    def _state(self, online: bool) -> bytes:
        return codec.encode(make_state(online, kind="terminal", fw=self.fw))

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.device,
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        client.will_set(
            topics.state(self.hall, self.device), self._state(False), qos=1, retain=True
        )
        if self.broker.username:
            client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            client.tls_set(ca_certs=self.broker.tls_ca, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="yp-link", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Say goodbye (retained offline state, then DISCONNECT) and end the link thread."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=GOODBYE_S + 5)

    def kick(self) -> None:
        """Something new is in the outbox: publish it without waiting for the next scan."""
        self._kick.set()

    def _run(self) -> None:
        while not self._stopping.is_set():
            if self._connect():
                self._serve()
            if self._stopping.is_set():
                break
            self._set_connected(False)
            self._stopping.wait(self.backoff.next())
        self._goodbye()

    def _goodbye(self) -> None:
        """A clean exit says so itself, with a time; the broker's last will is for a lost one."""
        if self.connected:
            goodbye = codec.encode(make_state(False, kind="terminal", fw=self.fw, ts=wall_ms()))
            sent = self.client.publish(
                topics.state(self.hall, self.device), goodbye, qos=1, retain=True
            )
            deadline = time.monotonic() + GOODBYE_S
            while not sent.is_published() and time.monotonic() < deadline:
                if self.client.loop(timeout=LOOP_S) != mqtt.MQTT_ERR_SUCCESS:
                    break
            self.client.disconnect()
        self._set_connected(False)

    def _connect(self) -> bool:
        try:
            self.client.connect(
                self.broker.host, self.broker.port, keepalive=self.broker.keepalive_s
            )
            return True
        except (OSError, ssl.SSLError) as exc:
            log.info("broker %s:%s unreachable: %s", self.broker.host, self.broker.port, exc)
            return False

    def _serve(self) -> None:
        next_scan = 0.0
        while not self._stopping.is_set():
            if self.client.loop(timeout=LOOP_S) != mqtt.MQTT_ERR_SUCCESS:
                return
            now = time.monotonic()
            if self.connected and (self._kick.is_set() or now >= next_scan):
                self._kick.clear()
                self._publish_due(now)
                next_scan = now + 1.0

    def _publish_due(self, now: float) -> None:
        due = self.outbox.pending(WINDOW)
        # Forget ids that left the outbox without an ack of ours (dropped heartbeats).
        self._sent = {e.id: self._sent[e.id] for e in due if e.id in self._sent}
        for event in due:
            last = self._sent.get(event.id)
            if last is None or now - last >= self.resend_s:
                self.client.publish(
                    topics.event(self.hall, self.device, event.kind), event.payload, qos=1
                )
                self._sent[event.id] = now

    # --- callbacks (on the link thread) ------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, _u: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            log.warning("broker refused the connection: %s", reason)
            return
        client.publish(topics.state(self.hall, self.device), self._state(True), qos=1, retain=True)
        client.subscribe(
            [
                (topics.device_commands(self.hall, self.device), 1),
                (topics.ack(self.hall, self.device), 1),
                (topics.gateway_state(self.hall), 1),
            ]
        )
        self._sent.clear()  # whatever was in flight on the old connection goes out again
        self.backoff.reset()
        self.when_connected()
        self._set_connected(True)
        self._kick.set()

    def _on_disconnect(
        self, _c: mqtt.Client, _u: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        log.info("disconnected from the broker: %s", reason)
        self._set_connected(False)

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        try:
            msg = decode(message.topic, message.payload)
        except ProtocolError as exc:
            log.warning("ignoring a bad message on %s: %s", message.topic, exc)
            return
        if msg.topic.direction == "ack":
            self._acked(msg.body["ids"])
        elif msg.topic.direction == "cmd":
            self.when_command(msg.topic.kind, msg.body)
        elif msg.topic.is_gateway:
            self.gateway_online = msg.body["online"]
            self.when_online(self.online)

    def _acked(self, ids: list[str]) -> None:
        self.outbox.ack(ids)
        for event_id in ids:
            self._sent.pop(event_id, None)
        self._kick.set()  # the window has room again

    def _set_connected(self, connected: bool) -> None:
        if connected != self.connected:
            self.connected = connected
            self.when_online(self.online)
