"""The manager's dashboard in a real browser against a real gateway: login, live updates."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect
from support.web import clerk_login, contrast_failures, login, shoot, unlabelled


def test_login_page_refuses_a_wrong_password_and_guards_the_dashboard(web, page):
    page.goto(web.url("/dashboard"))
    assert "/login?next=/dashboard" in page.url
    page.get_by_label("用户名").fill("boss")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误")
    assert "/login" in page.url
    shoot(page, "login")
    assert unlabelled(page) == []
    assert contrast_failures(page) == []


def test_a_clerk_is_not_shown_the_dashboard(web, page):
    login(page, web, "zhang", "/console")
    page.goto(web.url("/dashboard"))
    expect(page.get_by_role("heading", name="无权访问")).to_be_visible()
    expect(page.get_by_text("需要管理员账号")).to_be_visible()
    clerk = web.api("zhang")
    assert clerk.get("/web/events").status_code == 403  # the manager's stream stays closed
    assert clerk.get("/web/api/dashboard").status_code == 403
    assert httpx.get(web.url("/web/fragments/dashboard")).status_code == 401


def test_a_rating_arrives_live_without_reloading(web, page):
    login(page, web, "boss")
    expect(page.locator("#live-state")).to_have_text("实时连接正常")
    page.evaluate("window.notReloaded = true")
    expect(page.locator("#good-rate")).to_have_text("—")
    with web.device("t-03") as dev:
        clerk_login(dev)
        expect(page.locator("tr[data-window='3']")).to_contain_text("服务中")
        expect(page.locator("tr[data-window='3']")).to_contain_text("张伟")
        expect(page.locator("tr[data-device='t-03']")).to_contain_text("在线")
        rw = dev.open_rating(ticket="A001", service="realestate", service_name="不动产登记")
        dev.rate(rw, "very_satisfied")
        expect(page.locator("#feed")).to_contain_text("3号窗口 张伟 收到评价：非常满意")
        expect(page.locator("#good-rate")).to_have_text("100.0%")
        rw = dev.open_rating(ticket="A002", service="realestate", service_name="不动产登记")
        dev.rate(rw, "very_dissatisfied", reasons=["slow"])
        expect(page.locator("#feed .bad").first).to_contain_text("收到评价：非常不满意")
        expect(page.locator("#bad-count")).to_have_text("1")
        expect(page.locator("#good-rate")).to_have_text("50.0%")
        bad_row = page.locator(".bad-list tbody tr").first
        expect(bad_row).to_contain_text("非常不满意")
        expect(bad_row).to_contain_text("办理时间长")
        expect(bad_row).to_contain_text("待回访")  # the follow-up case opened with the 差评
        expect(page.locator("#feed")).to_contain_text("告警：3号窗口 张伟 收到差评")
        dev.send_acked("clerk", action="pause", reason="meal")
        expect(page.locator("tr[data-window='3']")).to_contain_text("暂停服务（就餐）")
    assert page.evaluate("window.notReloaded") is True
    expect(page.locator(".charts svg[role=img]").first).to_have_attribute(
        "aria-label",
        "按小时评价数："
        + page.evaluate(
            "document.querySelector('.charts svg').getAttribute('aria-label').slice(7)"
        ),
    )
    assert "好评1 差评1" in page.locator(".charts svg").first.get_attribute("aria-label")
    shoot(page, "dashboard")
    assert unlabelled(page) == []
    assert contrast_failures(page) == []
