"""The hall's local calendar: days and minutes of day in the configured time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


class HallClock:
    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)
        self._today: tuple[int, int, str] = (0, 0, "")  # [start, end) ms of the last day asked

    def local(self, ms: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(ms / 1000, tz=self.zone)

    def day(self, ms: int) -> str:
        """Local date, YYYY-MM-DD. The ingest asks for every event, nearly always the same day."""
        start, end, day = self._today
        if start <= ms < end:
            return day
        date = self.local(ms).date()
        day = date.isoformat()
        self._today = (self.at(day, 0), self.at((date + dt.timedelta(days=1)).isoformat(), 0), day)
        return day

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
