"""Session 45's candidates (bench/fusion_taxonomy8.py): the served gate (w) and ten variants of it (a language level
never opening it alone, no closed lift for what the query negates, a tie-break only near dense's top, a per-query
agreement margin). No model."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from bench import fusion_taxonomy8
from bench.fusion_taxonomy8 import SERVED, VARIANTS, Query, Variant, candidates, closed_scores, fused, gate_opens
from matching import identifier_gate
from matching.settings import RetrievalSettings
from tests.factories import WordHashEmbedder, write_pair_halves

WEIGHTS = RetrievalSettings()
z = identifier_gate._z


def _query(
    dense: list[float],
    free: list[float],
    identifier: list[float] | None = None,
    held: set[str] = frozenset(),
    negated: set[str] = frozenset(),
    documents_held: list[set[str]] | None = None,
) -> Query:
    documents_held = documents_held or [set() for _ in dense]
    return Query(
        np.array(dense, np.float32),
        np.array(identifier if identifier is not None else free, np.float32),
        np.array(free, np.float32),
        frozenset(held),
        frozenset(negated),
        documents_held,
        Counter(found for one in documents_held for found in one),
    )


def _random_query(seed: int, size: int = 30) -> Query:
    rng = np.random.default_rng(seed)
    documents_held = [{"cert:vca"} if i % 3 == 0 else ({"taal:b1"} if i % 7 == 0 else set()) for i in range(size)]
    documents_held[5] = {"cert:bhv", "cert:vca"}
    return _query(
        list(rng.normal(0.8, 0.05, size)),
        list(np.maximum(rng.normal(2, 3, size), 0)),
        list(np.maximum(rng.normal(2, 3, size), 0)),
        held={"cert:bhv"} if seed % 2 else set(),
        negated={"cert:vca"} if seed % 3 == 0 else set(),
        documents_held=documents_held,
    )


@pytest.mark.parametrize("seed", range(12))
def test_the_first_candidate_is_the_fusion_served_when_it_ran_exactly(seed: int) -> None:
    """(w) as served in session 45: a language level may open the gate, the closed tie-break within 0.25 z."""
    query = _random_query(seed)
    opens = identifier_gate.rare_gate_opens(
        query.held, query.negated, query.documents_held, query.identifier_bm25, query.holding, language_opens=True
    )
    if opens:
        served = identifier_gate.fused_scores(query.dense, query.identifier_bm25, query.free_bm25, True, WEIGHTS)
    else:
        served = identifier_gate.closed_scores(query.dense, query.free_bm25, WEIGHTS, fusion_taxonomy8.W_TIE_MARGIN)
    assert list(candidates(WEIGHTS))[0] == SERVED
    np.testing.assert_array_equal(candidates(WEIGHTS)[SERVED](query), served)


def test_eleven_candidates_each_named_once() -> None:
    assert len(VARIANTS) == 11 and len(set(VARIANTS)) == 11
    assert len(candidates(WEIGHTS)) == 11


def test_a_language_level_alone_opens_the_served_gate_not_the_language_rule() -> None:
    documents_held = [{"taal:b1"}, set(), set(), set(), set(), set(), set(), set(), set(), set(), set()]
    query = _query([0.9] + [0.8] * 10, [1.0] * 11, [5.0] + [0.0] * 10, held={"taal:b1"}, documents_held=documents_held)
    assert gate_opens(query, Variant())
    assert not gate_opens(query, Variant(language_rule=True))
    documents_held[0] = {"taal:b1", "cert:bhv"}
    query = _query([0.9] + [0.8] * 10, [1.0] * 11, [5.0] + [0.0] * 10, {"taal:b1", "cert:bhv"}, set(), documents_held)
    assert gate_opens(query, Variant(language_rule=True))  # a rare certificate beside it still opens it


def test_a_document_holding_a_negated_identifier_gets_no_closed_lift() -> None:
    # dense: the answer (0) first by a hair; BM25 (negation-free) points at 1, which holds the negated las:135
    documents_held = [{"las:136"}, {"las:135"}, set(), set()]
    query = _query(
        [0.90, 0.895, 0.5, 0.4], [1.0, 3.0, 0.0, 0.0], held=set(), negated={"las:135"}, documents_held=documents_held
    )
    assert int(np.argmax(fused(query, Variant(), WEIGHTS))) == 1  # served: the tie-break lifts 1
    assert int(np.argmax(fused(query, Variant(negated_no_lift=True), WEIGHTS))) == 0


def test_the_tie_break_only_among_denses_first_two() -> None:
    dense = [0.90, 0.80, 0.79, 0.899, 0.1, 0.1]
    near = _query(dense, [0.0, 0.0, 0.0, 4.0, 0.0, 1.0])  # BM25's first is dense's second: may swap
    far = _query([0.90, 0.899, 0.898, 0.897, 0.1, 0.1], [0.0, 0.0, 0.0, 4.0, 0.0, 1.0])  # dense's fourth: not
    top2 = Variant(tie_top=2)
    assert int(np.argmax(fused(near, top2, WEIGHTS))) == 3
    assert int(np.argmax(fused(far, Variant(), WEIGHTS))) == 3  # served: lifted from fourth
    np.testing.assert_array_equal(closed_scores(far, top2, WEIGHTS), z(far.dense))
    assert int(np.argmax(fused(far, Variant(tie_top=3), WEIGHTS))) == 0  # fourth is outside three as well


def test_where_bm25_agrees_with_dense_every_variant_is_served() -> None:
    query = _query([0.9, 0.8, 0.7, 0.6], [5.0, 1.0, 0.0, 2.0])
    for variant in VARIANTS:
        np.testing.assert_array_equal(fused(query, variant, WEIGHTS), fused(query, Variant(), WEIGHTS))


def test_the_agreement_margin_shrinks_with_agreement() -> None:
    query = _query([0.9, 0.88] + [0.5] * 20 + [0.1] * 20, [0.0, 4.0] + [0.0] * 20 + [1.0] * 20)
    tie = closed_scores(query, Variant(agreement_tie=True), WEIGHTS)
    agreement = identifier_gate.scoring.agreement(query.dense, query.free_bm25)
    expected = z(query.dense) + fusion_taxonomy8.AGREEMENT_MARGIN * agreement * query.free_bm25 / 4.0
    np.testing.assert_allclose(tie, expected, rtol=1e-6)
    assert agreement == 0.05 and int(np.argmax(tie)) == 0
    assert int(np.argmax(fused(query, Variant(), WEIGHTS))) == 1  # served: 0.25 z lifts BM25's first


def test_the_pick_is_session_37s_rule_with_strict_margins() -> None:
    sets = {"a.tsv": ([_query([0.9, 0.1], [0.0, 1.0]), _query([0.1, 0.9], [1.0, 0.0])], np.array([0, 1]))}
    bars = {"a.tsv": 1.0}
    row = fusion_taxonomy8.against_bar(candidates(WEIGHTS)[SERVED], sets, bars)
    assert row["held"] == 1 and row["worstMargin"] == 0.0
    assert fusion_taxonomy8.TOLERANCE == 0.0


def test_the_fixed_sets_are_in_data_eval_and_nt2_the_newest() -> None:
    assert len(fusion_taxonomy8.SETS) == 17 and "nl_nt2" in fusion_taxonomy8.SETS
    for stem in fusion_taxonomy8.SETS:
        for half in ("tuning", "heldout"):
            assert (fusion_taxonomy8.EVAL / f"{stem}_{half}.tsv").exists()


PAIRS = [
    ("lasser 136 met geldig cert, 135 niet", "Constructielasser – proces 136 vereist."),
    ("lasser proces 135", "Lasser – proces 135, dagdienst."),
    ("chat en mail, B1", "Chatmedewerker – schriftelijk Nederlands B1, thuis."),
    ("werken op de pont", "Dekknecht veerpont – trossen vastmaken."),
]


def test_load_opens_the_named_sets_only(tmp_path: Path, monkeypatch) -> None:
    write_pair_halves(tmp_path, "nl_oud", PAIRS)
    (tmp_path / "nl_nieuw_tuning.tsv").mkdir()  # opening it would fail: load must not touch it
    monkeypatch.setattr(fusion_taxonomy8, "EVAL", tmp_path)
    sets, parts = fusion_taxonomy8.load(WordHashEmbedder(), "tuning", ("nl_oud",))
    assert list(sets) == ["nl_oud_tuning.tsv"]
    rows, answer = sets["nl_oud_tuning.tsv"]
    assert len(rows) == 4 and list(answer) == [0, 1, 2, 3]
    assert "las:136" in rows[0].held and "las:135" in rows[0].negated
    assert {"dense", "lexical", "lexicalIdentifierTokens", "lexicalNegationFree"} == set(parts["nl_oud_tuning.tsv"])
    bars, table = fusion_taxonomy8.rows_of(sets, parts, WEIGHTS)
    assert set(table) == set(candidates(WEIGHTS)) and bars["nl_oud_tuning.tsv"] <= 1.0
    found = fusion_taxonomy8.misses(sets, {"nl_oud_tuning.tsv": [q for q, _ in PAIRS]}, WEIGHTS, SERVED)
    assert found == {"nl_oud_tuning.tsv": []}  # (w) against itself differs nowhere
