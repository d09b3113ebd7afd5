"""The queue engine: a pure state machine over audited actions.

Every public method checks the request, raises a `QueueError` if it is impossible (changing
nothing), else resolves it into an `Action` (who, when, which ticket, and every decision made,
such as the number drawn or the ticket call-next chose) and applies it. `apply()` is the only
mutator, so replaying the stored actions of a day rebuilds exactly the same state: that is how the
queue survives a gateway restart and how a day is audited.

Time is the caller's (ms since epoch, gateway clock). It never runs backwards inside the engine:
an action dated before the previous one is applied at the previous one's time.
"""

from __future__ import annotations

import heapq
import itertools
import secrets
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gateway.queue import errors as e
from gateway.queue.announce import call_lines
from gateway.queue.config import QueueConfig, Service, Window
from gateway.queue.picking import NORMAL, PRIORITY, Entry, choose
from protocol.levels import PRIORITY_KINDS, TICKET_STATE_LABELS

WAITING, CALLED, PARKED, MISSED, DONE, EXPIRED = (
    "waiting", "called", "parked", "missed", "done", "expired"
)  # fmt: skip
CLOSED = (DONE, EXPIRED)
SOURCES = ("kiosk", "guide", "appointment")
ACTIVE_WINDOW_MS = 60 * 60 * 1000  # a window that acted this recently counts as open
RECENT_DURATIONS = 20  # service times kept per service for the wait estimate
MINUTE = 60 * 1000
DEFAULT_SERVICE_MIN = 6.0  # for a service no longer in the set-up (replaying an older day)
MAX_SEQ = 9999  # a ticket is a letter and at most 4 digits (what the terminal can say)


@dataclass
class Ticket:
    number: str  # "A012"
    service: str
    day: str  # business day, "2026-11-27"
    token: str  # secret part of the live status URL
    source: str  # kiosk, guide or appointment
    issued_ms: int
    key_ms: int  # queue time (see picking)
    priority: str | None = None  # one of protocol.levels.PRIORITY_KINDS
    appointment_ms: int | None = None
    state: str = WAITING
    window: str | None = None  # where it is (or was last) called or parked
    pinned: str | None = None  # transferred to this window: only it calls the ticket
    origin_service: str | None = None  # the service it was issued for, if moved since
    helper: str | None = None  # the 帮办 staff it was handed to
    called_ms: int | None = None
    done_ms: int | None = None
    calls: int = 0
    recalls: int = 0
    skips: int = 0
    matter: str | None = None  # 事项 code
    case_no: str | None = None  # 办件编号
    mailing: dict[str, Any] | None = None
    version: int = 0
    order: int = 0

    @property
    def cls(self) -> int:
        return PRIORITY if self.priority else NORMAL

    @property
    def queue(self) -> str:
        """The queue it waits in: its service's, or the window's it was transferred to."""
        return f"@{self.pinned}" if self.pinned else self.service


@dataclass(frozen=True)
class Action:
    kind: str
    at_ms: int
    by: str  # staff number, "kiosk", a guide's staff number …
    window: str | None = None
    ticket: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Announcement:
    ticket: str
    window: str
    window_label: str
    display: str  # "A012 请到3号窗口"
    voice: str  # "请A012号到3号窗口办理"
    at_ms: int


@dataclass
class Outcome:
    action: Action
    ticket: Ticket | None
    announcement: Announcement | None = None
    ahead: int | None = None  # for an issued ticket: people before it
    freed_window: str | None = None  # a window the action left without a ticket


@dataclass
class WindowState:
    current: str | None = None  # ticket number at the window (called, being served)
    priority_run: int = 0  # priority tickets called in a row (fairness rule 2)
    active_ms: int = 0


class QueueEngine:
    def __init__(self, config: QueueConfig):
        self.config = config
        self.day: str | None = None
        self._day_span = (0, -1)
        self._last_ms = 0
        self.tickets: dict[str, Ticket] = {}
        self._by_token: dict[str, str] = {}
        self._numbers: dict[str, int] = {}
        self._heaps: dict[tuple[str, int], list[Entry]] = {}
        self._waiting: dict[tuple[str, int], set[str]] = {}
        self._windows: dict[str, WindowState] = {}
        self._durations: dict[str, deque[int]] = {}
        self._order = itertools.count()
        self.recent_calls: deque[Announcement] = deque(maxlen=config.recent_calls)

    # ---- tickets in -------------------------------------------------------------------

    def issue(
        self,
        service_id: str,
        source: str,
        by: str,
        at_ms: int,
        priority: str | None = None,
        appointment_ms: int | None = None,
        matter: str | None = None,
    ) -> Outcome:
        """Draw a ticket. Priority tickets only from a guide, who checks the citizen's claim."""
        at = self._now(at_ms)
        service = self.config.service(service_id)
        self._check_source(source, priority, appointment_ms)
        seq = self._numbers.get(service.id, 0) + 1
        if seq > MAX_SEQ:
            raise e.NotAllowed(f"{service.name}今日号票已发完")
        data = {
            "service": service.id,
            "number": _number(service, seq),
            "seq": seq,
            "token": secrets.token_urlsafe(12),
            "source": source,
            "priority": priority,
            "appointment_ms": appointment_ms,
            "key_ms": self._queue_time(at, appointment_ms),
            "matter": matter,
        }
        return self.apply(Action("issue", at, by, None, str(data["number"]), data))

    def _check_source(self, source: str, priority: str | None, appointment_ms: int | None) -> None:
        if source not in SOURCES:
            raise e.BadInput(f"取号来源须为 {', '.join(SOURCES)}")
        if priority is not None and priority not in PRIORITY_KINDS:
            raise e.BadInput(f"优先类别须为 {', '.join(PRIORITY_KINDS)}")
        if priority is not None and source != "guide":
            raise e.NotAllowed("优先号须由引导员核验后发放")
        if (source == "appointment") != (appointment_ms is not None):
            raise e.BadInput("预约签到须带预约时间，其他取号不带")
        if appointment_ms is not None and self.business_day(appointment_ms)[0] != self.day:
            raise e.NotAllowed("预约不是今天的，不能签到")

    def _queue_time(self, at: int, appointment_ms: int | None) -> int:
        """An appointment kept (checked in before its slot ends its grace) waits from its slot."""
        grace = int(self.config.appointment_grace_min * MINUTE)
        if appointment_ms is not None and at <= appointment_ms + grace:
            return appointment_ms
        return at

    # ---- window actions ------------------------------------------------------------------

    def call_next(self, window_id: str | None, clerk: str | None, at_ms: int) -> Outcome:
        at = self._now(at_ms)
        window, state = self._free_window(window_id, clerk)
        entry = self._pick(window, state, at)
        if entry is None:
            raise e.NothingWaiting("当前无人等候")
        return self.apply(Action("call", at, _who(clerk), window.id, entry.number, {"how": "next"}))

    def call_number(
        self, window_id: str | None, clerk: str | None, number: str, at_ms: int
    ) -> Outcome:
        """Call a given number: windows allowed to pick, a 过号 citizen back, a transfer here."""
        at = self._now(at_ms)
        window, _state = self._free_window(window_id, clerk)
        ticket = self.ticket(number)
        if ticket.state not in (WAITING, MISSED):
            raise e.WrongState(f"{number} 当前{_state_label(ticket)}，不能叫号")
        if ticket.pinned not in (None, window.id):
            raise e.NotAllowed(f"{number} 已转到其他窗口")
        if ticket.pinned is None and ticket.service not in window.services:
            raise e.NotAllowed(f"{window.label}不办理{self._service_name(ticket)}")
        if not (window.may_pick or ticket.state == MISSED or ticket.pinned == window.id):
            raise e.NotAllowed(f"{window.label}不能选号，请按顺序叫号")
        return self.apply(Action("call", at, _who(clerk), window.id, number, {"how": "number"}))

    def recall(self, window_id: str | None, clerk: str | None, at_ms: int) -> Outcome:
        at = self._now(at_ms)
        window, ticket = self._busy_window(window_id, clerk)
        return self.apply(Action("recall", at, _who(clerk), window.id, ticket.number))

    def no_show(self, window_id: str | None, clerk: str | None, at_ms: int) -> Outcome:
        """过号: the ticket comes back after `no_show_back` others, `no_show_returns` times."""
        at = self._now(at_ms)
        window, ticket = self._busy_window(window_id, clerk)
        data: dict[str, Any] = {"returned": ticket.skips < self.config.no_show_returns}
        if data["returned"]:
            data["key_ms"] = self._key_after(ticket, self.config.no_show_back, at)
        return self.apply(Action("no_show", at, _who(clerk), window.id, ticket.number, data))

    def complete(
        self,
        window_id: str | None,
        clerk: str | None,
        at_ms: int,
        matter: str | None = None,
        case_no: str | None = None,
    ) -> Outcome:
        """办结: frees the window; the caller opens the rating window on the window's device."""
        at = self._now(at_ms)
        window, ticket = self._busy_window(window_id, clerk)
        data = {"matter": matter, "case_no": case_no}
        return self.apply(Action("complete", at, _who(clerk), window.id, ticket.number, data))

    def park(self, window_id: str | None, clerk: str | None, at_ms: int) -> Outcome:
        """暂挂: the citizen steps away (fetch a paper, copy an ID); the window calls others."""
        at = self._now(at_ms)
        window, ticket = self._busy_window(window_id, clerk)
        return self.apply(Action("park", at, _who(clerk), window.id, ticket.number))

    def resume(self, window_id: str | None, clerk: str | None, number: str, at_ms: int) -> Outcome:
        at = self._now(at_ms)
        window, _state = self._free_window(window_id, clerk)
        ticket = self.ticket(number)
        if ticket.state != PARKED:
            raise e.WrongState(f"{number} 当前{_state_label(ticket)}，不是暂挂")
        if ticket.window != window.id and ticket.service not in window.services:
            raise e.NotAllowed(f"{window.label}不办理{self._service_name(ticket)}")
        return self.apply(Action("call", at, _who(clerk), window.id, number, {"how": "resume"}))

    # ---- moving tickets --------------------------------------------------------------------

    def transfer(
        self,
        number: str,
        by: str,
        at_ms: int,
        to_service: str | None = None,
        to_window: str | None = None,
    ) -> Outcome:
        """Move a ticket to another service or window; it keeps its queue time."""
        at = self._now(at_ms)
        ticket = self._movable(number, by)
        if (to_service is None) == (to_window is None):
            raise e.BadInput("转移须指定一个业务或一个窗口")
        if to_service is not None:
            self.config.service(to_service)
            if to_service == ticket.service and ticket.pinned is None:
                raise e.BadInput(f"{number} 已在{self._service_name(ticket)}")
            data = {"service": to_service, "pinned": None}
        else:
            target = self.config.window(to_window)
            if ticket.pinned == target.id or (
                ticket.state == CALLED and ticket.window == target.id
            ):
                raise e.BadInput(f"{number} 已在{target.label}")
            data = {"service": ticket.service, "pinned": target.id}
        return self.apply(Action("transfer", at, by, ticket.window, number, data))

    def hand_to_helper(
        self, number: str, by: str, at_ms: int, helper: str | None = None
    ) -> Outcome:
        """全程帮办: the ticket joins the 帮办代办 queue, keeping its queue time."""
        at = self._now(at_ms)
        ticket = self._movable(number, by)
        service = self.config.helper_service
        if service is None:
            raise e.NotAllowed("本大厅未设帮办代办")
        if ticket.service == service:
            raise e.BadInput(f"{number} 已在帮办代办")
        data = {"service": service, "pinned": None, "helper": helper}
        return self.apply(Action("helper", at, by, ticket.window, number, data))

    def record_mailing(self, number: str, by: str, at_ms: int, mailing: dict[str, Any]) -> Outcome:
        """结果免费寄: the choice checked by `mailing.check` (it knows the matter catalogue)."""
        at = self._now(at_ms)
        ticket = self.ticket(number)
        if ticket.state not in (CALLED, DONE):
            raise e.WrongState(f"{number} 当前{_state_label(ticket)}，办理时或办结后才能登记寄送")
        return self.apply(Action("mailing", at, _who(by), ticket.window, number, dict(mailing)))

    def record_notice(
        self, number: str | None, matter: str, by: str, window_id: str | None, at_ms: int
    ) -> Outcome:
        """一次性书面告知: audit that the notice for a matter was given (to a ticket, if any)."""
        at = self._now(at_ms)
        if number is not None:
            self.ticket(number)
        if window_id is not None:
            self.config.window(window_id)
        data = {"matter": matter}
        return self.apply(Action("notice", at, _who(by), window_id, number, data))

    # ---- reading ------------------------------------------------------------------------

    def advance(self, at_ms: int) -> None:
        """Let time pass without an action: at a new business day what is left open expires.

        Deterministic, so a replay (which rolls over at the day's first action) agrees."""
        self._now(at_ms)

    def ticket(self, number: str) -> Ticket:
        try:
            return self.tickets[number]
        except KeyError:
            raise e.UnknownTicket(f"今天没有 {number} 号") from None

    def by_token(self, token: str) -> Ticket | None:
        number = self._by_token.get(token)
        return self.tickets[number] if number else None

    def current(self, window_id: str) -> Ticket | None:
        state = self._windows.get(window_id)
        return self.tickets[state.current] if state and state.current else None

    def waiting_count(self, service_id: str | None = None) -> int:
        return sum(
            len(numbers)
            for (queue, _cls), numbers in self._waiting.items()
            if service_id is None or queue == service_id
        )

    def position(self, ticket: Ticket) -> int:
        """People called before this ticket in its queue (priority ones first, by queue time)."""
        if ticket.state != WAITING:
            return 0
        mine = (ticket.cls, ticket.key_ms, ticket.order)
        ahead = 0
        for cls in (PRIORITY, NORMAL):
            for number in self._waiting.get((ticket.queue, cls), ()):
                other = self.tickets[number]
                ahead += (other.cls, other.key_ms, other.order) < mine
        return ahead

    def estimated_wait_ms(self, ticket: Ticket, at_ms: int) -> int:
        """From the recent service times of its service and how many windows serve it now."""
        ahead = self.position(ticket)
        recent = self._durations.get(ticket.service)
        if recent:
            per_ticket = sum(recent) / len(recent)
        else:
            service = self.config.services.get(ticket.service)
            per_ticket = (service.avg_service_min if service else DEFAULT_SERVICE_MIN) * MINUTE
        return int((ahead + 1) * per_ticket / self._open_windows(ticket, at_ms))

    def _open_windows(self, ticket: Ticket, at_ms: int) -> int:
        if ticket.pinned:
            return 1
        return max(
            1,
            sum(
                1
                for w in self.config.windows.values()
                if ticket.service in w.services
                and at_ms - self._windows.get(w.id, WindowState()).active_ms < ACTIVE_WINDOW_MS
            ),
        )

    # ---- applying ----------------------------------------------------------------------

    def apply(self, action: Action) -> Outcome:
        """Apply one resolved action (live or replayed). Only called with checked actions."""
        self._roll(action.at_ms)
        self._last_ms = max(self._last_ms, action.at_ms)
        if action.window is not None:
            self._win(action.window).active_ms = action.at_ms
        return _APPLY[action.kind](self, action)

    def replay(self, actions: list[Action]) -> None:
        for action in actions:
            self.apply(action)

    def _apply_issue(self, a: Action) -> Outcome:
        d = a.data
        ticket = Ticket(
            number=d["number"],
            service=d["service"],
            day=self.day or "",
            token=d["token"],
            source=d["source"],
            issued_ms=a.at_ms,
            key_ms=d["key_ms"],
            priority=d.get("priority"),
            appointment_ms=d.get("appointment_ms"),
            matter=d.get("matter"),
        )
        self._numbers[ticket.service] = d["seq"]
        self.tickets[ticket.number] = ticket
        self._by_token[ticket.token] = ticket.number
        self._enqueue(ticket, ticket.key_ms)
        return Outcome(a, ticket, ahead=self.position(ticket))

    def _apply_call(self, a: Action) -> Outcome:
        ticket = self.tickets[a.ticket or ""]
        assert a.window is not None
        if ticket.state == WAITING:
            self._dequeue(ticket)
        state = self._win(a.window)
        if a.data.get("how") == "next":
            state.priority_run = state.priority_run + 1 if ticket.priority else 0
        state.current = ticket.number
        ticket.state, ticket.window, ticket.pinned = CALLED, a.window, None
        ticket.called_ms = a.at_ms
        ticket.calls += 1
        return Outcome(a, ticket, announcement=self._announce(ticket, a))

    def _apply_recall(self, a: Action) -> Outcome:
        ticket = self.tickets[a.ticket or ""]
        ticket.recalls += 1
        return Outcome(a, ticket, announcement=self._announce(ticket, a))

    def _apply_no_show(self, a: Action) -> Outcome:
        ticket = self._leave_window(a)
        ticket.skips += 1
        if a.data["returned"]:
            self._enqueue(ticket, a.data["key_ms"])
        else:
            ticket.state = MISSED
        return Outcome(a, ticket, freed_window=a.window)

    def _apply_complete(self, a: Action) -> Outcome:
        ticket = self._leave_window(a)
        ticket.state, ticket.done_ms = DONE, a.at_ms
        ticket.matter = a.data.get("matter") or ticket.matter
        ticket.case_no = a.data.get("case_no") or ticket.case_no
        served = a.at_ms - (ticket.called_ms or a.at_ms)
        self._durations.setdefault(ticket.service, deque(maxlen=RECENT_DURATIONS)).append(served)
        return Outcome(a, ticket, freed_window=a.window)

    def _apply_park(self, a: Action) -> Outcome:
        ticket = self._leave_window(a)
        ticket.state = PARKED
        return Outcome(a, ticket, freed_window=a.window)

    def _apply_move(self, a: Action) -> Outcome:
        ticket = self.tickets[a.ticket or ""]
        freed = None
        if ticket.state == WAITING:
            self._dequeue(ticket)
        elif ticket.state == CALLED:
            freed = ticket.window
            self._leave_window(a)
        if a.data["service"] != ticket.service:
            ticket.origin_service = ticket.origin_service or ticket.service
        ticket.service, ticket.pinned = a.data["service"], a.data["pinned"]
        if a.kind == "helper":
            ticket.helper = a.data.get("helper")
        self._enqueue(ticket, ticket.key_ms)
        return Outcome(a, ticket, freed_window=freed)

    def _apply_mailing(self, a: Action) -> Outcome:
        ticket = self.tickets[a.ticket or ""]
        ticket.mailing = dict(a.data)
        return Outcome(a, ticket)

    def _apply_notice(self, a: Action) -> Outcome:
        ticket = self.tickets.get(a.ticket or "")
        if ticket is not None:
            ticket.matter = a.data["matter"]
        return Outcome(a, ticket)

    # ---- helpers ----------------------------------------------------------------------

    def _now(self, at_ms: int) -> int:
        at = max(int(at_ms), self._last_ms)
        self._roll(at)
        return at

    def business_day(self, at_ms: int) -> tuple[str, int, int]:
        local = datetime.fromtimestamp(at_ms / 1000, self.config.tz)
        start = local.replace(hour=self.config.day_starts_at, minute=0, second=0, microsecond=0)
        if local < start:
            start -= timedelta(days=1)
        end = start + timedelta(days=1)
        return start.date().isoformat(), int(start.timestamp() * 1000), int(end.timestamp() * 1000)

    def _roll(self, at_ms: int) -> None:
        """A new business day: numbering restarts; tickets still open expire."""
        if self._day_span[0] <= at_ms < self._day_span[1]:
            return
        day, start, end = self.business_day(at_ms)
        self._day_span = (start, end)
        if day == self.day:
            return
        self.day = day
        for ticket in self.tickets.values():
            if ticket.state not in CLOSED:
                ticket.state = EXPIRED
        self.tickets, self._by_token, self._numbers = {}, {}, {}
        self._heaps, self._waiting, self._windows = {}, {}, {}

    def _win(self, window_id: str) -> WindowState:
        state = self._windows.get(window_id)
        if state is None:
            state = self._windows[window_id] = WindowState()
        return state

    def _staffed(self, window_id: str | None, clerk: str | None) -> tuple[Window, WindowState]:
        window = self.config.window(window_id)
        if not clerk:
            raise e.NoClerk(f"{window.label}无人登录，请先刷工牌上岗")
        return window, self._windows.get(window.id) or WindowState()

    def _free_window(self, window_id: str | None, clerk: str | None) -> tuple[Window, WindowState]:
        window, state = self._staffed(window_id, clerk)
        if state.current is not None:
            raise e.WindowBusy(f"请先办结、过号或暂挂当前的 {state.current}")
        return window, state

    def _busy_window(self, window_id: str | None, clerk: str | None) -> tuple[Window, Ticket]:
        window, state = self._staffed(window_id, clerk)
        if state.current is None:
            raise e.WindowIdle(f"{window.label}当前没有在办的号")
        return window, self.tickets[state.current]

    def _movable(self, number: str, by: str) -> Ticket:
        if not by:
            raise e.NoClerk("须由登录的工作人员操作")
        ticket = self.ticket(number)
        if ticket.state in CLOSED:
            raise e.TicketClosed(f"{number} {_state_label(ticket)}，不能转移")
        if ticket.state in (MISSED, PARKED):
            raise e.WrongState(f"{number} {_state_label(ticket)}，请先叫号或恢复")
        return ticket

    def _leave_window(self, a: Action) -> Ticket:
        ticket = self.tickets[a.ticket or ""]
        if ticket.window is not None and ticket.state == CALLED:
            self._win(ticket.window).current = None
        return ticket

    def _enqueue(self, ticket: Ticket, key_ms: int) -> None:
        ticket.state, ticket.key_ms = WAITING, key_ms
        ticket.version += 1
        ticket.order = next(self._order)
        slot = (ticket.queue, ticket.cls)
        entry = Entry(key_ms, ticket.order, ticket.number, ticket.version)
        heapq.heappush(self._heaps.setdefault(slot, []), entry)
        self._waiting.setdefault(slot, set()).add(ticket.number)

    def _dequeue(self, ticket: Ticket) -> None:
        self._waiting[(ticket.queue, ticket.cls)].discard(ticket.number)
        ticket.version += 1  # its heap entry is now stale; dropped when it reaches the top

    def _head(self, slot: tuple[str, int]) -> Entry | None:
        heap = self._heaps.get(slot)
        while heap:
            entry = heap[0]
            ticket = self.tickets.get(entry.number)
            if ticket and ticket.version == entry.version and ticket.state == WAITING:
                return entry
            heapq.heappop(heap)
        return None

    def _best(self, window: Window, cls: int) -> Entry | None:
        heads = [self._head((f"@{window.id}", cls))]
        heads += [self._head((service, cls)) for service in window.services]
        found = [h for h in heads if h is not None]
        return min(found) if found else None

    def _pick(self, window: Window, state: WindowState, at: int) -> Entry | None:
        return choose(
            normal=self._best(window, NORMAL),
            priority=self._best(window, PRIORITY),
            priority_run=state.priority_run,
            at_ms=at,
            run_limit=self.config.priority_run,
            max_wait_ms=int(self.config.max_wait_min * MINUTE),
        )

    def _key_after(self, ticket: Ticket, back: int, at: int) -> int:
        """Queue time that places a skipped ticket after the next `back` in its queue."""
        slot = (ticket.queue, ticket.cls)
        keys = heapq.nsmallest(back, (self.tickets[n].key_ms for n in self._waiting.get(slot, ())))
        return keys[-1] if keys else min(ticket.key_ms, at)

    def _announce(self, ticket: Ticket, a: Action) -> Announcement:
        assert a.window is not None
        label = self.config.window(a.window).label if a.window in self.config.windows else a.window
        display, voice = call_lines(ticket.number, label)
        announcement = Announcement(ticket.number, a.window, label, display, voice, a.at_ms)
        self.recent_calls.append(announcement)
        return announcement

    def _service_name(self, ticket: Ticket) -> str:
        service = self.config.services.get(ticket.service)
        return service.name if service else ticket.service


_APPLY = {
    "issue": QueueEngine._apply_issue,
    "call": QueueEngine._apply_call,
    "recall": QueueEngine._apply_recall,
    "no_show": QueueEngine._apply_no_show,
    "complete": QueueEngine._apply_complete,
    "park": QueueEngine._apply_park,
    "transfer": QueueEngine._apply_move,
    "helper": QueueEngine._apply_move,
    "mailing": QueueEngine._apply_mailing,
    "notice": QueueEngine._apply_notice,
}
ACTION_KINDS = tuple(_APPLY)


def _number(service: Service, seq: int) -> str:
    return f"{service.prefix}{seq:03d}"


def _who(by: str | None) -> str:
    return by or ""


def _state_label(ticket: Ticket) -> str:
    return TICKET_STATE_LABELS[ticket.state]
