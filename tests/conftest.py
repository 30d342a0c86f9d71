"""Shared fixtures: a fresh data directory per test, one real embedding model per session, demo tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from matching.embedding import Embedder, load_embedder
from matching.settings import EmbeddingSettings, Settings
from tests.factories import DEMO_USERS, logins


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real configured default model, loaded once."""
    return load_embedder(EmbeddingSettings())


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(tmp_path / "var"))
    return Settings()


@pytest.fixture(scope="module")
def tokens(http) -> dict[str | None, dict[str, str]]:
    """Bearer headers of every demo user for the module's ``http`` client; ``None`` is no token at all.

    Modules that log in only some users (their audit counts logins) define their own with ``logins``."""
    return {None: {}, **logins(http, *DEMO_USERS)}
