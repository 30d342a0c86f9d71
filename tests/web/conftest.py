"""The web UI in a real browser: Debian's chromium driven by Playwright, against uvicorn on a free port.

One small world per module (the embedding model is real and slow on 2 cores). axe-core comes from
``node_modules`` (``npm ci``); screenshots land in ``$WERKMATCH_ARTIFACTS`` or ``test-artifacts/screenshots``.

A module's world takes its database from :func:`web_database`: SQLite by default; a test that names
``@pytest.mark.parametrize("web_database", DATABASES, indirect=True)`` runs on PostgreSQL as well, the
served app connected as in production (:meth:`tests.postgres.PostgresServer.service_database`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.browser import AXE, CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module", params=["sqlite"])
def web_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """The ``database_url`` of a module's served app: ``""`` (SQLite in the data directory), or for the
    ``postgresql`` parameter a database on the real PostgreSQL migrated by the table owner, served as the
    service role that owns nothing and cannot bypass row-level security (as the README prescribes)."""
    if request.param == "sqlite":
        yield ""
        return
    with request.getfixturevalue("postgres").service_database() as (_owner_url, service_url):
        yield service_url


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
