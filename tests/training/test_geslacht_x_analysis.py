"""The null groups of bench/geslacht_x_analysis.py: ratios from per-client counts, merit-matched draws."""

from __future__ import annotations

import numpy as np

from bench.geslacht_x_analysis import _merit_matched, _ratio, _ratio_boot


def _clients() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    n = 400
    merit = rng.poisson(1.5, n).astype(np.float64)
    return {
        "ids": np.arange(n),
        "merit": merit,
        "x": np.arange(n) < 20,
        "served": np.minimum(merit, rng.poisson(1.0, n)).astype(np.float64),
    }


def test_everyone_gets_exactly_their_merit_share() -> None:
    c = _clients()
    assert _ratio(c, np.arange(400), "served") == 1.0


def test_merit_matched_draw_keeps_the_merit_distribution_with_distinct_non_x_clients() -> None:
    c = _clients()
    drawn = _merit_matched(c, np.random.default_rng(0))
    x = np.flatnonzero(c["x"])
    assert len(np.unique(drawn)) == len(x)
    assert not c["x"][drawn].any()
    assert sorted(c["merit"][drawn].tolist()) == sorted(c["merit"][x].tolist())


def test_client_bootstrap_without_resampling_gives_the_groups_own_ratio() -> None:
    c = _clients()
    x = np.flatnonzero(c["x"])
    assert abs(_ratio_boot(c, x, x, "served") - _ratio(c, x, "served")) < 1e-12
