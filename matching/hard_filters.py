"""Step 1 of the search pipeline (:mod:`matching.pipeline`): the hard filters, shared by both directions.

Which records of the searched side are eligible for one query record, with what the later steps read of
them (fit features, structured signals) and the "niet getoond, omdat…" counts: hours overlap, within the
client's travel wish, workable working times, vacancy open, no hard beperking conflict where the viewer
sees beperkingen, and a consulent's own filters (:class:`CandidateFilters`). A live list reads step 1
from the records within reach (:class:`Reach`, :class:`Listing`); the nightly batch reads the eligible rows
alone (:class:`Eligible`); the plain pass over every record (:class:`Eligibility`) is their oracle and counts
a caseload's fit. Nothing here reads the database; tested on seeded arrays (``tests/matching/test_listing.py``,
``tests/matching/test_pipeline.py``, ``tests/matching/test_geo_prefilter.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from matching import compatibility, disclosure, scoring
from matching.compatibility import Status
from matching.features import ROUTE_BAND_HIGH, ROUTE_BAND_LOW
from matching.structured import ROUTES, ClientArrays, VacancyArrays
from matching.vocab import READINESS


@dataclass(frozen=True)
class CandidateFilters:
    """What a consulent narrows a candidate list to; every field optional.

    ``whole_bestand`` lifts the client's own travel wish (the one hard filter that is a wish, not a
    fact), so a consulent can see who would fit if they travelled further; hours and working times
    still apply.
    """

    max_km: float | None = None  # straal: at most this far from the work location
    trede: frozenset[int] | None = None
    route: frozenset[str] | None = None
    # the client can work at least this many hours per week within the vacancy's hour range
    min_hours: float | None = None
    # candidates for whom one of these plaatsingsvormen suits their route (inside the route's band)
    plaatsingsvorm: frozenset[str] | None = None
    whole_bestand: bool = False
    # only the viewer's own caseload (alleenEigenKlanten): applied with the others, before the top-k cut
    own_only: bool = False

    def masks(
        self,
        trede: np.ndarray,
        route: np.ndarray,
        features: scoring.PairFeatures,
        most_hours: np.ndarray,
        banded: np.ndarray | None = None,
        own: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """Who passes each chosen filter, per client row, under the filter's API name (``minUren``, …).

        ``trede`` and ``route`` are codes per row; ``most_hours`` the most hours per week the client
        can work within the vacancy's range (where the ranges overlap). ``banded`` rows (outside the
        viewer's caseload) meet the radius by distance band
        (:func:`matching.disclosure.radius_for_outsiders`), so a radius cannot measure them. ``own``
        rows are the viewer's caseload (``own_only``; without it nobody passes that filter).
        """
        passes: dict[str, np.ndarray] = {}
        if self.own_only:
            passes["alleenEigenKlanten"] = np.zeros(len(trede), bool) if own is None else own.copy()
        if self.max_km is not None:
            within = features.distance_km <= self.max_km
            if banded is not None:
                within |= banded & (features.distance_km <= disclosure.radius_for_outsiders(self.max_km))
            passes["straalKm"] = within
        if self.trede is not None:
            passes["trede"] = np.isin(trede, list(self.trede))
        if self.route is not None:
            passes["route"] = np.isin(route, [ROUTES.index(name) for name in self.route if name in ROUTES])
        if self.min_hours is not None:
            passes["minUren"] = most_hours >= self.min_hours
        if self.plaatsingsvorm is not None:
            suits = np.zeros(len(trede), bool)
            for vorm in self.plaatsingsvorm:
                readiness = READINESS.get(vorm)
                if readiness is not None:
                    suits |= (ROUTE_BAND_LOW[route] <= readiness) & (readiness <= ROUTE_BAND_HIGH[route])
            passes["plaatsingsvorm"] = suits
        return passes

    def mask(
        self,
        trede: np.ndarray,
        route: np.ndarray,
        features: scoring.PairFeatures,
        most_hours: np.ndarray,
        banded: np.ndarray | None = None,
        own: np.ndarray | None = None,
    ) -> np.ndarray:
        """Who passes every chosen filter, per client row (the arguments of :meth:`masks`)."""
        keep = np.ones(len(trede), bool)
        for passes in self.masks(trede, route, features, most_hours, banded, own).values():
            keep &= passes
        return keep


NO_FILTERS = CandidateFilters()


@dataclass(frozen=True)
class Eligibility:
    """Step 1: what the hard filters left, and what the later steps read of every record."""

    features: scoring.PairFeatures  # of every pair of this search
    mask: np.ndarray  # passed every hard filter
    hard: np.ndarray  # left out for a hard beperking conflict (only where the viewer sees beperkingen)
    structured: dict[str, np.ndarray]  # the structured signals of every pair
    # "niet getoond, omdat…" per hard filter (:func:`excluded_counts`), among the records within reach
    counts: dict[str, int] = field(default_factory=dict)
    # candidate lists: left out by the consulent's filters (within reach; heleBestand: anywhere)
    outside_filters: np.ndarray | None = None
    # candidate lists: per filter (API name), how many the hard filters kept and this filter left out
    filter_counts: dict[str, int] | None = None
    hard_counts: dict[str, int] | None = None  # candidate lists: of ``hard``, how many per aspect


def candidate_eligibility(
    clients: ClientArrays,
    vacancies: VacancyArrays,
    v_row: int,
    filters: CandidateFilters,
    full_view: np.ndarray,
    rows: np.ndarray | None = None,
) -> Eligibility:
    """Step 1 for a candidate list, the plain pass: every client (or only client ``rows``) against one vacancy.

    ``full_view`` (per client row) says whose beperkingen may exclude them and whose distance counts
    exactly (:mod:`matching.disclosure`); for a viewer with a caseload it is that caseload, which
    ``filters.own_only`` keeps. With ``rows`` every array of the answer is per row of ``rows``
    (counting one caseload's fit for a page of vacancies reads 173 rows, not 9,000).

    Over all clients a search reads step 1 from the reach instead (:func:`candidate_listing`,
    :func:`candidate_reach`); this pass is the oracle that must equal (``tests/matching/test_listing.py``)
    and what a search without the geographic prefilter reads (``Matcher.prefilter``, the benchmark's before).
    """
    rows = np.arange(len(clients.ids)) if rows is None else rows
    n, seen = len(rows), full_view[rows]
    features = scoring.pair_features(clients, rows, vacancies, np.full(n, v_row))
    if filters.whole_bestand:
        mask = (features.hours_overlap >= 0) & features.times_ok
    else:
        mask = scoring.eligible(features, np.ones(n, bool))
    one = slice(v_row, v_row + 1)
    closed = compatibility.accommodated(vacancies.jobcarving[one], vacancies.jobcoach[one], vacancies.guided[one])[0]
    belasting, ernst = vacancies.belasting[v_row], clients.beperking_ernst[rows]
    # beperkingen outside the viewer's view shape nothing (matching.disclosure, rule 1)
    hard = (compatibility.statuses(ernst, belasting, closed) == Status.HARD) & seen
    most_hours = np.minimum(clients.uren_max[rows], vacancies.uren_max[v_row])  # within the vacancy's range
    passes = filters.masks(clients.trede[rows], clients.route[rows], features, most_hours, banded=~seen, own=seen)
    mask &= ~hard
    counted = np.ones(n, bool) if filters.whole_bestand else features.within_reach
    outside_filters = np.zeros(n, bool)
    for passed in passes.values():
        outside_filters |= ~passed
    outside_filters &= counted
    filter_counts = {name: int((mask & ~passed).sum()) for name, passed in passes.items()}
    mask &= ~outside_filters
    return Eligibility(
        features=features,
        mask=mask,
        hard=hard,
        structured=scoring.structured_signals(features, clients.max_km[rows]),
        counts=excluded_counts(features, np.ones(n, bool), counted),
        outside_filters=outside_filters,
        filter_counts=filter_counts,
        hard_counts=compatibility.hard_reason_counts(ernst, belasting, closed, np.flatnonzero(hard)),
    )


def vacancy_eligibility(clients: ClientArrays, c_row: int, vacancies: VacancyArrays) -> Eligibility:
    """Step 1 for a client's options, the plain pass: every vacancy against one client (open vacancies only).

    A search reads it from the client's reach instead (:func:`vacancy_listing`, :func:`vacancy_reach`); this
    pass is the oracle that must equal.
    """
    n = len(vacancies.ids)
    c_rows = np.full(n, c_row)
    features = scoring.pair_features(clients, c_rows, vacancies, np.arange(n))
    closed = compatibility.accommodated(vacancies.jobcarving, vacancies.jobcoach, vacancies.guided)
    compat = compatibility.statuses(clients.beperking_ernst[c_row], vacancies.belasting, closed)
    hard = (compat == Status.HARD) & vacancies.open
    mask = scoring.eligible(features, vacancies.open) & ~hard
    signals = scoring.structured_signals(features, clients.max_km[c_rows])
    return Eligibility(features, mask, hard, signals, excluded_counts(features, vacancies.open, features.within_reach))


def _any_of(rows_by_aspect: np.ndarray, aspects: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Per record (or per record of ``rows``): is it marked on any of ``aspects`` (rows of an (A, n) bool matrix)?"""
    if not len(aspects):
        return np.zeros(rows_by_aspect.shape[1] if rows is None else len(rows), bool)
    marked = rows_by_aspect[aspects] if rows is None else rows_by_aspect[np.ix_(aspects, rows)]
    return np.logical_or.reduce(marked, axis=0)


def _fit_signals(
    near: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    keep: np.ndarray,
    fit: dict[str, np.ndarray],
    max_km: np.ndarray,
) -> dict[str, np.ndarray]:
    """The structured signals of the near rows that ``keep`` says passed: ``near`` is their (distance, hours
    overlap, working times workable, within reach), ``fit`` their fit features."""
    distance, hours, times_ok, within = near
    subset = scoring.PairFeatures(
        distance_km=distance[keep], hours_overlap=hours[keep], times_ok=times_ok[keep], within_reach=within[keep], **fit
    )
    return scoring.structured_signals(subset, max_km)


def _counts_near(
    n: int, closed_records: int, hours: np.ndarray, times_ok: np.ndarray, within: np.ndarray, counted: np.ndarray
) -> dict[str, int]:
    """:func:`excluded_counts` from the values of the rows that can be within reach (``n`` records in all,
    ``closed_records`` of them not open): the records outside those rows are out of reach and count nowhere else."""
    return {
        "vacatureNietOpen": closed_records,
        "urenPassenNiet": int(np.count_nonzero((hours < 0) & counted)),
        "buitenReisbereik": n - int(np.count_nonzero(within)),
        "werktijdenPassenNiet": int(np.count_nonzero(~times_ok & counted)),
    }


def _hard_counts(full_ernst: np.ndarray, aspects: np.ndarray, hard: np.ndarray) -> dict[str, int]:
    """:func:`compatibility.hard_reason_counts` of the ``hard`` clients, per aspect of ``aspects`` (those
    the vacancy asks at niveau 3 without a remedy), read from the rows kept per aspect."""
    counts = {
        compatibility.ASPECT_NAMES[aspect]: int(np.count_nonzero(full_ernst[aspect] & hard)) for aspect in aspects
    }
    return {name: count for name, count in counts.items() if count}


@dataclass(frozen=True)
class Reach:
    """Step 1 on the rows that can be within reach alone, what a live list reads (:class:`Listing`): the same
    values as the plain pass over every row (:func:`candidate_eligibility`, :func:`vacancy_eligibility`) where
    a list reads them."""

    near: np.ndarray  # rows (ascending) of the buckets that can be within reach; the arrays below are per near row
    distance: np.ndarray
    within: np.ndarray
    hours: np.ndarray
    times_ok: np.ndarray
    counted: np.ndarray  # where the "niet getoond" counts are taken
    eligible: np.ndarray  # rows (ascending) that passed every hard filter
    fit: dict[str, np.ndarray]  # per eligible row: the sparse competence and occupation features
    structured: dict[str, np.ndarray]  # per eligible row: the structured signals
    failed: np.ndarray | None = None  # candidate lists: left out by the consulent's filters
    filter_counts: dict[str, int] | None = None  # candidate lists: as :attr:`Eligibility.filter_counts`


def candidate_reach(
    clients: ClientArrays, vacancies: VacancyArrays, v_row: int, filters: CandidateFilters, full_view: np.ndarray
) -> Reach:
    """Step 1 for a candidate list over all clients, the costly work only where it can matter.

    The clients are bucketed by place (:attr:`ClientArrays.buckets`); the vacancy's distance is measured
    once per bucket (a few thousand PC4s), and only clients of a bucket within its largest reach can be
    within their own (heleBestand: every client). Distance, hours, working times and the consulent's filters
    are compared for those clients only (every count is taken within reach), hard beperking conflicts are
    read from the clients with ernst 3 on an aspect the vacancy asks at niveau 3 without a remedy
    (:attr:`ClientArrays.full_ernst`, :attr:`VacancyArrays.full_unclosed`), and the sparse competence and
    occupation features computed only for the clients that pass every hard filter. Where a list reads them,
    the values equal :func:`candidate_eligibility`'s plain pass (``tests/matching/test_listing.py``).
    """
    n, one = len(clients.ids), np.array([v_row])
    buckets = clients.buckets
    at = (float(vacancies.lat[v_row]), float(vacancies.lon[v_row]))
    near = np.arange(n) if filters.whole_bestand else buckets.rows_within(*at)
    distance = buckets.distances(*at, rows=near)
    within = distance <= clients.max_km[near]
    hours = scoring.hours_overlap(clients, near, vacancies, one)
    times_ok = scoring.times_workable(clients, near, vacancies, one)
    counted = np.ones(len(near), bool) if filters.whole_bestand else within
    seen = full_view[near]
    # beperkingen outside the viewer's view shape nothing
    hard = _any_of(clients.full_ernst, np.flatnonzero(vacancies.full_unclosed[:, v_row]), near) & seen
    most_hours = np.minimum(clients.uren_max[near], vacancies.uren_max[v_row])
    unfilled = np.zeros(len(near), np.float32)  # the fit fields: the filters read none of them
    near_features = scoring.PairFeatures(distance, hours, times_ok, within, *[unfilled] * 5, unfilled.astype(bool))
    passes = filters.masks(clients.trede[near], clients.route[near], near_features, most_hours, ~seen, seen)
    passing = counted & (hours >= 0) & times_ok & ~hard
    failed = np.zeros(len(near), bool)
    for passed in passes.values():
        failed |= ~passed
    failed &= counted
    filter_counts = {name: int((passing & ~passed).sum()) for name, passed in passes.items()}
    keep = passing & ~failed
    eligible = near[keep]
    fit = scoring.fit_features_for_vacancy(clients, eligible, vacancies, v_row)
    structured = _fit_signals((distance, hours, times_ok, within), keep, fit, clients.max_km[eligible])
    return Reach(near, distance, within, hours, times_ok, counted, eligible, fit, structured, failed, filter_counts)


@dataclass(frozen=True)
class Eligible:
    """What the nightly batch reads of step 1: the eligible rows (ascending) with their fit features and
    structured signals, as :class:`Reach` holds them (no counts, nothing per row that could be within reach)."""

    eligible: np.ndarray
    fit: dict[str, np.ndarray]
    structured: dict[str, np.ndarray]


def candidate_eligible(clients: ClientArrays, vacancies: VacancyArrays, v_row: int) -> Eligible:
    """:func:`candidate_reach` for a viewer without a caseload and no filters (the nightly list), the same
    eligible rows, fit features and signals, comparing hours and working times only for the clients within
    their own reach (no one else can pass) and skipping what only the counts and filters read."""
    buckets = clients.buckets
    at = (float(vacancies.lat[v_row]), float(vacancies.lon[v_row]))
    near = buckets.rows_within(*at)
    distance = buckets.distances(*at, rows=near)
    inside = distance <= clients.max_km[near]
    rows, distance = near[inside], distance[inside]
    return candidates_in_reach(clients, rows, distance, vacancies, v_row)


def vacancy_eligible(clients: ClientArrays, c_row: int, vacancies: VacancyArrays) -> Eligible:
    """:func:`vacancy_reach` (the same eligible rows, fit features and signals) comparing hours, working
    times and beperkingen only for the open vacancies within the client's reach."""
    buckets = vacancies.buckets
    at = (float(clients.lat[c_row]), float(clients.lon[c_row]))
    max_km = clients.max_km[c_row]
    near = buckets.rows_within(*at, km=float(max_km), point_first=True)
    distance = buckets.distances(*at, point_first=True, rows=near)
    inside = (distance <= max_km) & vacancies.open[near]
    rows, distance = near[inside], distance[inside]
    return vacancies_in_reach(clients, c_row, rows, distance, vacancies)


def vacancies_in_reach(
    clients: ClientArrays,
    c_row: int,
    rows: np.ndarray,
    distance: np.ndarray,
    vacancies: VacancyArrays,
    competences: tuple[sparse.csr_matrix, sparse.csr_matrix] | None = None,
) -> Eligible:
    """Step 1's rest for a client, given the open vacancies within its reach (``rows``, ``distance``): hours,
    times and beperkingen, the eligible rows, their fit features and structured signals. ``competences``: the
    vacancies' required and optional competences already selected at ``rows`` (the nightly batch selects them once
    per place, :meth:`matching.batch_steps.PlaceReach.selected`)."""
    one = np.array([c_row])
    hours = scoring.hours_overlap(clients, one, vacancies, rows)
    times_ok = scoring.times_workable(clients, one, vacancies, rows)
    hard = _any_of(vacancies.full_unclosed, np.flatnonzero(clients.full_ernst[:, c_row]), rows)
    keep = (hours >= 0) & times_ok & ~hard
    eligible = rows[keep]
    selected = None if competences is None else (*competences, np.flatnonzero(keep))
    fit = scoring.fit_features_for_client(clients, c_row, vacancies, eligible, selected)
    within = np.ones(len(rows), bool)
    max_km = np.full(len(eligible), clients.max_km[c_row])
    structured = _fit_signals((distance, hours, times_ok, within), keep, fit, max_km)
    return Eligible(eligible, fit, structured)


def vacancy_reach(clients: ClientArrays, c_row: int, vacancies: VacancyArrays) -> Reach:
    """Step 1 for a client's options, on the vacancies that can be within the client's reach only."""
    one = np.array([c_row])
    buckets = vacancies.buckets
    at = (float(clients.lat[c_row]), float(clients.lon[c_row]))
    max_km = clients.max_km[c_row]
    near = buckets.rows_within(*at, km=float(max_km), point_first=True)
    distance = buckets.distances(*at, point_first=True, rows=near)
    within = distance <= max_km
    hours = scoring.hours_overlap(clients, one, vacancies, near)
    times_ok = scoring.times_workable(clients, one, vacancies, near)
    hard = _any_of(vacancies.full_unclosed, np.flatnonzero(clients.full_ernst[:, c_row]), near)
    keep = vacancies.open[near] & (hours >= 0) & within & times_ok & ~hard
    eligible = near[keep]
    fit = scoring.fit_features_for_client(clients, c_row, vacancies, eligible)
    structured = _fit_signals((distance, hours, times_ok, within), keep, fit, np.full(len(eligible), max_km))
    return Reach(near, distance, within, hours, times_ok, within, eligible, fit, structured)


# the fields of scoring.PairFeatures that scoring.fit_features computes
FIT_FIELDS = (
    "required_total",
    "required_matched",
    "optional_total",
    "optional_matched",
    "experience_years",
    "wishes_occupation",
)


@dataclass(frozen=True)
class Listing:
    """Step 1 as a shown list reads it: the eligible rows alone, nothing spread over every record.

    :class:`Eligibility` holds step 1 per record of the searched side (400,000 at national size); a list
    reads only the eligible rows' signals and distances and, of the rest, counts. ``Listing.of`` reads them
    from an :class:`Eligibility`; :func:`candidate_listing` and :func:`vacancy_listing` from the reach
    (:func:`candidate_reach`, :func:`vacancy_reach`), the same values without the arrays over every record.
    """

    eligible: np.ndarray  # rows (ascending) that passed every hard filter
    structured: dict[str, np.ndarray]  # per eligible row: the structured signals
    distance: np.ndarray  # per eligible row: km
    fit: dict[str, np.ndarray]  # per eligible row: the competence and occupation fields (scoring.fit_features)
    hard: np.ndarray  # rows (ascending) left out for a hard beperking conflict
    counts: dict[str, int]  # as :attr:`Eligibility.counts`
    outside_filters: int = 0  # candidate lists: how many the consulent's filters left out
    filter_counts: dict[str, int] | None = None
    hard_counts: dict[str, int] | None = None

    @classmethod
    def of(cls, eligibility: Eligibility) -> Listing:
        eligible = np.flatnonzero(eligibility.mask)
        outside = eligibility.outside_filters
        return cls(
            eligible,
            {name: values[eligible] for name, values in eligibility.structured.items()},
            eligibility.features.distance_km[eligible],
            {name: getattr(eligibility.features, name)[eligible] for name in FIT_FIELDS},
            np.flatnonzero(eligibility.hard),
            eligibility.counts,
            0 if outside is None else int(np.count_nonzero(outside)),
            eligibility.filter_counts,
            eligibility.hard_counts,
        )


def candidate_listing(
    clients: ClientArrays,
    vacancies: VacancyArrays,
    v_row: int,
    filters: CandidateFilters,
    full_view: np.ndarray,
    prefilter: bool = True,
) -> Listing:
    """``Listing.of(candidate_eligibility(...))``, the same values; with ``prefilter`` read from the reach
    (:func:`candidate_reach`), else from the plain pass."""
    if not prefilter:
        return Listing.of(candidate_eligibility(clients, vacancies, v_row, filters, full_view))
    reach = candidate_reach(clients, vacancies, v_row, filters, full_view)
    assert reach.failed is not None
    aspects = np.flatnonzero(vacancies.full_unclosed[:, v_row])
    hard = _any_of(clients.full_ernst, aspects) & full_view  # every client's, for the counts per aspect
    return Listing(
        reach.eligible,
        reach.structured,
        reach.distance[np.searchsorted(reach.near, reach.eligible)],
        reach.fit,
        np.flatnonzero(hard),
        _counts_near(len(clients.ids), 0, reach.hours, reach.times_ok, reach.within, reach.counted),
        int(np.count_nonzero(reach.failed)),
        reach.filter_counts,
        _hard_counts(clients.full_ernst, aspects, hard),
    )


def vacancy_listing(clients: ClientArrays, c_row: int, vacancies: VacancyArrays, prefilter: bool = True) -> Listing:
    """``Listing.of(vacancy_eligibility(...))``, the same values; with ``prefilter`` read from the reach
    (:func:`vacancy_reach`), else from the plain pass."""
    if not prefilter:
        return Listing.of(vacancy_eligibility(clients, c_row, vacancies))
    m = len(vacancies.ids)
    reach = vacancy_reach(clients, c_row, vacancies)
    hard = _any_of(vacancies.full_unclosed, np.flatnonzero(clients.full_ernst[:, c_row])) & vacancies.open
    closed = m - int(np.count_nonzero(vacancies.open))
    return Listing(
        reach.eligible,
        reach.structured,
        reach.distance[np.searchsorted(reach.near, reach.eligible)],
        reach.fit,
        np.flatnonzero(hard),
        _counts_near(m, closed, reach.hours, reach.times_ok, reach.within, reach.within),
    )


def excluded_counts(features: scoring.PairFeatures, open_: np.ndarray, counted: np.ndarray) -> dict[str, int]:
    """How many pairs each hard filter removed ("niet getoond, omdat…"); a pair can count more than once.

    Hours and working times are counted among the ``counted`` pairs: those within the client's travel
    reach (a heleBestand list: every pair). "Bij 15 klanten passen de uren niet" then speaks of clients
    who could come, not of the whole country, and no search compares hours with every record.
    """
    return {
        "vacatureNietOpen": int(np.count_nonzero(~open_)),
        "urenPassenNiet": int(np.count_nonzero((features.hours_overlap < 0) & counted)),
        "buitenReisbereik": len(open_) - int(np.count_nonzero(features.within_reach)),
        "werktijdenPassenNiet": int(np.count_nonzero(~features.times_ok & counted)),
    }


def candidates_in_reach(
    clients: ClientArrays,
    rows: np.ndarray,
    distance: np.ndarray,
    vacancies: VacancyArrays,
    v_row: int,
    competences: sparse.csr_matrix | None = None,
) -> Eligible:
    """Step 1's rest for a vacancy, given the clients within their own reach (``rows``, ``distance``):
    hours and times, the eligible rows, their fit features and structured signals. ``competences``: the clients'
    competence indicators already selected at ``rows`` (the nightly batch selects them once per place,
    :meth:`matching.batch_steps.PlaceReach.selected`)."""
    one = np.array([v_row])
    hours = scoring.hours_overlap(clients, rows, vacancies, one)
    times_ok = scoring.times_workable(clients, rows, vacancies, one)
    keep = (hours >= 0) & times_ok  # nobody's beperkingen shape the list: no client is seen in full
    eligible = rows[keep]
    selected = None if competences is None else (competences, np.flatnonzero(keep))
    fit = scoring.fit_features_for_vacancy(clients, eligible, vacancies, v_row, selected)
    within = np.ones(len(rows), bool)
    structured = _fit_signals((distance, hours, times_ok, within), keep, fit, clients.max_km[eligible])
    return Eligible(eligible, fit, structured)
