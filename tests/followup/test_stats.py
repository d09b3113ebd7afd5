"""The standard's statistics on a small known hall, compared with values computed by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest

from followup.seed import make_store, ms, offer
from gateway.followup import cases
from gateway.followup.cases import Actor
from gateway.followup.config import FollowupConfig
from gateway.followup.errors import StatsError
from gateway.followup.export import export
from gateway.followup.stats import Query, compute

CFG = FollowupConfig(workdays=5, manager="M001")
M = Actor("M001", "manager")
START, END = dt.date(2026, 3, 2), dt.date(2026, 3, 10)
AS_OF = ms("2026-03-20 12:00")


def bad_case(conn, at, clerk, level, **kw):
    rating_id = offer(conn, at, clerk=clerk, level=level, **kw)
    return cases.open_case(conn, CFG, cases.rating_facts(conn, rating_id))


def seed(engine):
    """1001 at window 1 and 1002 at window 2, 2–9 March 2026 (see the hand counts below)."""
    with engine.begin() as conn:
        for level in ("very_satisfied", "satisfied", "basic", None):
            offer(conn, "2026-03-02 09:30", clerk="1001", level=level)
        a = bad_case(conn, "2026-03-02 10:00", "1001", "dissatisfied")  # due 9 March
        cases.visit(conn, a, M, ms("2026-03-03 10:00"), "回访")
        cases.verify(conn, a, M, ms("2026-03-04 10:00"), "substantiated", "核实")
        cases.fix(conn, a, M, ms("2026-03-05 10:00"), "整改")  # on time
        b = bad_case(conn, "2026-03-03 11:00", "1001", "very_dissatisfied")
        cases.appeal(conn, b, Actor("1001", "clerk"), ms("2026-03-03 12:00"), "mistaken", "误按")
        cases.decide(conn, b, M, ms("2026-03-03 15:00"), True, "申诉成立")  # excluded
        offer(conn, "2026-03-03 14:00", clerk="1001", level="satisfied")
        c = bad_case(conn, "2026-03-09 09:00", "1001", "very_dissatisfied")  # due 16 March
        cases.visit(conn, c, M, ms("2026-03-10 10:00"), "回访")  # never resolved
        offer(conn, "2026-03-09 15:00", clerk="1001", level=None)
        offer(conn, "2026-03-02 09:00", clerk="1002", window="w2", level="satisfied")
        offer(conn, "2026-03-02 09:10", clerk="1002", window="w2", level=None)
        offer(conn, "2026-03-02 09:20", clerk="1002", window="w2", level=None)
        d = bad_case(conn, "2026-03-04 09:00", "1002", "dissatisfied", window="w2", matter="M-2")
        cases.visit(conn, d, M, ms("2026-03-05 10:00"), "回访")  # due 11 March
        cases.verify(conn, d, M, ms("2026-03-05 11:00"), "substantiated", "核实")
        cases.fix(conn, d, M, ms("2026-03-12 10:00"), "整改")  # late
        offer(
            conn, "2026-03-11 09:00", clerk="1002", window="w2", level="dissatisfied"
        )  # out of range


@pytest.fixture
def hall(engine):
    seed(engine)
    return engine


def stats(engine, **kw):
    query = Query("zz-hall", START, END, as_of_ms=kw.pop("as_of_ms", AS_OF), **kw)
    with engine.connect() as conn:
        return compute(conn, query)


def counts(row):
    names = (
        "offered",
        "rated",
        "unrated",
        "good",
        "bad",
        "excluded",
        "visited",
        "resolved",
        "on_time",
        "due",
    )
    return {n: getattr(row, n) for n in names}


def test_per_clerk_counts_and_rates_match_the_hand_computed_values(hall):
    one, two = stats(hall, by="clerk")
    assert (one.key, one.name, two.key, two.name) == ("1001", "张三", "1002", "李四")
    assert one.period == "2026-03-02至2026-03-10"
    assert counts(one) == dict(offered=8, rated=6, unrated=2, good=4, bad=2, excluded=1,
                               visited=2, resolved=1, on_time=1, due=2)  # fmt: skip
    assert one.rates == pytest.approx(dict(good_rate=4 / 6, bad_rate=2 / 6, unrated_rate=0.25,
        active_rate=0.75, fix_rate=0.5, visit_rate=1.0, on_time_rate=0.5))  # fmt: skip
    assert counts(two) == dict(offered=4, rated=2, unrated=2, good=1, bad=1, excluded=0,
                               visited=1, resolved=1, on_time=0, due=1)  # fmt: skip
    assert two.rates == dict(good_rate=0.5, bad_rate=0.5, unrated_rate=0.5, active_rate=0.5,
                             fix_rate=1.0, visit_rate=1.0, on_time_rate=0.0)  # fmt: skip


def test_upheld_appeal_is_left_out_of_every_rate(hall):
    (row,) = stats(hall)
    # Hall: 13 windows offered in range, one excluded. With it, 差评率 would be 4/9.
    assert (row.offered, row.rated, row.bad, row.excluded) == (12, 8, 3, 1)
    assert row.rates["bad_rate"] == pytest.approx(3 / 8)


def test_per_iso_week_splits_the_range(hall):
    w10, w11 = stats(hall, period="week")
    assert (w10.period, w11.period) == ("2026-W10", "2026-W11")
    assert counts(w10) == dict(offered=10, rated=7, unrated=3, good=5, bad=2, excluded=1,
                               visited=2, resolved=2, on_time=1, due=2)  # fmt: skip
    assert counts(w11) == dict(offered=2, rated=1, unrated=1, good=0, bad=1, excluded=0,
                               visited=1, resolved=0, on_time=0, due=1)  # fmt: skip
    assert w11.rates["good_rate"] == 0.0 and w11.rates["fix_rate"] == 0.0


def test_per_day_and_window_and_matter(hall):
    days = {r.period: r.offered for r in stats(hall, period="day")}
    assert days == {"2026-03-02": 8, "2026-03-03": 1, "2026-03-04": 1, "2026-03-09": 2}
    by_window = {(r.key, r.name): r.offered for r in stats(hall, by="window")}
    assert by_window == {("w1", "1号窗口"): 8, ("w2", "2号窗口"): 4}
    by_matter = {r.key: (r.offered, r.bad) for r in stats(hall, by="matter")}
    assert by_matter == {"M-410100-001": (11, 2), "M-2": (1, 1)}
    (month,) = stats(hall, period="month")
    assert month.period == "2026-03"


def test_case_not_yet_past_its_deadline_is_not_counted_late(hall):
    one = stats(hall, by="clerk", as_of_ms=ms("2026-03-12 12:00"))[0]
    assert (one.due, one.on_time, one.rates["on_time_rate"]) == (1, 1, 1.0)


def test_a_rate_with_nothing_to_divide_is_empty_not_zero(engine):
    with engine.begin() as conn:
        offer(conn, "2026-03-02 09:00", level=None)
    (row,) = stats(engine)
    assert row.rates["good_rate"] is None and row.rates["unrated_rate"] == 1.0
    assert stats(engine, by="clerk")[0].rates["fix_rate"] is None


@pytest.mark.parametrize("bad", [dict(by="team"), dict(period="year")])
def test_unknown_grouping_or_period_is_refused(bad):
    with pytest.raises(StatsError) as err:
        Query("zz-hall", START, END, **bad)
    assert isinstance(err.value, ValueError)


def test_range_ending_before_it_starts_is_refused():
    with pytest.raises(StatsError, match="before it starts"):
        Query("zz-hall", END, START)


def test_csv_export_has_chinese_headers_and_percentages(hall):
    data = export(stats(hall, by="clerk"), "clerk", "csv")
    assert data.startswith("\ufeff".encode())
    header, one, _two = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert header[:5] == ["统计周期", "工作人员编号", "工作人员名称", "发起评价数", "评价数"]
    row = dict(zip(header, one, strict=True))
    assert (row["工作人员名称"], row["好评率"], row["未评价率"], row["按时整改率"]) == (
        "张三",
        "66.7%",
        "25.0%",
        "50.0%",
    )
    assert (row["差评数"], row["申诉剔除数"], row["回访率"]) == ("2", "1", "100.0%")


def test_xlsx_export_opens_in_excel_with_rates_as_percentages(hall):
    book = openpyxl.load_workbook(io.BytesIO(export(stats(hall, by="window"), "window", "xlsx")))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert header[1:3] == ["窗口编号", "窗口名称"] and "差评整改率" in header
    values = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    cell = sheet.cell(row=2, column=header.index("主动评价率") + 1)
    assert (values["窗口名称"], values["发起评价数"], cell.value) == ("1号窗口", 8, 0.75)
    assert cell.number_format == "0.0%"


def test_unknown_export_format_is_refused(hall):
    with pytest.raises(ValueError, match="format"):
        export([], "hall", "pdf")


@pytest.mark.postgres
def test_same_statistics_on_postgresql(pg_url):
    engine = make_store(pg_url)
    try:
        seed(engine)
        one, two = stats(engine, by="clerk")
        assert (one.offered, one.bad, one.excluded, two.resolved) == (8, 2, 1, 1)
    finally:
        engine.dispose()
