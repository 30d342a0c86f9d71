"""The search pipeline on arrays, shared by both directions: filter → pool → score → order.

Nothing here reads the database or runs a model: the façade (:class:`matching.matcher.Matcher`) builds
the arrays, encodes the query and explains the result; these functions take numpy arrays and are
tested on seeded ones (``tests/matching/test_pipeline.py``).

1. **filter**: hard filters over *all* records of the searched side (hours overlap, within the
   client's travel wish, workable working times, vacancy open, no hard beperking conflict where the
   viewer sees beperkingen, and a consulent's own filters);
2. **pool**: the top ``pool_size`` eligible records by each of dense similarity, BM25 and structured
   fit — so a profile with an empty text is still found by its structured fields, and one with no
   coded fields by its text;
3. **score**: the transparent weighted score (:mod:`matching.scoring`) over the pool, or a learned
   ranker's;
4. **order**: best first, re-ranked for exposure when the list is shown to a person
   (:mod:`matching.exposure`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from matching import compatibility, disclosure, exposure, scoring
from matching.compatibility import Status
from matching.features import ROUTE_BAND_HIGH, ROUTE_BAND_LOW
from matching.settings import RetrievalSettings
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
class TextQuery:
    """The text side of one query, over every record (row) of the searched side.

    Attributes:
        dense_top: ``(eligible rows, k)`` → the ``k`` eligible rows nearest the query (the vector index).
        dense_raw: rows → their raw cosine with the query.
        lexical: raw BM25 of the query per row, every row (0 where no word matches).
    """

    dense_top: Callable[[np.ndarray, int], np.ndarray]
    dense_raw: Callable[[np.ndarray], np.ndarray]
    lexical: np.ndarray

    @classmethod
    def exact(cls, vectors: np.ndarray, query: np.ndarray, lexical: np.ndarray) -> TextQuery:
        """By brute force over ``vectors`` (one unit vector per row): the oracle the index must equal."""
        cosine = (vectors @ query).astype(np.float32)
        return cls(
            dense_top=lambda rows, k: rows[np.argsort(-cosine[rows], kind="stable")[:k]],
            dense_raw=lambda rows: cosine[rows],
            lexical=np.asarray(lexical, np.float32),
        )


@dataclass(frozen=True)
class Eligibility:
    """Step 1: what the hard filters left, and what the later steps read of every record."""

    features: scoring.PairFeatures  # of every pair of this search
    mask: np.ndarray  # passed every hard filter
    hard: np.ndarray  # left out for a hard beperking conflict (only where the viewer sees beperkingen)
    structured: dict[str, np.ndarray]  # the structured signals of every pair
    outside_filters: np.ndarray | None = None  # candidate lists: left out by the consulent's filters
    # candidate lists: per filter (API name), how many the hard filters kept and this filter left out
    filter_counts: dict[str, int] | None = None
    hard_counts: dict[str, int] | None = None  # candidate lists: of ``hard``, how many per aspect


@dataclass(frozen=True)
class Pool:
    """Step 2: the rows that are scored, with their raw text scores and the weighted score's signals."""

    rows: np.ndarray
    dense_raw: np.ndarray  # raw cosine per pool row (a ranker feature)
    lexical_raw: np.ndarray  # BM25 per pool row divided by the best of *all* records (a ranker feature)
    signals: dict[str, np.ndarray]  # per pool row, each in [0, 1]


def candidate_eligibility(
    clients: ClientArrays,
    vacancies: VacancyArrays,
    v_row: int,
    filters: CandidateFilters,
    full_view: np.ndarray,
    rows: np.ndarray | None = None,
) -> Eligibility:
    """Step 1 for a candidate list: every client (or only client ``rows``) against one vacancy.

    ``full_view`` (per client row) says whose beperkingen may exclude them and whose distance counts
    exactly (:mod:`matching.disclosure`); for a viewer with a caseload it is that caseload, which
    ``filters.own_only`` keeps. With ``rows`` every array of the answer is per row of ``rows``
    (counting one caseload's fit for a page of vacancies reads 173 rows, not 9,000).
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
    outside_filters = np.zeros(n, bool)
    for passed in passes.values():
        outside_filters |= ~passed
    filter_counts = {name: int((mask & ~passed).sum()) for name, passed in passes.items()}
    mask &= ~outside_filters
    return Eligibility(
        features=features,
        mask=mask,
        hard=hard,
        structured=scoring.structured_signals(features, clients.max_km[rows]),
        outside_filters=outside_filters,
        filter_counts=filter_counts,
        hard_counts=compatibility.hard_reason_counts(ernst, belasting, closed, np.flatnonzero(hard)),
    )


def vacancy_eligibility(clients: ClientArrays, c_row: int, vacancies: VacancyArrays) -> Eligibility:
    """Step 1 for a client's options: every vacancy against one client (open vacancies only)."""
    n = len(vacancies.ids)
    c_rows = np.full(n, c_row)
    features = scoring.pair_features(clients, c_rows, vacancies, np.arange(n))
    closed = compatibility.accommodated(vacancies.jobcarving, vacancies.jobcoach, vacancies.guided)
    compat = compatibility.statuses(clients.beperking_ernst[c_row], vacancies.belasting, closed)
    hard = (compat == Status.HARD) & vacancies.open
    mask = scoring.eligible(features, vacancies.open) & ~hard
    return Eligibility(features, mask, hard, scoring.structured_signals(features, clients.max_km[c_rows]))


def build_pool(eligibility: Eligibility, text: TextQuery, pool_size: int) -> Pool:
    """Step 2: the union of the top ``pool_size`` eligible rows by dense, by BM25 and by structured fit.

    The raw text values are the ranker's features (as :mod:`training.dataset` computes them); the
    weighted score scales them over the pool with :func:`matching.scoring.text_signals`.
    """
    eligible = np.flatnonzero(eligibility.mask)
    structured = eligibility.structured
    fit = (structured["competences"] + structured["occupation"])[eligible]
    top_dense = text.dense_top(eligible, pool_size) if len(eligible) else eligible
    top_lexical = eligible[np.argsort(-text.lexical[eligible])[:pool_size]]
    top_structured = eligible[np.argsort(-fit)[:pool_size]]
    rows = np.unique(np.concatenate([top_dense, top_lexical, top_structured])).astype(np.int64)
    dense_raw = np.asarray(text.dense_raw(rows), np.float32) if len(rows) else np.zeros(0, np.float32)
    best = float(text.lexical.max()) if len(text.lexical) else 0.0
    lexical_raw = text.lexical[rows] / best if best > 0 else np.zeros(len(rows), np.float32)
    dense, lexical = scoring.text_signals(dense_raw, lexical_raw)
    signals = {"dense": dense, "lexical": lexical, **{name: values[rows] for name, values in structured.items()}}
    return Pool(rows, dense_raw, np.asarray(lexical_raw, np.float32), signals)


def weighted_score(pool: Pool, weights: RetrievalSettings) -> np.ndarray:
    """Step 3 without a learned ranker: the transparent weighted score of every pool row."""
    return scoring.combine(pool.signals, weights)


@dataclass(frozen=True)
class Exposure:
    """What re-orders a shown list (:mod:`matching.exposure`), per pool row: the exposure so far
    (:func:`~matching.exposure.rerank` at ``strength``), and the trede whose merit share of the top
    10 is held to at least ``floor`` (:func:`~matching.exposure.merit_floor`; 0: off)."""

    shown_before: np.ndarray
    trede: np.ndarray
    strength: float
    mean: float
    floor: float = 0.0


def order(score: np.ndarray, top: int, exposed: Exposure | None = None) -> np.ndarray:
    """Step 4: positions into the pool, best first, at most ``top``."""
    if exposed is None or (exposed.strength <= 0 and exposed.floor <= 0):
        return np.argsort(-score, kind="stable")[:top]
    ranked = exposure.rerank(
        score, exposed.shown_before, exposed.trede, strength=exposed.strength, mean_exposure=exposed.mean
    )
    return exposure.merit_floor(ranked, score, exposed.trede, floor=exposed.floor)[:top]


def excluded_counts(features: scoring.PairFeatures, open_: np.ndarray) -> dict[str, int]:
    """How many pairs each hard filter removed ("niet getoond, omdat…"); a pair can count more than once."""
    return {
        "vacatureNietOpen": int((~open_).sum()),
        "urenPassenNiet": int((features.hours_overlap < 0).sum()),
        "buitenReisbereik": int((~features.within_reach).sum()),
        "werktijdenPassenNiet": int((~features.times_ok).sum()),
    }
