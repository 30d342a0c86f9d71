"""The search pipeline on seeded arrays (matching.pipeline): no database, no model, no index files.

Oracles: the pool holds the top of each retriever among the eligible rows (numpy brute force), the FAISS
index retrieves what brute force does, the order is the weighted score's, and permuting the records
changes nothing.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from matching import identifier_gate, identifier_query, pipeline, scoring
from matching.hard_filters import CandidateFilters, Eligibility, Listing
from matching.identifier_side import IdentifierSide
from matching.index import VectorIndex
from matching.lexical import Bm25Buffer, LexicalIndex
from matching.pipeline import Exposure, TextQuery
from matching.settings import RetrievalSettings
from matching.structured import ROUTES

N, DIM, POOL = 300, 16, 20


def unit_rows(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.normal(size=(n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def pool_of(eligibility: Eligibility, text: TextQuery, size: int) -> pipeline.Pool:
    """Step 2 over step 1 spread over every record, as a list reads it."""
    return pipeline.listed_pool(Listing.of(eligibility), text, size)


def features(rng: np.random.Generator, n: int = N) -> scoring.PairFeatures:
    return scoring.PairFeatures(
        distance_km=rng.uniform(0, 60, n),
        hours_overlap=rng.integers(-8, 30, n).astype(float),
        times_ok=rng.random(n) > 0.1,
        within_reach=rng.random(n) > 0.2,
        required_total=rng.integers(0, 4, n),
        required_matched=rng.integers(0, 4, n),
        optional_total=rng.integers(0, 3, n),
        optional_matched=rng.integers(0, 3, n),
        experience_years=rng.uniform(0, 1.9, n),  # below the 2 years where the signal saturates: no ties
        wishes_occupation=np.zeros(n, bool),
    )


@pytest.fixture
def world() -> tuple[Eligibility, TextQuery, np.ndarray, np.ndarray]:
    """Seeded records: eligibility, a text query (vectors and BM25), and the vectors and query themselves."""
    rng = np.random.default_rng(17)
    pairs = features(rng)
    mask = scoring.eligible(pairs, np.ones(N, bool))
    eligibility = Eligibility(pairs, mask, np.zeros(N, bool), scoring.structured_signals(pairs, np.full(N, 15.0)))
    vectors, query = unit_rows(rng, N), unit_rows(rng, 1)[0]
    lexical = np.where(rng.random(N) > 0.6, rng.uniform(0, 12, N), 0).astype(np.float32)
    return eligibility, TextQuery.exact(vectors, query, lexical), vectors, query


def test_the_pool_holds_each_retrievers_top_among_the_eligible(world) -> None:
    eligibility, text, vectors, query = world
    pool = pool_of(eligibility, text, POOL)
    eligible = np.flatnonzero(eligibility.mask)
    assert set(pool.rows) <= set(eligible)
    cosine = vectors[eligible] @ query
    fit = (eligibility.structured["competences"] + eligibility.structured["occupation"])[eligible]
    for best in (cosine, text.lexical[eligible], fit):
        kth = np.sort(best)[::-1][POOL - 1]
        assert set(eligible[best > kth]) <= set(pool.rows)  # ties at the edge may go either way
    np.testing.assert_allclose(pool.dense_raw, vectors[pool.rows] @ query, atol=1e-6)
    assert pool.lexical_raw.max() <= 1.0 and set(pool.signals) == set(scoring.SIGNALS)
    assert all(np.all((values >= 0) & (values <= 1)) for values in pool.signals.values())


def test_the_vector_index_retrieves_what_brute_force_does(world) -> None:
    eligibility, text, vectors, query = world
    ids = np.arange(1000, 1000 + N, dtype=np.int64)  # database ids, sorted as the arrays are
    index = VectorIndex(DIM, "zaad")
    index.upsert(ids, vectors, [f"h{i}" for i in range(N)])
    eligible = np.flatnonzero(eligibility.mask)
    found = index.nearest(query, POOL, ids, eligible)
    np.testing.assert_array_equal(np.sort(found), np.sort(text.dense_top(eligible, POOL)))


def test_the_order_is_the_weighted_score_best_first(world) -> None:
    eligibility, text, _, _ = world
    weights = RetrievalSettings()
    pool = pool_of(eligibility, text, POOL)
    score = pipeline.weighted_score(pool, weights)
    order = pipeline.order(score, 10)
    assert len(order) == 10 and list(score[order]) == sorted(score, reverse=True)[:10]
    by_hand = sum(weight * pool.signals[name] for name, weight in scoring.normalised_weights(weights).items())
    np.testing.assert_allclose(score, by_hand, atol=1e-6)


def test_exposure_strength_zero_keeps_the_relevance_order(world) -> None:
    eligibility, text, _, _ = world
    pool = pool_of(eligibility, text, POOL)
    score = pipeline.weighted_score(pool, RetrievalSettings())
    seen = Exposure(np.arange(len(score), dtype=float), np.full(len(score), 2), strength=0.0, mean=1.0)
    np.testing.assert_array_equal(pipeline.order(score, 10, seen), pipeline.order(score, 10))
    shown_often = Exposure(np.where(np.arange(len(score)) == np.argmax(score), 50.0, 0.0), seen.trede, 2.0, 1.0)
    assert pipeline.order(score, 10, shown_often)[0] != np.argmax(score)  # the much-shown best moves down


def test_permuting_the_records_changes_no_ranking() -> None:
    rng = np.random.default_rng(3)
    pairs = features(rng)
    vectors, query = unit_rows(rng, N), unit_rows(rng, 1)[0]
    lexical = rng.uniform(0, 5, N).astype(np.float32)
    structured = scoring.structured_signals(pairs, np.full(N, 15.0))
    mask = scoring.eligible(pairs, np.ones(N, bool))
    ranked = []
    for permutation in (np.arange(N), rng.permutation(N)):
        shuffled = scoring.PairFeatures(**{k: v[permutation] for k, v in vars(pairs).items()})
        eligibility = Eligibility(
            shuffled, mask[permutation], np.zeros(N, bool), {k: v[permutation] for k, v in structured.items()}
        )
        text = TextQuery.exact(vectors[permutation], query, lexical[permutation])
        pool = pool_of(eligibility, text, POOL)
        order = pipeline.order(pipeline.weighted_score(pool, RetrievalSettings()), 15)
        ranked.append(permutation[pool.rows[order]].tolist())  # back to the original record numbers
    assert ranked[0] == ranked[1]


def test_nothing_eligible_gives_an_empty_pool(world) -> None:
    eligibility, text, _, _ = world
    none = Eligibility(eligibility.features, np.zeros(N, bool), eligibility.hard, eligibility.structured)
    pool = pool_of(none, text, POOL)
    assert len(pool.rows) == 0 and len(pipeline.order(pipeline.weighted_score(pool, RetrievalSettings()), 5)) == 0


def test_candidate_filters_on_arrays() -> None:
    rng = np.random.default_rng(5)
    pairs = features(rng, 8)
    trede = np.array([0, 1, 2, 3, 4, 5, 2, 4])
    route = np.array([ROUTES.index(name) for name in ["werk", "perspectief"] * 4])
    most = rng.uniform(0, 40, 8)  # the most hours each client can work within the vacancy's range
    everyone = CandidateFilters().mask(trede, route, pairs, most)
    assert everyone.all()
    assert (CandidateFilters(trede=frozenset({2})).mask(trede, route, pairs, most) == (trede == 2)).all()
    werk = CandidateFilters(route=frozenset({"werk"})).mask(trede, route, pairs, most)
    assert (werk == (np.arange(8) % 2 == 0)).all()
    within = CandidateFilters(max_km=12.0).mask(trede, route, pairs, most)
    assert (within == (pairs.distance_km <= 12.0)).all()
    banded = CandidateFilters(max_km=12.0).mask(trede, route, pairs, most, banded=np.ones(8, bool))
    assert (banded == (pairs.distance_km <= 20.0)).all()  # outsiders: up to the band edge, so it measures nothing
    hours = CandidateFilters(min_hours=10).mask(trede, route, pairs, most)
    assert (hours == (most >= 10)).all()
    both = CandidateFilters(min_hours=10, trede=frozenset({2})).masks(trede, route, pairs, most)
    assert list(both) == ["trede", "minUren"] and (both["minUren"] == hours).all()


TEXTS = [  # a searched side's BM25 texts: row 7 alone holds EPT; rows 2 and 3 are twins but for VCA
    "Orderpicker in een groot magazijn, avonddienst.",
    "Orderpicker en inpakker in een distributiecentrum.",
    "Orderpicker in een magazijn met VCA.",
    "Orderpicker in een magazijn.",
    "Magazijnmedewerker, heftruck rijden en orderpicken.",
    "Schoonmaker in kantoren.",
    "Chauffeur met rijbewijs C, orderpicker.",
    "Orderpicker met EPT in een koelcel.",
    "Kassamedewerker in een supermarkt.",
    "Orderpicker, ploegendienst in een magazijn.",
    "Vakkenvuller en orderpicker.",
    "Productiemedewerker in een fabriek, orderpicken.",
]


def _gate_world(query_text: str, gated: bool = True) -> tuple[Eligibility, TextQuery]:
    """The rows of :data:`TEXTS` with real BM25 and identifier indexes, all eligible, equal in structured fit (so the
    text signals alone order them); dense nearest row 0. ``gated``: the query's :class:`GateQuery` (else None)."""
    n, rng = len(TEXTS), np.random.default_rng(11)
    ids = np.arange(100, 100 + n, dtype=np.int64)
    lexical, side = LexicalIndex(), IdentifierSide()
    lexical.upsert(ids, TEXTS)
    side.upsert(ids, TEXTS)
    vectors = unit_rows(rng, n)
    query = vectors[0] + 0.3 * unit_rows(rng, 1)[0]
    terms = lexical.asked([query_text])[0]
    text = TextQuery.exact(vectors, query / np.linalg.norm(query), lexical.scores_for(query_text, ids))
    if gated:
        free_terms = identifier_query.free_terms_of([query_text], [terms], lexical)[0]
        gate = identifier_query.gate_query(query_text, terms, free_terms, side, ids, Bm25Buffer(lexical, ids))
        text = dataclasses.replace(text, gate=gate)
    pairs = features(rng, n)
    structured = {name: np.full(n, 0.5) for name in scoring.structured_signals(pairs, np.full(n, 15.0))}
    return Eligibility(pairs, np.ones(n, bool), np.zeros(n, bool), structured), text


def _first(query_text: str, gated: bool = True) -> tuple[int, pipeline.Pool]:
    eligibility, text = _gate_world(query_text, gated)
    pool = pool_of(eligibility, text, len(TEXTS))
    return int(pool.rows[pipeline.order(pipeline.weighted_score(pool, RetrievalSettings()), 1)[0]]), pool


def test_a_rare_identifier_one_pool_row_holds_opens_the_gate_and_puts_that_row_first() -> None:
    query = "Orderpicker met EPT gezocht."
    first, pool = _first(query)
    assert first == 7 and int(np.argmax(pool.dense_raw)) != 7  # not dense's first: the gate put it there
    assert _first(query, gated=False)[0] != 7  # closed over the same BM25, dense leads
    assert np.array_equal(pool.rows, np.arange(len(TEXTS)))  # the pool itself does not move


def test_a_negated_identifier_does_not_lift_its_holders() -> None:
    _, negated = _first("Orderpicker in een magazijn, geen VCA.")
    _, without = _first("Orderpicker in een magazijn.")
    np.testing.assert_array_equal(negated.signals["dense"], without.signals["dense"])
    lexical = negated.signals["lexical"]  # (N): the row holding VCA gets nothing from the words it shares
    assert lexical[2] == lexical.min() < lexical[3] and without.signals["lexical"][2] > without.signals["lexical"].min()
    served = scoring.text_signals(negated.dense_raw, negated.lexical_raw)[1]  # the fusion before: over "VCA" too
    assert served[2] > served[3]


def test_a_query_with_no_identifier_falls_back_to_the_closed_gate() -> None:
    query = "Orderpicker in een magazijn, avonddienst."
    _, pool = _first(query)
    eligibility, text = _gate_world(query)
    assert text.gate is not None and not text.gate.held and text.gate.free_bm25 is None
    bm25 = text.lexical[pool.rows]
    closed = identifier_gate.text_signals(pool.dense_raw, np.zeros_like(bm25), bm25, False, RetrievalSettings())
    np.testing.assert_allclose(pool.signals["dense"], closed[0], rtol=1e-6)
    np.testing.assert_allclose(pool.signals["lexical"], closed[1], rtol=1e-6)
    assert np.array_equal(_first(query, gated=False)[1].signals["lexical"], pool.signals["lexical"])
