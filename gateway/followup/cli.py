"""`yuping stats`, `yuping upload` and `yuping cases`: the follow-up subsystem for an operator.

    yuping stats export --from 2026-03-01 --to 2026-03-31 --by clerk --period week --format xlsx
    yuping upload run [--once]          send the outbox (the gateway also does this by itself)
    yuping upload report [--day D]      the daily reconciliation: stored vs sent/acked/pending/failed
    yuping upload backfill --from --to  queue ratings stored before upload was configured
    yuping upload retry-failed          queue refused ratings again after fixing the mapping
    yuping cases list [--state S]       follow-up cases; `yuping cases sweep` escalates now

All take --config gateway.toml (its `followup = "…"` names the set-up file) and --db / --hall.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa

from gateway import config as gwconfig
from gateway.config import Config, ConfigError
from gateway.followup.errors import FollowupError
from gateway.followup.settings import Settings

DAY = click.DateTime(formats=["%Y-%m-%d"])


def now_ms() -> int:
    return int(time.time() * 1000)


def store_options(fn: Callable) -> Callable:
    fn = click.option("--hall", help="hall id (overrides the config file)")(fn)
    fn = click.option("--db", help="store URL or SQLite path (overrides the config file)")(fn)
    return click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False))(fn)


class Context:
    def __init__(self, config_path: str | None, db: str | None, hall: str | None) -> None:
        try:
            self.config: Config = gwconfig.load(config_path).with_overrides(db=db, hall=hall)
            self.settings = Settings.load(self.config.followup)
        except (ConfigError, FollowupError) as exc:
            raise click.ClickException(str(exc)) from exc
        self.hall = self.config.hall

    def engine(self) -> sa.Engine:
        import gateway.followup.tables  # noqa: F401 - the tables join the metadata
        import gateway.upload.tables  # noqa: F401
        from gateway.store import make_engine, migrate

        engine = make_engine(self.config.db)
        migrate(engine)
        return engine

    def run(self, action: Callable[[sa.Connection], Any]) -> Any:
        engine = self.engine()
        try:
            with engine.begin() as conn:
                return action(conn)
        except (FollowupError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
        finally:
            engine.dispose()


@click.group()
def stats() -> None:
    """The standard's statistics (好评率, 差评率, 未评价率, 主动评价率, 差评整改率, 回访率, 按时整改率)."""


@stats.command("export")
@store_options
@click.option("--from", "start", type=DAY, required=True, help="first day, YYYY-MM-DD")
@click.option("--to", "end", type=DAY, required=True, help="last day (inclusive)")
@click.option(
    "--by", type=click.Choice(["hall", "clerk", "window", "service", "matter"]), default="hall"
)
@click.option("--period", type=click.Choice(["day", "week", "month", "all"]), default="all")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="xlsx")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="file (default: a name from the query; '-' for stdout csv)",
)
def export_cmd(config_path: str | None, db: str | None, hall: str | None, start: dt.datetime,
               end: dt.datetime, by: str, period: str, fmt: str, output: str | None) -> None:  # fmt: skip
    """Export statistics as CSV or Excel with Chinese headers."""
    from gateway.followup.export import export
    from gateway.followup.stats import Query, compute

    ctx = Context(config_path, db, hall)
    query_args = (ctx.hall, start.date(), end.date(), by, period, now_ms())
    rows = ctx.run(lambda conn: compute(conn, Query(*query_args)))
    data = export(rows, by, fmt)
    if output == "-":
        sys.stdout.buffer.write(data)
        return
    path = Path(output or f"stats-{by}-{period}-{start:%Y%m%d}-{end:%Y%m%d}.{fmt}")
    path.write_bytes(data)
    click.echo(f"{len(rows)} rows written to {path}")


@click.group()
def upload() -> None:
    """Provincial 好差评 upload: run the outbox, reconcile, backfill, retry refused ratings."""


def _upload_ctx(config_path: str | None, db: str | None, hall: str | None) -> Context:
    ctx = Context(config_path, db, hall)
    if ctx.settings.upload is None:
        raise click.ClickException(
            "upload is not configured: add an [upload] table to the follow-up set-up file"
        )
    return ctx


@upload.command("run")
@store_options
@click.option("--once", is_flag=True, help="one pass, then exit")
def upload_run(config_path: str | None, db: str | None, hall: str | None, once: bool) -> None:
    """Send due ratings to the province (until interrupted, or one pass with --once)."""
    from gateway.upload.sender import Uploader

    ctx = _upload_ctx(config_path, db, hall)
    assert ctx.settings.upload is not None
    engine = ctx.engine()
    uploader = Uploader(engine, ctx.hall, ctx.settings.upload)
    try:
        while True:
            counts = uploader.run_once(now_ms())
            click.echo(
                f"acked {counts['acked']}, retry {counts['retry']}, failed {counts['failed']}"
            )
            if once:
                return
            time.sleep(ctx.settings.upload.poll_s)
    except KeyboardInterrupt:
        pass
    finally:
        uploader.close()
        engine.dispose()


@upload.command("report")
@store_options
@click.option("--day", type=DAY, help="the ratings' day (default: yesterday)")
@click.option("--json", "as_json", is_flag=True)
def upload_report(config_path: str | None, db: str | None, hall: str | None,
                  day: dt.datetime | None, as_json: bool) -> None:  # fmt: skip
    """Daily reconciliation: ratings stored vs acknowledged, sent, pending, failed, missing."""
    from gateway.upload.outbox import reconcile

    ctx = Context(config_path, db, hall)
    the_day = (day.date() if day else dt.date.today() - dt.timedelta(days=1)).isoformat()
    report = ctx.run(lambda conn: reconcile(conn, ctx.hall, the_day))
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    click.echo(f"{ctx.hall} {the_day}  上报对账 reconciliation")
    for label, value in (("评价数 stored", report.stored), ("已确认 acked", report.acked),
                         ("已发送未确认 sent", report.sent), ("待发送 pending", report.pending),
                         ("被拒绝 failed", report.failed), ("未入队 missing", report.missing)):  # fmt: skip
        click.echo(f"  {label}: {value}")
    for error, count in report.errors.items():
        click.echo(f"  {count} × {error}")
    click.echo("  complete" if report.complete else "  NOT complete")


@upload.command("backfill")
@store_options
@click.option("--from", "start", type=DAY, required=True)
@click.option("--to", "end", type=DAY, required=True)
def upload_backfill(config_path: str | None, db: str | None, hall: str | None,
                    start: dt.datetime, end: dt.datetime) -> None:  # fmt: skip
    """Queue the ratings of these days that have no outbox row yet."""
    from gateway.upload.outbox import backfill

    ctx = _upload_ctx(config_path, db, hall)
    first, last = start.date().isoformat(), end.date().isoformat()
    count = ctx.run(lambda conn: backfill(conn, ctx.hall, first, last, now_ms()))
    click.echo(f"queued {count} ratings")


@upload.command("retry-failed")
@store_options
def upload_retry(config_path: str | None, db: str | None, hall: str | None) -> None:
    """Queue ratings the province refused again (after correcting the mapping or credentials)."""
    from gateway.upload.sender import retry_failed

    ctx = _upload_ctx(config_path, db, hall)
    click.echo(f"queued {ctx.run(lambda conn: retry_failed(conn, ctx.hall, now_ms()))} ratings")


@click.group()
def cases() -> None:
    """Follow-up cases (差评整改)."""


@cases.command("list")
@store_options
@click.option("--state", type=click.Choice(["open", "visited", "verified", "fixed", "explained",
                                            "closed", "appealed", "void"]))  # fmt: skip
def cases_list(
    config_path: str | None, db: str | None, hall: str | None, state: str | None
) -> None:
    """One line per case: id, state, level, clerk, assignee, deadline, escalation."""
    from gateway.followup.tables import followup_cases
    from protocol.levels import CASE_STATE_LABELS, LEVEL_LABELS

    ctx = Context(config_path, db, hall)
    query = sa.select(followup_cases).where(followup_cases.c.hall == ctx.hall)
    if state:
        query = query.where(followup_cases.c.state == state)
    rows = ctx.run(lambda conn: conn.execute(query.order_by(followup_cases.c.id)).all())
    for r in rows:
        escalated = f"  督办{r.escalation}级→{r.escalated_to}" if r.escalation else ""
        click.echo(f"{r.id:>6}  {CASE_STATE_LABELS[r.state]}  {LEVEL_LABELS[r.level]}  "
                   f"clerk {r.clerk or '-'}  assignee {r.assignee or '-'}  due {r.due_date}{escalated}")  # fmt: skip


@cases.command("sweep")
@store_options
def cases_sweep(config_path: str | None, db: str | None, hall: str | None) -> None:
    """Escalate overdue cases now (the gateway also does this every half minute)."""
    from gateway.followup.escalation import escalate_overdue

    ctx = Context(config_path, db, hall)
    raised = ctx.run(lambda conn: escalate_overdue(conn, ctx.settings.followup, ctx.hall, now_ms()))
    for e in raised:
        click.echo(
            f"case {e.case_id}: overdue since {e.due_date}, level {e.level} → {e.to or 'nobody configured'}"
        )
    click.echo(f"{len(raised)} cases escalated")
