"""The event receiver process (gateway/receiver.py) over a real Mosquitto: it hands the hall's
events to the gateway, a dead receiver is replaced and loses nothing, and a stopped gateway
leaves no receiver behind."""

from __future__ import annotations

import os
import signal

import pytest
from support.gateway import GatewayHarness
from support.terminal import wait_for

from gateway.store.tables import events


@pytest.fixture
def gw(broker, tmp_path, hall):
    with GatewayHarness(broker, tmp_path, hall) as running:
        running.add_device("t-01", "terminal")
        yield running


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child that ended but was not waited for yet still answers signal 0: look at its state.
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_events_arrive_through_a_process_of_their_own(gw):
    receiver = gw.gateway.receiver
    assert receiver is not None and receiver.pid not in (None, os.getpid())
    with gw.device("t-01") as dev:
        event_id = dev.send_acked("stray", count=1)
    assert [r.event_id for r in gw.rows(events, events.c.kind == "stray")] == [event_id]


def test_a_dead_receiver_is_replaced_and_nothing_sent_meanwhile_is_lost(gw):
    receiver = gw.gateway.receiver
    first = receiver.pid
    with gw.device("t-01") as dev:
        dev.sync()
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: not receiver.subscribed.is_set(), what="the receiver's death noticed")
        sent = [dev.send("stray", count=n) for n in range(1, 6)]  # while no receiver runs
        wait_for(receiver.subscribed.is_set, what="a new receiver subscribed")
        dev.wait_ack(*sent)
    assert receiver.pid != first and receiver.restarts == 1
    stored = [r.event_id for r in gw.rows(events, events.c.kind == "stray")]
    assert sorted(stored) == sorted(sent)


def test_a_stopped_gateway_leaves_no_receiver(broker, tmp_path, hall):
    harness = GatewayHarness(broker, tmp_path, hall).start()
    pid = harness.gateway.receiver.pid
    assert alive(pid)
    harness.stop()
    wait_for(lambda: not alive(pid), timeout=5, what="the receiver gone")


def test_a_gateway_started_before_its_broker_receives_once_the_broker_is_up(tmp_path, hall):
    from support.broker import Broker

    late = Broker()
    harness = GatewayHarness(late, tmp_path, hall)
    harness.gateway.start(broker_timeout=0.5)  # the broker is not there yet: both keep trying
    try:
        assert not harness.gateway.online()
        late.start()
        assert harness.gateway.wait_online(30)
        harness.add_device("t-01", "terminal")
        with harness.device("t-01") as dev:
            dev.send_acked("stray", count=1)
    finally:
        harness.stop()
        late.close()
