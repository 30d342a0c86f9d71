"""The feature matrix of the learned ranker: one named, documented column per (client, vacancy) property.

:data:`FEATURES` is the single list of what the ranker may see; :func:`pair_matrix` computes it for
aligned pairs (pair ``i`` is client row ``c_rows[i]`` with vacancy row ``v_rows[i]``, as in
:mod:`matching.scoring`), vectorised over the pairs. Each feature carries ``monotone``: the direction
a sane ranker must respect (+1: more never lowers the score, −1: more never raises it, 0: no
constraint), for gradient-boosting monotone constraints and for behavioural tests.

What is deliberately *not* here: protected attributes and their proxies (name, gender, birth year or
age, origin, raw postcode; the postcode enters only as a distance), and beperkingen. Beperkingen are
health data: they act through the documented compatibility table (:mod:`matching.compatibility`: a
hard conflict is not shown, with the reason counted; any other is shown as "kans met aanpassing"),
never as something a model learns to rank people down for. ``tests/matching/test_features.py`` fails
if a feature or an array field is named after one. Some features carry no direction on purpose:
profile staleness and missing fields say how far the profile can be trusted, and forcing them
downwards would rank people down for their consulent's bookkeeping (DOMAIN.md, problem 5).

Unknown values never become NaN: an unknown taalniveau gives ``language_gap`` 0 and sets
``language_unknown``; an unknown occupation or sector gives 0 experience and no wish match; a
vacancy that asks no competences gives a neutral coverage of 0.5 (the convention of
:func:`matching.scoring.structured_signals`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from matching import geo, scoring
from matching.structured import ROUTES, ClientArrays, VacancyArrays, epoch_seconds
from matching.vocab import Route, Werktijd

# Years of experience beyond three add nothing a ranker should trust: the rule fixed in the README before its run
# chose 3 among 10, 5, 3 and 2 (session 44, bench/results/experience-cap-choice-s44-w44.json; a ranker that kept
# rewarding years beyond that served clients under 27 below their merit). The column's name says the cap, so that a
# ranker trained on another cap's column is refused (matching.ranker.load_ranker), never fed this one.
EXPERIENCE_CAP_YEARS = 3.0
EXPERIENCE_COLUMN = "experience_years_cap3"
# A jobcoach bridges half a trede step: the same reading as the generative story (training/latent.py).
JOBCOACH_READINESS = 0.5
# Readiness band (trede scale, see vocab.READINESS) of the plaatsingsvormen each route aims at:
# werk → proefplaatsing … regulier; perspectief → vrijwilligerswerk … loonkostensubsidie (an intervention
# first); meedoen → sociale activering … vrijwilligerswerk. Fit falls linearly to 0 at 1.5 steps outside.
ROUTE_BANDS: dict[str, tuple[float, float]] = {
    Route.WERK: (3.0, 4.5),
    Route.PERSPECTIEF: (1.5, 3.5),
    Route.MEEDOEN: (0.0, 1.5),
}
ROUTE_FALLOFF = 1.5
SECONDS_PER_DAY = 86_400.0

# Route code (index in ROUTES, -1 unknown → the last row: the whole ladder) -> band.
ROUTE_BAND_LOW = np.array([ROUTE_BANDS[r][0] for r in ROUTES] + [0.0], np.float32)
ROUTE_BAND_HIGH = np.array([ROUTE_BANDS[r][1] for r in ROUTES] + [4.5], np.float32)
_POPCOUNT = np.array([bin(mask).count("1") for mask in range(1 << len(Werktijd))], np.float32)


@dataclass(frozen=True)
class Feature:
    """One column of the ranker's input."""

    name: str
    description: str
    monotone: int  # +1, -1 or 0: the direction a sane ranker must respect


FEATURES: tuple[Feature, ...] = (
    Feature("dense_similarity", "Cosine similarity of the embedded profile and vacancy texts.", +1),
    Feature("lexical_similarity", "BM25 of the pair's texts, scaled per query to [0, 1] by the caller.", +1),
    Feature("required_coverage", "Share of the required competences the client has (0.5 when none asked).", +1),
    Feature("optional_coverage", "Share of the optional competences the client has (0 when none asked).", +1),
    Feature(EXPERIENCE_COLUMN, "Years of experience in the vacancy's occupation, capped at 3.", +1),
    Feature("wishes_occupation", "1 when the client wishes the vacancy's occupation.", +1),
    Feature("wishes_sector", "1 when the client wishes the sector of the vacancy's occupation.", +1),
    Feature("distance_km", "Straight-line distance between home and work area (PC4 centroids).", -1),
    Feature("travel_minutes", "Estimated door-to-door minutes by the client's fastest transport mode.", -1),
    Feature("travel_ratio", "Distance divided by the client's maximum reach (wish or 45-minute default).", -1),
    Feature("travel_overshoot", "How far beyond the client's reach, relative: max(0, travel_ratio - 1).", -1),
    Feature("hours_overlap", "Hours per week the client's and the vacancy's hour ranges share.", +1),
    Feature("hours_shortfall", "Hours per week between the two hour ranges when they do not touch.", -1),
    Feature("excluded_times_share", "Share of the vacancy's working times the client excludes.", -1),
    Feature("readiness_gap", "Readiness the plaatsingsvorm asks above the trede, minus 0.5 with a jobcoach.", -1),
    Feature("readiness_surplus", "Trede steps the client is above what the plaatsingsvorm asks.", 0),
    Feature("route_fit", "How well the plaatsingsvorm suits the client's route (1 inside its band, 0 far off).", +1),
    Feature("coaching_need_met", "1 when the client is at trede 0-3 and the vacancy has a jobcoach.", +1),
    Feature("coaching_need_unmet", "1 when the client is at trede 0-3 and the vacancy has no jobcoach.", -1),
    Feature("language_gap", "CEFR steps the client's taalniveau is below the asked one (0 when either unknown).", -1),
    Feature("language_unknown", "1 when the vacancy asks a taalniveau and the client's is not recorded.", 0),
    Feature("certificate_gap", "Number of the vacancy's certificates the client lacks.", -1),
    Feature("licence_missing", "1 when the vacancy needs driving licence B and the client has none.", -1),
    Feature("days_since_update", "Days since the client's profile was last saved (how fresh it is).", 0),
    Feature("missing_fields", "Number of empty profile fields (competences, experience, education, ...).", 0),
)
FEATURE_NAMES: tuple[str, ...] = tuple(feature.name for feature in FEATURES)
MONOTONE: tuple[int, ...] = tuple(feature.monotone for feature in FEATURES)


def _lookup(matrix, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``matrix[rows[i], columns[i]]`` for a sparse matrix; 0 where the column is -1 or beyond its width."""
    usable = (columns >= 0) & (columns < matrix.shape[1])
    values = np.asarray(matrix[rows, np.where(usable, columns, 0)]).ravel()
    return values * usable


def pair_matrix(
    clients: ClientArrays,
    c_rows: np.ndarray,
    vacancies: VacancyArrays,
    v_rows: np.ndarray,
    dense: np.ndarray,
    lexical: np.ndarray,
    now: datetime,
    fit: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """The features of aligned (client, vacancy) pairs, columns in :data:`FEATURE_NAMES` order.

    Args:
        clients: Client arrays, widened to the same vocabularies as ``vacancies``.
        c_rows: Client row per pair.
        vacancies: Vacancy arrays.
        v_rows: Vacancy row per pair, aligned with ``c_rows``.
        dense: Raw cosine similarity per pair.
        lexical: BM25 per pair, divided by the best of its query (as :func:`matching.pipeline.pool_among` does).
        now: The moment profile freshness is measured at (naive means UTC).
        fit: The pairs' competence and occupation fields where known (:func:`matching.scoring.fit_features`'
            values and types, e.g. step 1's for the eligible rows); None: computed here.

    Returns:
        float32 array of shape (len(c_rows), len(FEATURES)), without NaN.
    """
    c_rows, v_rows = np.asarray(c_rows, np.int64), np.asarray(v_rows, np.int64)
    n = len(c_rows)
    dense, lexical = np.asarray(dense, np.float32).ravel(), np.asarray(lexical, np.float32).ravel()
    if not (len(v_rows) == len(dense) == len(lexical) == n):
        raise ValueError(
            f"pair_matrix kreeg {n} clientrijen, {len(v_rows)} vacaturerijen, {len(dense)} dense- en "
            f"{len(lexical)} lexicale scores; geef per paar precies één van elk"
        )
    pairs = scoring.pair_features(clients, c_rows, vacancies, v_rows, fit)
    columns = {
        "dense_similarity": dense,
        "lexical_similarity": lexical,
        **_fit_columns(clients, c_rows, vacancies, v_rows, pairs),
        **_travel_and_time_columns(clients, c_rows, vacancies, v_rows, pairs),
        **_readiness_columns(clients, c_rows, vacancies, v_rows),
        **_requirement_columns(clients, c_rows, vacancies, v_rows),
        "days_since_update": np.maximum(epoch_seconds(now) - clients.updated_at[c_rows], 0.0) / SECONDS_PER_DAY,
        "missing_fields": clients.missing_fields[c_rows],
    }
    if tuple(columns) != FEATURE_NAMES:  # a feature added to one list and not the other
        raise RuntimeError(f"features.py: columns {tuple(columns)} differ from FEATURE_NAMES {FEATURE_NAMES}")
    matrix = np.empty((n, len(FEATURES)), np.float32)
    for position, values in enumerate(columns.values()):
        matrix[:, position] = values
    return matrix


def _fit_columns(
    clients: ClientArrays,
    c_rows: np.ndarray,
    vacancies: VacancyArrays,
    v_rows: np.ndarray,
    pairs: scoring.PairFeatures,
) -> dict[str, np.ndarray]:
    """Competence coverage, experience and wishes."""
    return {
        "required_coverage": scoring.coverage(
            pairs.required_matched, pairs.required_total, scoring.REQUIRED_NONE_ASKED
        ),
        "optional_coverage": scoring.coverage(
            pairs.optional_matched, pairs.optional_total, scoring.OPTIONAL_NONE_ASKED
        ),
        EXPERIENCE_COLUMN: np.minimum(pairs.experience_years, EXPERIENCE_CAP_YEARS),
        "wishes_occupation": pairs.wishes_occupation,
        "wishes_sector": _lookup(clients.wished_sectors, c_rows, vacancies.sector[v_rows]) > 0,
    }


def _travel_and_time_columns(
    clients: ClientArrays,
    c_rows: np.ndarray,
    vacancies: VacancyArrays,
    v_rows: np.ndarray,
    pairs: scoring.PairFeatures,
) -> dict[str, np.ndarray]:
    """Distance, travel time and reach; hours; excluded working times."""
    distance = pairs.distance_km
    ratio = distance / np.maximum(clients.max_km[c_rows], scoring.MIN_REACH_KM)
    minutes = (
        distance * geo.DETOUR_FACTOR / clients.travel_speed_kmh[c_rows] * 60.0 + clients.travel_overhead_min[c_rows]
    )
    times = vacancies.times[v_rows]
    excluded = _POPCOUNT[times & clients.excluded_times[c_rows]] / np.maximum(_POPCOUNT[times], 1)
    return {
        "distance_km": distance,
        "travel_minutes": minutes,
        "travel_ratio": ratio,
        "travel_overshoot": np.maximum(ratio - 1.0, 0.0),
        "hours_overlap": np.maximum(pairs.hours_overlap, 0.0),
        "hours_shortfall": np.maximum(-pairs.hours_overlap, 0.0),
        "excluded_times_share": excluded,
    }


def _readiness_columns(
    clients: ClientArrays, c_rows: np.ndarray, vacancies: VacancyArrays, v_rows: np.ndarray
) -> dict[str, np.ndarray]:
    """What the plaatsingsvorm asks against the client's trede and route, and coaching."""
    trede = clients.trede[c_rows].astype(np.float32)
    asked = vacancies.readiness[v_rows]
    jobcoach = vacancies.jobcoach[v_rows]
    route = clients.route[c_rows]  # -1 indexes the last (whole-ladder) band
    outside = np.maximum(ROUTE_BAND_LOW[route] - asked, 0) + np.maximum(asked - ROUTE_BAND_HIGH[route], 0)
    needs_coaching = clients.needs_coaching[c_rows]
    return {
        "readiness_gap": np.maximum(asked - JOBCOACH_READINESS * jobcoach - trede, 0.0),
        "readiness_surplus": np.maximum(trede - asked, 0.0),
        "route_fit": np.clip(1.0 - outside / ROUTE_FALLOFF, 0.0, 1.0),
        "coaching_need_met": needs_coaching & jobcoach,
        "coaching_need_unmet": needs_coaching & ~jobcoach,
    }


def _requirement_columns(
    clients: ClientArrays, c_rows: np.ndarray, vacancies: VacancyArrays, v_rows: np.ndarray
) -> dict[str, np.ndarray]:
    """Taalniveau, certificates and driving licence the vacancy asks and the client lacks."""
    client_language, asked_language = clients.language[c_rows], vacancies.language[v_rows]
    languages_known = (client_language >= 0) & (asked_language >= 0)
    certificates = vacancies.certificates[v_rows]
    held = np.asarray(clients.certificates[c_rows].sign().multiply(certificates).sum(axis=1)).ravel()
    return {
        "language_gap": np.where(languages_known, np.maximum(asked_language - client_language, 0), 0),
        "language_unknown": (asked_language >= 0) & (client_language < 0),
        "certificate_gap": np.asarray(certificates.sum(axis=1)).ravel() - held,
        "licence_missing": vacancies.needs_licence_b[v_rows] & ~clients.has_licence_b[c_rows],
    }
