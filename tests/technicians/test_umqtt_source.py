"""Where the flasher gets umqtt.simple: the technician's path, the cache, or the registry (here a
registry served on loopback, speaking PEP 691 JSON like PyPI's simple index); hash mismatches,
hostile archives and an unreachable index are refused with what to do instead."""

from __future__ import annotations

import hashlib
import io
import json
import socket
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gateway.flash import umqtt
from gateway.flash.umqtt import BadPackage, UmqttUnavailable, umqtt_source

SOURCE = b"class MQTTClient:\n    pass  # stands in for the library in these tests\n"
TOP = f"{umqtt.PACKAGE}-{umqtt.VERSION}"


def sdist(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return out.getvalue()


class Registry:
    """A package index on loopback: /simple/ answers PEP 691 JSON, /files/ the archive."""

    def __init__(self, archive: bytes, listed_sha256: str | None = None) -> None:
        self.archive = archive
        self.sha256 = listed_sha256 or hashlib.sha256(archive).hexdigest()
        self.accepts: list[str] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                registry.accepts.append(self.headers.get("Accept", ""))
                if self.path == "/simple/":
                    url = f"http://127.0.0.1:{self.server.server_port}/files/{umqtt.SDIST}"
                    entry = {
                        "filename": umqtt.SDIST,
                        "url": url,
                        "hashes": {"sha256": registry.sha256},
                    }
                    body = json.dumps({"meta": {"api-version": "1.1"}, "files": [entry]}).encode()
                else:
                    body = registry.archive
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/simple/"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("YUPING_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def index(monkeypatch):
    """Point the flasher at an index: a Registry's URL, or by default a closed loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def use(url: str = f"http://127.0.0.1:{port}/simple/") -> None:
        monkeypatch.setenv("YUPING_UMQTT_INDEX_URL", url)

    use()
    return use


@pytest.fixture
def serve(index):
    """Serve an archive from a loopback Registry and point the flasher at it."""
    running: list[Registry] = []

    def start(archive: bytes, listed_sha256: str | None = None) -> Registry:
        running.append(Registry(archive, listed_sha256))
        index(running[-1].url)
        return running[-1]

    yield start
    for registry in running:
        registry.close()


def test_fetched_from_the_index_hash_checked_then_cached(cache, serve):
    registry = serve(sdist({f"{TOP}/umqtt/simple.py": SOURCE, f"{TOP}/setup.py": b"x"}))
    path = umqtt_source()
    registry.close()
    assert path == cache / "micropython-lib" / f"umqtt.simple-{umqtt.VERSION}/umqtt/simple.py"
    assert path.read_bytes() == SOURCE
    assert registry.accepts[0] == "application/vnd.pypi.simple.v1+json"
    assert sorted(p.name for p in path.parent.iterdir()) == ["simple.py"]  # nothing else kept
    # Cached: the index is not asked again (it is gone now).
    assert umqtt_source() == path


def test_hash_mismatch_is_refused_and_nothing_cached(cache, serve):
    serve(sdist({f"{TOP}/umqtt/simple.py": SOURCE}), listed_sha256="0" * 64)
    with pytest.raises(BadPackage, match="the index says 0000") as err:
        umqtt_source()
    assert "--umqtt PATH" in str(err.value)
    assert not umqtt.cached_path().exists()


def test_no_network_says_what_the_technician_can_do(cache, index):
    with pytest.raises(UmqttUnavailable) as err:
        umqtt_source()
    message = str(err.value)
    assert "cannot fetch the PyPI index" in message
    assert "--umqtt PATH" in message and "mpremote mip install umqtt.simple" in message
    assert not umqtt.cached_path().exists()


@pytest.mark.parametrize(
    "archive",
    [
        sdist({"../../umqtt/simple.py": SOURCE}),
        sdist({"/tmp/umqtt/simple.py": SOURCE}),
        sdist({f"{TOP}/other/umqtt/simple.py": SOURCE}),
        sdist({}, links={f"{TOP}/umqtt/simple.py": "/etc/passwd"}),
        sdist({f"{TOP}/umqtt/simple.py": b"import os\n"}),
        b"not a tar.gz at all",
    ],
    ids=["dotdot", "absolute", "deeper", "symlink", "not-umqtt", "not-tar"],
)
def test_hostile_or_wrong_archives_are_refused(cache, tmp_path, serve, archive):
    serve(archive)
    with pytest.raises(BadPackage):
        umqtt_source()
    assert not umqtt.cached_path().exists()
    written = {p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()}
    assert written == set()  # nothing extracted anywhere


def test_technician_paths(cache, tmp_path, index):
    checkout = tmp_path / "micropython-lib"
    inner = checkout / "micropython" / "umqtt.simple" / "umqtt" / "simple.py"
    inner.parent.mkdir(parents=True)
    inner.write_bytes(SOURCE)
    assert umqtt_source(checkout) == inner
    assert umqtt_source(inner) == inner
    downloaded = tmp_path / umqtt.SDIST  # the .tar.gz fetched by hand from PyPI
    downloaded.write_bytes(sdist({f"{TOP}/umqtt/simple.py": SOURCE}))
    from_tar = umqtt_source(downloaded)
    assert from_tar.read_bytes() == SOURCE
    assert not umqtt.cached_path().exists()  # a technician's file is used when named, only


def test_warm_command_fills_the_cache(cache, serve, capsys):
    serve(sdist({f"{TOP}/umqtt/simple.py": SOURCE}))
    assert umqtt.main(["--fetch"]) == 0
    assert umqtt.cached_path().read_bytes() == SOURCE
    assert str(umqtt.cached_path()) in capsys.readouterr().out
