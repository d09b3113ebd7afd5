"""ESC/POS slips through the simulated printer behind ypprinter://, decoded back to content."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import serial

from gateway.queue.printing import CHINESE_ON, lines_slip, send, ticket_slip
from simulator.serialsim import printer, register
from simulator.serialsim.printer import EscPosDecoder

TZ = ZoneInfo("Asia/Shanghai")
T0 = int(datetime(2026, 11, 27, 9, 30, tzinfo=TZ).timestamp() * 1000)
URL = "http://192.168.1.10:8080/q/abcDEF123"


def slip() -> bytes:
    return ticket_slip(
        "金水区政务服务中心", "企业开办", "办事窗口区", "B007", 4, T0, TZ, URL, "军人"
    )


def test_ticket_slip_over_the_serial_url_decodes_to_its_content(uid):
    register()
    send(f"ypprinter://p-{uid}", slip())
    (receipt,) = printer.printer(f"p-{uid}").receipts
    assert receipt.texts == [
        "金水区政务服务中心",
        "企业开办（办事窗口区）",
        "B007",
        "优先：军人",
        "您前面还有 4 人等候",
        "取号时间：2026-11-27 09:30",
        "扫码随时查看办理进度",
        "请留意叫号，过号请到引导台",
    ]
    assert receipt.qr == [URL] and receipt.cut
    assert receipt.lines[2].width == receipt.lines[2].height == 3 and receipt.lines[2].bold
    assert receipt.lines[0].align == "center"


def test_chinese_is_sent_as_gb18030_in_chinese_mode():
    data = slip()
    assert data.index(CHINESE_ON) < data.index("金水区".encode("gb18030"))
    assert "金水区".encode() not in data  # not UTF-8: the printer's ROM font is GB18030


def test_decoding_does_not_depend_on_how_bytes_are_split():
    whole, pieces = EscPosDecoder(), EscPosDecoder()
    whole.feed(slip() + lines_slip(["一次性书面告知单", "1. 身份证"]))
    for byte in slip() + lines_slip(["一次性书面告知单", "1. 身份证"]):
        pieces.feed(bytes([byte]))
    assert pieces.receipts == whole.receipts and len(whole.receipts) == 2


def test_text_without_chinese_mode_comes_out_garbled_and_unknown_commands_are_listed():
    decoder = EscPosDecoder()
    decoder.feed(b"\x1b@" + "不动产".encode("gb18030") + b"\n\x1b\x7f\x1dV\x41\x03")
    (receipt,) = decoder.receipts
    assert receipt.texts[0] != "不动产"
    assert decoder.unknown == [b"\x1b\x7f"]


def test_a_port_at_the_wrong_speed_prints_nothing(uid):
    register()
    port = serial.serial_for_url(f"ypprinter://w-{uid}", baudrate=115200)
    port.write(slip())
    port.close()
    assert printer.printer(f"w-{uid}").receipts == []
