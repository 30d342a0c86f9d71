"""The weighted row on whole pools is the served score (training/served_weighted.py): the rare-identifier gate's text
signals read from the index as the search computes them; the voorstellen keep the feature path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.weighted_gate_pools import search_scores
from matching import scoring
from matching.features import EXPERIENCE_COLUMN
from matching.matcher import Matcher
from matching.settings import RetrievalSettings, Settings
from tests.factories import copied_world
from tests.factories import generated_ranking as generated
from training.dataset import RankingData
from training.metrics import summarise
from training.rankers import column, compare, weighted_baseline
from training.served_weighted import pool_text_signals, served_weighted

POOLS = 12


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, simulated_template: Path, embedder) -> tuple[Settings, Matcher]:
    return copied_world(simulated_template, tmp_path_factory.mktemp("served-weighted") / "var", embedder)


@pytest.fixture(scope="module")
def pools(world) -> RankingData:
    """Whole pools of the first vacancies, as ``werkmatch evaluate``'s pool holdout reads them (``pool_features``),
    in an order the search does not use (the newest client first) to show the rows are matched by id."""
    _, matcher = world
    parts = []
    for vacancy_id in sorted(matcher.sides["vacancies"].texts)[:POOLS]:
        client_ids, features = matcher.pool_features(int(vacancy_id))
        parts.append((np.full(len(client_ids), vacancy_id), client_ids[::-1], features[::-1]))
    vacancy_ids = np.concatenate([part[0] for part in parts]).astype(np.int64)
    return RankingData(
        features=np.concatenate([part[2] for part in parts]),
        labels=np.zeros(len(vacancy_ids), np.int64),
        vacancy_ids=vacancy_ids,
        client_ids=np.concatenate([part[1] for part in parts]).astype(np.int64),
        moments=np.zeros(len(vacancy_ids)),
    )


def test_the_served_weighted_score_is_the_searchs_own(world, pools: RankingData) -> None:
    settings, matcher = world
    served = served_weighted(matcher, settings.retrieval)(pools)
    differs = 0
    for vacancy_id in np.unique(pools.vacancy_ids).tolist():
        ids, search = search_scores(matcher, int(vacancy_id))
        rows = np.flatnonzero(pools.vacancy_ids == vacancy_id)
        ours = dict(zip(pools.client_ids[rows].tolist(), served[rows].tolist(), strict=True))
        assert sorted(ours) == sorted(ids.tolist())
        np.testing.assert_allclose([ours[int(c)] for c in ids], search, rtol=0, atol=1e-6)
        before = weighted_baseline(pools.take(rows), settings.retrieval)
        differs += not np.allclose(served[rows], before, atol=1e-6)
    assert differs  # the gate's fusion is not the one before it: the check is not of two equal scores


def test_given_text_signals_replace_the_feature_fusion_only(pools: RankingData) -> None:
    weights = RetrievalSettings()
    rng = np.random.default_rng(0)
    dense, lexical = rng.random(len(pools)).astype(np.float32), rng.random(len(pools)).astype(np.float32)
    structured = scoring.signals_from(
        column(pools, "required_coverage"),
        column(pools, "optional_coverage"),
        column(pools, EXPERIENCE_COLUMN),
        column(pools, "wishes_occupation"),
        column(pools, "travel_ratio"),
    )
    expected = scoring.combine({"dense": dense, "lexical": lexical, **structured}, weights)
    np.testing.assert_array_equal(weighted_baseline(pools, weights, text=(dense, lexical)), expected)


def test_a_client_outside_the_index_is_refused(world, pools: RankingData) -> None:
    settings, matcher = world
    rows = np.flatnonzero(pools.vacancy_ids == pools.vacancy_ids[0])
    alien = pools.take(rows)
    alien.client_ids[0] = alien.client_ids.max() + 10_000_000
    with pytest.raises(LookupError, match="niet elke kandidaat"):
        pool_text_signals(matcher, alien, settings.retrieval)


@pytest.mark.slow  # compare tunes and fits both learned rankers (a few seconds)
def test_the_pool_reads_the_served_weighted_score_and_the_voorstellen_their_features() -> None:
    data = generated()
    pool = generated(vacancies=40, per_vacancy=30, seed=1)
    served = np.random.default_rng(3).random(len(pool))
    result = compare(data, RetrievalSettings(), test_share=0.25, pool=(pool, None), pool_weighted=lambda _: served)
    on_pool = result["pool"]["models"]["baseline:weighted"]
    assert on_pool["ndcg@10"] == summarise(pool.labels, served, pool.vacancy_ids)["ndcg@10"]
    _, test = data.time_split(0.25)
    features = summarise(test.labels, weighted_baseline(test, RetrievalSettings()), test.vacancy_ids)
    assert result["models"]["baseline:weighted"]["ndcg@10"] == features["ndcg@10"]
    without = compare(data, RetrievalSettings(), test_share=0.25, pool=(pool, None))
    from_features = summarise(pool.labels, weighted_baseline(pool, RetrievalSettings()), pool.vacancy_ids)
    assert without["pool"]["models"]["baseline:weighted"]["ndcg@10"] == from_features["ndcg@10"]
