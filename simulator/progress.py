"""A live one-line summary of a long run (rich), updated a few times a second."""

from __future__ import annotations

import time
from typing import Any

from simulator.ledger import Ledger
from simulator.scenario import Scenario


class Live:
    def __init__(self, ledger: Ledger, scenario: Scenario, t0: float, enabled: bool) -> None:
        self.ledger, self.s, self.t0, self.enabled = ledger, scenario, t0, enabled
        self._live: Any = None
        self._last = 0.0

    def __enter__(self) -> Live:
        if self.enabled:
            from rich.console import Console
            from rich.live import Live as RichLive

            self._live = RichLive(self.line(), console=Console(stderr=True), refresh_per_second=4)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self.line())
            self._live.__exit__(None, None, None)

    def line(self) -> str:
        p = self.ledger.summary()
        sim_min = self.s.start_min + (time.monotonic() - self.t0) * self.s.time_scale / 60
        return (
            f"[bold]{self.s.clock_text(sim_min)}[/] tickets {p['tickets']} · served {p['served']}"
            f" · no-show {p['no_show']} · waiting {p['open']} · ratings {p['ratings_pressed']}"
            f" · unrated {p['unrated']} · faults {len(self.ledger.faults)}"
        )

    def update(self) -> None:
        now = time.monotonic()
        if self._live is not None and now - self._last > 0.25:
            self._last = now
            self._live.update(self.line())
