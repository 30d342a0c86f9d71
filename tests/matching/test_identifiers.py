"""The identifier extractor, the rare-identifier gate and the fusion behind it (matching/identifiers.py,
matching/identifier_gate.py): behaviour on texts and small arrays, no embedding model."""

from __future__ import annotations

import numpy as np
import pytest

from matching import scoring
from matching.identifier_gate import (
    OPEN_RARITY,
    IdentifierAnalyzer,
    IdentifierIndex,
    agrees,
    bm25_over,
    code_tokens,
    could_open,
    fused_scores,
    holders,
    no_negated_lift,
    rare_gate_opens,
    text_signals,
)
from matching.identifiers import identifiers, negation_free
from matching.settings import RetrievalSettings

VCA = "cert:vca"


@pytest.mark.parametrize(
    "text",
    ["geen VCA", "nog geen VCA", "VCA hoeft niet", "Kl. heeft VCA niet", "nooit VCA gehaald", "VCA verlopen"],
)
def test_a_negated_certificate_is_not_held(text: str) -> None:
    assert identifiers(text) == (set(), {VCA})


def test_negation_reaches_its_clause_up_to_wel() -> None:
    assert identifiers("heeft geen VCA, wel heftruckcertificaat") == ({"cert:heftruck"}, {VCA})
    assert identifiers("VCA en geen BHV") == ({VCA}, {"cert:bhv"})


def test_geen_probleem_and_held_elsewhere_keep_it_held() -> None:
    assert identifiers("VOG geen probleem") == ({"cert:vog"}, set())
    assert identifiers("geen VCA nodig? Toch heeft hij VCA.")[0] == {VCA}  # held and negated: held


def test_the_employer_providing_it_negates_it() -> None:
    assert identifiers("BHV halen we samen") == (set(), {"cert:bhv"})


def test_a_basic_vca_carries_its_parent() -> None:
    assert identifiers("B-VCA") == ({"cert:vca_basis", VCA}, set())


@pytest.mark.parametrize(
    ("text", "categories"),
    [
        ("Rijbewijs: B, C1", {"b", "c1"}),
        ("rijbewijs B, C en CE", {"b", "c", "ce"}),
        ("C-rijbewijs", {"c"}),
        ("moet C hebben", {"c"}),
        ("rbw B/BE", {"b", "be"}),
    ],
)
def test_licence_lists(text: str, categories: set[str]) -> None:
    held, negated = identifiers(text)
    assert held == {"rijbewijs"} | {f"rijbewijs:{category}" for category in categories}
    assert negated == set()


def test_a_negated_licence_run_and_one_in_aanvraag() -> None:
    assert identifiers("geen rijbewijs B of C") == (set(), {"rijbewijs", "rijbewijs:b", "rijbewijs:c"})
    assert identifiers("rijbewijs B, C in aanvraag") == ({"rijbewijs", "rijbewijs:b"}, {"rijbewijs:c"})


def test_a_lone_capital_is_no_licence_outside_a_run() -> None:
    assert identifiers("de klant is blij") == (set(), set())
    assert identifiers("heeft B-VCA") == ({"cert:vca_basis", VCA}, set())  # not a bare licence B


@pytest.mark.parametrize(("text", "level"), [("taal B1", "b1"), ("NT2-niveau", "nt2"), ("schrijft NL op A2", "a2")])
def test_language_levels(text: str, level: str) -> None:
    assert identifiers(text) == ({f"taal:{level}"}, set())


def test_welding_numbers_education_and_codes() -> None:
    assert identifiers("114 certificaat")[0] == {"las:114"}
    assert identifiers("lasser 135 en 136")[0] == {"las:135", "las:136"}
    assert identifiers("heeft 135 kinderen")[0] == set()  # a number without a welding word is none
    assert identifiers("mbo niveau 2")[0] == {"opleiding:mbo2", "opleiding:mbo"}
    assert identifiers("AZ-900 gehaald")[0] == {"code:az-900"}
    assert identifiers("heftruckchauffeur, OPT")[0] == {"cert:heftruck", "cert:orderpickertruck"}


def test_negation_free_drops_what_is_not_needed() -> None:
    assert negation_free("geen VCA") == ""
    assert negation_free("heeft geen VCA, wel heftruckcertificaat") == "heeft , wel heftruckcertificaat"
    assert negation_free("heftruck in tiel, vca hoeft niet") == "heftruck in tiel ,"
    assert negation_free("VOG geen probleem") == "VOG geen probleem"
    assert negation_free("Rijbewijs: B, C1") == "Rijbewijs: B, C1"  # no negation: the text itself
    assert negation_free("Kok, GÉÉN vca nodig") == "Kok ,"  # a negation in capitals and with accents still counts
    assert negation_free("Kok (n.v.t. VCA)") == "Kok ( VCA )"  # "n.v.t." read as "nvt" and dropped


def test_code_tokens_and_the_identifier_analyzer() -> None:
    assert code_tokens("AZ-104 en SAP EWM, 2 dagen") == ["az-104", "sap", "ewm"]
    assert code_tokens("ZOEKT WERK IN DE BOUW") == []  # written in capitals: DE is the article
    assert IdentifierAnalyzer()("Certificaat EPT") == ["certificaat", "ep", "#ept"]  # the stem "ep", and the code


def test_the_identifier_index_tells_codes_apart() -> None:
    documents = ["Cloud engineer AZ-104 Azure", "Cloud engineer AZ-305 Azure", "Schoonmaker kantoor"]
    index = IdentifierIndex()
    index.upsert(np.arange(3), documents)
    scores = bm25_over(index, "AZ-104", 3)
    assert scores.dtype == np.float32 and int(np.argmax(scores)) == 0 and scores[0] > scores[1] > 0 == scores[2]


def _documents(rare: set[str], common: set[str], n: int = 20) -> list[set[str]]:
    """``n`` documents: the first holds ``rare`` and ``common``, the next half ``common`` only."""
    return [rare | common] + [set(common) if at < n // 2 else set() for at in range(1, n)]


def _first_is_zero(n: int = 20) -> np.ndarray:
    scores = np.linspace(1.0, 0.0, n).astype(np.float32)
    return scores


def test_the_gate_opens_on_a_rare_identifier_bm25_first_holds() -> None:
    held = {"cert:ept", "rijbewijs:b"}
    documents_held = _documents({"cert:ept"}, {"rijbewijs:b"})
    assert holders(documents_held)["cert:ept"] == 1 <= OPEN_RARITY * 20
    assert rare_gate_opens(held, set(), documents_held, _first_is_zero())


def test_the_gate_stays_closed_on_a_common_identifier_or_a_language_level_alone() -> None:
    common = _documents(set(), {"rijbewijs:b"})
    assert not rare_gate_opens({"rijbewijs:b"}, set(), common, _first_is_zero())  # 10 of 20 hold it
    language = _documents({"taal:b1"}, set())
    assert not rare_gate_opens({"taal:b1"}, set(), language, _first_is_zero())  # the default: (L), session 46
    assert rare_gate_opens({"taal:b1"}, set(), language, _first_is_zero(), language_opens=True)  # session 43's (w)
    both = _documents({"taal:b1", "cert:ept"}, set())
    assert rare_gate_opens({"taal:b1", "cert:ept"}, set(), both, _first_is_zero(), language_opens=False)


def test_the_gate_stays_closed_when_bm25s_first_misses_or_contradicts() -> None:
    documents_held = _documents({"cert:ept"}, set())
    scores = _first_is_zero()
    assert not rare_gate_opens({"cert:ept", "cert:bhv"}, set(), documents_held, scores)  # first lacks BHV
    documents_held[0].add("cert:vca")
    assert not rare_gate_opens({"cert:ept"}, {"cert:vca"}, documents_held, scores)  # first holds a negated one
    assert not rare_gate_opens({"cert:ept"}, set(), documents_held, np.zeros(20, np.float32))  # BM25 scores none
    assert not rare_gate_opens(set(), set(), documents_held, scores)  # no identifier


def test_a_closed_gate_gives_no_lift_to_a_document_holding_what_the_query_negates() -> None:
    """(N): "lasser 136, cert. 135 is niet hetzelfde" must not lift the vacancy asking 135 by the words they share."""
    free = np.array([3.0, 5.0, 0.0, 1.0], np.float32)
    lifted = no_negated_lift(free, np.array([False, True, False, False]))
    assert lifted.tolist() == [3.0, 0.0, 0.0, 1.0] and lifted.dtype == np.float32
    dense = np.array([0.80, 0.81, 0.70, 0.60], np.float32)
    weights = RetrievalSettings()
    assert int(np.argmax(fused_scores(dense, free, free, False, weights))) == 1  # without (N): the negated one first
    assert int(np.argmax(fused_scores(dense, free, lifted, False, weights))) == 0


def test_an_open_gate_lets_the_identifier_bm25_lead() -> None:
    dense = np.array([0.80, 0.85, 0.84, 0.70], np.float32)
    identifier_bm25 = np.array([9.0, 0.0, 1.0, 0.0], np.float32)
    weights = RetrievalSettings()
    assert int(np.argmax(fused_scores(dense, identifier_bm25, identifier_bm25, True, weights))) == 0
    assert int(np.argmax(fused_scores(dense, identifier_bm25, np.zeros(4, np.float32), False, weights))) == 1


def test_closed_and_agreeing_ranks_as_the_served_fusion_over_negation_free_bm25() -> None:
    rng = np.random.default_rng(7)
    weights = RetrievalSettings()
    for _ in range(20):
        dense = rng.uniform(0.7, 0.9, 40).astype(np.float32)
        free = np.where(rng.uniform(size=40) < 0.5, rng.uniform(0, 8, 40), 0).astype(np.float32)
        free[int(np.argmax(dense))] = free.max() + 1  # NF's first is dense's
        assert agrees(dense, free)
        ours = np.argsort(-fused_scores(dense, free, free, False, weights), kind="stable")
        served = np.argsort(-scoring.fuse(dense, free, weights), kind="stable")
        assert list(ours) == list(served)


def test_closed_and_disagreeing_keeps_dense_first_and_breaks_near_ties() -> None:
    dense = np.array([0.90, 0.80, 0.801, 0.60, 0.70], np.float32)
    free = np.array([0.0, 5.0, 0.0, 9.0, 0.0], np.float32)  # NF's first (3) is not dense's (0)
    assert not agrees(dense, free)
    order = list(np.argsort(-fused_scores(dense, free, free, False, RetrievalSettings()), kind="stable"))
    assert order[0] == 0  # dense's first stays first
    assert order.index(1) < order.index(2)  # within 0.25 z of each other: NF breaks the tie
    assert order.index(4) < order.index(3)  # NF's own first, far below in dense, is not lifted past it


def test_closed_without_any_bm25_score_is_dense() -> None:
    dense = np.array([0.7, 0.9, 0.8], np.float32)
    scores = fused_scores(dense, np.zeros(3, np.float32), np.zeros(3, np.float32), False, RetrievalSettings())
    assert list(np.argsort(-scores)) == [1, 2, 0]


@pytest.mark.parametrize("branch", ["open", "agreeing", "disagreeing"])
def test_the_signals_weighed_as_served_rank_as_the_fused_score(branch: str) -> None:
    rng = np.random.default_rng(11)
    weights = RetrievalSettings()
    for _ in range(20):
        dense = rng.uniform(0.7, 0.9, 30).astype(np.float32)
        identifier_bm25 = rng.uniform(0, 6, 30).astype(np.float32)
        free = np.where(rng.uniform(size=30) < 0.5, rng.uniform(0, 8, 30), 0).astype(np.float32)
        free[int(np.argmax(dense) if branch == "agreeing" else np.argmin(dense))] = free.max() + 1
        gate_open = branch == "open"
        dense_signal, lexical_signal = text_signals(dense, identifier_bm25, free, gate_open, weights)
        assert dense_signal.min() >= 0 and lexical_signal.min() >= 0
        assert max(dense_signal.max(), lexical_signal.max()) == pytest.approx(1.0)
        weighed = weights.weight_dense * dense_signal + weights.weight_lexical * lexical_signal
        fused = fused_scores(dense, identifier_bm25, free, gate_open, weights)
        assert list(np.argsort(-weighed, kind="stable")) == list(np.argsort(-fused, kind="stable"))


@pytest.mark.parametrize("gate_open", [False, True])
def test_words_alone_rank_by_the_bm25_the_gate_reads(gate_open: bool) -> None:
    """No dense weight (``werkmatch eval retrieval``'s lexical row, a search weighted on words alone): the lexical
    signal ranks as the identifier-token BM25 when the gate is open, else as the negation-free BM25, never flat."""
    rng = np.random.default_rng(3)
    dense = rng.random(40).astype(np.float32)
    identifier_bm25, free = rng.random(40).astype(np.float32), rng.random(40).astype(np.float32)
    words = RetrievalSettings(weight_dense=0.0, weight_lexical=1.0)
    _, lexical_signal = text_signals(dense, identifier_bm25, free, gate_open, words)
    read = identifier_bm25 if gate_open else free
    assert list(np.argsort(-lexical_signal, kind="stable")) == list(np.argsort(-read, kind="stable"))
    assert 0.0 < lexical_signal.max() <= 1.0 and lexical_signal.min() == 0.0


def test_the_counts_alone_shut_the_gate_only_where_it_could_not_open() -> None:
    """could_open is what rare_gate_opens asks of the counts: never False where the gate opens (a search then skips
    the identifier BM25 exactly where reading it could change nothing)."""
    rng = np.random.default_rng(7)
    names = ["cert:ept", "cert:vca", "cert:bhv", "rijbewijs:b", "taal:b1"]
    for _ in range(400):
        documents_held = [frozenset(n for n in names if rng.random() < rng.choice([0.05, 0.5])) for _ in range(20)]
        held = frozenset(n for n in names if rng.random() < 0.3)
        negated = frozenset(n for n in names if n not in held and rng.random() < 0.1)
        scores = rng.random(20).astype(np.float32) * (rng.random(20) < 0.7)
        holding = holders(documents_held)
        for language_opens in (True, False):
            if rare_gate_opens(held, negated, documents_held, scores, holding, language_opens):
                assert could_open(held, holding, len(documents_held), language_opens)
    assert not could_open({"cert:ept"}, {"cert:ept": 5}, 20)  # held by a quarter: not rare
    assert not could_open({"cert:ept", "cert:bhv"}, {"cert:ept": 1}, 20)  # no document holds BHV
    assert could_open({"cert:ept", "rijbewijs:b"}, {"cert:ept": 1, "rijbewijs:b": 15}, 20)
