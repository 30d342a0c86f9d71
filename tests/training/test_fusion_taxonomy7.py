"""Session 43's candidates (bench/fusion_taxonomy7.py): a certificate's categories, dates that are no identifier, a
gate that excuses common identifiers and a wider tie-break where BM25's first holds every rare one. No model."""

from __future__ import annotations

from collections import Counter
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from bench import fusion_identifiers, fusion_taxonomy, fusion_taxonomy5, fusion_taxonomy6, fusion_taxonomy7
from bench.fusion_taxonomy5 import S42_KIND
from bench.fusion_taxonomy7 import (
    RARE_MARGINS,
    S42_MARGIN,
    S42B,
    S43_KIND,
    DatelessIdentifierAnalyzer,
    gated,
    identifiers,
    rare_held,
    rare_tie_break,
    strict,
    tie_break,
)
from matching.settings import RetrievalSettings
from tests.factories import WordHashEmbedder, write_pair_halves

z = fusion_taxonomy.fusion_tuning._z


def _query(
    dense: np.ndarray,
    lexical: np.ndarray,
    held: frozenset[str] = frozenset(),
    documents_held: list[set[str]] | None = None,
    negated: frozenset[str] = frozenset(),
) -> fusion_taxonomy7.Query:
    """A query over ``len(dense)`` documents: ``lexical`` as every BM25 (ordinary, identifier tokens with and without
    dates, negation-free), ``held``/``negated`` and ``documents_held`` under every kind."""
    documents_held = documents_held or [set() for _ in dense]
    base = fusion_taxonomy.Query(dense, lexical, lexical, lexical, frozenset(held), frozenset(), [], None)
    holding = Counter(found for one in documents_held for found in one)
    kinds = fusion_taxonomy7.KINDS
    return fusion_taxonomy7.Query(
        base,
        dict.fromkeys(kinds, frozenset(held)),
        dict.fromkeys(kinds, frozenset(negated)),
        dict.fromkeys(kinds, documents_held),
        dict.fromkeys(kinds, holding),
        dict.fromkeys(kinds, holding),
        len(dense),
        lexical,
        lexical,
    )


def _random(seed: int, size: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lexical = rng.random(size).astype(np.float32) * 8
    lexical[rng.random(size) < 0.3] = 0
    return rng.random(size).astype(np.float32), lexical


def _gate_query(
    held: set[str], first_holds: set[str], negated: frozenset[str] = frozenset()
) -> tuple[fusion_taxonomy7.Query, np.ndarray]:
    """40 documents; BM25's first holds ``first_holds``, ten others hold licence B (common: 10 or 11 of 40), one
    other ``cert:hoogwerker:3a``."""
    dense, lexical = _random(7)
    first = int(np.argmax(lexical))
    others = [at for at in range(40) if at != first]
    documents = [set() for _ in range(40)]
    documents[first] = set(first_holds)
    for at in others[:10]:
        documents[at] = {"rijbewijs", "rijbewijs:b"}
    documents[others[10]] = {"cert:hoogwerker", "cert:hoogwerker:3a"}
    return _query(dense, lexical, frozenset(held), documents, negated), lexical


@pytest.mark.parametrize(
    ("text", "categories"),
    [
        ("IPAF 1a/1b hoogwerker, geldig t/m 03-2028", {"cert:hoogwerker:1a", "cert:hoogwerker:1b"}),
        ("Certificaat IPAF 3b (2025)", {"cert:hoogwerker:3b"}),
        ("IPAF-certificaat 1a, 1b en 3a", {"cert:hoogwerker:1a", "cert:hoogwerker:1b", "cert:hoogwerker:3a"}),
        ("heeft reachtruckcertificaat klasse 2", {"cert:reachtruck:2"}),
        ("heftruckcertificaat categorie 1 of 2", {"cert:heftruck:1", "cert:heftruck:2"}),
    ],
)
def test_a_certificates_categories_are_identifiers_held_as_it_is(text: str, categories: set[str]) -> None:
    held, negated = identifiers(text)
    assert categories <= held
    assert not categories & negated
    earlier, _ = fusion_taxonomy5.identifiers(text)
    assert earlier <= held and held - earlier == categories  # session 42's, and the categories only


def test_a_negated_certificate_negates_its_categories() -> None:
    held, negated = identifiers("kandidaat heeft geen IPAF 3a")
    assert {"cert:hoogwerker", "cert:hoogwerker:3a"} <= negated
    assert not held & negated


@pytest.mark.parametrize(
    "text",
    [
        "VCA 2024 behaald",  # a year after a certificate
        "BHV 2 dagen gevolgd",  # a bare number without a class word
        "ervaring als hoogwerker 3a",  # no certificate read: a job word, not "hoogwerkercertificaat"
        "IPAF, 3a",  # a comma before the first code: no run
        "heftruckcertificaat 2e kans",  # "2e" is no category code (letters a-c)
    ],
)
def test_numbers_that_are_no_category(text: str) -> None:
    held, negated = identifiers(text)
    assert not [found for found in held | negated if found.count(":") == 2]


def test_vca_with_its_level_after_it_is_the_basic_vca() -> None:
    for text in ("VCA-B geldig tot 2027", "heeft VCA B", "B-VCA"):
        assert {"cert:vca_basis", "cert:vca"} <= identifiers(text)[0]
    assert "cert:vca_basis" not in identifiers("VCA-VOL")[0]
    assert "cert:vca_basis" not in identifiers("VCA en B-rijbewijs")[0]


@pytest.mark.parametrize(
    ("text", "categories"),
    [("Rijbewijs: B, C1, CE · code 95", {"b", "c1", "ce", "code95"}), ("rbw: C, D1", {"c", "d1"})],
)
def test_licence_categories_after_a_colon_with_commas(text: str, categories: set[str]) -> None:
    held, _ = identifiers(text)
    assert {f"rijbewijs:{category}" for category in categories} | {"rijbewijs"} <= held


def test_dates_are_no_identifier_tokens() -> None:
    analyzer = DatelessIdentifierAnalyzer()
    marked = [token for token in analyzer("Rijbewijs C1 en code 95, AZ-104, 7.500 kg · geldig t/m 07-2027, 1-7-2026")]
    identifier_tokens = {token for token in marked if token.startswith(fusion_identifiers.MARK)}
    assert identifier_tokens == {"#c1", "#95", "#az-104", "#500"}
    full = fusion_identifiers.IdentifierAnalyzer()("geldig t/m 07-2027 en 2030")
    assert {"#07-2027", "#2030"} <= set(full)  # session 36's tokens took them
    assert not {token for token in analyzer("geldig t/m 07-2027 en 2030") if token.startswith("#")}


def test_the_dateless_bm25_no_longer_matches_on_a_date() -> None:
    documents = ["Vereist: rijbewijs C1, geldig t/m 2027.", "Vereist: rijbewijs C1 en code 95."]
    query = ["Rijbewijs C1, code 95, geldig t/m 2027"]
    assert fusion_taxonomy7.dateless_bm25(query, documents)[0].argmax() == 1
    dateless = fusion_taxonomy7.dateless_bm25(["t/m 2027"], documents)[0]
    assert dateless.max() <= fusion_identifiers.identifier_bm25(["t/m 2027"], documents)[0].max()


def test_the_common_licence_no_longer_keeps_the_gate_closed() -> None:
    held = {"rijbewijs", "rijbewijs:b", "rijbewijs:c1"}  # C1 rare (1 of 40), B common
    query, lexical = _gate_query(held, {"rijbewijs", "rijbewijs:c1"})
    assert not strict(query, S42_KIND, lexical)  # the first lacks B: s42b's gate stays closed
    assert rare_held(query, S42_KIND, lexical)
    query, lexical = _gate_query(held, {"rijbewijs", "rijbewijs:b"})  # the first lacks the rare C1
    assert not rare_held(query, S42_KIND, lexical)


def test_the_excusing_gate_still_needs_every_rare_one_and_no_negated_one() -> None:
    # 3b no document holds: rare, so the first (holding 3a) must hold it too
    held = {"cert:hoogwerker", "cert:hoogwerker:3a", "cert:hoogwerker:3b"}
    query, lexical = _gate_query(held, {"cert:hoogwerker", "cert:hoogwerker:3a"})
    assert not rare_held(query, S43_KIND, lexical)
    assert not strict(query, S43_KIND, lexical)
    query, lexical = _gate_query({"cert:ept"}, {"cert:ept", "cert:bhv"}, negated=frozenset({"cert:bhv"}))
    assert not rare_held(query, S43_KIND, lexical)
    query, lexical = _gate_query({"taal:b1", "rijbewijs:b"}, {"taal:b1"})  # a language level the only rare one
    assert not rare_held(query, S43_KIND, lexical)
    query, lexical = _gate_query({"rijbewijs:b"}, {"rijbewijs:b"})  # only common ones: nothing rare to back it
    assert not rare_held(query, S43_KIND, lexical)
    query, lexical = _gate_query({"cert:ept"}, {"cert:ept"})
    assert rare_held(query, S43_KIND, lexical) and strict(query, S43_KIND, lexical)
    flat = _query(query.dense, np.zeros_like(lexical), query.held[S43_KIND], query.documents_held[S43_KIND])
    assert not rare_held(flat, S43_KIND, flat.lexical)  # BM25 scores nothing


def test_the_wider_tie_break_only_where_bm25s_first_holds_every_rare_one() -> None:
    held = {"rijbewijs", "rijbewijs:b", "rijbewijs:c1"}
    backed, _ = _gate_query(held, {"rijbewijs", "rijbewijs:c1"})
    unbacked, _ = _gate_query(held, {"rijbewijs", "rijbewijs:b"})
    for margin in RARE_MARGINS:
        fusion = rare_tie_break(S42_KIND, margin)
        np.testing.assert_allclose(fusion(backed), tie_break(backed, margin), rtol=1e-6)
        np.testing.assert_allclose(fusion(unbacked), tie_break(unbacked, S42_MARGIN), rtol=1e-6)
        fused = fusion(backed)
        ahead = z(backed.dense)[:, None] - z(backed.dense)[None, :] > margin  # the tie-break's promise
        assert (fused[:, None] > fused[None, :])[ahead].all()


def test_an_open_gate_reads_the_chosen_identifier_bm25_and_a_closed_one_the_tie_break() -> None:
    opened, lexical = _gate_query({"cert:ept"}, {"cert:ept"})
    other = lexical[::-1].copy()
    opened.lexical_dateless = other
    for dateless, read in ((False, lexical), (True, other)):
        fusion = gated(S43_KIND, dateless, strict, partial(tie_break, margin=S42_MARGIN))
        if strict(opened, S43_KIND, read):
            np.testing.assert_allclose(fusion(opened), z(opened.dense) + 2.0 * z(read), rtol=1e-6)
        else:
            np.testing.assert_allclose(fusion(opened), tie_break(opened, S42_MARGIN), rtol=1e-6)
    closed, _ = _gate_query(set(), set())
    fusion = gated(S43_KIND, True, rare_held, partial(tie_break, margin=S42_MARGIN))
    np.testing.assert_allclose(fusion(closed), tie_break(closed, S42_MARGIN), rtol=1e-9)


def test_s42b_rebuilt_from_the_parts_is_session_42s_candidate() -> None:
    s42b = fusion_taxonomy6.candidates(RetrievalSettings())[S42B][1]
    rebuilt = gated(S42_KIND, False, strict, partial(tie_break, margin=S42_MARGIN))
    for held, first_holds in (({"cert:ept"}, {"cert:ept"}), ({"taal:b1"}, {"taal:b1"}), (set(), set())):
        query, _ = _gate_query(held, first_holds)
        np.testing.assert_allclose(rebuilt(query), s42b(query), rtol=1e-9)


def test_candidates_keep_session_42s_second_and_add_the_grid() -> None:
    fusions = fusion_taxonomy7.candidates(RetrievalSettings())
    earlier = fusion_taxonomy6.candidates(RetrievalSettings())
    assert list(fusions)[: len(earlier)] == list(earlier)  # the served fusion first: it wins an exact tie
    assert len(fusions) == len(earlier) + 10 == 149
    assert S42B in fusions
    assert all(bm25 in fusion_taxonomy.BM25S for bm25, _ in fusions.values())


def test_only_the_fixed_sets_are_opened(tmp_path: Path) -> None:
    header = "query\tdocument\n"
    (tmp_path / "nl_oud_tuning.tsv").write_text(header, encoding="utf-8")
    is_pairs_file = fusion_identifiers.is_pairs_file
    with fusion_taxonomy7.only(("nl_oud",)):
        assert fusion_identifiers.is_pairs_file(tmp_path / "nl_oud_tuning.tsv")
        assert not fusion_identifiers.is_pairs_file(tmp_path / "nl_nieuw_tuning.tsv")  # not there: never opened
    assert fusion_identifiers.is_pairs_file is is_pairs_file


def test_the_fixed_sets_are_in_data_eval() -> None:
    assert len(fusion_taxonomy7.SETS) == 16
    for stem in fusion_taxonomy7.SETS:
        for half in ("tuning", "heldout"):
            assert (fusion_identifiers.EVAL / f"{stem}_{half}.tsv").exists()


PAIRS = [
    ("IPAF 3a/3b hoogwerker · geldig t/m 07-2027", "Onderhoud – Vereist: een geldig IPAF-certificaat (hoogwerker)."),
    ("Glazenwasser · IPAF 3a", "Schoonmaker – Vereist: vakdiploma Glazenwassen en IPAF 3a."),
    ("Rijbewijs: B, C1 · code 95 geldig t/m 2027", "Chauffeur – Je hebt rijbewijs C1 en code 95."),
    ("Rijbewijs: B, CE · code 95", "Chauffeur – Vereist: rijbewijs CE, code 95 en ADR."),
]


def test_load_reads_the_fixed_sets_only_and_adds_session_43s_parts(tmp_path: Path, monkeypatch) -> None:
    write_pair_halves(tmp_path, "nl_oud", PAIRS)
    (tmp_path / "nl_nieuw_tuning.tsv").mkdir()  # opening it would fail: load must not touch it
    monkeypatch.setattr(fusion_identifiers, "EVAL", tmp_path)
    sets, parts = fusion_taxonomy7.load(WordHashEmbedder(), "tuning", ("nl_oud",))
    assert list(sets) == ["nl_oud_tuning.tsv"]
    rows, answer = sets["nl_oud_tuning.tsv"]
    assert len(rows) == 4 and list(answer) == [0, 1, 2, 3]
    assert {"cert:hoogwerker:3a", "cert:hoogwerker:3b"} <= rows[0].held[S43_KIND]
    assert "cert:hoogwerker:3a" not in rows[0].held[S42_KIND]
    assert rows[1].documents_held[S43_KIND][1] >= {"cert:hoogwerker", "cert:hoogwerker:3a"}
    part = parts["nl_oud_tuning.tsv"]
    assert {"dense", "lexical", "lexicalNegationFree", "lexicalIdentifierTokensDateless", "s43Gate"} <= set(part)
    assert part["s43Identifiers"]["withCategories"] == 2
    fusions = fusion_taxonomy7.candidates(RetrievalSettings())
    for _, fusion in fusions.values():
        assert all(fusion(row).shape == (4,) for row in rows)
