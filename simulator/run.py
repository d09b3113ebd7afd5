"""A whole simulated hall for one scenario: the stack (own broker and gateway, or given ones),
a window terminal per window on the real firmware, the people, the faults, the report.

    with Simulation(load("simulator/scenarios/morning.toml"), workdir) as sim:
        report = sim.run()

Windows that a power loss or a wrong clock hits run as their own device processes; the others
run in this process. Every device reaches the broker through its own network cable
(simulator.netcut), so any of them can be cut off.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from gateway.config import parse_broker
from simulator import report as reporting
from simulator.api import HallApi
from simulator.faults import Faults
from simulator.ledger import Ledger
from simulator.netcut import Cables
from simulator.people import Citizens, Window
from simulator.scenario import Scenario
from simulator.stack import (
    GatewayProcess,
    HallPeople,
    free_port,
    hall_people,
    register_hall,
    start_broker,
    write_gateway_files,
)
from simulator.terminals import InProcessTerminal, ProcessTerminal, Terminal, device_config

log = logging.getLogger("yuping.sim")

DRAIN_S = 60.0


class Simulation:
    def __init__(
        self,
        scenario: Scenario,
        workdir: Path,
        hall: str = "sim",
        broker_url: str | None = None,
        broker: Any = None,
        gateway_http: str | None = None,
        logins: dict[str, tuple[str, str]] | None = None,
        preferred_ports: tuple[int | None, int | None] = (None, None),
        max_real_s: float | None = None,
        progress: bool = False,
    ) -> None:
        self.s, self.workdir, self.hall = scenario, workdir, hall
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.external = (broker_url, gateway_http)
        self.logins = logins
        self.preferred_ports = preferred_ports
        self.max_real_s = max_real_s
        self.progress = progress
        self.stop_event = threading.Event()
        self.ledger = Ledger()
        self.people: HallPeople = hall_people(scenario.windows)
        self.broker: Any = broker  # ours to restart: .port and .restart(down_s)
        self._own_broker = False
        self.gateway: GatewayProcess | None = None
        self.cables: Cables | None = None
        self.terminals: list[Terminal] = []
        self.windows: list[Window] = []
        self.api: HallApi | None = None
        self.gateway_url = ""
        self.t0 = 0.0

    # --- bring-up -------------------------------------------------------------------------

    def devices(self) -> list[str]:
        return [f"w-{n:02d}" for n in range(1, self.s.windows + 1)]

    def start_stack(self) -> None:
        broker_url, gateway_http = self.external
        if broker_url is None and self.broker is None:
            self.broker = start_broker(self.workdir, self.preferred_ports[0])
            self._own_broker = True
        if broker_url is None:
            broker_url = f"mqtt://127.0.0.1:{self.broker.port}"
        if gateway_http is None:
            http_port = free_port(self.preferred_ports[1])
            config = write_gateway_files(
                self.workdir, self.s, self.hall, parse_broker(broker_url)[1], http_port
            )
            register_hall(str(self.workdir / "yuping.db"), self.hall, self.people, self.devices())
            self.gateway = GatewayProcess(config, http_port, self.workdir / "gateway.log").start()
            gateway_http = self.gateway.url
        self.broker_url, self.gateway_url = broker_url, gateway_http
        p = self.people
        self.api = HallApi(
            gateway_http,
            self.logins
            or {
                "manager": (p.manager, p.password),
                "guide": (p.guide, p.password),
                "kiosk": (p.kiosk, p.password),
            },
        )

    def register_through_api(self) -> None:
        """For a given gateway: windows, devices and clerks through its HTTP API."""
        from simulator.stack import register_through_api

        assert self.api is not None
        register_through_api(self.api, self.people, self.devices())

    def start_devices(self) -> None:
        host, port = parse_broker(self.broker_url)
        self.cables = Cables(host, port)
        hit = {f.window: f for f in self.s.faults if f.kind in ("power_loss", "wrong_clock")}
        for number, device in enumerate(self.devices(), start=1):
            cable = self.cables.add(device)
            path = device_config(
                self.workdir,
                self.hall,
                device,
                f"mqtt://127.0.0.1:{cable}",
                hall_name="豫评模拟大厅",
                window_label=f"{number}号窗口",
                rating_window_s=self.s.rating_window_s,
                reasons_s=self.s.reasons_s,
                thanks_s=self.s.thanks_s,
            )
            fault = hit.get(number)
            term: Terminal
            if fault is None:
                term = InProcessTerminal(path)
            else:
                skew = fault.skew_s if fault.kind == "wrong_clock" else 0.0
                term = ProcessTerminal(path, self.workdir, skew_s=skew)
            self.terminals.append(term.start())
        for term in self.terminals:
            if not _wait_online(term, 60):
                raise RuntimeError(f"device {term.name} did not come online")

    # --- the morning ----------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """The whole scenario: bring-up, the morning with its faults, drain, report."""
        started = time.monotonic()
        clerks = self.begin()
        self._watch(clerks)
        return self.finish(started)

    def begin(self) -> list[threading.Thread]:
        """Bring the hall up (unless done) and let the people and faults loose; returns the
        clerks' threads, which end when every citizen has been served or sent away."""
        if self.api is None:
            self.start_stack()
            self.start_devices()
        assert self.api is not None
        self.t0 = t0 = time.monotonic()
        self.windows = [
            Window(
                n,
                term,
                self.people.clerks[n - 1],
                self.s,
                self.api,
                self.ledger,
                t0,
                self.stop_event,
            )
            for n, term in enumerate(self.terminals, start=1)
        ]
        self.faults = Faults(
            self.s, self.ledger, self.windows, t0, self.stop_event,
            broker=self.broker, gateway=self.gateway, cables=self.cables,
        )  # fmt: skip
        self.faults.check()
        self._fault_thread = threading.Thread(target=self.faults.run, name="faults", daemon=True)
        citizens = Citizens(self.s, self.api, self.ledger, t0, self.stop_event)
        clerks = [
            threading.Thread(target=w.run, name=f"window-{w.number}", daemon=True)
            for w in self.windows
        ]
        for thread in [threading.Thread(target=citizens.run, name="citizens", daemon=True),
                       self._fault_thread, *clerks]:  # fmt: skip
            thread.start()
        return clerks

    def finish(self, started: float) -> dict[str, Any]:
        assert self.api is not None
        self._fault_thread.join(timeout=120)
        for window in self.windows:
            window.join_raters()
        self._drain()
        real_s = time.monotonic() - started
        extra = {"gateway": self.gateway_url, "broker": self.broker_url}
        return reporting.build(self.api, self.ledger, self.s, real_s, extra)

    def _watch(self, clerks: list[threading.Thread]) -> None:
        from simulator.progress import Live

        with Live(self.ledger, self.s, self.t0, enabled=self.progress) as live:
            while any(t.is_alive() for t in clerks):
                if self.max_real_s is not None and time.monotonic() - self.t0 > self.max_real_s:
                    log.warning("the scenario ran out of time; stopping the hall")
                    self.stop_event.set()
                live.update()
                for thread in clerks:
                    thread.join(timeout=0.5 / len(clerks))

    def _drain(self) -> None:
        """Let open rating windows close and every outbox empty into the gateway."""
        time.sleep(self.s.rating_window_s + self.s.reasons_s + 1)
        deadline = time.monotonic() + DRAIN_S
        for term in self.terminals:
            while time.monotonic() < deadline:
                try:
                    if term.outbox_depth() == 0:
                        break
                except Exception:  # noqa: BLE001 - a device still booting after a power loss
                    pass
                time.sleep(0.2)
        time.sleep(1.0)  # the last acks' writes are committed before the ack goes out

    # --- teardown -------------------------------------------------------------------------

    def close(self) -> None:
        self.stop_event.set()
        for term in self.terminals:
            try:
                term.stop()
            except Exception:  # noqa: BLE001 - tear down the rest regardless
                log.exception("stopping %s", term.name)
        if self.cables is not None:
            self.cables.close()
        if self.api is not None:
            self.api.close()
        if self.gateway is not None:
            self.gateway.stop()
        if self._own_broker:
            self.broker.stop()

    def __enter__(self) -> Simulation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _wait_online(term: Terminal, timeout_s: float) -> bool:
    from simulator.terminals import wait_look

    return wait_look(term, lambda look: look.online, timeout_s, step_s=0.1) is not None
