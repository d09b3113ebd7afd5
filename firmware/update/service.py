"""The updater inside the window terminal's process.

`cmd/update` goes to `command()`; update events go into the terminal's durable outbox (so one
reported just before a restart still reaches the gateway); the new release is healthy once the
terminal is online and the gateway has acked this start's hello; a restart is a SIGTERM to the
service itself, after which systemd starts it again from the new `current` (guard.py first).

    service = UpdateService.from_config(cfg_path, outbox, kick=link.kick)
    service.start()                                   # after the outbox is open
    service.command(kind, body)                       # for every command received
    service.tick(online)                              # from the terminal's periodic loop
"""

from __future__ import annotations

import os
import signal
import threading
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from firmware.update.agent import HEALTH_S, Updater
from firmware.update.errors import UpdateError
from firmware.update.store import ReleaseStore


def restart_service() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


class UpdateService:
    def __init__(
        self,
        outbox: Any,
        root: Path | str,
        public_key: str,
        kick: Callable[[], None] = lambda: None,
        restart: Callable[[], None] = restart_service,
        health_s: int = HEALTH_S,
    ):
        self.outbox = outbox
        self.kick = kick
        self.updater = Updater(ReleaseStore(root), public_key, self.report, restart, health_s)
        self._busy = threading.Lock()

    @classmethod
    def from_config(cls, path: Path | str, outbox: Any, **kw: Any) -> UpdateService | None:
        """From device.toml's [update] table; None when it names no release key (no updates)."""
        with open(path, "rb") as f:
            table = tomllib.load(f).get("update", {})
        if not table.get("public_key"):
            return None
        return cls(outbox, table.get("root", "/opt/yuping"), table["public_key"], **kw)

    def report(self, state: str, version: str, detail: str | None) -> None:
        fields: dict[str, Any] = {"version": version[:32], "state": state}
        if detail:
            fields["detail"] = detail[:200]
        self.outbox.put("update", fields)
        self.kick()

    def start(self) -> None:
        self.updater.start()

    def command(self, kind: str, body: dict[str, Any]) -> None:
        if kind != "update":
            return
        if not self._busy.acquire(blocking=False):
            self.report("failed", body["version"], "another update is in progress")
            return
        threading.Thread(
            target=self._offer, args=(body,), name="yuping-update", daemon=True
        ).start()

    def _offer(self, body: dict[str, Any]) -> None:
        try:
            self.updater.offer(body)
        except UpdateError as exc:
            self.report("failed", body["version"], str(exc))
        finally:
            self._busy.release()

    def tick(self, online: bool) -> None:
        if online and self.outbox.count("hello") == 0:
            self.updater.healthy()
        self.updater.tick()
