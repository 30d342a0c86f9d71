"""The web UI in a real browser: Debian's chromium driven by Playwright, against uvicorn on a free port.

One small world per module (the embedding model is real and slow on 2 cores). axe-core comes from
``node_modules`` (``npm ci``); screenshots land in ``$WERKMATCH_ARTIFACTS`` or ``test-artifacts/screenshots``.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("WERKMATCH_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("WERKMATCH_ARTIFACTS", ROOT / "test-artifacts")) / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(app: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn in a background thread (lifespan included); yields the base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="uvicorn-web-tests", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn stopped before it started; see the log above")
        threading.Event().wait(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module. Not per session: Playwright's sync API keeps an event loop running
    in the main thread until it stops, which would break later tests that call ``asyncio.run``."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} ontbreekt; installeer het met: apt-get install -y chromium chromium-driver")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Any, web_url: str) -> Iterator[Any]:
    """A factory of pages, each in its own browser context (its own cookies: one user each)."""
    contexts = []

    def make() -> Any:
        context = browser.new_context(base_url=web_url, locale="nl-NL", viewport={"width": 1280, "height": 900})
        if AXE.exists():  # as an init script: the pages' Content-Security-Policy refuses an injected <script>
            context.add_init_script(path=str(AXE))
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def login(page: Any, username: str) -> None:
    page.goto("/inloggen")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(f"{username}-demo-wachtwoord")
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_load_state()
    assert "/inloggen" not in page.url, page.content()


def check_accessibility(page: Any, name: str) -> None:
    """axe-core on the page as it is: no serious or critical violations; keeps a full-page screenshot."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert AXE.exists(), f"{AXE} ontbreekt; draai eerst: npm ci"
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{name}: " + "; ".join(bad)
