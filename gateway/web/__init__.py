"""The gateway's web pages, in Chinese: the manager's dashboard, the hall's call display
(叫号大屏), the kiosk (取号), a ticket's live status page, the clerk console, and the daily report.

Pages are rendered on the server (Jinja2 templates under templates/) with small scripts under
static/; nothing is fetched from outside the gateway, so the hall works offline. Live updates
come over server-sent events from `live.LiveFeed`, which reads only committed rows.

    /login  /dashboard  /display?repeat=2  /kiosk?printer=kiosk  /q/<token>  /console
    /r/<token>  (rating on a phone, from the terminal's QR code)
    /web/report/daily?day=YYYY-MM-DD[&format=png]      and: yuping report daily --date …
"""

from __future__ import annotations

from typing import Any


def install(gw: Any) -> None:
    """Called by the gateway (gateway.app.SUBSYSTEMS) before it starts, after queue/follow-up."""
    from gateway.web.live import LiveFeed
    from gateway.web.pages import make_router
    from gateway.web.rate import make_rate_router

    live = LiveFeed(gw)
    live.install(gw.hooks)
    gw.web = live
    gw.services.append(live)
    gw.routers.append(make_router(live))
    gw.routers.append(make_rate_router())
