"""BM25 over Dutch stems: known answers, incremental updates."""

from __future__ import annotations

import numpy as np

from matching.lexical import DutchAnalyzer, LexicalIndex


def score_of(index: LexicalIndex, query: str) -> dict[int, float]:
    ids, scores = index.scores(query)
    return dict(zip(ids.tolist(), scores.tolist(), strict=True))


def test_analyzer_stems_folds_and_drops_stopwords() -> None:
    tokens = DutchAnalyzer()("De schoonmakers werkten in het café")
    assert "de" not in tokens and "het" not in tokens
    assert "cafe" in tokens
    assert DutchAnalyzer()("magazijnen") == DutchAnalyzer()("magazijn")


def test_matching_document_scores_highest() -> None:
    index = LexicalIndex()
    index.upsert([1, 2, 3], ["orderpicker in een magazijn", "schoonmaker kantoren", "kok in een restaurant"])
    scores = score_of(index, "werk in magazijnen als orderpicker")
    assert max(scores, key=scores.get) == 1
    assert scores[2] == 0 and scores[3] == 0


def test_rarer_terms_weigh_more() -> None:
    index = LexicalIndex()
    index.upsert([1, 2, 3, 4], ["magazijn heftruck", "magazijn", "magazijn", "magazijn kassa"])
    scores = score_of(index, "heftruck magazijn")
    assert scores[1] > scores[4] and scores[1] > scores[2]


def test_upsert_replaces_a_record_and_remove_drops_it() -> None:
    index = LexicalIndex()
    index.upsert([1, 2], ["kassa supermarkt", "tuinman groenvoorziening"])
    assert score_of(index, "heftruck")[1] == 0
    index.upsert([1], ["heftruckchauffeur heftruck"])
    assert score_of(index, "heftruck")[1] > 0
    index.remove([2])
    assert set(score_of(index, "tuinman")) == {1}
    assert len(index) == 1


def test_changes_merged_in_score_as_a_fresh_index_of_the_same_texts_does() -> None:
    rng = np.random.default_rng(7)
    words = "kassa supermarkt tuinman heftruck magazijn schoonmaak kantoor zorg chauffeur bakker".split()
    texts = {int(key): " ".join(rng.choice(words, rng.integers(2, 12))) for key in rng.permutation(300) * 7}
    changed = LexicalIndex()
    changed.upsert(list(texts), list(texts.values()))  # ids out of order: kept ascending
    for key in list(texts)[:40]:
        texts[key] = " ".join(rng.choice(words, 5))
        changed.upsert([key], [texts[key]])
    gone = list(texts)[40:60]
    changed.remove(gone)
    for key in gone:
        del texts[key]
    changed.upsert([5000], ["bakker kassa"])
    texts[5000] = "bakker kassa"
    fresh = LexicalIndex()
    fresh.upsert(list(texts), list(texts.values()))
    for query in ("heftruck magazijn", "bakker", "kassa kassa zorg", "onbekend"):
        ids, scores = changed.scores(query)
        assert ids.tolist() == sorted(texts)
        np.testing.assert_array_equal(scores, fresh.scores(query)[1])
    asked = np.array(sorted(texts) + [9999])  # scores_for: per asked id, 0 for one the index lacks
    np.testing.assert_array_equal(changed.scores_for("bakker", asked)[:-1], fresh.scores("bakker")[1])
    assert changed.scores_for("bakker", asked)[-1] == 0


def test_empty_query_and_empty_index() -> None:
    index = LexicalIndex()
    ids, scores = index.scores("iets")
    assert len(ids) == 0
    index.upsert([5], ["tekst"])
    assert np.all(index.scores("")[1] == 0)


def test_upserting_nothing_is_a_no_op() -> None:
    index = LexicalIndex()
    index.upsert([], [])
    assert len(index) == 0 and len(index.scores("magazijn")[0]) == 0


def test_feminine_job_forms_meet_their_masculine_form_by_rule() -> None:
    analyze = DutchAnalyzer()
    for feminine, masculine in (
        ("Tuinmedewerkster gezocht", "tuinmedewerker gezocht"),
        ("ervaren schoonmaakvrouw", "ervaren schoonmaker"),
        ("CNC-medewerksters", "CNC-medewerkers"),
        ("caissière", "caissier"),
        ("kokkinnen", "koks"),
    ):
        assert analyze(feminine) == analyze(masculine), feminine
    assert analyze("klooster monster register") != analyze("kloosterer monsterer registerer")
    assert analyze("klooster") == ["klooster"] and analyze("meester") == ["meester"]


def test_a_profile_in_the_feminine_form_scores_like_the_masculine_one() -> None:
    index = LexicalIndex()
    index.upsert([1, 2, 3], ["Ik was fietsbezorgster", "Ik was fietsbezorger", "Ik was kok"])
    scores = score_of(index, "Fietsbezorger gezocht")
    assert scores[1] == scores[2] > 0 and scores[3] == 0
