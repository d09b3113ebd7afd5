"""The whole window terminal in-process: the real firmware build on gpiozero's MockFactory, luma's
dummy display and the simulated PN532 / TTS module, over a real Mosquitto, against the real
gateway or a minimal stand-in where a fault needs precise control."""

from __future__ import annotations

import pytest
from support.terminal import UID, Counter, StandInGateway, wait_for, write_config

from firmware.terminal import phrases
from firmware.terminal import view as v


@pytest.fixture
def standin(broker, hall):
    with StandInGateway(broker, hall, clerks={UID: ("张伟", "HN0123")}) as gw:
        yield gw


def test_badge_login_shows_the_work_badge_greets_and_rating_is_stored(
    broker, hall, tmp_path, standin
):
    with Counter(write_config(tmp_path, broker, hall, "w-01")) as counter:
        counter.login()
        assert counter.view.clerk == v.Clerk("张伟", "HN0123") and counter.view.mode == v.SERVING
        counter.wait(lambda c: phrases.login_greeting("张伟") in c.spoken, "greeting spoken")
        counter.press("complete")
        counter.wait(lambda c: phrases.RATE_PROMPT in c.spoken, "prompt spoken")
        assert counter.view.mode == v.RATING and counter.view.seconds_left == 15
        counter.press("rate2")
        assert counter.leds == [False, True, False, False, False]
        assert counter.view.mode == v.THANKS
        counter.wait(lambda c: phrases.THANKS in c.spoken, "thanks spoken")
        wait_for(lambda: standin.count("rating") == 1, what="rating stored")
        counter.wait(lambda c: c.terminal.outbox.depth() == 0, "outbox empty")
    [rating] = standin.events("rating")
    assert rating["level"] == "satisfied" and rating["rw"] == standin.events("rw_open")[0]["rw"]


def test_unknown_badge_is_refused_on_screen(broker, hall, tmp_path, standin):
    with Counter(write_config(tmp_path, broker, hall, "w-01")) as counter:
        counter.wait(lambda c: c.terminal.link.online, "online")
        counter.tap("04FFEEDD")
        counter.wait(lambda c: c.view.message == "未登记的工牌", "refusal shown")
        assert counter.view.clerk is None


def test_broker_restart_mid_stream_loses_nothing(broker, hall, tmp_path, standin):
    with Counter(write_config(tmp_path, broker, hall, "w-01")) as counter:
        counter.login()
        for round_ in range(6):
            if round_ == 3:
                broker.restart(down_s=0.5, kill=True)
            counter.rate(f"rate{round_ % 3 + 1}")
            counter.wait(lambda c: c.view.mode == v.SERVING, "back to serving")
        wait_for(lambda: standin.count("rating") == 6, what="every rating stored")
        counter.wait(lambda c: c.terminal.outbox.depth() == 0, "outbox empty")
    levels = sorted(e["level"] for e in standin.events("rating"))
    assert levels == sorted(["very_satisfied", "satisfied", "basic"] * 2)
    assert standin.count("rw_open") == 6


def test_full_outbox_while_offline_drops_heartbeats_never_ratings(broker, hall, tmp_path, standin):
    sections = {
        "outbox": f'path = "{tmp_path / "bound.db"}"\nmax_events = 10\n',
        "heartbeat": "interval_s = 1\n",
        "rating": "window_s = 15\nreasons_s = 1\nthanks_s = 0.5\n",
    }
    with Counter(write_config(tmp_path, broker, hall, "w-01", **sections)) as counter:
        counter.login()
        counter.wait(lambda c: c.terminal.outbox.depth() == 0, "login acked")
        broker.stop()
        box = counter.terminal.outbox
        counter.wait(lambda c: box.count("heartbeat") >= 3, "heartbeats waiting offline")
        for key in ("rate1", "rate4", "rate2", "rate5"):
            counter.rate(key)
            counter.wait(lambda c: c.view.mode == v.SERVING, "back to serving")
        # 12 events a citizen or clerk made, over the bound of 10: the heartbeats made room
        # and went, new ones are refused; not one rating, window or clerk event was dropped.
        assert box.dropped.get("heartbeat", 0) >= 3 and box.count("heartbeat") == 0
        assert (box.count("rating"), box.count("rw_open"), box.count("clerk")) == (4, 4, 4)
        assert box.depth() == 12
        broker.start()
        wait_for(lambda: standin.count("rating") == 4, what="every rating delivered")
        counter.wait(lambda c: c.terminal.outbox.depth() == 0, "outbox empty")
    assert all("outbox" in beat for beat in standin.events("heartbeat"))


def test_missing_badge_reader_and_voice_cost_logins_and_speech_never_ratings(
    broker, hall, tmp_path, standin
):
    path = write_config(tmp_path, broker, hall, "w-01")
    text = path.read_text().replace('port = "ypnfc://', 'port = "/dev/yp-no-such-reader-')
    path.write_text(text.replace('port = "yptts://', 'port = "/dev/yp-no-such-tts-'))
    with Counter(path) as counter:
        counter.wait(lambda c: c.terminal.link.online, "online")
        standin.command(
            "w-01", "session", state="open", clerk={"name": "张伟", "staff_no": "HN0123"}
        )
        counter.wait(lambda c: c.view.clerk is not None, "session opened by the gateway")
        counter.rate("rate3")
        wait_for(lambda: standin.count("rating") == 1, what="rating stored")


def test_commands_sent_while_the_device_was_down_arrive_after_restart(
    broker, hall, tmp_path, standin
):
    path = write_config(tmp_path, broker, hall, "w-01")
    with Counter(path) as counter:
        counter.login()
    standin.command("w-01", "ticket", action="call", ticket="A012", voice="请A012号到3号窗口办理")
    with Counter(path) as counter:  # same client id, persistent session: the broker kept it
        counter.wait(lambda c: c.view.ticket == "A012", "ticket shown after restart")
        assert counter.view.clerk == v.Clerk("张伟", "HN0123")  # the session was remembered
        counter.wait(lambda c: "请A012号到3号窗口办理" in c.spoken, "call announced")


def test_a_failing_input_is_logged_and_changes_nothing(broker, hall, tmp_path, standin, caplog):
    with Counter(write_config(tmp_path, broker, hall, "w-01")) as counter:
        counter.wait(lambda c: c.terminal.link.online, "online")
        before = counter.view
        counter.terminal.tap("NOT-A-UID")  # a garbled read: no valid badge event can carry it
        assert "failed to handle badge" in caplog.text and "uid" in caplog.text
        assert counter.view == before and counter.terminal.outbox.count("badge") == 0
        counter.login()  # every thread lives on
        counter.rate("rate1")
        wait_for(lambda: standin.count("rating") == 1, what="rating stored")


def test_update_commands_reach_the_updater_and_its_reports_the_gateway(
    broker, hall, tmp_path, standin
):
    from gateway.release import signing

    signing.keygen(tmp_path / "k")
    key = (tmp_path / "k" / "release.pub").read_text().strip()
    update = f'root = "{tmp_path / "opt"}"\npublic_key = "{key}"\n'
    with Counter(write_config(tmp_path, broker, hall, "w-01", update=update)) as counter:
        assert counter.terminal.updater is not None
        counter.wait(lambda c: c.terminal.link.online, "online")
        forged = {"release": "r-9", "version": "9.0.0", "url": "http://127.0.0.1:9/x"}
        standin.command("w-01", "update", **forged, sha256="0" * 64, sig="AAAA", size=10)
        wait_for(lambda: standin.count("update") == 1, what="update report")
    [report] = standin.events("update")
    assert (report["state"], report["version"]) == ("refused", "9.0.0")
