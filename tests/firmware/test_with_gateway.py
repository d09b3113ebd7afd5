"""The window terminal against the real gateway (gateway.app over the real broker): the badge
list it pushes, the work badge it answers with, ratings stored once, offline login and catch-up."""

from __future__ import annotations

from support.gateway import GatewayHarness
from support.terminal import UID, Counter, wait_for, write_config

from firmware.terminal import view as v
from gateway.store.tables import ratings, shifts


def rows(gw, table):
    return gw.rows(table, table.c.hall == gw.hall)


def test_login_and_rating_through_the_real_gateway(broker, hall, tmp_path):
    with GatewayHarness(broker, tmp_path, hall) as gw:
        gw.add_window("w3", 3)
        gw.add_device("w-01", "terminal", window="w3")
        gw.add_staff("张三", "1001", badge_uid=UID)
        with Counter(write_config(tmp_path, broker, hall, "w-01")) as counter:
            counter.login()
            assert counter.view.clerk == v.Clerk("张三", "1001")
            assert counter.view.window_label == "3号窗口"
            counter.rate("rate4")
            counter.wait(lambda c: c.view.mode == v.REASONS, "reasons offered")
            counter.press("rate1")  # 服务态度差
            wait_for(lambda: len(rows(gw, ratings)) == 1, what="rating stored")
            counter.wait(lambda c: c.terminal.outbox.depth() == 0, "outbox acked")
        [rating] = rows(gw, ratings)
        assert (rating.level, rating.reasons, rating.bad) == ("dissatisfied", ["attitude"], True)
        assert gw.rejects() == []


def test_gateway_down_login_from_pushed_list_and_everything_delivered_later(broker, hall, tmp_path):
    gw = GatewayHarness(broker, tmp_path, hall)
    gw.start()
    gw.add_window("w3", 3)
    gw.add_device("w-01", "terminal", window="w3")
    gw.add_staff("张三", "1001", badge_uid=UID)
    with Counter(write_config(tmp_path, broker, hall, "w-01")) as counter:
        counter.wait(lambda c: c.terminal.machine.pushed.get("badges"), "badge list pushed")
        gw.stop()
        counter.wait(lambda c: c.view.offline, "offline shown")
        counter.tap()
        counter.wait(lambda c: c.view.clerk == v.Clerk("张三", "1001"), "offline login")
        counter.rate("rate1")
        counter.wait(lambda c: c.view.mode == v.SERVING, "back to serving")
        assert counter.terminal.outbox.count("rating") == 1
        gw = GatewayHarness(broker, tmp_path, hall)
        gw.start()
        counter.wait(lambda c: not c.view.offline, "online again")
        wait_for(lambda: len(rows(gw, ratings)) == 1, what="rating stored after recovery")
        counter.wait(lambda c: c.terminal.outbox.depth() == 0, "outbox emptied")
    [shift] = rows(gw, shifts)
    assert shift.offline is True
    assert rows(gw, ratings)[0].level == "very_satisfied"
    gw.stop()
