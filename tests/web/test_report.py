"""The daily report: the CLI writes a PDF whose Chinese is real text in an embedded CJK font,
with the day's figures; the PNG form and the manager's download give the same report."""

from __future__ import annotations

import subprocess
import time
import uuid

import pytest
from click.testing import CliRunner
from support.broker import Broker
from support.web import ARTIFACTS, CLERK_UID, OTHER_UID, WebHall, clerk_login

from gateway.cli import main


@pytest.fixture(scope="module")
def busy_hall(tmp_path_factory):
    """A hall with a morning's work: tickets called and done, ratings good and bad."""
    with Broker() as broker:
        uid = uuid.uuid4().hex[:8]
        web = WebHall(broker, tmp_path_factory.mktemp("report"), f"h-{uid}", uid).start()
        try:
            a_mornings_work(web)
            yield web
        finally:
            web.stop()


def a_mornings_work(web: WebHall) -> None:
    kiosk, boss = web.api("kiosk"), web.api("boss")
    with web.device("t-03") as third, web.device("t-04") as fourth:
        clerk_login(third, CLERK_UID)
        clerk_login(fourth, OTHER_UID)
        for service in ("realestate", "business", "social", "social"):
            kiosk.post("/api/queue/tickets", json={"service": service}).raise_for_status()
        for dev, level in ((third, "very_satisfied"), (fourth, "satisfied"),
                           (third, "dissatisfied"), (fourth, "very_satisfied")):  # fmt: skip
            dev.send_acked("clerk", action="call_next")
            dev.send_acked("clerk", action="complete")
            prompt = dev.command("prompt")
            rw = dev.open_rating(by="queue", **prompt["service"])
            dev.rate(rw, level, **({"reasons": ["attitude"]} if level == "dissatisfied" else {}))
    web.day = web.gw.gateway.clock.day(int(time.time() * 1000))
    web.boss = boss


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout  # fmt: skip


def test_daily_report_cli_writes_a_pdf_with_the_days_figures_in_chinese(busy_hall, tmp_path):
    config = busy_hall.gw.config
    toml = tmp_path / "gateway.toml"
    toml.write_text(f'[gateway]\nhall = "{config.hall}"\ndb = "{config.db}"\n'
                    f'queue = "{config.queue}"\n', encoding="utf-8")  # fmt: skip
    out = tmp_path / "daily.pdf"
    args = ["report", "daily", "--date", busy_hall.day, "--config", str(toml), "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "daily.pdf" in result.output and "PDF" in result.output
    text = pdf_text(out)
    for expected in ("日报", busy_hall.day, "好评率", "75.0%", "差评明细及整改", "不满意",
                     "服务态度差", "待回访", "工作人员评价", "张伟", "李娜", "考勤",
                     "评价数（按小时）", "平均等候分钟", "不动产登记", "社保医保"):  # fmt: skip
        assert expected in text, expected
    fonts = subprocess.run(["pdffonts", str(out)], check=True, capture_output=True, text=True)
    assert "WenQuanYi" in fonts.stdout  # the Chinese is drawn in the CJK font, embedded
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(out), str(ARTIFACTS / "report")],
                   check=True)  # fmt: skip


def test_daily_report_refuses_a_bad_date_and_the_manager_downloads_png(busy_hall, tmp_path):
    db = busy_hall.gw.config.db
    result = CliRunner().invoke(main, ["report", "daily", "--date", "2026-13-40", "--db", db])
    assert result.exit_code != 0 and "YYYY-MM-DD" in result.output
    png = busy_hall.boss.get("/web/report/daily", params={"day": busy_hall.day, "format": "png"})
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    clerk = busy_hall.api("zhang").get("/web/report/daily", params={"day": busy_hall.day})
    assert clerk.status_code == 403
