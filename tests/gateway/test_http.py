"""The HTTP API: login and roles, no unauthenticated writes, staff import, stats, ops endpoints."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from support.gateway import GatewayHarness

from gateway.store.tables import staff as staff_table

UID = "04A1B2C3"
CSV = "name,staff_no,role,badge_uid,team\n李四,2001,clerk,0A0B0C0D,一组\n王五,2002,helper,,一组\n"


@pytest.fixture
def gw(broker, tmp_path, hall):
    with GatewayHarness(broker, tmp_path, hall) as running:
        running.add_window("w3", 3)
        running.add_device("t-01", "terminal", window="w3")
        clerk_id = running.add_staff("张三", "1001", badge_uid=UID)
        running.add_user("boss", "manager-pass", "manager")
        running.add_user("tech", "technician-pass", "technician")
        running.add_user("zhang", "clerk-pass-1", "clerk", staff_id=clerk_id)
        yield running


@pytest.fixture
def http(gw):
    with TestClient(gw.gateway.http_app()) as client:
        yield client


def login(http, user, password):
    response = http.post("/api/login", json={"username": user, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_wrong_password_is_refused(http):
    assert http.post("/api/login", json={"username": "boss", "password": "nope"}).status_code == 401
    assert http.post("/api/login", json={"username": "ghost", "password": "x"}).status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/staff", {"name": "x", "staff_no": "9", "role": "clerk"}),
        ("post", "/api/staff/import", None),
        ("post", "/api/windows", {"id": "w9", "number": 9}),
        ("post", "/api/devices", {"id": "t-09", "kind": "terminal"}),
        ("put", "/api/staff/1001/schedule", []),
    ],
)
def test_no_write_without_a_session(http, gw, method, path, body):
    response = (
        getattr(http, method)(path, json=body) if body is not None else http.post(path, content=CSV)
    )
    assert response.status_code == 401
    assert len(gw.rows(staff_table)) == 1


def test_roles_limit_writes(http):
    clerk = login(http, "zhang", "clerk-pass-1")
    tech = login(http, "tech", "technician-pass")
    assert (
        http.post(
            "/api/staff", json={"name": "x", "staff_no": "9", "role": "clerk"}, headers=clerk
        ).status_code
        == 403
    )
    assert (
        http.post(
            "/api/staff", json={"name": "x", "staff_no": "9", "role": "clerk"}, headers=tech
        ).status_code
        == 403
    )
    assert (
        http.post("/api/devices", json={"id": "t-09", "kind": "terminal"}, headers=tech).status_code
        == 201
    )
    assert http.get("/api/stats", headers=clerk).status_code == 403


def test_cookie_session_and_logout(http):
    http.post("/api/login", json={"username": "boss", "password": "manager-pass"})
    assert http.get("/api/me").json()["role"] == "manager"
    http.post("/api/logout")
    assert http.get("/api/me").status_code == 401


def test_staff_import_over_http_pushes_new_badges_to_terminals(http, gw):
    boss = login(http, "boss", "manager-pass")
    with gw.device("t-01") as dev:
        response = http.post("/api/staff/import", content=CSV.encode(), headers=boss)
        assert response.json() == {"imported": 2}
        config = dev.command("config")
    assert [b["staff_no"] for b in config["badges"]] == ["1001", "2001"]
    staff = http.get("/api/staff", headers=boss).json()
    assert {s["staff_no"]: s["has_badge"] for s in staff} == {
        "1001": True,
        "2001": True,
        "2002": False,
    }
    assert "0A0B0C0D" not in str(gw.rows(staff_table))


def test_bad_csv_row_names_the_line_and_imports_nothing(http, gw):
    boss = login(http, "boss", "manager-pass")
    bad = CSV + "赵六,2003,boss,,\n"
    response = http.post("/api/staff/import", content=bad.encode(), headers=boss)
    assert response.status_code == 400 and "line 4" in response.json()["detail"]
    assert len(http.get("/api/staff", headers=boss).json()) == 1


def test_stats_and_ratings_per_clerk_after_ratings_over_mqtt(http, gw):
    with gw.device("t-01") as dev:
        dev.send_acked("badge", uid=UID, action="login")
        dev.rate(dev.open_rating(ticket="A001"), "very_satisfied")
        dev.rate(dev.open_rating(ticket="A002"), "dissatisfied", reasons=["slow"])
        dev.send_acked("unrated", rw=dev.open_rating(ticket="A003"), reason="timeout")
        dev.open_rating(ticket="A004")  # still open: not counted yet
    boss = login(http, "boss", "manager-pass")
    (row,) = http.get("/api/stats?by=clerk", headers=boss).json()
    assert row == {
        "clerk": "1001",
        "name": "张三",
        "closed": 3,
        "rated": 2,
        "good": 1,
        "bad": 1,
        "unrated": 1,
        "good_rate": 0.5,
        "unrated_rate": 0.3333,
    }
    (by_window,) = http.get("/api/stats?by=window", headers=boss).json()
    assert by_window["window"] == "w3" and by_window["bad"] == 1
    bad = http.get("/api/ratings?bad=true", headers=login(http, "zhang", "clerk-pass-1")).json()
    assert [(r["level"], r["ticket"], r["reasons"]) for r in bad] == [
        ("dissatisfied", "A002", ["slow"])
    ]


def test_clerk_sees_only_own_shifts(http, gw):
    gw.add_staff("李四", "2001", badge_uid="0A0B0C0D")
    gw.add_device("t-02", "terminal")
    with gw.device("t-01") as one, gw.device("t-02") as two:
        one.send_acked("badge", uid=UID, action="login")
        two.send_acked("badge", uid="0A0B0C0D", action="login")
    mine = http.get("/api/shifts", headers=login(http, "zhang", "clerk-pass-1")).json()
    everyone = http.get("/api/shifts", headers=login(http, "boss", "manager-pass")).json()
    assert [s["staff_no"] for s in mine] == ["1001"] and len(everyone) == 2


def test_health_metrics_and_openapi_are_public(http):
    assert http.get("/healthz").json()["ok"] is True
    assert "yuping_devices_online" in http.get("/metrics").text
    paths = http.get("/openapi.json").json()["paths"]
    assert {"/api/stats", "/api/staff/import", "/api/attendance", "/api/login"} <= set(paths)


def test_subsystem_routers_are_mounted(broker, tmp_path, hall):
    from fastapi import APIRouter

    extra = APIRouter()
    extra.get("/api/queue/ping")(lambda: {"pong": True})
    harness = GatewayHarness(broker, tmp_path, hall, setup=lambda g: g.routers.append(extra))
    with harness, TestClient(harness.gateway.http_app()) as client:
        assert client.get("/api/queue/ping").json() == {"pong": True}


def test_schedule_and_attendance_report_over_http(http, gw):
    boss = login(http, "boss", "manager-pass")
    week = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]
    assert http.put("/api/staff/1001/schedule", json=week, headers=boss).json() == {"days": 7}
    bad = [{"weekday": 1, "start": "17:00", "end": "09:00"}]
    assert http.put("/api/staff/1001/schedule", json=bad, headers=boss).status_code == 400
    assert http.put("/api/staff/9999/schedule", json=week, headers=boss).status_code == 400
    with gw.device("t-01") as dev:
        dev.send_acked("badge", uid=UID, action="login")
        dev.send_acked("clerk", action="pause", reason="meal")
    (entry,) = http.get("/api/attendance", headers=boss).json()
    assert entry["staff_no"] == "1001" and entry["shifts"] == 1 and "meal" in entry["pause_min"]
    local = gw.gateway.clock.local(int(time.time() * 1000))
    late = local.hour * 60 + local.minute > 5  # scheduled from 00:00 with 5 minutes' grace
    assert entry["flags"] == (["late"] if late else [])
    mine = http.get("/api/attendance", headers=login(http, "zhang", "clerk-pass-1")).json()
    assert [e["staff_no"] for e in mine] == ["1001"]


def test_devices_online_metric_follows_device_state(http, gw):
    import json

    with gw.device("t-01") as dev:
        dev.publish_raw(f"yp/1/{gw.hall}/t-01/state", json.dumps({"v": 1, "online": True}))
        dev.sync()
        assert "yuping_devices_online 1.0" in http.get("/metrics").text
        dev.publish_raw(f"yp/1/{gw.hall}/t-01/state", json.dumps({"v": 1, "online": False}))
        time.sleep(0.3)
        dev.publish_raw(f"yp/1/{gw.hall}/t-02/state", json.dumps({"v": 1, "online": True}))
        dev.sync()  # the heartbeat marks t-01 online again: it is talking
    text = http.get("/metrics").text
    assert "yuping_devices_online 1.0" in text
    assert 'yuping_rejects_total{reason="unknown_device"} 1.0' in text
