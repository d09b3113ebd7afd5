import pytest

from protocol import topics
from protocol.errors import ProtocolError, TopicError, VersionError


def test_builders_and_parser_agree():
    built = topics.event("zz-jinshui", "w-03", "rating")
    assert built == "yp/1/zz-jinshui/w-03/evt/rating"
    assert topics.parse(built).parts() == ("zz-jinshui", "w-03", "evt", "rating")
    assert topics.parse(topics.command("h", "d", "prompt")).parts() == ("h", "d", "cmd", "prompt")
    assert topics.parse(topics.ack("h", "d")).direction == "ack"
    assert topics.parse(topics.state("h", "d")).direction == "state"
    assert topics.parse(topics.gateway_state("h")).is_gateway


def test_subscription_filters():
    assert topics.hall_events("h-1") == "yp/1/h-1/+/evt/+"
    assert topics.device_commands("h-1", "w-1") == "yp/1/h-1/w-1/cmd/+"


@pytest.mark.parametrize(
    "topic",
    [
        "yp/1/zz/w/evt/#",
        "yp/1/zz/+/evt/rating",
        "yp/1/Zz/w/evt/rating",
        "yp/1/zz/w_1/evt/rating",
        "yp/1/zz/w/evt/rating/extra",
        "yp/1/zz/w/evt",
        "yp/1/zz/w/cmd/",
        "yp/1//w/ack",
        "yp/1/zz/gateway/evt/rating",
        "yp/1/zz/gateway/ack",
        "yp/1/zz/w/other",
        "yp/x/zz/w/ack",
        "ypx/1/zz/w/ack",
        "/yp/1/zz/w/ack",
        "yp/1/" + "a" * 33 + "/w/ack",
        "yp/1/zz/w/evt/Rating",
    ],
)
def test_parser_refuses_anything_outside_the_layout(topic):
    with pytest.raises(TopicError):
        topics.parse(topic)


def test_other_versions_are_version_errors():
    with pytest.raises(VersionError):
        topics.parse("yp/2/zz/w/evt/rating")
    assert issubclass(VersionError, ProtocolError) and issubclass(ProtocolError, ValueError)


@pytest.mark.parametrize("bad", ["", "A", "a/b", "a+b", "x" * 33, "gateway"])
def test_builders_refuse_bad_device_ids(bad):
    with pytest.raises(TopicError):
        topics.event("zz", bad, "rating")
