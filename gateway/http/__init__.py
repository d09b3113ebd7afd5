"""The gateway's HTTP API (FastAPI; OpenAPI at /openapi.json).

`create_app(gw)` mounts the core routers, then every router in `gw.routers` (subsystems append
theirs in their install function, see gateway.app.SUBSYSTEMS). A route reaches the gateway with
`Depends(gateway_of)` and guards itself with `Depends(require("manager", ...))`, both from
gateway.http.auth. Only /healthz, /metrics and /api/login answer without a session.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from gateway.http import api, auth


def create_app(gw: Any) -> FastAPI:
    app = FastAPI(title="Yuping gateway", version="1", summary="Hall gateway API (豫评)")
    app.state.gateway = gw
    app.include_router(auth.router)
    app.include_router(api.router)
    for router in gw.routers:
        app.include_router(router)
    return app
