"""Follow-up settings: the `[followup]` table of the gateway's TOML file.

[followup]
workdays = 5                    # deadline in working days (local rules: 5, 7, 15)
manager = "M001"                # assignee when the clerk has no team leader
escalation = ["M001", "D001"]   # who an overdue case goes to, level by level
escalate_every_days = 2         # working days between escalation levels
extra_holidays = ["2027-01-01"] # an announced year the calendar package does not know yet
extra_workdays = []

[followup.team_leaders]         # team (staff CSV column) -> leader's staff number
"综合受理组" = "L001"
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from gateway.config import ConfigError
from gateway.followup.errors import FollowupError
from gateway.followup.workdays import ALLOWED_DAYS, WorkCalendar


class FollowupConfigError(FollowupError, ConfigError):
    """A [followup] setting that cannot be used."""


@dataclass(frozen=True)
class FollowupConfig:
    workdays: int = 5
    manager: str | None = None
    team_leaders: dict[str, str] = field(default_factory=dict)
    escalation: tuple[str, ...] = ()
    escalate_every_days: int = 2
    extra_holidays: tuple[dt.date, ...] = ()
    extra_workdays: tuple[dt.date, ...] = ()

    def __post_init__(self) -> None:
        if self.workdays not in ALLOWED_DAYS:
            raise FollowupConfigError(f"followup.workdays must be 1–60, not {self.workdays}")
        if self.escalate_every_days not in ALLOWED_DAYS:
            raise FollowupConfigError("followup.escalate_every_days must be 1–60")

    def calendar(self) -> WorkCalendar:
        return WorkCalendar(self.extra_holidays, self.extra_workdays)

    def escalation_target(self, level: int) -> str | None:
        """Who receives an overdue case at escalation `level` (1 = at the deadline)."""
        chain = self.escalation or ((self.manager,) if self.manager else ())
        return chain[min(level, len(chain)) - 1] if chain else None

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> FollowupConfig:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(table) - known)
        if unknown:
            raise FollowupConfigError(f"unknown setting(s) in [followup]: {', '.join(unknown)}")
        values = dict(table)
        for name in ("extra_holidays", "extra_workdays"):
            values[name] = tuple(_date(name, d) for d in values.get(name, ()))
        values["escalation"] = tuple(values.get("escalation", ()))
        try:
            return cls(**values)
        except TypeError as exc:
            raise FollowupConfigError(f"bad [followup] table: {exc}") from exc


def _date(name: str, value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise FollowupConfigError(f"followup.{name}: {value!r} is not a YYYY-MM-DD date") from exc
