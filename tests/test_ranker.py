"""The shipped baseline ranker: loads, behaves sanely, and refuses directories it cannot trust."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from matching.features import FEATURE_NAMES
from matching.ranker import BOOSTER_FILE, SPEC_FILE, LearnedRanker, RankerError, load_ranker
from matching.settings import RankerSettings

BASELINE = RankerSettings().baseline_dir
COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}


@pytest.fixture(scope="module")
def ranker():
    return load_ranker(BASELINE, "baseline")


@pytest.fixture(scope="module")
def pairs() -> np.ndarray:
    return plausible_pairs()


def plausible_pairs() -> np.ndarray:
    """Plausible feature rows: similarities, coverages and travel within their real ranges."""
    rng = np.random.default_rng(3)
    n = 500
    rows = rng.random((n, len(FEATURE_NAMES))).astype(np.float32)
    rows[:, COLUMN["distance_km"]] *= 40
    rows[:, COLUMN["travel_minutes"]] *= 60
    rows[:, COLUMN["travel_ratio"]] *= 1.5
    rows[:, COLUMN["travel_overshoot"]] = np.maximum(rows[:, COLUMN["travel_ratio"]] - 1, 0)
    rows[:, COLUMN["experience_years"]] *= 10
    rows[:, COLUMN["hours_overlap"]] *= 32
    rows[:, COLUMN["days_since_update"]] *= 700
    return rows


def test_the_shipped_baseline_loads_and_says_what_it_is(ranker) -> None:
    assert ranker.spec["features"] == list(FEATURE_NAMES)
    described = ranker.describe()
    assert described["name"] == "baseline" and described["version"]
    assert "synthetisch" in ranker.spec["trainedOn"]


def more_coverage_never_lowers(ranker: LearnedRanker, pairs: np.ndarray) -> None:
    before = ranker.score(pairs)
    more = pairs.copy()
    more[:, COLUMN["required_coverage"]] = np.minimum(more[:, COLUMN["required_coverage"]] + 0.3, 1.0)
    assert (ranker.score(more) >= before - 1e-9).all()


def longer_trip_never_raises(ranker: LearnedRanker, pairs: np.ndarray) -> None:
    before = ranker.score(pairs)
    further = pairs.copy()
    further[:, COLUMN["travel_ratio"]] += 0.5
    further[:, COLUMN["travel_overshoot"]] = np.maximum(further[:, COLUMN["travel_ratio"]] - 1, 0)
    further[:, COLUMN["travel_minutes"]] += 20
    further[:, COLUMN["distance_km"]] += 10
    assert (ranker.score(further) <= before + 1e-9).all()


def pool_order_changes_nothing(ranker: LearnedRanker, pairs: np.ndarray) -> None:
    order = np.random.default_rng(0).permutation(len(pairs))
    np.testing.assert_array_equal(ranker.score(pairs)[order], ranker.score(pairs[order]))
    np.testing.assert_array_equal(ranker.score(pairs[:1]), ranker.score(pairs)[:1])


BEHAVIOURS = (more_coverage_never_lowers, longer_trip_never_raises, pool_order_changes_nothing)


@pytest.mark.parametrize("behaviour", BEHAVIOURS, ids=lambda check: check.__name__)
def test_the_shipped_baseline_behaves(ranker, pairs, behaviour) -> None:
    behaviour(ranker, pairs)


def test_required_coverage_matters_to_the_shipped_baseline(ranker, pairs) -> None:
    more = pairs.copy()
    more[:, COLUMN["required_coverage"]] = np.minimum(more[:, COLUMN["required_coverage"]] + 0.3, 1.0)
    assert (ranker.score(more) > ranker.score(pairs) + 1e-6).any()


def test_a_wrong_number_of_features_is_refused(ranker) -> None:
    with pytest.raises(RankerError, match="kenmerken"):
        ranker.score(np.zeros((3, len(FEATURE_NAMES) - 1), np.float32))


def test_a_directory_for_other_features_is_refused(tmp_path: Path) -> None:
    target = shutil.copytree(BASELINE, tmp_path / "old")
    spec = json.loads((target / SPEC_FILE).read_text())
    spec["features"] = spec["features"][::-1]
    (target / SPEC_FILE).write_text(json.dumps(spec))
    with pytest.raises(RankerError, match="andere kenmerken"):
        load_ranker(target, "oud")


def test_a_damaged_model_file_is_a_clear_error(tmp_path: Path) -> None:
    target = shutil.copytree(BASELINE, tmp_path / "damaged")
    (target / BOOSTER_FILE).write_text("dit is geen model")
    with pytest.raises(RankerError, match="geen geldig LightGBM-model"):
        load_ranker(target, "kapot")
    with pytest.raises(RankerError, match="nodig"):
        load_ranker(tmp_path / "nowhere", "leeg")
