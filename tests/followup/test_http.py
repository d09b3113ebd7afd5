"""The follow-up HTTP API on a running gateway: who may take which step, refusals, statistics,
upload report and the alert feed, with a case opened by a real device's rating."""

from __future__ import annotations

import io

import openpyxl
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from support.gateway import GatewayHarness
from support.terminal import wait_for

from gateway.followup.tables import followup_cases, followup_steps
from gateway.store.tables import ratings

UID = "04A1B2C3"


@pytest.fixture
def gw(broker, tmp_path, hall):
    setup = tmp_path / "followup.toml"
    setup.write_text('[followup]\nmanager = "M001"\n[followup.team_leaders]\n"一组" = "L001"\n',
                     encoding="utf-8")  # fmt: skip
    with GatewayHarness(broker, tmp_path, hall, followup=str(setup)) as running:
        running.add_window("w3", 3)
        running.add_device("t-01", "terminal", window="w3")
        clerk = running.add_staff("张三", "1001", badge_uid=UID, team="一组")
        leader = running.add_staff("王组长", "L001", team="一组")
        boss = running.add_staff("赵主任", "M001", role="manager")
        running.add_user("zhang", "clerk-pass-1", "clerk", staff_id=clerk)
        running.add_user("wang", "leader-pass-1", "clerk", staff_id=leader)
        running.add_user("boss", "manager-pass", "manager", staff_id=boss)
        with running.device("t-01") as dev:
            dev.send_acked("badge", uid=UID, action="login")
            dev.rate(dev.open_rating(ticket="A001", matter="M-1"), "very_dissatisfied")
            dev.rate(dev.open_rating(ticket="A002", matter="M-1"), "satisfied")
        (running.case,) = running.rows(followup_cases)
        yield running


@pytest.fixture
def http(gw):
    with TestClient(gw.gateway.http_app()) as client:
        yield client


def as_user(http, user, password):
    response = http.post("/api/login", json={"username": user, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def steps(gw):
    return len(gw.rows(followup_steps))


def test_leader_works_the_case_and_every_step_is_recorded(gw, http):
    wang = as_user(http, "wang", "leader-pass-1")
    base = f"/api/followup/cases/{gw.case.id}"
    assert (
        http.post(f"{base}/visit", json={"note": "电话回访"}, headers=wang).json()["state"]
        == "visited"
    )
    http.post(f"{base}/verify", json={"finding": "substantiated", "note": "核实属实"}, headers=wang)
    http.post(f"{base}/fix", json={"note": "加强培训"}, headers=wang)
    done = http.post(
        f"{base}/citizen-view", json={"view": "satisfied", "note": "满意"}, headers=wang
    )
    assert done.json()["state"] == "closed" and done.json()["state_label"] == "已办结"
    detail = http.get(base, headers=wang).json()
    assert [(s["action_label"], s["actor"]) for s in detail["steps"]] == [
        ("立案", "system"),
        ("回访", "L001"),
        ("核实", "L001"),
        ("整改", "L001"),
        ("群众评价整改", "L001"),
    ]


def test_refusals_answer_with_the_reason_and_change_nothing(gw, http):
    zhang, boss = as_user(http, "zhang", "clerk-pass-1"), as_user(http, "boss", "manager-pass")
    base, before = f"/api/followup/cases/{gw.case.id}", steps(gw)
    http.cookies.clear()  # the bearer headers below say who asks; the first request is nobody
    answers = [
        http.post(f"{base}/visit", json={"note": "x"}),  # no session
        http.post(f"{base}/visit", json={"note": "自己回访"}, headers=zhang),  # not the assignee
        http.get(
            "/api/followup/stats",
            headers=zhang,
            params={"start": "2026-03-01", "end": "2026-03-02"},
        ),
        http.post(f"{base}/fix", json={"note": "未回访就整改"}, headers=boss),  # wrong state
        http.post(f"{base}/visit", json={"note": " "}, headers=boss),  # empty note
        http.post(f"{base}/decide", json={"upheld": True, "note": "x"}, headers=zhang),  # role
        http.post("/api/followup/cases/999/visit", json={"note": "回访"}, headers=boss),
    ]
    assert [a.status_code for a in answers] == [401, 403, 403, 409, 400, 403, 404]
    assert "assigned to L001" in answers[1].json()["detail"]
    assert steps(gw) == before and gw.rows(followup_cases)[0].state == "open"


def test_clerk_appeals_manager_upholds_and_the_rating_leaves_the_stats(gw, http):
    zhang, boss = as_user(http, "zhang", "clerk-pass-1"), as_user(http, "boss", "manager-pass")
    base, day = f"/api/followup/cases/{gw.case.id}", gw.rows(ratings)[0].day
    query = {"start": day, "end": day, "by": "clerk"}
    (before,) = http.get("/api/followup/stats", params=query, headers=boss).json()
    assert (before["bad"], before["bad_rate"]) == (1, 0.5)
    assert [c["id"] for c in http.get("/api/followup/cases", headers=zhang).json()] == [gw.case.id]
    appeal = http.post(
        f"{base}/appeal", json={"reason": "mistaken", "note": "群众误按"}, headers=zhang
    )
    assert appeal.json()["state"] == "appealed"
    decided = http.post(f"{base}/decide", json={"upheld": True, "note": "录像为证"}, headers=boss)
    assert decided.json()["state"] == "void"
    (after,) = http.get("/api/followup/stats", params=query, headers=boss).json()
    assert (after["bad"], after["excluded"], after["bad_rate"]) == (0, 1, 0.0)
    with gw.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ratings)).scalar() == 2


def test_stats_download_alert_feed_and_upload_report_for_the_manager(gw, http):
    boss = as_user(http, "boss", "manager-pass")
    day = gw.rows(ratings)[0].day
    xlsx = http.get("/api/followup/stats", headers=boss,
                    params={"start": day, "end": day, "by": "window", "format": "xlsx"})  # fmt: skip
    assert xlsx.status_code == 200 and "spreadsheetml" in xlsx.headers["content-type"]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet["C1"].value == "窗口名称" and sheet["C2"].value == "3号窗口"
    bad = [http.get("/api/followup/stats", headers=boss, params=p).status_code for p in (
        {"start": day, "end": day, "by": "team"},
        {"start": "2026-03-10", "end": "2026-03-01"},
        {"start": day, "end": day, "format": "pdf"},
    )]  # fmt: skip
    assert bad == [400, 400, 400]
    # The watcher thread publishes the case's alert after the rating's commit, not before its ack.
    alerts = wait_for(
        lambda: (got := http.get("/api/alerts/recent", headers=boss)).json() and got,
        what="the bad rating's alert",
    )
    assert [a["kind"] for a in alerts.json()] == ["bad_rating"]
    assert alerts.json()[0]["title"] == "3号窗口 张三 收到差评：非常不满意"
    report = http.get("/api/upload/report", headers=boss, params={"day": gw.rows(ratings)[0].day})
    assert (report.json()["stored"], report.json()["missing"]) == (2, 2)  # upload not configured
