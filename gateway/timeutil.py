"""The hall's local calendar: days and minutes of day in the configured time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


class HallClock:
    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)

    def local(self, ms: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(ms / 1000, tz=self.zone)

    def day(self, ms: int) -> str:
        """Local date, YYYY-MM-DD."""
        return self.local(ms).date().isoformat()

    def at(self, day: str, minute: int) -> int:
        """ms since the epoch of `minute` minutes after local midnight of `day`."""
        midnight = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(), tzinfo=self.zone)
        return int((midnight + dt.timedelta(minutes=minute)).timestamp() * 1000)


def minutes(hhmm: str) -> int:
    """Minutes after midnight of "HH:MM"."""
    hours, _, mins = hhmm.partition(":")
    if not (hours.isdigit() and mins.isdigit() and int(hours) < 24 and int(mins) < 60):
        raise ValueError(f"time must be HH:MM, not {hhmm!r}")
    return int(hours) * 60 + int(mins)
