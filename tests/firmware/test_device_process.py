"""The firmware as its own process over a real Mosquitto: power loss (SIGKILL) between a rating
press and its ack loses nothing and duplicates nothing."""

from __future__ import annotations

from support.terminal import DeviceProcess, StandInGateway, wait_for, write_config

UID = "04A1B2C3"


def login(gw, dev):
    dev.wait(lambda s: s["online"], "device online")
    dev.tap(UID)
    return dev.wait(lambda s: s["view"]["clerk"] is not None, "clerk logged in")


def test_sigkill_between_rating_press_and_ack_delivers_the_rating_exactly_once(
    broker, hall, tmp_path
):
    cfg = write_config(tmp_path, broker, hall, "w-01")
    with StandInGateway(broker, hall, clerks={UID: ("张伟", "HN0123")}) as gw:
        dev = DeviceProcess(cfg, tmp_path).start()
        try:
            state = login(gw, dev)
            assert state["view"]["clerk"] == {"name": "张伟", "staff_no": "HN0123"}
            dev.press("complete")
            wait_for(lambda: gw.count("rw_open") == 1, what="rw_open stored")
            gw.acking = (
                False  # the gateway receives the rating but its ack never reaches the device
            )
            dev.press("rate1")
            wait_for(lambda: gw.count("rating") == 1, what="rating received")
            assert dev.state()["outbox"] >= 1  # unacked: still on the device's disk
            dev.kill()
            gw.acking = True
            dev.start()
            [rating] = gw.events("rating")
            wait_for(
                lambda: gw.deliveries(rating["id"]) >= 2, what="rating redelivered after restart"
            )
            state = dev.wait(lambda s: s["outbox"] == 0, "outbox empty")
        finally:
            dev.stop()
    assert gw.count("rating") == 1
    assert rating["level"] == "very_satisfied" and rating["rw"] == gw.events("rw_open")[0]["rw"]
    assert state["boot"] == 2  # a new boot: ids after the restart cannot collide with earlier ones
    assert gw.count("unrated") == 0
