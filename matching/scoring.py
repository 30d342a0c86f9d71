"""The pure array core of matching: hard filters and the transparent hybrid score for (client, vacancy) pairs.

Every function takes aligned row numbers into :class:`ClientArrays` and :class:`VacancyArrays`
(pair ``i`` is client row ``c_rows[i]`` with vacancy row ``v_rows[i]``), so the same code serves
both search directions and is tested on small hand-made arrays.

Until the learned ranker exists, the score is a weighted sum of five signals, each in [0, 1]:

* ``dense`` and ``lexical``: cosine similarity of the embedded records and BM25 of the query text
  against the candidate's text, fused per query over this search's candidate pool by the rare-identifier
  gate (:func:`matching.identifier_query.text_signals`; its closed branch, where BM25 agrees with dense, is
  :func:`fuse`: z-scores on one common scale, lexical counting as far as the two agree on their top
  :data:`AGREEMENT_TOP`). :func:`text_signals` is that fusion before the gate, kept as the closed branch's
  reference and for :func:`training.rankers.weighted_baseline`;
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
from scipy import sparse

from matching import geo
from matching.index import best
from matching.settings import RetrievalSettings
from matching.structured import ClientArrays, VacancyArrays

SIGNALS = ("dense", "lexical", "competences", "occupation", "distance")
REQUIRED_NONE_ASKED = 0.5  # a vacancy that asks no competences: neutral
OPTIONAL_NONE_ASKED = 0.0  # no optional competences asked: no bonus
MIN_REACH_KM = 0.5  # floor of a client's reach: no division by ~0
# Fusion: lexical counts by the share of dense's top 20 that BM25 also puts in its top 20, undamped, so that
# with search's weights (lexical/dense 0.15/0.40 = 0.375) the text part ranks as
# z(dense) + 0.375 · agreement · z(lexical). Picked in session 28 by a rule written down in advance (most
# tuning halves of data/eval at or above the better part, then the worst margin, then the mean;
# bench/fusion_confidence.py, bench/results/fusion-s28-tuning.json), over the session-26 fusion
# z(dense) + 0.1 · agreement in top 10 · z(lexical) (8 of 9 tuning halves held against 7 on this machine).
AGREEMENT_TOP = 20
LEXICAL_DAMPING = 1.0


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


def hours_overlap(
    clients: ClientArrays, c_rows: np.ndarray, vacancies: VacancyArrays, v_rows: np.ndarray
) -> np.ndarray:
    """Hours per week the client's and the vacancy's ranges share (negative: they do not overlap)."""
    return np.minimum(clients.uren_max[c_rows], vacancies.uren_max[v_rows]) - np.maximum(
        clients.uren_min[c_rows], vacancies.uren_min[v_rows]
    )


def times_workable(
    clients: ClientArrays, c_rows: np.ndarray, vacancies: VacancyArrays, v_rows: np.ndarray
) -> np.ndarray:
    """A job is workable when at least one of its working times is not excluded by the client."""
    return (vacancies.times[v_rows] & ~clients.excluded_times[c_rows]) != 0


def fit_features(
    clients: ClientArrays, c_rows: np.ndarray, vacancies: VacancyArrays, v_rows: np.ndarray
) -> dict[str, np.ndarray]:
    """The competence and occupation fields of :class:`PairFeatures` (the sparse, costly part)."""
    has = clients.competences[c_rows].sign()
    required = vacancies.required[v_rows]
    optional = vacancies.optional[v_rows]
    occupation = vacancies.occupation[v_rows]
    has_occupation = occupation >= 0
    columns = np.where(has_occupation, occupation, 0)
    experience = np.asarray(clients.experience[c_rows, columns]).ravel() * has_occupation
    wishes = np.asarray(clients.wished_occupations[c_rows, columns]).ravel() * has_occupation
    return {
        "required_total": np.asarray(required.sum(axis=1)).ravel(),
        "required_matched": _rowwise_dot(has, required),
        "optional_total": np.asarray(optional.sum(axis=1)).ravel(),
        "optional_matched": _rowwise_dot(has, optional),
        "experience_years": experience,
        "wishes_occupation": wishes > 0,
    }


def _column_values(by_column, column: int, rows: np.ndarray) -> np.ndarray:
    """Values of one ``column`` of a CSC matrix (sorted indices) at ``rows``; 0 where none is stored."""
    out = np.zeros(len(rows), by_column.dtype)
    if column < 0 or column >= by_column.shape[1]:
        return out  # no occupation, or a code newer than these arrays: nobody has it
    start, end = by_column.indptr[column], by_column.indptr[column + 1]
    stored, values = by_column.indices[start:end], by_column.data[start:end]
    if not len(stored):
        return out
    if 4 * len(rows) > by_column.shape[0]:  # most rows: the whole column, then a gather (no search per row)
        column_values = np.zeros(by_column.shape[0], by_column.dtype)
        column_values[stored] = values
        return column_values[rows]
    at = np.minimum(np.searchsorted(stored, rows), len(stored) - 1)
    hit = stored[at] == rows
    out[hit] = values[at[hit]]
    return out


def _products(matrix, rows: np.ndarray, *vectors: np.ndarray) -> list[np.ndarray]:
    """``matrix[rows] @ vector`` per vector, in one product (float32: sums of 0/1, exact).

    Past a quarter of the rows one product over all of them beats selecting the rows first.
    """
    both = np.column_stack(vectors).astype(matrix.dtype, copy=False)
    product = np.asarray(matrix @ both)[rows] if 4 * len(rows) > matrix.shape[0] else np.asarray(matrix[rows] @ both)
    return [np.ascontiguousarray(product[:, column], np.float32) for column in range(len(vectors))]


def fit_features_for_vacancy(
    clients: ClientArrays,
    c_rows: np.ndarray,
    vacancies: VacancyArrays,
    v_row: int,
    selected: tuple[sparse.csr_matrix, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """:func:`fit_features` of ``c_rows`` against one vacancy, the same values and types, as matrix-vector products.

    The competences the vacancy asks are one dense vector (a few hundred codes), the client side's
    indicators are kept once per change of the arrays (:attr:`ClientArrays.has_competences`), and
    experience and the wished occupation are read from the occupation's column: no pair matrices.
    ``selected``: ``(has, at)``, those indicators' rows at rows that hold ``c_rows`` (the nightly batch selects them
    once per place, :meth:`matching.batch_steps.PlaceReach.selected`) and ``c_rows``' positions among them.
    """
    # codes past the client side's width (added by a later vacancy) are held by no client: they match nobody
    width = clients.has_competences.shape[1]
    required = _widened_row(vacancies.required, v_row, width)
    optional = _widened_row(vacancies.optional, v_row, width)
    n, column = len(c_rows), int(vacancies.occupation[v_row])
    experience = _column_values(clients.experience_by_occupation, column, c_rows)
    wishes = _column_values(clients.wished_by_occupation, column, c_rows)
    has, at = (clients.has_competences, c_rows) if selected is None else selected
    required_matched, optional_matched = _products(has, at, required[:width], optional[:width])
    return {
        "required_total": np.full(n, vacancies.required_totals[v_row], np.float32),
        "required_matched": required_matched,
        "optional_total": np.full(n, vacancies.optional_totals[v_row], np.float32),
        "optional_matched": optional_matched,
        "experience_years": experience * (column >= 0),
        "wishes_occupation": (wishes * (column >= 0)) > 0,
    }


def fit_features_for_client(
    clients: ClientArrays,
    c_row: int,
    vacancies: VacancyArrays,
    v_rows: np.ndarray,
    selected: tuple[sparse.csr_matrix, sparse.csr_matrix, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """:func:`fit_features` of one client against ``v_rows``, the same values and types: the client's
    competences, experience and wishes are dense vectors over the codes, gathered per vacancy. ``selected``:
    ``(required, optional, at)``, the vacancy side's rows at rows that hold ``v_rows`` (the nightly batch selects them
    once per place and limit, :meth:`matching.batch_steps.PlaceReach.selected`) and ``v_rows``' positions among them
    (sums of 0/1 in float32: exact, whichever rows a product runs over)."""
    width = vacancies.required.shape[1]
    has = np.sign(_widened_row(clients.competences, c_row, width))[:width]  # past the width: asked by no vacancy
    required, optional, at = (vacancies.required, vacancies.optional, v_rows) if selected is None else selected
    occupation = vacancies.occupation[v_rows]
    has_occupation = occupation >= 0
    columns = np.where(has_occupation, occupation, 0)
    enough = int(columns.max(initial=0)) + 1
    experience = _widened_row(clients.experience, c_row, enough)[columns]
    wishes = _widened_row(clients.wished_occupations, c_row, enough)[columns]
    return {
        "required_total": vacancies.required_totals[v_rows],
        "required_matched": _products(required, at, has)[0],
        "optional_total": vacancies.optional_totals[v_rows],
        "optional_matched": _products(optional, at, has)[0],
        "experience_years": experience * has_occupation,
        "wishes_occupation": (wishes * has_occupation) > 0,
    }


def _widened_row(matrix: sparse.csr_matrix, row: int, width: int) -> np.ndarray:
    """One row of a sparse matrix as a dense vector of at least ``width`` (zeros past the matrix's own width):
    ``matrix[row].toarray()`` read through the row's ``indptr`` slice (3 µs instead of scipy's 35 µs)."""
    dense = np.zeros(max(matrix.shape[1], width), matrix.dtype)
    start, end = matrix.indptr[row], matrix.indptr[row + 1]
    if matrix.has_canonical_format:
        dense[matrix.indices[start:end]] = matrix.data[start:end]
    else:  # duplicate entries add up, as toarray() adds them
        np.add.at(dense, matrix.indices[start:end], matrix.data[start:end])
    return dense


def pair_features(
    clients: ClientArrays,
    c_rows: np.ndarray,
    vacancies: VacancyArrays,
    v_rows: np.ndarray,
    fit: dict[str, np.ndarray] | None = None,
) -> PairFeatures:
    """The pairs' :class:`PairFeatures`; ``fit``: their :func:`fit_features` where the caller has them already
    (:func:`fit_features_for_vacancy` and ``_for_client`` give the same values and types), else computed."""
    distance = geo.haversine_km(clients.lat[c_rows], clients.lon[c_rows], vacancies.lat[v_rows], vacancies.lon[v_rows])
    return PairFeatures(
        distance_km=distance,
        hours_overlap=hours_overlap(clients, c_rows, vacancies, v_rows),
        times_ok=times_workable(clients, c_rows, vacancies, v_rows),
        within_reach=distance <= clients.max_km[c_rows],
        **(fit_features(clients, c_rows, vacancies, v_rows) if fit is None else fit),
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


def _z(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)


def agreement(dense: np.ndarray, lexical: np.ndarray, top: int = AGREEMENT_TOP) -> float:
    """Share of the ``top`` best candidates by dense that are also among the ``top`` best by BM25 (> 0)."""
    top = min(top, len(dense))
    if top == 0:
        return 0.0
    best_dense = best(dense, top)
    best_lexical = best(lexical, top)
    best_lexical = best_lexical[lexical[best_lexical] > 0]
    return len(np.intersect1d(best_dense, best_lexical)) / top


def text_signals(dense: np.ndarray, lexical: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One query's raw cosine and BM25 scores over its candidates, brought to one [0, 1] scale (served until session
    44; the search now fuses by :func:`matching.identifier_query.text_signals`, whose closed gate ranks as this where
    BM25's first is dense's).

    Each is turned into z-scores over the candidates (raw cosines of one model sit in a narrow band,
    e5: 0.75–0.90; BM25 has a long tail), lexical's scaled by :func:`agreement` and
    :data:`LEXICAL_DAMPING`, both shifted to start at 0 and divided by the larger of their two ranges.
    A weighted sum of the two signals then ranks exactly as
    ``z(dense) + (weight_lexical / weight_dense) · LEXICAL_DAMPING · agreement · z(lexical)``
    (0.375 · agreement in top 20 with search's weights): BM25 reorders what the embedding also finds,
    and a query whose words point elsewhere (a title against descriptions, lay words against vacancy
    jargon) leaves dense in charge. Chosen on the tuning halves of data/eval by a rule written down
    before the run (README, "Fusing dense and lexical"; ``bench/fusion_confidence.py``): min–max
    scaling and rank fusion (RRF) lost to dense alone on one set or more, at any weight tried, and no
    per-query BM25 confidence gate (coverage of the query's terms, BM25's lead) did better.
    """
    dense = np.asarray(dense, np.float32)
    lexical = np.asarray(lexical, np.float32)
    if len(dense) == 0:
        return dense, lexical
    return _shifted_and_scaled(_z(dense), _z(lexical) * (LEXICAL_DAMPING * agreement(dense, lexical)))


def _shifted_and_scaled(z_dense: np.ndarray, z_lexical: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both z-scores shifted to start at 0 and divided by the larger maximum (zeros when both are flat)."""
    z_dense -= z_dense.min()
    z_lexical -= z_lexical.min()
    scale = max(float(z_dense.max()), float(z_lexical.max()))
    if scale <= 0:
        return np.zeros_like(z_dense), np.zeros_like(z_lexical)
    return z_dense / scale, z_lexical / scale


def fuse(dense: np.ndarray, lexical: np.ndarray, weights: RetrievalSettings) -> np.ndarray:
    """The text part of the hybrid score alone: :func:`text_signals`, weighted as in :func:`combine`."""
    dense, lexical = text_signals(dense, lexical)
    total = (weights.weight_dense + weights.weight_lexical) or 1.0
    return (weights.weight_dense * dense + weights.weight_lexical * lexical) / total


def top_positions(scores: np.ndarray, k: int) -> np.ndarray:
    """The positions :func:`matching.index.best` returns (the ``k`` highest, equal scores: the lower position first),
    as a set in ascending order: the same partition, without sorting the ``k`` by score."""
    if len(scores) <= k:
        return np.arange(len(scores))
    if k <= 0:
        return np.zeros(0, np.int64)
    negative = -scores
    kth = np.partition(negative, k - 1)[k - 1]
    found = np.flatnonzero(negative <= kth)
    if len(found) > k:  # ties at the k-th score: best's stable sort keeps the lowest positions among them
        above = negative[found] < kth
        found = np.sort(np.concatenate([found[above], found[~above][: k - int(np.count_nonzero(above))]]))
    return found
