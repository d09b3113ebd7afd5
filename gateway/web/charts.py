"""Bar charts by hour as inline SVG, drawn on the server (no script library in the browser).

Hours shown: the hall's working hours (8-18) widened to any hour that has data.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 480, 230
LEFT, RIGHT, TOP, BOTTOM = 36, 8, 30, 28
GOOD, BAD, WAIT, INK, GRID = "#1b6e3a", "#b3261e", "#1f4e8c", "#1a1a1a", "#c9ced6"


def hours_shown(*series: Sequence[float]) -> list[int]:
    used = [h for h in range(24) if any(s[h] for s in series)]
    first = min([8, *used])
    last = max([18, *used])
    return list(range(first, last + 1))


def _scale_max(values: Sequence[float]) -> float:
    """The axis top: a multiple of 4 (of 20 past 20), so the four grid lines fall on integers."""
    top = max([4.0, *values])
    step = 4 if top <= 20 else 20
    return float(-(-top // step) * step)


def _frame(title: str, label: str, top: float, hours: list[int]) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
        f'<text x="{LEFT}" y="18" font-size="16" fill="{INK}">{escape(title)}</text>',
    ]
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="13" text-anchor="end" '
            f'fill="{INK}">{value:g}</text>'
        )
    step = (WIDTH - LEFT - RIGHT) / len(hours)
    for i, hour in enumerate(hours):
        x = LEFT + step * (i + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 10}" font-size="13" text-anchor="middle" '
            f'fill="{INK}">{hour}时</text>'
        )
    return parts


def _bar(x: float, width: float, y0: float, height: float, colour: str, tip: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y0 - height:.1f}" width="{width:.1f}" height="{height:.1f}" '
        f'fill="{colour}"><title>{escape(tip)}</title></rect>'
    )


def ratings_chart(good: Sequence[int], bad: Sequence[int]) -> str:
    """Stacked bars: 好评 below, 差评 above, per hour."""
    hours = hours_shown(good, bad)
    top = _scale_max([good[h] + bad[h] for h in hours])
    label = "按小时评价数：" + (
        "，".join(f"{h}时 好评{good[h]} 差评{bad[h]}" for h in hours if good[h] or bad[h]) or "暂无"
    )
    parts = _frame("评价数（按小时）", label, top, hours)
    plot_h, step = HEIGHT - TOP - BOTTOM, (WIDTH - LEFT - RIGHT) / len(hours)
    base = TOP + plot_h
    for i, hour in enumerate(hours):
        x = LEFT + step * i + step * 0.2
        g_h, b_h = plot_h * good[hour] / top, plot_h * bad[hour] / top
        if good[hour]:
            parts.append(_bar(x, step * 0.6, base, g_h, GOOD, f"{hour}时 好评 {good[hour]}"))
        if bad[hour]:
            parts.append(_bar(x, step * 0.6, base - g_h, b_h, BAD, f"{hour}时 差评 {bad[hour]}"))
    parts.append(_legend([(GOOD, "好评"), (BAD, "差评")]))
    parts.append("</svg>")
    return "".join(parts)


def waits_chart(wait_min: Sequence[float], called: Sequence[int]) -> str:
    """Mean wait (minutes) of the tickets called in each hour."""
    hours = hours_shown(wait_min, called)
    top = _scale_max([wait_min[h] for h in hours])
    label = "按小时平均等候分钟：" + (
        "，".join(f"{h}时 {wait_min[h]:g}分钟（叫号{called[h]}）" for h in hours if called[h])
        or "暂无"
    )
    parts = _frame("平均等候（分钟，按叫号时间）", label, top, hours)
    plot_h, step = HEIGHT - TOP - BOTTOM, (WIDTH - LEFT - RIGHT) / len(hours)
    for i, hour in enumerate(hours):
        if called[hour]:
            height = plot_h * wait_min[hour] / top
            tip = f"{hour}时 平均等候 {wait_min[hour]:g} 分钟，叫号 {called[hour]}"
            x = LEFT + step * i + step * 0.2
            parts.append(_bar(x, step * 0.6, TOP + plot_h, max(height, 1.0), WAIT, tip))
    parts.append(_legend([(WAIT, "平均等候")]))
    parts.append("</svg>")
    return "".join(parts)


def _legend(items: list[tuple[str, str]]) -> str:
    out, x = [], WIDTH - RIGHT - 90 * len(items)
    for colour, text in items:
        out.append(
            f'<rect x="{x}" y="8" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="18" font-size="14" fill="{INK}">{escape(text)}</text>'
        )
        x += 84
    return "".join(out)
