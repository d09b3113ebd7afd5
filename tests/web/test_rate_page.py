"""The phone rating page in a real browser at 390 px: large level buttons, reasons after a bad
level, every control labelled, readable contrast, no sideways scrolling (screenshots kept)."""

from __future__ import annotations

from playwright.sync_api import expect
from support.web import contrast_failures, shoot, unlabelled

from gateway.registry import hall_row
from gateway.store.tables import ratings
from protocol.ratelink import rate_token


def phone_link(web, device, rw):
    with web.gw.engine.connect() as conn:
        return web.url("/r/" + rate_token(hall_row(conn, web.gw.hall).badge_key, device, rw))


def test_a_citizen_rates_dissatisfied_with_a_reason_on_a_phone(web, browser):
    dev = web.device("t-05")
    rw = dev.open_rating()
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(phone_link(web, "t-05", rw))
        expect(page.get_by_role("heading", name="请对我的服务进行评价")).to_be_visible()
        expect(page.get_by_role("button")).to_have_count(5)
        assert page.get_by_role("button", name="非常满意").bounding_box()["height"] >= 60
        assert unlabelled(page) == [] and contrast_failures(page) == []
        shoot(page, "rate")
        page.get_by_role("button", name="不满意", exact=True).click()
        expect(page.get_by_role("heading", name="您选择了：不满意")).to_be_visible()
        page.get_by_label("办理时间长").check()
        assert unlabelled(page) == [] and contrast_failures(page) == []
        shoot(page, "rate-reasons")
        page.get_by_role("button", name="提交评价").click()
        expect(page.get_by_role("heading", name="感谢您的评价")).to_be_visible()
    finally:
        context.close()
    [rating] = web.gw.rows(ratings, ratings.c.hall == web.gw.hall, ratings.c.device == "t-05")
    assert (rating.level, rating.reasons, rating.channel) == ("dissatisfied", ["slow"], "phone")
    assert dev.command("rw_close")["rw"] == rw
