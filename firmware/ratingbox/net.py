"""MQTT over Wi-Fi (umqtt.simple). The Wi-Fi interface and the clock are passed in, so the same
code also runs on CPython in the end-to-end tests, against a real broker.

Events go out from the outbox and stay there until the gateway's ack names them; everything
waiting is published again on every (re)connect and every `resend_s`, and the gateway dedupes.
"""

import json

from umqtt.simple import MQTTClient

from protocol import codec, topics

KEEPALIVE_S = 60
WIFI_WAIT_MS = 10000


class Link:
    def __init__(self, cfg, outbox, on_command, clock, wlan):
        self.cfg = cfg
        self.outbox = outbox
        self.on_command = on_command
        self.clock = clock  # .ms(): monotonic, never wraps (hw.Clock)
        self.wlan = wlan  # network.WLAN(network.STA_IF) on the board
        self.client = None
        self.last_sent = 0
        self.backoff_ms = 1000
        self.retry_at = 0
        self.last_ping = 0

    def _state(self, online):
        return json.dumps({"v": 1, "online": online, "kind": "ratingbox", "fw": self.cfg["fw"]})

    def _connect(self):
        cfg = self.cfg
        if not self.wlan.isconnected():
            self.wlan.active(True)
            self.wlan.connect(cfg["wifi_ssid"], cfg["wifi_password"])
            self.retry_at = self.clock.ms() + WIFI_WAIT_MS  # let it associate before asking again
            return False
        state = topics.state(cfg["hall"], cfg["device"])
        client = MQTTClient(cfg["device"], cfg["broker_host"], cfg["broker_port"],
                            cfg["username"], cfg["password"], keepalive=KEEPALIVE_S)
        client.set_last_will(state, self._state(False), retain=True, qos=1)
        client.set_callback(self._message)
        client.connect(clean_session=False)
        client.subscribe(topics.ack(cfg["hall"], cfg["device"]), qos=1)
        client.subscribe(topics.device_commands(cfg["hall"], cfg["device"]), qos=1)
        client.publish(state, self._state(True), retain=True, qos=1)
        self.client = client
        self.last_ping = self.clock.ms()
        return True

    def _message(self, topic, payload):
        try:
            msg = codec.decode(topic.decode(), payload)
        except ValueError:
            return  # not ours to act on; the gateway never sends it twice
        if msg.topic.direction == "ack":
            self.outbox.ack(msg.body["ids"])
        else:
            self.on_command(msg.kind, msg.body)

    def _publish_all(self):
        cfg = self.cfg
        for kind, body in self.outbox.pending():
            self.client.publish(topics.event(cfg["hall"], cfg["device"], kind),
                                codec.encode_event(kind, body), qos=1)
        self.last_sent = self.clock.ms()

    def poll(self, connected_hook=None):
        """Keep the link up and traffic moving; never blocks for long."""
        now = self.clock.ms()
        try:
            if self.client is None:
                if now < self.retry_at or not self._connect():
                    return
                self.backoff_ms = 1000
                if connected_hook:
                    connected_hook()
                self._publish_all()
            self.client.check_msg()
            if now - self.last_ping >= KEEPALIVE_S * 500:  # ping at half the keepalive
                self.client.ping()
                self.last_ping = now
            if now - self.last_sent >= self.cfg["resend_s"] * 1000:
                self._publish_all()
        except OSError:
            self.client = None
            self.retry_at = now + self.backoff_ms
            self.backoff_ms = min(self.backoff_ms * 2, 60000)

    def send_new(self):
        """Publish what was just added, without waiting for the resend timer."""
        if self.client is not None:
            try:
                self._publish_all()
            except OSError:
                self.client = None
