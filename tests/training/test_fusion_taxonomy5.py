"""Session 42's candidates (bench/fusion_taxonomy5.py): the closed-gate fusions (o)-(s) behind session 39's rare gate,
the negation-free BM25 query of (s), and the extractor gaps (j)-(n). No model."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from bench import fusion_taxonomy, fusion_taxonomy3, fusion_taxonomy4, fusion_taxonomy5
from bench.fusion_taxonomy3 import WELDING_KIND
from bench.fusion_taxonomy5 import CLOSED, S42_KIND, identifiers, name, negation_free
from matching import identifiers as served
from matching import scoring
from matching.settings import RetrievalSettings

z = fusion_taxonomy.fusion_tuning._z


def test_session_42s_extractor_is_the_served_one() -> None:
    """Since session 45 the bench reads the served extractor (its exact port), not a copy of it: the cases below test
    what serves, and a change to it moves this bench's S42 rows with it (bench/fusion_taxonomy5.py's docstring)."""
    assert identifiers is served.identifiers
    assert negation_free is served.negation_free
    assert fusion_taxonomy5._identifiers("VCA basis, geen BHV", S42_KIND) == served.identifiers("VCA basis, geen BHV")


@pytest.mark.parametrize(
    ("text", "held", "negated"),
    [
        ("moet C hebben, code 95 geldig", {"rijbewijs", "rijbewijs:c", "rijbewijs:code95"}, set()),  # (j)
        ("kandidaat heeft wel B", {"rijbewijs", "rijbewijs:b"}, set()),
        ("heeft B1 Nederlands", {"taal:b1"}, set()),  # a language level stays one
        ("moet c hebben", set(), set()),  # capitals only
        ("Heftruck nvt, EPT-certificaat wel", {"cert:ept"}, set()),  # (k), session 41 already
        ("ADR n.v.t.", set(), {"cert:adr"}),
        ("SVH nvt", set(), {"cert:sociale_hygiene"}),
        ("B-VCA alleen = nee.", set(), {"cert:vca", "cert:vca_basis"}),
        ("VCA basis telt niet", set(), {"cert:vca", "cert:vca_basis"}),
        ("EPT alleen is te weinig", set(), {"cert:ept"}),
        ("mbo-2 te laag, VCA wel", {"cert:vca"}, {"opleiding:mbo", "opleiding:mbo2"}),
        ("heftruck-cert. verplicht", {"cert:heftruck"}, set()),  # (l)
        ("reachtruck-certif. gehaald", {"cert:reachtruck"}, set()),
        ("certificaat heftruck wel geldig", {"cert:heftruck"}, set()),  # (m)
        ("Reachtruck hoeft niet, certificaat heftruck wel.", {"cert:heftruck"}, set()),
        ("geen diploma heftruck", set(), {"cert:heftruck"}),
        ("Certificaat orderpickertruck vereist", {"cert:orderpickertruck"}, set()),  # (m) and (n)
        ("echt OPT-certficaat", {"cert:orderpickertruck"}, set()),  # (n)
        ("orderpickertruck-certificaat must", {"cert:orderpickertruck"}, set()),
        ("orderpickertruckcertificaat verlopen", set(), {"cert:orderpickertruck"}),
        ("opt voor dagdienst", set(), set()),  # only in capitals
        ("VCA en geen BHV", {"cert:vca"}, {"cert:bhv"}),  # earlier sessions', unchanged
        ("VOG geen probleem", {"cert:vog"}, set()),
        ("CE heeft kand. niet", set(), {"rijbewijs", "rijbewijs:ce"}),
    ],
)
def test_the_s42_extractor(text: str, held: set[str], negated: set[str]) -> None:
    assert identifiers(text) == (held, negated)


@pytest.mark.parametrize(
    "text",
    [
        "Rijbewijs: B, T",
        "Lasser 135 met certificaat, rijbewijs B en C",
        "heeft geen VCA, wel heftruckcertificaat",
        "AZ-900 gewenst, ITIL is geen must",
        "tot 10 uur savonds, ervr ICT hobby",
        "heftruckchauffeur, 3 jaar ervaring",
        "nooit VCA gehaald, wel BHV",
        "heeft B-VCA en moet C-rijbewijs halen",
    ],
)
def test_texts_without_the_gaps_read_as_session_41s(text: str) -> None:
    assert fusion_taxonomy4.identifiers(text) == identifiers(text)


@pytest.mark.parametrize(
    ("text", "free"),
    [
        ("Reachtruck hoeft niet, heftruck wel", ", heftruck wel"),
        ("dagritten, CE is must, C alleen niet genoeg. Code 95 ook", "dagritten , CE is must , . Code 95 ook"),
        ("geen nachten en geen weekend, alleen vroeg", ", alleen vroeg"),
        ("SVH nvt, HACCP wel", ", HACCP wel"),
        ("kan niet tillen maar wel staan", "kan maar wel staan"),
        ("ontbijt, geen kok nodig", "ontbijt ,"),
    ],
)
def test_the_negation_free_query_drops_what_is_not_needed(text: str, free: str) -> None:
    assert negation_free(text) == free


@pytest.mark.parametrize("text", ["Heftruckchauffeur DC Tiel, 2-ploegen", "VOG geen probleem", "B-VCA gehaald"])
def test_a_query_without_negation_keeps_its_text(text: str) -> None:
    assert negation_free(text) == text


def _query(
    dense: np.ndarray, lexical: np.ndarray, held: set[str] = frozenset(), documents_held=None
) -> fusion_taxonomy5.Query:
    """A query over ``len(dense)`` documents; ``lexical`` for every BM25 (identifier tokens, negation-free too)."""
    documents_held = documents_held or [set() for _ in dense]
    base = fusion_taxonomy.Query(dense, lexical, lexical, lexical, frozenset(held), frozenset(), [], None)
    holding = Counter(found for one in documents_held for found in one)
    kinds = fusion_taxonomy5.KINDS
    return fusion_taxonomy5.Query(
        base,
        dict.fromkeys(kinds, frozenset(held)),
        dict.fromkeys(kinds, frozenset()),
        dict.fromkeys(kinds, documents_held),
        dict.fromkeys(kinds, holding),
        dict.fromkeys(kinds, holding),
        len(dense),
        lexical,
    )


def _random(seed: int, size: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lexical = rng.random(size).astype(np.float32) * 8
    lexical[rng.random(size) < 0.3] = 0
    return rng.random(size).astype(np.float32), lexical


def _order(scores: np.ndarray) -> list[int]:
    return list(np.argsort(-scores, kind="stable"))


def test_an_open_gate_gives_session_39s_pick_and_a_closed_one_the_closed_fusion() -> None:
    weights = RetrievalSettings()
    fusions = fusion_taxonomy5.candidates(weights)
    dense, lexical = _random(42)
    first = int(np.argmax(lexical))
    documents = [{"cert:ept"} if at == first else set() for at in range(40)]  # 1 of 40 holds it: rare
    opened = _query(dense, lexical, {"cert:ept"}, documents)
    closed = _query(dense, lexical)
    s39 = fusions[fusion_taxonomy3.name(2.0, WELDING_KIND, 0.1)][1]
    for kind in (WELDING_KIND, S42_KIND):
        for variant, fusion in CLOSED.items():
            candidate = fusions[name(kind, closed=variant)][1]
            np.testing.assert_allclose(candidate(opened), z(dense) + 2.0 * z(lexical), rtol=1e-6)
            np.testing.assert_allclose(
                candidate(closed), fusion(closed, 0.375), rtol=1e-9
            )  # 0.15 / 0.4 = 0.375 - 6e-17
        np.testing.assert_array_equal(fusions[name(S42_KIND)][1](closed), s39(closed))
        np.testing.assert_array_equal(fusions[name(S42_KIND)][1](opened), s39(opened))


def test_each_closed_fusion_keeps_its_promise() -> None:
    for seed in range(20):
        dense, lexical = _random(seed)
        query = _query(dense, lexical)
        served = _order(scoring.fuse(dense, lexical, RetrievalSettings()))
        agrees = int(np.argmax(lexical)) == int(np.argmax(dense))
        # (o): the served order where BM25's first is dense's, dense's order (× 0) where it is not
        shrunk = _order(CLOSED["(o) BM25 × 0.0 where its first is not dense's"](query, 0.375))
        assert shrunk == served if agrees else shrunk == _order(dense)
        # (p): BM25 lifts a document past another only within the margin of dense's z-scores
        for margin in fusion_taxonomy5.TIE_MARGINS:
            fused = CLOSED[f"(p) dense first, BM25 a tie-break within {margin} z"](query, 0.375)
            ahead = z(dense)[:, None] - z(dense)[None, :] > margin  # row beats column by more than the margin
            assert (fused[:, None] > fused[None, :])[ahead].all()
        # (q): never more BM25 than served
        peaked = CLOSED["(q) BM25 × min(1, its gap / dense's gap)"](query, 0.375)
        served_terms = fusion_taxonomy5._served_terms(query, lexical, 0.375)
        share = (peaked - served_terms[0]) / np.where(served_terms[1] == 0, 1, served_terms[1])
        assert np.all(share[served_terms[1] != 0] <= 1 + 1e-4)  # float32 z-scores
        # (s): the served fusion over the negation-free BM25 (here equal to the ordinary one)
        free = CLOSED["(s) the served fusion over negation-free BM25"](query, 0.375)
        assert _order(free) == served


def test_rank_fusion_by_hand() -> None:
    dense = np.array([0.9, 0.8, 0.7], np.float32)
    lexical = np.array([0.0, 1.0, 2.0], np.float32)
    fused = CLOSED["(r) rank fusion, k 10, BM25 × served ratio · agreement"](_query(dense, lexical), 0.375)
    agreement = scoring.agreement(dense, lexical)  # 2 of the 3: BM25 finds only two
    expected = [1 / 11, 1 / 12 + 0.375 * agreement / 12, 1 / 13 + 0.375 * agreement / 11]
    np.testing.assert_allclose(fused, expected, rtol=1e-6)


def test_the_gap_is_the_first_lead_in_z_units() -> None:
    values = np.array([0.0, 1.0, 3.0, 2.0])
    assert fusion_taxonomy5._gap(values) == pytest.approx(1.0 / values.std())
    assert fusion_taxonomy5._gap(np.ones(5)) == 0.0


def test_candidates_keep_session_41s_first_and_add_the_grid() -> None:
    fusions = fusion_taxonomy5.candidates(RetrievalSettings())
    earlier = fusion_taxonomy4.candidates(RetrievalSettings())
    assert list(fusions)[: len(earlier)] == list(earlier)  # the served fusion first: it wins an exact tie
    assert len(fusions) == len(earlier) + 3 + 2 * len(CLOSED) == 126
    assert len(set(fusions)) == len(fusions)
    assert all(bm25 in fusion_taxonomy.BM25S for bm25, _ in fusions.values())
