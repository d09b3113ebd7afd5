"""A furnished hall with its HTTP server up, and browser checks for the web pages (tests/web).

hall = WebHall(broker, tmp_path, hall_id, uid).start()   # gateway + HTTP on a free port
hall.url("/kiosk")                                       # http://127.0.0.1:<port>/kiosk
login(page, hall, "boss", "manager-pass")                # through the login form
unlabelled(page), contrast_failures(page), shoot(page, "dashboard")
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from gateway.queue.config import SAMPLE
from gateway.queue.matters import SAMPLE as MATTERS
from support.broker import free_port
from support.gateway import GatewayHarness

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "web"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
CLERK_UID, OTHER_UID, HELPER_UID, FOURTH_UID = "04A1B2C3", "04D4E5F6", "0A0B0C0D", "04112233"
USERS = {"boss": "manager-pass", "zhang": "clerk-pass-1", "kiosk": "kiosk-pass-1"}


def queue_file(tmp_path: Path, uid: str, port: int) -> Path:
    """The sample hall, with this test's simulated printers and status pages on this port."""
    text = SAMPLE.read_text(encoding="utf-8")
    text = text.replace('matters = "matters.sample.toml"', f'matters = "{MATTERS}"')
    text = text.replace("http://192.168.1.10:8080/q/", f"http://127.0.0.1:{port}/q/")
    text = text.replace(
        '[[queue.windows]]\nid = "3"', '[[queue.windows]]\nid = "3"\nprinter = "desk"', 1
    )
    text += (
        f'\n[queue.printers]\nkiosk = "ypprinter://kiosk-{uid}"\ndesk = "ypprinter://desk-{uid}"\n'
    )
    path = tmp_path / "queue.toml"
    path.write_text(text, encoding="utf-8")
    return path


class WebHall:
    """A gateway with the sample queue, windows 2-5 with terminals, staff and logins."""

    def __init__(self, broker: Any, tmp_path: Path, hall: str, uid: str, port: int | None = None):
        from simulator.serialsim import register

        register()
        self.uid = uid
        self.boots = 0
        self.args = (broker, tmp_path, hall)
        self.port = port or free_port()
        self.queue = str(queue_file(tmp_path, uid, self.port))
        self.gw = self._harness()

    def _harness(self) -> GatewayHarness:
        return GatewayHarness(*self.args, queue=self.queue, http=f"127.0.0.1:{self.port}")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self, furnish: bool = True) -> WebHall:
        self.gw.start()
        if furnish:
            self._furnish()
        self._wait_http()
        return self

    def stop(self) -> None:
        self.gw.stop()

    def restart(self) -> None:
        """Stop the gateway and start a new one on the same store and port."""
        self.gw.stop()
        self.gw = self._harness()
        self.start(furnish=False)

    def _furnish(self) -> None:
        gw = self.gw
        for number in (2, 3, 4, 5):
            gw.add_window(str(number), number)
            gw.add_device(f"t-0{number}", "terminal", window=str(number))
        clerk = gw.add_staff("张伟", "HN0101", badge_uid=CLERK_UID)
        gw.add_staff("李娜", "HN0102", badge_uid=OTHER_UID)
        gw.add_staff("王芳", "HN0500", role="helper", badge_uid=HELPER_UID)
        gw.add_staff("赵磊", "HN0103", badge_uid=FOURTH_UID)
        gw.add_user("kiosk", USERS["kiosk"], "clerk")
        gw.add_user("zhang", USERS["zhang"], "clerk", staff_id=clerk)
        gw.add_user("boss", USERS["boss"], "manager")

    def _wait_http(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url("/healthz"), timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("the gateway's HTTP server did not come up")

    def device(self, device: str) -> Any:
        """A device client that has said hello; each with a boot of its own, so event ids of
        clients for the same device (in tests sharing the hall) never collide."""
        self.boots += 1
        dev = self.gw.device(device, boot=self.boots)
        dev.hello()
        return dev

    def api(self, user: str) -> httpx.Client:
        """An HTTP client logged in as `user`."""
        client = httpx.Client(base_url=self.url(""), timeout=10)
        response = client.post("/api/login", json={"username": user, "password": USERS[user]})
        response.raise_for_status()
        return client


def clerk_login(dev: Any, uid: str = CLERK_UID) -> None:
    dev.send_acked("badge", uid=uid, action="login")
    assert dev.command("session")["state"] == "open"


def staffed(hall: WebHall, device: str, uid: str) -> None:
    """A clerk logged in at `device`, unless someone already is (tests share a hall)."""
    import sqlalchemy as sa

    from gateway.store.tables import shifts

    open_shift = sa.select(shifts.c.id).where(
        shifts.c.device == device, shifts.c.ended_ms.is_(None)
    )
    with hall.gw.engine.connect() as conn:
        if conn.execute(open_shift).first() is not None:
            return
    with hall.device(device) as dev:
        clerk_login(dev, uid)


def login(page: Any, hall: WebHall, user: str, path: str = "/dashboard") -> None:
    """Open a login-only page, get sent to the login form, fill it in, land back on the page."""
    page.goto(hall.url(path))
    assert "/login" in page.url
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(USERS[user])
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(hall.url(path))


def shoot(page: Any, name: str) -> None:
    """Screenshots at 1920x1080 and on a 390 px wide phone (full page), as test artefacts."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    page.evaluate("window.scrollTo(0, 0)")
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.wait_for_timeout(150)
    page.screenshot(path=str(ARTIFACTS / f"{name}-1920.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(150)
    page.screenshot(path=str(ARTIFACTS / f"{name}-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, f"{name} scrolls sideways"
    page.set_viewport_size(size)


UNLABELLED_JS = """() => {
  const named = (el) => {
    if (el.getAttribute('aria-label') || el.getAttribute('title')) return true;
    const by = el.getAttribute('aria-labelledby');
    if (by && by.split(' ').some((id) => (document.getElementById(id) || {}).textContent)) return true;
    if (el.labels && [...el.labels].some((l) => l.textContent.trim())) return true;
    if (el.tagName === 'BUTTON') return el.textContent.trim() !== '';
    if (el.tagName === 'IMG') return (el.getAttribute('alt') || '').trim() !== '';
    return false;
  };
  return [...document.querySelectorAll('input, select, textarea, button, img, [role=button]')]
    .filter((el) => el.type !== 'hidden' && !named(el))
    .map((el) => el.outerHTML.slice(0, 120));
}"""

COLOURS_JS = """() => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const visible = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.opacity !== '0'; };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      const a = c.length > 3 ? c[3] : 1;
      if (a > 0) { layers.push([c[0], c[1], c[2], a]); if (a >= 1) break; }
    }
    let out = [255, 255, 255];
    for (const [r, g, b, a] of layers.reverse()) out = [r * a + out[0] * (1 - a), g * a + out[1] * (1 - a), b * a + out[2] * (1 - a)];
    return out;
  };
  const found = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('svg') || !visible(el)) continue;
    const text = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent.trim()).join('');
    if (!text) continue;
    found.push({ text: text.slice(0, 30), fg: parse(getComputedStyle(el).color).slice(0, 3), bg: background(el) });
  }
  return found;
}"""


def _luminance(rgb: list[float]) -> float:
    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: list[float], bg: list[float]) -> float:
    """WCAG 2 contrast ratio of two sRGB colours."""
    light, dark = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def unlabelled(page: Any) -> list[str]:
    """Form controls, buttons and images without an accessible name."""
    return list(page.evaluate(UNLABELLED_JS))


def contrast_failures(page: Any, minimum: float = 4.5) -> list[tuple[str, float]]:
    """Visible text whose colour against its (composited) background is below `minimum`."""
    texts = page.evaluate(COLOURS_JS)
    assert texts, "no visible text found"
    ratios = [(t["text"], round(contrast(t["fg"], t["bg"]), 2)) for t in texts]
    return [(text, ratio) for text, ratio in ratios if ratio < minimum]
