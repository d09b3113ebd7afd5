"""`yuping staff import`, `yuping backup` and `yuping restore` as an operator runs them."""

from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner

from gateway.cli import main
from gateway.store import make_engine
from gateway.store.tables import staff

CSV = "name,staff_no,role,badge_uid,team\n张三,1001,clerk,04A1B2C3,一组\n"


def count(db):
    engine = make_engine(str(db))
    with engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(staff)).scalar()
    engine.dispose()
    return n


def test_staff_import_then_backup_and_restore(tmp_path):
    db, csv, copy = tmp_path / "y.db", tmp_path / "staff.csv", tmp_path / "copy.db"
    csv.write_text(CSV, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["staff", "import", str(csv), "--db", str(db), "--hall", "h1"])
    assert result.exit_code == 0 and "imported 1 staff" in result.output
    assert runner.invoke(main, ["backup", str(copy), "--db", str(db)]).exit_code == 0
    csv.write_text(CSV.replace("1001", "1002").replace("04A1B2C3", "05A1B2C3"), encoding="utf-8")
    runner.invoke(main, ["staff", "import", str(csv), "--db", str(db), "--hall", "h1"])
    assert count(db) == 2
    result = runner.invoke(main, ["restore", str(copy), "--db", str(db), "--yes"])
    assert result.exit_code == 0, result.output
    assert count(db) == 1


def test_bad_csv_row_fails_with_its_line(tmp_path):
    csv = tmp_path / "staff.csv"
    csv.write_text(CSV + "李四,1002,chief,,\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["staff", "import", str(csv), "--db", str(tmp_path / "y.db")])
    assert result.exit_code != 0 and "line 3: role must be one of" in result.output
    assert count(tmp_path / "y.db") == 0


def test_restore_refuses_a_file_that_is_not_a_store(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    result = CliRunner().invoke(
        main, ["restore", str(junk), "--db", str(tmp_path / "y.db"), "--yes"]
    )
    assert result.exit_code != 0 and "not a Yuping store" in result.output


def test_gateway_command_flags_override_the_config_file(broker, tmp_path, hall):
    import json
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx
    from support.broker import free_port

    root = Path(__file__).resolve().parents[2]
    port = free_port()
    config = tmp_path / "gateway.toml"  # every setting the flags must override
    config.write_text(
        '[gateway]\nhall = "from-file"\nbroker = "mqtt://127.0.0.1:1"\ndb = "/nonexistent/x.db"\n'
        'http = "127.0.0.1:1"\n[attendance]\nlate_grace_min = 10\n',
        encoding="utf-8",
    )
    args = [
        str(Path(sys.executable).parent / "yuping"),
        "gateway",
        "--config",
        str(config),
        "--broker",
        broker.url,
        "--db",
        str(tmp_path / "g.db"),
        "--hall",
        hall,
        "--http",
        f"127.0.0.1:{port}",
    ]
    proc = subprocess.Popen(args, cwd=root, stderr=subprocess.PIPE, text=True)
    try:
        health = None
        for _ in range(100):
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()
                if health["ok"]:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        assert health == {"ok": True, "hall": hall, "broker": True, "store": True, "queued": 0}
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert {"msg": "gateway started", "hall": hall}.items() <= next(
        e for e in lines if e["msg"] == "gateway started"
    ).items()


def test_bad_flag_is_refused_clearly(tmp_path):
    result = CliRunner().invoke(
        main, ["gateway", "--broker", "http://x", "--db", str(tmp_path / "g.db")]
    )
    assert result.exit_code != 0 and "mqtt://HOST:PORT" in result.output


def test_sample_config_loads_and_unknown_keys_are_named(tmp_path):
    from pathlib import Path

    import pytest

    from gateway import config as gwconfig

    sample = gwconfig.load(Path(__file__).resolve().parents[2] / "docs/gateway.example.toml")
    assert sample.hall == "zz-zhengdong" and sample.http_host_port == ("127.0.0.1", 8080)
    bad = tmp_path / "bad.toml"
    bad.write_text('[gateway]\nhall = "x"\nbrokr = "mqtt://h:1"\n', encoding="utf-8")
    with pytest.raises(gwconfig.ConfigError, match="brokr"):
        gwconfig.load(bad)
