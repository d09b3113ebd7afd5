"""A stand-in for the provincial 好差评 interface: a real HTTP(S) server on 127.0.0.1 for tests.

    with ProvinceStandin(tls_dir=tmp_path, token="t0ken") as province:   # HTTPS, own CA
        cfg = UploadConfig(url=province.url, token="t0ken", ca_file=province.ca_file)
        province.mode = "down"          # 503 to everything     ("reset": drop the connection,
        province.mode = "up"            #                         "lose_answer": store, then 500)
        province.fail_next(2, 500)      # the next two requests answer 500
        province.accepted               # idempotency key -> body, each stored once
        province.requests               # every request as it arrived (headers, body, answer)

Like the real one it dedupes on the idempotency key: a repeated key is answered 409 and not
stored again, so a test can tell a duplicate sent from a duplicate counted.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

MODES = ("up", "down", "reset", "lose_answer")


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: Any
    status: int | None  # None: the connection was dropped


class ProvinceStandin:
    def __init__(self, tls_dir: Path | None = None, token: str | None = None) -> None:
        self.token = token
        self.mode = "up"
        self.requests: list[Request] = []
        self.accepted: dict[str, Any] = {}
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.ca_file: str | None = None
        if tls_dir is not None:
            self.ca_file, context = _tls(Path(tls_dir))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls_dir is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}/api/evaluation"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ProvinceStandin:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, count: int, status: int = 503) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    def answer(self, headers: dict[str, str], body: Any) -> tuple[int | None, dict]:
        """Decide what the province says to one request (None: drop the connection)."""
        with self._lock:
            if self.mode in ("down", "reset") or self._failures:
                status = self._failures.pop(0) if self._failures else 503
                return (None if self.mode == "reset" else status), {"code": "unavailable"}
            if self.token and headers.get("authorization") != f"Bearer {self.token}":
                return 401, {"code": "unauthorised"}
            key = headers.get("idempotency-key")
            if not key:
                return 400, {"code": "missing idempotency key"}
            if key in self.accepted:
                return 409, {"code": "duplicate", "id": key}
            self.accepted[key] = body
            return (500 if self.mode == "lose_answer" else 200), {"code": "0", "id": key}


def _handler(standin: ProvinceStandin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            raw = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            body = json.loads(raw or b"null")
            status, answer = standin.answer(headers, body)
            standin.requests.append(Request(self.path, headers, body, status))
            if status is None:
                self.close_connection = True
                self.connection.close()
                return
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler


def _tls(directory: Path) -> tuple[str, ssl.SSLContext]:
    """A throwaway CA and a certificate for 127.0.0.1 signed by it."""
    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "province stand-in CA")])
    ca = (
        _builder(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        _builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), ca_name,
                 key.public_key(), now)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    pem = serialization.Encoding.PEM
    (directory / "ca.pem").write_bytes(ca.public_bytes(pem))
    (directory / "server.pem").write_bytes(leaf.public_bytes(pem))
    (directory / "server.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "server.pem", directory / "server.key")
    return str(directory / "ca.pem"), context


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: Any, now: dt.datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )
