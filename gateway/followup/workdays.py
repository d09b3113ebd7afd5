"""Deadlines in working days on the Chinese public-holiday calendar (法定节假日 and 调休).

A working day is a weekday that is not a public holiday, or a weekend day the State Council
swapped into a working day (调休上班日). The calendar comes from the `chinesecalendar` package,
which knows only the years already announced; a date outside them raises CalendarError rather
than silently treating the year as weekdays-only. A hall can add an announced year ahead of a
package update with `extra_holidays` / `extra_workdays`, which then make that year known.

Counting rule (docs/statistics.md): the day a case opens does not count; the deadline is the end
of the N-th working day after it, in China Standard Time.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

import chinese_calendar
from chinese_calendar import constants as calendar_data

from gateway.followup.errors import CalendarError

CHINA = dt.timezone(dt.timedelta(hours=8), "CST")
ALLOWED_DAYS = range(1, 61)  # local rules name 5, 7 or 15; anything in a sane range is allowed


@functools.cache  # the package's data is fixed for the process; asked for every day counted
def _package_years() -> frozenset[int]:
    return frozenset(
        {d.year for d in calendar_data.holidays} | {d.year for d in calendar_data.workdays}
    )


class WorkCalendar:
    """Answers "is this a working day" and counts working days, refusing unknown years."""

    def __init__(
        self,
        extra_holidays: Iterable[dt.date] = (),
        extra_workdays: Iterable[dt.date] = (),
    ) -> None:
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_workdays = frozenset(extra_workdays)
        if self.extra_holidays & self.extra_workdays:
            clash = sorted(self.extra_holidays & self.extra_workdays)[0]
            raise CalendarError(f"{clash} is given both as a holiday and as a workday")
        package = _package_years()
        extra = {d.year for d in self.extra_holidays | self.extra_workdays}
        self.years = frozenset(range(min(package), max(package) + 1)) | extra

    def covers(self, day: dt.date) -> bool:
        return day.year in self.years

    def is_workday(self, day: dt.date) -> bool:
        if not self.covers(day):
            first, last = min(self.years), max(self.years)
            raise CalendarError(
                f"the holiday calendar has no data for {day.year} (known: {first}–{last}); "
                "update chinesecalendar or configure that year's holidays and swapped workdays"
            )
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        if day.year not in _package_years():
            return day.weekday() < 5  # a configured year: weekends rest unless listed
        return bool(chinese_calendar.is_workday(day))

    def add_workdays(self, start: dt.date, days: int) -> dt.date:
        """The `days`-th working day after `start` (start itself never counts)."""
        if days not in ALLOWED_DAYS:
            raise CalendarError(f"a deadline must be 1–{ALLOWED_DAYS[-1]} working days, not {days}")
        day, left = start, days
        while left:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                left -= 1
        return day

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start)."""
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_workday(day)
        return count


class WeekdaysOnly(WorkCalendar):
    """Monday to Friday, any year: only where a real calendar is missing and refusing is worse."""

    def is_workday(self, day: dt.date) -> bool:
        return day.weekday() < 5


WEEKDAYS_ONLY = WeekdaysOnly()


def china_date(ms: int) -> dt.date:
    """The calendar date in China of a moment given as ms since the epoch."""
    return dt.datetime.fromtimestamp(ms / 1000, CHINA).date()


def end_of_day_ms(day: dt.date) -> int:
    """The first ms after `day` ends in China: a deadline on `day` is missed at this moment."""
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), CHINA)
    return int(midnight.timestamp() * 1000)


def deadline(calendar: WorkCalendar, opened_ms: int, days: int) -> tuple[dt.date, int]:
    """Due date and the ms at which a case opened at `opened_ms` becomes overdue."""
    due = calendar.add_workdays(china_date(opened_ms), days)
    return due, end_of_day_ms(due)
