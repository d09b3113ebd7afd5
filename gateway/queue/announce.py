"""What a call says: the line on the hall display and window device, and the spoken line.

Kept free of I/O so the hall display page, the window terminal and the tests share it.
"""

from __future__ import annotations


def call_lines(ticket: str, window_label: str) -> tuple[str, str]:
    """("A012 请到3号窗口", "请A012号到3号窗口办理") for ticket A012 at 3号窗口."""
    return f"{ticket} 请到{window_label}", f"请{ticket}号到{window_label}办理"
