"""Faults on the scenario's schedule: the broker restarts, the gateway is SIGKILLed and started
again, a device's network cable is cut, a device loses power right after a rating press, a
device runs with a wrong clock (from power-on). Each is logged in the ledger when it happens."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from simulator.ledger import Ledger
from simulator.people import Window
from simulator.scenario import FaultSpec, Scenario
from simulator.terminals import ProcessTerminal

log = logging.getLogger("yuping.sim")


class FaultError(RuntimeError):
    """A fault the scenario asks for cannot be injected here (say, the broker is not ours)."""


class Faults:
    def __init__(
        self,
        scenario: Scenario,
        ledger: Ledger,
        windows: list[Window],
        t0: float,
        stop: threading.Event,
        broker: Any = None,
        gateway: Any = None,
        cables: Any = None,
    ):
        self.s, self.ledger, self.windows, self.t0, self.stop = scenario, ledger, windows, t0, stop
        self.broker, self.gateway, self.cables = broker, gateway, cables

    def check(self) -> None:
        """Refuse, before anything runs, a fault this set-up cannot inject."""
        for fault in self.s.faults:
            if fault.kind == "broker_restart" and self.broker is None:
                raise FaultError("broker_restart needs the simulator's own broker (no --broker)")
            if fault.kind == "gateway_crash" and self.gateway is None:
                raise FaultError(
                    "gateway_crash needs the simulator's own gateway (no --gateway-http)"
                )
            if fault.kind == "network_cut" and self.cables is None:
                raise FaultError("network_cut needs the simulator's network cables")

    def run(self) -> None:
        for fault in sorted(self.s.faults, key=lambda f: f.at_min):
            if fault.kind == "wrong_clock":
                self._log(fault, f"device clock off by {fault.skew_s:+.0f} s from power-on")
                continue
            due = self.t0 + self.s.real_s(fault.at_min)
            if self.stop.wait(max(0.0, due - time.monotonic())):
                return
            getattr(self, "_" + fault.kind)(fault)

    def _log(self, fault: FaultSpec, detail: str) -> None:
        sim_min = (time.monotonic() - self.t0) * self.s.time_scale / 60 + self.s.start_min
        entry: dict[str, Any] = {
            "kind": fault.kind,
            "at": self.s.clock_text(sim_min),
            "detail": detail,
        }
        if fault.window is not None:
            entry["window"] = fault.window
        self.ledger.fault(**entry)
        log.info("fault: %s", entry)

    def _broker_restart(self, fault: FaultSpec) -> None:
        self._log(fault, f"broker down {fault.down_s:g} s")
        self.broker.restart(fault.down_s)

    def _gateway_crash(self, fault: FaultSpec) -> None:
        self._log(
            fault, f"gateway SIGKILLed (pid {self.gateway.pid}), restarted after {fault.down_s:g} s"
        )
        self.gateway.crash()
        self.stop.wait(fault.down_s)
        self.gateway.start()

    def _network_cut(self, fault: FaultSpec) -> None:
        device = self._window(fault).term.name
        self._log(fault, f"network of {device} cut for {fault.down_s:g} s")
        self.cables.cut(device)
        self.stop.wait(fault.down_s)
        self.cables.mend(device)

    def _power_loss(self, fault: FaultSpec) -> None:
        window = self._window(fault)
        term = window.term
        assert isinstance(term, ProcessTerminal)
        window.power_loss = self._power_cut(fault, term)

    def _power_cut(self, fault: FaultSpec, term: ProcessTerminal) -> Callable[[], None]:
        def cut() -> None:
            self._log(
                fault,
                f"{term.name} SIGKILLed right after a rating press, on after {fault.down_s:g} s",
            )
            term.kill()
            time.sleep(fault.down_s)
            term.start()

        return cut

    def _window(self, fault: FaultSpec) -> Window:
        assert fault.window is not None
        return self.windows[fault.window - 1]
