"""Session 39's fixes of the taxonomy gate (bench/fusion_taxonomy3.py): the gate opens only for an identifier few
documents hold (d), and a welding process number before a certificate word is an identifier (e). No model."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from bench import fusion_taxonomy, fusion_taxonomy2, fusion_taxonomy3
from bench.fusion_taxonomy3 import (
    CODES_KIND,
    ONLY_FIRST,
    WELDING_KIND,
    identifiers,
    rare_gate_opens,
    welding_numbers,
)
from matching import scoring
from matching.settings import RetrievalSettings


@pytest.mark.parametrize(
    ("text", "held", "negated"),
    [
        ("kl. heeft 114 certificaat", {"las:114"}, set()),  # session 38's miss: no welding word
        ("135 cert. verlopen", set(), {"las:135"}),
        ("lascertificaat 141, geldig tot 2027", {"las:141"}, set()),
        ("proces 111 en 136 certificaat", {"las:111", "las:136"}, set()),
        ("geen 141 certificaat, wel VCA", {"cert:vca"}, {"las:141"}),
        ("114 certificaat nog niet", set(), {"las:114"}),  # negation after, the certificate word between
        ("Lasser 135 met certificaat", {"las:135"}, set()),  # a welding text: session 37's rule already
    ],
)
def test_welding_numbers_before_a_certificate_word(text: str, held: set[str], negated: set[str]) -> None:
    assert identifiers(text, WELDING_KIND) == (held, negated)


@pytest.mark.parametrize(
    "text",
    [
        "kl. heeft 114 certificaat",
        "lascertificaat 141",
    ],
)
def test_welding_numbers_are_not_identifiers_without_fix_e(text: str) -> None:
    assert not {found for found in identifiers(text, CODES_KIND)[0] if found.startswith("las:")}


@pytest.mark.parametrize(
    "text",
    [
        "15 certificaten in de la",  # 15 is a process number, but a count here: no certificate word right after
        "werkt 135 uur per maand, heeft certificaat",
        "in 2015 certificaat gehaald",
        "141 medewerkers",
    ],
)
def test_other_numbers_stay_numbers(text: str) -> None:
    found = welding_numbers(text)
    assert [number for _, _, number in found] == (["las:15"] if text.startswith("15 certificaten") else [])


def test_only_a_welding_number_right_before_or_after_counts() -> None:
    assert welding_numbers("heeft 114 certificaat") == [(1, 3, "las:114")]
    assert welding_numbers("procesnummer 311") == [(0, 2, "las:311")]
    assert welding_numbers("heeft 113 certificaat") == []  # not a process of the list


def _documents() -> tuple[list[set[str]], Counter]:
    """Twenty documents: every one holds licence B, one holds EPT, three hold the forklift certificate."""
    documents = [{"rijbewijs", "rijbewijs:b"} for _ in range(20)]
    documents[0] |= {"cert:ept"}
    for at in (1, 2, 3):
        documents[at] |= {"cert:heftruck"}
    return documents, Counter(found for held in documents for found in held)


def test_a_common_identifier_alone_opens_no_rare_gate() -> None:
    documents, holding = _documents()
    lexical = np.zeros(20)
    lexical[[4, 5]] = 3.0, 1.0  # BM25's first: document 4, licence B only
    held = frozenset({"rijbewijs", "rijbewijs:b"})
    assert rare_gate_opens(held, frozenset(), documents, holding, lexical, None)  # session 38's gate opens
    for rarity in (*fusion_taxonomy3.RARE_SHARES, ONLY_FIRST):
        assert not rare_gate_opens(held, frozenset(), documents, holding, lexical, rarity)


def test_a_rare_identifier_opens_it_by_share_or_when_only_the_first_holds_it() -> None:
    documents, holding = _documents()
    ept = frozenset({"rijbewijs:b", "cert:ept"})
    first_is_0 = np.zeros(20)
    first_is_0[[0, 1]] = 3.0, 1.0
    for rarity in (*fusion_taxonomy3.RARE_SHARES, ONLY_FIRST):
        assert rare_gate_opens(ept, frozenset(), documents, holding, first_is_0, rarity)
    forklift = frozenset({"cert:heftruck"})
    first_is_1 = np.zeros(20)
    first_is_1[[0, 1]] = 1.0, 3.0
    assert not rare_gate_opens(forklift, frozenset(), documents, holding, first_is_1, 0.1)  # 3 of 20 hold it
    assert rare_gate_opens(forklift, frozenset(), documents, holding, first_is_1, 0.2)
    assert not rare_gate_opens(forklift, frozenset(), documents, holding, first_is_1, ONLY_FIRST)
    assert not rare_gate_opens(forklift, frozenset({"cert:ept"}), documents, holding, first_is_0, 0.2)  # 0 lacks it


def _query(held: set[str], documents: list[set[str]]) -> fusion_taxonomy3.Query:
    rng = np.random.default_rng(39)
    dense, lexical, identifier_tokens = (rng.random(len(documents)).astype(np.float32) for _ in range(3))
    base = fusion_taxonomy.Query(dense, lexical, identifier_tokens, lexical, frozenset(held), frozenset(), [], None)
    holding = Counter(found for one in documents for found in one)
    return fusion_taxonomy3.Query(
        base,
        dict.fromkeys(fusion_taxonomy3.KINDS, frozenset(held)),
        dict.fromkeys(fusion_taxonomy3.KINDS, frozenset()),
        dict.fromkeys(fusion_taxonomy3.KINDS, documents),
        dict.fromkeys(fusion_taxonomy3.KINDS, holding),
    )


def test_the_rare_gate_reads_identifier_tokens_when_open_and_the_served_fusion_when_closed() -> None:
    weights = RetrievalSettings()
    fusions = fusion_taxonomy3.candidates(weights)
    probe = _query(set(), [set()] * 40)
    first = int(np.argmax(probe.base.lexical_identifiers))
    common = [{"rijbewijs:b"} for _ in range(40)]
    closed = _query({"rijbewijs:b"}, common)  # every document holds it: no rarity lets it through
    rare = [{"rijbewijs:b", "cert:ept"} if at == first else {"rijbewijs:b"} for at in range(40)]
    opened = _query({"rijbewijs:b", "cert:ept"}, rare)  # EPT: 1 of 40 documents
    z = fusion_taxonomy.fusion_tuning._z
    for rarity in (*fusion_taxonomy3.RARE_SHARES, ONLY_FIRST):
        fusion = fusions[fusion_taxonomy3.name(2.0, WELDING_KIND, rarity)][1]
        np.testing.assert_array_equal(fusion(closed), scoring.fuse(closed.dense, closed.lexical, weights))
        expected = z(opened.dense) + 2.0 * z(opened.base.lexical_identifiers)
        np.testing.assert_allclose(fusion(opened), expected, rtol=1e-6)


def test_candidates_keep_session_38s_and_add_the_grid() -> None:
    fusions = fusion_taxonomy3.candidates(RetrievalSettings())
    earlier = fusion_taxonomy2.candidates(RetrievalSettings())
    assert list(fusions)[: len(earlier)] == list(earlier)  # the served fusion first: it wins an exact tie
    assert len(fusions) == len(earlier) + 27
    assert fusion_taxonomy3.name(2.0, CODES_KIND, None) not in fusions  # session 38's own, not counted twice
