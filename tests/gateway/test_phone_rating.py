"""Rating on a phone (/r/<token>, the link in the terminal's QR code) over the gateway's HTTP app,
with a device speaking MQTT on the real broker: one rating per service, whoever is first."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from support.gateway import GatewayHarness

from gateway.config import Config, ConfigError
from gateway.followup.tables import followup_cases
from gateway.registry import hall_row
from gateway.store.tables import events, rating_windows, ratings
from protocol.ratelink import rate_token


@pytest.fixture
def gw(broker, tmp_path, hall):
    with GatewayHarness(broker, tmp_path, hall, rate_url="http://gw.local:8080/r") as running:
        running.add_window("w3", 3)
        running.add_device("t-01", "terminal", window="w3")
        running.add_device("t-02", "terminal", window="w3")
        yield running


@pytest.fixture
def http(gw):
    with TestClient(gw.gateway.http_app()) as client:
        yield client


@pytest.fixture
def dev(gw):
    with gw.device("t-01") as device:
        device.hello()
        yield device


def token(gw, device, rw):
    with gw.engine.connect() as conn:
        return rate_token(hall_row(conn, gw.hall).badge_key, device, rw)


def stored(gw):
    return gw.rows(ratings, ratings.c.hall == gw.hall)


def window_of(gw, rw):
    [row] = gw.rows(rating_windows, rating_windows.c.hall == gw.hall, rating_windows.c.rw == rw)
    return row


def test_the_page_offers_the_five_levels_and_a_press_is_stored_as_a_phone_rating(gw, http, dev):
    rw = dev.open_rating(ticket="A012")
    page = http.get(f"/r/{token(gw, 't-01', rw)}")
    assert page.status_code == 200
    assert "请对我的服务进行评价" in page.text and "3号窗口" in page.text
    for label in ("非常满意", "满意", "基本满意", "不满意", "非常不满意"):
        assert f">{label}</button>" in page.text
    done = http.post(f"/r/{token(gw, 't-01', rw)}", data={"level": "satisfied"})
    assert done.status_code == 200 and "感谢您的评价" in done.text
    [rating] = stored(gw)
    assert (rating.level, rating.channel, rating.device, rating.bad) == (
        "satisfied",
        "phone",
        "t-01",
        False,
    )
    assert window_of(gw, rw).outcome == "rated"
    assert dev.command("rw_close") | {"ts": 0} == {
        "v": 1,
        "ts": 0,
        "rw": rw,
        "outcome": "rated",
        "channel": "phone",
    }


def test_a_bad_level_asks_for_reasons_first_and_opens_a_follow_up_case(gw, http, dev):
    rw = dev.open_rating()
    link = f"/r/{token(gw, 't-01', rw)}"
    ask = http.post(link, data={"level": "very_dissatisfied"})
    assert ask.status_code == 200 and "服务态度差" in ask.text and "流程太繁琐" in ask.text
    assert stored(gw) == []  # nothing stored before the reasons step is submitted
    form = {"level": "very_dissatisfied", "final": "1", "reason": ["slow", "unclear"]}
    assert http.post(link, data=form).status_code == 200
    [rating] = stored(gw)
    assert (rating.level, rating.reasons, rating.bad) == (
        "very_dissatisfied",
        ["slow", "unclear"],
        True,
    )
    assert len(gw.rows(followup_cases, followup_cases.c.rating_id == rating.id)) == 1


def test_keys_pressed_first_the_phone_is_thanked_and_nothing_changes(gw, http, dev):
    rw = dev.open_rating()
    dev.rate(rw, "basic")
    link = f"/r/{token(gw, 't-01', rw)}"
    page = http.get(link)
    assert page.status_code == 409 and "已评价，谢谢" in page.text
    refused = http.post(link, data={"level": "very_dissatisfied", "final": "1"})
    assert refused.status_code == 409 and "已评价，谢谢" in refused.text
    assert [(r.level, r.channel) for r in stored(gw)] == [("basic", "keys")]


def test_the_phone_first_then_the_devices_rating_or_unrated_is_refused_not_stored(gw, http, dev):
    rw = dev.open_rating()
    http.post(f"/r/{token(gw, 't-01', rw)}", data={"level": "very_satisfied"})
    late_key = dev.rate(rw, "dissatisfied")  # pressed before the device heard of the phone
    late_unrated = dev.send_acked("unrated", rw=rw, reason="timeout")
    assert [(r.level, r.channel) for r in stored(gw)] == [("very_satisfied", "phone")]
    assert window_of(gw, rw).outcome == "rated"
    refused = gw.rows(
        events, events.c.hall == gw.hall, events.c.event_id.in_([late_key, late_unrated])
    )
    assert {e.refused for e in refused} == {"rating_window_closed"}


def test_a_second_phone_submit_is_refused(gw, http, dev):
    rw = dev.open_rating()
    link = f"/r/{token(gw, 't-01', rw)}"
    assert http.post(link, data={"level": "satisfied"}).status_code == 200
    again = http.post(link, data={"level": "very_dissatisfied", "final": "1"})
    assert again.status_code == 409 and "已评价，谢谢" in again.text
    assert [r.level for r in stored(gw)] == ["satisfied"]


@pytest.mark.parametrize("whose", ["another device", "another window", "made up"])
def test_a_token_of_another_device_or_window_is_refused(gw, http, dev, whose):
    rw = dev.open_rating()
    wrong = {
        "another device": token(gw, "t-02", rw),
        "another window": token(gw, "t-01", "1-999"),
        "made up": "abcdefghij",
    }[whose]
    assert http.get(f"/r/{wrong}").status_code == 404
    refused = http.post(f"/r/{wrong}", data={"level": "satisfied"})
    assert refused.status_code == 404 and "链接无效" in refused.text
    assert stored(gw) == [] and window_of(gw, rw).outcome is None


def test_a_window_closed_unrated_cannot_be_rated_from_the_phone(gw, http, dev):
    rw = dev.open_rating()
    dev.send_acked("unrated", rw=rw, reason="timeout")
    link = f"/r/{token(gw, 't-01', rw)}"
    assert http.get(link).status_code == 410
    refused = http.post(link, data={"level": "satisfied"})
    assert refused.status_code == 410 and "本次评价已结束" in refused.text
    assert stored(gw) == [] and window_of(gw, rw).outcome == "unrated"


@pytest.mark.parametrize(
    "form",
    [
        {"level": "great"},
        {},
        {"level": "satisfied", "reason": "slow"},  # reasons only go with a bad level
        {"level": "dissatisfied", "final": "1", "reason": "rude"},
        {"level": "dissatisfied", "final": "1", "reason": ["slow", "slow"]},
    ],
)
def test_a_bad_form_gets_a_clear_error_and_stores_nothing(gw, http, dev, form):
    rw = dev.open_rating()
    refused = http.post(f"/r/{token(gw, 't-01', rw)}", data=form)
    assert refused.status_code == 400 and "提交的内容有误" in refused.text
    assert stored(gw) == [] and window_of(gw, rw).outcome is None


def test_a_rate_url_too_long_for_the_qr_code_is_refused_by_name():
    with pytest.raises(ConfigError, match="rate_url .* too long for the terminal's QR code"):
        Config(hall="h", rate_url="http://a-rather-long-gateway-name.hall.example:8080/r")
    assert Config(hall="h", rate_url="http://192.168.100.200:8080/r").rate_url
