"""Kiosk, ticket status, call display and clerk console in a real browser, against a real
gateway whose queue is driven by window devices over a real Mosquitto."""

from __future__ import annotations

import re

import sqlalchemy as sa
import zxingcpp
from PIL import Image
from playwright.sync_api import expect
from support.web import (
    CLERK_UID,
    FOURTH_UID,
    OTHER_UID,
    contrast_failures,
    login,
    shoot,
    staffed,
    unlabelled,
)

from gateway.queue.tables import queue_actions, queue_tickets
from simulator.serialsim import printer

SLOW = 10_000  # ms: the status page refreshes itself every 5 s

# speechSynthesis for the test: headless Chromium has no speech engine (every utterance fails
# at once). This one takes 300 ms per utterance and counts how many speak at the same time.
FAKE_SPEECH = """
window.speech = { active: 0, most: 0, said: [] };
Object.defineProperty(window, "speechSynthesis", { configurable: true, value: {
  getVoices: () => [], cancel: () => {},
  speak(u) {
    const s = window.speech;
    s.active += 1; s.most = Math.max(s.most, s.active); s.said.push(u.text);
    setTimeout(() => { s.active -= 1; u.onend && u.onend({}); }, 300);
  },
}});
"""


def check_page(page, name: str) -> None:
    shoot(page, name)
    assert unlabelled(page) == []
    assert contrast_failures(page) == []


def test_kiosk_ticket_is_printed_shown_with_its_qr_and_followed_on_the_status_page(
    web, page, browser, tmp_path
):
    login(page, web, "kiosk", "/kiosk?printer=kiosk")
    check_page(page, "kiosk")
    page.get_by_role("button", name=re.compile("不动产登记")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("取号成功")
    expect(page.locator("#t-print")).to_have_text("号票已打印，请取走号票")
    number = page.locator("#t-number").inner_text()
    assert re.fullmatch(r"A\d{3}", number)
    receipt = printer.printer(f"kiosk-{web.uid}").receipts[-1]
    assert number in receipt.texts
    status_url = receipt.qr[0]
    assert status_url.startswith(web.url("/q/"))
    page.locator("#t-qr").screenshot(path=str(tmp_path / "qr.png"))
    on_screen = zxingcpp.read_barcodes(Image.open(tmp_path / "qr.png"))
    assert [code.text for code in on_screen] == [status_url]  # the QR on screen = the printed one
    check_page(page, "kiosk-ticket")

    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    phone.goto(status_url)
    expect(phone.locator(".st-number")).to_have_text(number)
    expect(phone.locator(".st-state")).to_have_text("等候中")
    expect(phone.locator(".st-figures")).to_contain_text("前面等候")
    check_page(phone, "status-waiting")
    staffed(web, "t-02", FOURTH_UID)
    called = web.api("boss").post("/api/queue/windows/2/call", json={}).json()
    assert called["ticket"] == number  # the only 不动产登记 ticket waiting
    expect(phone.locator(".st-call")).to_have_text("请到 2号窗口 办理", timeout=SLOW)
    expect(phone.locator(".st-state")).to_have_text("已叫号")
    check_page(phone, "status-called")
    phone.close()


def test_unknown_ticket_token_shows_a_chinese_not_found_page(web, page):
    response = page.goto(web.url("/q/no-such-token-123"))
    assert response.status == 404
    expect(page.get_by_role("heading", name="没有这张号票")).to_be_visible()


def test_call_display_shows_and_speaks_each_call_in_turn_and_recovers_after_a_restart(web, page):
    page.add_init_script(FAKE_SPEECH)
    page.goto(web.url("/display?repeat=2"))
    expect(page.locator("#display-link")).to_have_text("已连接")
    kiosk = web.api("kiosk")
    tickets = [
        kiosk.post("/api/queue/tickets", json={"service": service}).json()["ticket"]
        for service in ("business", "social")
    ]
    staffed(web, "t-03", CLERK_UID)
    staffed(web, "t-04", OTHER_UID)
    with web.device("t-03") as third, web.device("t-04") as fourth:
        third.send_acked("clerk", action="complete")  # whatever an earlier test left there
        third.send_acked("clerk", action="call_next")
        fourth.send_acked("clerk", action="call_next")
    first, second = tickets[0], tickets[1]
    expect(page.locator(".current-ticket")).to_have_text(second)
    expect(page.locator(".current-window")).to_have_text("请到 4号窗口 办理")
    expect(page.locator("#recent li").first).to_have_text(f"{first}3号窗口")
    voices = [f"请{first}号到3号窗口办理"] * 2 + [f"请{second}号到4号窗口办理"] * 2
    page.wait_for_function("window.speech.said.length >= 4 && window.speech.active === 0")
    speech = page.evaluate("window.speech")
    assert speech["said"] == voices  # in call order, each twice
    assert speech["most"] == 1  # never two at once
    check_page(page, "display")

    web.restart()
    expect(page.locator("#display-link")).to_have_text("已连接", timeout=SLOW)
    third_ticket = kiosk.post("/api/queue/tickets", json={"service": "realestate"}).json()
    boss = web.api("boss")
    boss.post("/api/queue/windows/3/complete", json={}).raise_for_status()
    called = boss.post("/api/queue/windows/3/call", json={}).json()
    assert called["ticket"] == third_ticket["ticket"]
    expect(page.locator(".current-ticket")).to_have_text(third_ticket["ticket"], timeout=SLOW)
    page.wait_for_function("window.speech.said.length >= 6")
    assert (
        page.evaluate("window.speech.said.slice(4)")
        == [f"请{third_ticket['ticket']}号到3号窗口办理"] * 2
    )


def test_clerk_console_transfers_hands_over_records_mailing_and_prints_a_notice(web, page):
    staffed(web, "t-03", CLERK_UID)
    kiosk = web.api("kiosk")
    issue = lambda **body: kiosk.post("/api/queue/tickets", json=body).json()  # noqa: E731
    moved, helped = issue(service="realestate"), issue(service="realestate")
    mailed = issue(service="realestate", matter="BDC-001")
    login(page, web, "zhang", "/console")
    expect(page.locator(".console-now")).to_contain_text("3号窗口")
    result = page.locator("#console-result")

    transfer = page.locator("form", has=page.get_by_role("heading", name="转移号票"))
    transfer.get_by_label("号码").fill(moved["ticket"])
    transfer.get_by_label("或指定窗口").select_option(label="4号窗口")
    transfer.get_by_role("button", name="确认转移").click()
    expect(result).to_have_text(f"已转移 {moved['ticket']}")

    helper = page.locator("form", has=page.get_by_role("heading", name="转帮办代办"))
    helper.get_by_label("号码").fill(helped["ticket"])
    helper.get_by_label("帮办人员").select_option(label="王芳（HN0500）")
    helper.get_by_role("button", name="转交帮办").click()
    expect(result).to_have_text(f"已将 {helped['ticket']} 转交帮办代办")

    boss = web.api("boss")
    boss.post("/api/queue/windows/3/complete", json={})  # whatever an earlier test left there
    assert boss.post("/api/queue/windows/3/call", json={}).json()["ticket"] == mailed["ticket"]
    mailing = page.locator("form", has=page.get_by_role("heading", name="结果免费寄递登记"))
    mailing.get_by_label("号码").fill(mailed["ticket"])
    mailing.get_by_label("联系电话").fill("13812345678")
    mailing.get_by_role("button", name="登记寄递").click()
    expect(result).to_have_text("邮寄地址须为6至120个字")  # the queue's refusal, in Chinese
    assert result.get_attribute("class") == "result error"
    mailing.get_by_label("寄递地址").fill("郑州市金水区花园路100号")
    mailing.get_by_role("button", name="登记寄递").click()
    expect(result).to_have_text(f"已登记 {mailed['ticket']} 免费寄递")

    notice = page.locator("form", has=page.get_by_role("heading", name="打印一次性书面告知单"))
    notice.get_by_label("事项").select_option(label="不动产首次登记")
    notice.get_by_label("号码（可不填）").fill("")
    notice.get_by_role("button", name="打印告知单").click()
    expect(result).to_have_text("告知单已打印")
    assert printer.printer(f"desk-{web.uid}").receipts[-1].texts[0] == "一次性书面告知单"

    transfer.get_by_label("号码").fill("A999")
    transfer.get_by_role("button", name="确认转移").click()
    expect(result).to_have_class("result error")
    assert re.search(r"[\u4e00-\u9fff]", result.inner_text())
    check_page(page, "console")

    with web.gw.engine.connect() as conn:
        kinds = dict(
            conn.execute(
                sa.select(queue_actions.c.ticket, queue_actions.c.kind).where(
                    queue_actions.c.kind.in_(("transfer", "helper", "mailing"))
                )
            ).all()
        )
        helper_row = conn.execute(
            sa.select(queue_tickets.c.helper).where(queue_tickets.c.token == helped["token"])
        ).scalar()
    assert kinds == {moved["ticket"]: "transfer", helped["ticket"]: "helper",
                     mailed["ticket"]: "mailing"}  # fmt: skip
    assert helper_row == "HN0500"
