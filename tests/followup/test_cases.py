"""Follow-up cases: opening, each step and who may take it, each refusal, appeals, escalation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from followup.seed import TEAM, make_store, ms, offer
from gateway.followup import cases
from gateway.followup.cases import Actor
from gateway.followup.config import FollowupConfig
from gateway.followup.errors import CaseNotFound, FollowupError, TransitionError
from gateway.followup.escalation import escalate_overdue
from gateway.followup.tables import followup_cases, followup_steps
from gateway.store.tables import ratings

CFG = FollowupConfig(
    workdays=5, manager="M001", team_leaders={TEAM: "L001"}, escalation=("M001", "M002")
)
LEADER = Actor("L001", "clerk")
MANAGER = Actor("M001", "manager")
CLERK = Actor("1001", "clerk")
OTHER = Actor("1002", "clerk")
T = ms("2026-03-03 10:00")  # a Tuesday; due 5 working days later: Tue 10 March


def open_for(conn, level="very_dissatisfied", clerk="1001", at="2026-03-03 09:00"):
    rating_id = offer(conn, at, clerk=clerk, level=level)
    return cases.open_case(conn, CFG, cases.rating_facts(conn, rating_id))


def walk_to(conn, case_id, state, finding="substantiated"):
    steps = [
        ("visited", lambda: cases.visit(conn, case_id, LEADER, T, "电话回访，群众反映等候过久")),
        ("verified", lambda: cases.verify(conn, case_id, LEADER, T + 1, finding, "调取录像核实")),
        ("resolved", lambda: _resolve(conn, case_id, finding)),
    ]
    for name, step in steps:
        step()
        if name == state:
            return


def _resolve(conn, case_id, finding):
    if finding == "substantiated":
        return cases.fix(conn, case_id, LEADER, T + 2, "增设导办人员")
    return cases.explain(conn, case_id, LEADER, T + 2, "已向群众说明办理时限规定")


def snapshot(conn):
    return (
        list(conn.execute(sa.select(followup_cases))),
        list(conn.execute(sa.select(followup_steps))),
        list(conn.execute(sa.select(ratings.c.id, ratings.c.excluded))),
    )


def test_bad_rating_opens_case_for_team_leader_with_working_day_deadline(engine):
    with engine.begin() as conn:
        case = cases.get(conn, open_for(conn))
        (step,) = cases.steps(conn, case.id)
    assert (case.state, case.assignee, case.assigned_by) == ("open", "L001", "team_leader")
    assert (case.clerk, case.window, case.level) == ("1001", "w1", "very_dissatisfied")
    assert case.due_date == "2026-03-10" and case.due_ms == ms("2026-03-11 00:00")
    assert (step.action, step.actor, step.role, step.to_state) == (
        "open",
        "system",
        "system",
        "open",
    )


def test_clerk_without_team_leader_goes_to_the_configured_manager(engine):
    with engine.begin() as conn:
        case = cases.get(conn, open_for(conn, clerk="1002"))
    assert (case.assignee, case.assigned_by) == ("M001", "manager")


def test_team_leader_rated_himself_goes_to_the_manager(engine):
    with engine.begin() as conn:
        case = cases.get(conn, open_for(conn, clerk="L001"))
    assert case.assignee == "M001"


def test_no_leader_no_manager_leaves_the_case_unassigned_for_a_manager_to_assign(engine):
    with engine.begin() as conn:
        rating_id = offer(conn, "2026-03-03 09:00", clerk="1002", level="dissatisfied")
        case = cases.get(
            conn, cases.open_case(conn, FollowupConfig(), cases.rating_facts(conn, rating_id))
        )
        assert (case.assignee, case.assigned_by) == (None, "unassigned")
        case = cases.reassign(conn, case.id, MANAGER, T, "M002")
    assert (case.assignee, case.assigned_by, case.state) == ("M002", "reassigned", "open")


def test_full_path_visit_verify_fix_citizen_satisfied_records_who_and_when(engine):
    with engine.begin() as conn:
        case_id = open_for(conn)
        walk_to(conn, case_id, "resolved")
        case = cases.citizen_view(conn, case_id, LEADER, T + 3, "satisfied", "群众表示满意")
        trail = [
            (s.action, s.from_state, s.to_state, s.actor, s.at_ms)
            for s in cases.steps(conn, case_id)
        ]
    assert case.state == "closed" and case.citizen_view == "satisfied" and case.closed_ms == T + 3
    assert (case.visited_ms, case.finding, case.resolution, case.resolved_ms) == (
        T,
        "substantiated",
        "fixed",
        T + 2,
    )
    assert trail[1:] == [
        ("visit", "open", "visited", "L001", T),
        ("verify", "visited", "verified", "L001", T + 1),
        ("fix", "verified", "fixed", "L001", T + 2),
        ("citizen_view", "fixed", "closed", "L001", T + 3),
    ]


def test_unfounded_complaint_is_explained_not_fixed(engine):
    with engine.begin() as conn:
        case_id = open_for(conn)
        walk_to(conn, case_id, "verified", finding="unfounded")
        with pytest.raises(TransitionError, match="finding of substantiated"):
            cases.fix(conn, case_id, LEADER, T + 2, "整改")
        case = cases.explain(conn, case_id, LEADER, T + 2, "已说明")
    assert (case.state, case.resolution) == ("explained", "explained")


def test_substantiated_complaint_cannot_be_explained_away(engine):
    with engine.begin() as conn:
        case_id = open_for(conn)
        walk_to(conn, case_id, "verified")
        with pytest.raises(TransitionError, match="finding of unfounded"):
            cases.explain(conn, case_id, LEADER, T + 2, "说明")


def test_citizen_dissatisfied_with_fix_sends_case_back_for_another_fix(engine):
    with engine.begin() as conn:
        case_id = open_for(conn)
        walk_to(conn, case_id, "resolved")
        case = cases.citizen_view(conn, case_id, LEADER, T + 3, "dissatisfied", "仍不满意")
        assert (case.state, case.resolved_ms, case.citizen_view) == (
            "verified",
            None,
            "dissatisfied",
        )
        cases.fix(conn, case_id, LEADER, T + 4, "再次整改，窗口调整")
        case = cases.citizen_view(conn, case_id, LEADER, T + 5, "satisfied")
    assert (case.state, case.resolved_ms, case.citizen_view) == ("closed", T + 4, "satisfied")


def test_manager_closes_resolved_case_when_citizen_unreachable(engine):
    with engine.begin() as conn:
        case_id = open_for(conn)
        walk_to(conn, case_id, "resolved")
        with pytest.raises(TransitionError, match="only a manager"):
            cases.close_unreachable(conn, case_id, LEADER, T + 3, "三次电话未接通")
        case = cases.close_unreachable(conn, case_id, MANAGER, T + 3, "三次电话未接通")
    assert (case.state, case.citizen_view) == ("closed", "unreachable")


@pytest.mark.parametrize(
    ("state", "step"),
    [
        ("open", lambda c, i: cases.verify(c, i, LEADER, T, "substantiated", "核实")),
        ("open", lambda c, i: cases.fix(c, i, LEADER, T, "整改")),
        ("open", lambda c, i: cases.citizen_view(c, i, LEADER, T, "satisfied")),
        ("visited", lambda c, i: cases.visit(c, i, LEADER, T, "再次回访")),
        ("visited", lambda c, i: cases.explain(c, i, LEADER, T, "说明")),
        ("verified", lambda c, i: cases.citizen_view(c, i, LEADER, T, "satisfied")),
        ("verified", lambda c, i: cases.close_unreachable(c, i, MANAGER, T, "联系不上")),
        ("resolved", lambda c, i: cases.fix(c, i, LEADER, T, "又整改")),
        ("open", lambda c, i: cases.decide(c, i, MANAGER, T, True, "无申诉可决定")),
    ],
)
def test_impossible_step_is_refused_and_changes_nothing(engine, state, step):
    with engine.begin() as conn:
        case_id = open_for(conn)
        if state != "open":
            walk_to(conn, case_id, state)
        before = snapshot(conn)
        with pytest.raises(TransitionError, match="cannot") as err:
            step(conn, case_id)
        assert snapshot(conn) == before
    assert isinstance(err.value, ValueError) and isinstance(err.value, FollowupError)


@pytest.mark.parametrize(
    "step",
    [
        lambda c, i: cases.visit(c, i, OTHER, T, "不是我的案子"),
        lambda c, i: cases.visit(c, i, LEADER, T, "   "),
        lambda c, i: cases.visit(c, i, LEADER, T, "长" * 501),
        lambda c, i: cases.reassign(c, i, LEADER, T, "1002"),
        lambda c, i: cases.appeal(c, i, OTHER, T, "malicious", "替别人申诉"),
        lambda c, i: cases.appeal(c, i, CLERK, T, "unhappy", "理由不在列表"),
    ],
    ids=[
        "not-assignee",
        "empty-note",
        "long-note",
        "clerk-reassigns",
        "appeal-for-other",
        "bad-reason",
    ],
)
def test_step_by_the_wrong_person_or_with_bad_input_is_refused_and_changes_nothing(engine, step):
    with engine.begin() as conn:
        case_id = open_for(conn)
        before = snapshot(conn)
        with pytest.raises(TransitionError):
            step(conn, case_id)
        assert snapshot(conn) == before


def test_unknown_finding_or_view_is_refused(engine):
    with engine.begin() as conn:
        case_id = open_for(conn)
        walk_to(conn, case_id, "visited")
        with pytest.raises(TransitionError, match="finding must be one of"):
            cases.verify(conn, case_id, LEADER, T, "maybe", "核实")
        walk_to_resolved = cases.verify(conn, case_id, LEADER, T, "substantiated", "核实")
        cases.fix(conn, walk_to_resolved.id, LEADER, T, "整改")
        with pytest.raises(TransitionError, match="view must be one of"):
            cases.citizen_view(conn, case_id, LEADER, T, "meh")


def test_unknown_case_is_a_lookup_error(engine):
    with engine.begin() as conn, pytest.raises(CaseNotFound) as err:
        cases.visit(conn, 999, LEADER, T, "回访")
    assert isinstance(err.value, LookupError)


def test_upheld_appeal_voids_case_and_excludes_rating_without_deleting_it(engine):
    with engine.begin() as conn:
        case_id = open_for(conn)
        cases.visit(conn, case_id, LEADER, T, "回访")
        case = cases.appeal(conn, case_id, CLERK, T + 1, "mistaken", "群众按错键，录像为证")
        assert (case.state, case.appeal, case.state_before_appeal) == (
            "appealed",
            "pending",
            "visited",
        )
        with pytest.raises(TransitionError, match="who appealed"):
            cases.decide(conn, case_id, Actor("1001", "manager"), T + 2, True, "自己决定")
        with pytest.raises(TransitionError, match="only a manager"):
            cases.decide(conn, case_id, LEADER, T + 2, True, "组长决定")
        case = cases.decide(conn, case_id, MANAGER, T + 2, True, "录像显示误按，申诉成立")
        rating = conn.execute(sa.select(ratings).where(ratings.c.id == case.rating_id)).one()
        last = cases.steps(conn, case_id)[-1]
    assert (case.state, case.appeal, case.appeal_reason) == ("void", "upheld", "mistaken")
    assert rating.excluded is True and rating.level == "very_dissatisfied"
    assert (last.action, last.actor, last.at_ms) == ("decide", "M001", T + 2)


def test_rejected_appeal_returns_case_where_it_was_and_cannot_be_repeated(engine):
    with engine.begin() as conn:
        case_id = open_for(conn)
        cases.visit(conn, case_id, LEADER, T, "回访")
        cases.appeal(conn, case_id, CLERK, T + 1, "malicious", "恶意差评")
        case = cases.decide(conn, case_id, MANAGER, T + 2, False, "证据不足")
        assert (case.state, case.appeal) == ("visited", "rejected")
        with pytest.raises(TransitionError, match="already appealed"):
            cases.appeal(conn, case_id, CLERK, T + 3, "malicious", "再申诉")
        rating = conn.execute(sa.select(ratings.c.excluded)).scalar_one()
    assert rating is False


def test_closed_case_cannot_be_appealed(engine):
    with engine.begin() as conn:
        case_id = open_for(conn)
        walk_to(conn, case_id, "resolved")
        cases.citizen_view(conn, case_id, LEADER, T + 3, "satisfied")
        with pytest.raises(TransitionError, match="is closed"):
            cases.appeal(conn, case_id, CLERK, T + 4, "malicious", "迟来的申诉")


def test_overdue_case_escalates_to_manager_then_to_the_next_level(engine):
    with engine.begin() as conn:
        case_id = open_for(conn)  # due Tue 10 March 2026
        assert escalate_overdue(conn, CFG, "zz-hall", ms("2026-03-10 23:59")) == []
        (first,) = escalate_overdue(conn, CFG, "zz-hall", ms("2026-03-11 00:00"))
        assert escalate_overdue(conn, CFG, "zz-hall", ms("2026-03-12 12:00")) == []
        (second,) = escalate_overdue(conn, CFG, "zz-hall", ms("2026-03-13 00:00"))  # +2 workdays
        case = cases.get(conn, case_id)
        trail = [s.action for s in cases.steps(conn, case_id)]
    assert (first.level, first.to, second.level, second.to) == (1, "M001", 2, "M002")
    assert (case.escalation, case.escalated_to, case.state, case.assignee) == (
        2,
        "M002",
        "open",
        "L001",
    )
    assert trail == ["open", "escalate", "escalate"]


def test_closed_and_appealed_cases_do_not_escalate(engine):
    with engine.begin() as conn:
        done = open_for(conn)
        walk_to(conn, done, "resolved")
        cases.citizen_view(conn, done, LEADER, T + 3, "satisfied")
        appealed = open_for(conn)
        cases.appeal(conn, appealed, CLERK, T, "malicious", "恶意")
        assert escalate_overdue(conn, CFG, "zz-hall", ms("2026-04-30 12:00")) == []


@pytest.mark.postgres
def test_case_walk_and_appeal_on_postgresql(pg_url):
    engine = make_store(pg_url)
    try:
        with engine.begin() as conn:
            case_id = open_for(conn)
            walk_to(conn, case_id, "resolved")
            assert cases.citizen_view(conn, case_id, LEADER, T + 3, "satisfied").state == "closed"
            other = open_for(conn)
            cases.appeal(conn, other, CLERK, T, "mistaken", "误按")
            assert cases.decide(conn, other, MANAGER, T + 1, True, "成立").state == "void"
            with pytest.raises(TransitionError):
                cases.visit(conn, other, MANAGER, T + 2, "作废后回访")
            assert conn.execute(sa.select(sa.func.count()).where(ratings.c.excluded)).scalar() == 1
    finally:
        engine.dispose()


def test_case_beyond_the_calendar_still_opens_on_weekdays_and_says_so(engine):
    with engine.begin() as conn:
        case_id = open_for(conn, at="2026-12-28 10:00")  # Monday; 2027 is not in the calendar
        case = cases.get(conn, case_id)
        (step,) = cases.steps(conn, case_id)
    assert case.due_date == "2027-01-04"  # 29, 30, 31 Dec, Fri 1 Jan (unknown: counted), Mon 4
    assert "no data for 2027" in step.note and "weekdays only" in step.note


def test_case_overdue_for_months_escalates_to_the_top_of_the_chain_and_stops(engine):
    with engine.begin() as conn:
        case_id = open_for(conn)
        (raised,) = escalate_overdue(conn, CFG, "zz-hall", ms("2026-12-30 12:00"))
        assert (raised.level, raised.to) == (2, "M002")
        assert escalate_overdue(conn, CFG, "zz-hall", ms("2027-06-30 12:00")) == []
        assert cases.get(conn, case_id).escalation == 2
