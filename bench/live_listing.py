"""The live searches at national size with step 1 spread over every record and read back (before) and with
step 1 read from the reach alone (after, :class:`matching.hard_filters.Listing`), alternating in one process.

Run: ``WERKMATCH_DATA_DIR=<copy of the demo world, its bench-400000 a copy of the national one>
PYTHONPATH=. nice -n 10 .venv/bin/python bench/live_listing.py [--queries 40] > result.json``

Before: :func:`matching.hard_filters.candidate_eligibility` (``vacancy_eligibility``) spreads step 1 over
every record (about 20 arrays of 400,000), and the list reads its eligible rows, distances and counts back
(``Listing.of``, what :func:`matching.pipeline.build_pool` and the matcher read before), and the ranker's
features of the pool compute the competence and occupation fields again (``pair_matrix`` without ``fit``).
After: :func:`~matching.hard_filters.candidate_listing` (``vacancy_listing``) reads them from the reach and
``pair_matrix`` takes step 1's fit fields of the pool's rows. Per query
each variant runs once, the first of the two alternating; every list (candidates within reach, heleBestand,
a client's vacancies) is asserted the same JSON both ways. Per-search milliseconds, their percentiles and
the load average are written as JSON.
"""

from __future__ import annotations

from bench.live_alternating import compare
from matching import hard_filters
from matching import matcher as matcher_module
from matching.hard_filters import Listing

NEW = (hard_filters.candidate_listing, hard_filters.vacancy_listing, matcher_module.pair_matrix)
PAIR_MATRIX = matcher_module.pair_matrix


def _old_pair_matrix(clients, c_rows, vacancies, v_rows, dense, lexical, now, fit=None):
    """The ranker's features computing the fit fields again (as before), not reading step 1's."""
    return PAIR_MATRIX(clients, c_rows, vacancies, v_rows, dense, lexical, now)


def _old_candidate_listing(clients, vacancies, v_row, filters, full_view, prefilter=True) -> Listing:
    """Since session 32 the plain pass (the spread of the reach over every record is gone): no longer the
    session-30 before; ``live-listing-s30-l2.json`` holds that comparison."""
    return Listing.of(hard_filters.candidate_eligibility(clients, vacancies, v_row, filters, full_view))


def _old_vacancy_listing(clients, c_row, vacancies, prefilter=True) -> Listing:
    return Listing.of(hard_filters.vacancy_eligibility(clients, c_row, vacancies))


def _variant(new: bool) -> None:
    chosen = NEW if new else (_old_candidate_listing, _old_vacancy_listing, _old_pair_matrix)
    hard_filters.candidate_listing, hard_filters.vacancy_listing, matcher_module.pair_matrix = chosen  # type: ignore[assignment]


def main() -> None:
    compare(_variant, default_queries=40)


if __name__ == "__main__":
    main()
