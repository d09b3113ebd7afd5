"""The papers a desk hands out, as lines of text (printed, or shown on the status page):
the one-time written notice (一次性书面告知单) of a matter's materials, and the written reminder
to collect a result that cannot be mailed (领取提醒)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from gateway.queue.matters import Matter


def _when(at_ms: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(at_ms / 1000, tz).strftime("%Y-%m-%d %H:%M")


def _limit(matter: Matter) -> str:
    return "即办" if matter.time_limit_days == 0 else f"{matter.time_limit_days}个工作日"


def notice_lines(matter: Matter, hall_name: str, at_ms: int, tz: ZoneInfo) -> list[str]:
    """一次性书面告知单: everything the citizen must bring, so one more trip is enough."""
    lines = ["一次性书面告知单", hall_name, f"事项：{matter.name}", f"编码：{matter.code}"]
    lines.append("所需材料：")
    lines += [f"{i}. {material}" for i, material in enumerate(matter.materials, 1)]
    lines += [
        f"承诺时限：{_limit(matter)}",
        "结果领取：" + ("可免费邮寄" if matter.mailable else matter.pickup),
        "材料齐全后即可办理，无需再补其他材料。",
        f"告知时间：{_when(at_ms, tz)}",
    ]
    return lines


def reminder_lines(
    matter: Matter, ticket: str, hall_name: str, at_ms: int, tz: ZoneInfo
) -> list[str]:
    """领取提醒: the result of this matter cannot be mailed; where and how to collect it."""
    return [
        "办结领取提醒",
        hall_name,
        f"号码：{ticket}",
        f"事项：{matter.name}",
        "本事项结果不能邮寄，请本人领取。",
        f"领取地点：{matter.pickup}",
        f"承诺时限：{_limit(matter)}",
        "领取时请携带本人有效身份证件。",
        f"打印时间：{_when(at_ms, tz)}",
    ]
