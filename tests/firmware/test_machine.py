"""The terminal's state machine, state by state, with a hand-set clock and a real outbox file.

Each test is what a clerk or citizen would notice: the screen, the LEDs, the voice, and the events
that reach the gateway (read back from the outbox exactly as they would be published).
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from firmware.terminal import phrases
from firmware.terminal import view as v
from firmware.terminal.machine import Machine, Settings
from firmware.terminal.outbox import Outbox
from firmware.terminal.screens import qr_fits
from protocol.badges import badge_hash
from protocol.ratelink import rate_token

UID = "04A1B2C3"
OTHER = "04FFEEDD"
KEY = "00112233445566778899aabbccddeeff"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


class Panel:
    def __init__(self) -> None:
        self.views: list[v.View] = []
        self.spoken: list[str] = []
        self.lit: tuple[tuple[int, ...], bool] = ((), False)

    def show(self, view: v.View) -> None:
        self.views.append(view)

    def say(self, text: str, interrupt: bool = False) -> None:
        self.spoken.append(text)

    def leds(self, lit, blink=False) -> None:
        self.lit = (tuple(lit), blink)


class Rig:
    def __init__(self, tmp_path, **settings):
        self.path = str(tmp_path / "outbox.db")
        self.clock = Clock()
        self.panel = Panel()
        self.settings = Settings(
            hall="h", device="w-1", fw="test", window_label="3号窗口", **settings
        )
        self.outbox = Outbox(self.path, 1000, wall_ms=lambda: 1764201600000, up_ms=lambda: 5)
        self.machine = Machine(self.outbox, self.panel, self.clock, self.settings)
        self.machine.start()

    def restart(self) -> None:
        """As after a power loss: a new outbox on the same file, a new machine."""
        self.outbox.close()
        self.outbox = Outbox(self.path, 1000, wall_ms=lambda: 1764201600000, up_ms=lambda: 5)
        self.panel = Panel()
        self.machine = Machine(self.outbox, self.panel, self.clock, self.settings)
        self.machine.start()

    def events(self, kind: str | None = None) -> list[dict]:
        out = [json.loads(p.payload) | {"_kind": p.kind} for p in self.outbox.pending(1000)]
        return [e for e in out if kind is None or e["_kind"] == kind]

    def later(self, seconds: float) -> None:
        self.clock.now += seconds
        self.machine.tick()

    @property
    def view(self) -> v.View:
        return self.panel.views[-1]

    def login(self, uid: str = UID, name: str = "张伟", staff_no: str = "HN0123") -> None:
        self.machine.set_online(True)
        self.machine.badge(uid)
        self.machine.command(
            "session", {"state": "open", "clerk": {"name": name, "staff_no": staff_no}}
        )

    def open_window(self) -> str:
        self.machine.key("complete")
        return self.events("rw_open")[-1]["rw"]


@pytest.fixture
def rig(tmp_path):
    return Rig(tmp_path)


# --- idle and login -------------------------------------------------------------------------


def test_starts_idle_and_says_hello_on_every_connect(rig):
    assert rig.view.mode == v.IDLE and rig.view.window_label == "3号窗口"
    assert rig.events("hello") == []
    rig.machine.connected()
    rig.machine.connected()
    hellos = rig.events("hello")
    assert [(h["kind"], h["boot"]) for h in hellos] == [("terminal", 1)] * 2


def test_badge_tap_sends_login_and_gateway_answer_shows_the_work_badge(rig):
    rig.machine.set_online(True)
    rig.machine.badge(UID)
    assert [(e["uid"], e["action"]) for e in rig.events("badge")] == [(UID, "login")]
    assert rig.view.mode == v.MESSAGE  # 正在验证工牌…
    rig.machine.command(
        "session", {"state": "open", "clerk": {"name": "张伟", "staff_no": "HN0123"}}
    )
    assert rig.view.mode == v.SERVING and rig.view.clerk == v.Clerk("张伟", "HN0123")
    assert rig.panel.spoken == [phrases.login_greeting("张伟")]


def test_unknown_badge_shows_a_clear_message_and_changes_nothing(rig):
    rig.machine.set_online(True)
    rig.machine.badge(OTHER)
    rig.machine.command("session", {"state": "rejected", "reason": "未登记的工牌"})
    assert rig.view.mode == v.MESSAGE and rig.view.message == "未登记的工牌"
    assert rig.view.clerk is None
    rig.later(5)
    assert rig.view.mode == v.IDLE and rig.panel.spoken == []


def test_unknown_badge_while_serving_keeps_the_clerk(rig):
    rig.login()
    rig.machine.badge(OTHER)
    rig.machine.command("session", {"state": "rejected", "reason": "未登记的工牌"})
    rig.later(10)
    assert rig.view.mode == v.SERVING and rig.view.clerk.name == "张伟"


def test_second_tap_of_the_same_badge_logs_out(rig):
    rig.login()
    rig.machine.badge(UID)
    assert [e["action"] for e in rig.events("badge")] == ["login", "logout"]
    assert rig.view.mode == v.IDLE and rig.view.clerk is None
    assert rig.panel.spoken[-1] == phrases.logout_farewell("张伟")


def test_session_survives_a_restart(rig):
    rig.login()
    rig.restart()
    assert rig.view.mode == v.SERVING and rig.view.clerk.name == "张伟"


# --- offline ---------------------------------------------------------------------------------


def push_badges(rig, uid=UID):
    entry = {"h": badge_hash(KEY, uid), "name": "李娜", "staff_no": "HN0456"}
    rig.machine.command(
        "config", {"badge_key": KEY, "badges": [entry], "hall_name": "金水区政务服务中心"}
    )


def test_offline_login_uses_the_badge_list_the_gateway_pushed(rig):
    push_badges(rig)
    rig.machine.set_online(False)
    rig.machine.badge(UID)
    assert rig.view.mode == v.SERVING and rig.view.clerk == v.Clerk("李娜", "HN0456")
    assert rig.view.offline and rig.view.hall_name == "金水区政务服务中心"
    [login] = rig.events("badge")
    assert login["offline"] is True


def test_gateway_confirming_an_offline_login_later_does_not_greet_again(rig):
    push_badges(rig)
    rig.machine.badge(UID)
    rig.machine.set_online(True)
    rig.machine.command(
        "session", {"state": "open", "clerk": {"name": "李娜", "staff_no": "HN0456"}}
    )
    assert rig.panel.spoken == [phrases.login_greeting("李娜")]
    assert rig.view.clerk == v.Clerk("李娜", "HN0456")


def test_badge_revoked_since_the_pushed_list_ends_the_offline_session(rig):
    push_badges(rig)
    rig.machine.badge(UID)
    rig.machine.set_online(True)
    rig.machine.command("session", {"state": "rejected", "reason": "未登记的工牌"})
    assert rig.view.clerk is None and rig.view.message == "未登记的工牌"


def test_gateway_may_open_a_session_without_a_tap(rig):
    rig.machine.command(
        "session", {"state": "open", "clerk": {"name": "王芳", "staff_no": "HN0789"}}
    )
    assert rig.view.mode == v.SERVING and rig.view.clerk.name == "王芳"


def test_gateway_closing_the_session_ends_it_and_any_open_window(rig):
    rig.login()
    rw = rig.open_window()
    rig.machine.command("session", {"state": "closed"})
    assert rig.view.mode == v.IDLE and rig.view.clerk is None
    assert [(e["rw"], e["reason"]) for e in rig.events("unrated")] == [(rw, "cancelled")]


def test_offline_unknown_badge_is_refused(rig):
    push_badges(rig)
    rig.machine.badge(OTHER)
    assert rig.view.mode == v.MESSAGE and rig.view.clerk is None
    assert rig.events("badge") == []


def test_pushed_badge_list_survives_a_restart(rig):
    push_badges(rig)
    rig.restart()
    rig.machine.badge(UID)
    assert rig.view.clerk == v.Clerk("李娜", "HN0456")


def test_gateway_silent_after_a_tap_falls_back_to_the_list(rig):
    push_badges(rig)
    rig.machine.set_online(True)
    rig.machine.badge(UID)
    rig.later(6)
    assert rig.view.mode == v.SERVING and rig.view.clerk.name == "李娜"
    assert len(rig.events("badge")) == 1  # the one login already sent


# --- rating windows -------------------------------------------------------------------------


def test_complete_key_opens_a_window_with_prompt_blink_and_countdown(rig):
    rig.login()
    rw = rig.open_window()
    [opened] = rig.events("rw_open")
    assert opened["id"] == rw and opened["by"] == "clerk" and opened["timeout_s"] == 15
    assert rig.events("clerk")[-1]["action"] == "complete"
    assert rig.view.mode == v.RATING and rig.view.seconds_left == 15
    assert rig.panel.lit == ((0, 1, 2, 3, 4), True)
    assert rig.panel.spoken[-1] == phrases.RATE_PROMPT
    rig.later(4.5)
    assert rig.view.seconds_left == 11


def test_first_rating_key_wins_and_is_thanked(rig):
    rig.login()
    rw = rig.open_window()
    rig.machine.key("rate2")
    rig.machine.key("rate1")
    [rating] = rig.events("rating")
    assert (rating["rw"], rating["level"], rating["channel"]) == (rw, "satisfied", "keys")
    assert rig.view.mode == v.THANKS and rig.panel.lit == ((1,), False)
    assert rig.panel.spoken[-1] == phrases.THANKS
    rig.later(3)
    assert rig.view.mode == v.SERVING and rig.panel.lit == ((), False)
    rig.later(30)
    assert rig.events("stray")[-1]["count"] == 1  # the second press counted, never a rating


def test_no_press_is_unrated_never_a_default_level(rig):
    rig.login()
    rw = rig.open_window()
    rig.later(15)
    assert rig.events("rating") == []
    [unrated] = rig.events("unrated")
    assert (unrated["rw"], unrated["reason"]) == (rw, "timeout")
    assert rig.view.mode == v.SERVING
    assert rig.panel.spoken.count(phrases.RATE_PROMPT) == 1  # asked once, not again


def test_presses_outside_a_window_are_batched_as_stray(rig):
    rig.login()
    for key in ("rate1", "rate1", "rate5"):
        rig.machine.key(key)
    assert rig.events("stray") == [] and rig.events("rating") == []
    rig.later(31)
    assert [e["count"] for e in rig.events("stray")] == [3]


def test_stray_is_flushed_before_a_window_opens(rig):
    rig.login()
    rig.machine.key("rate3")
    rig.open_window()
    kinds = [e["_kind"] for e in rig.events() if e["_kind"] in ("stray", "rw_open")]
    assert kinds == ["stray", "rw_open"]


def test_bad_rating_offers_reasons_and_carries_the_chosen_one(rig):
    rig.login()
    rw = rig.open_window()
    rig.machine.key("rate4")
    assert rig.view.mode == v.REASONS and rig.view.reasons == (
        "attitude",
        "slow",
        "unclear",
        "process",
    )
    assert rig.events("rating") == []  # held on disk until a reason is chosen
    rig.machine.key("rate2")
    [rating] = rig.events("rating")
    assert (rating["rw"], rating["level"], rating["reasons"]) == (rw, "dissatisfied", ["slow"])
    assert rig.view.mode == v.THANKS


def test_reason_skip_and_timeout_send_the_rating_without_reasons(rig):
    rig.login()
    rig.open_window()
    rig.machine.key("rate5")
    rig.machine.key("rate5")  # 跳过
    assert "reasons" not in rig.events("rating")[0]
    rig.later(5)
    rig.open_window()
    rig.machine.key("rate4")
    rig.later(10)
    assert [("reasons" in e, e["level"]) for e in rig.events("rating")] == [
        (False, "very_dissatisfied"),
        (False, "dissatisfied"),
    ]
    assert rig.view.mode == v.SERVING


def test_power_loss_while_choosing_a_reason_keeps_the_rating(rig):
    rig.login()
    rw = rig.open_window()
    rig.machine.key("rate5")
    rig.restart()
    [rating] = rig.events("rating")
    assert (rating["rw"], rating["level"]) == (rw, "very_dissatisfied")
    assert rig.events("unrated") == []


def test_power_loss_with_a_window_open_reports_it_unrated(rig):
    rig.login()
    rw = rig.open_window()
    rig.restart()
    [unrated] = rig.events("unrated")
    assert (unrated["rw"], unrated["reason"]) == (rw, "power_loss")
    rig.restart()
    assert len(rig.events("unrated")) == 1  # reported once, not at every start


def test_gateway_prompt_opens_a_queue_window_for_its_service(rig):
    rig.login()
    service = {"ticket": "A012", "service_name": "不动产登记"}
    rig.machine.command("prompt", {"timeout_s": 20, "service": service})
    [opened] = rig.events("rw_open")
    assert (opened["by"], opened["timeout_s"], opened["service"]) == ("queue", 20, service)


def test_nothing_nags_twice(rig):
    rig.login()
    rig.machine.command("ticket", {"action": "call", "ticket": "A012"})
    rig.open_window()
    rig.machine.key("complete")  # pressed again while the window is open: no second window
    rig.machine.command("prompt", {"timeout_s": 20, "service": {"ticket": "A012"}})
    assert len(rig.events("rw_open")) == 1
    rig.later(15)
    rig.machine.command("prompt", {"timeout_s": 20, "service": {"ticket": "A012"}})
    rig.machine.key("complete")
    assert len(rig.events("rw_open")) == 1
    assert rig.panel.spoken.count(phrases.RATE_PROMPT) == 1


def test_rating_timeout_pushed_by_the_gateway_is_used(rig):
    rig.login()
    rig.machine.command("config", {"rating_timeout_s": 30})
    rig.open_window()
    assert rig.events("rw_open")[0]["timeout_s"] == 30


def test_qr_code_screen_for_rating_on_a_phone(tmp_path):
    rig = Rig(tmp_path, rate_url="https://hall.example/r")
    rig.machine.command("config", {"badge_key": KEY})
    rig.login()
    rw = rig.open_window()
    rig.machine.key("complete")
    assert rig.view.mode == v.RATING_QR
    assert rig.view.qr_url == "https://hall.example/r/" + rate_token(KEY, "w-1", rw)
    assert qr_fits(rig.view.qr_url)
    rig.machine.key("complete")
    assert rig.view.mode == v.RATING


def test_qr_link_fits_the_screen_with_the_longest_ids(tmp_path):
    rig = Rig(tmp_path, rate_url="http://192.168.100.200:8080/r")
    rig.machine.command("config", {"badge_key": KEY})
    long_device = "d" * 32
    rig.machine.settings = replace(rig.settings, hall="h" * 32, device=long_device)
    rig.login()
    rig.open_window()
    rig.machine.key("complete")
    assert rig.view.mode == v.RATING_QR and qr_fits(rig.view.qr_url)


def test_no_qr_code_before_the_gateway_pushed_the_key(tmp_path):
    rig = Rig(tmp_path, rate_url="https://hall.example/r")
    rig.login()
    rig.open_window()
    rig.machine.key("complete")
    assert rig.view.mode == v.RATING


def test_rated_on_a_phone_the_window_ends_with_thanks_and_no_unrated(tmp_path):
    rig = Rig(tmp_path, rate_url="https://hall.example/r")
    rig.login()
    rw = rig.open_window()
    rig.machine.command("rw_close", {"rw": rw, "outcome": "rated", "channel": "phone"})
    assert rig.view.mode == v.THANKS and rig.panel.spoken[-1] == phrases.THANKS
    rig.later(60)
    rig.restart()  # a power loss afterwards does not report the window unrated either
    assert rig.events("unrated") == [] and rig.events("rating") == []


def test_rw_close_for_another_window_changes_nothing(tmp_path):
    rig = Rig(tmp_path)
    rig.login()
    rig.open_window()
    rig.machine.command("rw_close", {"rw": "99-1", "outcome": "rated", "channel": "phone"})
    assert rig.view.mode == v.RATING
    rig.later(60)
    assert [e["reason"] for e in rig.events("unrated")] == ["timeout"]


def test_complete_without_a_clerk_asks_for_the_badge(rig):
    rig.machine.key("complete")
    assert rig.events("rw_open") == [] and rig.view.mode == v.MESSAGE


# --- clerk keys, tickets, pause ---------------------------------------------------------------


def test_call_and_recall_keys_send_clerk_events_and_the_ticket_is_shown_and_spoken(rig):
    rig.login()
    rig.machine.key("call_next")
    rig.machine.key("recall")
    assert [e["action"] for e in rig.events("clerk")] == ["call_next", "recall"]
    rig.machine.command(
        "ticket", {"action": "call", "ticket": "A012", "voice": "请A012号到3号窗口办理"}
    )
    assert rig.view.ticket == "A012" and rig.panel.spoken[-1] == "请A012号到3号窗口办理"
    rig.machine.command("ticket", {"action": "clear"})
    assert rig.view.ticket is None


def test_pause_asks_for_a_reason_and_shows_it_until_resume(rig):
    rig.login()
    rig.machine.key("pause")
    assert rig.view.mode == v.PAUSE_SELECT
    rig.machine.key("rate3")  # 就餐
    assert rig.events("clerk")[-1] == rig.events("clerk")[-1] | {
        "action": "pause",
        "reason": "meal",
    }
    assert rig.view.mode == v.PAUSED and rig.view.reason == "meal"
    rig.machine.key("rate1")  # no rating while paused: stray
    rig.machine.key("call_next")
    assert rig.view.mode == v.MESSAGE and rig.events("clerk")[-1]["action"] == "pause"
    rig.later(60)
    assert rig.view.mode == v.PAUSED
    rig.machine.key("pause")
    assert rig.events("clerk")[-1]["action"] == "resume" and rig.view.mode == v.SERVING
    assert rig.events("rating") == []


def test_pause_selection_can_be_cancelled_or_times_out(rig):
    rig.login()
    rig.machine.key("pause")
    rig.machine.key("pause")
    assert rig.view.mode == v.SERVING
    rig.machine.key("pause")
    rig.later(16)
    assert rig.view.mode == v.SERVING and rig.events("clerk") == []


def test_pauses_and_ratings_continue_offline_with_the_offline_mark(rig):
    rig.login()
    rig.machine.set_online(False)
    assert rig.view.offline
    rig.open_window()
    rig.machine.key("rate1")
    rig.later(3)
    rig.machine.key("pause")
    rig.machine.key("rate5")
    assert rig.view.mode == v.PAUSED and rig.view.offline
    assert [e["_kind"] for e in rig.events() if e["_kind"] in ("rating", "clerk")][-2:] == [
        "rating",
        "clerk",
    ]


def test_gateway_message_is_shown(rig):
    rig.machine.command("message", {"level": "warning", "text": "请联系技术员"})
    assert rig.view.mode == v.MESSAGE and rig.view.message == "请联系技术员"


def test_heartbeat_reports_uptime_and_outbox_depth(rig):
    rig.machine.connected()  # the hello waits in the outbox
    rig.later(60)
    [beat] = rig.events("heartbeat")
    assert beat["uptime_s"] == 60 and beat["outbox"] == 1 and beat["fw"] == "test"


def test_unknown_key_is_refused(rig):
    with pytest.raises(ValueError, match="unknown key"):
        rig.machine.key("rate6")
