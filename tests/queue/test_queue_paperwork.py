"""The hall's queue set-up, the matter catalogue, the written notice, mailing rules, live status."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.queue import config as queue_config
from gateway.queue import errors as e
from gateway.queue import mailing, matters
from gateway.queue.engine import QueueEngine
from gateway.queue.notice import notice_lines, reminder_lines
from gateway.queue.status import ticket_status

TZ = ZoneInfo("Asia/Shanghai")
T0 = int(datetime(2026, 11, 27, 9, 0, tzinfo=TZ).timestamp() * 1000)
SERVICES = [{"id": "tax", "prefix": "T", "name": "税务", "area": "window"}]
WINDOWS = [{"id": "1", "label": "1号窗口", "services": ["tax"]}]


@pytest.fixture(scope="module")
def catalogue() -> matters.Catalogue:
    return matters.load(matters.SAMPLE)


def setup(**extra):
    return queue_config.from_dict(
        {"hall_name": "测试大厅", "services": SERVICES, "windows": WINDOWS, **extra}
    )


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"services": SERVICES * 2}, "unique"),
        ({"services": [dict(SERVICES[0], prefix="TX")]}, "one capital letter"),
        ({"services": [dict(SERVICES[0], area="lobby")]}, "area"),
        ({"windows": [dict(WINDOWS[0], services=["nope"])]}, "unknown"),
        ({"colour": "red"}, "unknown queue settings"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"helper_service": "nope"}, "helper_service"),
        ({"windows": [dict(WINDOWS[0], printer="desk")]}, "printer"),
        ({"status_url": "http://x/status"}, "{token}"),
        ({"day_starts_at": 24}, "hour"),
    ],
)
def test_a_bad_queue_setup_is_refused_with_the_reason(change, problem):
    with pytest.raises(e.ConfigError, match=problem):
        queue_config.from_dict(
            {"hall_name": "测试大厅", "services": SERVICES, "windows": WINDOWS, **change}
        )


def test_the_sample_hall_and_catalogue_load(catalogue):
    hall = queue_config.load(queue_config.SAMPLE)
    assert hall.services["realestate"].area_label == "办事窗口区"
    assert hall.services["helper"].area_label == "帮办代办"
    assert {m.service for m in catalogue.all()} <= set(hall.services)
    assert hall.matters and hall.matters.endswith("matters.sample.toml")


def test_catalogue_from_csv(tmp_path):
    path = tmp_path / "matters.csv"
    path.write_text(
        "code,name,service,time_limit_days,mailable,pickup,materials\n"
        "GJJ-01,住房公积金提取,fund,3,是,,身份证；银行卡；购房合同\n"
        "JZ-02,居住证签注,residence,0,否,2号窗口,居住证\n",
        encoding="utf-8",
    )
    loaded = matters.load(path)
    fund = loaded.get("GJJ-01")
    assert fund.materials == ("身份证", "银行卡", "购房合同") and fund.mailable
    assert not loaded.get("JZ-02").mailable
    with pytest.raises(e.UnknownMatter):
        loaded.get("GJJ-99")


@pytest.mark.parametrize(
    "row, problem",
    [
        ("X-1,名称,svc,1,maybe,,材料", "mailable"),
        ("X-1,名称,svc,一天,是,,材料", "time_limit_days"),
        ("X-1,名称,svc,1,否,,材料", "pickup"),
        ("X-1,名称,svc,1,是,,", "materials"),
    ],
)
def test_bad_catalogue_rows_are_refused(tmp_path, row, problem):
    path = tmp_path / "bad.csv"
    path.write_text(
        "code,name,service,time_limit_days,mailable,pickup,materials\n" + row + "\n",
        encoding="utf-8",
    )
    with pytest.raises(e.ConfigError, match=problem):
        matters.load(path)


def test_one_time_notice_lists_every_material(catalogue):
    lines = notice_lines(catalogue.get("SB-003"), "金水区政务服务中心", T0, TZ)
    assert lines[:3] == ["一次性书面告知单", "金水区政务服务中心", "事项：社会保障卡补换"]
    assert (
        "1. 本人有效身份证件原件" in lines and "2. 近期免冠彩色证件照1张（电子照片亦可）" in lines
    )
    assert "承诺时限：即办" in lines
    assert "结果领取：4号窗口（社保卡服务专区）" in lines
    assert lines[-1] == "告知时间：2026-11-27 09:00"


def test_mailing_rules(catalogue):
    house, card = catalogue.get("BDC-001"), catalogue.get("SB-003")
    record = mailing.check(house, True, " 郑州市金水区花园路1号 ", "138 1234 5678")
    assert record == {
        "wants": True,
        "address": "郑州市金水区花园路1号",
        "phone": "13812345678",
        "matter": "BDC-001",
    }
    assert (
        mailing.check(house, True, "郑州市金水区花园路1号", "0371-65501234")["phone"]
        == "0371-65501234"
    )
    assert mailing.check(card, False, None, None) == {"wants": False}
    with pytest.raises(e.MailingNotPossible, match="不能邮寄"):
        mailing.check(card, True, "郑州市金水区花园路1号", "13812345678")
    with pytest.raises(e.BadInput, match="不登记地址"):
        mailing.check(house, False, "郑州市金水区花园路1号", None)
    with pytest.raises(e.BadInput, match="电话"):
        mailing.check(house, True, "郑州市金水区花园路1号", "110")
    with pytest.raises(e.BadInput, match="地址"):
        mailing.check(house, True, "郑州", "13812345678")
    with pytest.raises(e.BadInput, match="事项"):
        mailing.check(None, True, "郑州市金水区花园路1号", "13812345678")
    assert mailing.masked("13812345678") == "138****5678"


def test_pickup_reminder(catalogue):
    lines = reminder_lines(catalogue.get("CRJ-001"), "D003", "金水区政务服务中心", T0, TZ)
    assert lines[0] == "办结领取提醒" and "号码：D003" in lines
    assert "领取地点：出入境窗口，凭受理回执本人领取" in lines


def test_live_status_shows_position_wait_window_and_paperwork(catalogue):
    q = QueueEngine(queue_config.load(queue_config.SAMPLE))
    first = q.issue("residence", "kiosk", "kiosk", T0).ticket
    mine = q.issue("residence", "kiosk", "kiosk", T0 + 1000, matter="CRJ-001").ticket
    status = ticket_status(q, mine, catalogue, T0 + 2000)
    assert (status["state_label"], status["ahead"], status["window"]) == ("等候中", 1, None)
    assert status["estimated_wait_min"] == 16  # two tickets at the configured 8 minutes, one window
    assert status["notice"][0] == "一次性书面告知单" and status["matter"]["mailable"] is False
    q.call_next("4", "HN01", T0 + 3000)
    q.complete("4", "HN01", T0 + 63_000)
    q.call_next("4", "HN01", T0 + 64_000)
    status = ticket_status(q, mine, catalogue, T0 + 65_000)
    assert status["window"] == {"id": "4", "label": "4号窗口"} and status["ahead"] is None
    q.complete("4", "HN01", T0 + 120_000)
    done = ticket_status(q, mine, catalogue, T0 + 121_000)
    assert done["reminder"][0] == "办结领取提醒"
    assert ticket_status(q, first, catalogue, T0)["reminder"] is None


def test_settings_left_out_come_from_the_gateway(tmp_path):
    path = tmp_path / "queue.toml"
    path.write_text(
        '[[queue.services]]\nid = "tax"\nprefix = "T"\nname = "税务"\narea = "window"\n',
        encoding="utf-8",
    )
    defaults = {"hall_name": "乡镇便民服务中心", "timezone": "Asia/Urumqi", "rating_timeout_s": 20}
    loaded = queue_config.load(path, defaults)
    assert (loaded.hall_name, loaded.timezone, loaded.rating_timeout_s) == tuple(defaults.values())
    with pytest.raises(e.ConfigError, match="cannot read"):
        queue_config.load(tmp_path / "missing.toml")
