"""Store rules on SQLite and on PostgreSQL: staff import, badge hashes, attendance, stats, ingest."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from support.gateway import GatewayHarness

import gateway.store.tables  # noqa: F401
from gateway import attendance, staff
from gateway.config import Attendance
from gateway.registry import add_device, add_hall
from gateway.stats import stats
from gateway.store import make_engine, migrate
from gateway.store.tables import events, pauses, rating_windows, ratings, shifts
from gateway.store.tables import staff as staff_table
from gateway.timeutil import HallClock
from protocol.badges import badge_hash

HALL = "h1"
KEY = "11" * 32
CSV = "name,staff_no,role,badge_uid,team\n张三,1001,clerk,04A1B2C3,一组\n李四,1002,manager,,\n"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    migrate(engine)
    with engine.begin() as conn:
        add_hall(conn, HALL, "测试大厅", badge_key=KEY)
    yield engine
    engine.dispose()


def test_import_stores_only_keyed_badge_hashes(engine):
    with engine.begin() as conn:
        assert staff.import_csv(conn, HALL, CSV) == 2
        rows = {r.staff_no: r for r in conn.execute(sa.select(staff_table))}
    assert (
        rows["1001"].badge_hash == badge_hash(KEY, "04a1b2c3") and rows["1002"].badge_hash is None
    )
    assert rows["1001"].team == "一组" and rows["1002"].role == "manager"
    assert "04A1B2C3" not in repr(rows).upper().replace(rows["1001"].badge_hash.upper(), "")


BAD_CSVS = [
    ("name,staff_no,role,team\n", "line 1: missing column(s) badge_uid"),
    (CSV + "王五,1003,boss,,\n", "line 4: role must be one of"),
    (CSV + "王五,1001,clerk,,\n", "line 4: staff number '1001' repeats line 2"),
    (CSV + "王五,1003,clerk,04a1b2c3,\n", "line 4: badge UID 04A1B2C3 repeats line 2"),
    (CSV + "王五,1003,clerk,XYZ,\n", "line 4: badge_uid"),
    (CSV + ",1003,clerk,,\n", "line 4: name"),
    (CSV + "王五,1003,clerk\n", "line 4: expected 5 columns"),
]


@pytest.mark.parametrize(("text", "message"), BAD_CSVS)
def test_bad_csv_names_the_line_and_imports_nothing(engine, text, message):
    pattern = re.escape(message)
    with pytest.raises(staff.StaffError, match=pattern), engine.begin() as conn:
        staff.import_csv(conn, HALL, text)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(staff_table)).scalar() == 0


def test_import_refuses_staff_already_registered(engine):
    with engine.begin() as conn:
        staff.import_csv(conn, HALL, CSV)
    refused = "line 2: staff number '1001' is already registered"
    with pytest.raises(staff.StaffError, match=refused), engine.begin() as conn:
        staff.import_csv(conn, HALL, CSV.replace("1002", "1009"))


def _ms(clock, day, hhmm):
    h, m = hhmm.split(":")
    return clock.at(day, int(h) * 60 + int(m))


def test_attendance_flags_late_early_long_pause_away_and_absent(engine):
    clock, day = HallClock("Asia/Shanghai"), "2026-11-23"  # a Monday
    with engine.begin() as conn:
        staff.import_csv(conn, HALL, CSV.replace("李四,1002,manager", "李四,1002,clerk"))
        zhang = conn.execute(
            sa.select(staff_table.c.id).where(staff_table.c.staff_no == "1001")
        ).scalar()
        attendance.set_schedule(conn, zhang, {0: ("08:30", "17:30")})
        add_device(conn, HALL, "t-01", "terminal")
        spans = [("08:50", "12:00"), ("13:00", "17:00")]  # late, an hour away at noon, early leave
        ids = []
        for start, end in spans:
            result = conn.execute(
                shifts.insert().values(
                    hall=HALL,
                    staff_id=zhang,
                    device="t-01",
                    day=day,
                    started_ms=_ms(clock, day, start),
                    ended_ms=_ms(clock, day, end),
                    end_reason="logout",
                )
            )
            ids.append(result.inserted_primary_key[0])
        conn.execute(
            pauses.insert().values(
                shift_id=ids[1],
                staff_id=zhang,
                reason="meeting",
                started_ms=_ms(clock, day, "14:00"),
                ended_ms=_ms(clock, day, "14:45"),
            )
        )
        report = attendance.report(conn, HALL, day, Attendance(), clock, _ms(clock, day, "23:00"))
    by_no = {e["staff_no"]: e for e in report}
    assert by_no["1001"]["flags"] == ["late", "early_leave", "long_pause", "away"]
    assert by_no["1001"]["away_min"] == 60 and by_no["1001"]["pause_min"] == {"meeting": 45}
    assert by_no["1001"]["worked_min"] == 190 + 240
    assert by_no["1002"]["flags"] == ["absent"]  # default schedule Monday to Friday


def test_attendance_keeps_punctual_day_clean(engine):
    clock, day = HallClock("Asia/Shanghai"), "2026-11-24"
    with engine.begin() as conn:
        staff.import_csv(conn, HALL, CSV)
        zhang = conn.execute(
            sa.select(staff_table.c.id).where(staff_table.c.staff_no == "1001")
        ).scalar()
        conn.execute(
            shifts.insert().values(
                hall=HALL,
                staff_id=zhang,
                device="t-01",
                day=day,
                started_ms=_ms(clock, day, "08:58"),
                ended_ms=_ms(clock, day, "17:02"),
            )
        )
        conn.execute(
            pauses.insert().values(
                shift_id=1
                if conn.dialect.name == "sqlite"
                else sa.select(sa.func.max(shifts.c.id)).scalar_subquery(),
                staff_id=zhang,
                reason="meal",
                started_ms=_ms(clock, day, "12:00"),
                ended_ms=_ms(clock, day, "12:50"),
            )
        )
        (entry,) = attendance.report(conn, HALL, day, Attendance(), clock, _ms(clock, day, "23:00"))
    assert entry["flags"] == [] and entry["pause_min"] == {"meal": 50}


def test_excluded_rating_leaves_the_statistics_but_stays_stored(engine):
    day = dt.date.today().isoformat()
    with engine.begin() as conn:
        for n, (level, excluded) in enumerate([("satisfied", False), ("very_dissatisfied", True)]):
            rw = conn.execute(
                rating_windows.insert().values(
                    hall=HALL,
                    device="t-01",
                    rw=f"1-{n}",
                    window="w3",
                    day=day,
                    opened_by="clerk",
                    timeout_s=30,
                    service_key=f"k{n}",
                    opened_ms=1,
                    outcome="rated",
                    closed_ms=2,
                )
            ).inserted_primary_key[0]
            conn.execute(
                ratings.insert().values(
                    hall=HALL,
                    rating_window_id=rw,
                    service_key=f"k{n}",
                    device="t-01",
                    event_id=f"1-{n}",
                    window="w3",
                    day=day,
                    level=level,
                    reasons=[],
                    channel="keys",
                    bad=level == "very_dissatisfied",
                    excluded=excluded,
                    at_ms=2,
                )
            )
        (row,) = stats(conn, HALL, "window", day, day)
        stored = conn.execute(sa.select(sa.func.count()).select_from(ratings)).scalar()
    assert (row["rated"], row["bad"], row["good_rate"], stored) == (1, 0, 1.0, 2)


def test_event_dedupe_key_holds_in_the_store(engine):
    from gateway.store.sql import insert_new

    values = dict(
        hall=HALL,
        device="t-01",
        event_id="1-1",
        kind="stray",
        body={"count": 1},
        ts=1,
        up=1,
        at_ms=1,
        received_ms=1,
    )
    with engine.begin() as conn:
        first = insert_new(conn, events, ["hall", "device", "event_id"], **values)
        second = insert_new(conn, events, ["hall", "device", "event_id"], **values)
    assert (first, second) == (True, False)


def test_new_rows_inserts_each_key_once_and_names_what_it_inserted(engine, monkeypatch):
    """The ingest's batch insert: JSON text stored as sent, keys taken before or earlier in the
    same call skipped, RETURNING naming only the new rows, across several statements."""
    from gateway.ingest import EVENT_COLUMNS, INSERT_EVENTS

    monkeypatch.setattr(INSERT_EVENTS, "CHUNK", 2)  # five rows: three statements

    def row(event_id: str, body: str) -> tuple:
        return (HALL, "t-01", event_id, "stray", body, 1, 2, 3, 4)

    with engine.begin() as conn:
        first = INSERT_EVENTS.insert(conn, [row("1-1", '{"count": 1, "名": "张三"}')])
        again = INSERT_EVENTS.insert(
            conn,
            [row("1-1", "{}"), row("1-2", '{"count":2}'), row("1-2", "{}"), row("1-3", "[]")],
        )
    assert first == [(HALL, "t-01", "1-1")]
    assert sorted(again) == [(HALL, "t-01", "1-2"), (HALL, "t-01", "1-3")]
    with engine.connect() as conn:
        stored = conn.execute(sa.select(events).order_by(events.c.event_id)).all()
    assert [r.body for r in stored] == [{"count": 1, "名": "张三"}, {"count": 2}, []]
    assert [r.kind for r in stored] == ["stray"] * 3
    assert all(c in events.c for c in EVENT_COLUMNS)


def test_prepared_parameters_are_what_sqlalchemy_would_send(engine):
    """Every hot statement: the parameters laid out once match construct_params() + the type
    conversions, on this store's dialect; a missing value is named."""
    import gateway.boots
    import gateway.ratings  # noqa: F401 - its statements join Prepared.ALL

    with engine.begin() as conn:  # the upserts make their Prepared for a store on first use
        gateway.boots.SAVE_START.run(
            conn, {"hall": HALL, "device": "t-9", "boot": 1, "start_ms": 5}
        )
        gateway.boots.SAVE_START.run(
            conn, {"hall": HALL, "device": "t-9", "boot": 1, "start_ms": 3}
        )
        (start,) = conn.execute(sa.text("select start_ms from device_boots")).one()
    assert start == 3
    from gateway.store.prepared import Prepared, _Compiled

    samples = {sa.Integer: 7, sa.String: "x", sa.JSON: ["甲"], sa.Boolean: True}

    def sample(bind: sa.BindParameter) -> object:
        return next((v for t, v in samples.items() if isinstance(bind.type, t)), "x")

    def plain(params: object) -> object:
        values = params.values() if isinstance(params, dict) else params
        return [getattr(v, "obj", v) for v in values]  # psycopg's Json wraps a JSON value

    assert len(Prepared.ALL) >= 5
    for prepared in (p for p in Prepared.ALL if p.dialect in (None, engine.dialect.name)):
        compiled = _Compiled(prepared.statement, engine.dialect, prepared.column_keys)
        binds = compiled.compiled.binds
        values = {key: sample(binds[key]) for _pos, key, _conv in compiled.slots}
        assert plain(compiled.params(values)) == plain(compiled.reference_params(values))
        if compiled.slots:
            with pytest.raises(sa.exc.ArgumentError, match=compiled.slots[0][1]):
                compiled.params({})


def test_ingest_over_mqtt_on_this_store(broker, tmp_path, hall, db_url):
    with GatewayHarness(broker, tmp_path, hall, db_url=db_url) as gw:
        gw.add_device("t-01", "terminal")
        gw.add_staff("张三", "1001", badge_uid="04A1B2C3")
        with gw.device("t-01") as dev:
            dev.send_acked("badge", uid="04A1B2C3", action="login")
            rw = dev.open_rating(case_no="C-1")
            body = dev.event("rating", rw=rw, level="dissatisfied")
            from protocol import codec, topics

            for _ in range(3):
                dev.publish_raw(
                    topics.event(hall, "t-01", "rating"), codec.encode_event("rating", body)
                )
            dev.wait_ack(body["id"])
            dev.sync()
        (rating,) = gw.rows(ratings)
        assert rating.bad and rating.staff_id is not None
        assert len(gw.rows(events, events.c.event_id == body["id"])) == 1


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin"])
def test_hall_day_is_the_local_date_across_midnights_and_clock_changes(zone):
    """HallClock.day() remembers the last day's bounds; every answer must still be the date."""
    clock = HallClock(zone)
    start = clock.at("2026-03-27", 23 * 60)  # Berlin's clocks go forward on the 29th
    for step in range(0, 4 * 24 * 60, 7):  # every 7 minutes over four days, and back again
        for ms in (start + step * 60_000, start - step * 60_000):
            expected = dt.datetime.fromtimestamp(ms / 1000, tz=clock.zone).date().isoformat()
            assert clock.day(ms) == expected
