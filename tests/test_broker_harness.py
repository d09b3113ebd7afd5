"""The broker fixture is a real Mosquitto that survives a restart with persisted sessions."""

import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


def _client(broker, client_id, clean=True):
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean)
    client.connect("127.0.0.1", broker.port)
    return client


def test_publish_reaches_subscriber(broker, uid):
    got = threading.Event()
    sub = _client(broker, f"sub-{uid}")
    sub.on_message = lambda c, u, m: got.set()
    sub.subscribe(f"t/{uid}", qos=1)
    sub.loop_start()
    pub = _client(broker, f"pub-{uid}")
    pub.loop_start()
    pub.publish(f"t/{uid}", b"x", qos=1).wait_for_publish(5)
    assert got.wait(5)
    for c in (sub, pub):
        c.loop_stop()
        c.disconnect()


def test_restart_keeps_queued_messages_for_persistent_session(broker, uid):
    topic = f"t/{uid}"
    subscribed = threading.Event()
    sub = _client(broker, f"sub-{uid}", clean=False)
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.loop_start()
    sub.subscribe(topic, qos=1)
    assert subscribed.wait(5)
    sub.loop_stop()
    sub.disconnect()
    pub = _client(broker, f"pub-{uid}")
    pub.loop_start()
    pub.publish(topic, b"kept", qos=1).wait_for_publish(5)
    pub.loop_stop()
    pub.disconnect()
    broker.restart()
    got = []
    done = threading.Event()
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"sub-{uid}", clean_session=False)
    sub.on_message = lambda c, u, m: (got.append(m.payload), done.set())
    sub.connect("127.0.0.1", broker.port)
    sub.loop_start()
    assert done.wait(5)
    assert got == [b"kept"]
    sub.loop_stop()
    sub.disconnect()
