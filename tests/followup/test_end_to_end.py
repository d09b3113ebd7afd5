"""Over a real Mosquitto and a real gateway: a device's 非常不满意 becomes a case with the right
deadline and assignee, an alert on the feed and the webhook, and an upload to the province."""

from __future__ import annotations

import datetime as dt

import pytest
from support.gateway import GatewayHarness
from support.province_standin import ProvinceStandin

from followup.receiver import Receiver
from gateway.followup.errors import CalendarError
from gateway.followup.tables import followup_cases
from gateway.followup.workdays import WEEKDAYS_ONLY, WorkCalendar, china_date, end_of_day_ms
from gateway.store.tables import ratings
from gateway.upload.tables import upload_outbox

UID = "04A1B2C3"


def settings_file(tmp_path, province, receiver):
    path = tmp_path / "followup.toml"
    path.write_text(
        f"""
[followup]
workdays = 7
manager = "M001"
[followup.team_leaders]
"综合受理组" = "L001"

[upload]
url = "{province.url}"
token = "t0ken"
ca_file = "{province.ca_file}"
poll_s = 0.2

[alerts]
webhook = "{receiver.url}"
webhook_backoff_s = 0.05
""",
        encoding="utf-8",
    )
    return str(path)


@pytest.fixture
def hall_gw(broker, tmp_path, hall):
    with Receiver() as receiver, ProvinceStandin(tls_dir=tmp_path, token="t0ken") as province:
        feeds = []
        setup = lambda gw: feeds.append(gw.alerts.subscribe())  # noqa: E731 - before start
        path = settings_file(tmp_path, province, receiver)
        with GatewayHarness(broker, tmp_path, hall, followup=path, setup=setup) as gw:
            gw.add_window("w3", 3)
            gw.add_device("t-01", "terminal", window="w3")
            gw.add_staff("张三", "1001", badge_uid=UID, team="综合受理组")
            gw.add_staff("王组长", "L001", team="综合受理组")
            gw.feed, gw.receiver, gw.province = feeds[0], receiver, province
            yield gw


def expected_due(at_ms, days):
    try:
        due = WorkCalendar().add_workdays(china_date(at_ms), days)
    except CalendarError:  # run in a year the holiday package does not know yet
        due = WEEKDAYS_ONLY.add_workdays(china_date(at_ms), days)
    return due.isoformat(), end_of_day_ms(due)


def test_device_very_dissatisfied_opens_case_alerts_and_uploads(hall_gw):
    gw = hall_gw
    with gw.device("t-01") as dev:
        dev.send_acked("badge", uid=UID, action="login")
        rw = dev.open_rating(ticket="A001", service="realestate", service_name="不动产登记",
                             matter="410100-BDC-01", case_no="4101002026000123")  # fmt: skip
        dev.rate(rw, "very_dissatisfied", reasons=["slow"])
        # The ack came after the commit that holds the rating AND its case.
        (rating,) = gw.rows(ratings)
        (case,) = gw.rows(followup_cases)
    assert (case.rating_id, case.state, case.level) == (rating.id, "open", "very_dissatisfied")
    assert (case.assignee, case.assigned_by, case.clerk, case.window) == (
        "L001",
        "team_leader",
        "1001",
        "w3",
    )
    assert (case.due_date, case.due_ms) == expected_due(rating.at_ms, 7)

    alert = gw.feed.get(timeout=10)
    assert alert is not None and alert.kind == "bad_rating"
    assert alert.title == "3号窗口 张三 收到差评：非常不满意"
    assert (alert.data["case"], alert.data["assignee"]) == (case.id, "L001")
    (hooked,) = gw.receiver.wait_for(1)
    assert (hooked["kind"], hooked["data"]["case"]) == ("bad_rating", case.id)

    deadline = dt.datetime.now() + dt.timedelta(seconds=15)
    while not gw.province.accepted and dt.datetime.now() < deadline:
        gw.feed.get(timeout=0.1)
    (sent,) = gw.province.accepted.values()
    assert (sent["evaluateLevel"], sent["projectNo"], sent["matterCode"]) == (
        1,
        "4101002026000123",
        "410100-BDC-01",
    )
    assert sent["evaluateReasons"] == "办理时间长"


def test_good_rating_is_uploaded_but_opens_no_case_and_no_alert(hall_gw):
    gw = hall_gw
    with gw.device("t-01") as dev:
        dev.send_acked("badge", uid=UID, action="login")
        dev.rate(dev.open_rating(ticket="A002"), "satisfied")
    assert gw.rows(followup_cases) == [] and len(gw.rows(upload_outbox)) == 1
    assert gw.feed.get(timeout=1.0) is None


def test_refused_rating_opens_no_case(hall_gw):
    gw = hall_gw
    with gw.device("t-01") as dev:
        dev.send_acked("badge", uid=UID, action="login")
        dev.rate("1-999", "very_dissatisfied")  # no such rating window: the core refuses it
    assert gw.rows(followup_cases) == [] and gw.rows(upload_outbox) == []


def test_a_ticket_waiting_too_long_in_the_real_queue_alerts_the_duty_manager(
    broker, tmp_path, hall
):
    from gateway.queue.config import SAMPLE
    from gateway.queue.matters import SAMPLE as MATTERS

    queue = tmp_path / "queue.toml"  # the queue's sample hall
    text = SAMPLE.read_text(encoding="utf-8")
    queue.write_text(
        text.replace('matters = "matters.sample.toml"', f'matters = "{MATTERS}"'), encoding="utf-8"
    )
    setup = tmp_path / "followup.toml"
    setup.write_text("[alerts]\nlong_wait_min = 30\n", encoding="utf-8")
    harness = GatewayHarness(broker, tmp_path, hall, queue=str(queue), followup=str(setup))
    with harness as gw:
        issued = int(dt.datetime.now().timestamp() * 1000)
        gw.gateway.queue.transaction(lambda q: q.issue("realestate", "kiosk", "kiosk", issued))
        followup = gw.gateway.followup
        followup.sweep(issued + 29 * 60_000)
        followup.sweep(issued + 31 * 60_000)
        followup.sweep(issued + 45 * 60_000)
        waits = [a for a in gw.gateway.alerts.recent() if a.kind == "long_wait"]
    assert [a.title for a in waits] == ["A001号已等候31分钟"]
    assert waits[0].data["service"] == "realestate"
