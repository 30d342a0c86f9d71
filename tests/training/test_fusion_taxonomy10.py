"""Session 47's candidates (bench/fusion_taxonomy10.py): the served gate (H) and eight variants (digits as number
words, a query word meeting the compounds it heads, the closed BM25 a tie-break everywhere). No model."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from bench import fusion_taxonomy8, fusion_taxonomy9, fusion_taxonomy10
from bench.fusion_taxonomy10 import (
    SERVED,
    VARIANTS,
    Compounds,
    Query10,
    Variant,
    candidates,
    compound_widened,
    fused,
    number_words,
)
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
    widened: dict[str, tuple[list[float], list[float]]] | None = None,
) -> Query10:
    documents_held = documents_held or [set() for _ in dense]
    identifier = identifier if identifier is not None else free
    widened = widened or {}
    return Query10(
        np.array(dense, np.float32),
        np.array(identifier, np.float32),
        np.array(free, np.float32),
        frozenset(held),
        frozenset(negated),
        documents_held,
        Counter(found for one in documents_held for found in one),
        {
            mode: tuple(np.array(values, np.float32) for values in widened.get(mode, (identifier, free)))
            for mode in fusion_taxonomy10.MODES
        },
    )


def _random_query(seed: int, size: int = 30) -> Query10:
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
def test_the_first_candidate_is_h_as_served_exactly(seed: int) -> None:
    """(H) as served: (L), (N), the closed tie-break within identifier_gate.TIE_MARGIN (0.125)."""
    query = _random_query(seed)
    opens = identifier_gate.rare_gate_opens(
        query.held, query.negated, query.documents_held, query.identifier_bm25, query.holding, language_opens=False
    )
    holds_negated = np.array([bool(query.negated & held) for held in query.documents_held])
    free = identifier_gate.no_negated_lift(query.free_bm25, holds_negated)
    served = identifier_gate.closed_scores(query.dense, free, WEIGHTS)
    if opens:
        served = identifier_gate.fused_scores(query.dense, query.identifier_bm25, query.free_bm25, True, WEIGHTS)
    assert identifier_gate.TIE_MARGIN == 0.125 and list(candidates(WEIGHTS))[0] == SERVED
    np.testing.assert_array_equal(candidates(WEIGHTS)[SERVED](query), served)


def test_nine_candidates_each_named_once() -> None:
    assert len(VARIANTS) == 9 and len(set(VARIANTS)) == 9
    assert len(set(candidates(WEIGHTS))) == 9 and fusion_taxonomy10.VARIANT_COUNT == 8


def test_digits_standing_alone_become_number_words() -> None:
    assert number_words("Wil 2-ploegendienst, 3 ploegen") == "Wil twee-ploegendienst, drie ploegen"
    assert number_words("12 uur en 9 dagen") == "twaalf uur en negen dagen"
    for kept in ("proces 135", "B2", "AZ-104", "2016–2021", "7.00 uur", "1 dag", "13 jaar", "8/10", "2e ronde"):
        assert number_words(kept) == kept


def test_a_query_word_meets_the_compounds_it_heads_or_starts() -> None:
    compounds = Compounds.of(["veerpont", "ploegendienst", "dienst", "lasser", "kantoor"])
    assert compound_widened("werken op de pont", compounds) == "werken op de pont veerpont"
    assert compound_widened("in twee ploegen", compounds) == "in twee ploegen ploegendienst"
    assert compound_widened("in twee ploegen", compounds, head_only=True) == "in twee ploegen"
    assert compound_widened("een nachtdienst", compounds) == "een nachtdienst dienst"  # the head of the query's word
    assert compound_widened("lasser gezocht", compounds) == "lasser gezocht"  # nothing joined: the query itself
    assert compound_widened("las", compounds) == "las"  # shorter than HEAD_MIN


def test_the_widened_bm25s_find_the_compound_and_the_number() -> None:
    documents = ["Dekknecht veerpont, trossen vastmaken.", "Grondwerker in een ploeg.", "Wil 2-ploegendienst."]
    queries = ["werken op de pont", "in twee ploegen"]
    rows = fusion_taxonomy10.widened_bm25s(queries, documents)
    assert rows[0]["C"][1][0] > 0 and rows[0]["Ch"][1][0] > 0  # pont -> veerpont
    assert rows[1]["VC"][1][2] > rows[1]["C"][1][2] > 0  # twee meets 2-, ploegen starts ploegendienst
    assert rows[1]["V"][1][2] > 0 and rows[1]["Ch"][1][2] == 0  # the head alone does not widen "ploegen"
    # the identifier tokens keep the text's own codes under (V)
    analyzer = fusion_taxonomy10.NumberIdentifierAnalyzer()
    assert identifier_gate.MARK + "2-ploegendienst" in analyzer("Wil 2-ploegendienst")


def test_the_closed_tie_break_everywhere_keeps_dense_order_beyond_the_margin() -> None:
    query = _query([0.9, 0.8, 0.7, 0.1], [5.0, 4.9, 0.0, 0.0])  # BM25's first is dense's: served fuses fully
    served, tie = fused(query, Variant(), WEIGHTS), fused(query, Variant(tie_everywhere=True), WEIGHTS)
    np.testing.assert_allclose(tie, z(query.dense) + 0.125 * query.free_bm25 / 5.0, rtol=1e-6)
    assert not np.allclose(served, tie)


def test_closed_only_keeps_the_open_gates_identifier_bm25() -> None:
    base = [1.0, 0.0, 0.0, 0.0]
    widened = {"Ch": ([0.0, 9.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0]), "VCh": ([0.0, 9.0, 0.0, 0.0], [0.0, 2.0, 0, 0])}
    widened["V"] = ([0.0, 0.0, 7.0, 0.0], base)
    query = _query([0.9, 0.89, 0.5, 0.1], base, widened=widened)
    read = fusion_taxonomy10.read_by(query, Variant(compound="head", closed_only=True))
    np.testing.assert_array_equal(read.identifier_bm25, query.identifier_bm25)
    np.testing.assert_array_equal(read.free_bm25, [0.0, 2.0, 0.0, 0.0])
    read = fusion_taxonomy10.read_by(query, Variant(numbers=True, compound="head", closed_only=True))
    np.testing.assert_array_equal(read.identifier_bm25, [0.0, 0.0, 7.0, 0.0])
    read = fusion_taxonomy10.read_by(query, Variant(compound="head", tie_everywhere=True))
    np.testing.assert_array_equal(read.identifier_bm25, [0.0, 9.0, 0.0, 0.0])


def test_the_rule_and_the_decision_are_written_in_the_module() -> None:
    doc = fusion_taxonomy10.__doc__
    assert "most tuning halves held" in doc and fusion_taxonomy10.TOLERANCE == 0.0
    decision = " ".join(doc.split("**The decision on the twenty-first set** ")[1].split())
    assert "not below (H)'s by more than 0.005" in decision and "held-out halves" in decision
    assert "worst held-out margin over them is not below (H)'s by more than 0.002" in decision
    assert "**Written late**" in doc


def test_the_fixed_sets_are_in_data_eval_and_werkverhaal_the_newest() -> None:
    assert len(fusion_taxonomy10.SETS) == 20 and fusion_taxonomy10.SETS[-1] == "nl_werkverhaal"
    assert len(set(fusion_taxonomy10.SETS)) == 20 and "nl_pdfcv" not in fusion_taxonomy10.SETS
    for stem in fusion_taxonomy10.SETS:
        for half in ("tuning", "heldout"):
            assert (fusion_taxonomy10.EVAL / f"{stem}_{half}.tsv").exists()


PAIRS = [
    ("lasser 136 met geldig cert, 135 niet", "Constructielasser – proces 136 vereist."),
    ("lasser proces 135, in twee ploegen", "Lasser – proces 135, 2-ploegendienst."),
    ("bediening in het weekend", "Bediening doordeweeks, niet in het weekend."),
    ("werken op de pont", "Dekknecht veerpont – trossen vastmaken."),
]


def test_load_opens_the_named_sets_only(tmp_path: Path, monkeypatch) -> None:
    write_pair_halves(tmp_path, "nl_oud", PAIRS)
    (tmp_path / "nl_nieuw_tuning.tsv").mkdir()  # opening it would fail: load must not touch it
    monkeypatch.setattr(fusion_taxonomy8, "EVAL", tmp_path)
    monkeypatch.setattr(fusion_taxonomy10, "EVAL", tmp_path)
    sets, parts = fusion_taxonomy10.load(WordHashEmbedder(), "tuning", ("nl_oud",))
    assert list(sets) == ["nl_oud_tuning.tsv"]
    rows, answer = sets["nl_oud_tuning.tsv"]
    assert len(rows) == 4 and list(answer) == [0, 1, 2, 3]
    assert "las:136" in rows[0].held and "las:135" in rows[0].negated
    assert set(rows[3].widened) == set(fusion_taxonomy10.MODES)
    assert rows[3].free_bm25[3] == 0 and rows[3].widened["Ch"][1][3] > 0  # pont meets veerpont only widened
    bars, table = fusion_taxonomy10.rows_of(sets, parts, WEIGHTS)
    assert set(table) == set(candidates(WEIGHTS)) and bars["nl_oud_tuning.tsv"] <= 1.0
    assert fusion_taxonomy9.SETS == fusion_taxonomy10.SETS[:-1]
