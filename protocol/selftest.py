"""Protocol self-test: runs under CPython and under a real MicroPython interpreter.

`import protocol.selftest; protocol.selftest.run()` prints one line per check and "selftest ok N"
at the end; any failure raises.
"""

from protocol import codec, ids, levels, messages, ratelink, topics
from protocol.errors import ProtocolError, TopicError, VersionError


def _raises(exc_type, fn, *args):
    try:
        fn(*args)
    except exc_type:
        return
    raise AssertionError("expected %s from %r" % (exc_type.__name__, args))


def check_topics():
    assert topics.event("zz-1", "w-01", "rating") == "yp/1/zz-1/w-01/evt/rating"
    parsed = topics.parse("yp/1/zz-1/w-01/evt/rating")
    assert parsed.parts() == ("zz-1", "w-01", "evt", "rating")
    assert topics.parse("yp/1/zz-1/gateway/state").is_gateway
    for bad in (
        "yp/1/zz/w/evt/+",
        "yp/1/ZZ/w/ack",
        "yp/1/zz/w/evt/rating/x",
        "yp//zz/w/ack",
        "yp/1/zz/gateway/ack",
        "yp/1/zz/w",
        "xx/1/zz/w/ack",
    ):
        _raises(TopicError, topics.parse, bad)
    _raises(VersionError, topics.parse, "yp/2/zz/w/ack")


def check_roundtrip():
    msg = messages.make_event(
        "rating",
        "3-17",
        1764201600000,
        5000,
        rw="3-16",
        level="very_dissatisfied",
        reasons=["slow"],
    )
    raw = codec.encode_event("rating", msg)
    back = codec.decode(topics.event("zz", "w-01", "rating"), raw)
    assert back.body == msg and back.kind == "rating"
    ack = codec.decode(topics.ack("zz", "w-01"), codec.encode(messages.make_ack(["3-17"])))
    assert ack.body["ids"] == ["3-17"]


def check_rejects():
    topic = topics.event("zz", "w-01", "rating")
    for payload in (
        b"",
        b"[]",
        b"{",
        b"\xff\xfe",
        b'{"v":1}',
        b'{"v":2,"id":"1-1"}',
        b'{"v":1,"id":"1-1","ts":1,"up":1,"rw":"1-1","level":3}',
        b'{"v":1,"id":"01-1","ts":1,"up":1,"rw":"1-1","level":"satisfied"}',
        b'{"v":true,"id":"1-1","ts":1,"up":1,"rw":"1-1","level":"satisfied"}',
    ):
        _raises(ProtocolError, codec.decode, topic, payload)
    _raises(ProtocolError, codec.decode, topic, b" " * (codec.MAX_EVENT_BYTES + 1))


def check_ids():
    store = {"boot": 41}
    gen = ids.EventIds(lambda: store["boot"], lambda b: store.update(boot=b))
    assert gen.next() == "42-1" and gen.next() == "42-2" and store["boot"] == 42
    again = ids.EventIds(lambda: store["boot"], lambda b: store.update(boot=b))
    assert again.next() == "43-1"


def check_levels():
    assert len(levels.LEVELS) == 5 and levels.is_bad("dissatisfied")
    assert levels.label("basic") == "基本满意"


def check_ratelink():
    # The same token as CPython's hmac + base64.b32encode: the gateway checks what a device shows.
    token = ratelink.rate_token("8f14e45fceea167a5a36dedd4bea2543", "w-03", "12-5")
    assert token == "u2xqv3eg4q" and ratelink.is_token(token)


CHECKS = (check_topics, check_roundtrip, check_rejects, check_ids, check_levels, check_ratelink)


def run():
    for check in CHECKS:
        check()
        print("ok", check.__name__)
    print("selftest ok", len(CHECKS))
    return len(CHECKS)
