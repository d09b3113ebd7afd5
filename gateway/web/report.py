"""The daily report of a hall (日报): tickets, waits, ratings, 差评 and attendance, with charts.

    yuping report daily --date 2026-11-27 [--config gateway.toml] [--out report.pdf|.png]
    GET /web/report/daily?day=2026-11-27[&format=png]        (manager)

A two-page A4 PDF (or the same pages stacked in one PNG), drawn with matplotlib. Chinese text
needs a CJK font: WenQuanYi Zen Hei (Debian fonts-wqy-zenhei) or Noto Sans CJK; without one the
report is refused rather than printed as empty boxes.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa

from gateway.hooks import GatewayError
from gateway.registry import hall_row
from gateway.stats import stats
from gateway.timeutil import HallClock
from gateway.web import data

CJK_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)
A4 = (8.27, 11.69)
GOOD, BAD, WAIT, DONE = "#1b6e3a", "#b3261e", "#1f4e8c", "#7a8ca5"
MAX_ROWS = 18  # table rows per section; the rest are counted


class ReportError(GatewayError, ValueError):
    """A report that cannot be made (bad date, no CJK font)."""


def gather(engine: sa.Engine, config: Any, hall: str, day: str) -> dict[str, Any]:
    """Everything the report shows, read from the store for one local day."""
    try:
        dt.date.fromisoformat(day)
    except ValueError:
        raise ReportError(f"date must be YYYY-MM-DD, not {day!r}") from None
    clock = HallClock(config.timezone)
    names = _service_names(config)
    now = int(time.time() * 1000)
    with engine.connect() as conn:
        return {
            "hall_name": str(hall_row(conn, hall).name),
            "day": day,
            "tickets": data.ticket_summary(conn, hall, day, names),
            "ratings": data.rating_summary(conn, hall, day),
            "bad": data.bad_ratings(conn, hall, day),
            "hourly": data.hourly(conn, hall, day, clock),
            "clerks": stats(conn, hall, "clerk", day, day),
            "attendance": data.attendance_board(conn, config, hall, day, clock, now),
            "clock": clock,
        }


def _service_names(config: Any) -> dict[str, str]:
    if not getattr(config, "queue", None):
        return {}
    from gateway.queue.config import load

    return {s.id: s.name for s in load(config.queue).services.values()}


def _setup_fonts() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager

    font = next((f for f in CJK_FONTS if f.exists()), None)
    if font is None:
        raise ReportError("no CJK font installed (Debian: apt-get install fonts-wqy-zenhei)")
    font_manager.fontManager.addfont(str(font))
    name = font_manager.FontProperties(fname=str(font)).get_name()
    matplotlib.rcParams.update(
        {"font.family": [name], "axes.unicode_minus": False, "pdf.fonttype": 42}
    )


def render(report: dict[str, Any], fmt: str = "pdf") -> bytes:
    """The report as PDF bytes, or as one PNG with the pages one under the other."""
    _setup_fonts()
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    pages = [_summary_page(report), _tables_page(report)]
    out = io.BytesIO()
    if fmt == "pdf":
        with PdfPages(
            out, metadata={"Title": f"{report['hall_name']} 日报 {report['day']}"}
        ) as pdf:
            for fig in pages:
                pdf.savefig(fig)
    else:
        out.write(_stacked_png(pages))
    for fig in pages:
        plt.close(fig)
    return out.getvalue()


def _stacked_png(pages: list[Any]) -> bytes:
    from PIL import Image

    images = []
    for fig in pages:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        images.append(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    sheet = Image.new("RGB", (max(i.width for i in images), sum(i.height for i in images)), "white")
    y = 0
    for image in images:
        sheet.paste(image, (0, y))
        y += image.height
    out = io.BytesIO()
    sheet.save(out, format="PNG")
    return out.getvalue()


def _summary_page(report: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=A4)
    fig.suptitle(f"{report['hall_name']}  日报  {report['day']}", fontsize=17, y=0.965)
    _figures(fig, report)
    grid = fig.add_gridspec(3, 1, left=0.1, right=0.95, top=0.75, bottom=0.06, hspace=0.55)
    hours = report["hourly"]
    _hour_bars(fig.add_subplot(grid[0]), "评价数（按小时）", [("好评", hours["good"], GOOD),
               ("差评", hours["bad"], BAD)], stacked=True)  # fmt: skip
    _hour_bars(fig.add_subplot(grid[1]), "平均等候分钟（按叫号时间）",
               [("平均等候", hours["wait_min"], WAIT)])  # fmt: skip
    _service_bars(fig.add_subplot(grid[2]), report["tickets"]["services"])
    return fig


def _figures(fig: Any, report: dict[str, Any]) -> None:
    tickets, ratings = report["tickets"], report["ratings"]
    done = sum(s["done"] for s in tickets["services"])
    items = [
        ("取号", f"{tickets['issued']}"),
        ("办结", f"{done}"),
        ("平均等候", _minutes(tickets["mean_wait_min"])),
        ("最长等候", _minutes(tickets["max_wait_min"])),
        ("评价数", f"{ratings['rated']}"),
        ("好评率", ratings["good_rate_text"]),
        ("差评", f"{ratings['bad']}"),
        ("未评价", f"{ratings['unrated']}"),
    ]
    for i, (label, value) in enumerate(items):
        x, y = 0.1 + (i % 4) * 0.22, 0.9 - (i // 4) * 0.06
        fig.text(x, y, label, fontsize=10, color="#4b5563")
        fig.text(x, y - 0.027, value, fontsize=16, color=BAD if label == "差评" else "#1a1a1a")


def _minutes(value: float | None) -> str:
    return "—" if value is None else f"{value:g} 分钟"


def _hour_bars(
    ax: Any, title: str, series: list[tuple[str, list[Any], str]], stacked: bool = False
) -> None:
    used = [h for h in range(24) if any(s[1][h] for s in series)]
    hours = list(range(min([8, *used]), max([18, *used]) + 1))
    bottom = [0.0] * len(hours)
    width = 0.7 if stacked else 0.7 / len(series)
    for i, (label, values, colour) in enumerate(series):
        heights = [values[h] for h in hours]
        xs = hours if stacked else [h + i * width for h in hours]
        ax.bar(xs, heights, width, bottom=bottom if stacked else None, color=colour, label=label)
        if stacked:
            bottom = [b + v for b, v in zip(bottom, heights, strict=True)]
    ax.set_title(title, fontsize=12, loc="left")
    ax.set_xticks(hours, [f"{h}时" for h in hours], fontsize=8)
    ax.set_ylim(0, max([1.0, *bottom] if stacked else [1.0, *(max(s[1]) for s in series)]) * 1.25)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=9, loc="upper right", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)


def _service_bars(ax: Any, services: list[dict[str, Any]]) -> None:
    names = [s["name"] for s in services] or ["（无取号）"]
    issued = [s["issued"] for s in services] or [0]
    done = [s["done"] for s in services] or [0]
    xs = list(range(len(names)))
    ax.bar([x - 0.18 for x in xs], issued, 0.36, color=WAIT, label="取号")
    ax.bar([x + 0.18 for x in xs], done, 0.36, color=DONE, label="办结")
    ax.set_title("各业务取号与办结", fontsize=12, loc="left")
    ax.set_xticks(xs, names, fontsize=9)
    ax.set_ylim(0, max([1, *issued]) * 1.25)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=9, loc="upper right", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)


def _tables_page(report: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=A4)
    clock = report["clock"]
    bad_rows = [
        [clock.local(b["at_ms"]).strftime("%H:%M"), b["window_label"], b["clerk"], b["label"],
         "、".join(b["reasons"]) or "—", b["case_label"], b["due_date"] or "—"]
        for b in report["bad"]
    ]  # fmt: skip
    clerk_rows = [
        [c["clerk"] or "—", c.get("name") or "—", c["rated"], c["good"], c["bad"],
         "—" if c.get("good_rate") is None else f"{c['good_rate']:.1%}"]
        for c in report["clerks"]
    ]  # fmt: skip
    attendance_rows = [
        [a["staff_no"], a["name"], _hm(clock, a["first_login_ms"]), _hm(clock, a["last_logout_ms"]),
         a["worked_min"], "、".join(a["flag_labels"]) or "正常"]
        for a in report["attendance"]
    ]  # fmt: skip
    sections = [
        ("差评明细及整改", ["时间", "窗口", "工作人员", "评价", "原因", "整改状态", "期限"], bad_rows,
         "今日无差评"),
        ("工作人员评价", ["工号", "姓名", "评价数", "好评", "差评", "好评率"], clerk_rows,
         "今日无评价"),
        ("考勤", ["工号", "姓名", "首次登录", "最后退出", "在岗分钟", "提示"], attendance_rows,
         "今日无排班或登录"),
    ]  # fmt: skip
    top = 0.95
    for title, header, rows, empty in sections:
        top = _table(fig, top, title, header, rows, empty)
    return fig


def _hm(clock: HallClock, ms: int | None) -> str:
    return "—" if ms is None else clock.local(ms).strftime("%H:%M")


def _table(
    fig: Any, top: float, title: str, header: list[str], rows: list[list[Any]], empty: str
) -> float:
    """One titled table from `top` down; returns where the next one starts."""
    fig.text(0.07, top, title, fontsize=13, color=WAIT)
    shown = rows[:MAX_ROWS]
    if not shown:
        fig.text(0.07, top - 0.03, empty, fontsize=10, color="#4b5563")
        return top - 0.07
    row_h = 0.022
    height = row_h * (len(shown) + 1)
    ax = fig.add_axes((0.07, top - 0.015 - height, 0.86, height))
    ax.axis("off")
    table = ax.table(cellText=[[str(c) for c in r] for r in shown], colLabels=header,
                     loc="upper center", cellLoc="left", bbox=(0, 0, 1, 1))  # fmt: skip
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    for (row, _col), cell in table.get_celld().items():
        cell.set_edgecolor("#c9ced6")
        if row == 0:
            cell.set_facecolor("#eef1f5")
    bottom = top - 0.015 - height
    if len(rows) > len(shown):
        fig.text(0.07, bottom - 0.02, f"另有 {len(rows) - len(shown)} 条未列出", fontsize=9)
        bottom -= 0.02
    return bottom - 0.05


@click.group()
def report() -> None:
    """Reports of a hall (日报)."""


@report.command()
@click.option("--date", "day", required=True, help="local day YYYY-MM-DD")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--db", help="store URL or SQLite path (overrides the config file)")
@click.option("--hall", help="hall id (overrides the config file)")
@click.option("--out", type=click.Path(dir_okay=False), help="file to write (.pdf or .png)")
def daily(
    day: str, config_path: str | None, db: str | None, hall: str | None, out: str | None
) -> None:
    """Write the daily report of a hall as PDF (or PNG, by the --out suffix)."""
    from gateway.commands import _config, _engine

    cfg = _config(config_path, db=db, hall=hall)
    path = Path(out or f"report-{cfg.hall}-{day}.pdf")
    fmt = "png" if path.suffix.lower() == ".png" else "pdf"
    engine = _engine(cfg)
    try:
        body = render(gather(engine, cfg, cfg.hall, day), fmt)
    except ReportError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        engine.dispose()
    path.write_bytes(body)
    click.echo(f"{path} ({len(body) // 1024} KB, {fmt.upper()})")
