"""The queue inside a real gateway over a real Mosquitto: window devices' clerk keys, the JSON
API, tickets printed on a simulated ESC/POS printer, and a restart that loses nothing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from support.gateway import GatewayHarness

from gateway.queue.config import SAMPLE
from gateway.queue.matters import SAMPLE as MATTERS
from gateway.queue.tables import queue_actions, queue_tickets
from gateway.store.tables import events
from simulator.serialsim import printer, register

CLERK_UID, OTHER_UID, HELPER_UID = "04A1B2C3", "04D4E5F6", "0A0B0C0D"


def queue_file(tmp_path: Path, uid: str) -> Path:
    """The sample hall, with this test's own simulated printers."""
    text = SAMPLE.read_text(encoding="utf-8")
    text = text.replace('matters = "matters.sample.toml"', f'matters = "{MATTERS}"')
    text = text.replace(
        '[[queue.windows]]\nid = "3"', '[[queue.windows]]\nid = "3"\nprinter = "desk"', 1
    )
    text += (
        f'\n[queue.printers]\nkiosk = "ypprinter://kiosk-{uid}"\ndesk = "ypprinter://desk-{uid}"\n'
    )
    path = tmp_path / "queue.toml"
    path.write_text(text, encoding="utf-8")
    return path


def start(broker, tmp_path, hall, uid, **kw) -> GatewayHarness:
    gw = GatewayHarness(broker, tmp_path, hall, queue=str(queue_file(tmp_path, uid)), **kw)
    gw.start()
    return gw


def furnish(gw: GatewayHarness) -> None:
    for number in (2, 3, 4, 5):
        gw.add_window(str(number), number)
        gw.add_device(f"t-0{number}", "terminal", window=str(number))
    clerk = gw.add_staff("张伟", "HN0101", badge_uid=CLERK_UID)
    gw.add_staff("李娜", "HN0102", badge_uid=OTHER_UID)
    gw.add_staff("王芳", "HN0500", role="helper", badge_uid=HELPER_UID)
    gw.add_user("kiosk", "kiosk-pass-1", "clerk")
    gw.add_user("zhang", "clerk-pass-1", "clerk", staff_id=clerk)
    gw.add_user("boss", "manager-pass", "manager")


@pytest.fixture
def gw(broker, tmp_path, hall, uid):
    register()
    running = start(broker, tmp_path, hall, uid)
    furnish(running)
    yield running
    running.stop()


@pytest.fixture
def http(gw):
    with TestClient(gw.gateway.http_app()) as client:
        yield client


def auth(http, user: str, password: str) -> dict[str, str]:
    response = http.post("/api/login", json={"username": user, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def login(dev, uid: str = CLERK_UID) -> None:
    dev.hello()
    dev.send_acked("badge", uid=uid, action="login")
    assert dev.command("session")["state"] == "open"


def key(dev, action: str) -> None:
    dev.send_acked("clerk", action=action)


def refusal_of(gw, device: str) -> str | None:
    query = sa.select(events.c.refused).where(events.c.device == device, events.c.kind == "clerk")
    with gw.engine.connect() as conn:
        return list(conn.execute(query.order_by(events.c.seq)).scalars())[-1]


def test_clerk_keys_call_announce_and_complete_opens_the_rating_prompt(gw, http):
    kiosk = auth(http, "kiosk", "kiosk-pass-1")
    issued = http.post("/api/queue/tickets", json={"service": "realestate"}, headers=kiosk).json()
    assert (issued["ticket"], issued["ahead"]) == ("A001", 0)
    with gw.device("t-03") as dev:
        login(dev)
        key(dev, "call_next")
        call = dev.command("ticket")
        assert call == {**call, "action": "call", "ticket": "A001", "service_name": "不动产登记"}
        assert call["display"] == "A001 请到3号窗口"
        assert call["voice"] == "请A001号到3号窗口办理"
        key(dev, "recall")
        assert dev.command("ticket")["action"] == "recall"
        key(dev, "complete")
        clear = dev.command("ticket")
        assert (clear["action"], clear["ticket"]) == ("clear", "A001")
        prompt = dev.command("prompt")
    assert prompt["timeout_s"] == 30
    assert prompt["service"] == {
        "ticket": "A001",
        "service": "realestate",
        "service_name": "不动产登记",
    }
    status = http.get(f"/api/queue/status/{issued['token']}").json()
    assert (status["state"], status["state_label"]) == ("done", "已办结")
    assert status["window"]["label"] == "3号窗口"
    calls = http.get("/api/queue/calls").json()
    assert calls[0]["voice"] == "请A001号到3号窗口办理"


def test_impossible_key_presses_are_refused_with_a_chinese_message(gw):
    with gw.device("t-04") as dev:
        dev.hello()
        key(dev, "call_next")
        assert "无人登录" in dev.command("message")["text"]
        assert refusal_of(gw, "t-04") == "no_clerk"
        login(dev)
        key(dev, "call_next")
        answer = dev.command("message")
        assert (answer["text"], answer["code"]) == ("当前无人等候", "nothing_waiting")
        key(dev, "complete")
        assert dev.command("message")["code"] == "window_idle"
        dev.send_acked("clerk", action="pause", reason="meal")
        key(dev, "call_next")
        assert dev.command("message")["text"] == "暂停服务中，请先恢复"
    with gw.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(queue_actions)).scalar() == 0


def test_a_gateway_restart_loses_nothing(broker, tmp_path, hall, uid):
    register()
    gw = start(broker, tmp_path, hall, uid)
    try:
        furnish(gw)
        with TestClient(gw.gateway.http_app()) as http, gw.device("t-04") as dev:
            kiosk = auth(http, "kiosk", "kiosk-pass-1")
            numbers = [
                http.post("/api/queue/tickets", json={"service": "social"}, headers=kiosk).json()[
                    "ticket"
                ]
                for _ in range(3)
            ]
            login(dev)
            key(dev, "call_next")
            assert dev.command("ticket")["ticket"] == numbers[0]
    finally:
        gw.stop()
    again = start(broker, tmp_path, hall, uid)
    try:
        with TestClient(again.gateway.http_app()) as http2, again.device("t-04", boot=2) as dev:
            kiosk = auth(http2, "kiosk", "kiosk-pass-1")
            fresh = http2.post("/api/queue/tickets", json={"service": "social"}, headers=kiosk)
            assert fresh.json()["ticket"] == "C004"  # numbering goes on
            key(dev, "call_next")  # the clerk is still logged in; C001 is still at the window
            assert dev.command("message")["code"] == "window_busy"
            key(dev, "no_show")
            assert dev.command("ticket") == {
                **dev.commands[-1][1],
                "action": "clear",
                "ticket": "C001",
            }
            key(dev, "call_next")
            assert dev.command("ticket")["ticket"] == numbers[1]
    finally:
        again.stop()


def test_console_actions_with_roles(gw, http):
    assert http.post("/api/queue/windows/3/call", json={}).status_code == 401
    assert http.post("/api/queue/tickets", json={"service": "business"}).status_code == 401
    kiosk, boss = auth(http, "kiosk", "kiosk-pass-1"), auth(http, "boss", "manager-pass")
    zhang = auth(http, "zhang", "clerk-pass-1")
    first = http.post("/api/queue/tickets", json={"service": "business"}, headers=kiosk).json()
    second = http.post("/api/queue/tickets", json={"service": "business"}, headers=kiosk).json()
    with gw.device("t-03") as dev3, gw.device("t-05") as dev5:
        login(dev3)
        login(dev5, HELPER_UID)
        refused = http.post(
            "/api/queue/windows/3/call", json={"number": second["ticket"]}, headers=zhang
        )
        assert refused.status_code == 409 and refused.json()["detail"]["code"] == "not_allowed"
        called = http.post("/api/queue/windows/3/call", json={}, headers=zhang).json()
        assert called["voice"] == f"请{first['ticket']}号到3号窗口办理"
        assert dev3.command("ticket")["ticket"] == first["ticket"]
        parked = http.post("/api/queue/windows/3/park", headers=zhang)
        assert parked.json()["state"] == "parked" and dev3.command("ticket")["action"] == "clear"
        http.post("/api/queue/windows/3/call", json={}, headers=zhang)
        assert dev3.command("ticket")["ticket"] == second["ticket"]
        helped = http.post(
            f"/api/queue/tickets/{second['ticket']}/helper",
            json={"helper": "HN0500"},
            headers=zhang,
        )
        assert helped.json()["service"] == "helper"
        assert dev3.command("ticket")["action"] == "clear"
        resumed = http.post(
            "/api/queue/windows/3/resume", json={"number": first["ticket"]}, headers=boss
        )
        assert resumed.json()["state"] == "called"
        # the helper at window 5 calls the handed-over ticket
        dev5.send_acked("clerk", action="call_next")
        assert dev5.command("ticket")["voice"] == f"请{second['ticket']}号到5号窗口办理"
        other = http.post("/api/queue/windows/5/complete", json={}, headers=zhang)
        assert other.status_code == 403
        moved = http.post(
            f"/api/queue/tickets/{first['ticket']}/transfer",
            json={"service": "realestate"},
            headers=boss,
        )
        assert moved.json()["state"] == "waiting"
        dev5.send_acked("clerk", action="complete")
        done = http.post(
            f"/api/queue/tickets/{second['ticket']}/transfer", json={"window": "3"}, headers=boss
        )
        assert done.status_code == 409 and done.json()["detail"]["code"] == "ticket_closed"
    with gw.engine.connect() as conn:
        kinds = list(
            conn.execute(
                sa.select(queue_actions.c.kind, queue_actions.c.by).order_by(queue_actions.c.seq)
            )
        )
    assert ("park", "HN0101") in kinds and ("helper", "zhang") in kinds


def test_ticket_printed_on_the_kiosk_printer_decodes_to_chinese_and_the_status_qr(gw, http, uid):
    kiosk = auth(http, "kiosk", "kiosk-pass-1")
    http.post("/api/queue/tickets", json={"service": "realestate"}, headers=kiosk)
    body = {"service": "realestate", "printer": "kiosk"}
    issued = http.post("/api/queue/tickets", json=body, headers=kiosk).json()
    assert issued["printed"] is True
    receipt = printer.printer(f"kiosk-{uid}").receipts[-1]
    assert receipt.cut and receipt.qr == [f"http://192.168.1.10:8080/q/{issued['token']}"]
    assert receipt.texts[:3] == ["金水区政务服务中心", "不动产登记（办事窗口区）", "A002"]
    assert "您前面还有 1 人等候" in receipt.texts
    assert receipt.lines[2].width == 3  # the number printed large
    assert any(text.startswith("取号时间：") for text in receipt.texts)
    assert printer.printer(f"kiosk-{uid}").decoder.unknown == []
    nowhere = http.post("/api/queue/tickets", json=dict(body, printer="lobby"), headers=kiosk)
    assert nowhere.status_code == 400 and "未配置打印机" in nowhere.json()["detail"]["message"]
    assert http.get("/api/queue/services").json()[1]["waiting"] == 2  # nothing was issued


def test_notice_mailing_and_pickup_reminder(gw, http, uid):
    kiosk, zhang = auth(http, "kiosk", "kiosk-pass-1"), auth(http, "zhang", "clerk-pass-1")
    boss = auth(http, "boss", "manager-pass")
    ticket = http.post(
        "/api/queue/tickets", json={"service": "realestate", "matter": "BDC-001"}, headers=kiosk
    ).json()
    noticed = http.post(
        "/api/queue/notice", json={"matter": "BDC-001", "window": "3"}, headers=zhang
    ).json()
    assert noticed["printed"] and noticed["lines"][0] == "一次性书面告知单"
    desk = printer.printer(f"desk-{uid}").receipts[-1]
    assert "1. 不动产登记申请书（原件1份）" in desk.texts
    assert http.post("/api/queue/notice", json={"matter": "NOPE"}, headers=zhang).status_code == 404
    with gw.device("t-03") as dev:
        login(dev)
        key(dev, "call_next")
        bad = {"wants": True, "address": "郑州市金水区花园路1号", "phone": "12345"}
        number = ticket["ticket"]
        assert (
            http.post(f"/api/queue/tickets/{number}/mailing", json=bad, headers=zhang).status_code
            == 400
        )
        good = dict(bad, phone="13812345678")
        assert (
            http.post(f"/api/queue/tickets/{number}/mailing", json=good, headers=zhang).status_code
            == 200
        )
        key(dev, "complete")
    status = http.get(f"/api/queue/status/{ticket['token']}").json()
    assert status["mailing"] == {"wants": True, "phone": "138****5678"}
    assert status["notice"][2] == "事项：不动产首次登记"
    with gw.engine.connect() as conn:
        stored = conn.execute(
            sa.select(queue_tickets.c.mailing).where(queue_tickets.c.number == number)
        ).scalar()
    assert stored["address"] == "郑州市金水区花园路1号"
    # 社保卡补换 cannot be mailed: mailing is refused, completion prints the pickup reminder
    card = http.post(
        "/api/queue/tickets", json={"service": "social", "matter": "SB-003"}, headers=kiosk
    ).json()
    with gw.device("t-04") as dev4:
        login(dev4, OTHER_UID)
        key(dev4, "call_next")
        refused = http.post(f"/api/queue/tickets/{card['ticket']}/mailing", json=good, headers=boss)
        assert refused.status_code == 409 and "不能邮寄" in refused.json()["detail"]["message"]
        done = http.post("/api/queue/windows/4/complete", json={}, headers=boss).json()
    assert done["reminder"]["lines"][0] == "办结领取提醒"
    assert "领取地点：4号窗口（社保卡服务专区）" in done["reminder"]["lines"]
    again = http.post(
        f"/api/queue/tickets/{card['ticket']}/reminder", json={"printer": "desk"}, headers=boss
    )
    assert again.json()["printed"] is True
    assert printer.printer(f"desk-{uid}").receipts[-1].texts[0] == "办结领取提醒"
    mailable = http.post(f"/api/queue/tickets/{number}/reminder", json={}, headers=boss)
    assert mailable.status_code == 409


def test_guide_priority_tickets_appointments_and_public_reads(gw, http):
    assert http.get("/api/queue/status/not-a-token").status_code == 404
    kiosk, zhang = auth(http, "kiosk", "kiosk-pass-1"), auth(http, "zhang", "clerk-pass-1")
    walk_in = http.post("/api/queue/tickets", json={"service": "social"}, headers=kiosk).json()
    refused = http.post(
        "/api/queue/tickets/guide", json={"service": "social", "priority": "elderly"}, headers=kiosk
    )
    assert refused.status_code == 201  # the kiosk account is a staff account here …
    assert refused.json()["ahead"] == 0  # … and a priority ticket goes before the walk-in
    kiosk_priority = http.post(
        "/api/queue/tickets", json={"service": "social", "priority": "elderly"}, headers=kiosk
    )
    assert kiosk_priority.status_code == 422  # the kiosk cannot ask for priority
    bad = http.post(
        "/api/queue/tickets/guide", json={"service": "social", "priority": "vip"}, headers=zhang
    )
    assert bad.status_code == 400 and bad.json()["detail"]["code"] == "bad_input"
    unknown = http.post("/api/queue/tickets", json={"service": "pets"}, headers=kiosk)
    assert unknown.status_code == 404 and unknown.json()["detail"]["message"] == "没有此业务: pets"
    booked = http.post(
        "/api/queue/checkin",
        json={"service": "social", "appointment_ms": int(time.time() * 1000) - 60_000},
        headers=kiosk,
    ).json()
    assert booked["ahead"] == 1  # only the priority ticket: its slot came before the walk-in
    services = {s["id"]: s for s in http.get("/api/queue/services").json()}
    assert services["social"]["waiting"] == 3 and services["social"]["area_label"] == "办事窗口区"
    status = http.get(f"/api/queue/status/{walk_in['token']}").json()
    assert status["ahead"] == 2 and status["estimated_wait_min"] == 18  # 3 x 6 min, 1 window
    assert [m["code"] for m in http.get("/api/queue/matters?service=social").json()] == ["SB-003"]


@pytest.mark.postgres
def test_clerk_keys_on_postgresql(broker, tmp_path, hall, uid, pg_url):
    register()
    gw = start(broker, tmp_path, hall, uid, db_url=pg_url)
    try:
        furnish(gw)
        with TestClient(gw.gateway.http_app()) as http, gw.device("t-02") as dev:
            kiosk = auth(http, "kiosk", "kiosk-pass-1")
            http.post("/api/queue/tickets", json={"service": "realestate"}, headers=kiosk)
            login(dev)
            key(dev, "call_next")
            assert dev.command("ticket")["voice"] == "请A001号到2号窗口办理"
            key(dev, "call_next")
            assert dev.command("message")["code"] == "window_busy"
            key(dev, "complete")
            assert dev.command("prompt")["service"]["ticket"] == "A001"
        with gw.engine.connect() as conn:
            kinds = conn.execute(sa.select(queue_actions.c.kind).order_by(queue_actions.c.seq))
            assert list(kinds.scalars()) == ["issue", "call", "complete"]
    finally:
        gw.stop()
