"""The Mosquitto bridge from a hall broker to the central broker (`yuping provision bridge`).

What crosses the link, all QoS 1:
  out  yp/1/<hall>/+/evt/#   device events, to the central ingest workers
  out  yp/1/<hall>/+/state   device births and wills (retained)
  in   yp/1/<hall>/+/ack     the gateway's acks (ids durably stored)
  in   yp/1/<hall>/+/cmd/#   commands to the devices
Only the hall's own topics are bridged, so a hall broker can neither read nor write another hall.

`cleansession false` on both sides: while the link is down the hall broker keeps the events in
the bridge's queue (on disk with `persistence true`) and the central broker keeps the bridge's
subscriptions, queueing acks and commands; both queues drain when the link returns. Whatever a
queue drops (overflow, a broker's disk lost) the devices resend from their outboxes until acked,
and the store dedupes, so the queues make a cut cheap, not merely safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import click

from gateway.provision.brokerfiles import broker_readable
from gateway.provision.errors import TechnicianError
from protocol import topics

# Hall broker settings the bridge relies on (they are global, so they belong in mosquitto.conf,
# not in the bridge's file).
HALL_BROKER_SETTINGS = (
    "persistence true",
    "autosave_interval 10",
    "max_queued_messages 200000",  # about a day of a large hall's events while the link is down
    "max_queued_bytes 0",
)


class BridgeError(TechnicianError, ValueError):
    """Bridge settings that cannot work."""


@dataclass(frozen=True)
class Bridge:
    hall: str
    central: str  # mqtt://host:port, or mqtts://host:port with TLS
    username: str | None = None
    password: str | None = None
    cafile: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    restart_s: tuple[int, int] = (2, 60)  # reconnect backoff, first and longest wait

    def check(self) -> Bridge:
        topics.check_id(self.hall, "hall")
        self.address  # noqa: B018 - validates the URL
        if self.tls and not self.cafile:
            raise BridgeError("mqtts:// needs --cafile, the CA that signed the central broker")
        if not self.tls and (self.cafile or self.certfile):
            raise BridgeError("certificates given for a plain mqtt:// link; use mqtts://")
        if bool(self.certfile) != bool(self.keyfile):
            raise BridgeError("a client certificate needs both --certfile and --keyfile")
        if self.password and not self.username:
            raise BridgeError("a password without --username")
        for text in (self.username, self.password):
            if text is not None and (not text or any(c.isspace() for c in text)):
                raise BridgeError("user names and passwords cannot be empty or hold spaces")
        return self

    @property
    def tls(self) -> bool:
        return self.central.startswith("mqtts://")

    @property
    def address(self) -> str:
        parts = urlsplit(self.central)
        if (
            parts.scheme not in ("mqtt", "mqtts")
            or not parts.hostname
            or parts.path not in ("", "/")
        ):
            raise BridgeError(
                f"central broker must look like mqtts://HOST:PORT, not {self.central!r}"
            )
        try:
            port = parts.port or (8883 if self.tls else 1883)
        except ValueError as exc:
            raise BridgeError(f"bad port in {self.central!r}") from exc
        return f"{parts.hostname}:{port}"

    @property
    def name(self) -> str:
        """The connection's name, also its client id at the centre: one per hall."""
        return f"yuping-bridge-{self.hall}"


def topic_lines(hall: str) -> list[str]:
    base = f"{topics.ROOT}/{topics.VERSION}/{topics.check_id(hall, 'hall')}"
    return [
        f"topic {base}/+/evt/# out 1",
        f"topic {base}/+/state out 1",
        f"topic {base}/+/ack in 1",
        f"topic {base}/+/cmd/# in 1",
    ]


def render(bridge: Bridge) -> str:
    """The bridge section for the hall broker (include it from mosquitto.conf)."""
    bridge.check()
    first, longest = bridge.restart_s
    lines = [
        f"# Written by `yuping provision bridge` for hall {bridge.hall}; edits here are overwritten.",
        "# Needs in mosquitto.conf: " + "; ".join(HALL_BROKER_SETTINGS),
        f"connection {bridge.name}",
        f"address {bridge.address}",
        "bridge_protocol_version mqttv311",
        "cleansession false",
        f"local_clientid {bridge.name}-local",
        "start_type automatic",
        f"restart_timeout {first} {longest}",
        "keepalive_interval 30",
        "notifications false",
        # Mosquitto's bridge-loop detection is not needed (no topic crosses both ways) and not
        # every central broker speaks it.
        "try_private false",
        "bridge_outgoing_retain true",
        *topic_lines(bridge.hall),
    ]
    if bridge.username:
        lines.append(f"remote_username {bridge.username}")
    if bridge.password:
        lines.append(f"remote_password {bridge.password}")
    if bridge.tls:
        lines += [f"bridge_cafile {bridge.cafile}", "bridge_insecure false"]
    if bridge.certfile:
        lines += [f"bridge_certfile {bridge.certfile}", f"bridge_keyfile {bridge.keyfile}"]
    return "\n".join(lines) + "\n"


def central_acl(hall: str) -> str:
    """The central broker's ACL lines for this hall's bridge account (Mosquitto syntax; EMQX
    takes the same rules in its own ACL format)."""
    base = f"{topics.ROOT}/{topics.VERSION}/{topics.check_id(hall, 'hall')}"
    return (
        "\n".join(
            [
                f"user bridge.{hall}",
                f"topic write {base}/+/evt/#",
                f"topic write {base}/+/state",
                f"topic read {base}/+/ack",
                f"topic read {base}/+/cmd/#",
            ]
        )
        + "\n"
    )


@click.command("bridge")
@click.option("--hall", required=True, help="Hall id, e.g. zz-1")
@click.option("--central", required=True, help="Central broker, e.g. mqtts://mq.ha.gov.cn:8883")
@click.option("--username", help="The hall's account at the centre, e.g. bridge.zz-1")
@click.option(
    "--password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File holding that account's password (kept off the command line)",
)
@click.option("--cafile", help="CA certificate of the central broker (mqtts://)")
@click.option("--certfile", help="Client certificate, if the centre asks for one")
@click.option("--keyfile", help="Its private key")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here, e.g. /etc/mosquitto/conf.d/yuping-bridge.conf (default: print)",
)
@click.option(
    "--central-acl", "with_acl", is_flag=True, help="Print the centre's ACL lines for this hall too"
)
def bridge(
    hall: str,
    central: str,
    username: str | None,
    password_file: Path | None,
    cafile: str | None,
    certfile: str | None,
    keyfile: str | None,
    out: Path | None,
    with_acl: bool,
) -> None:
    """Write the hall broker's bridge to the central broker of the province tier."""
    password = password_file.read_text(encoding="utf-8").strip() if password_file else None
    spec = Bridge(hall, central, username, password, cafile, certfile, keyfile)
    try:
        text = render(spec)
    except (TechnicianError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        broker_readable(out)  # it may hold the bridge's password
        click.echo(f"bridge for hall {hall} written to {out}; restart Mosquitto to apply", err=True)
    if with_acl:
        click.echo(central_acl(hall), nl=False)
