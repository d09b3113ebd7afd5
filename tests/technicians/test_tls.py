"""TLS: a broker using the hall CA's server certificate is reachable by a client that trusts the
CA, and a client that does not trust it is refused during the handshake."""

from __future__ import annotations

import ssl

import paho.mqtt.client as mqtt
from click.testing import CliRunner
from support.broker import Broker, free_port

from gateway.cli import main


def connect_tls(port: int, cafile: str | None) -> bool:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    if cafile:
        client.tls_set(ca_certs=cafile)
    else:
        client.tls_set()  # system CAs only: the hall CA is not among them
    try:
        client.connect("127.0.0.1", port)
    except ssl.SSLError:
        return False
    client.disconnect()
    return True


def test_tls_listener_with_hall_ca(broker_readable_dir):
    site = broker_readable_dir / "site"
    runner = CliRunner()
    assert (
        runner.invoke(
            main, ["provision", "tls-ca", "--site", str(site), "--hall", "zz-1"]
        ).exit_code
        == 0
    )
    port = free_port()
    result = runner.invoke(
        main,
        [
            "provision",
            "tls-server",
            "--site",
            str(site),
            "--name",
            "broker",
            "--host",
            "127.0.0.1",
            "--host",
            "gw.local",
            "--port",
            str(port),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"listener {port}" in result.output
    with Broker(extra_config=result.output):
        assert connect_tls(port, str(site / "tls" / "ca.crt"))
        assert not connect_tls(port, None)


def test_second_ca_is_refused(tmp_path):
    runner = CliRunner()
    args = ["provision", "tls-ca", "--site", str(tmp_path), "--hall", "zz-1"]
    assert runner.invoke(main, args).exit_code == 0
    before = (tmp_path / "tls" / "ca.crt").read_bytes()
    again = runner.invoke(main, args)
    assert again.exit_code != 0 and "already holds a CA" in again.output
    assert (tmp_path / "tls" / "ca.crt").read_bytes() == before


def test_server_cert_needs_a_ca(tmp_path):
    result = CliRunner().invoke(
        main, ["provision", "tls-server", "--site", str(tmp_path), "--name", "b", "--host", "x"]
    )
    assert result.exit_code != 0 and "tls-ca" in result.output
