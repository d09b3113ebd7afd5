"""Views with one golden PNG each under tests/firmware/golden/<name>.png."""

from __future__ import annotations

from dataclasses import replace

from firmware.terminal import view as v

HALL = "郑州市金水区政务服务中心"
CLERK = v.Clerk(name="张伟", staff_no="HN0123")

SAMPLES: dict[str, v.View] = {
    "idle": v.View(mode=v.IDLE, hall_name=HALL, window_label="3号窗口"),
    "serving": v.View(mode=v.SERVING, window_label="3号窗口", clerk=CLERK, ticket="A012"),
    "serving_no_ticket": v.View(mode=v.SERVING, window_label="3号窗口", clerk=CLERK),
    "serving_long_name": v.View(
        mode=v.SERVING,
        window_label="12号窗口",
        clerk=v.Clerk(name="买买提·艾力江", staff_no="HN20240517"),
        ticket="B1234",
    ),
    "rating": v.View(mode=v.RATING, window_label="3号窗口", clerk=CLERK, seconds_left=15),
    "thanks": v.View(mode=v.THANKS, window_label="3号窗口", clerk=CLERK),
    "reasons": v.View(
        mode=v.REASONS,
        window_label="3号窗口",
        reasons=("attitude", "slow", "unclear", "process"),
    ),
    "pause_select": v.View(mode=v.PAUSE_SELECT, window_label="3号窗口", clerk=CLERK),
    "paused": v.View(mode=v.PAUSED, window_label="3号窗口", clerk=CLERK, reason="meal"),
    "message": v.View(mode=v.MESSAGE, window_label="3号窗口", message="未登记的工牌，请联系管理员"),
    "message_long": v.View(
        mode=v.MESSAGE,
        window_label="3号窗口",
        message="网络已断开，评价和考勤记录保存在本机，恢复连接后自动上传，不会丢失。请继续办理业务。",
    ),
    "rating_qr": v.View(
        mode=v.RATING_QR,
        window_label="3号窗口",
        seconds_left=12,
        qr_url="https://yp.example.cn/r/h1/w3/8f2k",
    ),
}
SAMPLES["idle_offline"] = replace(SAMPLES["idle"], offline=True)
SAMPLES["rating_offline"] = replace(SAMPLES["rating"], offline=True)
SAMPLES["rating_qr_offline"] = replace(SAMPLES["rating_qr"], offline=True)
