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
  (:meth:`PlaceReach.selected`), where each list selected its eligible rows again;
* the rest of step 1 runs per place for all the partition's owners there (:func:`candidates_eligible`,
  :func:`vacancies_eligible`): the records' hours, working times, travel ratios (and a client's beperkingen) read at
  the reach once, the competence counts of all the owners at a place in one sparse product (sums of 0/1: exact in
  any order), and an occupation's column read by its stored rows; at national size step 1 was 15-19 % of a list.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

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
        # per vacancy place's reach (the id of its rows array, kept with it): its clients' values (:meth:`clients_at`)
        self._clients_at: dict[int, tuple[np.ndarray, _ClientsAt]] = {}
        # per client place's widest reach (the id of its rows array, kept with it): its vacancies' values
        self._vacancies_at: dict[int, tuple[np.ndarray, _VacanciesAt]] = {}

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

    def clients_at(self, clients: ClientArrays, rows: np.ndarray, distance: np.ndarray) -> _ClientsAt:
        """What step 1 reads of the clients in reach of a vacancy's place (``rows``, ``distance``: an array pair
        :meth:`candidates` gave), gathered once for the owners there."""
        found = self._clients_at.get(id(rows))
        if found is None or found[0] is not rows:
            (has,) = self.selected(rows, clients.has_competences)
            reach_km = np.maximum(clients.max_km[rows], scoring.MIN_REACH_KM)
            at = _ClientsAt(
                clients.uren_min[rows], clients.uren_max[rows], ~clients.excluded_times[rows], distance / reach_km, has
            )
            found = self._clients_at[id(rows)] = (rows, at)
        return found[1]

    def vacancies_at(self, clients: ClientArrays, c_row: int, vacancies: VacancyArrays) -> _VacanciesAt:
        """What step 1 reads of the open vacancies within the widest limit asked so far at the client's place (those
        of every client there with a limit asked before, :meth:`vacancies`), gathered once for the clients there."""
        rows, distance, _ = self._wide[float(clients.lat[c_row]), float(clients.lon[c_row])]
        found = self._vacancies_at.get(id(rows))
        if found is None or found[0] is not rows:
            at = _VacanciesAt(
                rows,
                distance,
                vacancies.uren_min[rows],
                vacancies.uren_max[rows],
                vacancies.times[rows],
                vacancies.full_unclosed[:, rows],
                vacancies.required[rows],
                vacancies.optional[rows],
                vacancies.required_totals[rows],
                vacancies.optional_totals[rows],
                vacancies.occupation[rows],
            )
            found = self._vacancies_at[id(rows)] = (rows, at)
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
    """:func:`matching.hard_filters.candidate_eligible`, the same eligible rows, fit features and signals
    (:func:`candidates_eligible` for one vacancy)."""
    return candidates_eligible(clients, vacancies, [v_row], places)[0]


# Vacancies whose competence counts one sparse product computes together at a place (two dense columns each: at
# 20,000 clients in reach, 64 vacancies' products take 10 MB)
PRODUCT_OWNERS = 64


@dataclass(frozen=True)
class _ClientsAt:
    """The clients in reach of one vacancy place, as step 1 reads them per vacancy there (per row in reach)."""

    uren_min: np.ndarray
    uren_max: np.ndarray
    allowed_times: np.ndarray  # ~excluded_times
    travel_ratio: np.ndarray  # distance / max(max_km, MIN_REACH_KM), the distance signal's ratio
    has: sparse.csr_matrix  # the competence indicators


def candidates_eligible(
    clients: ClientArrays, vacancies: VacancyArrays, v_rows: list[int], places: PlaceReach | None = None
) -> list[hard_filters.Eligible]:
    """:func:`matching.hard_filters.candidate_eligible` of every vacancy of ``v_rows``, the same eligible rows, fit
    features and signals, computed per place: the reach of each vacancy's place from ``places`` (shared with the
    partition's other owners there), its clients' hours, working times, travel ratio and competence rows gathered
    once (:meth:`PlaceReach.clients_at`), and the competence counts of all the place's vacancies in one sparse
    product (:data:`PRODUCT_OWNERS` at a time; sums of 0/1, exact in any order), where each list multiplied alone."""
    places = PlaceReach() if places is None else places
    at_place: dict[int, tuple[np.ndarray, np.ndarray, list[int]]] = {}
    for position, v_row in enumerate(v_rows):
        rows, distance = places.candidates(clients, vacancies, v_row)
        at_place.setdefault(id(rows), (rows, distance, []))[2].append(position)
    found: list[hard_filters.Eligible | None] = [None] * len(v_rows)
    width = clients.has_competences.shape[1]
    for rows, distance, members in at_place.values():
        near = places.clients_at(clients, rows, distance)
        for start in range(0, len(members), PRODUCT_OWNERS):
            chunk = members[start : start + PRODUCT_OWNERS]
            # codes past the client side's width (added by a later vacancy) are held by no client: they match nobody
            asked = [
                scoring._widened_row(matrix, v_rows[position], width)[:width]
                for position in chunk
                for matrix in (vacancies.required, vacancies.optional)
            ]
            matched = np.asarray(near.has @ np.column_stack(asked).astype(near.has.dtype, copy=False))
            for column, position in enumerate(chunk):
                found[position] = _candidates_at(
                    clients, rows, near, vacancies, v_rows[position], matched[:, 2 * column : 2 * column + 2]
                )
    return found  # type: ignore[return-value]


def _candidates_at(
    clients: ClientArrays,
    rows: np.ndarray,
    near: _ClientsAt,
    vacancies: VacancyArrays,
    v_row: int,
    matched: np.ndarray,
) -> hard_filters.Eligible:
    """:func:`matching.hard_filters.candidates_in_reach` of one vacancy from its place's clients (``near``) and
    their competence counts (``matched``: required, optional per row in reach): the same arithmetic on the same
    values, read from the place's arrays instead of gathered per list."""
    one = slice(v_row, v_row + 1)
    hours = np.minimum(near.uren_max, vacancies.uren_max[one]) - np.maximum(near.uren_min, vacancies.uren_min[one])
    times_ok = (vacancies.times[one] & near.allowed_times) != 0
    at = np.flatnonzero((hours >= 0) & times_ok)  # nobody's beperkingen shape the list: no client is seen in full
    eligible = rows[at]
    n, column = len(eligible), int(vacancies.occupation[v_row])
    experience = _column_at(clients.experience_by_occupation, column, eligible)
    wishes = _column_at(clients.wished_by_occupation, column, eligible)
    fit = {
        "required_total": np.full(n, vacancies.required_totals[v_row], np.float32),
        "required_matched": np.ascontiguousarray(matched[at, 0], np.float32),
        "optional_total": np.full(n, vacancies.optional_totals[v_row], np.float32),
        "optional_matched": np.ascontiguousarray(matched[at, 1], np.float32),
        "experience_years": experience * (column >= 0),
        "wishes_occupation": (wishes * (column >= 0)) > 0,
    }
    structured = scoring.signals_from(
        scoring.coverage(fit["required_matched"], fit["required_total"], scoring.REQUIRED_NONE_ASKED),
        scoring.coverage(fit["optional_matched"], fit["optional_total"], scoring.OPTIONAL_NONE_ASKED),
        fit["experience_years"],
        fit["wishes_occupation"],
        near.travel_ratio[at],
    )
    return hard_filters.Eligible(eligible, fit, structured)


def _column_at(by_column: sparse.csc_matrix, column: int, rows: np.ndarray) -> np.ndarray:
    """:func:`matching.scoring._column_values` (one column of a CSC matrix at ``rows``, 0 where none is stored) for
    ``rows`` ascending and unique: the column's stored rows looked up among ``rows`` (a few thousand stored) rather
    than every row among the stored ones (tens of thousands eligible)."""
    if not by_column.has_canonical_format or column < 0 or column >= by_column.shape[1]:
        return scoring._column_values(by_column, column, rows)
    out = np.zeros(len(rows), by_column.dtype)
    start, end = by_column.indptr[column], by_column.indptr[column + 1]
    stored, values = by_column.indices[start:end], by_column.data[start:end]
    at = np.searchsorted(rows, stored)
    hit = at < len(rows)
    hit[hit] = rows[at[hit]] == stored[hit]
    out[at[hit]] = values[hit]
    return out


def vacancy_eligible(
    clients: ClientArrays, c_row: int, vacancies: VacancyArrays, places: PlaceReach | None = None
) -> hard_filters.Eligible:
    """:func:`matching.hard_filters.vacancy_eligible`, the same eligible rows, fit features and signals
    (:func:`vacancies_eligible` for one client)."""
    return vacancies_eligible(clients, [c_row], vacancies, places)[0]


@dataclass(frozen=True)
class _VacanciesAt:
    """The open vacancies within the widest limit asked at one client place (``rows``, ascending, with their
    ``distance``), as step 1 reads them per client there (per row)."""

    rows: np.ndarray
    distance: np.ndarray
    uren_min: np.ndarray
    uren_max: np.ndarray
    times: np.ndarray
    unclosed: np.ndarray  # full_unclosed at the rows: (aspects, rows)
    required: sparse.csr_matrix
    optional: sparse.csr_matrix
    required_totals: np.ndarray
    optional_totals: np.ndarray
    occupation: np.ndarray


def vacancies_eligible(
    clients: ClientArrays, c_rows: list[int], vacancies: VacancyArrays, places: PlaceReach | None = None
) -> list[hard_filters.Eligible]:
    """:func:`matching.hard_filters.vacancy_eligible` of every client of ``c_rows``, the same eligible rows, fit
    features and signals, computed per place: the vacancies within the widest travel limit asked at each client's
    place found once (:meth:`PlaceReach.vacancies`; each client's are those within its own limit), their hours,
    working times, beperkingen and competence rows gathered once (:meth:`PlaceReach.vacancies_at`), and the
    competence counts of all the place's clients in one sparse product per side (sums of 0/1, exact in any order),
    where each list selected its rows and multiplied alone."""
    places = PlaceReach() if places is None else places
    places.plan_limits(clients, c_rows)
    at_place: dict[tuple[float, float], list[int]] = {}
    for position, c_row in enumerate(c_rows):
        places.vacancies(clients, c_row, vacancies)  # the place's widest reach, found once
        at_place.setdefault((float(clients.lat[c_row]), float(clients.lon[c_row])), []).append(position)
    found: list[hard_filters.Eligible | None] = [None] * len(c_rows)
    width = vacancies.required.shape[1]
    for members in at_place.values():
        near = places.vacancies_at(clients, c_rows[members[0]], vacancies)
        for start in range(0, len(members), PRODUCT_OWNERS):
            chunk = members[start : start + PRODUCT_OWNERS]
            # past the width: asked by no vacancy
            has = np.column_stack(
                [
                    np.sign(scoring._widened_row(clients.competences, c_rows[position], width))[:width]
                    for position in chunk
                ]
            )
            required = np.asarray(near.required @ has.astype(near.required.dtype, copy=False))
            optional = np.asarray(near.optional @ has.astype(near.optional.dtype, copy=False))
            for column, position in enumerate(chunk):
                found[position] = _vacancies_at(
                    clients, c_rows[position], near, required[:, column], optional[:, column]
                )
    return found  # type: ignore[return-value]


def _vacancies_at(
    clients: ClientArrays, c_row: int, near: _VacanciesAt, required: np.ndarray, optional: np.ndarray
) -> hard_filters.Eligible:
    """:func:`matching.hard_filters.vacancies_in_reach` of one client from its place's vacancies (``near``) and
    its competence counts there (``required``, ``optional`` per row of ``near``): its own vacancies are those within
    its limit (as :meth:`PlaceReach.vacancies` keeps them), and the same arithmetic runs on the same values."""
    max_km = clients.max_km[c_row]
    inside = np.flatnonzero(near.distance <= max_km)
    one = slice(c_row, c_row + 1)
    hours = np.minimum(clients.uren_max[one], near.uren_max[inside]) - np.maximum(
        clients.uren_min[one], near.uren_min[inside]
    )
    times_ok = (near.times[inside] & ~clients.excluded_times[one]) != 0
    hard = hard_filters._any_of(near.unclosed, np.flatnonzero(clients.full_ernst[:, c_row]), inside)
    at = inside[(hours >= 0) & times_ok & ~hard]  # positions among the place's rows
    eligible, n = near.rows[at], len(at)
    occupation = near.occupation[at]
    has_occupation = occupation >= 0
    columns = np.where(has_occupation, occupation, 0)
    enough = int(columns.max(initial=0)) + 1
    experience = scoring._widened_row(clients.experience, c_row, enough)[columns]
    wishes = scoring._widened_row(clients.wished_occupations, c_row, enough)[columns]
    fit = {
        "required_total": near.required_totals[at],
        "required_matched": np.ascontiguousarray(required[at], np.float32),
        "optional_total": near.optional_totals[at],
        "optional_matched": np.ascontiguousarray(optional[at], np.float32),
        "experience_years": experience * has_occupation,
        "wishes_occupation": (wishes * has_occupation) > 0,
    }
    structured = scoring.signals_from(
        scoring.coverage(fit["required_matched"], fit["required_total"], scoring.REQUIRED_NONE_ASKED),
        scoring.coverage(fit["optional_matched"], fit["optional_total"], scoring.OPTIONAL_NONE_ASKED),
        fit["experience_years"],
        fit["wishes_occupation"],
        near.distance[at] / np.maximum(np.full(n, max_km), scoring.MIN_REACH_KM),
    )
    return hard_filters.Eligible(eligible, fit, structured)
