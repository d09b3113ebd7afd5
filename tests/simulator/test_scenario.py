"""Scenario files: the shipped ones load, a seed reproduces the arrivals, bad keys are named."""

from __future__ import annotations

import random
import socket
import tomllib
from pathlib import Path

import pytest

from simulator.netcut import Cables
from simulator.people import arrival_offsets
from simulator.scenario import ScenarioError, load, parse

SHIPPED = sorted((Path(__file__).resolve().parents[2] / "simulator" / "scenarios").glob("*.toml"))
MORNING = Path(__file__).resolve().parents[2] / "simulator" / "scenarios" / "morning.toml"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_scenarios_load(path):
    scenario = load(path)
    assert scenario.windows >= 8
    assert all(scenario.window_services)


def test_the_same_seed_gives_the_same_arrivals_and_the_count_asked_for():
    scenario = load(MORNING)
    first = arrival_offsets(scenario, random.Random(scenario.seed))
    again = arrival_offsets(scenario, random.Random(scenario.seed))
    other = arrival_offsets(scenario, random.Random(scenario.seed + 1))
    assert first == again != other
    assert len(first) == scenario.citizens == 300
    assert first[0] >= 0 and first[-1] <= scenario.end_min - scenario.start_min


def test_arrivals_follow_the_hourly_rates():
    scenario = load(MORNING)
    offsets = arrival_offsets(scenario, random.Random(1))
    nine = sum(1 for t in offsets if 30 <= t < 90)  # 09:00-10:00: 120 per hour
    eight = sum(1 for t in offsets if 0 <= t < 30)  # 08:30-09:00: 60 per hour, half an hour
    assert nine > 3 * eight


def _morning() -> dict:
    return tomllib.loads(MORNING.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d.update(colour="red"), "colour"),
        (lambda d: d.update(end="08:00"), "end must be after start"),
        (lambda d: d.update(start="8h30"), "start"),
        (lambda d: d.update(citizens=-1), "citizens"),
        (lambda d: d.update(time_scale=0), "time_scale"),
        (lambda d: d["hall"].update(rating_window_s=0), "rating_window_s"),
        (lambda d: d["people"].update(skip_rate=1.5), "skip_rate"),
        (lambda d: d["people"]["levels"].update(great=5), "great"),
        (lambda d: d["arrivals"].update({"25": 3}), "hours 0-23"),
        (lambda d: d["services"][0].update(windows=[9]), "windows must list numbers 1-8"),
        (lambda d: d["services"].clear(), "at least one [[services]]"),
        (lambda d: d["faults"].append({"kind": "meteor", "at": 5}), "kind must be one of"),
        (lambda d: d["faults"].append({"kind": "power_loss", "at": 5}), "power_loss needs window"),
    ],
)
def test_a_bad_scenario_is_refused_naming_the_key(change, named):
    data = _morning()
    change(data)
    with pytest.raises(ScenarioError, match=named.replace("[", r"\[").replace("]", r"\]")):
        parse(data)


def test_a_window_without_services_is_refused():
    data = _morning()
    for service in data["services"]:
        service["windows"] = [w for w in service["windows"] if w != 4]
    with pytest.raises(ScenarioError, match="window"):
        parse(data)


def test_a_cut_cable_drops_the_connection_and_refuses_new_ones_until_mended(broker):
    cables = Cables("127.0.0.1", broker.port)
    try:
        port = cables.add("w-01")
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(bytes([0xC0, 0x00]))  # an MQTT PINGREQ before CONNECT: broker hangs up
            assert sock.recv(10) == b""
        live = socket.create_connection(("127.0.0.1", port), timeout=5)
        cables.cut("w-01")
        assert _hung_up(live)
        live.close()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as refused:
            assert _hung_up(refused)
        cables.mend("w-01")
        with socket.create_connection(("127.0.0.1", port), timeout=5) as again:
            again.sendall(bytes([0x10, 0x0C, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 5, 0, 0]))
            assert again.recv(4)[:2] == bytes([0x20, 0x02])  # CONNACK through the mended cable
    finally:
        cables.close()


def _hung_up(sock: socket.socket) -> bool:
    """The far end closed or reset the connection (a cut cable aborts it)."""
    try:
        return sock.recv(10) == b""
    except ConnectionResetError:
        return True
