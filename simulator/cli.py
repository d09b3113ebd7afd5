"""`yuping sim --scenario FILE` and `yuping demo`."""

from __future__ import annotations

import logging
import shutil
import signal
import tempfile
import threading
from pathlib import Path
from typing import Any

import click

from simulator.scenario import ScenarioError, load

SCENARIOS = Path(__file__).resolve().parent / "scenarios"


def _quiet_logs(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("httpx", "alembic", "firmware", "yuping.device"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _workdir(path: str | None, prefix: str) -> tuple[Path, bool]:
    if path:
        return Path(path), False
    return Path(tempfile.mkdtemp(prefix=prefix)), True


@click.command("sim")
@click.option(
    "--scenario",
    "scenario_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="a scenario TOML (see simulator/scenarios/)",
)
@click.option("--broker", help="mqtt://HOST:PORT of a running broker (default: start one)")
@click.option("--gateway-http", help="http://HOST:PORT of a running gateway (default: start one)")
@click.option(
    "--hall", default="sim", show_default=True, help="the hall id (the gateway's, if given)"
)
@click.option("--user", help="a manager login of the given gateway")
@click.option("--password", help="its password")
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False), help="also write the report here"
)
@click.option(
    "--workdir", type=click.Path(file_okay=False), help="keep device outboxes, logs, store here"
)
@click.option("--log-level", default="WARNING", show_default=True)
def sim(
    scenario_path: str,
    broker: str | None,
    gateway_http: str | None,
    hall: str,
    user: str | None,
    password: str | None,
    json_path: str | None,
    workdir: str | None,
    log_level: str,
) -> None:
    """Run a scenario: simulated windows on the real firmware, people and faults; then report.

    Without --broker/--gateway-http it starts Mosquitto (or amqtt) and the gateway itself. With a
    given gateway, --user/--password log in as its manager, and the hall's windows 1..N,
    devices w-01..w-NN and clerks are registered through its HTTP API; its queue set-up must
    offer the scenario's services at those windows.
    """
    from simulator import report as reporting
    from simulator.run import Simulation

    _quiet_logs(log_level)
    try:
        scenario = load(scenario_path)
    except ScenarioError as exc:
        raise click.ClickException(str(exc)) from exc
    if gateway_http and not (user and password):
        raise click.ClickException("--gateway-http needs --user and --password (a manager login)")
    logins = (
        {who: (user, password) for who in ("manager", "guide", "kiosk")}
        if user and password
        else None
    )
    directory, temporary = _workdir(workdir, "yuping-sim-")
    try:
        with Simulation(
            scenario, directory, hall=hall, broker_url=broker, gateway_http=gateway_http,
            logins=logins, progress=True,  # type: ignore[arg-type]
        ) as simulation:  # fmt: skip
            if gateway_http:
                simulation.start_stack()
                simulation.register_through_api()
                simulation.start_devices()
            report = simulation.run()
    finally:
        if temporary:
            shutil.rmtree(directory, ignore_errors=True)
    click.echo(reporting.text(report))
    if json_path:
        Path(json_path).write_text(reporting.as_json(report), encoding="utf-8")
    click.echo(reporting.as_json(report))
    if not report["ok"]:
        raise SystemExit(1)


@click.command("demo")
@click.option(
    "--scenario",
    "scenario_path",
    type=click.Path(exists=True, dir_okay=False),
    default=str(SCENARIOS / "demo.toml"),
    show_default=True,
)
@click.option("--log-level", default="WARNING", show_default=True)
def demo(scenario_path: str, log_level: str) -> None:
    """A whole simulated hall in one command: broker, gateway, eight windows, people. Ctrl-C stops."""
    from simulator.run import Simulation

    _quiet_logs(log_level)
    try:
        scenario = load(scenario_path)
    except ScenarioError as exc:
        raise click.ClickException(str(exc)) from exc
    directory, _temporary = _workdir(None, "yuping-demo-")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    simulation = Simulation(scenario, directory, preferred_ports=(1883, 8080))
    try:
        click.echo("starting the broker, the gateway and eight simulated windows …", err=True)
        simulation.start_stack()
        simulation.start_devices()
        _announce(simulation, directory)
        simulation.begin()
        stop.wait()
        click.echo("\nstopping the hall …", err=True)
    finally:
        simulation.close()
        shutil.rmtree(directory, ignore_errors=True)
    click.echo("demo stopped", err=True)


def _announce(simulation: Any, directory: Path) -> None:
    p = simulation.people
    broker = simulation.broker
    click.echo(
        "\n".join(
            [
                "",
                f"  Yuping demo hall is running ({simulation.s.windows} windows, {broker.name} broker)",
                f"  dashboard   {simulation.gateway_url}/",
                f"  login       {p.manager} / {p.password}   (manager)",
                f"  API docs    {simulation.gateway_url}/docs",
                f"  broker      {simulation.broker_url}",
                f"  store       {directory / 'yuping.db'} (removed on exit)",
                "  Ctrl-C stops everything.",
                "",
            ]
        )
    )
