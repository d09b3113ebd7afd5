"""The gateway's public HTTP API as the simulated people use it: the kiosk and the guide issue
tickets, the clerk's web page marks a no-show or transfers a ticket, the manager reads ratings
and statistics. A gateway that is down (crashed, restarting) is waited for, as people would.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

RETRY_S = 0.3


class ApiError(RuntimeError):
    """The gateway refused a request (the reason is its own, usually in Chinese)."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status, self.detail = status, detail


class HallApi:
    def __init__(self, base_url: str, logins: dict[str, tuple[str, str]], patience_s: float = 90):
        """`logins`: role in the simulation (manager, guide, kiosk) -> (username, password)."""
        self.base = base_url.rstrip("/")
        self.logins = logins
        self.patience_s = patience_s
        self._tokens: dict[str, str] = {}
        self._http = httpx.Client(timeout=10)

    def close(self) -> None:
        self._http.close()

    def _token(self, who: str) -> str:
        if who not in self._tokens:
            user, password = self.logins[who]
            body = self.request(
                "POST", "/api/login", None, json={"username": user, "password": password}
            )
            self._tokens[who] = body["token"]
        return self._tokens[who]

    def request(self, method: str, path: str, who: str | None, **kw: Any) -> Any:
        """One request, repeated while the gateway cannot be reached; refusals raise ApiError."""
        deadline = time.monotonic() + self.patience_s
        while True:
            headers = {"Authorization": f"Bearer {self._token(who)}"} if who else {}
            try:
                answer = self._http.request(method, self.base + path, headers=headers, **kw)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(RETRY_S)
                continue
            if answer.status_code == 401 and who:
                self._tokens.pop(who, None)  # a session lost with the store: log in again
                if time.monotonic() > deadline:
                    raise ApiError(401, answer.text)
                continue
            if answer.status_code >= 400:
                try:
                    detail = answer.json().get("detail")
                except ValueError:
                    detail = answer.text
                raise ApiError(answer.status_code, detail)
            return answer.json()

    # --- the people's actions ----------------------------------------------------------------

    def issue(self, service: str, by_guide: bool) -> dict[str, Any]:
        if by_guide:
            return dict(
                self.request("POST", "/api/queue/tickets/guide", "guide", json={"service": service})
            )
        return dict(self.request("POST", "/api/queue/tickets", "kiosk", json={"service": service}))

    def no_show(self, window: str) -> dict[str, Any]:
        return dict(self.request("POST", f"/api/queue/windows/{window}/no_show", "manager"))

    def transfer(self, number: str, service: str) -> dict[str, Any]:
        path = f"/api/queue/tickets/{number}/transfer"
        return dict(self.request("POST", path, "manager", json={"service": service}))

    # --- what the manager reads --------------------------------------------------------------

    def status(self, token: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/api/queue/status/{token}", None))

    def ratings(self) -> list[dict[str, Any]]:
        return list(self.request("GET", "/api/ratings", "manager"))

    def stats(self, by: str) -> list[dict[str, Any]]:
        return list(self.request("GET", "/api/stats", "manager", params={"by": by}))
