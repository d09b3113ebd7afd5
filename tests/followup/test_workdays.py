"""Deadlines in working days on the real 2026 holiday calendar (国务院办公厅 notice for 2026)."""

from __future__ import annotations

import datetime as dt

import pytest

from followup.seed import ms
from gateway.followup.config import FollowupConfig, FollowupConfigError
from gateway.followup.errors import CalendarError, FollowupError
from gateway.followup.workdays import WorkCalendar, deadline

D = dt.date
CAL = WorkCalendar()


def test_swapped_saturday_before_spring_festival_is_a_workday_and_the_festival_is_not():
    assert D(2026, 2, 14).weekday() == 5 and CAL.is_workday(D(2026, 2, 14))  # 调休上班
    assert D(2026, 2, 28).weekday() == 5 and CAL.is_workday(D(2026, 2, 28))  # 调休上班
    assert not any(CAL.is_workday(D(2026, 2, d)) for d in range(15, 24))  # 春节 15–23
    assert not CAL.is_workday(D(2026, 2, 7))  # an ordinary Saturday


@pytest.mark.parametrize(
    ("days", "due"),
    [
        # Fri 13 Feb: Sat 14 (swapped) is day 1, the festival rests, Tue 24 … Fri 27 are 2–5.
        (5, D(2026, 2, 27)),
        # … then Sat 28 Feb (swapped) is day 6 and Mon 2 Mar day 7.
        (7, D(2026, 3, 2)),
        (15, D(2026, 3, 12)),
    ],
)
def test_deadline_across_spring_festival_counts_the_swapped_workdays(days, due):
    assert CAL.add_workdays(D(2026, 2, 13), days) == due


def test_deadline_across_national_day_counts_swapped_sunday_and_saturday():
    # Sun 20 Sep 2026 and Sat 10 Oct 2026 are 调休上班; 1–7 Oct rest.
    assert CAL.add_workdays(D(2026, 9, 18), 1) == D(2026, 9, 20)
    assert CAL.add_workdays(D(2026, 9, 29), 3) == D(2026, 10, 9)  # 30 Sep, 8 Oct, 9 Oct
    assert CAL.add_workdays(D(2026, 10, 9), 1) == D(2026, 10, 10)


def test_opening_day_does_not_count_and_the_deadline_ends_at_china_midnight():
    due, due_ms = deadline(CAL, ms("2026-02-13 16:30"), 5)
    assert due == D(2026, 2, 27) and due_ms == ms("2026-02-28 00:00")


def test_a_year_the_calendar_does_not_know_is_a_clear_error_not_a_guess():
    with pytest.raises(CalendarError, match="no data for 2027") as err:
        CAL.add_workdays(D(2026, 12, 24), 15)
    assert isinstance(err.value, ValueError) and isinstance(err.value, FollowupError)


def test_configured_holidays_make_an_announced_year_known():
    cal = FollowupConfig(
        extra_holidays=(D(2027, 1, 1),), extra_workdays=(D(2027, 1, 9),)
    ).calendar()
    # Thu 31 Dec 2026 + 2: Fri 1 Jan is a holiday, Sat 2/Sun 3 rest, Mon 4 Jan is day 1, Tue 5 day 2.
    assert cal.add_workdays(D(2026, 12, 31), 2) == D(2027, 1, 5)
    assert cal.is_workday(D(2027, 1, 9))  # a configured swapped Saturday
    with pytest.raises(CalendarError, match="2028"):
        cal.is_workday(D(2028, 1, 3))


@pytest.mark.parametrize("days", [0, -1, 61])
def test_a_deadline_outside_one_to_sixty_working_days_is_refused(days):
    with pytest.raises(CalendarError):
        CAL.add_workdays(D(2026, 3, 2), days)
    with pytest.raises(FollowupConfigError):
        FollowupConfig(workdays=days)


def test_a_day_both_holiday_and_workday_is_refused():
    with pytest.raises(CalendarError, match="both"):
        WorkCalendar([D(2027, 1, 1)], [D(2027, 1, 1)])


def test_config_table_is_read_and_unknown_keys_are_refused():
    cfg = FollowupConfig.from_table(
        {"workdays": 7, "manager": "M001", "extra_holidays": ["2027-01-01"]}
    )
    assert cfg.workdays == 7 and cfg.extra_holidays == (D(2027, 1, 1),)
    with pytest.raises(FollowupConfigError, match="wrokdays"):
        FollowupConfig.from_table({"wrokdays": 7})
    with pytest.raises(FollowupConfigError, match="not a YYYY-MM-DD"):
        FollowupConfig.from_table({"extra_holidays": ["1 Jan"]})
