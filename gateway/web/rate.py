"""The phone rating page behind the terminal's QR code: /r/<token>, no login (the token is the
secret). GET offers the five levels as large buttons; a bad level asks for the reasons (optional)
before anything is stored; POST stores through gateway.phonerating and answers in plain words."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from gateway import phonerating as phone
from gateway.http.auth import gateway_of
from gateway.registry import window_label
from gateway.web import views
from gateway.web.pages import render
from protocol.levels import BAD_REASON_LABELS, BAD_REASONS, LEVEL_LABELS, LEVELS, is_bad

# What the page says when the window cannot be rated, and with which HTTP status.
REFUSALS = {
    phone.RATED: (409, "已评价，谢谢", "本次服务已经评价过，不能重复评价。"),
    phone.CLOSED: (410, "本次评价已结束", "评价时间已过，本次服务没有记录评价。"),
    phone.UNKNOWN: (404, "链接无效", "没有找到这个评价链接，请重新扫描窗口屏幕上的二维码。"),
}


def make_rate_router() -> APIRouter:
    router = APIRouter(tags=["web"], include_in_schema=False)

    @router.get("/r/{token}", response_class=HTMLResponse)
    def rate_page(request: Request, token: str, gw: Any = Depends(gateway_of)) -> Response:
        context = _context(gw, token)
        status = context["state"]
        if status != phone.OPEN:
            return _refusal(request, context, status)
        return render(request, "rate.html", dict(context, step="levels"))

    @router.post("/r/{token}", response_class=HTMLResponse)
    async def rate_submit(request: Request, token: str, gw: Any = Depends(gateway_of)) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        level = (form.get("level") or [""])[0]
        reasons = form.get("reason", [])
        context = await run_in_threadpool(_context, gw, token)
        if level in LEVELS and is_bad(level) and not form.get("final"):
            if context["state"] != phone.OPEN:
                return _refusal(request, context, context["state"])
            return render(request, "rate.html", dict(context, step="reasons", level=level))
        try:
            outcome = await run_in_threadpool(phone.rate, gw, token, level, reasons)
        except ValueError as exc:
            context = dict(context, title="提交的内容有误", text=f"请返回重新选择。（{exc}）")
            return render(request, "rate.html", dict(context, step="message"), 400)
        if outcome != phone.OPEN:
            return _refusal(request, context, outcome)
        context = dict(context, title="感谢您的评价", text=f"您的评价：{LEVEL_LABELS[level]}")
        return render(request, "rate.html", dict(context, step="message", stored=True))

    return router


def _context(gw: Any, token: str) -> dict[str, Any]:
    with gw.engine.connect() as conn:
        found = phone.find_window(conn, gw.hall, token, views.now_ms())
        label = window_label(conn, gw.hall, found.window) if found else None
        return {
            "hall_name": views.hall_name(gw, conn),
            "window_label": label,
            "state": found.state if found else phone.UNKNOWN,
            "levels": [(name, LEVEL_LABELS[name]) for name in LEVELS],
            "reasons": [(name, BAD_REASON_LABELS[name]) for name in BAD_REASONS],
            "level_labels": LEVEL_LABELS,
        }


def _refusal(request: Request, context: dict[str, Any], state: str) -> Response:
    status, title, text = REFUSALS[state]
    return render(
        request, "rate.html", dict(context, step="message", title=title, text=text), status
    )
