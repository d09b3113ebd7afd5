"""The pages' routes: HTML pages, their JSON snapshots, the SSE streams, QR codes, static files.

Pages that need a login send the browser to /login?next=… instead of answering 401; a logged-in
account of the wrong role gets a Chinese 403 page. The call display and a ticket's status page
need no login (the status page's URL carries the ticket's secret token).
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from gateway.http.auth import current_user, gateway_of, require
from gateway.web import views
from gateway.web.live import LiveFeed

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=str(HERE / "templates"))


@pass_context
def clock_time(context: Any, ms: int | None, fmt: str = "%H:%M") -> str:
    """`{{ at_ms | hm }}`: a time on the hall's clock."""
    if ms is None:
        return "—"
    return str(context["request"].app.state.gateway.clock.local(ms).strftime(fmt))


templates.env.filters["hm"] = clock_time
ROLE_HOME = {"manager": "/dashboard", "clerk": "/console", "technician": "/dashboard"}
ROLE_LABELS = {"manager": "管理员", "clerk": "窗口人员", "technician": "技术人员"}
DASHBOARD_KINDS = frozenset({"rating", "call", "queue", "windows", "stats", "device", "alert"})
CALL_KINDS = frozenset({"call"})
DAY = r"^\d{4}-\d{2}-\d{2}$"
SAFE_NEXT = re.compile(r"^/[A-Za-z0-9/_\-?=&.]*$")
MANAGER = Depends(require("manager"))


def page_user(request: Request, gw: Any, roles: tuple[str, ...]) -> Any:
    """The logged-in user for a page, or the response to send instead: a redirect to the
    login page, or a 403 page naming the roles that may see it."""
    try:
        user = current_user(request, gw)
    except HTTPException:
        query = f"?{request.url.query}" if request.url.query else ""
        target = quote(request.url.path + query, safe="/")
        return RedirectResponse(f"/login?next={target}", 303)
    if user.role not in roles:
        wanted = "、".join(ROLE_LABELS[r] for r in roles)
        return render(request, "forbidden.html", {"wanted": wanted, "user": user}, 403)
    return user


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return templates.TemplateResponse(request, name, context, status_code=status)


async def sse(live: LiveFeed, kinds: frozenset[str]) -> AsyncIterator[str]:
    """Server-sent events until the client leaves or the gateway stops; a comment as heartbeat."""
    listener = live.subscribe(kinds)
    try:
        yield "retry: 2000\n: connected\n\n"
        quiet_since = time.monotonic()
        while not live.stopping:
            event = await listener.get(timeout=0.5)
            if event is None:
                if time.monotonic() - quiet_since > 15:
                    quiet_since = time.monotonic()
                    yield ": ping\n\n"
                continue
            body = json.dumps(event.data, ensure_ascii=False)
            yield f"id: {event.id}\nevent: {event.kind}\ndata: {body}\n\n"
    finally:
        listener.close()


def stream(live: LiveFeed, kinds: frozenset[str]) -> StreamingResponse:
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(sse(live, kinds), media_type="text/event-stream", headers=headers)


def make_router(live: LiveFeed) -> APIRouter:
    router = APIRouter(tags=["web"], include_in_schema=False)
    _page_routes(router)
    _queue_pages(router)
    _data_routes(router, live)
    return router


def _page_routes(router: APIRouter) -> None:
    @router.get("/")
    def home() -> RedirectResponse:
        return RedirectResponse("/dashboard", 303)

    @router.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "", gw: Any = Depends(gateway_of)) -> Response:
        with gw.engine.connect() as conn:
            name = views.hall_name(gw, conn)
        safe = next if SAFE_NEXT.match(next) and not next.startswith("//") else ""
        return render(request, "login.html", {"hall_name": name, "next": safe})

    @router.get("/dashboard", response_class=HTMLResponse)
    def dashboard(request: Request, gw: Any = Depends(gateway_of)) -> Response:
        user = page_user(request, gw, ("manager",))
        if isinstance(user, Response):
            return user
        return render(request, "dashboard.html", {**views.dashboard(gw), "user": user})

    @router.get("/display", response_class=HTMLResponse)
    def display(
        request: Request,
        repeat: int = Query(2, ge=1, le=5, description="times each call is spoken"),
        voice: bool = Query(True, description="speak the calls"),
        gw: Any = Depends(gateway_of),
    ) -> Response:
        context = {**views.display(gw), "repeat": repeat, "voice": voice}
        return render(request, "display.html", context)


def _queue_pages(router: APIRouter) -> None:
    def queue_of(gw: Any) -> Any:
        queue = getattr(gw, "queue", None)
        if queue is None:
            raise HTTPException(404, "本大厅未启用排队叫号")
        return queue

    @router.get("/kiosk", response_class=HTMLResponse)
    def kiosk(
        request: Request, printer: str | None = None, gw: Any = Depends(gateway_of)
    ) -> Response:
        queue_of(gw)
        user = page_user(request, gw, ("manager", "clerk", "technician"))
        if isinstance(user, Response):
            return user
        return render(request, "kiosk.html", {**views.kiosk(gw), "printer": printer})

    @router.get("/q/{token}", response_class=HTMLResponse)
    def ticket_page(request: Request, token: str, gw: Any = Depends(gateway_of)) -> Response:
        from gateway.queue.status import ticket_status

        queue = queue_of(gw)
        ticket = queue.find_by_token(token)
        with gw.engine.connect() as conn:
            name = views.hall_name(gw, conn)
        context = {"hall_name": name, "status": None, "timezone": gw.config.timezone}
        if ticket is None:
            return render(request, "status.html", context, 404)
        status = queue.read(lambda q: ticket_status(q, ticket, queue.matters, views.now_ms()))
        context["status"] = status
        return render(request, "status.html", context)

    @router.get("/console", response_class=HTMLResponse)
    def console(request: Request, gw: Any = Depends(gateway_of)) -> Response:
        queue_of(gw)
        user = page_user(request, gw, ("clerk", "manager"))
        if isinstance(user, Response):
            return user
        return render(request, "console.html", views.console(gw, user))

    @router.get("/web/qr/{token}.svg")
    def qr(token: str, gw: Any = Depends(gateway_of)) -> Response:
        """The QR code of a ticket's status page (only for tickets that exist)."""
        import qrcode
        from qrcode.image.svg import SvgPathImage

        queue = queue_of(gw)
        if queue.find_by_token(token) is None:
            raise HTTPException(404, "没有这张号票")
        url = queue.config.status_url.format(token=token)
        image = qrcode.make(url, image_factory=SvgPathImage, box_size=20, border=2)
        out = io.BytesIO()
        image.save(out)
        return Response(out.getvalue(), media_type="image/svg+xml")


def _data_routes(router: APIRouter, live: LiveFeed) -> None:
    @router.get("/web/api/dashboard")
    def dashboard_json(gw: Any = Depends(gateway_of), _u: Any = MANAGER) -> dict[str, Any]:
        return views.dashboard(gw)

    @router.get("/web/fragments/dashboard", response_class=HTMLResponse)
    def dashboard_fragment(
        request: Request, gw: Any = Depends(gateway_of), _u: Any = MANAGER
    ) -> Response:
        return render(request, "dashboard_sections.html", views.dashboard(gw))

    @router.get("/web/api/display")
    def display_json(gw: Any = Depends(gateway_of)) -> dict[str, Any]:
        return views.display(gw)

    @router.get("/web/events")
    async def dashboard_events(_u: Any = MANAGER) -> StreamingResponse:
        return stream(live, DASHBOARD_KINDS)

    @router.get("/web/events/calls")
    async def call_events() -> StreamingResponse:
        return stream(live, CALL_KINDS)

    @router.get("/web/report/daily")
    def daily_report(
        day: str = Query(pattern=DAY),
        format: str = Query("pdf", pattern="^(pdf|png)$"),
        gw: Any = Depends(gateway_of),
        _u: Any = MANAGER,
    ) -> Response:
        from gateway.web import report

        body = report.render(report.gather(gw.engine, gw.config, gw.hall, day), format)
        media = "application/pdf" if format == "pdf" else "image/png"
        disposition = f'inline; filename="report-{gw.hall}-{day}.{format}"'
        return Response(body, media_type=media, headers={"content-disposition": disposition})

    @router.get("/web/static/{name}")
    def static(name: str) -> FileResponse:
        path = STATIC / name
        if "/" in name or name.startswith(".") or not path.is_file():
            raise HTTPException(404, "no such file")
        return FileResponse(path, headers={"Cache-Control": "max-age=300"})
