"""The gendered counterfactual bench orders its lists with the ranker it names, or stops."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.gendered_counterfactual import PINNED_RANKER, pinned_ranker, require_ranker
from matching.ranker import load_ranker


def test_the_pinned_ranker_is_one_this_code_serves(tmp_path: Path) -> None:
    directory = pinned_ranker(tmp_path)
    ranker = load_ranker(directory, "pinned", PINNED_RANKER)
    assert ranker.describe()["name"] == "pinned"


def test_a_refused_ranker_stops_the_run_unless_the_weighted_score_is_asked_for() -> None:
    refused = {"name": "gewogen score", "error": "de ranker in X is getraind op andere kenmerken"}
    with pytest.raises(SystemExit, match="andere kenmerken"):
        require_ranker(refused, allow_weighted=False)
    require_ranker(refused, allow_weighted=True)
    require_ranker({"name": "baseline"}, allow_weighted=False)
