"""The gateway's MQTT link: a persistent session, its birth and will, thread-safe publish."""

from __future__ import annotations

import logging
import ssl
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gateway.hooks import GatewayError
from protocol import codec, messages, topics

log = logging.getLogger("yuping.mqtt")

OnMessage = Callable[[str, bytes], None]


@dataclass(frozen=True)
class TlsFiles:
    """PEM files for an mqtts:// broker; ca None trusts the system's CAs."""

    ca: str | None = None
    cert: str | None = None
    key: str | None = None


class BrokerRefused(GatewayError, ConnectionError):
    """The broker answered the gateway's CONNECT with a refusal (bad login, not authorised)."""


class MqttLink:
    """Subscribes to a hall's device states (and events, unless a receiver process takes them)
    with QoS 1 on a persistent session, so what is published while the gateway is down waits in
    the broker for it; publishes the gateway's acks and commands, its birth and will."""

    def __init__(
        self,
        hall: str,
        host: str,
        port: int,
        client_id: str,
        on_message: OnMessage,
        user: str | None = None,
        password: str | None = None,
        tls: TlsFiles | None = None,
        events: bool = True,
    ):
        """`events`: subscribe to the hall's device events too (else only to their states: the
        gateway receives events in a process of its own, gateway/receiver.py)."""
        self.hall = hall
        self.events = events
        self.host = host
        self.port = port
        self.user = user
        self.address = f"{'mqtts' if tls else 'mqtt'}://{host}:{port}"
        self.on_message = on_message
        self.connected = threading.Event()
        # Why the broker turned us away (login refused, certificate not trusted), until we get in
        self.refused: str | None = None
        self._answered = threading.Event()  # subscribed, or refused
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        self.client.max_inflight_messages_set(100)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self.client.will_set(topics.gateway_state(hall), self._state(False), qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_connect_fail = self._on_connect_fail
        if user is not None:
            self.client.username_pw_set(user, password)
        if tls is not None:
            self.client.tls_set(ca_certs=tls.ca, certfile=tls.cert, keyfile=tls.key)

    @staticmethod
    def _state(online: bool) -> bytes:
        return codec.encode(messages.make_state(online, kind="gateway"))

    def start(self, timeout: float = 10.0) -> None:
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()
        self._answered.wait(timeout)
        if self.refused is not None:  # a login refused at start is a set-up error: stop here
            self.client.disconnect()
            self.client.loop_stop()
            raise BrokerRefused(f"broker {self.address} {self.refused}")
        if not self.connected.is_set():
            log.warning("broker not reachable yet; retrying", extra={"broker": self.address})

    def stop(self) -> None:
        if self.connected.is_set():
            self.client.publish(
                topics.gateway_state(self.hall), self._state(False), 1, True
            ).wait_for_publish(5)
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1)

    def _on_connect(
        self, client: mqtt.Client, _u: object, _f: object, rc: object, _p: object
    ) -> None:
        if getattr(rc, "is_failure", False):
            self._turned_away(
                "broker refused the login",
                f"refused the gateway's login as {self.user!r}: {rc}",
                user=self.user,
                reason=str(rc),
            )
            return
        self.refused = None
        wanted = [(topics.hall_states(self.hall), 1)]
        if self.events:
            wanted.append((topics.hall_events(self.hall), 1))
        client.subscribe(wanted)
        client.publish(topics.gateway_state(self.hall), self._state(True), qos=1, retain=True)
        log.info("connected to broker", extra={"broker": self.address, "user": self.user})

    def _on_connect_fail(self, _c: mqtt.Client, _u: object) -> None:
        # paho calls this inside its `except OSError:`, so the exception says why.
        exc = sys.exc_info()[1]
        if isinstance(exc, ssl.SSLCertVerificationError):  # no retry makes the broker trusted
            self._turned_away(
                "broker certificate not trusted",
                f"failed the TLS check: {exc.verify_message} (see broker_ca)",
                reason=str(exc),
            )

    def _turned_away(self, event: str, why: str, **details: object) -> None:
        if self.refused is None:  # logged once per outage, not at every retry
            log.error(event, extra={"broker": self.address, **details})
        self.refused = why
        self._answered.set()

    def _on_subscribe(
        self, _c: mqtt.Client, _u: object, _mid: int, codes: list, _p: object
    ) -> None:
        failed = [code for code in codes if getattr(code, "is_failure", False)]
        if failed:
            log.error("broker refused the subscription", extra={"codes": [str(c) for c in failed]})
            return
        self.connected.set()  # subscribed: from now on no event of the hall is missed
        self._answered.set()

    def _on_disconnect(
        self, _c: mqtt.Client, _u: object, _f: object, rc: object, _p: object
    ) -> None:
        self.connected.clear()
        if self.refused is None:  # a refusal was logged already
            log.warning("disconnected from broker", extra={"reason": str(rc)})

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        self.on_message(message.topic, bytes(message.payload))
