"""The gateway on a broker set up by `yuping provision`: it logs in as gateway.<hall> over TLS with
the hall CA, a provisioned device's rating is stored and acked, and a wrong password, a missing
CA file or a half-given login stop it at start with a message that names the cause."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from support.broker import Broker, free_port
from support.gateway import GatewayHarness

from gateway.app import Gateway
from gateway.brokeraccess import PASSWORD_ENV, broker_access
from gateway.cli import main
from gateway.config import Config, ConfigError
from gateway.mqtt import BrokerRefused
from gateway.provision import tls
from gateway.provision.registry import Site
from gateway.store.tables import ratings


def provision(*args: str) -> str:
    result = CliRunner().invoke(main, ["provision", *args])
    assert result.exit_code == 0, result.output + result.stderr
    return result.stdout


@pytest.fixture
def site_dir():
    """A site directory Mosquitto can read after dropping to its own user (pytest's tmp is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="yp-site-"))
    path.chmod(0o755)
    yield path / "site"
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def link_errors():
    """The gateway link's error log records (own handler: another test's logs.setup() may stop
    `yuping` records from reaching pytest's)."""
    found: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = found.append  # type: ignore[method-assign]
    logger = logging.getLogger("yuping.mqtt")
    logger.addHandler(handler)
    yield found
    logger.removeHandler(handler)


@pytest.fixture
def secured(site_dir, tmp_path, hall):
    """A Mosquitto with the provisioned password file, ACL and a TLS listener with the hall CA;
    the gateway's settings as `yuping provision gateway` prints them; one provisioned terminal,
    also registered in the gateway's store."""
    site, db = str(site_dir), f"sqlite:///{tmp_path / 'gw.db'}"
    tls_port = free_port()
    provision("init", "--site", site, "--broker", f"mqtts://127.0.0.1:{tls_port}")
    provision("tls-ca", "--site", site, "--hall", hall)
    listener = provision(
        "tls-server", "--site", site, "--name", "broker", "--host", "127.0.0.1",
        "--port", str(tls_port),
    )  # fmt: skip
    provision("device", "--site", site, "--hall", hall, "--device", "t-01", "--window", "3",
              "--db", db)  # fmt: skip
    settings = tomllib.loads(provision("gateway", "--site", site, "--hall", hall))["gateway"]
    conf = (site_dir / "broker" / "yuping.conf").read_text() + listener
    with Broker(extra_config=conf) as broker:
        yield broker, Site(site_dir), settings, db


def without_hall(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in settings.items() if k not in ("hall", "broker")}


def over_tls(broker: Broker, settings: dict[str, Any]) -> SimpleNamespace:
    """The broker as the harness sees it: the gateway at the TLS listener, devices (like a
    rating box on the hall's device network) at the plain one, both with passwords."""
    return SimpleNamespace(url=settings["broker"], port=broker.port)


def test_printed_settings_name_the_gateway_account_and_the_hall_ca(secured, hall):
    _broker, site, settings, _db = secured
    assert settings["hall"] == hall and settings["broker"].startswith("mqtts://127.0.0.1:")
    assert settings["broker_user"] == f"gateway.{hall}"
    assert settings["broker_ca"] == str((site.root / "tls" / "ca.crt").resolve())
    password_file = Path(settings["broker_password_file"])
    assert password_file.read_text().strip() == site.gateway(hall).password
    assert password_file.stat().st_mode & 0o077 == 0  # the password is the owner's alone


def test_gateway_logs_in_over_tls_and_stores_a_provisioned_devices_rating(secured, tmp_path, hall):
    broker, site, settings, db = secured
    with GatewayHarness(
        over_tls(broker, settings), tmp_path, hall, db_url=db, **without_hall(settings)
    ) as gw:
        assert gw.gateway.mqtt.address == settings["broker"]
        with gw.device("t-01", password=site.device("t-01").password) as dev:
            dev.hello()
            rw = dev.open_rating()
            rating_id = dev.rate(rw, "very_satisfied")  # returns once the gateway acked it
        (row,) = gw.rows(ratings)
    assert (row.device, row.event_id, row.level) == ("t-01", rating_id, "very_satisfied")
    assert row.window == "3" and rating_id in dev.acked


def test_wrong_password_stops_the_start_naming_user_and_broker(
    secured, tmp_path, hall, link_errors
):
    broker, _site, settings, db = secured
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not-the-password\n")
    fields = {**without_hall(settings), "broker_password_file": str(wrong)}
    cfg = Config(hall=hall, broker=settings["broker"], db=db, **fields)
    gateway = Gateway(cfg)
    with pytest.raises(BrokerRefused) as refused:
        gateway.start(broker_timeout=20)
    message = str(refused.value)
    assert f"gateway.{hall}" in message and settings["broker"] in message
    assert "Not authorized" in message or "Bad user name or password" in message
    assert [r.getMessage() for r in link_errors] == ["broker refused the login"]
    assert not gateway.mqtt.client.is_connected()


def test_a_broker_certificate_from_another_ca_stops_the_start(secured, tmp_path, hall, link_errors):
    broker, _site, settings, db = secured
    other_ca = tls.make_ca(tmp_path / "other-ca", hall)
    fields = {**without_hall(settings), "broker_ca": str(other_ca)}
    gateway = Gateway(Config(hall=hall, broker=settings["broker"], db=db, **fields))
    with pytest.raises(BrokerRefused) as refused:
        gateway.start(broker_timeout=20)
    assert f"broker {settings['broker']} failed the TLS check" in str(refused.value)
    assert [r.getMessage() for r in link_errors] == ["broker certificate not trusted"]


def run_gateway(config: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """`yuping gateway` as a user runs it (its own process: it sets up logging and signals)."""
    code = "from gateway.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, "gateway", "--config", str(config), *flags],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )


def write_config(path: Path, lines: list[str]) -> Path:
    path.write_text("[gateway]\n" + "\n".join(lines) + "\n")
    return path


def test_command_reports_a_refused_login_once_and_exits(secured, tmp_path, hall):
    _broker, _site, settings, db = secured
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not-the-password\n")
    config = write_config(
        tmp_path / "gateway.toml",
        [f'hall = "{hall}"', f'db = "{db}"', f'broker_user = "gateway.{hall}"'],
    )
    flags = ["--broker", settings["broker"], "--broker-password-file", str(wrong)]
    result = run_gateway(config, *flags, "--broker-ca", settings["broker_ca"])
    assert result.returncode == 1, result.stderr
    assert f"Error: broker {settings['broker']} refused the gateway's login as " in result.stderr
    assert f"'gateway.{hall}'" in result.stderr
    assert result.stderr.count("broker refused the login") == 1  # the log line, once


def test_command_names_a_missing_ca_file(secured, tmp_path, hall):
    _broker, _site, settings, db = secured
    missing = tmp_path / "nowhere" / "ca.crt"
    lines = [f'hall = "{hall}"', f'db = "{db}"', f'broker_ca = "{missing}"']
    lines += [f'{k} = "{settings[k]}"' for k in ("broker", "broker_user", "broker_password_file")]
    result = run_gateway(write_config(tmp_path / "gateway.toml", lines))
    assert result.returncode == 1
    assert f"broker_ca file not found: {missing}" in result.stderr


def test_a_refusal_after_running_is_logged_once_and_the_gateway_comes_back(
    secured, tmp_path, hall, link_errors
):
    """The broker reloads with another gateway password: one error, quiet retries, and the
    gateway reconnects by itself once the right password file is back."""
    broker, site, settings, db = secured
    passwd = site.broker_dir / "passwd"
    good = passwd.read_text()
    with GatewayHarness(
        over_tls(broker, settings), tmp_path, hall, db_url=db, **without_hall(settings)
    ) as gw:
        link = gw.gateway.mqtt
        other = [ln for ln in good.splitlines() if not ln.startswith(f"gateway.{hall}:")]
        passwd.write_text("\n".join(other) + "\n")
        broker.restart()
        deadline = time.monotonic() + 30
        while link.refused is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert link.refused is not None, "the gateway never saw the refusal"
        time.sleep(3)  # paho retries after 1 s, then 2 s: at least one more refusal
        (logged,) = link_errors
        assert (logged.user, logged.broker) == (f"gateway.{hall}", settings["broker"])
        passwd.write_text(good)
        broker.restart()
        assert link.connected.wait(30), "the gateway did not log in again"
        assert link.refused is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"broker_ca": "/x/ca.crt"}, "plain MQTT: use mqtts://"),
        ({"broker_user": "gateway.zz"}, "has no password"),
        ({"broker_password": "secret"}, "no broker_user"),
        ({"broker_user": "gateway.zz", "broker_password_file": "/nope"}, "/nope"),
        ({"broker": "mqtts://h:8883", "broker_cert": "/c.pem"}, "both broker_cert and broker_key"),
        ({"broker": "mqtts://h:8883", "broker_ca": "/no/ca.crt"}, "not found: /no/ca.crt"),
        ({"broker": "mqtts://h:88x3"}, "mqtts://HOST:PORT"),
        ({"broker": "ws://h:80"}, "mqtts://HOST:PORT"),
    ],
)
def test_bad_broker_settings_are_refused_by_name(fields, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        broker_access(Config(**fields), environ={})


def test_password_sources_in_order(tmp_path):
    file = tmp_path / "pw"
    file.write_text("from-file\n")
    base = Config(broker_user="gateway.zz", broker_password="from-config")
    assert broker_access(base, environ={}).password == "from-config"
    assert broker_access(base, environ={PASSWORD_ENV: "from-env"}).password == "from-env"
    with_file = base.with_overrides(broker_password_file=str(file))
    assert broker_access(with_file, environ={PASSWORD_ENV: "from-env"}).password == "from-file"
    access = broker_access(Config(broker="mqtts://gw.local"), environ={})
    assert (access.port, access.address) == (8883, "mqtts://gw.local:8883")


def test_provision_gateway_refuses_a_bad_hall_and_writes_nothing(site_dir):
    result = CliRunner().invoke(
        main, ["provision", "gateway", "--site", str(site_dir), "--hall", "Bad Hall"]
    )
    assert result.exit_code != 0 and "hall" in result.output
    assert not (site_dir / "gateways").exists() and not (site_dir / "broker").exists()
