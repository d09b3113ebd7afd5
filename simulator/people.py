"""The simulated people. They act only as real ones can: citizens draw tickets at the kiosk or
from a guide (HTTP), come when their number is called or have left, press the device's rating
keys (or do not); clerks tap their badges, press the device's keys, watch its screen, and use
the web page for a no-show or a transfer. None of them reaches inside the gateway or a device.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from firmware.terminal import view as v
from firmware.terminal.config import RATING_KEYS
from protocol.levels import BAD_REASONS, LEVELS, PAUSE_REASONS, is_bad
from simulator.api import ApiError, HallApi
from simulator.ledger import Ledger, TicketRecord
from simulator.scenario import Scenario
from simulator.terminals import RATING_MODES, DeviceGone, Look, Terminal, wait_look

log = logging.getLogger("yuping.sim")

CALL_WAIT_S = 2.0  # how long a clerk watches the screen for the called number
WAIT_ONLINE_S = 600.0


def arrival_offsets(scenario: Scenario, rng: random.Random, day_min: float = 0.0) -> list[float]:
    """Arrival times (simulated minutes after the start): a Poisson process whose hourly rate
    follows [arrivals]; with `citizens` set, that process conditioned on exactly so many."""
    start, end = scenario.start_min, scenario.end_min
    hours = range(int(start // 60), int(math.ceil(end / 60)))
    spans = [
        (max(start, h * 60.0), min(end, (h + 1) * 60.0), scenario.arrivals.get(h, 0.0))
        for h in hours
    ]
    spans = [(a, b, rate) for a, b, rate in spans if b > a and rate > 0]
    if scenario.citizens is None:
        times = []
        for a, b, rate in spans:
            t = a + rng.expovariate(rate / 60.0)
            while t < b:
                times.append(t)
                t += rng.expovariate(rate / 60.0)
    else:
        weights = [(b - a) * rate for a, b, rate in spans]
        times = []
        for _ in range(scenario.citizens):
            a, b, _rate = rng.choices(spans, weights)[0]
            times.append(rng.uniform(a, b))
    return sorted(t - start + day_min for t in times)


class Citizens:
    """Arrivals: each citizen picks a service, draws a ticket (guide or kiosk) and waits."""

    def __init__(
        self, scenario: Scenario, api: HallApi, ledger: Ledger, t0: float, stop: threading.Event
    ):
        self.s, self.api, self.ledger, self.t0, self.stop = scenario, api, ledger, t0, stop
        self.rng = random.Random(scenario.seed * 7 + 1)

    def run(self) -> None:
        day = 0
        while not self.stop.is_set():
            offset = day * (self.s.end_min - self.s.start_min)
            for at_min in arrival_offsets(self.s, self.rng, offset):
                if self.stop.wait(max(0.0, self.t0 + self.s.real_s(at_min) - time.monotonic())):
                    return
                self.arrive()
            if not self.s.endless:
                break
            day += 1
        self.ledger.arrivals_done = True

    def arrive(self) -> None:
        services = self.s.services
        service = self.rng.choices(services, [x.weight for x in services])[0]
        by_guide = self.rng.random() < self.s.guide_share
        patience = self.s.real_s(self.rng.expovariate(1 / self.s.patience_min))
        try:
            ticket = self.api.issue(service.id, by_guide)
        except (ApiError, OSError) as exc:
            log.warning("no ticket for a citizen: %s", exc)
            self.ledger.issue_failures += 1
            return
        self.ledger.issued(
            TicketRecord(
                ticket["ticket"], service.id, ticket["token"], time.monotonic() + patience, by_guide
            )
        )


class Window:
    """One window: its device, its clerk and the citizens who rate there."""

    def __init__(
        self,
        number: int,
        term: Terminal,
        clerk: tuple[str, str, str],
        scenario: Scenario,
        api: HallApi,
        ledger: Ledger,
        t0: float,
        stop: threading.Event,
    ):
        self.number, self.term, self.clerk = number, term, clerk
        self.s, self.api, self.ledger, self.t0, self.stop = scenario, api, ledger, t0, stop
        self.rng = random.Random(scenario.seed * 1000 + number)
        self.rater_rng = random.Random(scenario.seed * 2000 + number)
        self.services = scenario.window_services[number - 1]
        self.power_loss: Callable[[], None] | None = None  # armed by the fault schedule
        self.raters: list[threading.Thread] = []

    # --- the clerk's morning ---------------------------------------------------------------

    def run(self) -> None:
        try:
            spread = self.rng.uniform(0, self.s.shift_spread_min)
            if self.stop.wait(self.s.real_s(spread)):
                return
            self.log_in()
            while not self.stop.is_set() and not self.ledger.finished():
                self.serve_one()
            self.log_out()
        except Exception:  # noqa: BLE001 - a broken window is reported, the hall goes on
            log.exception("window %s stopped", self.number)
            raise

    def look(self) -> Look | None:
        try:
            return self.term.look()
        except DeviceGone:
            return None

    def log_in(self) -> None:
        name, _staff_no, uid = self.clerk
        while not self.stop.is_set():
            self._wait(lambda look: look.online, WAIT_ONLINE_S)
            try:
                self.term.tap(uid)
            except DeviceGone:
                continue
            if wait_look(self.term, lambda look: look.clerk == name, 10):
                self.ledger.logins += 1
                return

    def log_out(self) -> None:
        self._wait(lambda look: look.mode == v.SERVING, 30)
        try:
            self.term.tap(self.clerk[2])
        except DeviceGone:
            pass
        wait_look(self.term, lambda look: look.clerk is None, 10)

    def _wait(self, check: Callable[[Look], bool], timeout_s: float) -> Look | None:
        deadline = time.monotonic() + timeout_s
        while not self.stop.is_set() and time.monotonic() < deadline:
            found = wait_look(self.term, check, min(1.0, timeout_s))
            if found:
                return found
        return None

    def _ready_to_call(self, look: Look) -> bool:
        if not look.online or look.ticket is not None or look.clerk is None:
            return False
        allowed = (v.SERVING,) if self.term.hides_mode else (v.SERVING, v.THANKS, *RATING_MODES)
        return look.mode in allowed

    def serve_one(self) -> None:
        if not self._wait(self._ready_to_call, 2.0):
            return
        if self.ledger.open_count() == 0:
            self.stop.wait(0.2)
            return
        try:
            self.term.press("call_next")
        except DeviceGone:
            return
        called = wait_look(self.term, lambda look: look.ticket is not None, CALL_WAIT_S)
        if called is None or called.ticket is None:
            self.stop.wait(self.rng.uniform(0.2, 0.6))  # nobody waiting for my services yet
            return
        self.attend(called.ticket)

    def attend(self, number: str) -> None:
        record = self.ledger.get(number)
        if record is None:
            self.ledger.orphans.append(number)
            self.no_show(number, None)
        elif time.monotonic() > record.leave_at:
            self.no_show(number, record)
        elif self.rng.random() < self.s.transfer_rate and len(self.s.services) > 1:
            self.transfer(record)
        else:
            self.serve(record)

    def no_show(self, number: str, record: TicketRecord | None) -> None:
        try:
            self.term.press("recall")
        except DeviceGone:
            pass
        self.stop.wait(self.s.real_s(0.5))
        try:
            self.api.no_show(str(self.number))
        except ApiError as exc:
            log.info("no-show of %s at window %s: %s", number, self.number, exc)
        self._wait(lambda look: look.ticket != number, WAIT_ONLINE_S)
        if record is not None:
            self.ledger.close(number, "no_show", self.number)

    def transfer(self, record: TicketRecord) -> None:
        other = self.rng.choice([x.id for x in self.s.services if x.id != record.service])
        try:
            self.api.transfer(record.number, other)
        except ApiError as exc:
            log.info("transfer of %s: %s", record.number, exc)
            self.serve(record)
            return
        record.transferred, record.service, record.leave_at = True, other, math.inf
        self._wait(lambda look: look.ticket != record.number, WAIT_ONLINE_S)

    def serve(self, record: TicketRecord) -> None:
        mean = next(x.service_min for x in self.s.services if x.id == record.service)
        minutes = self.rng.lognormvariate(math.log(mean) - 0.08, 0.4)
        self.stop.wait(self.s.real_s(minutes))
        while not self.stop.is_set():  # 办结: the rating window opens for this citizen
            look = self._wait(
                lambda look: look.mode == v.SERVING and look.ticket == record.number, WAIT_ONLINE_S
            )
            try:
                if look and self.term.press("complete", when=(v.SERVING,)):
                    break
            except DeviceGone:
                continue
        self.ledger.close(record.number, "served", self.number)
        rater = threading.Thread(target=self.rate, args=(record,), name=f"citizen-{record.number}")
        rater.start()
        self.raters.append(rater)
        if self.rng.random() < self.s.pause_rate:
            self.pause()

    def pause(self) -> None:
        reason = self.rng.randrange(len(PAUSE_REASONS))
        if not self._wait(lambda look: look.mode == v.SERVING, 30):
            return
        try:
            if not self.term.press("pause", when=(v.SERVING,)):
                return
            if not self.term.press(RATING_KEYS[reason], when=(v.PAUSE_SELECT,)):
                return
            self.ledger.pauses += 1
            self.stop.wait(self.s.real_s(self.rng.uniform(0.5, 1.5) * self.s.pause_min))
            self._wait(lambda look: look.mode == v.PAUSED, 30)
            self.term.press("pause", when=(v.PAUSED,))
        except DeviceGone:
            return

    # --- the citizen at the rating keys ----------------------------------------------------

    def rate(self, record: TicketRecord) -> None:
        rng, s = self.rater_rng, self.s
        if rng.random() < s.skip_rate:
            return  # walks away: the window closes unrated
        level = rng.choices(LEVELS, [s.levels[x] for x in LEVELS])[0]
        time.sleep(rng.uniform(0.1, min(1.0, s.rating_window_s * 0.4)))
        try:
            if not self.term.press(RATING_KEYS[LEVELS.index(level)], when=RATING_MODES):
                return
        except DeviceGone:
            return
        self.ledger.rated(record.number, level)
        if self.power_loss is not None:
            cut, self.power_loss = self.power_loss, None
            cut()  # the power fails right after the press: before or after the ack, who knows
            return
        if is_bad(level) and rng.random() >= s.reason_skip_rate:
            reason = rng.randrange(len(BAD_REASONS))
            time.sleep(rng.uniform(0.1, min(0.8, s.reasons_s * 0.4)))
            try:
                if self.term.press(RATING_KEYS[reason], when=(v.REASONS,)):
                    self.ledger.reason(record.number, BAD_REASONS[reason])
            except DeviceGone:
                pass

    def join_raters(self) -> None:
        for rater in self.raters:
            rater.join(timeout=30)

    def describe(self) -> dict[str, Any]:
        return {"window": self.number, "device": self.term.name, "clerk": self.clerk[0]}
