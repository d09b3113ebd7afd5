"""The fleet's HTTP routes: the fleet view as JSON and rollouts (technicians and managers), and
release files for devices. Devices have no login, so release files answer without a session:
they are signed, and a device installs nothing that its own public key does not verify."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from gateway.fleet.rollout import Fleet, FleetError
from gateway.http.auth import require

STAFF = Depends(require("technician", "manager"))


class RolloutRequest(BaseModel):
    release: str
    devices: list[str]
    wave_size: int = Field(default=5, ge=1)


def router(fleet: Fleet) -> APIRouter:
    api = APIRouter(tags=["fleet"])
    guarded = APIRouter(tags=["fleet"], dependencies=[STAFF])

    @guarded.get("/api/fleet")
    def fleet_view() -> dict[str, Any]:
        return {"hall": fleet.hall, "devices": fleet.view()}

    @guarded.post("/api/fleet/rollouts")
    def start_rollout(request: RolloutRequest) -> dict[str, Any]:
        try:
            rollout = fleet.start(request.release, request.devices, request.wave_size)
        except FleetError as exc:
            raise HTTPException(422, str(exc)) from exc
        return fleet.status(rollout)

    @guarded.get("/api/fleet/rollouts/{rollout}")
    def rollout_status(rollout: int) -> dict[str, Any]:
        try:
            return fleet.status(rollout)
        except FleetError as exc:
            raise HTTPException(404, str(exc)) from exc

    @guarded.post("/api/fleet/rollouts/{rollout}/stop")
    def stop_rollout(rollout: int) -> dict[str, Any]:
        try:
            fleet.stop(rollout)
            return fleet.status(rollout)
        except FleetError as exc:
            raise HTTPException(404, str(exc)) from exc

    @api.get("/releases/{name}")
    def release_file(name: str) -> FileResponse:
        path = fleet.release_file(name)
        if path is None or not path.is_file():
            raise HTTPException(404, f"no release file {name}")
        return FileResponse(path, media_type="application/x-tar")

    api.include_router(guarded)
    return api
