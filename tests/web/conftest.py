"""One headless Chromium (Debian's, never a downloaded one) and one furnished hall (a real
Mosquitto, a real gateway with its HTTP server) per test module, to keep the browser tests quick;
each test gets a fresh browser context (no shared cookies). Tests in a module share the hall's
state, so they assert on what they themselves changed."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from support.broker import Broker
from support.web import CHROMIUM, CHROMIUM_ARGS, WebHall

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session", autouse=True)
def patient_expect():
    """Waits for the page up to 10 s: the test machine is shared and often busy."""
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    uid = uuid.uuid4().hex[:8]
    with Broker() as broker:
        running = WebHall(broker, tmp_path_factory.mktemp("web"), f"h-{uid}", uid).start()
        yield running
        running.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    opened = context.new_page()
    yield opened
    context.close()
