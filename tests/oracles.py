"""Behavioural checks for any ranker (the shipped baseline, a freshly trained one): each takes the ranker
and plausible feature rows (``tests.factories.plausible_pairs``) and fails when the ranker misbehaves; and
:func:`health_words`, the check that what a person chooses from names no health reason."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matching.features import FEATURE_NAMES
from matching.ranker import LearnedRanker

COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}
# Health, illness and disability, as stems a code or a Dutch label could contain.
HEALTH = (
    "gezond", "ziek", "ziekte", "medisch", "medic", "beperking", "handicap", "invalide", "arbeidsongeschikt",
    "verzuim", "psychisch", "psychi", "diagnose", "therap", "burn-out", "burnout", "zwanger", "health", "sick",
    "disab", "illness", "mental",
)  # fmt: skip


def health_words(text: str) -> list[str]:
    lowered = text.lower()
    return [stem for stem in HEALTH if stem in lowered]


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


@dataclass(frozen=True)
class FixedNotes:
    """A ranker that reads the notes column, scoring pair rows with that column held at ``value`` for every row (the
    behaviours check the pair features with the client's texts unchanged)."""

    ranker: LearnedRanker
    value: float = 0.0

    def score(self, pairs: np.ndarray) -> np.ndarray:
        column = np.full((len(pairs), 1), self.value, np.float32)
        return self.ranker.score_inputs(np.hstack([np.asarray(pairs, np.float32), column]))


def pair_scorer(ranker: LearnedRanker) -> LearnedRanker | FixedNotes:
    """What the behaviours score: the ranker itself, or with a notes column, that column held still."""
    return FixedNotes(ranker) if ranker.notes is not None else ranker


def more_notes_readiness_never_lowers(ranker: LearnedRanker, pairs: np.ndarray) -> None:
    """A ranker reading the notes column: a higher value of it never lowers a pair's score."""
    low, high = FixedNotes(ranker, -0.5), FixedNotes(ranker, 0.5)
    assert (high.score(pairs) >= low.score(pairs) - 1e-9).all()
