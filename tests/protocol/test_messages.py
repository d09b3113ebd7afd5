import pytest

from protocol import codec, ids, messages, topics
from protocol.clock import better_boot_start, boot_start_estimate, corrected_time, skew_ms
from protocol.errors import (
    FieldError,
    PayloadError,
    TooLargeError,
    UnknownKindError,
    VersionError,
)
from protocol.levels import LEVEL_LABELS, LEVELS

TS = 1795750000000


def rating(**over):
    fields = {"rw": "3-1", "level": "satisfied"}
    fields.update(over)
    return messages.make_event("rating", "3-2", TS, 1000, **fields)


def test_levels_are_five_names_with_chinese_labels():
    assert LEVELS == ("very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied")
    assert [LEVEL_LABELS[x] for x in LEVELS] == [
        "非常满意",
        "满意",
        "基本满意",
        "不满意",
        "非常不满意",
    ]


@pytest.mark.parametrize(
    "over",
    [
        {"level": 2},
        {"level": "happy"},
        {"level": None},
        {"rw": "x"},
        {"rw": "1-01"},
        {"reasons": ["slow"] * 5},
        {"reasons": ["rude"]},
        {"channel": "sms"},
    ],
)
def test_rating_fields_are_checked(over):
    with pytest.raises(FieldError):
        rating(**over)


def test_numbers_never_stand_for_levels():
    with pytest.raises(FieldError) as err:
        rating(level=5)
    assert err.value.field == "level"


def test_booleans_are_not_integers():
    with pytest.raises(FieldError):
        messages.make_event("stray", "1-1", TS, True, count=1)
    with pytest.raises(FieldError):
        messages.make_event("stray", "1-1", TS, 0, count=True)


def test_rw_open_id_must_name_itself():
    messages.make_event("rw_open", "4-9", TS, 5, rw="4-9", timeout_s=15, by="clerk")
    with pytest.raises(FieldError):
        messages.make_event("rw_open", "4-9", TS, 5, rw="4-8", timeout_s=15, by="clerk")


def test_unknown_fields_are_ignored_unknown_kinds_refused():
    raw = codec.encode(dict(rating(), added_in_v1_1="x"))
    assert codec.decode(topics.event("h", "d", "rating"), raw).body["added_in_v1_1"] == "x"
    with pytest.raises(UnknownKindError):
        codec.decode(topics.event("h", "d", "teleport"), raw)


def test_newer_major_version_is_refused_before_fields():
    with pytest.raises(VersionError):
        codec.decode(topics.event("h", "d", "rating"), b'{"v": 2}')


def test_size_limits():
    big = {"v": 1, "ts": TS, "level": "info", "text": "x" * 64, "pad": "y" * 70000}
    with pytest.raises(TooLargeError):
        codec.encode_command("message", big)
    with pytest.raises(TooLargeError):
        codec.decode(topics.event("h", "d", "stray"), b"{" + b" " * 5000 + b"}")


def test_text_that_is_not_unicode_is_refused():
    """A lone surrogate escape decodes in Python but no database's JSON type takes it."""
    topic = topics.event("h", "d", "rating")
    for lone in (rb"\ud800", rb"x\udfff"):
        raw = codec.encode(rating())[:-1] + b',"note":"' + lone + b'"}'
        with pytest.raises(PayloadError):
            codec.decode(topic, raw)
    pair = codec.encode(rating())[:-1] + rb',"note":"\ud83d\ude00"}'
    assert codec.decode(topic, pair).body["note"] == "\U0001f600"


def test_chinese_text_round_trips_as_utf8():
    msg = messages.make_command("message", TS, level="info", text="当前无人等候")
    raw = codec.encode_command("message", msg)
    assert "当前无人等候".encode() in raw
    assert codec.decode(topics.command("h", "d", "message"), raw).body["text"] == "当前无人等候"


def test_event_ids_survive_restarts_and_never_repeat():
    disk = {}
    seen = set()
    for _boot in range(3):
        gen = ids.EventIds(lambda: disk.get("boot"), lambda b: disk.update(boot=b))
        for _ in range(5):
            seen.add(gen.next())
    assert len(seen) == 15


def test_seq_overflow_takes_a_new_boot():
    disk = {}
    gen = ids.EventIds(lambda: disk.get("boot"), lambda b: disk.update(boot=b))
    gen.seq = ids.SEQ_MAX
    assert gen.next() == "2-1" and disk["boot"] == 2


def test_wrong_device_clock_is_corrected_from_uptime():
    # Device booted at gateway time 1_000_000 but its clock says 1970 + a bit.
    live = boot_start_estimate(recv_ms=1_000_050, up=40)  # arrived 10 ms late
    late = boot_start_estimate(recv_ms=1_090_000, up=5_000)  # came out of the outbox later
    start = better_boot_start(better_boot_start(None, late), live)
    assert start == 1_000_010
    assert corrected_time(ts=123, up=5_000, recv_ms=1_090_000, boot_start=start) == 1_005_010
    assert skew_ms(ts=123, up=5_000, boot_start=start) == 123 - 1_005_010


def test_clock_fallback_without_a_live_sample():
    assert corrected_time(ts=10**12, up=0, recv_ms=10**12 + 1000, boot_start=None) == 10**12
    assert corrected_time(ts=5, up=0, recv_ms=10**12, boot_start=None) == 10**12


def test_hello_can_be_built_with_its_own_kind_field():
    hello = messages.make_event(
        "hello", "1-1", TS, 0, kind="ratingbox", fw="0.1.0", boot=1, paired="w-03"
    )
    assert hello["kind"] == "ratingbox"
