"""The window terminal's behaviour: one state machine, fed keys, badge taps, gateway commands and
clock ticks, answering with a View, LED patterns, spoken phrases and durable events.

No I/O of its own and no sleeps: the caller owns the threads and the clock, so tests drive it
state by state with a hand-set clock.

Modes: IDLE (nobody logged in) → SERVING (the electronic work badge) → RATING (a window is open)
→ REASONS (after 不满意/非常不满意) → THANKS → SERVING; SERVING → PAUSE_SELECT → PAUSED → SERVING.

A bad rating is stored the moment its key is pressed, held back from publishing while the citizen
picks a reason, then released with the reason (or without, on skip, timeout or power loss): one
rating event, never lost, never sent twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from firmware.terminal import phrases
from firmware.terminal import view as v
from firmware.terminal.config import CLERK_KEYS, RATING_KEYS
from firmware.terminal.outbox import Outbox
from protocol.badges import badge_hash
from protocol.levels import BAD_REASONS, LEVELS, PAUSE_REASONS, is_bad
from protocol.ratelink import rate_link, rate_token

log = logging.getLogger(__name__)


# Screen texts that are not levels or reasons (those live in protocol.levels).
TEXT_CHECKING = "正在验证工牌…"
TEXT_UNKNOWN_BADGE = "工牌未登记，请联系管理员"
TEXT_UNKNOWN_OFFLINE = "离线：工牌不在本机名单"
TEXT_LOGIN_FIRST = "请先刷工牌上岗"
TEXT_RESUME_FIRST = "暂停中，请先按恢复"


class Panel(Protocol):
    """What the citizen and clerk see and hear."""

    def show(self, view: v.View) -> None: ...

    def say(self, text: str, interrupt: bool = False) -> None: ...

    def leds(self, lit: Sequence[int], blink: bool = False) -> None: ...


class Clock(Protocol):
    def monotonic(self) -> float: ...


@dataclass(frozen=True)
class Settings:
    hall: str
    device: str
    fw: str
    hall_name: str = ""
    window_label: str = ""
    rating_window_s: int = 15
    reasons_s: int = 10
    rate_url: str | None = None
    heartbeat_s: float = 60.0
    message_s: float = 4.0
    thanks_s: float = 3.0
    pause_select_s: float = 15.0
    login_wait_s: float = 5.0
    stray_batch_s: float = 30.0


@dataclass(frozen=True)
class Window:
    rw: str
    deadline: float
    ticket: str | None
    qr: bool = False


class Machine:
    """The terminal's state. Inputs: key(), badge(), command(), set_online(), connected(), tick().
    Outputs: the panel (screen, voice, LEDs) and events in the outbox; `notify()` after each event
    tells the link there is something to publish."""

    def __init__(
        self,
        outbox: Outbox,
        panel: Panel,
        clock: Clock,
        settings: Settings,
        notify: Callable[[], None] | None = None,
    ):
        self.outbox = outbox
        self.panel = panel
        self.clock = clock
        self.settings = settings
        self._notify = notify or (lambda: None)
        self.started = clock.monotonic()
        self.mode = v.IDLE
        self.clerk: v.Clerk | None = None
        self.badge_uid: str | None = None
        self.pending_login: tuple[str, float] | None = None
        self.ticket: str | None = None
        self.window: Window | None = None
        self.held_rating: tuple[str, float] | None = None  # (event id, reasons deadline)
        self.thanks_until = 0.0
        self.pause_select_until = 0.0
        self.pause_reason: str | None = None
        self.message: tuple[str, float] | None = None
        self.online = False
        self.stray = 0
        self.stray_since = 0.0
        self.last_heartbeat = self.started
        self.last_rated_ticket: str | None = None
        self.pushed: dict[str, Any] = {}
        self._shown: v.View | None = None

    # --- start ---------------------------------------------------------------------------

    def start(self) -> None:
        """Recover what the last run left: a held rating, an open window, the session."""
        self.pushed = self.outbox.recall("config") or {}
        self.outbox.release_all()
        left_open = self.outbox.open_window()
        if left_open:
            self._emit("unrated", rw=left_open["rw"], reason="power_loss")
        self._restore_session(self.outbox.recall("session"))
        self._refresh()

    def _restore_session(self, saved: dict[str, Any] | None) -> None:
        if saved:
            self.clerk = v.Clerk(saved["name"], saved["staff_no"])
            self.badge_uid = saved["uid"]
            self.mode = v.SERVING

    # --- inputs --------------------------------------------------------------------------

    def key(self, name: str) -> None:
        """A key went down."""
        if name in RATING_KEYS:
            self._rating_key(RATING_KEYS.index(name))
        elif name in CLERK_KEYS:
            getattr(self, "_key_" + name)()
        else:
            raise ValueError(f"unknown key {name!r}")
        self._refresh()

    def badge(self, uid: str) -> None:
        """A badge was tapped (uppercase hex UID, already debounced by the reader)."""
        if self.clerk is not None and uid == self.badge_uid:
            self._logout()
        else:
            self._login(uid)  # another clerk's badge takes over the window, as the gateway does
        self._refresh()

    def command(self, kind: str, body: dict[str, Any]) -> None:
        """A validated command from the gateway."""
        handler = getattr(self, "_cmd_" + kind, None)
        if handler is None:
            log.debug("command %s is not the state machine's (the updater's, say)", kind)
            return
        handler(body)
        self._refresh()

    def connected(self) -> None:
        """The broker connection is (re)established: say hello, so the gateway pushes its config."""
        self._emit("hello", kind="terminal", fw=self.settings.fw, boot=self.outbox.boot)

    def set_online(self, online: bool) -> None:
        """The gateway became reachable (broker connected and gateway alive) or not."""
        if online == self.online:
            return
        self.online = online
        if not online and self.pending_login:
            self._login_from_list(self.pending_login[0])
        self._refresh()

    def tick(self) -> None:
        """Run the timers; call a few times a second."""
        now = self.clock.monotonic()
        self._expire(now)
        self._periodic(now)
        self._refresh()

    # --- badges and sessions -------------------------------------------------------------

    def _login(self, uid: str) -> None:
        if not self.online:
            self._login_from_list(uid)
            return
        self._emit("badge", uid=uid, action="login")
        self.pending_login = (uid, self.clock.monotonic() + self.settings.login_wait_s)
        self._flash(TEXT_CHECKING, self.settings.login_wait_s)

    def _login_from_list(self, uid: str) -> None:
        """Offline: the badge list the gateway last pushed decides."""
        was_pending = self.pending_login is not None and self.pending_login[0] == uid
        self.pending_login = None
        entry = self._known_badge(uid)
        if entry is None:
            self._flash(TEXT_UNKNOWN_OFFLINE)
            return
        if not was_pending:
            self._emit("badge", uid=uid, action="login", offline=True)
        self._open_session(uid, v.Clerk(entry["name"], entry["staff_no"]))

    def _known_badge(self, uid: str) -> dict[str, Any] | None:
        key = self.pushed.get("badge_key")
        if not key:
            return None
        wanted = badge_hash(key, uid)
        return next((b for b in self.pushed.get("badges", ()) if b["h"].lower() == wanted), None)

    def _open_session(self, uid: str | None, clerk: v.Clerk) -> None:
        if self.badge_uid not in (None, uid):
            self._end_session()  # replaced: the gateway ends the previous shift itself
        greet = clerk != self.clerk  # the gateway confirming a session already open says nothing
        self.clerk, self.badge_uid, self.message = clerk, uid, None
        if self.mode == v.IDLE:
            self.mode = v.SERVING
        self.outbox.remember(
            "session", {"uid": uid, "name": clerk.name, "staff_no": clerk.staff_no}
        )
        if greet:
            self.panel.say(phrases.login_greeting(clerk.name))

    def _logout(self) -> None:
        fields: dict[str, Any] = {"uid": self.badge_uid, "action": "logout"}
        if not self.online:
            fields["offline"] = True
        self._emit("badge", **fields)
        name = self.clerk.name if self.clerk else ""
        self._end_session()
        self.panel.say(phrases.logout_farewell(name))

    def _end_session(self) -> None:
        self._close_window("cancelled")
        self._finish_reasons()
        self.clerk = self.badge_uid = self.pause_reason = self.ticket = None
        self.mode = v.IDLE
        self.panel.leds(())
        self.outbox.remember("session", None)

    def _cmd_session(self, body: dict[str, Any]) -> None:
        state = body["state"]
        if body.get("window"):
            self._push({"window": body["window"]})
        if state == "open" and "clerk" in body:
            # Without a tap pending the gateway opened the session itself (a console login, or
            # the answer to a login made offline): it is authoritative either way.
            uid = self.pending_login[0] if self.pending_login else self.badge_uid
            self.pending_login = None
            self._open_session(uid, v.Clerk(body["clerk"]["name"], body["clerk"]["staff_no"]))
        elif state == "rejected":
            self._rejected(body.get("reason") or TEXT_UNKNOWN_BADGE)
        elif state == "closed" and self.clerk is not None:
            self._end_session()

    def _rejected(self, reason: str) -> None:
        """An unknown badge: say so; a session opened offline from a stale list is withdrawn."""
        if self.pending_login is None and self.clerk is not None:
            self._end_session()
        self.pending_login = None
        self._flash(reason)

    # --- keys ----------------------------------------------------------------------------

    def _rating_key(self, index: int) -> None:
        if self.mode == v.RATING:
            self._rate(index)
        elif self.mode == v.REASONS:
            self._choose_reason(index)
        elif self.mode == v.PAUSE_SELECT:
            self._pause(PAUSE_REASONS[index])
        else:
            self._count_stray()

    def _key_complete(self) -> None:
        if self.mode == v.RATING:
            self._toggle_qr()
        elif self._serving():
            service = {"ticket": self.ticket} if self.ticket else None
            if self._may_ask(service):
                self._blink()  # the key answers at once; the disk write follows
            with self.outbox.batch():  # one fsync for the service's end and its rating window
                self._emit("clerk", action="complete")
                self._open_window("clerk", self._timeout_s(), service)

    def _key_call_next(self) -> None:
        if self._serving(allow_window=True):
            self._emit("clerk", action="call_next")

    def _key_recall(self) -> None:
        if self._serving(allow_window=True):
            self._emit("clerk", action="recall")

    def _key_pause(self) -> None:
        if self.mode == v.PAUSED:
            self._emit("clerk", action="resume")
            self.mode, self.pause_reason = v.SERVING, None
            self.panel.say(phrases.RESUMED)
        elif self.mode == v.PAUSE_SELECT:
            self.mode = v.SERVING
        elif self._serving():
            self.mode = v.PAUSE_SELECT
            self.pause_select_until = self.clock.monotonic() + self.settings.pause_select_s

    def _serving(self, allow_window: bool = False) -> bool:
        """Clerk keys act only for a logged-in clerk who is not paused; say why otherwise."""
        if self.clerk is None:
            self._flash(TEXT_LOGIN_FIRST)
            return False
        if self.mode in (v.PAUSED, v.PAUSE_SELECT):
            self._flash(TEXT_RESUME_FIRST)
            return False
        return self.mode == v.SERVING or allow_window

    def _pause(self, reason: str) -> None:
        self._emit("clerk", action="pause", reason=reason)
        self.mode, self.pause_reason = v.PAUSED, reason
        self.panel.say(phrases.PAUSED)

    def _count_stray(self) -> None:
        if self.stray == 0:
            self.stray_since = self.clock.monotonic()
        self.stray += 1

    # --- rating windows ------------------------------------------------------------------

    def _timeout_s(self) -> int:
        return int(self.pushed.get("rating_timeout_s") or self.settings.rating_window_s)

    def _may_ask(self, service: dict[str, Any] | None) -> bool:
        ticket = (service or {}).get("ticket")
        if ticket and ticket == self.last_rated_ticket:
            log.info("not asking again for ticket %s: nothing nags twice", ticket)
            return False
        return True

    def _blink(self) -> None:
        self.panel.leds(range(len(RATING_KEYS)), blink=True)

    def _open_window(self, by: str, timeout_s: int, service: dict[str, Any] | None) -> None:
        if not self._may_ask(service):
            return
        self._blink()
        self._flush_stray()
        fields: dict[str, Any] = {"timeout_s": timeout_s, "by": by}
        if service:
            fields["service"] = service
        rw = self._emit("rw_open", own_id_as="rw", **fields)
        if rw is None:
            self.panel.leds(())
            return
        self.window = Window(rw, self.clock.monotonic() + timeout_s, (service or {}).get("ticket"))
        self.mode = v.RATING
        self.panel.say(phrases.RATE_PROMPT, interrupt=True)  # before drawing: speech starts sooner
        self._refresh()

    def _rate(self, index: int) -> None:
        assert self.window is not None
        level = LEVELS[index]
        self.panel.leds((index,))
        bad = is_bad(level)
        event_id = self._emit("rating", held=bad, rw=self.window.rw, level=level, channel="keys")
        self.last_rated_ticket = self.window.ticket
        self.window = None
        if bad and event_id:
            self.held_rating = (event_id, self.clock.monotonic() + self.settings.reasons_s)
            self.mode = v.REASONS
        else:
            self._thank()
        self.panel.say(phrases.THANKS, interrupt=True)
        self._refresh()

    def _choose_reason(self, index: int) -> None:
        self._finish_reasons(BAD_REASONS[index] if index < len(BAD_REASONS) else None)
        self._thank()

    def _finish_reasons(self, reason: str | None = None) -> None:
        if self.held_rating is None:
            return
        event_id, self.held_rating = self.held_rating[0], None
        if reason:
            self.outbox.release(event_id, reasons=[reason])
        else:
            self.outbox.release(event_id)
        self._notify()

    def _thank(self) -> None:
        self.mode = v.THANKS
        self.thanks_until = self.clock.monotonic() + self.settings.thanks_s

    def _close_window(self, reason: str) -> None:
        if self.window is None:
            return
        self._emit("unrated", rw=self.window.rw, reason=reason)
        self.last_rated_ticket = self.window.ticket
        self.window = None
        self.panel.leds(())
        if self.mode == v.RATING:
            self.mode = v.SERVING

    def _toggle_qr(self) -> None:
        if self.window is not None and self._phone_link(self.window.rw):
            self.window = replace(self.window, qr=not self.window.qr)

    def _phone_link(self, rw: str) -> str | None:
        """`<rate_url>/<token>` (protocol.ratelink): needs the badge_key the gateway pushed."""
        url = self.pushed.get("rate_url") or self.settings.rate_url
        key = self.pushed.get("badge_key")
        if not url or not key:
            return None
        return rate_link(url, rate_token(key, self.settings.device, rw))

    # --- commands ------------------------------------------------------------------------

    def _cmd_ticket(self, body: dict[str, Any]) -> None:
        if body["action"] == "clear":
            self.ticket = None
            return
        self.ticket = body.get("ticket") or self.ticket
        if body.get("voice"):
            self.panel.say(body["voice"])

    def _cmd_prompt(self, body: dict[str, Any]) -> None:
        if self.mode == v.SERVING:
            self._open_window("queue", body["timeout_s"], body.get("service"))

    def _cmd_rw_close(self, body: dict[str, Any]) -> None:
        """Rated on a phone: the window ends as rated, so no `unrated` follows it."""
        if self.window is None or self.window.rw != body["rw"]:
            return  # already closed here; the gateway refuses what this device sent for it
        self.last_rated_ticket = self.window.ticket
        self.window = None
        self.outbox.window_closed_elsewhere()  # a power loss now must not report it unrated
        self.panel.leds(())
        self._thank()
        self.panel.say(phrases.THANKS, interrupt=True)

    def _cmd_config(self, body: dict[str, Any]) -> None:
        self._push({k: val for k, val in body.items() if k not in ("v", "ts")})

    def _cmd_message(self, body: dict[str, Any]) -> None:
        self._flash(body["text"])

    def _push(self, values: dict[str, Any]) -> None:
        self.pushed = dict(self.pushed, **values)
        self.outbox.remember("config", self.pushed)

    # --- timers --------------------------------------------------------------------------

    def _expire(self, now: float) -> None:
        if self.window is not None and now >= self.window.deadline:
            self._close_window("timeout")
        if self.held_rating is not None and now >= self.held_rating[1]:
            self._finish_reasons()
            if self.mode == v.REASONS:
                self.mode = v.SERVING
                self.panel.leds(())
        if self.mode == v.THANKS and now >= self.thanks_until:
            self.mode = v.SERVING
            self.panel.leds(())
        if self.mode == v.PAUSE_SELECT and now >= self.pause_select_until:
            self.mode = v.SERVING
        if self.pending_login is not None and now >= self.pending_login[1]:
            self._login_from_list(self.pending_login[0])
        if self.message is not None and now >= self.message[1]:
            self.message = None

    def _periodic(self, now: float) -> None:
        if self.stray and now - self.stray_since >= self.settings.stray_batch_s:
            self._flush_stray()
        if now - self.last_heartbeat >= self.settings.heartbeat_s:
            self.last_heartbeat = now
            self._heartbeat(now)

    def _heartbeat(self, now: float) -> None:
        self._emit(
            "heartbeat",
            uptime_s=int(now - self.started),
            outbox=self.outbox.depth(),
            fw=self.settings.fw,
            session=self.clerk is not None,
        )

    def _flush_stray(self) -> None:
        # A full outbox refuses the stray event; the count stays and goes out with the next one.
        if self.stray and self._emit("stray", count=self.stray):
            self.stray = 0

    # --- outputs -------------------------------------------------------------------------

    def _emit(
        self, kind: str, /, own_id_as: str | None = None, held: bool = False, **fields: Any
    ) -> str | None:
        event_id = self.outbox.put(kind, fields, own_id_as=own_id_as, held=held)
        if event_id is None:
            log.warning("outbox full: %s event refused", kind)
        self._notify()
        return event_id

    def _flash(self, text: str, seconds: float | None = None) -> None:
        self.message = (text, self.clock.monotonic() + (seconds or self.settings.message_s))

    def view(self) -> v.View:
        """What the screen should show now."""
        base = v.View(
            self.mode,
            hall_name=self.pushed.get("hall_name") or self.settings.hall_name,
            window_label=self.pushed.get("window") or self.settings.window_label,
            clerk=self.clerk,
            ticket=self.ticket,
            offline=not self.online,
        )
        if self.message is not None:
            return replace(base, mode=v.MESSAGE, message=self.message[0])
        if self.mode == v.RATING and self.window is not None:
            return self._rating_view(base, self.window)
        if self.mode == v.REASONS:
            return replace(base, reasons=BAD_REASONS)
        if self.mode == v.PAUSED:
            return replace(base, reason=self.pause_reason)
        return base

    def _rating_view(self, base: v.View, window: Window) -> v.View:
        left = max(0, int(window.deadline - self.clock.monotonic() + 0.999))
        link = self._phone_link(window.rw) if window.qr else None
        if link:
            return replace(base, mode=v.RATING_QR, seconds_left=left, qr_url=link)
        return replace(base, seconds_left=left)

    def _refresh(self) -> None:
        shown = self.view()
        if shown != self._shown:
            self._shown = shown
            self.panel.show(shown)
