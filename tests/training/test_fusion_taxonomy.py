"""The taxonomy identifiers of bench/fusion_taxonomy.py: what counts, what a negation removes, and the gate."""

from __future__ import annotations

import numpy as np
import pytest

from bench.fusion_taxonomy import Query, gate_opens, stripped, taxonomy_identifiers, with_tolerance


@pytest.mark.parametrize(
    ("text", "held", "negated"),
    [
        ("heeft geen VCA, wel heftruckcertificaat", {"cert:heftruck"}, {"cert:vca"}),
        ("rijbewijs B, C in aanvraag", {"rijbewijs", "rijbewijs:b"}, {"rijbewijs:c"}),
        ("kl. heeft nog geen rijbewijs B of C", set(), {"rijbewijs", "rijbewijs:b", "rijbewijs:c"}),
        ("zoekt werk zonder rijbewijs, heeft BHV", {"cert:bhv"}, {"rijbewijs"}),
        ("VCA verlopen, EHBO ok", {"cert:ehbo"}, {"cert:vca"}),
        ("B-VCA", {"cert:vca_basis", "cert:vca"}, set()),
        ("VOL-VCA", {"cert:vca_vol", "cert:vca"}, set()),
        ("C-rijbewijs met code 95", {"rijbewijs", "rijbewijs:c", "rijbewijs:code95"}, set()),
        ("DE rijbewijs bus met aanhanger", {"rijbewijs", "rijbewijs:de"}, set()),
        ("mbo niveau 2 logistiek, B1-niveau", {"opleiding:mbo", "opleiding:mbo2", "taal:b1"}, set()),
        ("Twinfield en Exact Online", {"software:twinfield", "software:exact"}, set()),
        ("136 gevulde draad, lassen", {"las:136"}, set()),
    ],
)
def test_identifiers_and_negation(text: str, held: set[str], negated: set[str]) -> None:
    assert taxonomy_identifiers(text) == (held, negated)


@pytest.mark.parametrize(
    "text",
    [
        "tot 10 uur savonds",  # a time (session 36's gate opened on it)
        "ervr ICT hobby",  # a sector
        "rbw en de auto",  # "de" is the article, not licence DE
        "werkt 15 uur per week",  # 15 is a welding process only in a welding text
        "ik word snel moe",  # the verb, not Microsoft Word
    ],
)
def test_words_that_are_not_identifiers(text: str) -> None:
    held, negated = taxonomy_identifiers(text)
    assert held <= {"rijbewijs"} and not negated


def test_stripped_query_loses_the_negated_identifier_only() -> None:
    assert stripped("heeft geen VCA, wel heftruckcertificaat") == "heeft , wel heftruckcertificaat"
    assert stripped("rijbewijs B, C in aanvraag") == "rijbewijs B , in aanvraag"


def _query(held: set[str], negated: set[str], documents: list[set[str]], lexical: list[float]) -> Query:
    scores = np.asarray(lexical, np.float32)
    return Query(scores, scores, scores, scores, frozenset(held), frozenset(negated), documents, None)


def test_gate_opens_only_when_bm25s_first_holds_every_identifier_and_no_negated_one() -> None:
    documents = [{"cert:vca", "cert:heftruck"}, {"cert:heftruck"}, set()]
    wants_forklift = _query({"cert:heftruck"}, set(), documents, [2.0, 1.0, 0.0])
    assert gate_opens(wants_forklift, wants_forklift.lexical)
    no_vca = _query({"cert:heftruck"}, {"cert:vca"}, documents, [2.0, 1.0, 0.0])
    assert not gate_opens(no_vca, no_vca.lexical)  # BM25's first asks for the VCA the client lacks
    assert gate_opens(no_vca, np.asarray([1.0, 2.0, 0.0]))
    no_identifiers = _query(set(), set(), documents, [2.0, 1.0, 0.0])
    assert not gate_opens(no_identifiers, no_identifiers.lexical)
    no_match = _query({"cert:heftruck"}, set(), documents, [0.0, 0.0, 0.0])
    assert not gate_opens(no_match, no_match.lexical)


def test_tolerance_counts_a_small_loss_as_held() -> None:
    row = {"sets": {"a": {"marginOverBestPart": -0.0015}, "b": {"marginOverBestPart": -0.003}}, "held": 0}
    assert with_tolerance(row)["heldWithinTolerance"] == 1
    assert with_tolerance(row)["heldStrict"] == 0
