"""A rating box paired with a window terminal, over the real broker and gateway: the terminal's
rating window opens the box's, the box's first press is the rating, and the one-rating rule spans
both devices."""

from __future__ import annotations

import sqlalchemy as sa
from support.gateway import GatewayHarness

from gateway.store.tables import ratings


def test_terminal_window_opens_the_box_and_its_press_is_the_rating(
    broker, tmp_path, hall, box_runner
):
    with GatewayHarness(broker, tmp_path, hall, subsystems=["pairing"]) as gw:
        gw.add_window("w3", 3)
        gw.add_device("w-03", "terminal", window="w3")
        gw.add_device("r-03", "ratingbox", paired="w-03")
        box = box_runner(
            tmp_path / "pico",
            broker.port,
            hall=hall,
            device="r-03",
            paired="w-03",
            username="r-03",
            password="x",
            fw="ratingbox-0.1.0",
        )
        try:
            box.wait(lambda: box.outbox.depth() == 0)  # hello and heartbeat acked by the gateway
            with gw.device("w-03") as terminal:
                terminal.hello()
                rw = terminal.open_rating(timeout_s=30, ticket="A012", service="realestate")
                box.wait(lambda: box.box.window is not None)
                assert box.leds.states == [True] * 5
                box.keys.press(1)  # 满意
                box.wait(lambda: box.box.window is None and box.outbox.depth() == 0)
                terminal.rate(rw, "very_dissatisfied")  # the same service, rated a second time
                with gw.engine.connect() as conn:
                    rows = conn.execute(sa.select(ratings.c.device, ratings.c.level)).all()
                assert [tuple(r) for r in rows] == [("r-03", "satisfied")]
                with gw.engine.connect() as conn:
                    fw = conn.execute(sa.text("select fw from devices where id='r-03'")).scalar()
                assert fw == "ratingbox-0.1.0"
        finally:
            box.stop()


def test_terminal_without_a_box_gets_no_prompt_forwarded_elsewhere(broker, tmp_path, hall):
    with GatewayHarness(broker, tmp_path, hall, subsystems=["pairing"]) as gw:
        gw.add_device("w-01", "terminal")
        gw.add_device("w-02", "terminal")
        gw.add_device("r-02", "ratingbox", paired="w-02")
        with gw.device("w-01") as one, gw.device("r-02") as other_box:
            one.hello()
            one.open_rating(timeout_s=30)
            other_box.sync()
            assert [k for k, _ in other_box.commands if k == "prompt"] == []
