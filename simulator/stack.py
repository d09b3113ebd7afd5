"""What a simulated hall runs on when nothing is configured: a broker (Mosquitto when installed,
else amqtt in this process), the real gateway as its own process on a SQLite store, and the
hall's windows, devices, staff and logins registered the way `yuping admin` registers them.

A gateway process is what a gateway crash can SIGKILL; the broker can be restarted on its port.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from simulator.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent
MOSQUITTO_CONF = Path(__file__).resolve().parent / "mosquitto.conf"
PASSWORD = "yuping-demo"  # the simulated hall's web logins (loopback only)


class StackError(RuntimeError):
    """The broker or the gateway could not be started."""


def free_port(preferred: int | None = None) -> int:
    """`preferred` when nothing listens there, else a free loopback port."""
    if preferred is not None:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", preferred))
                return preferred
            except OSError:
                pass
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout_s: float, alive: Any = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise StackError(f"the process meant to listen on {port} exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise StackError(f"nothing listens on port {port} after {timeout_s}s")


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()), None
    )


class MosquittoBroker:
    """Mosquitto on a port of ours, persistence in `workdir`; restart keeps port and sessions."""

    name = "mosquitto"

    def __init__(self, workdir: Path, port: int, binary: str) -> None:
        self.port, self.binary = port, binary
        self.dir = workdir / "broker"
        self.dir.mkdir(parents=True, exist_ok=True)
        # Started as root, mosquitto drops to its own user: it must reach and write its store.
        workdir.chmod(workdir.stat().st_mode | 0o011)
        self.dir.chmod(0o777)
        self.conf = self.dir / "mosquitto.conf"
        self.conf.write_text(
            MOSQUITTO_CONF.read_text()
            + f"listener {port} 127.0.0.1\npersistence true\n"
            + f"persistence_location {self.dir}/\nautosave_interval 1\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> MosquittoBroker:
        with open(self.dir / "broker.log", "ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "-c", str(self.conf)], stdout=log, stderr=subprocess.STDOUT
            )
        wait_port(self.port, 10, alive=lambda: self.proc is not None and self.proc.poll() is None)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def restart(self, down_s: float) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()


class AmqttBroker:
    """amqtt in a background thread of this process, for machines without Mosquitto."""

    name = "amqtt (in-process)"

    def __init__(self, port: int) -> None:
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> AmqttBroker:
        from amqtt.broker import Broker

        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
            "sys_interval": 0,
            "auth": {"allow-anonymous": True},
        }
        self._loop = loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=loop.run_forever, name="yp-amqtt", daemon=True)
        self._thread.start()

        async def boot() -> Any:
            broker = Broker(config)
            await broker.start()
            return broker

        self._broker = asyncio.run_coroutine_threadsafe(boot(), loop).result(timeout=20)
        wait_port(self.port, 10)
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop).result(timeout=20)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._loop = None

    def restart(self, down_s: float) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()


def start_broker(workdir: Path, preferred_port: int | None = None) -> MosquittoBroker | AmqttBroker:
    port = free_port(preferred_port)
    binary = mosquitto_binary()
    broker = MosquittoBroker(workdir, port, binary) if binary else AmqttBroker(port)
    return broker.start()


def queue_setup(scenario: Scenario, http_port: int) -> dict[str, Any]:
    """The hall's queue set-up for the scenario's services and windows (gateway [queue])."""
    services = [
        {"id": s.id, "prefix": s.prefix, "name": s.name, "area": "window",
         "avg_service_min": s.service_min}
        for s in scenario.services
    ]  # fmt: skip
    windows = [
        {"id": str(n), "label": f"{n}号窗口", "services": list(ids)}
        for n, ids in enumerate(scenario.window_services, start=1)
    ]
    return {
        "hall_name": "豫评模拟大厅",
        "rating_timeout_s": scenario.rating_window_s,
        "no_show_returns": 0,  # the simulated citizen who left does not come back
        "status_url": f"http://127.0.0.1:{http_port}/q/{{token}}",
        "services": services,
        "windows": windows,
    }


def _toml(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON strings, numbers and lists are TOML


def write_gateway_files(
    workdir: Path, scenario: Scenario, hall: str, broker_port: int, http_port: int
) -> Path:
    queue = queue_setup(scenario, http_port)
    lines = ["[queue]"]
    lines += [f"{k} = {_toml(v)}" for k, v in queue.items() if k not in ("services", "windows")]
    for table in ("services", "windows"):
        for row in queue[table]:
            lines.append(f"\n[[queue.{table}]]")
            lines += [f"{k} = {_toml(v)}" for k, v in row.items()]
    (workdir / "queue.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    gateway = {
        "hall": hall,
        "hall_name": "豫评模拟大厅",
        "broker": f"mqtt://127.0.0.1:{broker_port}",
        "db": str(workdir / "yuping.db"),
        "http": f"127.0.0.1:{http_port}",
        "rating_timeout_s": scenario.rating_window_s,
        "queue": str(workdir / "queue.toml"),
    }
    path = workdir / "gateway.toml"
    path.write_text(
        "[gateway]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in gateway.items()),
        encoding="utf-8",
    )
    return path


@dataclass(frozen=True)
class HallPeople:
    """Who works in the simulated hall: a clerk per window, a guide, the kiosk's account."""

    clerks: tuple[tuple[str, str, str], ...]  # (name, staff_no, badge uid) per window
    manager: str = "sim-manager"
    guide: str = "sim-guide"
    kiosk: str = "sim-kiosk"
    password: str = PASSWORD


SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"


def hall_people(windows: int) -> HallPeople:
    clerks = tuple(
        (
            SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)],
            f"HN{1001 + i}",
            f"04{i + 1:04X}A0",  # a 4-byte type A UID
        )
        for i in range(windows)
    )
    return HallPeople(clerks)


def register_hall(db: str, hall: str, people: HallPeople, devices: list[str]) -> None:
    """Windows 1..N with a terminal each, the clerks with badges, web logins (direct to the store,
    as `yuping admin` and `yuping staff import` do, before the gateway starts)."""
    import gateway.store.tables  # noqa: F401 - the core tables join the metadata
    from gateway import registry, staff, users
    from gateway.store import make_engine, migrate

    engine = make_engine(db)
    migrate(engine)
    with engine.begin() as conn:
        registry.ensure_hall(conn, hall, "豫评模拟大厅")
        for number, device in enumerate(devices, start=1):
            registry.add_window(conn, hall, str(number), number)
            registry.add_device(conn, hall, device, "terminal", str(number))
        for name, staff_no, uid in people.clerks:
            staff.add_staff(conn, hall, staff.StaffEntry(name, staff_no, "clerk", uid, None))
        manager_id = staff.add_staff(
            conn, hall, staff.StaffEntry("值班主任", "HN0001", "manager", None, None)
        )
        guide_id = staff.add_staff(
            conn, hall, staff.StaffEntry("导办员", "HN0002", "clerk", None, None)
        )
        users.add_user(conn, people.manager, people.password, "manager", hall, manager_id)
        users.add_user(conn, people.guide, people.password, "clerk", hall, guide_id)
        users.add_user(conn, people.kiosk, people.password, "technician", hall, None)
    engine.dispose()


class GatewayProcess:
    """`yuping gateway --config FILE` as a child process: SIGKILL is a crash, start() restarts."""

    def __init__(self, config: Path, http_port: int, log: Path) -> None:
        self.config, self.http_port, self.log = config, http_port, log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self, timeout_s: float = 60) -> GatewayProcess:
        code = "from gateway.cli import main; main()"
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", code, "gateway", "--config", str(self.config)],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
        self.wait_ready(timeout_s)
        return self

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                tail = self.log.read_text(errors="replace")[-2000:]
                raise StackError(f"the gateway exited:\n{tail}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise StackError(f"the gateway did not answer on {self.url} within {timeout_s}s")

    def crash(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def register_through_api(api: Any, people: HallPeople, devices: list[str]) -> None:
    """The same hall set-up through a running gateway's HTTP API (a manager login); what is
    already registered is left as it is."""
    from simulator.api import ApiError

    requests: list[tuple[str, dict[str, Any]]] = []
    for number, device in enumerate(devices, start=1):
        requests.append(("/api/windows", {"id": str(number), "number": number}))
        requests.append(("/api/devices", {"id": device, "kind": "terminal", "window": str(number)}))
    for name, staff_no, uid in people.clerks:
        requests.append(
            ("/api/staff", {"name": name, "staff_no": staff_no, "role": "clerk", "badge_uid": uid})
        )
    for path, body in requests:
        try:
            api.request("POST", path, "manager", json=body)
        except ApiError as exc:
            if exc.status not in (400, 409):
                raise
