"""The one score a person reads for a (client, vacancy) pair: 0–100, the same on every list.

The ranker orders candidate lists on its own scale (LambdaMART scores have no unit and shift from
list to list), and a client's options at intake are ordered by the weighted core score, whose text
signals are z-scores over that search's pool. Neither number means the same thing twice, so neither
is shown. What is shown is this one, computed from the pair alone:

    score = 100 × Σ weight_k × signal_k        (startpunt 0; the four terms are the bars)

over four groups of pair-level signals in [0, 1], with the weights of the weighted core score
(:class:`matching.settings.RetrievalSettings`, normalised to sum to one; dense and lexical together
weigh for ``tekst``):

* ``tekst``: the cosine of the two stored embeddings (symmetric: the same from either side),
  mapped linearly from :data:`TEXT_COSINE_FLOOR` (0) to :data:`TEXT_COSINE_CEILING` (1). BM25 is
  left out: it is divided by the best match of the query, so it differs per direction and per pool;
* ``competenties``, ``ervaring``, ``reis``: the core's structured signals
  (:func:`matching.scoring.signals_from`) of the pair's ranker features.

Everything comes from one row of :func:`matching.features.pair_matrix`, which both search
directions compute for the shown pairs, so the vacancy's candidate list and the client's options
show the same number for the same pair. The points of the four groups are whole numbers that add
up exactly to the shown score (largest remainders), each with the most it can give (its weight).
It is a fit score, not a probability: how it relates to outcomes is measured in
``bench/display_score.py`` (README, "The score").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from matching import scoring
from matching.features import FEATURE_NAMES
from matching.settings import RetrievalSettings

# Cosines of multilingual-e5-small (symmetric, the default) between a profile and a vacancy sit in a
# narrow band. The ramp runs from the 1st to the 99th percentile of the cosines of the proposed pairs
# in the tuning half of the demo's 3-year history (0.966 and 0.992; bench/results/display-score.json);
# below the floor the text adds nothing, at the ceiling all it can.
TEXT_COSINE_FLOOR = 0.965
TEXT_COSINE_CEILING = 0.99
GROUPS = ("competenties", "ervaring", "tekst", "reis")
GROUP_LABELS = {
    "competenties": "Competenties",
    "ervaring": "Ervaring en wensen in het beroep",
    "tekst": "Overeenkomst profiel en vacaturetekst",
    "reis": "Reisafstand",
}
STARTPUNT = 0
# For a viewer outside the client's caseload the distance part is not shown (matching.disclosure, rule 2),
# and neither is the text part: with one unknown part left, the score minus the shown parts would give
# the distance to within a point, a tenth of the client's reach (which the reasons name). Together the
# two are shown as one number.
OUTSIDER_HIDDEN = frozenset({"reis", "tekst"})
_COLUMN = {name: position for position, name in enumerate(FEATURE_NAMES)}


def group_weights(weights: RetrievalSettings) -> dict[str, float]:
    """The share of the 100 points each group can give (the weighted core score's weights)."""
    share = scoring.normalised_weights(weights)
    return {
        "competenties": share["competences"],
        "ervaring": share["occupation"],
        "tekst": share["dense"] + share["lexical"],
        "reis": share["distance"],
    }


def text_fit(cosine: np.ndarray | float) -> np.ndarray:
    """The ``tekst`` signal: the embeddings' cosine on the ramp from the floor (0) to the ceiling (1)."""
    ramp = (np.asarray(cosine, np.float64) - TEXT_COSINE_FLOOR) / (TEXT_COSINE_CEILING - TEXT_COSINE_FLOOR)
    return np.clip(ramp, 0.0, 1.0)


def group_signals(features: np.ndarray) -> dict[str, np.ndarray]:
    """Per group, the pair-level signal in [0, 1] of each row of a feature matrix."""
    features = np.asarray(features, np.float64).reshape(-1, len(FEATURE_NAMES))

    def column(name: str) -> np.ndarray:
        return features[:, _COLUMN[name]]

    structured = scoring.signals_from(
        column("required_coverage"),
        column("optional_coverage"),
        column("experience_years"),
        column("wishes_occupation"),
        column("travel_ratio"),
    )
    signals = {
        "competenties": structured["competences"],
        "ervaring": structured["occupation"],
        "tekst": text_fit(column("dense_similarity")),
        "reis": structured["distance"],
    }
    return {group: np.clip(values, 0.0, 1.0) for group, values in signals.items()}


def points(features: np.ndarray, weights: RetrievalSettings) -> np.ndarray:
    """Unrounded points per row and group (columns in :data:`GROUPS` order); a row sums to its score."""
    signals, share = group_signals(features), group_weights(weights)
    return np.stack([100.0 * share[group] * signals[group] for group in GROUPS], axis=1)


def apportion(row_points: np.ndarray) -> np.ndarray:
    """Whole points per group that sum to the rounded total: floors, then the largest remainders get one."""
    row_points = np.asarray(row_points, np.float64)
    total = int(np.floor(row_points.sum() + 0.5))
    whole = np.floor(row_points).astype(np.int64)
    remainder = row_points - whole
    missing = total - int(whole.sum())
    order = np.argsort(-remainder, kind="stable")
    whole[order[:missing]] += 1
    return whole


def scores(features: np.ndarray, weights: RetrievalSettings) -> np.ndarray:
    """The shown score (int, 0–100) of each row of a feature matrix."""
    return np.floor(points(features, weights).sum(axis=1) + 0.5).astype(np.int64)


@dataclass(frozen=True)
class ScoreBreakdown:
    """One pair's shown score and the points per group that add up to it from :data:`STARTPUNT`.

    ``hidden``: groups a viewer may not see (:data:`OUTSIDER_HIDDEN`); their parts are left out of the
    JSON, named in ``nietGetoond`` and counted together in ``nietGetoondPunten``.
    """

    score: int
    punten: dict[str, int]
    maximum: dict[str, int]
    hidden: frozenset[str] = frozenset()

    def hiding(self, groups: frozenset[str]) -> ScoreBreakdown:
        """The same breakdown with ``groups`` left out of what is shown (the score stays)."""
        return replace(self, hidden=self.hidden | groups)

    def to_json(self) -> dict[str, object]:
        """``scoreOpbouw``: startpunt and the parts, largest first."""
        parts = [
            {
                "kenmerk": group,
                "label": GROUP_LABELS[group],
                "punten": self.punten[group],
                "maximum": self.maximum[group],
            }
            for group in sorted(GROUPS, key=lambda group: (-self.punten[group], GROUPS.index(group)))
            if group not in self.hidden
        ]
        hidden = sorted(self.hidden)
        return {
            "startpunt": STARTPUNT,
            "onderdelen": parts,
            "nietGetoond": hidden,
            "nietGetoondPunten": sum(self.punten[group] for group in hidden),
        }


def breakdowns(features: np.ndarray, weights: RetrievalSettings) -> list[ScoreBreakdown]:
    """The :class:`ScoreBreakdown` of each row of a feature matrix."""
    share = group_weights(weights)
    maximum = apportion(np.array([100.0 * share[group] for group in GROUPS]))
    limits = dict(zip(GROUPS, maximum.tolist(), strict=True))
    out = []
    for row in points(features, weights):
        whole = apportion(row)
        out.append(ScoreBreakdown(int(whole.sum()), dict(zip(GROUPS, whole.tolist(), strict=True)), limits))
    return out
