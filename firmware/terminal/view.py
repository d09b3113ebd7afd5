"""What the window terminal's screen shows: a plain value the state machine produces and
`screens.render()` draws. Equal views draw identical images."""

from __future__ import annotations

from dataclasses import dataclass, field

# Modes, one screen each.
IDLE = "idle"  # nobody logged in: hall and window label, "请刷工牌上岗"
SERVING = "serving"  # electronic work badge: clerk name + staff number, current ticket
RATING = "rating"  # "请对我的服务进行评价", seconds left, the five levels
THANKS = "thanks"  # "谢谢您的评价"
REASONS = "reasons"  # after a bad rating: up to four reasons on keys 1-4, key 5 skips
PAUSE_SELECT = "pause_select"  # choose a pause reason on the five keys
PAUSED = "paused"  # "暂停服务" + reason label
MESSAGE = "message"  # a message from the gateway or an error (unknown badge …)
RATING_QR = "rating_qr"  # a QR code for rating on a phone, beside the prompt

MODES = (IDLE, SERVING, RATING, THANKS, REASONS, PAUSE_SELECT, PAUSED, MESSAGE, RATING_QR)


@dataclass(frozen=True)
class Clerk:
    name: str  # "张伟"
    staff_no: str  # "HN0123"


@dataclass(frozen=True)
class View:
    mode: str
    hall_name: str = ""
    window_label: str = ""  # "3号窗口"
    clerk: Clerk | None = None
    ticket: str | None = None  # "A012"
    seconds_left: int | None = None  # rating window countdown
    reason: str | None = None  # pause reason code (protocol.levels.PAUSE_REASONS)
    reasons: tuple[str, ...] = field(default_factory=tuple)  # bad-rating reason codes offered
    message: str | None = None  # Chinese text for MESSAGE
    qr_url: str | None = None  # for RATING_QR
    offline: bool = False  # a small "离线" mark on every screen while the gateway is unreachable
