"""The follow-up subsystem's tables (Alembic branch "followup", depends on "core").

A case belongs to one 差评 rating (core `ratings`); its steps are an append-only log of who did
what and when. An upheld appeal sets the core column `ratings.excluded`, so the statistics leave
the rating out while it stays stored.
"""

from __future__ import annotations

import sqlalchemy as sa

from gateway.store import metadata
from gateway.store.tables import BigInt

followup_cases = sa.Table(
    "followup_cases",
    metadata,
    sa.Column("id", BigInt, primary_key=True, autoincrement=True),
    sa.Column("hall", sa.String(32), nullable=False),
    sa.Column("rating_id", BigInt, sa.ForeignKey("ratings.id"), nullable=False),
    sa.Column("level", sa.String(24), nullable=False),
    sa.Column("clerk", sa.String(32), nullable=True),  # staff_no of the clerk rated
    sa.Column("window", sa.String(32), nullable=True),
    sa.Column("state", sa.String(16), nullable=False),  # gateway.followup.cases.STATES
    sa.Column("assignee", sa.String(32), nullable=True),  # staff_no; NULL = nobody to assign
    sa.Column("assigned_by", sa.String(16), nullable=False),  # team_leader | manager | reassigned
    sa.Column("opened_ms", sa.BigInteger, nullable=False),
    sa.Column("workdays", sa.Integer, nullable=False),
    sa.Column("due_date", sa.String(10), nullable=False),  # last working day, China date
    sa.Column("due_ms", sa.BigInteger, nullable=False),  # overdue from this moment
    sa.Column("visited_ms", sa.BigInteger, nullable=True),  # first return visit (回访)
    sa.Column("finding", sa.String(16), nullable=True),  # substantiated | unfounded (核实)
    sa.Column("resolved_ms", sa.BigInteger, nullable=True),  # fix (整改) or explanation (说明)
    sa.Column("resolution", sa.String(16), nullable=True),  # fixed | explained
    sa.Column(
        "citizen_view", sa.String(16), nullable=True
    ),  # satisfied | dissatisfied | unreachable
    sa.Column("closed_ms", sa.BigInteger, nullable=True),
    sa.Column("escalation", sa.Integer, nullable=False, server_default="0"),  # levels reached
    sa.Column("escalated_to", sa.String(32), nullable=True),
    sa.Column("appeal", sa.String(16), nullable=True),  # pending | upheld | rejected
    sa.Column("appeal_reason", sa.String(16), nullable=True),  # malicious | mistaken
    sa.Column("state_before_appeal", sa.String(16), nullable=True),
    sa.UniqueConstraint("rating_id", name="uq_followup_cases_rating_id"),
)

followup_steps = sa.Table(
    "followup_steps",
    metadata,
    sa.Column("id", BigInt, primary_key=True, autoincrement=True),
    sa.Column("case_id", BigInt, sa.ForeignKey("followup_cases.id"), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("from_state", sa.String(16), nullable=True),
    sa.Column("to_state", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(32), nullable=False),  # staff_no, or "system"
    sa.Column("role", sa.String(16), nullable=False),  # manager | clerk | system
    sa.Column("at_ms", sa.BigInteger, nullable=False),
    sa.Column("note", sa.String(500), nullable=False, server_default=""),
)

sa.Index("ix_followup_cases_state", followup_cases.c.hall, followup_cases.c.state)
sa.Index("ix_followup_steps_case", followup_steps.c.case_id)
