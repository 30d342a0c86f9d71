"""Shared fixtures: a data directory and a database per test, one real embedding model per session, demo tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from api.services import schema
from matching.embedding import Embedder, load_embedder
from matching.settings import EmbeddingSettings, Settings
from matching.store import make_engine
from tests.factories import DEMO_USERS, logins


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real configured default model, loaded once."""
    return load_embedder(EmbeddingSettings())


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(tmp_path / "var"))
    return Settings()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A real SQLite file with every table of werkmatch (:func:`api.services.schema.create_all`)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'werkmatch.db'}")
    schema.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def tokens(http) -> dict[str | None, dict[str, str]]:
    """Bearer headers of every demo user for the module's ``http`` client; ``None`` is no token at all.

    Modules that log in only some users (their audit counts logins) define their own with ``logins``."""
    return {None: {}, **logins(http, *DEMO_USERS)}
