"""What a call says: the line on the hall display and window device, and the spoken line.

The spoken line is the terminal's own `call_announcement` (firmware/terminal/phrases.py) when
the window is labelled "<n>号窗口", so a terminal with recorded clips can say it; other desks
(帮办台 …) get the same sentence with their label, for text-to-speech only.
"""

from __future__ import annotations

import re

from firmware.terminal.phrases import call_announcement

NUMBERED = re.compile(r"([1-9][0-9]{0,2})号窗口")


def call_lines(ticket: str, window_label: str) -> tuple[str, str]:
    """("A012 请到3号窗口", "请A012号到3号窗口办理") for ticket A012 at 3号窗口."""
    display = f"{ticket} 请到{window_label}"
    numbered = NUMBERED.fullmatch(window_label)
    if numbered:
        return display, call_announcement(ticket, numbered[1])
    return display, f"请{ticket}号到{window_label}办理"
