"""bench/experience_cap_choice.py: the rule's pick (the leeftijd screen first, then validation NDCG@10 with a 0.005
tie band won by the larger cap; no pick when no cap passes) and the in-process cap."""

from __future__ import annotations

import pytest

import matching.features
from bench.experience_cap_choice import CAPS, experience_cap, pick_of, screen_passes


def _row(cap: float, ndcg: float, passes: bool = True) -> dict:
    return {"cap": cap, "validationNdcg@10": ndcg, "screenPasses": passes}


def test_the_highest_ndcg_wins_outside_the_tie_band() -> None:
    rows = [_row(10, 0.700), _row(5, 0.690), _row(3, 0.712), _row(2, 0.701)]
    assert pick_of(rows)["pick"] == 3


def test_a_cap_within_the_tie_band_ties_and_the_larger_cap_wins() -> None:
    rows = [_row(10, 0.700), _row(5, 0.705), _row(3, 0.710), _row(2, 0.709)]
    assert pick_of(rows)["pick"] == 5  # 0.705 is 0.005 below 0.710: tied, and 5 > 3 > 2
    assert pick_of([_row(10, 0.7049), _row(5, 0.710)])["pick"] == 5  # 0.0051 below: not tied


def test_the_screen_comes_first() -> None:
    rows = [_row(10, 0.720, passes=False), _row(5, 0.700), _row(3, 0.690), _row(2, 0.650)]
    result = pick_of(rows)
    assert result["pick"] == 5
    assert result["passing"] == [5, 3, 2]
    assert result["ndcgOnly"] == 10


def test_ties_are_read_among_the_caps_that_pass() -> None:
    rows = [_row(10, 0.703, passes=False), _row(5, 0.700, passes=False), _row(3, 0.701), _row(2, 0.704)]
    assert pick_of(rows)["pick"] == 3  # tied with 2 (0.003 below), 3 is larger; 10 and 5 never count


def test_no_cap_through_the_screen_is_no_pick() -> None:
    rows = [_row(cap, 0.7 + cap / 1000, passes=False) for cap in CAPS]
    result = pick_of(rows)
    assert result["pick"] is None
    assert result["passing"] == []
    assert result["ndcgOnly"] == 10  # what the NDCG part alone would take, reported beside "no pick"


def test_the_screen_reads_every_group_with_merit() -> None:
    assert screen_passes({"leeftijd=tot 27": 0.8, "leeftijd=55+": 1.2})
    assert not screen_passes({"leeftijd=tot 27": 0.7999, "leeftijd=55+": 1.2})
    assert screen_passes({"leeftijd=tot 27": None, "leeftijd=55+": 0.9})  # no merit rows: nothing to read


def test_the_cap_holds_inside_the_block_and_is_restored_after_an_error() -> None:
    before = matching.features.EXPERIENCE_CAP_YEARS
    with pytest.raises(RuntimeError), experience_cap(3.0):
        assert matching.features.EXPERIENCE_CAP_YEARS == 3.0
        raise RuntimeError("fit failed")
    assert matching.features.EXPERIENCE_CAP_YEARS == before
