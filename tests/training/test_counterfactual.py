"""Counterfactual fairness: generated and held-out gendered word swaps, rank-biased overlap, the ranker and the
real search on a small world."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from matching.gendered import neutral_form
from matching.matcher import Matcher
from matching.settings import Settings
from training.counterfactual import (
    counterfactual_rankings,
    feminine_of,
    rbo,
    read_heldout,
    rule_pairs,
    search_counterfactual,
    swap_gendered,
)
from training.dataset import RankingData
from training.rankers import scorer_of, weighted_baseline
from training.synthetic import generate, write_to_db


@pytest.mark.parametrize(
    ("text", "swapped"),
    [
        ("Ik werkte als schoonmaakster.", "Ik werkte als schoonmaker."),
        ("Schoonmaker bij een kantoor", "Schoonmaakster bij een kantoor"),
        ("verpleegster en kapster", "verpleegkundige en kapper"),
        ("Werkervaring als Magazijnmedewerker.", "Werkervaring als Magazijnmedewerkster."),
        ("onze verkoopsters en medewerkers", "onze verkopers en medewerksters"),
        ("HEFTRUCKCHAUFFEUR", "HEFTRUCKCHAUFFEUSE"),
        ("Serveerster in oktober, daarna ober", "Ober in oktober, daarna serveerster"),
        ("Kok in een hotel; kokkinnen gezocht", "Kokkin in een hotel; koks gezocht"),
        ("CNC-medewerker, onderwijsassistent", "CNC-medewerkster, onderwijsassistente"),
        ("winkelmedewerkster bij de Jumbo", "winkelmedewerker bij de Jumbo"),
        ("De timmerman en de barman", "De timmervrouw en de barvrouw"),
    ],
)
def test_gendered_words_swap_whole_words_and_compounds_keeping_case(text: str, swapped: str) -> None:
    assert swap_gendered(text) == swapped
    assert swap_gendered(swapped) == text  # the swap is its own inverse


def test_words_that_merely_contain_a_job_form_are_left_alone() -> None:
    for text in ("oktober", "assistentie", "medewerkerschap", "koken en kopen", "kappertje"):
        assert swap_gendered(text) == text
    pairs = rule_pairs()
    assert len(pairs) >= 300 and all(swap_gendered(swap_gendered(f)) == f for f, m, _ in pairs)


@pytest.mark.parametrize(
    ("masculine", "feminine"),
    [
        ("schoonmaker", "schoonmaakster"),  # long vowel written double again
        ("verkoper", "verkoopster"),
        ("inpakker", "inpakster"),  # doubled consonant undone
        ("vakkenvuller", "vakkenvulster"),
        ("sorteerder", "sorteerster"),  # -der after r
        ("begeleider", "begeleidster"),
        ("chauffeur", "chauffeuse"),
        ("receptionist", "receptioniste"),
        ("assistent", "assistente"),
        ("barman", "barvrouw"),
        ("kok", "kokkin"),
        ("metselaar", "metselaarster"),
        ("ober", "serveerster"),  # an irregular
        ("verpleegkundige", "verpleegster"),
    ],
)
def test_feminine_forms_are_generated_by_rule(masculine: str, feminine: str) -> None:
    assert feminine_of(masculine) == feminine


def test_the_generated_pairs_fold_back_and_the_held_out_file_is_separate() -> None:
    pairs = rule_pairs()
    missed = [(f, m) for f, m, _ in pairs if neutral_form(f) != m]
    assert len(missed) <= len(pairs) // 100, missed  # the normaliser inverts the generator (agente: too short)
    heldout = read_heldout(Path(__file__).resolve().parents[2] / "data" / "eval" / "gendered_heldout.tsv")
    assert len(heldout) >= 60 and len({f for f, _, _ in heldout}) == len(heldout)
    assert all(f != m and " " not in f for f, m, _ in heldout)


def _rbo_by_definition(first: list, second: list, p: float) -> float:
    """An independent oracle: X_d from set intersections of the prefixes, eq. 32 of Webber et al."""
    k = len(first)
    agreements = [len(set(first[:d]) & set(second[:d])) / d for d in range(1, k + 1)]
    return agreements[-1] * p**k + (1 - p) / p * sum(a * p**d for d, a in enumerate(agreements, start=1))


def test_rank_biased_overlap_known_values() -> None:
    assert rbo(range(10), range(10)) == pytest.approx(1.0)
    assert rbo(range(10), range(10, 20)) == pytest.approx(0.0)
    # worked by hand: X = (1, 1, 3), A = (1, 1/2, 1): 0.9^3 + (0.1/0.9)(0.9 + 0.5*0.81 + 0.729) = 0.955
    assert rbo("abc", "acb") == pytest.approx(0.955, abs=1e-9)
    # a swap at the top costs more than the same swap at the bottom
    base = list(range(10))
    top_swapped = [1, 0, *base[2:]]
    bottom_swapped = [*base[:8], 9, 8]
    assert rbo(base, top_swapped) < rbo(base, bottom_swapped) < 1.0
    rng = np.random.default_rng(0)
    for _ in range(50):
        a, b = rng.permutation(15)[:10].tolist(), rng.permutation(15)[:10].tolist()
        assert rbo(a, b) == pytest.approx(_rbo_by_definition(a, b, 0.9), abs=1e-12)
        assert rbo(a, b) == pytest.approx(rbo(b, a), abs=1e-12)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, embedder) -> Matcher:
    settings = Settings(data_dir=tmp_path_factory.mktemp("counterfactual") / "var")
    matcher = Matcher(settings, embedder=embedder)
    write_to_db(matcher.engine, generate(300, 60, seed=5), progress=False)
    matcher.sync()
    return matcher


def _pools(matcher: Matcher, vacancies: int = 25) -> RankingData:
    ids, features, vacancy_rows = [], [], []
    for vacancy_id in itertools.islice(sorted(matcher.sides["vacancies"].texts), vacancies):
        clients, pairs = matcher.pool_features(int(vacancy_id))
        ids.append(clients)
        features.append(pairs)
        vacancy_rows.append(np.full(len(clients), vacancy_id, np.int64))
    n = sum(len(part) for part in ids)
    return RankingData(
        features=np.concatenate(features),
        labels=np.zeros(n, np.int64),
        vacancy_ids=np.concatenate(vacancy_rows),
        client_ids=np.concatenate(ids).astype(np.int64),
        moments=np.zeros(n),
    )


def _ranker(matcher: Matcher, data: RankingData):  # noqa: ANN202 - pairs -> scores
    if matcher.baseline is not None:
        return scorer_of(matcher.baseline)

    def weighted(part: RankingData) -> np.ndarray:  # no usable shipped baseline: the weighted score
        return weighted_baseline(part, matcher.settings.retrieval)

    return weighted


HELDOUT = Path(__file__).resolve().parents[2] / "data" / "eval" / "gendered_heldout.tsv"


@pytest.mark.slow
def test_swapping_gendered_words_keeps_the_top_10(world: Matcher) -> None:
    matcher = world
    data = _pools(matcher)
    result = counterfactual_rankings(matcher, data, _ranker(matcher, data))
    assert result["swappedProfiles"] >= 20, result  # the world's profiles do carry gendered job words
    assert result["vacancies"] >= 10, result  # and they sit in the compared lists
    assert 0.0 <= result["min"] <= result["rbo"] <= 1.0
    assert result["rbo"] >= 0.95, result
    dense = counterfactual_rankings(matcher, data, _ranker(matcher, data), signals=("dense_similarity",))
    lexical = counterfactual_rankings(matcher, data, _ranker(matcher, data), signals=("lexical_similarity",))
    assert dense["rbo"] >= 0.95 and lexical["rbo"] == 1.0, (dense, lexical)  # both paths fold by rule


@pytest.mark.slow
def test_held_out_word_pairs_keep_the_top_10(world: Matcher) -> None:
    matcher = world
    data = _pools(matcher)
    result = counterfactual_rankings(matcher, data, _ranker(matcher, data), pairs=read_heldout(HELDOUT))
    assert result["swappedProfiles"] >= 10 and result["vacancies"] >= 5, result  # held-out words do occur
    assert result["rbo"] >= 0.95, result


@pytest.mark.slow
def test_without_the_fold_a_ranker_that_reads_only_the_text_does_move(world: Matcher) -> None:
    """The test can fail: without the fold, ranking by dense similarity alone shows how far the swap moves vectors."""
    matcher = world
    data = _pools(matcher, vacancies=10)
    column = data.feature_names.index("dense_similarity")
    result = counterfactual_rankings(matcher, data, lambda part: part.features[:, column], fold=False)
    assert result["vacancies"] >= 5 and result["rbo"] < 1.0
    folded = counterfactual_rankings(matcher, data, lambda part: part.features[:, column])
    assert folded["rbo"] > result["rbo"]


@pytest.mark.slow
@pytest.mark.parametrize(("feminine", "masculine"), [("orderpickster", "orderpicker"), read_heldout(HELDOUT)[0][:2]])
def test_the_real_search_ranks_a_client_the_same_whichever_word_they_use(
    world: Matcher, feminine: str, masculine: str
) -> None:
    matcher = world
    vacancy_id = sorted(matcher.sides["vacancies"].texts)[0]
    before = matcher.sides["vacancies"].texts[vacancy_id]
    result = search_counterfactual(matcher, int(vacancy_id), feminine, masculine, top=50, position=10)
    assert result["rankMasculine"] is not None, result  # the client is in the list with the masculine word
    assert result["bothListed"] and result["rankDifference"] <= 5 and result["rbo"] >= 0.95, result
    assert matcher.sides["vacancies"].texts[vacancy_id] == before  # the world is restored
