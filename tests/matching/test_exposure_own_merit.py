"""Attention against a client's own merit: the penalty's known answers, the ledger, and rerank's ``penalty``."""

from __future__ import annotations

import numpy as np
import pytest

from matching.exposure import LIST_SIZE, PENALTY_CAP, ExposureLedger, exposure_penalty, rerank
from matching.exposure_own_merit import OwnMeritLedger, own_merit_penalty


def test_the_penalty_is_neutral_for_a_new_client_and_for_attention_equal_to_merit() -> None:
    penalty = own_merit_penalty(np.array([0.0, 3.0, 6.0, 0.0]), np.array([0.0, 3.0, 1.0, 4.0]), prior=1.0)
    assert penalty[0] == 0.0 and penalty[1] == pytest.approx(0.0)
    assert penalty[2] == pytest.approx(np.log(7 / 2))  # shown above merit: pushed down
    assert penalty[3] == pytest.approx(np.log(1 / 5))  # shown below merit: pushed up


def test_one_sided_only_stops_attention_above_merit_and_both_sides_are_capped() -> None:
    shown, earned = np.array([0.0, 500.0, 2.0]), np.array([500.0, 0.0, 1.0])
    two = own_merit_penalty(shown, earned)
    one = own_merit_penalty(shown, earned, one_sided=True)
    assert two.tolist()[:2] == [-PENALTY_CAP, PENALTY_CAP]
    assert one.tolist()[:2] == [0.0, PENALTY_CAP]
    assert one[2] == two[2] == pytest.approx(np.log(3 / 2))
    with pytest.raises(ValueError, match="prior"):
        own_merit_penalty(shown, earned, prior=0.0)


def test_the_ledger_shares_each_lists_places_by_probability_and_reports_the_state_before() -> None:
    ledger = OwnMeritLedger()
    shown, earned = ledger.candidates([7, 8, 9])
    assert shown.tolist() == [0, 0, 0] and earned.tolist() == [0, 0, 0]
    ledger.record(np.array([7, 8, 9]), np.array([0.6, 0.3, 0.1]), np.array([0, 1, 2]))  # a pool of 3: 3 places
    shown, earned = ledger.candidates([9, 7, 5])
    assert shown.tolist() == [1, 1, 0]
    assert earned == pytest.approx([0.3, 1.8, 0.0])
    pool = np.arange(100, 130)
    probs = np.random.default_rng(0).random(30)
    ledger.candidates(pool)
    ledger.record(pool, probs, np.arange(LIST_SIZE))
    assert sum(ledger.earned_.values()) == pytest.approx(3 + LIST_SIZE)  # places earned = places shown
    alone = ExposureLedger()
    alone.candidates([7, 8, 9])
    alone.record([7, 8, 9])
    alone.candidates([9, 7, 5])
    alone.candidates(pool)
    alone.record(pool[:LIST_SIZE])
    assert ledger.mean() == pytest.approx(alone.mean())


def test_rerank_with_the_exposure_penalty_given_is_rerank_itself() -> None:
    rng = np.random.default_rng(3)
    scores, exposure, trede = rng.normal(size=300), rng.integers(0, 30, 300), rng.integers(0, 6, 300)
    given = exposure_penalty(exposure, 4.0)
    np.testing.assert_array_equal(
        rerank(scores, exposure, trede, 0.5, 4.0, penalty=given), rerank(scores, exposure, trede, 0.5, 4.0)
    )


def test_a_negative_penalty_lifts_a_client_shown_below_their_merit() -> None:
    scores = np.array([2.0, 1.9, 1.0, 0.0, -1.0])
    trede = np.full(5, 4)
    exposure = np.zeros(5)
    penalty = own_merit_penalty(np.array([0.0, 0.0, 0, 0, 0]), np.array([0.0, 8.0, 0, 0, 0]))
    assert rerank(scores, exposure, trede, 1.0, penalty=penalty).tolist()[:2] == [1, 0]
    with pytest.raises(ValueError, match="straf"):
        rerank(scores, exposure, trede, 1.0, penalty=penalty[:3])
