"""A window terminal (real firmware on simulated hardware) and the real gateway: the QR code the
terminal shows leads to the gateway's phone page; a rating made there ends the terminal's window
with thanks and no `unrated`; keys pressed first leave the phone nothing to rate."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from support.gateway import GatewayHarness
from support.terminal import UID, Counter, wait_for, write_config

from firmware.terminal import view as v
from firmware.terminal.screens import qr_fits
from gateway.store.tables import events, ratings

WINDOW_S = 10  # pushed by the gateway: long enough to scan under load, short enough to outwait
RATING = "window_s = 15\nreasons_s = 10\nthanks_s = 3\n"  # thanks long enough to be seen


@pytest.fixture
def hall_and_terminal(broker, hall, tmp_path):
    harness = GatewayHarness(
        broker, tmp_path, hall, rate_url="http://gw.local:8080/r", rating_timeout_s=WINDOW_S
    )
    with harness as gw:
        gw.add_window("w3", 3)
        gw.add_device("w-01", "terminal", window="w3")
        gw.add_staff("张三", "1001", badge_uid=UID)
        with Counter(write_config(tmp_path, broker, hall, "w-01", rating=RATING)) as counter:
            counter.wait(lambda c: c.terminal.machine.pushed.get("badge_key"), "config pushed")
            counter.login()
            with TestClient(gw.gateway.http_app()) as http:
                yield gw, counter, http


def open_with_qr(counter):
    counter.press("complete")
    counter.wait(lambda c: c.view.mode == v.RATING, "rating window")
    counter.press("complete")  # 评价 again: the QR code for the phone
    counter.wait(lambda c: c.view.mode == v.RATING_QR, "QR code shown")
    url = counter.view.qr_url
    assert url.startswith("http://gw.local:8080/r/") and qr_fits(url)
    # A citizen takes seconds to scan; the test scans at once, so it waits as long as the gateway
    # needs to store the window's rw_open (the link is unknown until then).
    counter.wait(lambda c: c.terminal.outbox.open_window() and c.terminal.outbox.depth() == 0,
                 "rw_open acked")  # fmt: skip
    return "/r/" + url.rsplit("/", 1)[1]


def of_device(gw, kind):
    return gw.rows(
        events, events.c.hall == gw.hall, events.c.device == "w-01", events.c.kind == kind
    )


def test_a_phone_rating_ends_the_terminals_window_with_thanks_and_no_unrated(hall_and_terminal):
    gw, counter, http = hall_and_terminal
    link = open_with_qr(counter)
    assert "请对我的服务进行评价" in http.get(link).text
    assert http.post(link, data={"level": "very_satisfied"}).status_code == 200
    counter.wait(lambda c: c.view.mode == v.THANKS, "thanks shown")
    counter.wait(lambda c: c.spoken and "谢谢您的评价" in c.spoken[-1], "thanks spoken")
    counter.wait(lambda c: c.view.mode == v.SERVING, "back to serving")
    time.sleep(WINDOW_S + 1)  # past the window's deadline: nothing may time out now
    counter.wait(lambda c: c.terminal.outbox.depth() == 0, "outbox acked")
    [rating] = gw.rows(ratings, ratings.c.hall == gw.hall)
    assert (rating.level, rating.channel) == ("very_satisfied", "phone")
    assert of_device(gw, "unrated") == [] and counter.terminal.outbox.open_window() is None


def test_keys_pressed_first_the_phone_is_told_it_is_already_rated(hall_and_terminal):
    gw, counter, http = hall_and_terminal
    link = open_with_qr(counter)
    counter.press("rate2")  # 满意 on the keys
    wait_for(lambda: gw.rows(ratings, ratings.c.hall == gw.hall), what="key rating stored")
    refused = http.post(link, data={"level": "very_dissatisfied", "final": "1"})
    assert refused.status_code == 409 and "已评价，谢谢" in refused.text
    [rating] = gw.rows(ratings, ratings.c.hall == gw.hall)
    assert (rating.level, rating.channel) == ("satisfied", "keys")


def test_no_window_open_the_phone_link_rates_nothing(hall_and_terminal):
    gw, counter, http = hall_and_terminal
    link = open_with_qr(counter)
    counter.wait(lambda c: c.view.mode == v.SERVING, "window timed out")
    wait_for(lambda: of_device(gw, "unrated"), what="unrated stored")
    refused = http.post(link, data={"level": "satisfied"})
    assert refused.status_code == 410 and "本次评价已结束" in refused.text
    assert gw.rows(ratings, ratings.c.hall == gw.hall) == []
