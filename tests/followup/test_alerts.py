"""The alert feed (threads and asyncio), the webhook channel against a local receiver, long waits,
and the follow-up watcher's alerts for new and overdue cases."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import pytest

from followup.receiver import Receiver
from followup.seed import HALL, TEAM, ms, offer
from gateway.alerts.feed import AlertFeed
from gateway.alerts.waits import LongWaitWatch, Waiting
from gateway.alerts.webhook import WebhookChannel, WebhookConfig
from gateway.followup import cases
from gateway.followup.config import FollowupConfig
from gateway.followup.errors import FollowupError
from gateway.followup.service import Followup
from gateway.followup.settings import AlertsConfig, Settings

T = ms("2026-03-03 10:00")


def test_every_subscriber_gets_every_alert_in_order():
    feed = AlertFeed()
    with feed.subscribe() as one, feed.subscribe() as two:
        feed.publish("bad_rating", HALL, T, "1号窗口 张三 收到差评：不满意", case=1)
        feed.publish("overdue", HALL, T, "差评案件1已超期", case=1)
        got = [[s.get(1).kind for _ in range(2)] for s in (one, two)]
    assert got == [["bad_rating", "overdue"]] * 2


def test_closed_subscription_gets_nothing_more_and_recent_replays_after_an_id():
    feed = AlertFeed()
    sub = feed.subscribe()
    first = feed.publish("bad_rating", HALL, T, "甲")
    sub.close()
    second = feed.publish("bad_rating", HALL, T, "乙")
    assert sub.get(0.01) == first and sub.get(0.01) is None
    assert feed.recent(first.id) == [second] and second.id == first.id + 1


def test_slow_subscriber_loses_its_oldest_alerts_never_blocks_the_publisher():
    feed = AlertFeed()
    sub = feed.subscribe(maxsize=2)
    for i in range(5):
        feed.publish("bad_rating", HALL, T, f"第{i}条")
    assert [sub.get(0).title for _ in range(2)] == ["第3条", "第4条"] and sub.missed == 3


def test_unknown_alert_kind_is_refused():
    with pytest.raises(ValueError, match="alert kind"):
        AlertFeed().publish("gossip", HALL, T, "闲聊")


def test_asyncio_subscriber_is_woken_by_a_publish_from_another_thread():
    feed = AlertFeed()

    async def main():
        sub = feed.subscribe_async()
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, lambda: loop.run_in_executor(
            None, lambda: feed.publish("long_wait", HALL, T, "A012号已等候45分钟")))  # fmt: skip
        got = await sub.get(timeout=5)
        nothing = await sub.get(timeout=0.05)
        return got, nothing

    got, nothing = asyncio.run(main())
    assert got.title == "A012号已等候45分钟" and nothing is None


def test_webhook_posts_json_signed_and_retries_until_the_receiver_takes_it():
    with Receiver() as receiver:
        receiver.failures = 2
        channel = WebhookChannel(WebhookConfig(receiver.url, secret="s3cret", backoff_s=0.02))
        feed = AlertFeed()
        feed.add_channel(channel)
        alert = feed.publish("bad_rating", HALL, T, "2号窗口 李四 收到差评：非常不满意", case=7)
        (body,) = receiver.wait_for(1)
        channel.close()
        headers = receiver.posts[0][0]
    assert body == alert.as_dict() and body["title"].startswith("2号窗口")
    assert receiver.attempts == 3 and (channel.delivered, channel.failed) == (1, 0)
    raw = json.dumps(alert.as_dict(), ensure_ascii=False).encode()
    assert headers["x-yuping-signature"] == hmac.new(b"s3cret", raw, hashlib.sha256).hexdigest()


def test_webhook_gives_up_after_its_attempts_and_counts_the_failure():
    with Receiver() as receiver:
        receiver.failures = 100
        channel = WebhookChannel(WebhookConfig(receiver.url, attempts=3, backoff_s=0.01))
        channel.deliver(AlertFeed().publish("overdue", HALL, T, "超期"))
        channel.close()
    assert (receiver.attempts, channel.delivered, channel.failed) == (3, 0, 1)


@pytest.mark.parametrize("table", [{"webhook": "ftp://x"}, {"webhok": "http://x"}])
def test_unusable_alert_settings_are_refused(table):
    with pytest.raises(FollowupError):
        Settings.from_dict({"alerts": table})


def test_long_wait_alerts_once_per_ticket_when_it_passes_the_threshold():
    feed, waiting = (
        AlertFeed(),
        [Waiting("A012", "realestate", T), Waiting("A013", "realestate", T + 20 * 60_000)],
    )
    watch = LongWaitWatch(feed, HALL, 30, lambda: waiting)
    assert watch.check(T + 29 * 60_000) == 0
    assert watch.check(T + 30 * 60_000) == 1 and watch.check(T + 40 * 60_000) == 0
    waiting.pop(0)  # A012 called
    assert watch.check(T + 50 * 60_000) == 1
    titles = [a.title for a in feed.recent()]
    assert titles == ["A012号已等候30分钟", "A013号已等候30分钟"]


def test_watcher_alerts_each_new_case_once_and_each_escalation(engine):
    cfg = FollowupConfig(manager="M001", team_leaders={TEAM: "L001"})
    feed = AlertFeed()
    followup = Followup(engine, HALL, Settings(cfg, None, AlertsConfig()), feed)
    with engine.begin() as conn:
        rating = offer(conn, "2026-03-03 09:00", level="dissatisfied")
        cases.open_case(conn, cfg, cases.rating_facts(conn, rating))
    assert followup.alert_new_cases() == 1 and followup.alert_new_cases() == 0
    assert followup.sweep(ms("2026-03-10 12:00")) == 0  # due end of 10 March
    assert followup.sweep(ms("2026-03-11 00:00")) == 1
    new, overdue = feed.recent()
    assert new.title == "1号窗口 张三 收到差评：不满意" and new.data["assignee"] == "L001"
    assert overdue.kind == "overdue" and overdue.data["to"] == "M001"
    assert "应于2026-03-10前整改" in overdue.title


def test_unassigned_case_raises_its_own_alert(engine):
    feed = AlertFeed()
    followup = Followup(engine, HALL, Settings(), feed)
    with engine.begin() as conn:
        rating = offer(conn, "2026-03-03 09:00", clerk="1002", level="dissatisfied")
        cases.open_case(conn, FollowupConfig(), cases.rating_facts(conn, rating))
    followup.alert_new_cases()
    assert [a.kind for a in feed.recent()] == ["bad_rating", "unassigned"]


def test_the_documented_example_settings_load():
    from pathlib import Path

    settings = Settings.load(Path(__file__).parents[2] / "docs" / "followup.example.toml")
    assert settings.followup.team_leaders["综合受理组"] == "L001"
    assert settings.upload is not None and settings.upload.levels["very_dissatisfied"] == 1
    assert (
        settings.upload.fields["case_no"] == "projectNo"
        and settings.upload.fields["level"] == "evaluateLevel"
    )


def test_a_broken_setup_file_is_a_config_error_naming_the_file(tmp_path):
    from gateway.config import ConfigError

    bad = tmp_path / "followup.toml"
    bad.write_text("[followup]\nworkdays = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="followup.toml"):
        Settings.load(bad)
    bad.write_text("[upload]\nurl = 'https://x'\n[upload.levels]\nbest = 5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="exactly"):
        Settings.load(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        Settings.load(tmp_path / "missing.toml")
