"""A real Mosquitto broker for tests: a free loopback port, a config kept in the repo, restartable.

Used by the `broker` fixture in tests/conftest.py, and by benches and the simulator's fault tests.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

CONFIG = Path(__file__).resolve().parent.parent / "mosquitto.conf"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()), None
    )


class Broker:
    """One Mosquitto process. `restart()` keeps the port and the persisted sessions."""

    def __init__(self, port: int | None = None, extra_config: str = "", persistence: bool = True):
        binary = mosquitto_binary()
        if binary is None:
            raise RuntimeError("mosquitto is not installed (Debian: apt-get install mosquitto)")
        self.binary = binary
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="yp-broker-"))
        # Started as root, mosquitto drops to its own user; it must still write its store here.
        self.dir.chmod(0o777)
        self.conf = self.dir / "mosquitto.conf"
        lines = [CONFIG.read_text(), f"listener {self.port} 127.0.0.1"]
        if persistence:
            lines += [
                "persistence true",
                f"persistence_location {self.dir}/",
                "autosave_interval 1",
            ]
        lines.append(extra_config)
        self.conf.write_text("\n".join(lines) + "\n")
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.dir / "broker.log"

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> Broker:
        if self.proc is not None and self.proc.poll() is None:
            # A second process on the same port cannot listen, and the first would outlive close().
            raise RuntimeError(f"the broker on port {self.port} is already running")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "-c", str(self.conf)], stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_listening()
        return self

    def _wait_listening(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"mosquitto did not listen on {self.port}")

    def stop(self, kill: bool = False) -> None:
        if self.proc is None:
            return
        if kill:
            self.proc.kill()
        else:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self, down_s: float = 0.0, kill: bool = False) -> None:
        """Stop the broker (gracefully, or SIGKILL), stay down `down_s`, start on the same port."""
        self.stop(kill=kill)
        time.sleep(down_s)
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Broker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
