"""Shift and rating rules as a clerk and a citizen meet them, over a real Mosquitto."""

from __future__ import annotations

import pytest
from support.gateway import GatewayHarness

from gateway.store.tables import events, pauses, rating_windows, ratings, shifts, stray_counts
from protocol import codec

UID = "04A1B2C3"


@pytest.fixture
def gw(broker, tmp_path, hall):
    with GatewayHarness(broker, tmp_path, hall) as running:
        running.add_window("w3", 3)
        running.add_window("w4", 4)
        running.add_device("t-01", "terminal", window="w3")
        running.add_device("t-02", "terminal", window="w4")
        running.add_device("b-01", "ratingbox", window="w3", paired="t-01")
        running.staff_id = running.add_staff("张三", "1001", badge_uid=UID)
        yield running


def refused(gw, event_id, device="t-01"):
    return gw.rows(events, events.c.device == device, events.c.event_id == event_id)[0].refused


def test_badge_login_opens_shift_and_shows_name_and_staff_number(gw):
    with gw.device("t-01") as dev:
        dev.send_acked("badge", uid=UID.lower(), action="login")
        session = dev.command("session")
    assert session["state"] == "open" and session["window"] == "3号窗口"
    assert session["clerk"] == {"name": "张三", "staff_no": "1001", "role": "clerk"}
    (shift,) = gw.rows(shifts)
    assert shift.staff_id == gw.staff_id and shift.window == "w3" and shift.ended_ms is None


def test_unknown_badge_is_rejected_in_chinese_and_changes_nothing(gw):
    with gw.device("t-01") as dev:
        event_id = dev.send_acked("badge", uid="DEADBEEF", action="login")
        session = dev.command("session")
    assert session == {"v": 1, "ts": session["ts"], "state": "rejected", "reason": "未登记的工牌"}
    assert gw.rows(shifts) == [] and refused(gw, event_id) == "unknown_badge"


def test_logout_ends_shift_and_closes_session(gw):
    with gw.device("t-01") as dev:
        dev.send_acked("badge", uid=UID, action="login")
        dev.send_acked("badge", uid=UID, action="logout")
        assert [dev.command("session")["state"] for _ in range(2)] == ["open", "closed"]
    (shift,) = gw.rows(shifts)
    assert shift.ended_ms >= shift.started_ms and shift.end_reason == "logout"


def test_logout_without_login_is_refused(gw):
    with gw.device("t-01") as dev:
        event_id = dev.send_acked("badge", uid=UID, action="logout")
    assert refused(gw, event_id) == "not_logged_in" and gw.rows(shifts) == []


def test_login_at_another_terminal_moves_the_clerk_and_tells_the_first(gw):
    with gw.device("t-01") as first, gw.device("t-02") as second:
        first.send_acked("badge", uid=UID, action="login")
        first.command("session")
        second.send_acked("badge", uid=UID, action="login")
        assert first.command("session")["state"] == "closed"
        assert second.command("session")["window"] == "4号窗口"
    ended, current = sorted(gw.rows(shifts), key=lambda s: s.id)
    assert ended.end_reason == "moved" and current.device == "t-02" and current.ended_ms is None


def test_pause_with_reason_and_resume(gw):
    with gw.device("t-01") as dev:
        dev.send_acked("badge", uid=UID, action="login")
        dev.send_acked("clerk", action="pause", reason="meal")
        dev.send_acked("clerk", action="resume")
    (pause,) = gw.rows(pauses)
    assert pause.reason == "meal" and pause.ended_ms >= pause.started_ms


@pytest.mark.parametrize(
    ("actions", "reason"),
    [([], "no_shift"), (["login", "pause"], "already_paused"), (["login"], "not_paused")],
    ids=["pause-without-shift", "pause-twice", "resume-without-pause"],
)
def test_impossible_pause_actions_are_refused(gw, actions, reason):
    with gw.device("t-01") as dev:
        for action in actions:
            if action == "login":
                dev.send_acked("badge", uid=UID, action="login")
            else:
                dev.send_acked("clerk", action="pause", reason="meeting")
        last = "resume" if reason == "not_paused" else "pause"
        event_id = dev.send_acked("clerk", action=last, reason="meeting")
    assert refused(gw, event_id) == reason


def test_rating_is_bound_to_service_clerk_and_window(gw):
    with gw.device("t-01") as dev:
        dev.send_acked("badge", uid=UID, action="login")
        rw = dev.open_rating(ticket="A012", service="realestate", matter="M1", case_no="C-9")
        dev.rate(rw, "very_satisfied")
    (rating,) = gw.rows(ratings)
    (window,) = gw.rows(rating_windows)
    assert rating.level == "very_satisfied" and not rating.bad and rating.staff_id == gw.staff_id
    assert rating.window == "w3" and window.case_no == "C-9" and window.ticket == "A012"
    assert window.outcome == "rated"


def test_bad_rating_is_marked_for_follow_up_with_reasons(gw):
    with gw.device("t-01") as dev:
        rw = dev.open_rating(ticket="A013")
        dev.rate(rw, "very_dissatisfied", reasons=["slow", "attitude"])
    (rating,) = gw.rows(ratings)
    assert rating.bad and rating.reasons == ["slow", "attitude"] and not rating.excluded


def test_rating_without_open_window_on_that_device_is_refused(gw):
    with gw.device("t-01") as t, gw.device("t-02") as other:
        rw = t.open_rating(ticket="A014")
        event_id = other.rate(rw, "satisfied")  # same rw id, other device
        nowhere = t.rate("1-999", "satisfied")
    assert refused(gw, event_id, "t-02") == "no_rating_window"
    assert refused(gw, nowhere) == "no_rating_window" and gw.rows(ratings) == []


def test_second_rating_for_same_window_or_same_service_is_refused(gw):
    with gw.device("t-01") as dev, gw.device("b-01") as box:
        rw = dev.open_rating(ticket="A015", case_no="C-15")
        dev.rate(rw, "satisfied")
        again = dev.rate(rw, "very_dissatisfied")
        box_rw = box.open_rating(ticket="A015", case_no="C-15")  # the box opened for it too
        second = box.rate(box_rw, "dissatisfied")
    assert refused(gw, again) == "rating_window_closed"
    assert refused(gw, second, "b-01") == "already_rated"
    assert [r.level for r in gw.rows(ratings)] == ["satisfied"]


def test_unrated_is_stored_as_unrated_never_as_a_level(gw):
    with gw.device("t-01") as dev:
        rw = dev.open_rating(ticket="A016")
        dev.send_acked("unrated", rw=rw, reason="timeout")
        late = dev.rate(rw, "satisfied")
    (window,) = gw.rows(rating_windows)
    assert window.outcome == "unrated" and window.unrated_reason == "timeout"
    assert gw.rows(ratings) == [] and refused(gw, late) == "rating_window_closed"


def test_rating_box_window_rates_the_paired_terminals_clerk(gw):
    with gw.device("t-01") as dev, gw.device("b-01") as box:
        dev.send_acked("badge", uid=UID, action="login")
        rw = box.open_rating(ticket="A017")
        box.rate(rw, "basic")
    (rating,) = gw.rows(ratings)
    assert rating.staff_id == gw.staff_id and rating.device == "b-01"


def test_stray_presses_are_counted_per_device_and_day(gw):
    with gw.device("b-01") as box:
        box.send_acked("stray", count=3)
        box.send_acked("stray", count=2)
    (row,) = gw.rows(stray_counts)
    assert row.device == "b-01" and row.count == 5


def test_a_rating_that_overtakes_its_rw_open_waits_for_it_and_is_then_stored(gw):
    """Redelivery after a gateway crash can put a rating ahead of its rw_open: the rating is
    neither refused nor acked, so the device sends it again once the window is known."""
    with gw.device("t-01") as dev:
        dev.send_acked("badge", uid=UID, action="login")
        rw = dev.next_id()
        rating = dev.event("rating", rw=rw, level="very_dissatisfied")
        topic = f"yp/1/{gw.hall}/t-01/evt/"
        dev.publish_raw(topic + "rating", codec.encode_event("rating", rating))
        dev.sync()
        assert rating["id"] not in dev.acked
        assert gw.rows(events, events.c.event_id == rating["id"]) == []
        dev.send_acked("rw_open", id=rw, rw=rw, timeout_s=30, by="clerk")
        dev.publish_raw(topic + "rating", codec.encode_event("rating", rating))  # the resend
        dev.wait_ack(rating["id"])
    (stored,) = gw.rows(ratings)
    assert stored.level == "very_dissatisfied"
    assert refused(gw, rating["id"]) is None


def test_a_rating_for_a_window_never_opened_is_still_refused(gw):
    with gw.device("t-01") as dev:
        dev.send_acked("badge", uid=UID, action="login")
        later = dev.rate("1-999", "satisfied")  # not an earlier event of this boot
    assert refused(gw, later) == "no_rating_window"
