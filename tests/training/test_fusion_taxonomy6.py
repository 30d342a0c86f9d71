"""Session 42's second candidates (bench/fusion_taxonomy6.py): the negation-free BM25 under the bounds (t)-(w) behind
session 39's rare gate, and a language level that never opens the gate on its own. No model."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from bench import fusion_taxonomy, fusion_taxonomy5, fusion_taxonomy6
from bench.fusion_taxonomy5 import S42_KIND, identifiers
from bench.fusion_taxonomy6 import AGREED_MARGIN, CLOSED, LANGUAGE, name, rare_gate_opens
from matching import scoring
from matching.settings import RetrievalSettings

z = fusion_taxonomy.fusion_tuning._z
RATIO = 0.375  # the served lexical/dense ratio, 0.15 / 0.4
SHRUNK = "(t) negation-free BM25 × {} where its first is not dense's"
TIE_BREAK = "(u) dense first, negation-free BM25 a tie-break within {} z"
AGREED = f"(w) (s) where negation-free BM25's first is dense's, else its tie-break within {AGREED_MARGIN} z"


def _query(
    dense: np.ndarray,
    lexical: np.ndarray,
    free: np.ndarray | None = None,
    held: frozenset[str] = frozenset(),
    documents_held: list[set[str]] | None = None,
) -> fusion_taxonomy5.Query:
    """A query over ``len(dense)`` documents: ``lexical`` as ordinary and identifier-token BM25, ``free`` (``lexical``
    when None) as the negation-free BM25."""
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
        lexical if free is None else free,
    )


def _random(seed: int, size: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lexical = rng.random(size).astype(np.float32) * 8
    lexical[rng.random(size) < 0.3] = 0
    return rng.random(size).astype(np.float32), lexical


def _order(scores: np.ndarray) -> list[int]:
    return list(np.argsort(-scores, kind="stable"))


@pytest.mark.parametrize(
    "text",
    ["taal b1", "schrijft NL op B1", "Nederlands op B1-niveau", "NT2-niveau", "taalniveau 2F", "heeft C1 Engels"],
)
def test_language_levels_are_the_taal_identifiers(text: str) -> None:
    held, _ = identifiers(text)
    assert held and all(found.startswith(LANGUAGE) for found in held)


def _gate_query(held: set[str], first_holds: set[str]) -> tuple[fusion_taxonomy5.Query, np.ndarray]:
    """40 documents; BM25's first holds ``first_holds``, ten others hold ``cert:vca`` (common: 11 of 40)."""
    dense, lexical = _random(7)
    first = int(np.argmax(lexical))
    others = [at for at in range(40) if at != first][:10]
    documents = [set(first_holds) if at == first else {"cert:vca"} if at in others else set() for at in range(40)]
    return _query(dense, lexical, held=frozenset(held), documents_held=documents), lexical


def test_a_language_level_alone_no_longer_opens_the_gate() -> None:
    query, lexical = _gate_query({"taal:b1"}, {"taal:b1"})  # 1 of 40 holds B1: rare
    assert rare_gate_opens(query, S42_KIND, lexical)  # session 39's gate opens on it
    assert not rare_gate_opens(query, S42_KIND, lexical, language_opens=False)
    query, lexical = _gate_query({"taal:b1", "cert:vca"}, {"taal:b1", "cert:vca"})  # VCA common, B1 the rare one
    assert rare_gate_opens(query, S42_KIND, lexical)
    assert not rare_gate_opens(query, S42_KIND, lexical, language_opens=False)


def test_a_rare_identifier_beside_a_language_level_still_opens_it() -> None:
    query, lexical = _gate_query({"taal:b1", "cert:ept"}, {"taal:b1", "cert:ept"})
    assert rare_gate_opens(query, S42_KIND, lexical, language_opens=False)
    query, lexical = _gate_query({"taal:b1", "cert:ept"}, {"cert:ept"})  # the first lacks B1: closed as before
    assert not rare_gate_opens(query, S42_KIND, lexical)
    assert not rare_gate_opens(query, S42_KIND, lexical, language_opens=False)


def test_an_open_gate_gives_session_39s_pick_and_a_closed_one_the_closed_fusion() -> None:
    weights = RetrievalSettings()
    fusions = fusion_taxonomy6.candidates(weights)
    opened, lexical = _gate_query({"cert:ept"}, {"cert:ept"})
    dense = opened.dense
    closed = _query(dense, lexical, free=lexical * 0.5 + 1)
    for language_opens in (True, False):
        for variant, fusion in CLOSED.items():
            candidate = fusions[name(variant, language_opens)][1]
            np.testing.assert_allclose(candidate(opened), z(dense) + 2.0 * z(lexical), rtol=1e-6)
            np.testing.assert_allclose(candidate(closed), fusion(closed, RATIO), rtol=1e-9)
    served = fusions[name(language_opens=False)][1]
    np.testing.assert_array_equal(served(closed), scoring.fuse(dense, lexical, weights))
    s42_pick = fusions[fusion_taxonomy5.name(S42_KIND, closed=fusion_taxonomy6.S42_TIE_BREAK)][1]
    with_rule = fusions[name(fusion_taxonomy6.S42_TIE_BREAK, language_opens=False)][1]
    for query in (opened, closed):
        np.testing.assert_allclose(with_rule(query), s42_pick(query), rtol=1e-9)
    language, _ = _gate_query({"taal:b1"}, {"taal:b1"})
    np.testing.assert_allclose(
        with_rule(language), fusion_taxonomy5.CLOSED[fusion_taxonomy6.S42_TIE_BREAK](language, RATIO)
    )
    np.testing.assert_allclose(s42_pick(language), z(language.dense) + 2.0 * z(lexical), rtol=1e-6)


def test_without_negation_the_bounds_are_session_42s_over_ordinary_bm25() -> None:
    earlier = fusion_taxonomy5.CLOSED
    for seed in range(20):
        dense, lexical = _random(seed)
        query = _query(dense, lexical)  # the negation-free BM25 equals the ordinary one
        for shrink in fusion_taxonomy6.FREE_SHRINKS:
            mine = CLOSED[SHRUNK.format(shrink)](query, RATIO)
            theirs = earlier[f"(o) BM25 × {shrink} where its first is not dense's"](query, RATIO)
            np.testing.assert_allclose(mine, theirs, rtol=1e-6)
        for margin in fusion_taxonomy6.FREE_MARGINS:
            mine = CLOSED[TIE_BREAK.format(margin)](query, RATIO)
            theirs = earlier[f"(p) dense first, BM25 a tie-break within {margin} z"](query, RATIO)
            np.testing.assert_allclose(mine, theirs, rtol=1e-6)


def test_the_bounds_read_the_negation_free_bm25() -> None:
    for seed in range(20):
        dense, lexical = _random(seed)
        _, free = _random(seed + 100)
        query = _query(dense, lexical, free)
        same = _query(dense, free, free)  # ordinary BM25 set to the negation-free one: nothing may change
        for fusion in CLOSED.values():
            np.testing.assert_allclose(fusion(query, RATIO), fusion(same, RATIO), rtol=1e-6)
        agrees = int(np.argmax(free)) == int(np.argmax(dense))
        free_served = fusion_taxonomy5.CLOSED[fusion_taxonomy6.S42_FREE](query, RATIO)
        # (t): (s)'s order where the firsts agree, dense's (× 0) where they do not
        shrunk = _order(CLOSED[SHRUNK.format(0.0)](query, RATIO))
        assert shrunk == (_order(free_served) if agrees else _order(dense))
        # (w): (s) where the firsts agree, else NF lifts a document past another only within the margin
        agreed = CLOSED[AGREED](query, RATIO)
        if agrees:
            np.testing.assert_allclose(agreed, free_served, rtol=1e-6)
        else:
            ahead = z(dense)[:, None] - z(dense)[None, :] > AGREED_MARGIN
            assert (agreed[:, None] > agreed[None, :])[ahead].all()
        # (u): the tie-break's promise, always
        for margin in fusion_taxonomy6.FREE_MARGINS:
            fused = CLOSED[TIE_BREAK.format(margin)](query, RATIO)
            ahead = z(dense)[:, None] - z(dense)[None, :] > margin
            assert (fused[:, None] > fused[None, :])[ahead].all()


def test_a_negation_free_bm25_that_scores_nothing_leaves_dense() -> None:
    dense, lexical = _random(3)
    query = _query(dense, lexical, np.zeros_like(lexical))
    for fusion in CLOSED.values():
        assert _order(fusion(query, RATIO)) == _order(dense)


def test_candidates_keep_session_42s_first_and_add_the_grid() -> None:
    fusions = fusion_taxonomy6.candidates(RetrievalSettings())
    earlier = fusion_taxonomy5.candidates(RetrievalSettings())
    assert list(fusions)[: len(earlier)] == list(earlier)  # the served fusion first: it wins an exact tie
    assert len(fusions) == len(earlier) + 3 + 2 * len(CLOSED) == 139
    assert len(set(fusions)) == len(fusions)
    assert all(bm25 in fusion_taxonomy.BM25S for bm25, _ in fusions.values())
