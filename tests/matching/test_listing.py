"""Step 1 as a list reads it (:class:`matching.hard_filters.Listing`), read from the reach alone, equals the
same values read back from the plain pass of step 1 over every record (the oracle), and the listing without
the geographic prefilter (read from that pass) equals it.

Seeded synthetic region (no model), once as generated and once spread over the whole country (most records
far out of reach, as at national size); every filter, a viewer who sees everyone and one with a caseload.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np
import pytest

from matching import geo, hard_filters
from matching.features import pair_matrix
from matching.hard_filters import CandidateFilters, Listing
from matching.matcher import Matcher
from matching.settings import Settings
from matching.structured import ClientArrays, VacancyArrays
from training.synthetic import generate, write_to_db

FILTERS = [
    CandidateFilters(),
    CandidateFilters(whole_bestand=True),
    CandidateFilters(max_km=12.0, trede=frozenset({3, 4, 5})),
    CandidateFilters(min_hours=20.0, route=frozenset({"werk"}), plaatsingsvorm=frozenset({"regulier"})),
    CandidateFilters(own_only=True, whole_bestand=True),
]


@pytest.fixture(scope="module", params=["regional", "national"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ClientArrays, VacancyArrays]:
    """900 synthetic clients and 300 vacancies as arrays; "national": each moved to a random Dutch PC4."""
    matcher = Matcher(Settings(data_dir=tmp_path_factory.mktemp("listing")), may_write=False)
    write_to_db(matcher.engine, generate(900, 300, seed=29), progress=False)
    clients, vacancies = matcher.index.arrays()
    if request.param == "regional":
        return clients, vacancies
    rng, table = np.random.default_rng(8), geo.load_pc4()

    def moved(arrays):
        picked = table.coords[rng.integers(0, len(table.codes), len(arrays.ids))]
        return dataclasses.replace(arrays, lat=picked[:, 0].copy(), lon=picked[:, 1].copy())

    return moved(clients), moved(vacancies)


def assert_same(found: Listing, expected: Listing) -> None:
    np.testing.assert_array_equal(found.eligible, expected.eligible)
    assert found.structured.keys() == expected.structured.keys()
    for name, values in expected.structured.items():
        assert found.structured[name].dtype == values.dtype, name
        np.testing.assert_array_equal(found.structured[name], values, err_msg=name)
    np.testing.assert_array_equal(found.distance, expected.distance)
    assert found.fit.keys() == expected.fit.keys() == set(hard_filters.FIT_FIELDS)
    for name, values in expected.fit.items():
        assert found.fit[name].dtype == values.dtype, name
        np.testing.assert_array_equal(found.fit[name], values, err_msg=name)
    np.testing.assert_array_equal(found.hard, expected.hard)
    assert found.counts == expected.counts
    assert found.outside_filters == expected.outside_filters
    assert found.filter_counts == expected.filter_counts
    assert found.hard_counts == expected.hard_counts


def test_candidate_listing_equals_step_one_over_every_client(world) -> None:
    clients, vacancies = world
    rng = np.random.default_rng(2)
    views = [np.ones(len(clients.ids), bool), rng.random(len(clients.ids)) < 0.2]
    eligible = hard = outside = 0
    for v_row in np.flatnonzero(vacancies.open)[::4].tolist():
        for filters in FILTERS:
            for view in views:
                found = hard_filters.candidate_listing(clients, vacancies, v_row, filters, view)
                plain = hard_filters.candidate_eligibility(clients, vacancies, v_row, filters, view)
                assert_same(found, Listing.of(plain))
                assert_same(hard_filters.candidate_listing(clients, vacancies, v_row, filters, view, False), found)
                eligible, hard = eligible + len(found.eligible), hard + len(found.hard)
                outside += found.outside_filters
    assert eligible and hard and outside  # rows, hard conflicts and filtered-out clients are exercised


def test_vacancy_listing_equals_step_one_over_every_vacancy(world) -> None:
    clients, vacancies = world
    eligible = hard = 0
    for c_row in range(0, len(clients.ids), 7):
        found = hard_filters.vacancy_listing(clients, c_row, vacancies)
        assert_same(found, Listing.of(hard_filters.vacancy_eligibility(clients, c_row, vacancies)))
        assert_same(hard_filters.vacancy_listing(clients, c_row, vacancies, prefilter=False), found)
        eligible, hard = eligible + len(found.eligible), hard + len(found.hard)
    assert eligible and hard


def test_pair_matrix_from_step_ones_fit_equals_the_computed_one(world) -> None:
    """The ranker's features of eligible pairs with step 1's fit fields passed in: the same bytes."""
    clients, vacancies = world
    rng, now, compared = np.random.default_rng(6), datetime(2026, 12, 1, tzinfo=UTC), 0
    for v_row in np.flatnonzero(vacancies.open)[::10].tolist():
        everyone = np.ones(len(clients.ids), bool)
        found = hard_filters.candidate_listing(clients, vacancies, v_row, CandidateFilters(), everyone)
        at = np.sort(rng.permutation(len(found.eligible))[:40])
        rows, v_rows = found.eligible[at], np.full(len(at), v_row)
        dense, lexical = rng.random(len(at)).astype(np.float32), rng.random(len(at)).astype(np.float32)
        fit = {name: values[at] for name, values in found.fit.items()}
        given = pair_matrix(clients, rows, vacancies, v_rows, dense, lexical, now, fit)
        assert given.tobytes() == pair_matrix(clients, rows, vacancies, v_rows, dense, lexical, now).tobytes()
        compared += int(np.count_nonzero(fit["required_matched"]))
    for c_row in range(0, len(clients.ids), 45):
        found = hard_filters.vacancy_listing(clients, c_row, vacancies)
        rows, c_rows = found.eligible, np.full(len(found.eligible), c_row)
        dense = lexical = np.zeros(len(rows), np.float32)
        given = pair_matrix(clients, c_rows, vacancies, rows, dense, lexical, now, found.fit)
        assert given.tobytes() == pair_matrix(clients, c_rows, vacancies, rows, dense, lexical, now).tobytes()
    assert compared  # matched competences are exercised, not only zeros
