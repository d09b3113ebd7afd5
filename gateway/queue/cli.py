"""`yuping queue`: look at the queue's audit trail from the command line.

`yuping queue replay --config gateway.toml [--day YYYY-MM-DD]` rebuilds a business day from its
stored actions, action by action, and prints who did what when, then the day's figures.
"""

from __future__ import annotations

from datetime import datetime
from statistics import mean

import click

from gateway import config as gwconfig
from gateway.commands import store_options
from gateway.queue.config import QueueConfig, load
from gateway.queue.engine import Action, Outcome, QueueEngine, Ticket
from gateway.queue.errors import ConfigError


@click.group()
def queue() -> None:
    """The queue (排队叫号): replay a day from its audit trail."""


@queue.command("replay")
@click.option("--day", help="business day YYYY-MM-DD (default: the current one)")
@store_options
def replay(day: str | None, config_path: str | None, db: str | None, hall: str | None) -> None:
    """Rebuild a day from its stored actions and print the timeline and the day's figures."""
    from gateway.queue import store
    from gateway.store import make_engine

    try:
        cfg = gwconfig.load(config_path).with_overrides(db=db, hall=hall)
        if not cfg.queue:
            raise click.ClickException('no queue set-up: set `queue = "<file>"` under [gateway]')
        setup = load(cfg.queue)
    except (gwconfig.ConfigError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from exc
    engine = QueueEngine(setup)
    day = day or engine.business_day(int(datetime.now().timestamp() * 1000))[0]
    db_engine = make_engine(cfg.db)
    try:
        with db_engine.connect() as conn:
            actions = store.day_actions(conn, cfg.hall, day)
    finally:
        db_engine.dispose()
    click.echo(f"{setup.hall_name} {day}: {len(actions)} actions")
    for action in actions:
        click.echo(describe(setup, action, engine.apply(action)))
    click.echo(summary(list(engine.tickets.values())))


def describe(setup: QueueConfig, action: Action, outcome: Outcome) -> str:
    when = datetime.fromtimestamp(action.at_ms / 1000, setup.tz).strftime("%H:%M:%S")
    where = setup.windows[action.window].label if action.window in setup.windows else ""
    detail = ""
    ticket = outcome.ticket
    if action.kind == "issue" and ticket is not None:
        detail = f"{setup.services[ticket.service].name} {ticket.source} {ticket.priority or ''}"
    elif outcome.announcement is not None:
        detail = outcome.announcement.voice
    elif action.kind in ("transfer", "helper"):
        detail = f"-> {action.data.get('pinned') or action.data.get('service')}"
    elif action.kind == "no_show":
        detail = "回到队列" if action.data.get("returned") else "过号"
    return f"{when}  {action.ticket or '-':6} {action.kind:9} {where:8} {action.by:16} {detail}".rstrip()


def summary(tickets: list[Ticket]) -> str:
    called = [t for t in tickets if t.called_ms is not None]
    done = [t for t in tickets if t.state == "done" and t.called_ms and t.done_ms]
    waited = mean((t.called_ms or 0) - t.issued_ms for t in called) / 60000 if called else 0.0
    served = mean((t.done_ms or 0) - (t.called_ms or 0) for t in done) / 60000 if done else 0.0
    open_now = sum(t.state in ("waiting", "called", "parked") for t in tickets)
    missed = sum(t.state == "missed" for t in tickets)
    return (
        f"issued {len(tickets)}, done {len(done)}, missed {missed}, still open {open_now}; "
        f"mean wait {waited:.1f} min, mean service {served:.1f} min"
    )
