"""A simulated morning end to end: 8 windows on the real firmware, 300 citizens, the real gateway
as a process over a real Mosquitto, and every fault kind (wrong device clock, network cut, broker
restart, device power loss right after a rating press, gateway SIGKILL).

The people act only through the devices' keys and badges and the gateway's HTTP API; the checks
hold the gateway's records (its public API) against what the people did.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PIL import Image

from simulator import report as reporting
from simulator.run import Simulation
from simulator.scenario import FAULT_KINDS, load

SCENARIO = Path(__file__).with_name("morning.toml")


@pytest.fixture(scope="module")
def morning(tmp_path_factory):
    """One run shared by the assertions below (it takes about a minute and a half)."""
    from support.broker import Broker

    workdir = tmp_path_factory.mktemp("morning")
    with (
        Broker() as broker,
        Simulation(load(SCENARIO), workdir, broker=broker, max_real_s=240) as sim,
    ):
        report = sim.run()
        print(reporting.text(report))
        frame = workdir / "w-01.png"
        sim.terminals[0].save_png(frame)
        yield sim, report, sim.api.ratings(), frame


def test_the_morning_is_big_enough_and_every_fault_was_injected(morning):
    _sim, report, _ratings, _frame = morning
    assert report["windows"] >= 8
    assert report["people"]["tickets"] >= 300
    assert {f["kind"] for f in report["faults"]} == set(FAULT_KINDS)


def test_every_rating_pressed_is_stored_exactly_once_with_its_level(morning):
    _sim, report, ratings, _frame = morning
    r = report["ratings"]
    assert r["pressed"] > 100
    assert (r["stored"], r["lost"], r["duplicated"]) == (r["pressed"], 0, 0)
    assert r["wrong_level"] == r["wrong_reason"] == 0
    assert len({(x["device"], x["event_id"]) for x in ratings}) == len(ratings)


def test_no_rating_is_forced_or_defaulted(morning):
    _sim, report, _ratings, _frame = morning
    assert report["ratings"]["forced"] == 0
    assert report["people"]["unrated"] > 0  # citizens who walked away stay unrated …
    by_window = report["stats"]
    assert by_window["match"], by_window["differences"]  # … and the API counts them as such


def test_every_ticket_ends_served_or_no_show(morning):
    _sim, report, _ratings, _frame = morning
    people, states = report["people"], report["tickets"]["states"]
    assert report["tickets"]["unfinished"] == 0 and people["open"] == 0
    assert states.get("done", 0) == people["served"]
    assert states.get("missed", 0) == people["no_show"]
    assert people["transferred"] > 0  # transferred tickets were served at their new service


def test_the_wrong_clock_device_is_corrected_by_the_gateway(morning):
    sim, _report, ratings, _frame = morning
    skewed = [f.window for f in sim.s.faults if f.kind == "wrong_clock"]
    mine = [x for x in ratings if x["device"] == f"w-{skewed[0]:02d}"]
    assert mine, "the wrong-clock window stored ratings"
    now_ms = time.time() * 1000
    assert all(abs(now_ms - x["at_ms"]) < 15 * 60 * 1000 for x in mine)  # device said -2 h


def test_a_device_frame_is_saved_as_png(morning):
    _sim, _report, _ratings, frame = morning
    with Image.open(frame) as image:
        assert image.size == (128, 64)
