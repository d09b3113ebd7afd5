"""A small paho client for the technician tests: connect with credentials, collect messages."""

from __future__ import annotations

import queue
import threading

import paho.mqtt.client as mqtt


class Client:
    def __init__(self, port: int, user: str | None, password: str | None, client_id: str):
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.connected = threading.Event()
        self.refused = threading.Event()
        self.reason: object = None
        self.mqtt = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        if user is not None:
            self.mqtt.username_pw_set(user, password)
        self.mqtt.on_connect = self._on_connect
        self.mqtt.on_message = lambda _c, _u, msg: self.messages.put((msg.topic, msg.payload))
        self.mqtt.connect("127.0.0.1", port)
        self.mqtt.loop_start()

    def _on_connect(self, _c: object, _u: object, _f: object, reason: object, _p: object) -> None:
        self.reason = reason
        (self.refused if getattr(reason, "is_failure", False) else self.connected).set()

    def wait_connected(self) -> bool:
        """True when the broker accepted us, False when it refused (waits for either)."""
        for _ in range(100):
            if self.connected.wait(0.1):
                return True
            if self.refused.is_set():
                return False
        raise AssertionError("no CONNACK from the broker")

    def subscribe(self, topic: str) -> None:
        done = threading.Event()
        self.mqtt.on_subscribe = lambda *_a: done.set()
        self.mqtt.subscribe(topic, qos=1)
        assert done.wait(5), "no SUBACK"

    def publish(self, topic: str, payload: bytes | str, retain: bool = False) -> None:
        info = self.mqtt.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(5)

    def close(self) -> None:
        self.mqtt.disconnect()
        self.mqtt.loop_stop()
