"""The shipped baseline ranker: loads, behaves sanely, and refuses directories it cannot trust."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from matching import notes_readiness
from matching.features import FEATURE_NAMES
from matching.ranker import BOOSTER_FILE, SPEC_FILE, RankerError, load_ranker
from matching.settings import RankerSettings
from tests.factories import plausible_pairs
from tests.oracles import BEHAVIOURS, more_notes_readiness_never_lowers, pair_scorer

BASELINE = RankerSettings().baseline_dir
COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}


@pytest.fixture(scope="module")
def ranker():
    return load_ranker(BASELINE, "baseline")


@pytest.fixture(scope="module")
def pairs() -> np.ndarray:
    return plausible_pairs()


def test_the_shipped_baseline_loads_and_says_what_it_is(ranker) -> None:
    # the 25 pair features and the notes column (what the client and consulent wrote, read without health)
    assert ranker.spec["features"] == [*FEATURE_NAMES, notes_readiness.FEATURE]
    assert ranker.notes is not None
    described = ranker.describe()
    assert described["name"] == "baseline" and described["version"]
    assert "synthetisch" in ranker.spec["trainedOn"]


@pytest.mark.parametrize("behaviour", BEHAVIOURS, ids=lambda check: check.__name__)
def test_the_shipped_baseline_behaves(ranker, pairs, behaviour) -> None:
    behaviour(pair_scorer(ranker), pairs)


def test_more_notes_readiness_never_lowers_the_shipped_baselines_score(ranker, pairs) -> None:
    more_notes_readiness_never_lowers(ranker, pairs)


def test_required_coverage_matters_to_the_shipped_baseline(ranker, pairs) -> None:
    more = pairs.copy()
    more[:, COLUMN["required_coverage"]] = np.minimum(more[:, COLUMN["required_coverage"]] + 0.3, 1.0)
    scorer = pair_scorer(ranker)
    assert (scorer.score(more) > scorer.score(pairs) + 1e-6).any()


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
