#!/usr/bin/env python3
"""Set up everything Yuping needs on a Debian / Raspberry Pi OS machine, then run it.

    python3 .ci/bootstrap.py demo [ARGS]   a whole simulated hall (yuping demo)
    python3 .ci/bootstrap.py test [ARGS]   lint, types and the whole test suite (pytest ARGS)

Needs only python3. Creates .venv, installs the Python packages into it and the MicroPython
WebAssembly port for the tests, and caches micropython-lib's umqtt.simple (from PyPI); Debian
packages that are missing are installed when run as root, otherwise the exact apt-get line is
printed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
NODE_DIR = ROOT / "tests" / "micropython"

# Debian package -> a file it installs that tells whether it is there.
DEBIAN_FOR_TEST = {
    "mosquitto": "/usr/sbin/mosquitto",
    "nodejs": "/usr/bin/node",
    "npm": "/usr/bin/npm",
    "chromium": "/usr/bin/chromium",
    "fonts-wqy-zenhei": "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "espeak-ng": "/usr/bin/espeak-ng",
    "alsa-utils": "/usr/bin/aplay",  # the terminal plays its voice clips through aplay
    "poppler-utils": "/usr/bin/pdftoppm",
}
DEBIAN_FOR_DEMO = {
    "mosquitto": "/usr/sbin/mosquitto",
    "fonts-wqy-zenhei": "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
}


def say(text: str) -> None:
    print(f"[yuping] {text}", flush=True)


def run(cmd: list[str], **kw: object) -> None:
    subprocess.run(cmd, check=True, **kw)  # type: ignore[call-overload]


def missing_debian(wanted: dict[str, str]) -> list[str]:
    return [pkg for pkg, path in wanted.items() if not Path(path).exists()]


def ensure_debian(wanted: dict[str, str], required: bool) -> None:
    missing = missing_debian(wanted)
    if not missing:
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("installing Debian packages: " + " ".join(missing))
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        run(["apt-get", "update", "-qq"], env=env)
        run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env)
        return
    line = "sudo apt-get install -y " + " ".join(missing)
    if required:
        sys.exit(f"[yuping] missing Debian packages; install them first:\n    {line}")
    say(f"optional Debian packages missing (the demo falls back): {line}")


def ensure_venv(extras: str) -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        say("creating the virtualenv .venv")
        result = subprocess.run([sys.executable, "-m", "venv", str(VENV)])
        if result.returncode != 0:
            if os.geteuid() == 0 and shutil.which("apt-get"):
                run(["apt-get", "update", "-qq"])
                run(["apt-get", "install", "-y", "-qq", "python3-venv"])
                run([sys.executable, "-m", "venv", str(VENV)])
            else:
                sys.exit(
                    "[yuping] python3 cannot make a virtualenv; run: sudo apt-get install -y python3-venv"
                )
    stamp = VENV / f".installed-{extras}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != digest:
        say(f"installing Python packages (yuping[{extras}])")
        run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"])
        run([str(python), "-m", "pip", "install", "-q", "-e", f"{ROOT}[{extras}]"])
        stamp.write_text(digest)
    return python


def ensure_node_packages() -> None:
    if (NODE_DIR / "node_modules" / "@micropython").exists():
        return
    say("installing the MicroPython WebAssembly port (npm)")
    run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR)


def warm_umqtt_cache(python: Path) -> None:
    """Fetch micropython-lib's umqtt.simple (the rating box's MQTT client) from PyPI now, so the
    tests that flash or run the box find it cached. Without network they skip, saying why,
    unless YUPING_REQUIRE_NETWORK_PACKAGES=1 (CI), so a failure here only fails CI."""
    say("umqtt.simple (PyPI) into the cache")
    result = subprocess.run([str(python), "-m", "gateway.flash.umqtt", "--fetch"])
    if result.returncode != 0 and os.environ.get("YUPING_REQUIRE_NETWORK_PACKAGES") == "1":
        raise subprocess.CalledProcessError(result.returncode, result.args)


def test(args: list[str]) -> int:
    ensure_debian(DEBIAN_FOR_TEST, required=True)
    python = ensure_venv("dev")
    ensure_node_packages()
    bin_dir = python.parent
    os.chdir(ROOT)
    warm_umqtt_cache(python)
    say("ruff")
    run([str(bin_dir / "ruff"), "check", "."])
    run([str(bin_dir / "ruff"), "format", "--check", "."])
    say("mypy")
    run([str(bin_dir / "mypy"), "protocol", "firmware", "gateway", "simulator"])
    say("pytest")
    code = subprocess.run([str(bin_dir / "pytest"), *args]).returncode
    if code == 5:
        say("pytest ran no tests: that is a failure")
        return 1
    return code


def demo(args: list[str]) -> int:
    ensure_debian(DEBIAN_FOR_DEMO, required=False)
    python = ensure_venv("device,gateway")
    os.chdir(ROOT)
    os.execv(str(python.parent / "yuping"), [str(python.parent / "yuping"), "demo", *args])
    return 0


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("test", "demo"):
        sys.exit(__doc__)
    action, args = sys.argv[1], sys.argv[2:]
    try:
        return test(args) if action == "test" else demo(args)
    except subprocess.CalledProcessError as exc:
        say(f"failed: {' '.join(map(str, exc.cmd))} (exit {exc.returncode})")
        return 1


if __name__ == "__main__":
    sys.exit(main())
