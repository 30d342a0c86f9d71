"""Shared fixtures: a fresh data directory per test and one real embedding model per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from matching.embedding import Embedder, load_embedder
from matching.settings import EmbeddingSettings, Settings


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real configured default model, loaded once."""
    return load_embedder(EmbeddingSettings())


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(tmp_path / "var"))
    return Settings()
