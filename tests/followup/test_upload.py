"""Provincial upload: mapping in the province's direction, the durable outbox, an hour-long
outage on a simulated clock with nothing lost or duplicated, refusals, reconciliation."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa
from support.province_standin import ProvinceStandin

from followup.seed import ms, offer
from gateway.upload.config import NATIONAL_LEVELS, UploadConfig, UploadConfigError
from gateway.upload.outbox import backfill, enqueue, idem_key, reconcile
from gateway.upload.sender import Uploader, payload, retry_failed
from gateway.upload.tables import upload_outbox

HALL = "zz-hall"
T0 = ms("2026-03-02 18:00")
MIN = 60_000


def rate_all(engine, levels, day="2026-03-02"):
    with engine.begin() as conn:
        for i, level in enumerate(levels):
            rating_id = offer(
                conn, f"{day} 09:{i % 60:02d}", level=level, case_no=f"4101-{day}-{i}"
            )
            enqueue(conn, rating_id, T0)


def outbox(engine):
    with engine.connect() as conn:
        return list(conn.execute(sa.select(upload_outbox).order_by(upload_outbox.c.id)))


def config(province, **kw):
    return UploadConfig(url=province.url, token="t0ken", ca_file=province.ca_file, **kw)


@pytest.fixture
def province(tmp_path):
    with ProvinceStandin(tls_dir=tmp_path, token="t0ken") as running:
        yield running


def test_levels_go_out_as_the_provinces_numbers_in_its_direction(engine, province):
    rate_all(engine, ["very_satisfied", "basic", "very_dissatisfied"])
    uploader = Uploader(engine, HALL, config(province))
    assert uploader.run_once(T0) == {"acked": 3, "retry": 0, "failed": 0}
    bodies = [r.body for r in province.requests]
    assert [b["evaluateLevel"] for b in bodies] == [5, 3, 1]  # 非常满意=5 … 非常不满意=1
    first = bodies[0]
    assert first["evaluateChannel"] == "政务大厅其他终端" and first["serviceName"] == "不动产登记"
    assert (first["matterCode"], first["projectNo"]) == ("M-410100-001", "4101-2026-03-02-0")
    assert first["evaluateTime"] == "2026-03-02 09:00:03" and first["staffNo"] == "1001"
    assert province.requests[0].headers["idempotency-key"] == first["requestId"]
    assert province.requests[0].headers["authorization"] == "Bearer t0ken"


def test_a_province_numbering_the_other_way_is_configuration_not_code(engine, province):
    reversed_levels = {name: 6 - code for name, code in NATIONAL_LEVELS.items()}
    rate_all(engine, ["very_satisfied", "very_dissatisfied"])
    cfg = config(province, levels=reversed_levels, channels={"keys": 4, "phone": 2},
                 fields={**UploadConfig(url="https://x").fields, "staff_no": "", "level": "pj"})  # fmt: skip
    Uploader(engine, HALL, cfg).run_once(T0)
    one, two = (r.body for r in province.requests)
    assert (one["pj"], two["pj"], one["evaluateChannel"]) == (1, 5, 4)
    assert "staffNo" not in one and "evaluateLevel" not in one


def test_reasons_go_out_as_their_chinese_labels(engine):
    with engine.begin() as conn:
        rating_id = offer(conn, "2026-03-02 09:00", level="dissatisfied")
        conn.execute(sa.text("update ratings set reasons = :r where id = :i"),
                     {"r": '["slow", "attitude"]', "i": rating_id})  # fmt: skip
        enqueue(conn, rating_id, T0)
    (row,) = outbox(engine)
    assert (
        payload(UploadConfig(url="https://x"), row.record)["evaluateReasons"]
        == "办理时间长；服务态度差"
    )


def test_province_down_for_an_hour_loses_nothing_and_counts_nothing_twice(engine, province):
    levels = ["very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied"] * 4
    rate_all(engine, levels)
    uploader = Uploader(engine, HALL, config(province), rng=random.Random(9))
    now = T0
    province.mode = "down"  # 503 for half an hour …
    for minute in range(61):
        if minute == 30:
            province.mode = "reset"  # … then connections dropped without an answer
        assert uploader.run_once(now)["acked"] == 0
        now += MIN
    during_outage = len(province.requests)
    assert province.accepted == {} and {r.state for r in outbox(engine)} == {"pending"}
    assert during_outage <= 12  # backoff: it knocks, it does not hammer (61 passes)

    province.mode = "lose_answer"  # back, but the first answers are lost after storing
    while not province.accepted:
        uploader.run_once(now)
        now += MIN
    province.mode = "up"
    for _ in range(240):
        uploader.run_once(now)
        now += MIN

    rows = outbox(engine)
    assert {r.state for r in rows} == {"acked"} and len(rows) == 20
    assert set(province.accepted) == {r.idem_key for r in rows}  # nothing lost …
    # In this run the stand-in stores a record exactly when it answers 200 or (lost answer) 500.
    keys_stored = [r.body["requestId"] for r in province.requests if r.status in (200, 500)]
    assert len(keys_stored) == len(set(keys_stored)) == 20  # … each stored by the province once
    assert any(r.status == 409 for r in province.requests)  # the lost answer was retried, safely
    report = reconcile(engine.connect(), HALL, "2026-03-02")
    assert (report.stored, report.acked, report.complete) == (20, 20, True)


def test_idempotency_key_is_stable_per_rating_and_distinct_between_ratings():
    assert idem_key("h", "t-01", "1-5") == idem_key("h", "t-01", "1-5")
    assert (
        len(
            {
                idem_key("h", "t-01", "1-5"),
                idem_key("h", "t-02", "1-5"),
                idem_key("h", "t-01", "1-6"),
            }
        )
        == 3
    )


def test_refused_record_fails_is_reported_and_goes_again_once_fixed(engine, province):
    rate_all(engine, ["satisfied", "dissatisfied"])
    wrong = Uploader(
        engine, HALL, UploadConfig(url=province.url, token="wrong", ca_file=province.ca_file)
    )
    assert wrong.run_once(T0) == {"acked": 0, "retry": 0, "failed": 2}
    with engine.connect() as conn:
        report = reconcile(conn, HALL, "2026-03-02")
    assert (report.failed, report.acked, report.complete) == (2, 0, False)
    assert list(report.errors.values()) == [2] and "HTTP 401" in next(iter(report.errors))
    with engine.begin() as conn:
        assert retry_failed(conn, HALL, T0 + MIN) == 2
    assert Uploader(engine, HALL, config(province)).run_once(T0 + MIN)["acked"] == 2


def test_transient_errors_retry_with_exponential_backoff(engine, province):
    rate_all(engine, ["satisfied"])
    uploader = Uploader(engine, HALL, config(province, backoff_s=30, backoff_max_s=120),
                        rng=random.Random(1))  # fmt: skip
    province.fail_next(4, 500)
    waits, now = [], T0
    for _ in range(4):
        assert uploader.run_once(now)["retry"] == 1
        (row,) = outbox(engine)
        waits.append(row.next_ms - now)
        now = row.next_ms
        assert uploader.run_once(now - 1) == {"acked": 0, "retry": 0, "failed": 0}  # not before
    assert uploader.run_once(now)["acked"] == 1
    for wait, base in zip(waits, (30, 60, 120, 120), strict=True):  # doubling, capped
        assert 0.8 * base * 1000 <= wait <= 1.2 * base * 1000


def test_reconciliation_counts_sent_pending_and_missing(engine, province):
    rate_all(engine, ["satisfied"] * 3)
    with engine.begin() as conn:
        offer(conn, "2026-03-02 11:00", level="basic")  # stored before upload was configured
    uploader = Uploader(engine, HALL, config(province))
    province.fail_next(1, 503)
    uploader.run_once(T0)  # one tried and not acked; the pass stops there
    with engine.connect() as conn:
        report = reconcile(conn, HALL, "2026-03-02")
    assert (report.stored, report.acked, report.sent, report.pending, report.missing) == (
        4,
        0,
        1,
        2,
        1,
    )
    with engine.begin() as conn:
        assert backfill(conn, HALL, "2026-03-02", "2026-03-02", T0) == 1
        assert backfill(conn, HALL, "2026-03-02", "2026-03-02", T0) == 0
    uploader.run_once(T0 + 60 * MIN)
    with engine.connect() as conn:
        assert reconcile(conn, HALL, "2026-03-02").complete


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({}, "needs url"),
        ({"url": "ftp://x"}, "https"),
        ({"url": "https://x", "levels": {"satisfied": 4}}, "exactly"),
        ({"url": "https://x", "levels": dict.fromkeys(NATIONAL_LEVELS, 1)}, "same code"),
        ({"url": "https://x", "fields": {"colour": "c"}}, "unknown field"),
        ({"url": "https://x", "fields": {"idem_key": ""}}, "idem_key"),
        ({"url": "https://x", "username": "u"}, "together"),
        ({"url": "https://x", "tokn": "t"}, "unknown setting"),
    ],
)
def test_unusable_upload_settings_are_refused_with_the_reason(table, message):
    with pytest.raises(UploadConfigError, match=message) as err:
        UploadConfig.from_table(table)
    assert isinstance(err.value, ValueError)


@pytest.mark.postgres
def test_outbox_on_postgresql_survives_a_lost_answer(pg_engine, province):
    rate_all(pg_engine, ["very_satisfied", "very_dissatisfied"])
    uploader = Uploader(pg_engine, HALL, config(province))
    province.mode = "lose_answer"
    assert uploader.run_once(T0)["retry"] == 1
    province.mode = "up"
    uploader.run_once(T0 + 60 * MIN)
    assert {r.state for r in outbox(pg_engine)} == {"acked"} and len(province.accepted) == 2
    with pg_engine.connect() as conn:
        assert reconcile(conn, HALL, "2026-03-02").complete


def test_the_gateway_logs_yesterdays_reconciliation_once_a_day(engine, province, caplog):
    from gateway.alerts.feed import AlertFeed
    from gateway.followup.service import Followup
    from gateway.followup.settings import Settings

    rate_all(engine, ["satisfied", "basic"])
    followup = Followup(engine, HALL, Settings(upload=config(province)), AlertFeed())
    caplog.set_level("INFO", logger="yuping.followup")
    report = followup.reconcile_daily(ms("2026-03-03 01:00"))
    assert (report.day, report.stored, report.pending, report.complete) == (
        "2026-03-02",
        2,
        2,
        False,
    )
    assert followup.reconcile_daily(ms("2026-03-03 23:00")) is None  # once per day
    (record,) = caplog.records
    assert record.levelname == "WARNING" and '"missing": 0' in record.getMessage()
