"""Signed updates end to end: gateway rollouts in waves over the real broker, devices that verify,
install, restart, confirm, refuse or roll back by themselves."""

from __future__ import annotations

import pytest

from gateway.release import signing
from technicians.updating import (
    BROKEN_BOOT,
    FleetGateway,
    SimTerminal,
    api,
    make_release,
)


@pytest.fixture
def keys(tmp_path):
    signing.keygen(tmp_path / "keys")
    return tmp_path / "keys"


@pytest.fixture
def gw(broker, tmp_path, hall):
    with FleetGateway(broker, tmp_path, hall) as running:
        yield running


def terminals(gw, tmp_path, keys, count):
    public = (keys / "release.pub").read_text().strip()
    sims = []
    for n in range(1, count + 1):
        gw.harness.add_device(f"w-{n:02d}", "terminal")
        sim = SimTerminal(gw, f"w-{n:02d}", tmp_path / f"dev{n}", public)
        assert sim.boot()
        sims.append(sim)
    return sims


def update_and_restart(sim):
    assert sim.take_offer() == "installed" and sim.restart_requested
    return sim.boot()


def test_rollout_goes_in_waves_and_the_fleet_view_follows(gw, tmp_path, keys):
    a, b, c = terminals(gw, tmp_path, keys, 3)
    release = gw.publish_release(keys, make_release(tmp_path, "0.2.0"), "0.2.0")
    status = api(
        gw,
        "/api/fleet/rollouts",
        {"release": release, "devices": ["w-01", "w-02", "w-03"], "wave_size": 2},
    )
    assert [d["state"] for d in status["devices"]] == ["offered", "offered", "waiting"]

    assert update_and_restart(a) and a.version == "0.2.0"
    view = {d["device"]: d for d in api(gw, "/api/fleet")["devices"]}
    assert view["w-01"]["fw"] == "0.2.0" and view["w-01"]["update"]["state"] == "healthy"
    assert view["w-03"]["update"]["state"] == "waiting"  # wave 2 waits for all of wave 1

    assert update_and_restart(b)
    assert update_and_restart(c)  # the last healthy report of wave 1 offered wave 2
    status = api(gw, f"/api/fleet/rollouts/{status['id']}")
    assert status["state"] == "done"
    view = api(gw, "/api/fleet")["devices"]
    assert {d["fw"] for d in view} == {"0.2.0"}
    assert all(d["kind"] == "terminal" and d["last_hello_ms"] and d["outbox"] is None for d in view)


def test_stopped_rollout_offers_no_further_wave(gw, tmp_path, keys):
    a, b = terminals(gw, tmp_path, keys, 2)
    release = gw.publish_release(keys, make_release(tmp_path, "0.2.0"), "0.2.0")
    status = api(
        gw, "/api/fleet/rollouts", {"release": release, "devices": ["w-01", "w-02"], "wave_size": 1}
    )
    api(gw, f"/api/fleet/rollouts/{status['id']}/stop", {})
    assert update_and_restart(a)  # the device already offered finishes

    status = api(gw, f"/api/fleet/rollouts/{status['id']}")
    assert status["state"] == "stopped"
    assert [d["state"] for d in status["devices"]] == ["healthy", "waiting"]
    b.client.sync()
    assert [k for k, _ in b.client.commands if k == "update"] == []
    assert b.version == "0.1.0"


def test_tampered_release_is_refused_and_halts_the_rollout(gw, tmp_path, keys):
    a, b = terminals(gw, tmp_path, keys, 2)
    release = gw.publish_release(keys, make_release(tmp_path, "0.2.0"), "0.2.0")
    served = tmp_path / "releases" / f"{release}.tar"
    served.write_bytes(served.read_bytes().replace(b"print('up')", b"print('UP')"))
    status = api(
        gw, "/api/fleet/rollouts", {"release": release, "devices": ["w-01", "w-02"], "wave_size": 1}
    )

    assert a.take_offer() == "refused"
    assert a.version == "0.1.0" and not (a.store.releases / "0.2.0").exists()
    status = api(gw, f"/api/fleet/rollouts/{status['id']}")
    assert status["state"] == "halted"
    assert status["devices"][0]["state"] == "refused"
    assert "SHA-256" in status["devices"][0]["detail"]
    assert status["devices"][1]["state"] == "waiting"


def test_offer_signed_by_another_key_is_refused_before_download(gw, tmp_path, keys):
    (a,) = terminals(gw, tmp_path, keys, 1)
    other = tmp_path / "other-keys"
    signing.keygen(other)
    archive = make_release(tmp_path, "6.6.6")
    forged = signing.sign(other / "release.key", archive, "6.6.6")
    forged["url"] = gw.base_url + "/releases/none.tar"
    assert a.updater.offer(forged) == "refused"
    assert a.version == "0.1.0"


def test_gateway_refuses_to_import_a_release_that_fails_its_signature(gw, tmp_path, keys):
    from gateway.fleet.rollout import FleetError

    archive = make_release(tmp_path, "0.3.0")
    signed = signing.sign(keys / "release.key", archive, "0.3.0")
    public = (keys / "release.pub").read_text().strip()
    with pytest.raises(FleetError, match="signature"):
        gw.fleet.import_release(archive, {**signed, "version": "9.9.9"}, public)
    archive.write_bytes(archive.read_bytes() + b"\0")
    with pytest.raises(FleetError, match="does not match"):
        gw.fleet.import_release(archive, signed, public)
    assert api(gw, "/api/fleet")["devices"] == []
    assert not (tmp_path / "releases").exists()


def test_release_that_does_not_come_up_is_rolled_back_by_the_device(gw, tmp_path, keys):
    a, b = terminals(gw, tmp_path, keys, 2)
    release = gw.publish_release(keys, make_release(tmp_path, "0.2.0", BROKEN_BOOT), "0.2.0")
    status = api(
        gw, "/api/fleet/rollouts", {"release": release, "devices": ["w-01", "w-02"], "wave_size": 1}
    )
    assert a.take_offer() == "installed"

    # systemd keeps restarting the crashing release; the start guard gives up and restores 0.1.0
    assert [a.boot() for _ in range(3)] == [False, False, False]
    assert a.boot() is True
    assert a.version == "0.1.0"
    status = api(gw, f"/api/fleet/rollouts/{status['id']}")
    assert status["state"] == "halted"
    assert status["devices"][0]["state"] == "rolled_back"
    assert status["devices"][1]["state"] == "waiting"


def test_update_interrupted_before_health_is_rolled_back_at_the_deadline(gw, tmp_path, keys):
    (a,) = terminals(gw, tmp_path, keys, 1)
    release = gw.publish_release(keys, make_release(tmp_path, "0.2.0"), "0.2.0")
    api(gw, "/api/fleet/rollouts", {"release": release, "devices": ["w-01"], "wave_size": 1})
    a.updater.health_s = 0  # the switch is made with a deadline that has already passed
    assert a.take_offer() == "installed" and a.version == "0.2.0"
    # power is cut before the new release confirms its health: the next start rolls back
    assert a.boot() and a.version == "0.1.0"
    assert a.store.trial() is None
    view = api(gw, "/api/fleet")["devices"][0]
    assert view["update"]["state"] == "rolled_back" and view["fw"] == "0.1.0"


def test_running_release_misses_its_deadline_and_rolls_back_itself(gw, tmp_path, keys):
    (a,) = terminals(gw, tmp_path, keys, 1)
    release = gw.publish_release(keys, make_release(tmp_path, "0.2.0"), "0.2.0")
    api(gw, "/api/fleet/rollouts", {"release": release, "devices": ["w-01"], "wave_size": 1})
    assert a.take_offer() == "installed"
    a.store.begin_trial("0.2.0", "0.1.0", 0)  # as if the gateway never acked this start's hello
    a.updater.running = "0.2.0"
    a.restart_requested = False
    assert a.updater.tick() is True and a.restart_requested
    assert a.version == "0.1.0"


def test_download_cut_midway_changes_nothing(gw, tmp_path, keys):
    import socket
    import threading

    (a,) = terminals(gw, tmp_path, keys, 1)
    archive = make_release(tmp_path, "0.2.0")
    signed = signing.sign(keys / "release.key", archive, "0.2.0")
    listener = socket.create_server(("127.0.0.1", 0))

    def serve_half() -> None:
        conn, _ = listener.accept()
        conn.recv(4096)
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {signed['size']}\r\n\r\n".encode()
        conn.sendall(head + archive.read_bytes()[: signed["size"] // 2])
        conn.close()

    threading.Thread(target=serve_half, daemon=True).start()
    offer = {**signed, "url": f"http://127.0.0.1:{listener.getsockname()[1]}/r.tar"}
    assert a.updater.offer(offer) == "failed"
    assert a.version == "0.1.0" and a.store.trial() is None
    assert not (a.store.releases / "0.2.0").exists()
    listener.close()


def test_fleet_routes_need_a_technician_but_devices_download_freely(gw, tmp_path, keys):
    import httpx

    release = gw.publish_release(keys, make_release(tmp_path, "0.2.0"), "0.2.0")
    assert httpx.get(gw.base_url + "/api/fleet").status_code == 401
    gw.harness.add_user("clerk1", "clerk-password-1", "clerk")
    login = {"username": "clerk1", "password": "clerk-password-1"}
    clerk = httpx.post(gw.base_url + "/api/login", json=login).json()["token"]
    refused = httpx.post(
        gw.base_url + "/api/fleet/rollouts",
        json={"release": release, "devices": ["w-01"]},
        headers={"Authorization": f"Bearer {clerk}"},
    )
    assert refused.status_code == 403
    download = httpx.get(f"{gw.base_url}/releases/{release}.tar")
    assert download.status_code == 200
    assert download.content == (tmp_path / "releases" / f"{release}.tar").read_bytes()


def test_rollout_to_unknown_devices_is_refused(gw, tmp_path, keys):
    import httpx

    release = gw.publish_release(keys, make_release(tmp_path, "0.2.0"), "0.2.0")
    response = httpx.post(
        gw.base_url + "/api/fleet/rollouts",
        json={"release": release, "devices": ["w-77"]},
        headers={"Authorization": f"Bearer {gw.token}"},
    )
    assert response.status_code == 422 and "w-77" in response.json()["detail"]
    assert api(gw, "/api/fleet")["devices"] == []
