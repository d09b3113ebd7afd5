"""Follow-up cases (差评整改): one per 差评, from return visit to the citizen's view of the fix.

States and the steps between them (every step is logged with who and when):

    open ──visit──▶ visited ──verify──▶ verified ──fix──────▶ fixed ─────┐
                                            ▲    ──explain──▶ explained ─┤
                                            └── citizen_view=dissatisfied┤
                                                   citizen_view=satisfied ┴─▶ closed
                                                   close (unreachable)  ──▶ closed
    any state but closed/void ──appeal──▶ appealed ──decide(upheld)──▶ void (rating excluded)
                                                   ──decide(rejected)──▶ back where it was

`fix` follows a finding of "substantiated" (属实), `explain` one of "unfounded" (不属实).
The assignee or a manager works the case; only the clerk rated may appeal, only a manager who
did not appeal may decide, only a manager may reassign or close without the citizen's view.
A refused step raises TransitionError (a ValueError) and writes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from gateway.followup.config import FollowupConfig
from gateway.followup.errors import (
    CalendarError,
    CaseNotFound,
    InvalidInput,
    NotAllowed,
    TransitionError,
)
from gateway.followup.tables import followup_cases, followup_steps
from gateway.followup.workdays import WEEKDAYS_ONLY, deadline
from gateway.store.tables import ratings, staff
from protocol.levels import CASE_STATES

STATES = CASE_STATES  # labels: protocol.levels.CASE_STATE_LABELS
ACTIVE = ("open", "visited", "verified", "fixed", "explained")  # the deadline is running
FINDINGS = ("substantiated", "unfounded")
VIEWS = ("satisfied", "dissatisfied")
APPEAL_REASONS = ("malicious", "mistaken")
NOTE_MAX = 500
log = logging.getLogger("yuping.followup")


@dataclass(frozen=True)
class Actor:
    """Who takes a step: a staff number and the role they act in (manager, clerk, system)."""

    staff_no: str
    role: str

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"


SYSTEM = Actor("system", "system")


@dataclass(frozen=True)
class Facts:
    """What a new case needs to know about the 差评 it follows."""

    hall: str
    rating_id: int
    level: str
    clerk: str | None  # staff_no
    team: str | None
    window: str | None
    at_ms: int


def rating_facts(conn: sa.Connection, rating_id: int) -> Facts:
    query = (
        sa.select(ratings, staff.c.staff_no, staff.c.team)
        .select_from(ratings.outerjoin(staff, staff.c.id == ratings.c.staff_id))
        .where(ratings.c.id == rating_id)
    )
    row = conn.execute(query).one()
    return Facts(row.hall, row.id, row.level, row.staff_no, row.team, row.window, row.at_ms)


def assignee_for(cfg: FollowupConfig, facts: Facts) -> tuple[str | None, str]:
    """The clerk's team leader, else the configured manager (a leader never follows himself)."""
    leader = cfg.team_leaders.get(facts.team or "")
    if leader and leader != facts.clerk:
        return leader, "team_leader"
    if cfg.manager:
        return cfg.manager, "manager"
    return None, "unassigned"


def open_case(conn: sa.Connection, cfg: FollowupConfig, facts: Facts) -> int:
    """Open the case of a 差评; its deadline counts working days from the rating's day."""
    assignee, rule = assignee_for(cfg, facts)
    note = f"assigned to {assignee} ({rule})"
    try:
        due_date, due_ms = deadline(cfg.calendar(), facts.at_ms, cfg.workdays)
    except CalendarError as exc:
        # Refusing the rating would lose it; a weekdays-only deadline is kept and said so.
        due_date, due_ms = deadline(WEEKDAYS_ONLY, facts.at_ms, cfg.workdays)
        note += f"; {exc}; deadline counted on weekdays only"
        log.error("follow-up deadline on weekdays only: %s", exc)
    result = conn.execute(
        followup_cases.insert().values(
            hall=facts.hall,
            rating_id=facts.rating_id,
            level=facts.level,
            clerk=facts.clerk,
            window=facts.window,
            state="open",
            assignee=assignee,
            assigned_by=rule,
            opened_ms=facts.at_ms,
            workdays=cfg.workdays,
            due_date=due_date.isoformat(),
            due_ms=due_ms,
        )
    )
    key = result.inserted_primary_key
    assert key is not None  # an INSERT always has one
    case_id = int(key[0])
    log_step(conn, case_id, "open", None, "open", SYSTEM, facts.at_ms, note)
    return case_id


def get(conn: sa.Connection, case_id: int) -> sa.Row:
    row = conn.execute(sa.select(followup_cases).where(followup_cases.c.id == case_id)).first()
    if row is None:
        raise CaseNotFound(f"no follow-up case {case_id}")
    return row


def steps(conn: sa.Connection, case_id: int) -> list[sa.Row]:
    query = sa.select(followup_steps).where(followup_steps.c.case_id == case_id)
    return list(conn.execute(query.order_by(followup_steps.c.id)))


def visit(conn: sa.Connection, case_id: int, actor: Actor, at_ms: int, note: str) -> sa.Row:
    """Return visit (回访): the citizen was contacted; the note says what they said."""
    case = _working(conn, case_id, "visit", actor, ("open",))
    return _step(conn, case, "visit", "visited", actor, at_ms, _note(note), visited_ms=at_ms)


def verify(
    conn: sa.Connection, case_id: int, actor: Actor, at_ms: int, finding: str, note: str
) -> sa.Row:
    """Verification (核实): was the complaint substantiated?"""
    case = _working(conn, case_id, "verify", actor, ("visited",))
    _choice("finding", finding, FINDINGS)
    return _step(conn, case, "verify", "verified", actor, at_ms, _note(note), finding=finding)


def fix(conn: sa.Connection, case_id: int, actor: Actor, at_ms: int, note: str) -> sa.Row:
    """Fix (整改) of a substantiated complaint."""
    return _resolve(conn, case_id, actor, at_ms, note, "fix", "fixed", "substantiated")


def explain(conn: sa.Connection, case_id: int, actor: Actor, at_ms: int, note: str) -> sa.Row:
    """Explanation (说明) to the citizen of an unfounded complaint."""
    return _resolve(conn, case_id, actor, at_ms, note, "explain", "explained", "unfounded")


def citizen_view(
    conn: sa.Connection, case_id: int, actor: Actor, at_ms: int, view: str, note: str = ""
) -> sa.Row:
    """The citizen's view of the fix: satisfied closes it, dissatisfied sends it back to rework."""
    case = _working(conn, case_id, "citizen_view", actor, ("fixed", "explained"))
    _choice("view", view, VIEWS)
    if view == "satisfied":
        return _step(
            conn,
            case,
            "citizen_view",
            "closed",
            actor,
            at_ms,
            note,
            citizen_view=view,
            closed_ms=at_ms,
        )
    return _step(
        conn,
        case,
        "citizen_view",
        "verified",
        actor,
        at_ms,
        note,
        citizen_view=view,
        resolved_ms=None,
        resolution=None,
    )


def close_unreachable(
    conn: sa.Connection, case_id: int, actor: Actor, at_ms: int, note: str
) -> sa.Row:
    """A manager closes a resolved case whose citizen cannot be reached for a view."""
    case = _load(conn, case_id, "close", ("fixed", "explained"))
    _allowed(actor.is_manager, "close", "only a manager may close without the citizen's view")
    return _step(
        conn,
        case,
        "close",
        "closed",
        actor,
        at_ms,
        _note(note),
        citizen_view="unreachable",
        closed_ms=at_ms,
    )


def reassign(
    conn: sa.Connection, case_id: int, actor: Actor, at_ms: int, assignee: str, note: str = ""
) -> sa.Row:
    case = _load(conn, case_id, "reassign", ACTIVE)
    _allowed(actor.is_manager, "reassign", "only a manager may reassign a case")
    if not assignee or len(assignee) > 32:
        raise InvalidInput("cannot reassign: assignee must be a staff number")
    note = note or f"{case.assignee} -> {assignee}"
    return _step(
        conn,
        case,
        "reassign",
        case.state,
        actor,
        at_ms,
        note,
        assignee=assignee,
        assigned_by="reassigned",
    )


def appeal(
    conn: sa.Connection, case_id: int, actor: Actor, at_ms: int, reason: str, note: str
) -> sa.Row:
    """The clerk rated appeals (申诉) a malicious or mistaken rating; once per case."""
    case = _load(conn, case_id, "appeal", ACTIVE)
    _require(case.appeal is None, "appeal", f"case {case_id} was already appealed ({case.appeal})")
    _allowed(actor.staff_no == case.clerk, "appeal", "only the clerk rated may appeal")
    _choice("reason", reason, APPEAL_REASONS)
    return _step(
        conn,
        case,
        "appeal",
        "appealed",
        actor,
        at_ms,
        _note(note),
        appeal="pending",
        appeal_reason=reason,
        state_before_appeal=case.state,
    )


def decide(
    conn: sa.Connection, case_id: int, actor: Actor, at_ms: int, upheld: bool, note: str
) -> sa.Row:
    """A manager decides an appeal. Upheld: the rating leaves the statistics (never deleted)."""
    case = _load(conn, case_id, "decide", ("appealed",))
    _allowed(actor.is_manager, "decide", "only a manager may decide an appeal")
    _allowed(actor.staff_no != case.clerk, "decide", "the clerk who appealed may not decide it")
    if upheld:
        row = _step(
            conn,
            case,
            "decide",
            "void",
            actor,
            at_ms,
            _note(note),
            appeal="upheld",
            closed_ms=at_ms,
        )
        conn.execute(ratings.update().where(ratings.c.id == case.rating_id).values(excluded=True))
        return row
    return _step(
        conn, case, "decide", case.state_before_appeal, actor, at_ms, _note(note), appeal="rejected"
    )


def _resolve(
    conn: sa.Connection,
    case_id: int,
    actor: Actor,
    at_ms: int,
    note: str,
    action: str,
    state: str,
    finding: str,
) -> sa.Row:
    case = _working(conn, case_id, action, actor, ("verified",))
    _require(
        case.finding == finding,
        action,
        f"case {case_id} was found {case.finding}; {action} needs a finding of {finding}",
    )
    return _step(
        conn, case, action, state, actor, at_ms, _note(note), resolved_ms=at_ms, resolution=state
    )


def _load(conn: sa.Connection, case_id: int, action: str, allowed: tuple[str, ...]) -> sa.Row:
    case = get(conn, case_id)
    if case.state not in allowed:
        raise TransitionError(
            f"case {case_id} is {case.state}: cannot {action} (only from {', '.join(allowed)})"
        )
    return case


def _working(
    conn: sa.Connection, case_id: int, action: str, actor: Actor, allowed: tuple[str, ...]
) -> sa.Row:
    """A working step: by the assignee, or by any manager."""
    case = _load(conn, case_id, action, allowed)
    _allowed(
        actor.is_manager or actor.staff_no == case.assignee,
        action,
        f"case {case_id} is assigned to {case.assignee}; {actor.staff_no} may not {action} it",
    )
    return case


def _require(condition: bool, action: str, why: str) -> None:
    if not condition:
        raise TransitionError(f"cannot {action}: {why}")


def _allowed(condition: bool, action: str, why: str) -> None:
    if not condition:
        raise NotAllowed(f"cannot {action}: {why}")


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InvalidInput(f"{name} must be one of {', '.join(allowed)}, not {value!r}")


def _note(note: str) -> str:
    note = (note or "").strip()
    if not note:
        raise InvalidInput("this step needs a note saying what was done")
    if len(note) > NOTE_MAX:
        raise InvalidInput(f"a note may be at most {NOTE_MAX} characters")
    return note


def _step(
    conn: sa.Connection,
    case: sa.Row,
    action: str,
    to_state: str,
    actor: Actor,
    at_ms: int,
    note: str,
    **values: Any,
) -> sa.Row:
    """Move the case, unless someone else moved it first (then nothing is written)."""
    if len(note) > NOTE_MAX:
        raise InvalidInput(f"a note may be at most {NOTE_MAX} characters")
    moved = conn.execute(
        followup_cases.update()
        .where(followup_cases.c.id == case.id, followup_cases.c.state == case.state)
        .values(state=to_state, **values)
    )
    if moved.rowcount != 1:
        raise TransitionError(f"case {case.id} changed while {action} was being recorded; retry")
    log_step(conn, case.id, action, case.state, to_state, actor, at_ms, note)
    return get(conn, case.id)


def log_step(
    conn: sa.Connection,
    case_id: int,
    action: str,
    from_state: str | None,
    to_state: str,
    actor: Actor,
    at_ms: int,
    note: str,
) -> None:
    conn.execute(
        followup_steps.insert().values(
            case_id=case_id,
            action=action,
            from_state=from_state,
            to_state=to_state,
            actor=actor.staff_no,
            role=actor.role,
            at_ms=at_ms,
            note=note,
        )
    )
