"""Session 41's candidates (bench/fusion_taxonomy4.py): rarity over the bestand (f), two holders opening nothing (f2),
the licence run after a colon (g), negation across kand./kl. and by nooit (h), and the -chauffeur forms (i).
No model."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from bench import fusion_taxonomy, fusion_taxonomy3, fusion_taxonomy4
from bench.fusion_taxonomy3 import ONLY_FIRST, WELDING_KIND
from bench.fusion_taxonomy4 import (
    BESTAND,
    BESTAND_ONLY,
    POOL_UNIQUE,
    S41_KIND,
    bestand_documents,
    identifiers,
    rare_gate_opens,
)
from matching import scoring
from matching.settings import RetrievalSettings


@pytest.mark.parametrize(
    ("text", "held", "negated"),
    [
        ("Rijbewijs: B, T", {"rijbewijs", "rijbewijs:b", "rijbewijs:t"}, set()),  # (g)
        ("rbw: C1E en CE", {"rijbewijs", "rijbewijs:c1e", "rijbewijs:ce"}, set()),
        ("Rijbewijs: B, C1 · code 95", {"rijbewijs", "rijbewijs:b", "rijbewijs:c1", "rijbewijs:code95"}, set()),
        ("Rijbewijs: geen.", set(), {"rijbewijs"}),
        (
            "Rijbewijs: C, code 95. CE heeft kand. niet.",  # session 40's held-out miss: (g) and (h)
            {"rijbewijs", "rijbewijs:c", "rijbewijs:code95"},
            {"rijbewijs:ce"},
        ),
        ("VCA heeft kl. niet", set(), {"cert:vca"}),  # (h)
        ("ITIL heb ik niet, VCA wel", {"cert:vca"}, set()),
        ("SVH heb ik niet", set(), {"cert:sociale_hygiene"}),
        ("reachtruckcertificaat nooit gehaald", set(), {"cert:reachtruck"}),
        ("nooit VCA gehaald, wel BHV", {"cert:bhv"}, {"cert:vca"}),
        ("heftruckchauffeur, 3 jaar ervaring", {"cert:heftruck"}, set()),  # (i)
        ("Heftruck-chauffeurs gezocht", {"cert:heftruck"}, set()),
        ("ervaren reachtruck chauffeuse", {"cert:reachtruck"}, set()),
        ("geen reachtruckchauffeur", set(), {"cert:reachtruck"}),
        ("kl. heeft 114 certificaat", {"las:114"}, set()),  # session 39's (e), unchanged
        ("VCA en geen BHV", {"cert:vca"}, {"cert:bhv"}),  # session 38's (a), unchanged
        ("VOG geen probleem", {"cert:vog"}, set()),
    ],
)
def test_the_s41_extractor(text: str, held: set[str], negated: set[str]) -> None:
    assert identifiers(text) == (held, negated)


@pytest.mark.parametrize(
    "text",
    [
        "Rijbewijs: B, T",
        "CE heeft kand. niet",
        "heftruckchauffeur",
        "reachtruckcertificaat nooit gehaald",
    ],
)
def test_session_39s_extractor_misses_them(text: str) -> None:
    assert fusion_taxonomy3.identifiers(text, WELDING_KIND) != identifiers(text)


@pytest.mark.parametrize(
    "text",
    [
        "Lasser 135 met certificaat, rijbewijs B en C",
        "heeft geen VCA, wel heftruckcertificaat",
        "AZ-900 gewenst, ITIL is geen must",
        "tot 10 uur savonds, ervr ICT hobby",
        "Rijbewijs B is geen eis",
    ],
)
def test_texts_without_the_gaps_read_as_session_39s(text: str) -> None:
    assert fusion_taxonomy3.identifiers(text, WELDING_KIND) == identifiers(text)


def _documents() -> tuple[list[set[str]], Counter]:
    """Twenty searched documents: one holds licence B, two hold IPAF, one holds EPT."""
    documents = [set() for _ in range(20)]
    documents[0] |= {"rijbewijs:b"}
    documents[1] |= {"cert:ipaf"}
    documents[2] |= {"cert:ipaf"}
    documents[3] |= {"cert:ept"}
    return documents, Counter(found for held in documents for found in held)


def _first(at: int) -> np.ndarray:
    lexical = np.zeros(20)
    lexical[at] = 3.0
    lexical[(at + 5) % 20] = 1.0
    return lexical


def test_rarity_over_the_bestand_keeps_a_common_identifier_common() -> None:
    documents, holding = _documents()
    in_bestand = Counter({"rijbewijs:b": 30, "cert:ipaf": 2, "cert:ept": 1})  # 100 documents in the bestand
    licence = frozenset({"rijbewijs:b"})
    for share in fusion_taxonomy3.RARE_SHARES:  # 1 of the 20 searched documents: rare by session 39's rule
        assert rare_gate_opens(licence, frozenset(), documents, holding, in_bestand, 100, _first(0), share)
    for share in fusion_taxonomy4.RARE_SHARES:  # 30 of 100 in the bestand: common by (f)
        for over in (BESTAND, POOL_UNIQUE):
            assert not rare_gate_opens(
                licence, frozenset(), documents, holding, in_bestand, 100, _first(0), (over, share)
            )
    assert not rare_gate_opens(licence, frozenset(), documents, holding, in_bestand, 100, _first(0), BESTAND_ONLY)


def test_two_searched_holders_open_no_gate_under_f2() -> None:
    documents, holding = _documents()
    in_bestand = Counter({"rijbewijs:b": 30, "cert:ipaf": 2, "cert:ept": 1})
    ipaf = frozenset({"cert:ipaf"})
    assert rare_gate_opens(ipaf, frozenset(), documents, holding, in_bestand, 100, _first(1), (BESTAND, 0.05))
    assert not rare_gate_opens(ipaf, frozenset(), documents, holding, in_bestand, 100, _first(1), (POOL_UNIQUE, 0.05))
    assert not rare_gate_opens(ipaf, frozenset(), documents, holding, in_bestand, 100, _first(1), BESTAND_ONLY)
    assert not rare_gate_opens(ipaf, frozenset(), documents, holding, in_bestand, 100, _first(1), ONLY_FIRST)
    ept = frozenset({"cert:ept"})
    for rarity in fusion_taxonomy4.NEW_RARITIES:
        assert rare_gate_opens(ept, frozenset(), documents, holding, in_bestand, 100, _first(3), rarity)
        assert not rare_gate_opens(
            ept, frozenset(), documents, holding, in_bestand, 100, _first(4), rarity
        )  # 4 lacks it
        assert not rare_gate_opens(ept, frozenset({"cert:ept"}), documents, holding, in_bestand, 100, _first(3), rarity)


def test_the_bestand_is_both_halves_of_the_set(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(fusion_taxonomy4.fusion_identifiers, "EVAL", tmp_path)
    (tmp_path / "nl_x_tuning.tsv").write_text("query\tdocument\nq1\td1\nq2\td2\n", encoding="utf-8")
    (tmp_path / "nl_x_heldout.tsv").write_text("query\tdocument\nq3\td2\nq4\td3\n", encoding="utf-8")
    assert bestand_documents("nl_x_tuning.tsv") == ["d1", "d2", "d3"]
    assert bestand_documents("nl_x_heldout.tsv") == ["d2", "d3", "d1"]


def _query(held: set[str], documents: list[set[str]], in_bestand: Counter, bestand: int) -> fusion_taxonomy4.Query:
    rng = np.random.default_rng(41)
    dense, lexical, identifier_tokens = (rng.random(len(documents)).astype(np.float32) for _ in range(3))
    base = fusion_taxonomy.Query(dense, lexical, identifier_tokens, lexical, frozenset(held), frozenset(), [], None)
    holding = Counter(found for one in documents for found in one)
    kinds = (*fusion_taxonomy3.KINDS, S41_KIND)
    return fusion_taxonomy4.Query(
        base,
        dict.fromkeys(kinds, frozenset(held)),
        dict.fromkeys(kinds, frozenset()),
        dict.fromkeys(kinds, documents),
        dict.fromkeys(kinds, holding),
        dict.fromkeys(fusion_taxonomy4.KINDS, in_bestand),
        bestand,
    )


def test_the_gate_reads_identifier_tokens_when_open_and_the_served_fusion_when_closed() -> None:
    weights = RetrievalSettings()
    fusions = fusion_taxonomy4.candidates(weights)
    probe = _query(set(), [set()] * 40, Counter(), 40)
    first = int(np.argmax(probe.base.lexical_identifiers))
    documents = [{"rijbewijs:b", "cert:ept"} if at == first else set() for at in range(40)]
    common = _query({"rijbewijs:b"}, documents, Counter({"rijbewijs:b": 50}), 100)  # 1 of 40 searched, 50 % held
    rare = _query({"rijbewijs:b", "cert:ept"}, documents, Counter({"rijbewijs:b": 50, "cert:ept": 1}), 100)
    z = fusion_taxonomy.fusion_tuning._z
    for kind, rarity in fusion_taxonomy4.grid():
        if rarity not in fusion_taxonomy4.NEW_RARITIES:
            continue
        fusion = fusions[fusion_taxonomy4.name(2.0, kind, rarity)][1]
        np.testing.assert_array_equal(fusion(common), scoring.fuse(common.dense, common.lexical, weights))
        expected = z(rare.dense) + 2.0 * z(rare.base.lexical_identifiers)
        np.testing.assert_allclose(fusion(rare), expected, rtol=1e-6)


def test_candidates_keep_session_39s_first_and_add_the_grid() -> None:
    fusions = fusion_taxonomy4.candidates(RetrievalSettings())
    earlier = fusion_taxonomy3.candidates(RetrievalSettings())
    assert list(fusions)[: len(earlier)] == list(earlier)  # the served fusion first: it wins an exact tie
    assert len(fusions) == len(earlier) + 57 == 107
    assert len(set(fusions)) == len(fusions)
