"""Session 38's fixes of the taxonomy gate (bench/fusion_taxonomy2.py): negation after the term, codes, and the
served fusion over ordinary BM25 whenever the gate is closed."""

from __future__ import annotations

import numpy as np
import pytest

from bench import fusion_taxonomy, fusion_taxonomy2
from bench.fusion_taxonomy2 import codes, gate_opens, identifiers
from matching import scoring
from matching.settings import RetrievalSettings


@pytest.mark.parametrize(
    ("text", "held", "negated"),
    [
        ("VCA is niet nodig", set(), {"cert:vca"}),
        ("BHV halen we samen", set(), {"cert:bhv"}),
        ("de VCA-cursus betalen wij", set(), {"cert:vca"}),
        ("heftruckcertificaat nog niet", set(), {"cert:heftruck"}),
        ("Rijbewijs B is geen eis", set(), {"rijbewijs", "rijbewijs:b"}),
        ("VCA heeft hij niet en CE ook niet", set(), {"cert:vca", "rijbewijs", "rijbewijs:ce"}),
        ("EHBO heeft ze, BHV nog niet", {"cert:ehbo"}, {"cert:bhv"}),
        ("VOG geen probleem", {"cert:vog"}, set()),  # "geen probleem" says it is there
        ("VCA en geen BHV", {"cert:vca"}, {"cert:bhv"}),  # "geen" negates what follows it, not VCA
        ("VCA en wil niet tillen", {"cert:vca"}, set()),  # a verb stands between: not a negation of VCA
        ("heeft geen VCA, wel heftruckcertificaat", {"cert:heftruck"}, {"cert:vca"}),  # session 37's, kept
    ],
)
def test_negation_after_the_term(text: str, held: set[str], negated: set[str]) -> None:
    assert identifiers(text, with_codes=False) == (held, negated)


def test_codes_are_hyphenated_capitals_with_a_digit() -> None:
    text = "AZ-900 gewenst, ISO-9001 en NEN-3140; A2-niveau, 2-ploegen, 32-38u, Arnhem-N, az-104"
    assert [code for _, _, code in codes(text)] == ["code:az-900", "code:iso-9001", "code:nen-3140"]


@pytest.mark.parametrize(
    ("text", "held", "negated"),
    [
        ("AZ-900 gewenst, ITIL is geen must", {"code:az-900"}, set()),
        ("MS-102 niet nodig, wel AZ-104", {"code:az-104"}, {"code:ms-102"}),
        ("nog geen AZ-900", set(), {"code:az-900"}),
        ("NEN-3140", {"cert:nen3140_vop", "code:nen-3140"}, set()),  # the taxonomy's and the code, both
    ],
)
def test_codes_join_the_taxonomy_and_are_negated_alike(text: str, held: set[str], negated: set[str]) -> None:
    assert identifiers(text, with_codes=True) == (held, negated)
    assert not {found for found in identifiers(text, with_codes=False)[0] if found.startswith("code:")}


def test_gate_needs_every_held_identifier_and_no_negated_one_in_bm25s_first() -> None:
    documents = [{"code:az-900", "cert:vca"}, {"code:az-900"}, set()]
    assert gate_opens(frozenset({"code:az-900"}), frozenset(), documents, np.array([2.0, 1.0, 0.0]))
    assert not gate_opens(frozenset({"code:az-900"}), frozenset({"cert:vca"}), documents, np.array([2.0, 1.0, 0.0]))
    assert gate_opens(frozenset({"code:az-900"}), frozenset({"cert:vca"}), documents, np.array([1.0, 2.0, 0.0]))
    assert not gate_opens(frozenset(), frozenset(), documents, np.array([2.0, 1.0, 0.0]))
    assert not gate_opens(frozenset({"code:az-900"}), frozenset(), documents, np.zeros(3))


def _query(held: set[str], documents: list[set[str]]) -> fusion_taxonomy2.Query:
    rng = np.random.default_rng(38)
    dense, lexical, identifier_tokens = (rng.random(len(documents)).astype(np.float32) for _ in range(3))
    base = fusion_taxonomy.Query(dense, lexical, identifier_tokens, lexical, frozenset(held), frozenset(), [], None)
    kinds = fusion_taxonomy2.KINDS
    return fusion_taxonomy2.Query(
        base,
        dict.fromkeys(kinds, frozenset(held)),
        dict.fromkeys(kinds, frozenset()),
        dict.fromkeys(kinds, documents),
    )


def test_a_closed_gate_gives_the_served_fusion_over_ordinary_bm25() -> None:
    weights = RetrievalSettings()
    fusions = fusion_taxonomy2.candidates(weights)
    closed = _query(set(), [set()] * 5)  # no identifiers: the gate stays closed
    served = scoring.fuse(closed.dense, closed.lexical, weights)
    for weight in fusion_taxonomy2.GATE_WEIGHTS:
        fused = fusions[fusion_taxonomy2.name(weight, "taxonomy + codes", "identifier tokens")][1](closed)
        np.testing.assert_array_equal(fused, served)  # not the identifier-token BM25 (fix (b))
    first = int(np.argmax(closed.base.lexical_identifiers))
    documents = [{"code:az-900"} if at == first else set() for at in range(5)]
    opened = _query({"code:az-900"}, documents)
    fused = fusions[fusion_taxonomy2.name(2.0, "taxonomy + codes", "identifier tokens")][1](opened)
    z = fusion_taxonomy.fusion_tuning._z
    np.testing.assert_allclose(fused, z(opened.dense) + 2.0 * z(opened.base.lexical_identifiers), rtol=1e-6)


def test_candidates_keep_session_37s_and_add_the_grid() -> None:
    fusions = fusion_taxonomy2.candidates(RetrievalSettings())
    assert next(iter(fusions)) == fusion_taxonomy.SERVED  # the served fusion first: it wins an exact tie
    assert fusion_taxonomy.PICKED in fusions
    assert len(fusions) == len(fusion_taxonomy.candidates(RetrievalSettings())) + 12
