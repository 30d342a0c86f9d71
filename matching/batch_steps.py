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
  the eligible rows by record, the best over every record by MaxScore);
* the fit features' competence counts read the sparse rows of a place's reach selected once for the owners there
  (:meth:`PlaceReach.selected`), where each list selected its eligible rows again.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from matching import hard_filters
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


class PlaceReach:
    """Step 1's part that depends on an owner's place alone, computed once per place and shared by the owners of one
    nightly partition (cut by place: most of its owners share a PC4, :func:`matching.batch_lists.plan`).

    For a vacancy, the clients within their own reach of its place and their distances; for a client, the distance
    from its place to every vacancy bucket, and the open vacancies within its travel limit and their distances per
    (place, limit): found once per place at the widest limit its owners ask (:meth:`plan_limits`), each limit's
    those within it (limits vary per client). The arrays are the ones computed per
    owner before, read and never written by the steps after them (boolean and fancy indexing copy), so every list
    keeps its bits. A place is its coordinates (every record of a PC4 has its centroid's); made per partition: the
    index does not change within one (the batch holds its lock)."""

    def __init__(self) -> None:
        self._near: dict[tuple[float, float, float | None], tuple[np.ndarray, np.ndarray]] = {}
        self._km: dict[tuple[float, float], np.ndarray] = {}
        # per client place: the open vacancies within the widest limit asked there so far (rows, distances, limit)
        self._wide: dict[tuple[float, float], tuple[np.ndarray, np.ndarray, float]] = {}
        self._widest: dict[tuple[float, float], float] = {}
        # per reach (the id of its rows array, kept with it): the sparse rows selected there (:meth:`selected`)
        self._selected: dict[int, tuple[np.ndarray, list[sparse.csr_matrix]]] = {}

    def plan_limits(self, clients: ClientArrays, c_rows: list[int]) -> None:
        """The travel limits the clients at ``c_rows`` will ask at their places: each place's vacancies in reach
        are then found once, at its widest limit, and every client's are those within its own limit."""
        for c_row in c_rows:
            place = (float(clients.lat[c_row]), float(clients.lon[c_row]))
            self._widest[place] = max(self._widest.get(place, 0.0), float(clients.max_km[c_row]))

    def __len__(self) -> int:
        """The reaches computed (each shared by the owners at its place)."""
        return len(self._near)

    def candidates(self, clients: ClientArrays, vacancies: VacancyArrays, v_row: int) -> tuple[np.ndarray, np.ndarray]:
        """The clients (rows, ascending) within their own reach of the vacancy's place, with their distances."""
        lat, lon = float(vacancies.lat[v_row]), float(vacancies.lon[v_row])
        near = self._near.get((lat, lon, None))
        if near is None:
            buckets = clients.buckets
            near = _kept_in_reach(buckets, buckets._km(lat, lon, False), buckets.reach, None, clients.max_km)
            self._near[lat, lon, None] = near
        return near

    def vacancies(self, clients: ClientArrays, c_row: int, vacancies: VacancyArrays) -> tuple[np.ndarray, np.ndarray]:
        """The open vacancies (rows, ascending) within the client's travel limit of its place, with distances."""
        lat, lon, max_km = float(clients.lat[c_row]), float(clients.lon[c_row]), clients.max_km[c_row]
        near = self._near.get((lat, lon, float(max_km)))
        if near is None:
            near = self._near[lat, lon, float(max_km)] = self._within(vacancies, lat, lon, max_km)
        return near

    def selected(self, rows: np.ndarray, *matrices: sparse.csr_matrix) -> list[sparse.csr_matrix]:
        """``matrix[rows]`` per matrix, selected once per reach (``rows``: an array :meth:`candidates` or
        :meth:`vacancies` gave, shared by the owners at its place), for the fit features' competence counts."""
        found = self._selected.get(id(rows))
        if found is None or found[0] is not rows:
            found = self._selected[id(rows)] = (rows, [matrix[rows] for matrix in matrices])
        return found[1]

    def _within(
        self, vacancies: VacancyArrays, lat: float, lon: float, max_km: np.floating
    ) -> tuple[np.ndarray, np.ndarray]:
        """The open vacancies within ``max_km`` of the place: those of the place's widest limit (found once) whose
        distance is within it. The same rows in the same order with the same distances as found at ``max_km``
        itself: a vacancy is within its bucket's distance, and every bucket within ``max_km`` is within the wider
        limit (its rows are kept, ascending, and masking keeps their order)."""
        wide = self._wide.get((lat, lon))
        if wide is None or wide[2] < float(max_km):
            km = self._km.get((lat, lon))
            if km is None:
                km = self._km[lat, lon] = vacancies.buckets._km(lat, lon, True)
            limit = max(self._widest.get((lat, lon), 0.0), float(max_km))
            rows, distance = _kept_in_reach(vacancies.buckets, km, limit, vacancies.open, np.float64(limit))
            wide = self._wide[lat, lon] = (rows, distance, limit)
        rows, distance, limit = wide
        if limit == float(max_km):
            return rows, distance
        inside = distance <= max_km
        return rows[inside], distance[inside]


def candidate_eligible(
    clients: ClientArrays, vacancies: VacancyArrays, v_row: int, places: PlaceReach | None = None
) -> hard_filters.Eligible:
    """:func:`matching.hard_filters.candidate_eligible`, the same eligible rows, fit features and signals; the
    reach of the vacancy's place from ``places`` (shared with the partition's other owners there), and its clients'
    competence indicators selected there once (:meth:`PlaceReach.selected`)."""
    places = PlaceReach() if places is None else places
    rows, distance = places.candidates(clients, vacancies, v_row)
    (has,) = places.selected(rows, clients.has_competences)
    return hard_filters.candidates_in_reach(clients, rows, distance, vacancies, v_row, has)


def vacancy_eligible(
    clients: ClientArrays, c_row: int, vacancies: VacancyArrays, places: PlaceReach | None = None
) -> hard_filters.Eligible:
    """:func:`matching.hard_filters.vacancy_eligible`, the same eligible rows, fit features and signals; the
    reach of the client's place and limit from ``places`` (shared with the partition's other owners there), and its
    vacancies' required and optional competences selected there once (:meth:`PlaceReach.selected`)."""
    places = PlaceReach() if places is None else places
    rows, distance = places.vacancies(clients, c_row, vacancies)
    required, optional = places.selected(rows, vacancies.required, vacancies.optional)
    return hard_filters.vacancies_in_reach(clients, c_row, rows, distance, vacancies, (required, optional))
