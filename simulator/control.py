"""A small control channel into a simulated device process: JSON lines over a Unix socket.

The device process serves it (`ControlServer(path, handle)`), tests, benches and the simulator
drive it (`ControlClient(path).call("press", key="rate1")`). One request per line, one answer per
line: {"op": ..., **args} -> {"ok": true, **result} or {"ok": false, "error": "..."}.
"""

from __future__ import annotations

import json
import os
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from typing import Any

Handler = Callable[[str, dict[str, Any]], dict[str, Any]]


class ControlError(RuntimeError):
    """The device refused or failed a control request."""


class ControlServer:
    def __init__(self, path: str, handle: Handler):
        self.path = path
        if os.path.exists(path):
            os.unlink(path)  # left by a killed process
        outer = self

        class _Requests(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for line in self.rfile:
                    self.wfile.write(outer._answer(line) + b"\n")

        self._server = socketserver.ThreadingUnixStreamServer(path, _Requests)
        self._server.daemon_threads = True
        self._handle = handle
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="yp-control", daemon=True
        )

    def _answer(self, line: bytes) -> bytes:
        try:
            request = json.loads(line)
            result = self._handle(request.pop("op"), request)
            return json.dumps({"ok": True, **result}, ensure_ascii=False).encode()
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the caller, named
            return json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}).encode()

    def start(self) -> ControlServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class ControlClient:
    def __init__(self, path: str, connect_timeout_s: float = 20.0):
        self._sock = _connect(path, connect_timeout_s)
        self._file = self._sock.makefile("rwb")

    def call(self, op: str, **args: Any) -> dict[str, Any]:
        self._file.write(json.dumps({"op": op, **args}).encode() + b"\n")
        self._file.flush()
        line = self._file.readline()
        if not line:
            raise ControlError("the device closed the control channel")
        answer: dict[str, Any] = json.loads(line)
        if not answer.pop("ok"):
            raise ControlError(answer["error"])
        return answer

    def close(self) -> None:
        self._file.close()
        self._sock.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _connect(path: str, timeout_s: float) -> socket.socket:
    """Wait for the device process to come up and listen."""
    deadline = time.monotonic() + timeout_s
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
            return sock
        except OSError:
            sock.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
