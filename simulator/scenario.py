"""Scenarios: a simulated hall's morning (or an endless demo) described in TOML, with a seed.

    scenario = load("simulator/scenarios/morning.toml")

Times of day ("08:30") are simulated hall time; `time_scale` simulated seconds pass per real
second, so a three-hour morning runs in about a minute at scale 180. Device timers (rating
window, reasons, thanks) are real seconds: they are the firmware's own, shortened in the hall's
config. Every key is checked before anything runs; a bad one is named in a `ScenarioError`.
See simulator/scenarios/morning.toml for every key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from protocol.levels import LEVELS

FAULT_KINDS = ("broker_restart", "gateway_crash", "network_cut", "power_loss", "wrong_clock")


class ScenarioError(ValueError):
    """A scenario file that cannot be run: the message names the key."""


@dataclass(frozen=True)
class ServiceSpec:
    id: str
    prefix: str
    name: str
    weight: float  # share of citizens who come for it
    service_min: float  # mean service time, simulated minutes (log-normal around it)


@dataclass(frozen=True)
class FaultSpec:
    kind: str
    at_min: float  # simulated minutes after the start (wrong_clock: from the start)
    window: int | None = None  # the window (1-based) whose device is hit
    down_s: float = 2.0  # real seconds the broker, gateway or network stays away
    skew_s: float = 0.0  # wrong_clock: device clock minus true clock


@dataclass(frozen=True)
class Scenario:
    name: str
    seed: int
    time_scale: float
    start_min: float  # minutes after midnight
    end_min: float
    citizens: int | None  # a fixed count (Poisson arrivals conditioned on it) or None: the rates
    arrivals: dict[int, float]  # hour of day -> citizens per simulated hour
    windows: int
    services: tuple[ServiceSpec, ...]
    window_services: tuple[tuple[str, ...], ...]  # per window, the services it calls
    levels: dict[str, float]  # rating level -> weight
    skip_rate: float  # citizens who do not rate at all
    reason_skip_rate: float  # of bad ratings, those who skip the reason
    patience_min: float  # a citizen waiting longer has left when called
    guide_share: float  # tickets issued by a guide (others at the kiosk)
    transfer_rate: float  # served tickets first sent to another service
    pause_rate: float  # after a service, the clerk pauses with this probability
    pause_min: float
    rating_window_s: int
    reasons_s: int
    thanks_s: float
    shift_spread_min: float  # clerks tap their badges within this many minutes of the start
    endless: bool = False  # the demo: arrivals go on until stopped, day after day
    faults: tuple[FaultSpec, ...] = field(default_factory=tuple)

    def real_s(self, sim_min: float) -> float:
        """Real seconds for a span of simulated minutes."""
        return sim_min * 60.0 / self.time_scale

    def clock_text(self, sim_min: float) -> str:
        total = int(sim_min) % (24 * 60)
        return f"{total // 60:02d}:{total % 60:02d}"


def _minutes(text: Any, key: str) -> float:
    if not isinstance(text, str) or len(text.split(":")) != 2:
        raise ScenarioError(f'{key} must be a time of day like "08:30", not {text!r}')
    hours, minutes = text.split(":")
    if not (hours.isdigit() and minutes.isdigit()) or int(hours) > 23 or int(minutes) > 59:
        raise ScenarioError(f'{key} must be a time of day like "08:30", not {text!r}')
    return int(hours) * 60.0 + int(minutes)


def _number(table: dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ScenarioError(f"{key} must be a number from {low} to {high}, not {value!r}")
    return float(value)


def _known(table: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ScenarioError(f"unknown key(s) in {where}: {', '.join(unknown)}")


def load(path: str | Path) -> Scenario:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc}") from exc
    return parse(data)


TOP = {"name", "seed", "time_scale", "start", "end", "citizens", "endless", "arrivals", "hall"}
TOP |= {"services", "people", "faults"}
HALL = {"windows", "rating_window_s", "reasons_s", "thanks_s"}
PEOPLE = {"levels", "skip_rate", "reason_skip_rate", "patience_min", "guide_share"}
PEOPLE |= {"transfer_rate", "pause_rate", "pause_min", "shift_spread_min"}


def parse(data: dict[str, Any]) -> Scenario:
    _known(data, TOP, "the scenario")
    hall, people = data.get("hall", {}), data.get("people", {})
    _known(hall, HALL, "[hall]")
    _known(people, PEOPLE, "[people]")
    windows = int(_number(hall, "windows", 8, 1, 500))
    services, window_services = _services(data.get("services", []), windows)
    start, end = _minutes(data.get("start", "08:30"), "start"), _minutes(data.get("end"), "end")
    if end <= start:
        raise ScenarioError("end must be after start")
    citizens = data.get("citizens")
    if citizens is not None and (not isinstance(citizens, int) or not 0 <= citizens <= 100_000):
        raise ScenarioError(f"citizens must be a count from 0 to 100000, not {citizens!r}")
    return Scenario(
        name=str(data.get("name", "scenario")),
        seed=int(_number(data, "seed", 1, 0, 2**31)),
        time_scale=_number(data, "time_scale", 60, 1, 10_000),
        start_min=start,
        end_min=end,
        citizens=citizens,
        arrivals=_arrivals(data.get("arrivals", {})),
        windows=windows,
        services=services,
        window_services=window_services,
        levels=_levels(people.get("levels", {})),
        skip_rate=_number(people, "skip_rate", 0.15, 0, 1),
        reason_skip_rate=_number(people, "reason_skip_rate", 0.3, 0, 1),
        patience_min=_number(people, "patience_min", 45, 0, 24 * 60),
        guide_share=_number(people, "guide_share", 0.4, 0, 1),
        transfer_rate=_number(people, "transfer_rate", 0.03, 0, 1),
        pause_rate=_number(people, "pause_rate", 0.02, 0, 1),
        pause_min=_number(people, "pause_min", 5, 0, 120),
        rating_window_s=int(_number(hall, "rating_window_s", 15, 1, 600)),
        reasons_s=int(_number(hall, "reasons_s", 10, 1, 120)),
        thanks_s=_number(hall, "thanks_s", 3, 0.5, 30),
        shift_spread_min=_number(people, "shift_spread_min", 5, 0, 120),
        endless=bool(data.get("endless", False)),
        faults=tuple(_fault(f, windows, i) for i, f in enumerate(data.get("faults", []))),
    )


def _arrivals(table: dict[str, Any]) -> dict[int, float]:
    rates: dict[int, float] = {}
    for hour in table:
        if not hour.isdigit() or int(hour) > 23:
            raise ScenarioError(f"[arrivals] keys are hours 0-23, not {hour!r}")
        rates[int(hour)] = _number(table, hour, 0, 0, 100_000)
    if not rates or not any(rates.values()):
        raise ScenarioError("[arrivals] needs at least one hour with citizens")
    return rates


def _levels(table: dict[str, Any]) -> dict[str, float]:
    defaults = {"very_satisfied": 60, "satisfied": 25, "basic": 8}
    defaults |= {"dissatisfied": 5, "very_dissatisfied": 2}
    unknown = sorted(set(table) - set(LEVELS))
    if unknown:
        raise ScenarioError(f"[people.levels] unknown level(s): {', '.join(unknown)}")
    weights = {level: _number(table, level, defaults[level], 0, 1e6) for level in LEVELS}
    if not any(weights.values()):
        raise ScenarioError("[people.levels] needs a level with a weight above 0")
    return weights


def _services(
    rows: list[dict[str, Any]], windows: int
) -> tuple[tuple[ServiceSpec, ...], tuple[tuple[str, ...], ...]]:
    if not rows:
        raise ScenarioError("the scenario needs at least one [[services]]")
    services, served_by = [], []
    for row in rows:
        _known(row, {"id", "prefix", "name", "weight", "service_min", "windows"}, "[[services]]")
        try:
            spec = ServiceSpec(
                id=str(row["id"]),
                prefix=str(row["prefix"]),
                name=str(row["name"]),
                weight=_number(row, "weight", 1, 0, 1e6),
                service_min=_number(row, "service_min", 6, 0.01, 600),
            )
        except KeyError as exc:
            raise ScenarioError(f"[[services]] needs {exc.args[0]}") from None
        numbers = row.get("windows", list(range(1, windows + 1)))
        if not isinstance(numbers, list) or not all(
            isinstance(n, int) and 1 <= n <= windows for n in numbers
        ):
            raise ScenarioError(f"service {spec.id}: windows must list numbers 1-{windows}")
        services.append(spec)
        served_by.append((spec.id, set(numbers)))
    per_window = tuple(
        tuple(sid for sid, numbers in served_by if w in numbers) for w in range(1, windows + 1)
    )
    idle = [str(w + 1) for w, ids in enumerate(per_window) if not ids]
    if idle:
        raise ScenarioError(f"window(s) {', '.join(idle)} serve no service")
    return tuple(services), per_window


def _fault(row: dict[str, Any], windows: int, index: int) -> FaultSpec:
    where = f"[[faults]] #{index + 1}"
    _known(row, {"kind", "at", "window", "down_s", "skew_s"}, where)
    kind = row.get("kind")
    if kind not in FAULT_KINDS:
        raise ScenarioError(f"{where}: kind must be one of {', '.join(FAULT_KINDS)}")
    window = row.get("window")
    needs_window = kind in ("network_cut", "power_loss", "wrong_clock")
    if needs_window and (not isinstance(window, int) or not 1 <= window <= windows):
        raise ScenarioError(f"{where}: {kind} needs window = 1..{windows}")
    at = row.get("at", 0)
    return FaultSpec(
        kind=kind,
        at_min=_number({"at": at}, "at", 0, 0, 24 * 60),
        window=window,
        down_s=_number(row, "down_s", 2, 0, 600),
        skew_s=_number(row, "skew_s", 0, -10 * 365 * 86400, 10 * 365 * 86400),
    )
