"""A local HTTP receiver for webhook tests: records each POST, answers 500 on demand."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], Any]] = []
        self.failures = 0  # answer this many POSTs with 500 first
        self.attempts = 0
        self._changed = threading.Condition()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Any]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.posts) < count and time.monotonic() < deadline:
                self._changed.wait(deadline - time.monotonic())
            return [body for _, body in self.posts]

    def _record(self, headers: dict[str, str], raw: bytes) -> int:
        with self._changed:
            self.attempts += 1
            if self.failures:
                self.failures -= 1
                return 500
            self.posts.append((headers, json.loads(raw)))
            self._changed.notify_all()
            return 204

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                status = receiver._record({k.lower(): v for k, v in self.headers.items()}, raw)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        return Handler
