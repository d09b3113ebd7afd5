"""Where the rating box's MQTT client comes from: micropython-lib's `umqtt.simple`.

The project ships only its own code, so umqtt.simple is not in the repository: it is used as the
library it is, taken at flash time from (in order) a path the technician names, the local cache,
or the registry package `micropython-umqtt.simple` on PyPI (its sha256 checked against the one
PyPI's index gives, then cached).

    python -m gateway.flash.umqtt --fetch    make sure the cache holds it (CI, before going offline)
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import tarfile
import urllib.error
import urllib.request
from pathlib import Path, PurePosixPath

from gateway.flash.errors import FlashError

PACKAGE = "micropython-umqtt.simple"
VERSION = "1.3.4"
SDIST = f"{PACKAGE}-{VERSION}.tar.gz"
INDEX_URL = "https://pypi.org/simple/micropython-umqtt-simple/"
INDEX_ACCEPT = "application/vnd.pypi.simple.v1+json"  # PEP 691: the index as JSON
TIMEOUT_S = 30.0
MAX_BYTES = 1 << 20  # the sdist is ~4 KB; anything near this is not it
MEMBER = PurePosixPath("umqtt", "simple.py")
# Inside a micropython-lib checkout (current layout, then the one before 2022).
CHECKOUT_PATHS = (
    Path("micropython", "umqtt.simple", "umqtt", "simple.py"),
    Path("umqtt.simple", "umqtt", "simple.py"),
)
HOW_ELSE = (
    "Either give the file yourself: `yuping flash pico … --umqtt PATH` (PATH: a umqtt/simple.py, "
    f"the {SDIST} downloaded from PyPI, or a micropython-lib checkout); or run "
    "`python -m gateway.flash.umqtt --fetch` once where PyPI is reachable; or install it on the "
    "board with `mpremote mip install umqtt.simple` and flash with `--umqtt-on-board`."
)


class UmqttUnavailable(FlashError, OSError):
    """umqtt.simple could not be found at the given path, in the cache, nor fetched."""


class BadPackage(FlashError, ValueError):
    """What came from the index or the technician is not the umqtt.simple expected."""


def cache_dir() -> Path:
    """$YUPING_CACHE_DIR, else $XDG_CACHE_HOME/yuping, else ~/.cache/yuping."""
    if os.environ.get("YUPING_CACHE_DIR"):
        return Path(os.environ["YUPING_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "yuping"


def cached_path() -> Path:
    # The version is in the path so that pinning another one never picks up a stale file.
    return cache_dir() / "micropython-lib" / f"umqtt.simple-{VERSION}" / "umqtt" / "simple.py"


def index_url() -> str:
    """$YUPING_UMQTT_INDEX_URL (a mirror's page for the package, PEP 691 JSON), else PyPI's."""
    return os.environ.get("YUPING_UMQTT_INDEX_URL") or INDEX_URL


def umqtt_source(explicit: Path | None = None) -> Path:
    """The umqtt/simple.py to put on the board: the technician's, the cached, or a fresh one."""
    if explicit is not None:
        return from_explicit(explicit)
    cached = cached_path()
    if cached.is_file():
        return cached
    return fetch(index_url())


def from_explicit(path: Path) -> Path:
    if path.is_dir():
        candidates = [path / MEMBER, *(path / inner for inner in CHECKOUT_PATHS)]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise UmqttUnavailable(
                f"no umqtt/simple.py in {path} (looked for "
                + ", ".join(str(c.relative_to(path)) for c in candidates)
                + ")"
            )
        return checked_source(found)
    if not path.is_file():
        raise UmqttUnavailable(f"--umqtt {path}: no such file or directory")
    if path.name.endswith(".tar.gz"):
        data = path.read_bytes()
        # Kept apart from the cache, by content: a technician's file is used when named, only.
        given = cache_dir() / "micropython-lib" / "given" / hashlib.sha256(data).hexdigest()[:16]
        return store(extract_simple(data, str(path)), given / MEMBER)
    return checked_source(path)


def checked_source(path: Path) -> Path:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadPackage(f"{path} is not readable Python source: {exc}") from exc
    looks_like_umqtt(text, str(path))
    return path


def looks_like_umqtt(text: str, where: str) -> None:
    if "class MQTTClient" not in text:
        raise BadPackage(f"{where} is not umqtt.simple (no MQTTClient class in it)")


def fetch(index: str) -> Path:
    """Download the sdist named by the index, check its sha256, cache its umqtt/simple.py."""
    url, sha256 = sdist_in_index(index)
    data = download(url, f"{SDIST} from {url}")
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise BadPackage(
            f"{SDIST} downloaded from {url} has sha256 {actual}, the index says {sha256}: "
            f"not used (a proxy or mirror altered it?). Try again later. {HOW_ELSE}"
        )
    return store(extract_simple(data, url), cached_path())


def sdist_in_index(index: str) -> tuple[str, str]:
    raw = download(index, f"the PyPI index of {PACKAGE} ({index})", accept=INDEX_ACCEPT)
    try:
        files = json.loads(raw)["files"]
        entry = next(f for f in files if f["filename"] == SDIST)
        return str(entry["url"]), str(entry["hashes"]["sha256"])
    except StopIteration:
        raise BadPackage(f"{index} lists no {SDIST}. {HOW_ELSE}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise BadPackage(f"{index} is not a PEP 691 JSON index ({exc!r}). {HOW_ELSE}") from exc


def download(url: str, what: str, accept: str | None = None) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            data: bytes = response.read(MAX_BYTES + 1)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UmqttUnavailable(f"cannot fetch {what}: {reason}. {HOW_ELSE}") from exc
    if len(data) > MAX_BYTES:
        raise BadPackage(f"{what} is larger than {MAX_BYTES} bytes: not {SDIST}")
    return data


def extract_simple(archive: bytes, where: str) -> bytes:
    """umqtt/simple.py out of the sdist, read in memory: nothing else of the archive is written,
    so its member names (absolute, `..`, links) can never place a file anywhere."""
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            for member in tar.getmembers():
                parts = PurePosixPath(member.name).parts
                # "<package>-<version>/umqtt/simple.py", a regular file; nothing else qualifies.
                if len(parts) == 3 and PurePosixPath(*parts[1:]) == MEMBER and member.isfile():
                    handle = tar.extractfile(member)
                    if handle is not None:
                        data = handle.read(MAX_BYTES + 1)
                        break
            else:
                raise BadPackage(f"{where} holds no regular file <dir>/{MEMBER}")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BadPackage(f"{where} is not a readable .tar.gz: {exc}") from exc
    if len(data) > MAX_BYTES:
        raise BadPackage(f"{MEMBER} in {where} is larger than {MAX_BYTES} bytes")
    try:
        looks_like_umqtt(data.decode("utf-8"), f"{MEMBER} in {where}")
    except UnicodeDecodeError as exc:
        raise BadPackage(f"{MEMBER} in {where} is not UTF-8 text") from exc
    return data


def store(data: bytes, target: Path) -> Path:
    """Write atomically: a half-written file is never taken for the library."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    partial.write_bytes(data)
    os.replace(partial, target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.flash.umqtt", description=__doc__)
    parser.add_argument(
        "--fetch", action="store_true", required=True, help="download if not cached"
    )
    parser.parse_args(argv)
    try:
        path = umqtt_source()
    except FlashError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"umqtt.simple {VERSION}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
