"""What the rating box does, free of hardware and network.

The box serves the window terminal it is paired with: when the terminal opens a rating window the
gateway forwards a `prompt` to the box, and the box opens its own window for the same service.
Inside a window the first key pressed is the rating and the window closes; a window that times out
is reported unrated; presses outside any window are counted as stray, never as ratings. An open
window is kept in flash, so a power cut turns it into `unrated` (power_loss) at the next start.

Parts are passed in: `keys.poll()` returns key indexes pressed since the last poll (0 = 非常满意),
`leds.show(list of 5 bools)`, `clock.ms()` monotonic ms and `clock.wall_ms()`.
"""

from protocol import levels, messages
from protocol.ids import EventIds

WINDOW_KEY = "window"


class RatingBox:
    def __init__(self, cfg, outbox, state, keys, leds, clock):
        self.cfg = cfg
        self.outbox = outbox
        self.state = state
        self.keys = keys
        self.leds = leds
        self.clock = clock
        self.ids = EventIds(state.load_boot, state.store_boot)
        self.window = None  # {"rw", "deadline"} while a window is open
        self.stray = 0
        self.stray_since = None
        self.last_heartbeat = None
        self._recover_window()
        self.leds.show([False] * 5)

    # --- events --------------------------------------------------------------------------
    def emit(self, kind, fields):
        body = {"v": messages.VERSION, "id": self.ids.next(), "ts": self.clock.wall_ms(),
                "up": self.clock.ms()}
        body.update(fields)
        messages.validate_event(kind, body)
        self.outbox.add(kind, body)
        return body["id"]

    def hello(self):
        return self.emit("hello", {"kind": "ratingbox", "fw": self.cfg["fw"],
                                   "boot": self.ids.boot, "paired": self.cfg["paired"]})

    def _recover_window(self):
        open_window = self.state.get(WINDOW_KEY)
        if open_window:
            self.emit("unrated", {"rw": open_window["rw"], "reason": "power_loss"})
            self.state.set(WINDOW_KEY, None)

    # --- commands ------------------------------------------------------------------------
    def command(self, kind, body):
        if kind == "prompt":
            self.open_window(body.get("timeout_s") or self.cfg["rating_timeout_s"],
                             body.get("service"))
        elif kind == "config" and body.get("rating_timeout_s"):
            self.cfg["rating_timeout_s"] = body["rating_timeout_s"]

    def open_window(self, timeout_s, service=None):
        if self.window is not None:
            self._close(self.emit("unrated", {"rw": self.window["rw"], "reason": "cancelled"}))
        rw = self.ids.next()
        body = {"v": messages.VERSION, "id": rw, "ts": self.clock.wall_ms(), "up": self.clock.ms(),
                "rw": rw, "timeout_s": timeout_s, "by": "queue"}
        if service:
            body["service"] = service
        messages.validate_event("rw_open", body)
        self.outbox.add("rw_open", body)
        self.window = {"rw": rw, "deadline": self.clock.ms() + timeout_s * 1000}
        self.state.set(WINDOW_KEY, {"rw": rw})
        self.leds.show([True] * 5)
        return rw

    def _close(self, _event_id=None):
        self.window = None
        self.state.set(WINDOW_KEY, None)
        self.leds.show([False] * 5)

    # --- keys and time -------------------------------------------------------------------
    def press(self, index):
        if self.window is None:
            self.stray += 1
            if self.stray_since is None:
                self.stray_since = self.clock.ms()
            return None
        level = levels.LEVELS[index]
        rated = self.emit("rating", {"rw": self.window["rw"], "level": level, "channel": "keys"})
        self._close()
        lit = [False] * 5
        lit[index] = True
        self.leds.show(lit)  # the chosen key stays lit as a thank-you until the next window
        return rated

    def tick(self):
        """Poll keys and timers; call every few tens of milliseconds."""
        for index in self.keys.poll():
            self.press(index)
        now = self.clock.ms()
        if self.window is not None and now >= self.window["deadline"]:
            self._close(self.emit("unrated", {"rw": self.window["rw"], "reason": "timeout"}))
        if self.stray and now - self.stray_since >= self.cfg["stray_flush_s"] * 1000:
            self.emit("stray", {"count": self.stray})
            self.stray, self.stray_since = 0, None
        if self.last_heartbeat is None or now - self.last_heartbeat >= self.cfg["heartbeat_s"] * 1000:
            self.last_heartbeat = now
            self.emit("heartbeat", {"uptime_s": now // 1000, "outbox": self.outbox.depth(),
                                    "session": self.window is not None})
