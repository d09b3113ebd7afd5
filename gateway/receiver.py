"""The hall's device events, received in a process of their own.

The gateway's Python threads share one interpreter lock. Receiving a QoS 1 event costs paho about
as much Python as validating and storing it, and the two took turns on that lock: the ingest
thread waited for the network thread at every statement and the gateway used one core of the
hall machine's several (bench/gateway_ingest). The receiver process subscribes to the hall's
events on a persistent session of its own (client id `<gateway client id>-rx`, the gateway's
broker account) and hands them over in batches through a pipe, stamped with their receipt time;
the gateway process keeps everything else on its MqttLink: acks and commands, device states, its
birth and will.

Nothing here changes what is durable: the receiver only passes events on, and a device is acked
only after the gateway has stored its event. Events the receiver had taken when it died are
sent again by their devices' outboxes. The receiver ends when the gateway stops it or its pipe
closes (the gateway died); when it dies, the gateway starts another.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from gateway.mqtt import TlsFiles

log = logging.getLogger("yuping.receiver")

Received = tuple[str, bytes, int, float]  # topic, payload, receipt ms (wall), time.monotonic()
Deliver = Callable[[list[Received]], None]
RESTART_S = (0.5, 1, 2, 5)  # waits before restarting a receiver that died, then 5 s each time


@dataclass(frozen=True)
class ReceiverSettings:
    hall: str
    host: str
    port: int
    client_id: str
    user: str | None = None
    password: str | None = None
    tls: TlsFiles | None = None


def _context() -> Any:
    """forkserver: safe beside the gateway's threads, and after the first receiver each one is a
    fork of a server that has already imported paho (a spawn costs a fresh interpreter)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["gateway.receiver"])
    return context


class EventReceiver:
    """The gateway's side: starts the receiver process, passes its batches to `deliver`."""

    def __init__(self, settings: ReceiverSettings, deliver: Deliver) -> None:
        self.settings = settings
        self.deliver = deliver
        self.subscribed = threading.Event()
        self.restarts = 0
        self._process: Any = None
        self._pipe: Connection | None = None
        self._pump: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self, timeout: float = 10.0) -> None:
        """Start the receiver; wait up to `timeout` for its subscription (it keeps trying)."""
        self._stopping.clear()
        self._spawn()
        if not self.subscribed.wait(timeout):
            log.warning("event receiver not subscribed yet; retrying")

    def _spawn(self) -> None:
        context = _context()
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_receiver_main,
            args=(theirs, self.settings),
            name=f"yuping-rx-{self.settings.hall}",
            daemon=True,
        )
        process.start()
        theirs.close()  # the child's end: our copy would keep the pipe open after it dies
        self._process, self._pipe = process, ours
        self._pump = threading.Thread(target=self._run, args=(ours,), name="yuping-rx-pump")
        self._pump.daemon = True
        self._pump.start()

    def stop(self) -> None:
        """Stop receiving; what the receiver had taken is delivered before this returns."""
        self._stopping.set()
        if self._pipe is not None:
            try:
                self._pipe.send("stop")
            except OSError:
                pass  # it died already
        if self._pump is not None:
            self._pump.join(timeout=15)
        if self._process is not None:
            self._process.join(timeout=5)
            if self._process.is_alive():
                self._process.kill()
        self.subscribed.clear()

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def _run(self, pipe: Connection) -> None:
        while True:
            try:
                message = pipe.recv()
            except (EOFError, OSError):
                break
            kind = message[0]
            if kind == "events":
                self.deliver(message[1])
            elif kind == "subscribed":
                self.subscribed.set()
            elif kind == "lost":
                self.subscribed.clear()
            elif kind == "bye":
                break
        pipe.close()
        if not self._stopping.is_set():
            self._restart()

    def _restart(self) -> None:
        self.subscribed.clear()
        wait = RESTART_S[min(self.restarts, len(RESTART_S) - 1)]
        self.restarts += 1
        code = None if self._process is None else self._process.exitcode
        log.error("event receiver died; starting another", extra={"exit": code, "wait_s": wait})
        if self._stopping.wait(wait):
            return
        self._spawn()


def _receiver_main(pipe: Connection, settings: ReceiverSettings) -> None:
    """The receiver process: subscribe, and send what arrives in batches until told to stop."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from gateway import logs
    from protocol import topics

    logs.setup()
    # Forked from a server that imported the gateway's modules: keep them out of the cyclic
    # collector's way (and their pages shared), as `yuping gateway` does for itself.
    gc.freeze()
    pending: list[Received] = []
    lock = threading.Lock()
    arrived = threading.Event()
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"{settings.client_id}-rx",
        clean_session=False,
        protocol=mqtt.MQTTv311,
    )
    client.reconnect_delay_set(min_delay=1, max_delay=10)
    if settings.user is not None:
        client.username_pw_set(settings.user, settings.password)
    if settings.tls is not None:
        client.tls_set(
            ca_certs=settings.tls.ca, certfile=settings.tls.cert, keyfile=settings.tls.key
        )
    send_lock = threading.Lock()

    def send(message: tuple) -> None:
        with send_lock:
            pipe.send(message)

    def on_connect(c: mqtt.Client, _u: object, _f: object, rc: Any, _p: object) -> None:
        if not getattr(rc, "is_failure", False):
            c.subscribe(topics.hall_events(settings.hall), 1)

    def on_subscribe(_c: object, _u: object, _mid: int, codes: list, _p: object) -> None:
        if not any(getattr(code, "is_failure", False) for code in codes):
            send(("subscribed",))

    def on_message(_c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        item = (message.topic, bytes(message.payload), int(time.time() * 1000), time.monotonic())
        with lock:
            pending.append(item)
        if not arrived.is_set():  # set() takes a lock and wakes: once per batch is enough
            arrived.set()

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.on_disconnect = lambda *_a: send(("lost",))
    client.connect_async(settings.host, settings.port, keepalive=30)
    client.loop_start()

    stop = threading.Event()

    def listen() -> None:  # "stop" is the only thing the gateway says; EOF: the gateway died
        try:
            pipe.recv()
        except (EOFError, OSError):
            pass
        stop.set()
        arrived.set()

    threading.Thread(target=listen, name="yuping-rx-listen", daemon=True).start()

    def flush() -> None:
        with lock:
            batch = pending[:]
            pending.clear()
        if batch:
            send(("events", batch))

    try:
        while not stop.is_set():
            arrived.wait(1.0)
            arrived.clear()
            flush()
        client.disconnect()
        client.loop_stop()
        flush()
        send(("bye",))
    except (EOFError, OSError):
        pass  # the gateway is gone: nothing to hand over to
