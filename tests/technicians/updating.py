"""Test helpers for updates: release archives, a gateway with the fleet and its HTTP routes, and
a simulated window terminal whose start is the release's own code.

A release here holds `boot.py`; the simulated device "starts" by running the start guard and then
`python current/boot.py`: a release whose boot.py fails never comes up, like firmware that
crashes on start, and only the guard can bring the previous release back.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from support.broker import free_port
from support.gateway import DeviceClient, GatewayHarness

from firmware.update import guard
from firmware.update.agent import Updater
from firmware.update.store import ReleaseStore
from gateway import fleet as fleet_module
from gateway.http import create_app
from gateway.release import signing

GOOD_BOOT = "print('up')\n"
BROKEN_BOOT = "raise SystemExit('crashes on start')\n"


def make_release(folder: Path, version: str, boot: str = GOOD_BOOT) -> Path:
    archive = folder / f"firmware-{version}.tar"
    with tarfile.open(archive, "w") as tar:
        for name, text in (("boot.py", boot), ("VERSION", version + "\n")):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive


class FleetGateway:
    """A started GatewayHarness with the fleet installed and its routes served over HTTP."""

    def __init__(self, broker: Any, tmp_path: Path, hall: str):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.fleet: Any = None

        def setup(gateway: Any) -> None:
            self.fleet = fleet_module.install(gateway, tmp_path / "releases", self.base_url)

        self.harness = GatewayHarness(broker, tmp_path, hall, setup=setup, subsystems=[])
        app = create_app(self.harness.gateway)
        self.token = ""
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None)
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> FleetGateway:
        self.harness.start()
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        self.harness.add_user("tech", "tech-password-1", "technician")
        login = {"username": "tech", "password": "tech-password-1"}
        self.token = httpx.post(self.base_url + "/api/login", json=login).json()["token"]
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.harness.stop()

    def publish_release(self, keys: Path, archive: Path, version: str) -> str:
        signed = signing.sign(keys / "release.key", archive, version)
        public = (keys / "release.pub").read_text().strip()
        return str(self.fleet.import_release(archive, signed, public))


class SimTerminal:
    """A window terminal's update behaviour: its releases on disk, its start, its reports."""

    def __init__(self, gw: FleetGateway, device: str, root: Path, public_key: str):
        self.gw = gw
        self.device = device
        self.store = ReleaseStore(root)
        self.public_key = public_key
        self.boots = 0
        self.client: DeviceClient | None = None
        self.updater: Updater | None = None
        self.restart_requested = False
        self.store.releases.mkdir(parents=True)
        first = self.store.releases / "0.1.0"
        first.mkdir()
        (first / "boot.py").write_text(GOOD_BOOT)
        self.store.switch("0.1.0")

    @property
    def version(self) -> str | None:
        return self.store.current_version()

    def boot(self, health_s: int = 300) -> bool:
        """One start of the service: guard, then the release's own code. True when it came up."""
        self.shutdown()
        self.boots += 1
        guard.check(self.store.root, int(time.time() * 1000))
        started = subprocess.run(
            [sys.executable, str(self.store.current / "boot.py")], capture_output=True
        )
        if started.returncode != 0:
            return False
        self.client = self.gw.harness.device(self.device, boot=self.boots)
        self.updater = Updater(
            self.store, self.public_key, self.report, self.request_restart, health_s=health_s
        )
        self.updater.start()
        self.client.hello(fw=self.version or "unknown")
        self.updater.healthy()
        return True

    def shutdown(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def report(self, state: str, version: str, detail: str | None) -> None:
        assert self.client is not None
        fields = {"detail": detail} if detail else {}
        self.client.send_acked("update", version=version, state=state, **fields)

    def request_restart(self) -> None:
        self.restart_requested = True

    def take_offer(self, timeout: float = 10.0) -> str:
        assert self.client is not None and self.updater is not None
        offer = self.client.command("update", timeout=timeout)
        return self.updater.offer(offer)


def api(gw: FleetGateway, path: str, body: dict | None = None, token: str | None = None) -> Any:
    url = gw.base_url + path
    headers = {"Authorization": f"Bearer {gw.token if token is None else token}"}
    if body is not None:
        response = httpx.post(url, json=body, headers=headers)
    else:
        response = httpx.get(url, headers=headers)
    response.raise_for_status()
    return response.json()


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)
