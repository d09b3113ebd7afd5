"""MQTT ingest: validate, store durably, run the hooks, then ack — in batches.

The MQTT callback only queues (topic, payload, receive time). One writer thread takes whatever
has queued up (at most `batch_max`), stores it in ONE transaction and, after the commit, publishes
the hooks' commands and then one ack per device listing the ids stored, found already stored
(a redelivery) or refused by a rule. Commands go first so that a device holding its ack also holds
the commands its event caused.

Hooks normally run without a savepoint each (savepoints cost more than the rest of an event);
when any hook refuses or fails, the batch's transaction is rolled back and the batch stored again
with a savepoint around each event's hooks, so only that event's effects are undone.

Rejected (never stored, never acked), each with a counted and logged reason:
  protocol.errors reasons  bad_topic, bad_payload, too_large, bad_field, unknown_kind,
                           unsupported_version (a newer major protocol version)
  unknown_device           the topic names a device not registered in this hall
  device_mismatch          the event contradicts the device's registration: a hello whose kind
                           or pairing differs, badge or clerk events from a rating box
  id_conflict              an id already stored with other content: not a redelivery but a second
                           sender under this device's topic (a cloned configuration) or a
                           reused id; acking it would make the sender drop an event never stored
A device publishing under ANOTHER registered device's topic is indistinguishable here from that
device; only the broker can tell, by checking the client's credentials against the topic (the
ACL written by `yuping provision`, see docs/gateway.md).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from gateway.boots import BootClocks
from gateway.hooks import Command, EventContext, EventDeferred, EventRefused, Hooks
from gateway.metrics import Metrics
from gateway.registry import hall_devices
from gateway.store.prepared import NewRows
from gateway.store.tables import devices, events, rejects
from protocol import codec, ids, messages, topics
from protocol.errors import ProtocolError

log = logging.getLogger("yuping.ingest")

Publish = Callable[[str, bytes], None]
ACK_IDS_MAX = 500  # protocol.messages ACK ids limit
STORE_ATTEMPTS = 3
EVENT_COLUMNS = ["hall", "device", "event_id", "kind", "body", "ts", "up", "at_ms", "received_ms"]
INSERT_EVENTS = NewRows(events, ["hall", "device", "event_id"], EVENT_COLUMNS, json_text=("body",))


@dataclass(slots=True)
class Inbound:
    topic: str
    payload: bytes
    received_ms: int
    mono: float  # time.monotonic() at receipt, for the ack latency


@dataclass(slots=True)
class BatchResult:
    """What a batch's transaction decided; published, counted and logged only after commit."""

    acks: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    acked_at: list[float] = field(default_factory=list)  # receipt times of acked events
    commands: list[Command] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)  # kinds of newly stored events
    duplicates: int = 0
    refused: list[dict] = field(default_factory=list)
    deferred: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    outbox: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class Pending:
    """A valid device event of a batch, before it is stored."""

    item: Inbound
    device: sa.Row
    kind: str
    body: dict
    at_ms: int
    key: tuple[str, str] = field(init=False)  # the dedupe key within the hall

    def __post_init__(self) -> None:
        self.key = (self.device.id, self.body["id"])

    def row(self, hall: str) -> tuple:
        """The events row, in EVENT_COLUMNS order; the body is stored as the device sent it."""
        body = self.body
        return (
            hall,
            self.device.id,
            body["id"],
            self.kind,
            self.item.payload.decode("utf-8"),
            body["ts"],
            body["up"],
            self.at_ms,
            self.item.received_ms,
        )


class Redo(Exception):
    """A hook refused or failed in the fast path: store the batch again, carefully."""


class Rejected(Exception):
    def __init__(self, reason: str, detail: str, device: str | None = None):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.device = device


def contradiction(device: sa.Row, kind: str, body: dict) -> str | None:
    """Why an event cannot come from this registered device, or None."""
    if kind == "hello" and body["kind"] != device.kind:
        return f"hello says {body['kind']}, registered as {device.kind}"
    if kind == "hello" and body.get("paired") and body["paired"] != device.paired:
        return f"hello pairs with {body['paired']}, registered with {device.paired}"
    if kind in ("badge", "clerk") and device.kind != "terminal":
        return f"a {device.kind} sends no {kind} events"
    return None


class Ingest:
    def __init__(
        self,
        engine: sa.Engine,
        hall: str,
        hooks: Hooks,
        metrics: Metrics,
        publish: Publish,
        batch_max: int = 500,
    ) -> None:
        self.engine = engine
        self.hall = hall
        self.hooks = hooks
        self.metrics = metrics
        self.publish = publish
        self.batch_max = batch_max
        self.clocks = BootClocks(hall)
        self.inbox: queue.Queue[Inbound | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def submit(self, topic: str, payload: bytes) -> None:
        """Called from the MQTT thread: queue only, never block on the store."""
        self.inbox.put(Inbound(topic, bytes(payload), int(time.time() * 1000), time.monotonic()))

    def submit_received(self, batch: list[tuple[str, bytes, int, float]]) -> None:
        """Events the receiver process took: (topic, payload, receipt ms, time.monotonic())."""
        put = self.inbox.put
        for topic, payload, received_ms, mono in batch:
            put(Inbound(topic, payload, received_ms, mono))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="yuping-ingest", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Store and ack what was queued, then end the writer thread."""
        if self._thread is not None:
            self.inbox.put(None)
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while True:
            first = self.inbox.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.batch_max:
                try:
                    item = self.inbox.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self.process(batch)
                    return
                batch.append(item)
            self.process(batch)

    def process(self, batch: list[Inbound]) -> None:
        """Store a batch in one transaction (retried on store errors), then publish."""
        for attempt in range(STORE_ATTEMPTS):
            try:
                result = self._store_either_way(batch)
                break
            except sa.exc.SQLAlchemyError as exc:
                self.metrics.store_errors.inc()
                log.error("store failed", extra={"attempt": attempt + 1, "error": str(exc)[:300]})
                time.sleep(0.2 * 2**attempt)
        else:
            # Nothing acked: every device keeps these events in its outbox and sends them again.
            log.error("batch dropped after store errors", extra={"messages": len(batch)})
            return
        self.clocks.saved()
        self.metrics.batch_size.observe(len(batch))
        self._publish(result)
        self._account(result)

    def _store_either_way(self, batch: list[Inbound]) -> BatchResult:
        try:
            return self._store(batch, careful=False)
        except Redo:
            return self._store(batch, careful=True)

    def _store(self, batch: list[Inbound], careful: bool) -> BatchResult:
        result = BatchResult()
        with self.engine.begin() as conn:
            registered = hall_devices(conn, self.hall)
            pending = []
            for item in batch:
                try:
                    event = self._check(conn, item, registered)
                except Rejected as exc:
                    self._reject(conn, item, exc, result)
                    continue
                if event is not None:
                    pending.append(event)
            fresh = self._insert_events(conn, pending)
            kept = self._stored_bodies(conn, {e.key for e in pending if e.key not in fresh})
            for event in pending:
                if event.key in fresh:
                    fresh.discard(event.key)  # a second copy in the same batch is a duplicate
                    kept[event.key] = event.body
                    self._event(conn, event, True, result, careful, registered)
                elif kept.get(event.key, event.body) != event.body:
                    self._reject(conn, event.item, _conflict(event), result)
                else:
                    self._event(conn, event, False, result, careful, registered)
            self.clocks.flush(conn)
        return result

    def _check(
        self, conn: sa.Connection, item: Inbound, registered: dict[str, sa.Row]
    ) -> Pending | None:
        """Validate a message; a device event comes back with its corrected time."""
        try:
            msg = codec.decode(item.topic, item.payload)
        except ProtocolError as exc:
            raise Rejected(exc.reason, str(exc), _topic_device(item.topic)) from exc
        where = msg.topic
        if where.hall != self.hall or where.direction not in ("evt", "state"):
            raise Rejected("bad_topic", f"not an event or state of hall {self.hall}")
        if where.is_gateway:
            return None  # our own retained birth/will
        device = registered.get(where.device)
        if device is None:
            raise Rejected(
                "unknown_device", f"device {where.device!r} is not registered", where.device
            )
        if where.direction == "state":
            self._state(conn, device, msg.body, item.received_ms)
            return None
        problem = contradiction(device, msg.kind, msg.body)
        if problem:
            raise Rejected("device_mismatch", problem, where.device)
        body = msg.body
        boot, _seq = ids.split(body["id"])
        at_ms = self.clocks.correct(conn, device.id, boot, body["ts"], body["up"], item.received_ms)
        return Pending(item, device, msg.kind, body, at_ms)

    def _insert_events(self, conn: sa.Connection, pending: list[Pending]) -> set[tuple[str, str]]:
        """Store the batch's events not stored before; returns their keys.

        One multi-row INSERT … ON CONFLICT DO NOTHING RETURNING: the dedupe key skips an event
        stored before (a redelivery), a second copy in this batch, or one a concurrent writer
        stored first, and RETURNING names the rows that are new, with no lookup beforehand."""
        if not pending:
            return set()
        inserted = INSERT_EVENTS.insert(conn, [event.row(self.hall) for event in pending])
        return {(device, event_id) for _hall, device, event_id in inserted}

    def _stored_bodies(
        self, conn: sa.Connection, keys: set[tuple[str, str]]
    ) -> dict[tuple[str, str], dict]:
        """The stored bodies of events a batch holds again (redeliveries are rare: one query)."""
        if not keys:
            return {}
        key = sa.tuple_(events.c.device, events.c.event_id)
        rows = conn.execute(
            sa.select(events.c.device, events.c.event_id, events.c.body).where(
                events.c.hall == self.hall, key.in_(sorted(keys))
            )
        )
        return {(row.device, row.event_id): row.body for row in rows}

    def _event(
        self,
        conn: sa.Connection,
        event: Pending,
        fresh: bool,
        result: BatchResult,
        careful: bool,
        registered: dict[str, sa.Row],
    ) -> None:
        device, body = event.device, event.body
        result.acks[device.id].append(body["id"])
        result.acked_at.append(event.item.mono)
        if not fresh:
            result.duplicates += 1
            return
        ctx = EventContext(
            conn,
            self.hall,
            device.id,
            device.window,
            event.kind,
            body,
            event.at_ms,
            event.item.received_ms,
            devices=registered,
        )
        if careful:
            self._dispatch_carefully(conn, ctx, result)
        else:
            self._dispatch_fast(ctx, result)

    def _dispatch_fast(self, ctx: EventContext, result: BatchResult) -> None:
        try:
            self.hooks.dispatch(ctx)
        except Exception as exc:  # noqa: BLE001 - refusals and failures take the careful path
            raise Redo() from exc
        self._accepted(ctx, result)

    def _dispatch_carefully(
        self, conn: sa.Connection, ctx: EventContext, result: BatchResult
    ) -> None:
        try:
            with conn.begin_nested():
                self.hooks.dispatch(ctx)
        except EventDeferred as exc:
            self._deferred(conn, ctx, exc, result)
            return
        except EventRefused as exc:
            self._refused(conn, ctx, exc.reason, exc.detail, result)
            result.commands.extend(exc.reply)
            return
        except Exception as exc:  # noqa: BLE001 - a hook's bug must not stop the ingest
            log.exception("hook failed", extra={"device": ctx.device, "kind": ctx.kind})
            self._refused(conn, ctx, "hook_error", f"{type(exc).__name__}: {exc}", result)
            return
        self._accepted(ctx, result)

    def _deferred(
        self, conn: sa.Connection, ctx: EventContext, exc: EventDeferred, result: BatchResult
    ) -> None:
        """Neither stored nor acked: the device sends it again from its outbox."""
        conn.execute(
            events.delete().where(
                events.c.hall == self.hall,
                events.c.device == ctx.device,
                events.c.event_id == ctx.body["id"],
            )
        )
        result.acks[ctx.device].remove(ctx.body["id"])
        result.acked_at.pop()  # _event appended this event's receipt time last
        result.deferred.append(
            {"device": ctx.device, "kind": ctx.kind, "id": ctx.body["id"], "reason": exc.reason}
        )

    def _accepted(self, ctx: EventContext, result: BatchResult) -> None:
        result.stored.append(ctx.kind)
        result.commands.extend(ctx.commands)
        if ctx.kind == "heartbeat":
            result.outbox[ctx.device] = ctx.body["outbox"]

    def _refused(
        self, conn: sa.Connection, ctx: EventContext, reason: str, detail: str, result: BatchResult
    ) -> None:
        result.refused.append(
            {"device": ctx.device, "kind": ctx.kind, "id": ctx.body["id"], "reason": reason}
        )
        conn.execute(
            events.update()
            .where(
                events.c.hall == self.hall,
                events.c.device == ctx.device,
                events.c.event_id == ctx.body["id"],
            )
            .values(refused=reason[:32], refused_detail=detail[:200])
        )

    def _state(self, conn: sa.Connection, device: sa.Row, body: dict, received_ms: int) -> None:
        values: dict = {"online": body["online"], "last_seen_ms": received_ms}
        if body.get("fw"):
            values["fw"] = body["fw"]
        conn.execute(
            devices.update()
            .where(devices.c.hall == self.hall, devices.c.id == device.id)
            .values(**values)
        )

    def _reject(
        self, conn: sa.Connection, item: Inbound, exc: Rejected, result: BatchResult
    ) -> None:
        result.rejected.append(
            {"reason": exc.reason, "detail": exc.detail[:200], "topic": item.topic[:200]}
        )
        conn.execute(
            rejects.insert().values(
                hall=self.hall,
                device=exc.device,
                topic=item.topic[:200],
                reason=exc.reason[:32],
                detail=exc.detail[:200],
                received_ms=item.received_ms,
            )
        )

    def _publish(self, result: BatchResult) -> None:
        now = int(time.time() * 1000)
        for command in result.commands:
            self._send(command, now)
        for device, acked in result.acks.items():
            for start in range(0, len(acked), ACK_IDS_MAX):
                chunk = acked[start : start + ACK_IDS_MAX]
                self.publish(topics.ack(self.hall, device), codec.encode(messages.make_ack(chunk)))
        done = time.monotonic()
        for mono in result.acked_at:
            self.metrics.ack_latency.observe(done - mono)

    def _account(self, result: BatchResult) -> None:
        """Metrics and logs of a committed batch."""
        for kind, count in Counter(result.stored).items():
            self.metrics.events.labels(kind).inc(count)
        self.metrics.duplicates.inc(result.duplicates)
        for refusal in result.refused:
            self.metrics.refused.labels(refusal["reason"]).inc()
            log.info("event refused", extra=refusal)
        for deferral in result.deferred:
            log.info("event deferred until the device resends it", extra=deferral)
        for reject in result.rejected:
            self.metrics.rejects.labels(reject["reason"]).inc()
            log.warning("message rejected", extra=reject)
        for device, depth in result.outbox.items():
            self.metrics.outbox.labels(device).set(depth)

    def _send(self, command: Command, now: int) -> None:
        try:
            body = messages.make_command(command.kind, now, **command.fields)
            payload = codec.encode_command(command.kind, body)
            topic = topics.command(self.hall, command.device, command.kind)
        except ProtocolError:
            log.exception("invalid command not sent", extra={"device": command.device})
            return
        self.publish(topic, payload)


def _conflict(event: Pending) -> Rejected:
    """The same id with another body: not a redelivery. A second device publishing under this
    one's id (a cloned configuration, a device under another's topic) or a device that reused
    an id: acking it would make its sender drop an event never stored."""
    return Rejected(
        "id_conflict",
        f"event {event.body['id']} of {event.device.id} was stored with other content",
        event.device.id,
    )


def _topic_device(topic: str) -> str | None:
    parts = topic.split("/")
    return parts[3][:32] if len(parts) > 3 else None
