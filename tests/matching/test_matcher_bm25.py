"""The live search's BM25 (:meth:`matching.matcher.Matcher._text_query`) is read as the nightly batch reads it
(:class:`matching.lexical.Bm25Buffer`: the eligible rows by record, the best over every record by MaxScore)
and gives the full scatter's numbers, also after a record changed between two searches."""

from __future__ import annotations

import numpy as np
import pytest
from sqlmodel import Session

from matching import bm25_maxscore as maxscore
from matching import hard_filters, pipeline
from matching import lexical as lexical_module
from matching.features import FEATURE_NAMES
from matching.hard_filters import NO_FILTERS, Listing
from matching.lookup import find_client, find_vacancy
from matching.matcher import Matcher
from tests.factories import SCHOONMAAKWERK, SCHOONMAKER, make_client, make_vacancy

LEXICAL = FEATURE_NAMES.index("lexical_similarity")
DENSE = FEATURE_NAMES.index("dense_similarity")


@pytest.fixture
def world(settings, embedder, monkeypatch) -> Matcher:
    """Clients with overlapping texts, two vacancies; pruning always reads (never the full scatter's fallback)."""
    monkeypatch.setattr(maxscore, "ESSENTIAL_SHARE", 1.0)
    monkeypatch.setattr(maxscore, "CANDIDATE_SHARE", 1.0)
    monkeypatch.setattr(lexical_module, "ROWS_SHARE", 1.0)
    matcher = Matcher(settings, embedder=embedder)
    with Session(matcher.engine) as session:
        make_client(session, client_nummer="K-ORDER", zelfbeschrijving="Orderpicker in een magazijn, heftruck.")
        make_client(session, client_nummer="K-SCHOON", **SCHOONMAKER)
        make_client(session, client_nummer="K-LEEG", zelfbeschrijving="Wil in een magazijn werken.")
        for at in range(6):
            make_client(session, client_nummer=f"K-{at}", zelfbeschrijving=f"Magazijn {'orders ' * at}en schoonmaak.")
        make_vacancy(session, vacature_nummer="V-ORDER")
        make_vacancy(session, vacature_nummer="V-SCHOON", **SCHOONMAAKWERK)
    matcher.sync()
    return matcher


def _full_scatter_pool(matcher: Matcher, vacancy_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pool and its lexical and dense features as before: BM25 of every client, the eligible ones read from it,
    the dense top by :meth:`VectorIndex.nearest` and the pool's cosines computed again."""
    clients, vacancies = matcher.index.arrays()
    v_row = vacancies.position[vacancy_id]
    everyone = np.ones(len(clients.ids), bool)
    eligibility = hard_filters.candidate_eligibility(clients, vacancies, v_row, NO_FILTERS, everyone)
    state, asking = matcher.index.sides["clients"], matcher.index.sides["vacancies"]
    vectors, vector = state.vectors, matcher.index.query_vector(asking.texts[vacancy_id])
    assert vectors is not None
    every = state.lexical.scores_for(asking.lexical_texts[vacancy_id], clients.ids)
    text = pipeline.TextQuery(
        dense_top=lambda rows, k: vectors.nearest(vector, k, clients.ids, rows),
        dense_raw=lambda rows: vectors.cosines(vector, clients.ids, rows),
        lexical=every,
    )
    pool = pipeline.listed_pool(Listing.of(eligibility), text, matcher.settings.retrieval.pool_size)
    return clients.ids[pool.rows], pool.lexical_raw, pool.dense_raw


def _ids(matcher: Matcher, vacancy: str, client: str) -> tuple[int, int]:
    with Session(matcher.engine) as session:
        return int(find_vacancy(session, vacancy).id), int(find_client(session, client).id)  # type: ignore[arg-type]


def test_live_pool_is_the_full_scatters_bit_for_bit(world: Matcher) -> None:
    for number in ("V-ORDER", "V-SCHOON"):
        vacancy_id, _ = _ids(world, number, "K-LEEG")
        ids, pairs = world.pool_features(vacancy_id)
        expected_ids, expected, expected_dense = _full_scatter_pool(world, vacancy_id)
        assert ids.tolist() == expected_ids.tolist()
        assert pairs[:, LEXICAL].astype(np.float32).tobytes() == expected.tobytes()
        assert pairs[:, DENSE].astype(np.float32).tobytes() == expected_dense.tobytes()
        assert expected.max() == 1  # the query matched some text: its best record in the pool scales to 1


def test_a_record_changed_after_a_search_is_scored_with_its_new_text(world: Matcher) -> None:
    vacancy_id, leeg = _ids(world, "V-SCHOON", "K-LEEG")
    lexical = world.index.sides["clients"].lexical
    ids, before = world.pool_features(vacancy_id)
    pruned_before = maxscore.PrunedBm25.of(lexical)
    assert pruned_before is not None
    with Session(world.engine) as session:
        make_client(
            session,
            client_nummer="K-LEEG",
            zelfbeschrijving="Ervaren schoonmaker van kantoren, schoonmaakwerk in de avond, schoonmaak.",
        )
    ids_after, after = world.pool_features(vacancy_id)
    expected_ids, expected, _ = _full_scatter_pool(world, vacancy_id)
    assert ids_after.tolist() == expected_ids.tolist()
    assert after[:, LEXICAL].astype(np.float32).tobytes() == expected.tobytes()
    assert maxscore.PrunedBm25.of(lexical) is not pruned_before  # the weights by record follow the new weights
    old = before[ids.tolist().index(leeg), LEXICAL] if leeg in ids else 0.0
    assert after[ids_after.tolist().index(leeg), LEXICAL] > old  # its new text, full of the vacancy's words
