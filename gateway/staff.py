"""Staff and their badges: registration, CSV import, and the badge list pushed to terminals.

A badge UID is never stored: only HMAC-SHA256 under the hall's badge key (protocol/badges.py).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from gateway.registry import RegistryError, hall_row
from gateway.store.tables import staff
from protocol import fields
from protocol.badges import badge_hash
from protocol.errors import FieldError

ROLES = ("clerk", "helper", "manager", "technician")
CSV_COLUMNS = ("name", "staff_no", "role", "badge_uid", "team")
BADGE_LIST_MAX = 500  # protocol.messages COMMANDS["config"]["badges"]


class StaffError(RegistryError):
    """A staff record or import file that cannot be accepted."""


@dataclass(frozen=True)
class StaffEntry:
    name: str
    staff_no: str
    role: str
    badge_uid: str | None = None
    team: str | None = None

    def check(self) -> StaffEntry:
        try:
            fields.text("name", self.name, 32)
            fields.text("staff_no", self.staff_no, 32)
            if self.badge_uid:
                fields.hex_text("badge_uid", self.badge_uid, 8, 20)
        except FieldError as exc:
            raise StaffError(str(exc)) from exc
        if self.role not in ROLES:
            raise StaffError(f"role must be one of {', '.join(ROLES)}, not {self.role!r}")
        if self.team is not None and len(self.team) > 64:
            raise StaffError("team must be at most 64 characters")
        return self


def hash_badge(conn: sa.Connection, hall: str, uid: str) -> str:
    return badge_hash(hall_row(conn, hall).badge_key, uid)


def add_staff(conn: sa.Connection, hall: str, entry: StaffEntry) -> int:
    """Register one staff member; returns the staff id."""
    entry.check()
    badge = hash_badge(conn, hall, entry.badge_uid) if entry.badge_uid else None
    _check_unique(conn, hall, entry.staff_no, badge)
    values = {"hall": hall, "name": entry.name, "staff_no": entry.staff_no, "role": entry.role}
    result = conn.execute(staff.insert().values(team=entry.team, badge_hash=badge, **values))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _check_unique(conn: sa.Connection, hall: str, staff_no: str, badge: str | None) -> None:
    taken = staff.c.staff_no == staff_no
    if badge is not None:
        taken = sa.or_(taken, staff.c.badge_hash == badge)
    row = conn.execute(sa.select(staff).where(staff.c.hall == hall, taken)).first()
    if row is None:
        return
    if row.staff_no == staff_no:
        raise StaffError(f"staff number {staff_no!r} is already registered ({row.name})")
    raise StaffError(f"this badge is already registered to {row.name} ({row.staff_no})")


def parse_csv(text: str) -> list[tuple[int, StaffEntry]]:
    """Parse a staff CSV (header name,staff_no,role,badge_uid,team) into (line, entry) pairs.

    Any bad row raises a StaffError that names its line.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = tuple(name.strip() for name in reader.fieldnames or ())
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        need = ",".join(CSV_COLUMNS)
        raise StaffError(f"line 1: missing column(s) {', '.join(missing)}; need {need}")
    entries = [(reader.line_num, _csv_entry(reader.line_num, row)) for row in reader]
    _check_duplicates(entries)
    return entries


def _csv_entry(line: int, row: dict[str, Any]) -> StaffEntry:
    if None in row or None in row.values():
        raise StaffError(f"line {line}: expected {len(CSV_COLUMNS)} columns")
    values = {k.strip(): v.strip() for k, v in row.items()}
    try:
        return StaffEntry(
            name=values["name"],
            staff_no=values["staff_no"],
            role=values["role"],
            badge_uid=values["badge_uid"] or None,
            team=values["team"] or None,
        ).check()
    except StaffError as exc:
        raise StaffError(f"line {line}: {exc}") from exc


def _check_duplicates(entries: list[tuple[int, StaffEntry]]) -> None:
    seen: dict[str, int] = {}
    for line, entry in entries:
        keys = [f"staff number {entry.staff_no!r}"]
        if entry.badge_uid:
            keys.append(f"badge UID {entry.badge_uid.upper()}")
        for key in keys:
            if key in seen:
                raise StaffError(f"line {line}: {key} repeats line {seen[key]}")
            seen[key] = line


def import_csv(conn: sa.Connection, hall: str, text: str) -> int:
    """Import every row or none: raise on the first bad row (the caller's transaction rolls back)."""
    entries = parse_csv(text)
    for line, entry in entries:
        try:
            add_staff(conn, hall, entry)
        except StaffError as exc:
            raise StaffError(f"line {line}: {exc}") from exc
    return len(entries)


def by_badge(conn: sa.Connection, hall: str, badge: str) -> sa.Row | None:
    query = sa.select(staff).where(
        staff.c.hall == hall, staff.c.badge_hash == badge, staff.c.active.is_(True)
    )
    return conn.execute(query).first()


def badge_list(conn: sa.Connection, hall: str) -> list[dict[str, str]]:
    """The badges a terminal may accept while offline: every active staff member with a badge."""
    query = (
        sa.select(staff.c.badge_hash, staff.c.name, staff.c.staff_no)
        .where(staff.c.hall == hall, staff.c.active.is_(True), staff.c.badge_hash.is_not(None))
        .order_by(staff.c.staff_no)
        .limit(BADGE_LIST_MAX)
    )
    return [
        {"h": r.badge_hash, "name": r.name, "staff_no": r.staff_no} for r in conn.execute(query)
    ]


def list_staff(conn: sa.Connection, hall: str) -> list[dict[str, Any]]:
    query = sa.select(staff).where(staff.c.hall == hall).order_by(staff.c.staff_no)
    return [
        {
            "id": r.id,
            "name": r.name,
            "staff_no": r.staff_no,
            "role": r.role,
            "team": r.team,
            "has_badge": r.badge_hash is not None,
            "active": r.active,
        }
        for r in conn.execute(query)
    ]
