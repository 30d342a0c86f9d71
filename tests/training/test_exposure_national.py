"""bench/exposure_national.py: the seeded sample with its moments, the per-group table, the kept pools."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bench.exposure_national import (
    YEAR_SECONDS,
    YEAR_START,
    group_table,
    load_pools,
    sample_with_moments,
    save_pools,
    x_client_bootstrap,
)
from tests.factories import fairness_pools
from training.dataset import RankingData
from training.exposure_eval import served_fairness


def test_sample_is_seeded_distinct_and_spread_over_the_year_in_the_order_drawn() -> None:
    ids = np.arange(1000, 4000)
    sample, moments = sample_with_moments(ids, 600, seed=0)
    again, _ = sample_with_moments(ids, 600, seed=0)
    assert np.array_equal(sample, again) and len(np.unique(sample)) == 600 and np.isin(sample, ids).all()
    at = np.array([moments[int(v)] for v in sample])
    assert at[0] == YEAR_START and np.all(np.diff(at) > 0) and at[-1] < YEAR_START + YEAR_SECONDS
    assert np.allclose(np.diff(at), YEAR_SECONDS / 600)
    # the first 200 drawn are the earliest 200: their lists are replayed before any other pool
    earliest = sorted(moments, key=moments.__getitem__)[:200]
    assert set(earliest) == set(sample[:200].tolist())
    small, few = sample_with_moments(ids[:3], 10)
    assert sorted(small.tolist()) == ids[:3].tolist() and len(few) == 3


def _pools() -> tuple[RankingData, np.ndarray, dict[str, np.ndarray], np.ndarray]:
    data, groups = fairness_pools(vacancies=80, size=40, seed=3)
    rng = np.random.default_rng(5)
    data = replace(data, trede=rng.integers(0, 6, len(data)).astype(np.int64))
    b = groups["groep"] == "b"
    merit = rng.random(len(data)) < 0.2
    scores = rng.random(len(data)) - 0.8 * b  # b merits as often as a but is ranked far lower
    return data, scores, groups, merit


def _served() -> tuple[dict, dict[str, np.ndarray], np.ndarray]:
    data, scores, groups, merit = _pools()
    return served_fairness(data, scores, groups, merit, strength=0.25, floor=1.0, merit_share=0.2), groups, merit


def test_x_client_bootstrap_reproduces_the_audits_ratio_and_brackets_it() -> None:
    data, scores, groups, merit = _pools()
    groups = {**groups, "geslacht": np.where(data.client_ids % 7 == 0, "x", "vrouw").astype(object)}
    served = served_fairness(data, scores, groups, merit, strength=0.25, floor=1.0, merit_share=0.2)
    found = x_client_bootstrap(data, scores, groups, merit, served["method"], draws=300)
    audited = served["attributes"]["geslacht"]["groups"]["x"]
    assert found["clients"] == audited["clients"]
    assert found["served"]["exposureVsMerit"] == pytest.approx(audited["exposureVsMerit"], abs=1e-4)
    relevance = served["relevanceOnly"]["geslacht"]["x"]["exposureVsMerit"]
    assert found["relevanceOnly"]["exposureVsMerit"] == pytest.approx(relevance, abs=1e-4)
    for name in ("served", "relevanceOnly"):
        low, high = found[name]["clientBootstrapCI"]
        assert low < found[name]["exposureVsMerit"] < high


def test_group_table_reads_the_audit_and_counts_merit_rows() -> None:
    served, groups, merit = _served()
    table = group_table(served, groups, merit)
    by_group = {row["group"]: row for row in table}
    assert set(by_group) == {"groep=a", "groep=b", "groep=klein"}
    for name, row in by_group.items():
        group = name.split("=")[1]
        audited = served["attributes"]["groep"]["groups"][group]
        assert row["meritRows"] == int(np.sum(merit & (groups["groep"] == group)))
        assert (row["served"], row["servedCI"]) == (audited["exposureVsMerit"], audited["exposureVsMeritCI"])
        assert row["relevanceOnly"] == served["relevanceOnly"]["groep"][group]["exposureVsMerit"]
        assert row["effectiveMeritClients"] == audited["effectiveMeritClients"]
    assert sum(row["meritRows"] for row in table) == int(merit.sum())
    assert by_group["groep=b"]["under"] and by_group["groep=b"]["served"] < 0.8
    assert not by_group["groep=a"]["under"] and by_group["groep=a"]["served"] > 1.0
    assert not by_group["groep=klein"]["read"] and not by_group["groep=klein"]["under"]  # 5 clients: not read
    values = [row["served"] for row in table]
    assert values == sorted(values)  # the lowest first
    assert served["goal"]["groupsBelow"] == [row["group"] for row in table if row["under"]]


def test_kept_pools_read_back_the_same(tmp_path: Path) -> None:
    data, _ = fairness_pools(vacancies=5, size=10)
    data = replace(data, trede=np.arange(len(data)) % 6, bron=np.array(["WSP"] * len(data)))
    truth, sample = np.linspace(-1, 1, len(data)), np.arange(5, dtype=np.int64)
    save_pools(tmp_path / "pools.npz", data, truth, sample)
    read, read_truth, read_sample = load_pools(tmp_path / "pools.npz")
    for name in ("features", "labels", "vacancy_ids", "client_ids", "moments", "bron", "trede"):
        assert np.array_equal(getattr(read, name), getattr(data, name)), name
    assert np.array_equal(read_truth, truth) and np.array_equal(read_sample, sample)
