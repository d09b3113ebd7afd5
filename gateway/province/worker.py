"""A province ingest worker.

Every worker subscribes to all halls' device events through one MQTT 5 shared subscription
(`$share/<group>/yp/1/+/+/evt/+`), so the broker hands each event to one of them. A hall's events
must still be handled by ONE worker (its queue, rating windows and shifts are single-writer state
kept in memory, and a device's events must be handled in order), so:

- the worker that gets an event of a hall nobody owns subscribes to the hall's own topics
  (`yp/1/<hall>/+/evt/+`, `.../state`, subscription identifier HALL), and once the broker has
  acknowledged that, takes the hall's advisory lock (locks.py) and starts the hall's gateway
  (hall.py; its queue rebuilds from the store). Claiming runs on a thread of its own (the MQTT
  thread must keep the connection alive); the hall's messages are held until its gateway runs.
  Failing to get the lock, it unsubscribes and drops what it held;
- from then on the owner handles the hall's events from its own subscription only, and every
  worker drops the copies the shared subscription hands it for a hall owned by someone: because
  the owner subscribed BEFORE it took the lock, whoever finds the lock taken knows the owner got
  its own copy. (Only two workers claiming the same hall at the same moment leave a gap: what the
  loser held between the two subscriptions comes back from the devices' outboxes.)

Nothing here has to be exactly-once: the devices' outboxes resend every event until the gateway's
ack (sent after the commit), and the store dedupes on (device, id). So a dropped copy, a worker
SIGKILLed with events received but not stored, or the short windows around a hand-over cost only
a resend. Mosquitto (2.0) does NOT pass a dead member's unacknowledged shared-subscription messages
to another member, and with a persistent session it keeps routing new ones to the dead member;
workers therefore use clean sessions and count on the device outbox, never on the broker, for
redelivery.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from gateway.brokeraccess import BrokerAccess
from gateway.config import Config
from gateway.province.hall import HallGateway
from gateway.province.locks import HallLocks, shown_key
from gateway.store import make_engine, migrate
from gateway.store.tables import halls
from protocol import topics

log = logging.getLogger("yuping.province")

SHARED, HALL = 1, 2  # MQTT 5 subscription identifiers: which subscription brought a message
RETRY_CLAIM_S = 5.0  # a hall we could not claim (owned elsewhere, unregistered) waits this long
WATCH_S = 2.0  # how often the worker checks its lock session and reads which halls are owned
SUBACK_S = 10.0
CUT_OFF_S = 30.0  # away from the central broker this long: let connected workers take our halls

HallConfig = Callable[[str], Config]


def shared_filter(group: str) -> str:
    return f"$share/{group}/{topics.ROOT}/{topics.VERSION}/+/+/evt/+"


def _subscribe_properties(identifier: int) -> Properties:
    props = Properties(PacketTypes.SUBSCRIBE)
    props.SubscriptionIdentifier = identifier
    return props


class Worker:
    def __init__(
        self,
        engine: sa.Engine,
        broker: BrokerAccess,
        group: str,
        worker_id: str,
        hall_config: HallConfig,
        subsystems: list[str] | None = None,
    ) -> None:
        topics.check_id(group, "group")
        self.engine = engine
        self.broker = broker
        self.group = group
        self.worker_id = worker_id
        self.hall_config = hall_config
        self.subsystems = subsystems
        self.locks = HallLocks(engine, group, worker_id)
        self.halls: dict[str, HallGateway] = {}
        self.confirming: set[str] = set()  # owned halls whose own subscription is not acked yet
        self._held: dict[str, list[tuple[str, bytes]]] = {}  # halls being claimed: their messages
        self._claims: queue.Queue[str | None] = queue.Queue()
        self._suback: dict[int, tuple[str, threading.Event]] = {}
        self._not_before: dict[str, float] = {}  # hall -> when to try claiming it again
        self._owned_keys: set[tuple[int, int]] = (
            set()
        )  # every hall lock held by any worker (WATCH_S old)
        self._mutex = threading.RLock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.connected = threading.Event()
        self._away_since: float | None = None  # monotonic time the broker connection was lost
        self.client = self._client()

    def _client(self) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"yuping-province-{self.worker_id}",
            protocol=mqtt.MQTTv5,
        )
        client.max_inflight_messages_set(100)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        if self.broker.user is not None:
            client.username_pw_set(self.broker.user, self.broker.password)
        if self.broker.tls is not None:
            tls = self.broker.tls
            client.tls_set(ca_certs=tls.ca, certfile=tls.cert, keyfile=tls.key)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def start(self, timeout: float = 10.0) -> Worker:
        self._migrate()
        self._warm_up()
        for target in (self._claim_loop, self._watch):
            thread = threading.Thread(target=target, name=f"yuping-{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self.client.connect_async(
            self.broker.host, self.broker.port, keepalive=30, clean_start=True
        )
        self.client.loop_start()
        if not self.connected.wait(timeout):
            log.warning("central broker not reachable yet; retrying")
        return self

    def _migrate(self) -> None:
        self.locks.hold_migration()
        try:
            migrate(self.engine)
        finally:
            self.locks.release_migration()

    def _warm_up(self) -> None:
        """Build one throwaway hall gateway (in-memory store, never started): the subsystems'
        first set-up imports their web and report modules, seconds that would otherwise delay
        the first hall claimed."""
        scratch = make_engine("sqlite://")
        HallGateway(Config(hall="warm-up", db="sqlite://"), scratch, self.publish, self.subsystems)
        scratch.dispose()

    def stop(self) -> None:
        """Store and ack what has arrived, then leave: the hall locks go with the session."""
        self._stop.set()
        self._claims.put(None)
        self.client.unsubscribe(shared_filter(self.group))
        for thread in self._threads:
            thread.join(timeout=10)
        with self._mutex:
            owned = list(self.halls.values())
            self.halls.clear()
        for gw in owned:
            gw.stop()
        self.client.disconnect()
        self.client.loop_stop()
        self.locks.close()

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1)

    def owned(self) -> list[str]:
        with self._mutex:
            return sorted(self.halls)

    def _on_connect(
        self, client: mqtt.Client, _u: object, _f: object, rc: object, _p: object
    ) -> None:
        if getattr(rc, "is_failure", False):
            log.error("central broker refused the connection", extra={"reason": str(rc)})
            return
        options = SubscribeOptions(qos=1)
        client.subscribe(
            shared_filter(self.group), options=options, properties=_subscribe_properties(SHARED)
        )
        with self._mutex:
            for hall in self.halls:  # a clean session: the hall subscriptions are gone too
                self._subscribe_hall(hall)
        log.info("connected to the central broker", extra={"worker": self.worker_id})

    def _on_subscribe(self, _c: mqtt.Client, _u: object, mid: int, codes: list, _p: object) -> None:
        if any(getattr(code, "is_failure", False) for code in codes):
            log.error("broker refused a subscription", extra={"codes": [str(c) for c in codes]})
            return
        with self._mutex:
            pending = self._suback.pop(mid, None)
            if pending is None:
                self.connected.set()  # the shared subscription
                self._away_since = None
            else:
                self.confirming.discard(pending[0])
                pending[1].set()

    def _on_disconnect(
        self, _c: mqtt.Client, _u: object, _f: object, rc: object, _p: object
    ) -> None:
        self.connected.clear()
        self._away_since = self._away_since or time.monotonic()
        log.warning("disconnected from the central broker", extra={"reason": str(rc)})

    def _subscribe_hall(self, hall: str) -> threading.Event | None:
        """Subscribe to a hall's own topics; the event is set on the SUBACK (None: not
        connected, and _on_connect subscribes the owned halls again)."""
        self.confirming.add(hall)
        options = SubscribeOptions(qos=1)
        _rc, mid = self.client.subscribe(
            [(topics.hall_events(hall), options), (topics.hall_states(hall), options)],
            properties=_subscribe_properties(HALL),
        )
        if mid is None:
            return None
        done = threading.Event()
        self._suback[mid] = (hall, done)
        return done

    def _unsubscribe_hall(self, hall: str) -> None:
        self.confirming.discard(hall)
        self.client.unsubscribe([topics.hall_events(hall), topics.hall_states(hall)])

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        parts = message.topic.split("/")
        if len(parts) < 4 or not topics.valid_id(parts[2]):
            return  # not a hall topic: nothing any hall's gateway could store
        props = getattr(message, "properties", None)
        brought_by = getattr(props, "SubscriptionIdentifier", None) or [SHARED]
        self._route(parts[2], HALL in brought_by, (message.topic, bytes(message.payload)))

    def _route(self, hall: str, from_hall: bool, item: tuple[str, bytes]) -> None:
        """Hand a copy to the hall's gateway, hold it while the hall is claimed, or drop it
        (another copy reaches the owner; failing that, the device resends)."""
        with self._mutex:
            gw = self.halls.get(hall)
            if gw is not None:
                if from_hall or hall in self.confirming:
                    gw.ingest.submit(*item)
            elif hall in self._held:
                self._held[hall].append(item)
            elif self._claimable(hall, from_hall):
                self._held[hall] = [item]
                self._claims.put(hall)

    def _claimable(self, hall: str, from_hall: bool) -> bool:
        """Worth trying to claim: a shared copy of a hall that has no owner (as of the last
        look at the locks) and was not just found owned or unregistered."""
        if from_hall or self._stop.is_set():
            return False
        if shown_key(self.group, hall) in self._owned_keys:
            return False
        return self._not_before.get(hall, 0.0) <= time.monotonic()

    def _claim_loop(self) -> None:
        while (hall := self._claims.get()) is not None:
            try:
                gw = self._claim(hall)
            except Exception:  # noqa: BLE001 - a store hiccup: the held copies come again
                log.exception("claiming a hall failed", extra={"hall": hall})
                gw = None
            with self._mutex:
                held = self._held.pop(hall, [])
                if gw is None:
                    continue
                self.halls[hall] = gw
                for item in held:
                    gw.ingest.submit(*item)
            log.info("hall taken over", extra={"hall": hall, "worker": self.worker_id})

    def _claim(self, hall: str) -> HallGateway | None:
        """The hall's started gateway if we could take its lock, else None."""
        if not self._registered(hall):
            log.warning("events of an unregistered hall dropped", extra={"hall": hall})
            self._not_before[hall] = time.monotonic() + RETRY_CLAIM_S
            return None
        with self._mutex:
            subscribed = self._subscribe_hall(hall)
        if subscribed is None or not subscribed.wait(SUBACK_S):
            self._unsubscribe_hall(hall)
            return None
        if not self.locks.try_take(hall):
            self._unsubscribe_hall(hall)
            self._not_before[hall] = time.monotonic() + RETRY_CLAIM_S
            return None
        try:
            gw = HallGateway(self.hall_config(hall), self.engine, self.publish, self.subsystems)
            gw.start()
        except Exception:
            self.locks.give_back(hall)
            self._unsubscribe_hall(hall)
            raise
        return gw

    def _registered(self, hall: str) -> bool:
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(halls.c.id).where(halls.c.id == hall)).first()
        return found is not None

    def _watch(self) -> None:
        """Every WATCH_S: read which halls have owners (a dead worker's halls no longer do), and
        give every hall up when we can no longer serve them: the lock session died (the halls
        may already have new owners), or the central broker has been out of reach too long
        (our halls' devices may still reach the other workers)."""
        while not self._stop.wait(WATCH_S):
            try:
                self._owned_keys = self.locks.held()
            except sa.exc.SQLAlchemyError:
                self._give_up_all("hall lock session lost")
                continue
            if self._cut_off():
                self._give_up_all("central broker out of reach")

    def _cut_off(self) -> bool:
        away = self._away_since
        return away is not None and time.monotonic() - away > CUT_OFF_S and bool(self.owned())

    def _give_up_all(self, reason: str) -> None:
        log.error(f"{reason}; giving up every hall", extra={"worker": self.worker_id})
        with self._mutex:
            lost = list(self.halls.values())
            for hall in self.halls:
                self._unsubscribe_hall(hall)
            self.halls.clear()
        for gw in lost:
            gw.stop()  # what it already took is stored; unacked, the devices resend it
        try:
            self.locks.close()  # releases the locks if the session still lives
        except sa.exc.SQLAlchemyError:
            pass
        try:
            self.locks = HallLocks(self.engine, self.group, self.worker_id)
        except sa.exc.SQLAlchemyError as exc:
            log.error("store unreachable for hall locks", extra={"error": str(exc)[:200]})
