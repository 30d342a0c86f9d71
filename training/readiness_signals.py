"""Why fresh rankers under-rate the truly suitable clients far from work, and readiness read among peers
(issue 19, items 1-2; research, not served).

The merit floor gives each trede its share of the ranker's *own* relevance top. A group whose suitable
members the ranker cannot tell apart from its unsuitable ones gets scores squeezed toward its mean, so
none of it reaches that top even when its true merit is real. These array functions measure that, and
build the one candidate column derived here from data the service has:

* :func:`separation_within`: per signal, how well it tells the truly suitable rows from the rest *inside*
  a group (ROC AUC, 0.5 = not at all): what a ranker could learn about that group from the signal;
* :func:`group_profile`: per signal the mean over the rows of each named group, with the standardised
  difference of two of them;
* :func:`readiness_terms`: the truth's readiness penalty as the recorded trede gives it and as the true
  readiness gives it (:mod:`training.latent`: ``-w * max(gap, 0)^2``);
* :func:`standardised_within`: values standardised within their group: scores within their pool (the scale
  the exposure re-ranking works on), or a per-client column among the clients of the same recorded trede
  ("more motivated than others on the same step"), so the column stops carrying the trede the ranker sees.

No beperking and no protected attribute is read here; the callers pass groups and signals.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from training.latent import DEFAULT_WEIGHTS


def separation_within(
    signals: dict[str, np.ndarray], suitable: np.ndarray, groups: dict[str, np.ndarray]
) -> dict[str, dict[str, float | None]]:
    """Per group and signal the ROC AUC of the signal for ``suitable`` among the group's rows (None when the
    group has only one class)."""
    out: dict[str, dict[str, float | None]] = {}
    for name, member in groups.items():
        both = len(np.unique(suitable[member])) == 2
        out[name] = {
            signal: round(float(roc_auc_score(suitable[member], values[member])), 3) if both else None
            for signal, values in signals.items()
        }
    return out


def group_profile(
    signals: dict[str, np.ndarray], groups: dict[str, np.ndarray], contrast: tuple[str, str]
) -> dict[str, dict[str, float]]:
    """Per signal the mean over each group's rows and the standardised difference (first minus second of
    ``contrast``, over the pooled standard deviation of the two groups)."""
    first, second = (groups[name] for name in contrast)
    out: dict[str, dict[str, float]] = {}
    for signal, values in signals.items():
        values = np.asarray(values, np.float64)
        row = {name: round(float(values[member].mean()), 4) for name, member in groups.items() if member.any()}
        pooled = np.sqrt((values[first].var() + values[second].var()) / 2)
        row["standardisedDifference"] = (
            round(float((values[first].mean() - values[second].mean()) / pooled), 3) if pooled > 0 else 0.0
        )
        out[signal] = row
    return out


def readiness_terms(recorded_gap: np.ndarray, trede_excess: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The truth's readiness penalty from the recorded gap (what the features see) and from the true gap.

    ``recorded_gap``: the ``readiness_gap`` feature (readiness asked minus the recorded trede, minus 0.5 with
    a jobcoach); ``trede_excess``: true readiness minus the recorded trede. The true gap is their difference.
    """
    weight = DEFAULT_WEIGHTS.readiness_gap
    true_gap = np.asarray(recorded_gap, np.float64) - np.asarray(trede_excess, np.float64)
    return -weight * np.maximum(recorded_gap, 0.0) ** 2, -weight * np.maximum(true_gap, 0.0) ** 2


def standardised_within(values: np.ndarray, peers: np.ndarray) -> np.ndarray:
    """``values`` minus the mean of their peer group over its standard deviation (0 for a constant group)."""
    values = np.asarray(values, np.float64)
    out = np.zeros(len(values))
    for peer in np.unique(peers):
        rows = np.flatnonzero(peers == peer)
        spread = values[rows].std()
        out[rows] = (values[rows] - values[rows].mean()) / spread if spread > 0 else 0.0
    return out
