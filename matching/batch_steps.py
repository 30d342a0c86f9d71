"""The nightly batch's step 1 with less work per list, each the same numbers as the parts it replaces.

:mod:`matching.batch_rank` computes a list per owner; these are its per-list steps reorganised so that the
answer stays bit for bit what :func:`matching.hard_filters.candidate_eligible`,
:func:`~matching.hard_filters.vacancy_eligible` and :meth:`matching.lexical.LexicalIndex.scores_by_term` answer
(``tests/matching/test_batch_steps.py`` holds them equal):

* step 1 measures the owner's distance to every bucket (PC4) once, not twice (``rows_within`` and
  ``distances`` each measured it), and keeps the records within their own reach *before* sorting them:
  :meth:`matching.geo.Buckets.rows_within` sorted every record of every bucket that could be within
  reach (about 40,000 a list at national size) and most of those are then dropped; the kept rows,
  sorted, are the same rows in the same order with the same distances (a distance is its bucket's);
* BM25 is read only where needed (:class:`matching.lexical.Bm25Buffer`, shared with the live search:
  the eligible rows by record, the best over every record by MaxScore).
"""

from __future__ import annotations

import numpy as np

from matching import hard_filters, scoring
from matching.geo import BUCKET_SLACK_KM, Buckets
from matching.structured import ClientArrays, VacancyArrays


def _kept_in_reach(
    buckets: Buckets, km: np.ndarray, limit: np.ndarray | float, keep_member: np.ndarray | None, reach: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The records (rows, ascending) of the buckets within ``limit`` (per bucket, or one number) of the point,
    kept where their bucket's distance ``km`` is within ``reach`` of the record (a scalar or per record row)
    and ``keep_member`` (per record row, or None) holds; with their distances.

    :meth:`Buckets.rows_within` then ``distances`` then the same comparison, without sorting the records
    that the comparison drops."""
    chosen = np.flatnonzero(km <= limit + BUCKET_SLACK_KM)
    begin, end = buckets.starts[chosen], buckets.starts[chosen + 1]
    sizes = end - begin
    offsets = np.repeat(begin - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
    members = buckets.members[offsets + np.arange(int(sizes.sum()))]
    distance = np.repeat(km[chosen], sizes)  # every record of a bucket is at its place
    inside = distance <= (reach[members] if isinstance(reach, np.ndarray) else reach)
    if keep_member is not None:
        inside &= keep_member[members]
    rows = np.sort(members[inside])
    return rows, km[buckets.of_row[rows]]


def candidate_eligible(clients: ClientArrays, vacancies: VacancyArrays, v_row: int) -> hard_filters.Eligible:
    """:func:`matching.hard_filters.candidate_eligible`, the same eligible rows, fit features and signals."""
    buckets = clients.buckets
    km = buckets._km(float(vacancies.lat[v_row]), float(vacancies.lon[v_row]), False)
    rows, distance = _kept_in_reach(buckets, km, buckets.reach, None, clients.max_km)
    return hard_filters.candidates_in_reach(clients, rows, distance, vacancies, v_row)


def vacancy_eligible(clients: ClientArrays, c_row: int, vacancies: VacancyArrays) -> hard_filters.Eligible:
    """:func:`matching.hard_filters.vacancy_eligible`, the same eligible rows, fit features and signals."""
    buckets = vacancies.buckets
    max_km = clients.max_km[c_row]
    km = buckets._km(float(clients.lat[c_row]), float(clients.lon[c_row]), True)
    rows, distance = _kept_in_reach(buckets, km, float(max_km), vacancies.open, max_km)
    one = np.array([c_row])
    hours = scoring.hours_overlap(clients, one, vacancies, rows)
    times_ok = scoring.times_workable(clients, one, vacancies, rows)
    hard = hard_filters._any_of(vacancies.full_unclosed, np.flatnonzero(clients.full_ernst[:, c_row]), rows)
    keep = (hours >= 0) & times_ok & ~hard
    eligible = rows[keep]
    fit = scoring.fit_features_for_client(clients, c_row, vacancies, eligible)
    within = np.ones(len(rows), bool)
    structured = hard_filters._fit_signals(
        (distance, hours, times_ok, within), keep, fit, np.full(len(eligible), max_km)
    )
    return hard_filters.Eligible(eligible, fit, structured)
