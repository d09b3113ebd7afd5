"""The technician's release tools: keys, signed manifests, and the stand-alone start guard."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

from click.testing import CliRunner

import firmware.update.guard as guard_module
from firmware.update import manifest
from firmware.update.store import ReleaseStore
from gateway.cli import main
from technicians.updating import make_release


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def sign(key: Path, version: str, archive: Path) -> tuple[int, str]:
    return run("release", "sign", "--key", str(key), "--version", version, str(archive))


def test_keygen_sign_and_the_device_check_agree(tmp_path):
    code, out = run("release", "keygen", "--out", str(tmp_path / "keys"))
    assert code == 0 and "never copy it to a gateway" in out
    assert (tmp_path / "keys" / "release.key").stat().st_mode & 0o077 == 0
    archive = make_release(tmp_path, "0.2.0")
    code, out = sign(tmp_path / "keys" / "release.key", "0.2.0", archive)
    assert code == 0, out
    signed = json.loads((tmp_path / "firmware-0.2.0.tar.manifest.json").read_text())
    assert signed["release"] == "r-0.2.0" and signed["size"] == archive.stat().st_size
    public = (tmp_path / "keys" / "release.pub").read_text().strip()
    manifest.check_signature(public, signed)  # raises if the device would refuse it


def test_second_keygen_is_refused(tmp_path):
    assert run("release", "keygen", "--out", str(tmp_path))[0] == 0
    before = (tmp_path / "release.key").read_bytes()
    code, out = run("release", "keygen", "--out", str(tmp_path))
    assert code != 0 and "exists" in out
    assert (tmp_path / "release.key").read_bytes() == before


def test_bad_version_and_wrong_key_file_are_refused(tmp_path):
    assert run("release", "keygen", "--out", str(tmp_path / "k"))[0] == 0
    archive = make_release(tmp_path, "0.2.0")
    code, out = sign(tmp_path / "k" / "release.key", "0.2.0 beta", archive)
    assert code != 0 and "version must be" in out
    code, out = sign(tmp_path / "k" / "release.pub", "0.2.0", archive)
    assert code != 0 and "not a readable release signing key" in out
    assert not (tmp_path / "firmware-0.2.0.tar.manifest.json").exists()


def test_guard_runs_alone_with_the_system_python(tmp_path):
    """The first boot copies guard.py out of the releases: it must need nothing from yuping."""
    store = ReleaseStore(tmp_path / "opt")
    for version in ("0.1.0", "0.2.0"):
        (store.releases / version).mkdir(parents=True)
    store.switch("0.2.0")
    store.begin_trial("0.2.0", "0.1.0", int(time.time() * 1000) - 1)
    alone = tmp_path / "elsewhere" / "guard.py"
    alone.parent.mkdir()
    shutil.copyfile(guard_module.__file__, alone)
    result = subprocess.run(
        ["python3", "-I", str(alone), str(store.root)],
        capture_output=True,
        text=True,
        cwd=alone.parent,
        check=True,
    )
    assert "rolled back to 0.1.0" in result.stdout
    assert store.current_version() == "0.1.0"
    assert store.take_rollback_note() == {
        "version": "0.2.0",
        "detail": "not healthy before the deadline",
    }


def test_import_on_the_gateway_checks_before_accepting(tmp_path):
    import sqlalchemy as sa

    from gateway.fleet.tables import releases
    from gateway.store import make_engine

    assert run("release", "keygen", "--out", str(tmp_path / "k"))[0] == 0
    archive = make_release(tmp_path, "0.2.0")
    assert sign(tmp_path / "k" / "release.key", "0.2.0", archive)[0] == 0
    db = f"sqlite:///{tmp_path / 'gw.db'}"
    args = [
        "release",
        "import",
        "--db",
        db,
        "--hall",
        "zz-1",
        "--releases",
        str(tmp_path / "served"),
        "--public-key",
        str(tmp_path / "k" / "release.pub"),
    ]
    archive.write_bytes(archive.read_bytes()[:-1] + b"\1")  # one byte changed after signing
    code, out = run(*args, str(archive))
    assert code != 0 and "does not match its manifest" in out
    assert not (tmp_path / "served").exists()

    archive = make_release(tmp_path, "0.2.0")
    assert sign(tmp_path / "k" / "release.key", "0.2.0", archive)[0] == 0
    code, out = run(*args, str(archive))
    assert code == 0, out
    engine = make_engine(db)
    with engine.connect() as conn:
        assert conn.execute(sa.select(releases.c.id, releases.c.version)).all() == [
            ("r-0.2.0", "0.2.0")
        ]
    engine.dispose()
    assert (tmp_path / "served" / "r-0.2.0.tar").read_bytes() == archive.read_bytes()
