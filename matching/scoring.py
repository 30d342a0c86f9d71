"""The pure array core of matching: hard filters and the transparent hybrid score for (client, vacancy) pairs.

Every function takes aligned row numbers into :class:`ClientArrays` and :class:`VacancyArrays`
(pair ``i`` is client row ``c_rows[i]`` with vacancy row ``v_rows[i]``), so the same code serves
both search directions and is tested on small hand-made arrays.

Until the learned ranker exists, the score is a weighted sum of five signals, each in [0, 1]:

* ``dense``: cosine similarity of the embedded records, min–max scaled over this search's candidate
  pool (:func:`text_signals`);
* ``lexical``: BM25 of the query text against the candidate's text, divided by the best BM25 among
  the eligible candidates of this search;
* ``competences``: share of the vacancy's required competences the client has (optional ones count
  a quarter as much); a vacancy that requires none gives every client 0.5;
* ``occupation``: 1 for ≥ 2 years of experience in the vacancy's occupation (linear below),
  at least 0.7 when the client wishes that occupation;
* ``distance``: 1 at the door, falling linearly to 0 at the client's maximum travel distance.

The weights live in :class:`matching.settings.RetrievalSettings`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matching import geo
from matching.settings import RetrievalSettings
from matching.structured import ClientArrays, VacancyArrays

SIGNALS = ("dense", "lexical", "competences", "occupation", "distance")
REQUIRED_NONE_ASKED = 0.5  # a vacancy that asks no competences: neutral
OPTIONAL_NONE_ASKED = 0.0  # no optional competences asked: no bonus
MIN_REACH_KM = 0.5  # floor of a client's reach: no division by ~0


@dataclass
class PairFeatures:
    """Structured values per pair, aligned with the pairs they were computed for."""

    distance_km: np.ndarray
    hours_overlap: np.ndarray
    times_ok: np.ndarray
    within_reach: np.ndarray
    required_total: np.ndarray
    required_matched: np.ndarray
    optional_total: np.ndarray
    optional_matched: np.ndarray
    experience_years: np.ndarray
    wishes_occupation: np.ndarray


def _rowwise_dot(a, b) -> np.ndarray:  # two sparse matrices of equal shape
    return np.asarray(a.multiply(b).sum(axis=1)).ravel()


def pair_features(
    clients: ClientArrays, c_rows: np.ndarray, vacancies: VacancyArrays, v_rows: np.ndarray
) -> PairFeatures:
    distance = geo.haversine_km(clients.lat[c_rows], clients.lon[c_rows], vacancies.lat[v_rows], vacancies.lon[v_rows])
    overlap = np.minimum(clients.uren_max[c_rows], vacancies.uren_max[v_rows]) - np.maximum(
        clients.uren_min[c_rows], vacancies.uren_min[v_rows]
    )
    # A job is workable when at least one of its working times is not excluded by the client.
    times_ok = (vacancies.times[v_rows] & ~clients.excluded_times[c_rows]) != 0
    has = clients.competences[c_rows].sign()
    required = vacancies.required[v_rows]
    optional = vacancies.optional[v_rows]
    occupation = vacancies.occupation[v_rows]
    has_occupation = occupation >= 0
    columns = np.where(has_occupation, occupation, 0)
    experience = np.asarray(clients.experience[c_rows, columns]).ravel() * has_occupation
    wishes = np.asarray(clients.wished_occupations[c_rows, columns]).ravel() * has_occupation
    return PairFeatures(
        distance_km=distance,
        hours_overlap=overlap,
        times_ok=times_ok,
        within_reach=distance <= clients.max_km[c_rows],
        required_total=np.asarray(required.sum(axis=1)).ravel(),
        required_matched=_rowwise_dot(has, required),
        optional_total=np.asarray(optional.sum(axis=1)).ravel(),
        optional_matched=_rowwise_dot(has, optional),
        experience_years=experience,
        wishes_occupation=wishes > 0,
    )


def eligible(features: PairFeatures, vacancy_open: np.ndarray) -> np.ndarray:
    """Hard filters of the core: vacancy open, hours overlap, within the client's travel wish, workable times."""
    return vacancy_open & (features.hours_overlap >= 0) & features.within_reach & features.times_ok


def coverage(matched: np.ndarray, total: np.ndarray, none_asked: float) -> np.ndarray:
    """Share of the asked competences a client has; ``none_asked`` where the vacancy asks none."""
    return np.where(total > 0, matched / np.maximum(total, 1), none_asked)


def signals_from(
    required: np.ndarray,
    optional: np.ndarray,
    experience_years: np.ndarray,
    wishes_occupation: np.ndarray,
    travel_ratio: np.ndarray,
) -> dict[str, np.ndarray]:
    """The three structured signals from per-pair columns (shared by search and the weighted baseline)."""
    competences = np.clip((required + 0.25 * optional) / 1.25, 0, 1)
    occupation = np.maximum(np.clip(experience_years / 2.0, 0, 1), 0.7 * wishes_occupation)
    distance = np.clip(1.0 - travel_ratio, 0, 1)
    return {"competences": competences, "occupation": occupation, "distance": distance}


def structured_signals(features: PairFeatures, max_km: np.ndarray) -> dict[str, np.ndarray]:
    return signals_from(
        coverage(features.required_matched, features.required_total, REQUIRED_NONE_ASKED),
        coverage(features.optional_matched, features.optional_total, OPTIONAL_NONE_ASKED),
        features.experience_years,
        features.wishes_occupation,
        features.distance_km / np.maximum(max_km, MIN_REACH_KM),
    )


def normalised_weights(weights: RetrievalSettings) -> dict[str, float]:
    """The weight of each of :data:`SIGNALS`, scaled to sum to one."""
    raw = {
        "dense": weights.weight_dense,
        "lexical": weights.weight_lexical,
        "competences": weights.weight_competences,
        "occupation": weights.weight_occupation,
        "distance": weights.weight_distance,
    }
    total = sum(raw.values()) or 1.0
    return {name: raw[name] / total for name in SIGNALS}


def weighted_terms(signals: dict[str, np.ndarray], weights: RetrievalSettings) -> dict[str, np.ndarray]:
    """Each signal's term of the weighted score: its normalised weight times the signal clipped to [0, 1]."""
    return {name: weight * np.clip(signals[name], 0, 1) for name, weight in normalised_weights(weights).items()}


def combine(signals: dict[str, np.ndarray], weights: RetrievalSettings) -> np.ndarray:
    """The weighted score in [0, 1] (weights are normalised to sum to one)."""
    return sum(weighted_terms(signals, weights).values())


def text_signals(dense: np.ndarray, lexical: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One query's raw cosine and BM25 scores over its candidates, brought to comparable [0, 1] scales.

    BM25 is divided by the best candidate's. Cosine is min–max scaled over the candidates: raw cosines
    of one model sit in a narrow band (e5: 0.75–0.90), so unscaled they would barely move a sum.
    """
    lexical = np.asarray(lexical, np.float32)
    best = float(lexical.max()) if len(lexical) else 0.0
    lexical = lexical / best if best > 0 else np.zeros_like(lexical)
    dense = np.asarray(dense, np.float32)
    if len(dense) == 0:
        return dense, lexical
    low, high = float(dense.min()), float(dense.max())
    dense = (dense - low) / (high - low) if high > low else np.zeros_like(dense)
    return dense, lexical


def fuse(dense: np.ndarray, lexical: np.ndarray, weights: RetrievalSettings) -> np.ndarray:
    """The text part of the hybrid score alone: scaled dense and lexical, weighted as in :func:`combine`."""
    dense, lexical = text_signals(dense, lexical)
    total = (weights.weight_dense + weights.weight_lexical) or 1.0
    return (weights.weight_dense * dense + weights.weight_lexical * lexical) / total
