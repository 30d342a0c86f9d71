"""Session 46's candidates (bench/fusion_taxonomy9.py): the served gate (L)+(N) and eight variants of its closed
tie-break (a lift divided by a shared top, scaled by BM25's lead, only where dense and BM25 share their first ten, half
as wide, and a BM25 over the documents' negation-free texts). No model."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from bench import fusion_taxonomy8, fusion_taxonomy9
from bench.fusion_taxonomy9 import SERVED, VARIANTS, Query9, Variant, candidates, closed_scores, fused, tie_margin
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
    free_documents: list[float] | None = None,
) -> Query9:
    documents_held = documents_held or [set() for _ in dense]
    return Query9(
        np.array(dense, np.float32),
        np.array(identifier if identifier is not None else free, np.float32),
        np.array(free, np.float32),
        frozenset(held),
        frozenset(negated),
        documents_held,
        Counter(found for one in documents_held for found in one),
        np.array(free_documents if free_documents is not None else free, np.float32),
    )


def _random_query(seed: int, size: int = 30) -> Query9:
    rng = np.random.default_rng(seed)
    documents_held = [{"cert:vca"} if i % 3 == 0 else ({"taal:b1"} if i % 7 == 0 else set()) for i in range(size)]
    documents_held[5] = {"cert:bhv", "cert:vca"}
    return _query(
        list(rng.normal(0.8, 0.05, size)),
        list(np.maximum(rng.normal(2, 3, size), 0)),
        list(np.maximum(rng.normal(2, 3, size), 0)),
        held=[set(), {"cert:bhv"}, {"taal:b1"}, {"taal:b1", "cert:bhv"}][seed % 4],
        negated={"cert:vca"} if seed % 3 == 0 else set(),
        documents_held=documents_held,
    )


@pytest.mark.parametrize("seed", range(16))
def test_the_first_candidate_is_l_plus_n_as_served_when_it_ran_exactly(seed: int) -> None:
    """(L)+(N) as served before (H): the closed tie-break within 0.25 z (fusion_taxonomy8.W_TIE_MARGIN)."""
    query = _random_query(seed)
    opens = identifier_gate.rare_gate_opens(
        query.held, query.negated, query.documents_held, query.identifier_bm25, query.holding, language_opens=False
    )
    holds_negated = np.array([bool(query.negated & held) for held in query.documents_held])
    free = identifier_gate.no_negated_lift(query.free_bm25, holds_negated)
    served = identifier_gate.closed_scores(query.dense, free, WEIGHTS, fusion_taxonomy8.W_TIE_MARGIN)
    if opens:
        served = identifier_gate.fused_scores(query.dense, query.identifier_bm25, query.free_bm25, True, WEIGHTS)
    assert list(candidates(WEIGHTS))[0] == SERVED
    np.testing.assert_array_equal(candidates(WEIGHTS)[SERVED](query), served)
    np.testing.assert_array_equal(
        candidates(WEIGHTS)[SERVED](query), fusion_taxonomy8.fused(query, fusion_taxonomy9.BASE, WEIGHTS)
    )


def test_nine_candidates_each_named_once() -> None:
    assert len(VARIANTS) == 9 and len(set(VARIANTS)) == 9
    assert len(candidates(WEIGHTS)) == 9 and fusion_taxonomy9.VARIANT_COUNT == 8


def test_where_bm25_agrees_with_dense_every_variant_is_served() -> None:
    query = _query([0.9, 0.8, 0.7, 0.6], [5.0, 1.0, 0.0, 2.0])
    for variant in VARIANTS:
        np.testing.assert_array_equal(fused(query, variant, WEIGHTS), fused(query, Variant(), WEIGHTS))


def test_the_open_gate_is_the_served_one_in_every_variant() -> None:
    documents_held = [set(), {"cert:bhv"}] + [set()] * 10
    query = _query(
        [0.9, 0.85] + [0.5] * 10, [3.0] + [0.0] * 11, [0.0, 5.0] + [0.0] * 10, {"cert:bhv"}, set(), documents_held
    )
    assert fusion_taxonomy9.gate_opens(query)
    for variant in VARIANTS:
        assert int(np.argmax(fused(query, variant, WEIGHTS))) == 1


def test_a_shared_top_divides_the_lift() -> None:
    dense, free = np.array([0.9, 0.89, 0.88, 0.1]), np.array([0.0, 2.0, 2.0, 1.0])
    assert tie_margin(dense, free, Variant()) == fusion_taxonomy8.W_TIE_MARGIN
    assert tie_margin(dense, free, Variant(shared_top=True)) == fusion_taxonomy8.W_TIE_MARGIN / 2


def test_the_lift_scales_with_bm25s_lead_over_its_second() -> None:
    dense = np.array([0.9, 0.89, 0.5, 0.1])
    assert tie_margin(dense, np.array([0.0, 4.0, 3.0, 0.0]), Variant(lead=True)) == pytest.approx(0.25 / 4)
    assert tie_margin(dense, np.array([0.0, 4.0, 0.0, 0.0]), Variant(lead=True)) == pytest.approx(0.25)
    # dense's first by a hair, BM25's first barely ahead of its second: served lifts it, (R) does not
    query = _query([0.90, 0.89, 0.5, 0.4], [1.0, 4.0, 3.9, 0.0])
    assert int(np.argmax(fused(query, Variant(), WEIGHTS))) == 1
    assert int(np.argmax(fused(query, Variant(lead=True), WEIGHTS))) == 0


def test_the_tie_break_only_where_dense_and_bm25_share_their_first_ten() -> None:
    size = 30
    dense = np.linspace(0.9, 0.1, size)
    dense[1] = 0.899
    apart = np.zeros(size)
    apart[[1, 20, 21, 22, 23]] = [5.0, 4.0, 3.0, 2.0, 1.0]  # BM25's first ten share one with dense's first ten
    together = np.zeros(size)
    together[[1, 2, 3, 4]] = [5.0, 1.0, 1.0, 1.0]  # share four
    assert fusion_taxonomy9.shared_first(dense, apart) == 1 and fusion_taxonomy9.shared_first(dense, together) == 4
    assert tie_margin(dense, apart, Variant(share_min=3)) == 0.0
    assert tie_margin(dense, together, Variant(share_min=4)) == fusion_taxonomy8.W_TIE_MARGIN
    np.testing.assert_array_equal(
        closed_scores(_query(list(dense), list(apart)), Variant(share_min=3), WEIGHTS), z(np.float32(dense))
    )


def test_the_smallest_margin_of_the_rules_named() -> None:
    dense, free = np.array([0.9, 0.89, 0.5, 0.1]), np.array([0.0, 4.0, 2.0, 0.0])
    assert tie_margin(dense, free, Variant(small_margin=True)) == fusion_taxonomy9.SMALL_TIE_MARGIN == 0.125
    assert tie_margin(dense, free, Variant(lead=True, small_margin=True)) == pytest.approx(0.125)
    assert tie_margin(dense, free, Variant(share_min=3, lead=True)) == 0.0  # share two of four


def test_document_negation_reads_the_documents_negation_free_bm25_with_no_negated_lift() -> None:
    documents_held = [set(), {"las:135"}, set(), set()]
    query = _query(
        [0.90, 0.895, 0.894, 0.4],
        [1.0, 3.0, 0.0, 0.0],
        negated={"las:135"},
        documents_held=documents_held,
        free_documents=[0.0, 3.0, 2.0, 0.0],
    )
    assert int(np.argmax(fused(query, Variant(), WEIGHTS))) == 0  # served: 1 holds the negated identifier
    assert int(np.argmax(fused(query, Variant(document_negation=True), WEIGHTS))) == 2
    np.testing.assert_array_equal(fusion_taxonomy9.closed_bm25(query, Variant(document_negation=True)), [0, 0, 2, 0])


def test_the_rule_and_the_decision_are_written_before_a_twentieth_set() -> None:
    doc = fusion_taxonomy9.__doc__
    assert "most tuning halves held" in doc and fusion_taxonomy9.TOLERANCE == 0.0
    decision = doc.split("**The decision on the twentieth set** ")[1]
    assert "not below (L)+(N)'s by more than 0.005" in decision and "held-out halves" in decision


def test_the_fixed_sets_are_in_data_eval_and_ondernemer_the_newest() -> None:
    assert len(fusion_taxonomy9.SETS) == 19 and fusion_taxonomy9.SETS[-1] == "nl_ondernemer"
    assert len(set(fusion_taxonomy9.SETS)) == 19
    for stem in fusion_taxonomy9.SETS:
        for half in ("tuning", "heldout"):
            assert (fusion_taxonomy9.EVAL / f"{stem}_{half}.tsv").exists()


PAIRS = [
    ("lasser 136 met geldig cert, 135 niet", "Constructielasser – proces 136 vereist."),
    ("lasser proces 135", "Lasser – proces 135, dagdienst."),
    ("bediening in het weekend", "Bediening doordeweeks, niet in het weekend."),
    ("werken op de pont", "Dekknecht veerpont – trossen vastmaken."),
]


def test_load_opens_the_named_sets_only(tmp_path: Path, monkeypatch) -> None:
    write_pair_halves(tmp_path, "nl_oud", PAIRS)
    (tmp_path / "nl_nieuw_tuning.tsv").mkdir()  # opening it would fail: load must not touch it
    monkeypatch.setattr(fusion_taxonomy8, "EVAL", tmp_path)
    monkeypatch.setattr(fusion_taxonomy9, "EVAL", tmp_path)
    sets, parts = fusion_taxonomy9.load(WordHashEmbedder(), "tuning", ("nl_oud",))
    assert list(sets) == ["nl_oud_tuning.tsv"]
    rows, answer = sets["nl_oud_tuning.tsv"]
    assert len(rows) == 4 and list(answer) == [0, 1, 2, 3]
    assert "las:136" in rows[0].held and "las:135" in rows[0].negated
    assert rows[2].free_bm25[2] > 0 and rows[2].free_bm25_documents[2] < rows[2].free_bm25[2]  # "niet in het weekend"
    bars, table = fusion_taxonomy9.rows_of(sets, parts, WEIGHTS)
    assert set(table) == set(candidates(WEIGHTS)) and bars["nl_oud_tuning.tsv"] <= 1.0
