"""The one score a person reads for a (client, vacancy) pair: the chance of a hire, 0–100 %, on every list.

The ranker orders candidate lists on its own scale (LambdaMART scores have no unit and shift from
list to list), and a client's options at intake are ordered by the weighted core score, whose text
signals are z-scores over that search's pool. Neither number means the same thing twice, so neither
is shown. What is shown is this one, computed from the pair alone: the chance, in whole percent, that
a voorstel of this pair ends in a hire (``aangenomen`` or further: the employer said yes; label ≥ 2 of
:data:`matching.outcomes.RELEVANCE`), from an additive logistic model fitted on the decided voorstellen
of a history (``bench/display_score.py --fit``; the parameters live in :data:`MODEL_PATH`):

    logit = intercept + Σ_f coef_f × (clip(x_f) − mean_f) / scale_f        chance = 1 / (1 + e^−logit)

over the pair-level features of :data:`GROUP_FEATURES` (columns of :func:`matching.features.pair_matrix`,
which both search directions compute for the shown pairs, so the candidate list and the client's
options show the same number). Each coefficient has the sign of its feature's monotone direction
(more required-competence coverage never lowers the chance, a longer trip never raises it), and each
feature is clipped to the range seen in the fitting half. Left out: BM25 (divided by the best match of
each query, so pool-relative), the features without a direction (profile staleness, missing fields,
an unknown taalniveau, a trede above what is asked: they would rank people down for their file's
bookkeeping), and, as everywhere, beperkingen and protected attributes.

**Parts.** The startpunt is the chance of a pair that is average on every feature (logit = intercept,
:func:`startpunt`). Group ``g``'s logit contribution ``c_g`` is mapped to percentage points by the
pair's ratio ``(p − p0) / (logit − intercept)``, so the parts (possibly negative) add up exactly to
``100 × (p − p0)``; in whole points by largest remainders, to the shown score minus the whole startpunt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

from matching.features import EXPERIENCE_COLUMN, FEATURE_NAMES, MONOTONE

MODEL_PATH = Path(__file__).resolve().parents[1] / "models" / "display-score.json"
# The outcome the chance is about: a voorstel that reached "aangenomen" or further (RELEVANCE ≥ 2).
HIRED_LABEL = 2
# L2 penalty on the standardised coefficients (a little: 20 coefficients on thousands of pairs).
L2 = 1e-3
GROUP_FEATURES: dict[str, tuple[str, ...]] = {
    "competenties": ("required_coverage", "optional_coverage"),
    "ervaring": (EXPERIENCE_COLUMN, "wishes_occupation", "wishes_sector"),
    "tekst": ("dense_similarity",),
    "reis": ("distance_km", "travel_minutes", "travel_ratio", "travel_overshoot"),
    "uren": ("hours_overlap", "hours_shortfall", "excluded_times_share"),
    "begeleiding": ("readiness_gap", "route_fit", "coaching_need_met", "coaching_need_unmet"),
    "eisen": ("language_gap", "certificate_gap", "licence_missing"),
}
GROUPS = tuple(GROUP_FEATURES)
GROUP_LABELS = {
    "competenties": "Competenties",
    "ervaring": "Ervaring en wensen in het beroep",
    "tekst": "Overeenkomst profiel en vacaturetekst",
    "reis": "Reisafstand",
    "uren": "Uren en werktijden",
    "begeleiding": "Trede, route en begeleiding",
    "eisen": "Taal, certificaten en rijbewijs",
}
MODEL_FEATURES = tuple(name for group in GROUPS for name in GROUP_FEATURES[group])
# For a viewer outside the client's caseload the distance part is not shown (matching.disclosure, rule 2),
# and neither is the text part: with one unknown part left, the score minus the shown parts would give
# the distance part to within a point. Together the two are shown as one number.
OUTSIDER_HIDDEN = frozenset({"reis", "tekst"})
# The text sentences of the explanation (matching.explain) read the embeddings' cosine on a ramp of this
# width (about the 1st to 99th percentile of the cosines of proposed pairs: 0.966–0.992 in the demo's
# tuning half) centred on the model's mean cosine, so that a fit from 0.5 up is exactly a tekst part
# that raises the chance: the sentence and the bar never disagree.
TEXT_RAMP_WIDTH = 0.025
_COLUMNS = np.array([FEATURE_NAMES.index(name) for name in MODEL_FEATURES])
_GROUP_OF = np.array([GROUPS.index(group) for group in GROUPS for _ in GROUP_FEATURES[group]])


def text_fit(cosine: np.ndarray | float) -> np.ndarray:
    """The embeddings' cosine on the ramp around the model's mean cosine (0 … 0.5 at the mean … 1)."""
    centre = model().mean[MODEL_FEATURES.index("dense_similarity")]
    return np.clip(0.5 + (np.asarray(cosine, np.float64) - centre) / TEXT_RAMP_WIDTH, 0.0, 1.0)


@dataclass(frozen=True)
class Model:
    """The fitted parameters, per feature of :data:`MODEL_FEATURES` (arrays in that order)."""

    intercept: float
    coef: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Model:
        by_name = {row["kenmerk"]: row for row in data["kenmerken"]}
        if set(by_name) != set(MODEL_FEATURES):
            raise RuntimeError(
                f"{MODEL_PATH.name}: kenmerken {sorted(by_name)} wijken af van {sorted(MODEL_FEATURES)}; "
                "maak het bestand opnieuw met bench/display_score.py --fit"
            )
        rows = [by_name[name] for name in MODEL_FEATURES]
        return cls(
            float(data["intercept"]),
            *(np.array([row[key] for row in rows], np.float64) for key in ("coef", "mean", "scale", "low", "high")),
        )

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """Logit contribution per row and group (columns in :data:`GROUPS` order), against the average pair."""
        x = np.asarray(features, np.float64).reshape(-1, len(FEATURE_NAMES))[:, _COLUMNS]
        terms = self.coef * (np.clip(x, self.low, self.high) - self.mean) / self.scale
        out = np.zeros((len(x), len(GROUPS)))
        np.add.at(out.T, _GROUP_OF, terms.T)
        return out

    def chance(self, features: np.ndarray) -> np.ndarray:
        """The modelled chance of a hire per row, in (0, 1)."""
        return _sigmoid(self.intercept + self.contributions(features).sum(axis=1))


def _sigmoid(logit: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(logit, np.float64)))


@cache
def model() -> Model:
    """The fitted model of :data:`MODEL_PATH` (read once per process)."""
    if not MODEL_PATH.is_file():
        raise RuntimeError(f"{MODEL_PATH} ontbreekt; maak het met bench/display_score.py --fit (README, de score)")
    return Model.from_json(json.loads(MODEL_PATH.read_text(encoding="utf-8")))


def fit(features: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Fit the model on a history's decided pairs; returns the JSON of :data:`MODEL_PATH` (without provenance).

    L2-penalised logistic regression on standardised, clipped features, each coefficient bounded to its
    feature's monotone sign (L-BFGS-B; deterministic: no random start).
    """
    x = np.asarray(features, np.float64).reshape(-1, len(FEATURE_NAMES))[:, _COLUMNS]
    y = (np.asarray(labels) >= HIRED_LABEL).astype(np.float64)
    if not 0 < y.sum() < len(y):
        raise ValueError(f"fit heeft paren met en zonder aanname nodig; kreeg {int(y.sum())} van {len(y)} aangenomen")
    low, high = x.min(axis=0), x.max(axis=0)
    mean, std = x.mean(axis=0), x.std(axis=0)
    scale = np.where(std > 0, std, 1.0)
    z = (x - mean) / scale
    monotone = np.array([MONOTONE[FEATURE_NAMES.index(name)] for name in MODEL_FEATURES])
    bounds = [(None, None)] + [
        (0.0, 0.0) if s == 0 else ((0.0, None) if m > 0 else (None, 0.0)) for m, s in zip(monotone, std, strict=True)
    ]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        logit = w[0] + z @ w[1:]
        p = _sigmoid(logit)
        value = np.mean(np.logaddexp(0.0, logit) - y * logit) + 0.5 * L2 * float(w[1:] @ w[1:])
        residual = (p - y) / len(y)
        return float(value), np.concatenate([[residual.sum()], z.T @ residual + L2 * w[1:]])

    start = np.zeros(len(MODEL_FEATURES) + 1)
    start[0] = np.log(y.mean() / (1 - y.mean()))
    found = minimize(
        loss, start, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-10}
    )
    columns = zip(MODEL_FEATURES, found.x[1:], mean, scale, low, high, strict=True)
    return {
        "uitkomst": f"aangenomen of verder (label >= {HIRED_LABEL})",
        "intercept": round(float(found.x[0]), 6),
        "kenmerken": [
            {
                "kenmerk": name,
                "groep": GROUPS[_GROUP_OF[i]],
                "coef": round(float(c), 6),
                "mean": round(float(m), 6),
                "scale": round(float(s), 6),
                "low": round(float(lo), 6),
                "high": round(float(hi), 6),
            }
            for i, (name, c, m, s, lo, hi) in enumerate(columns)
        ],
    }


def startpunt(fitted: Model | None = None) -> int:
    """The whole-percent chance of a pair average on every feature, where the parts start."""
    return int(np.floor(100.0 * float(_sigmoid((fitted or model()).intercept)) + 0.5))


def points(features: np.ndarray, fitted: Model | None = None) -> np.ndarray:
    """Unrounded percentage points per row and group; a row sums to 100 × (chance − chance of the average pair)."""
    fitted = fitted or model()
    parts = fitted.contributions(features)
    shift = parts.sum(axis=1)
    p, p0 = _sigmoid(fitted.intercept + shift), float(_sigmoid(fitted.intercept))
    small = np.abs(shift) < 1e-9
    ratio = np.where(small, p0 * (1 - p0), (p - p0) / np.where(small, 1.0, shift))
    return 100.0 * ratio[:, None] * parts


def apportion(row_points: np.ndarray, total: int) -> np.ndarray:
    """Whole points per group that sum to ``total``: floors, then the largest remainders get one.

    ``total`` is within one of the row's sum; if the floors already exceed it, the smallest remainders lose one.
    """
    row_points = np.asarray(row_points, np.float64)
    whole = np.floor(row_points).astype(np.int64)
    remainder = row_points - whole
    missing = total - int(whole.sum())
    if missing >= 0:
        whole[np.argsort(-remainder, kind="stable")[:missing]] += 1
    else:
        whole[np.argsort(remainder, kind="stable")[:-missing]] -= 1
    return whole


def scores(features: np.ndarray, fitted: Model | None = None) -> np.ndarray:
    """The shown score (int, 0–100: the chance of a hire in whole percent) of each row of a feature matrix."""
    return np.floor(100.0 * (fitted or model()).chance(features) + 0.5).astype(np.int64)


def moving_groups(fitted: Model | None = None) -> frozenset[str]:
    """The groups with a non-zero coefficient: the others never move the chance and are not listed."""
    fitted = fitted or model()
    return frozenset(GROUPS[g] for g in np.unique(_GROUP_OF[fitted.coef != 0]))


@dataclass(frozen=True)
class ScoreBreakdown:
    """One pair's shown score and the points per group that add up to it from its ``startpunt``.

    ``listed``: the groups that can move the chance (:func:`moving_groups`); the others are always 0
    and not listed. ``hidden``: groups a viewer may not
    see (:data:`OUTSIDER_HIDDEN`); left out of the JSON, named in ``nietGetoond`` and counted together
    in ``nietGetoondPunten``.
    """

    score: int
    startpunt: int
    punten: dict[str, int]
    listed: frozenset[str]
    hidden: frozenset[str] = frozenset()

    def hiding(self, groups: frozenset[str]) -> ScoreBreakdown:
        """The same breakdown with ``groups`` left out of what is shown (the score stays)."""
        return replace(self, hidden=self.hidden | groups)

    def to_json(self) -> dict[str, object]:
        """``scoreOpbouw``: startpunt and the parts, the one that raises the chance most first."""
        parts = [
            {
                "kenmerk": group,
                "label": GROUP_LABELS[group],
                "punten": self.punten[group],
            }
            for group in sorted(GROUPS, key=lambda group: (-self.punten[group], GROUPS.index(group)))
            if group in self.listed and group not in self.hidden
        ]
        hidden = sorted(self.hidden)
        return {
            "startpunt": self.startpunt,
            "onderdelen": parts,
            "nietGetoond": hidden,
            "nietGetoondPunten": sum(self.punten[group] for group in hidden),
        }


def apportioned(row_points: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """:func:`apportion` of every row of ``row_points`` (n, k) to its ``totals``, at once: the same whole points
    (the same floors and remainders, each row's remainders in the same stable order)."""
    row_points = np.asarray(row_points, np.float64)
    whole = np.floor(row_points).astype(np.int64)
    remainder = row_points - whole
    missing = np.asarray(totals, np.int64) - whole.sum(axis=1)
    step = np.arange(row_points.shape[1])
    raised = (step < missing[:, None]).astype(np.int64)  # the largest remainders get one
    lowered = (step < -missing[:, None]).astype(np.int64)  # the floors exceed the total: the smallest lose one
    np.put_along_axis(raised, np.argsort(-remainder, axis=1, kind="stable"), raised.copy(), axis=1)
    np.put_along_axis(lowered, np.argsort(remainder, axis=1, kind="stable"), lowered.copy(), axis=1)
    return whole + raised - lowered


def breakdowns(features: np.ndarray, fitted: Model | None = None) -> list[ScoreBreakdown]:
    """The :class:`ScoreBreakdown` of each row of a feature matrix."""
    fitted = fitted or model()
    base, listed = startpunt(fitted), moving_groups(fitted)
    moving = np.array([group in listed for group in GROUPS])  # a group that never moves gets no rounding point
    shown = scores(features, fitted)
    whole = np.zeros((len(shown), len(GROUPS)), np.int64)
    whole[:, moving] = apportioned(points(features, fitted)[:, moving], shown - base)
    return [
        ScoreBreakdown(score, base, dict(zip(GROUPS, row, strict=True)), listed)
        for score, row in zip(shown.tolist(), whole.tolist(), strict=True)
    ]
