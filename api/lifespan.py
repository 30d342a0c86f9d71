"""What the service does while it runs: the matcher and its tables at start, the champion watcher, the end.

Nothing of this happens at import or when the app is made (``create_app``): the model and the indexes
load in :func:`lifespan`, and the indexes are synced in the background so the service answers at once
(``GET /api/v1/health`` says how far the embedding is).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from api.services import schema, users
from matching.matcher import Matcher
from matching.settings import Settings
from training import registry


def watch_champion(settings: Settings, matcher: Matcher, stop: threading.Event) -> None:
    """Reload when the champion alias has moved; checks every ``ranker.poll_seconds``."""
    while not stop.wait(settings.ranker.poll_seconds):
        try:
            info = registry.by_alias(settings, registry.CHAMPION)
        except Exception as error:  # noqa: BLE001 - a broken store must not kill the watcher
            matcher.ranker_failed(f"het modelregister is niet leesbaar: {error}")
            continue
        serving = matcher.ranker
        serving_version = (
            serving.version if serving is not None and serving.name == settings.ranker.registered_model else None
        )
        if (info.version if info else None) != serving_version:
            registry.serve_champion(settings, matcher)


def lifespan(
    settings: Settings, matcher: Matcher | None = None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's lifespan: ``matcher`` (or a new one over ``settings``) in ``app.state``, ready to search.

    At start: the service's tables, the demo accounts in development, the indexes synced in the
    background, the champion loaded and, with ``ranker.poll_seconds`` above 0, watched in a thread.
    At the end: the watcher stopped and the matcher closed.
    """

    @asynccontextmanager
    async def running(app: FastAPI) -> AsyncIterator[None]:
        app.state.matcher = matcher or Matcher(settings)
        app.state.engine = engine = app.state.matcher.engine
        schema.create_all(engine)
        if settings.environment == "development":
            users.create_demo_users(engine, settings)
        if not app.state.matcher.prepared:
            app.state.matcher.sync(background=True)
        registry.serve_champion(settings, app.state.matcher)
        stop = threading.Event()
        if settings.ranker.poll_seconds > 0:
            threading.Thread(
                target=watch_champion, args=(settings, app.state.matcher, stop), name="champion-watch", daemon=True
            ).start()
        yield
        stop.set()
        app.state.matcher.close()

    return running
