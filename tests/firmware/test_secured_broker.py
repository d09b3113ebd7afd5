"""The terminal on a provisioned broker, as installed in a hall: TLS with the hall CA, the
device's own user and password, and the ACL that confines it to its own topics."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.broker import Broker, free_port
from support.terminal import UID, Counter, StandInGateway, wait_for, write_config

from gateway.cli import main
from gateway.provision.registry import Site


@pytest.fixture
def site():
    path = Path(tempfile.mkdtemp(prefix="yp-site-"))  # the broker drops to its own user: 0755
    path.chmod(0o755)
    yield path / "site"
    shutil.rmtree(path, ignore_errors=True)


def provision(site: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["provision", *args, "--site", str(site)])
    assert result.exit_code == 0, result.output
    return result.output


def test_terminal_over_tls_with_its_own_account(site, hall, tmp_path):
    provision(site, "device", "--hall", hall, "--device", "w-a", "--window", "1")
    provision(site, "tls-ca", "--hall", hall)
    tls_port = free_port()
    listener = provision(
        site, "tls-server", "--name", "broker", "--host", "127.0.0.1", "--port", str(tls_port)
    )
    conf = (site / "broker" / "yuping.conf").read_text() + "\n" + listener
    registry = Site(site)
    device, gateway = registry.device("w-a"), registry.gateway(hall)
    broker_section = (
        f'url = "mqtts://127.0.0.1:{tls_port}"\nusername = "w-a"\npassword = "{device.password}"\n'
        f'tls_ca = "{site / "tls" / "ca.crt"}"\nresend_s = 2\n'
    )
    with Broker(extra_config=conf) as broker:
        path = write_config(tmp_path, broker, hall, "w-a")
        text = path.read_text()
        start = text.index("[broker]\n") + len("[broker]\n")
        path.write_text(text[:start] + broker_section + text[text.index("\n[keys]") :])
        clerks = {UID: ("张伟", "HN0123")}
        gw = StandInGateway(broker, hall, clerks, auth=(gateway.user, gateway.password))
        with gw, Counter(path) as counter:
            assert counter.cfg.broker.tls
            counter.login()
            counter.rate("rate2")
            wait_for(lambda: gw.count("rating") == 1, what="rating over TLS")
            counter.wait(lambda c: c.terminal.outbox.depth() == 0, "acked over TLS")
