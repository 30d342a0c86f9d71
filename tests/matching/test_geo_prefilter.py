"""The geographic prefilter's parts (buckets, full conflicts, fit features of one record) and whole lists with
and without it (``Matcher.prefilter``); step 1 read from the reach is held to the plain pass over every record
in ``tests/matching/test_listing.py``. The
seeded world is the synthetic region, once as generated (every client near every vacancy) and once
spread over the whole country (most clients far out of reach, as at national scale), so both the
buckets taken and the buckets skipped are exercised.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from sqlmodel import Session, select

from matching import compatibility, geo, scoring
from matching.compatibility import Status
from matching.disclosure import EVERYONE, Viewer
from matching.domain import Client
from matching.hard_filters import CandidateFilters
from matching.matcher import Matcher
from matching.settings import Settings
from matching.structured import ClientArrays, VacancyArrays
from training.synthetic import generate, write_to_db

FILTERS = [
    CandidateFilters(),
    CandidateFilters(whole_bestand=True),
    CandidateFilters(max_km=12.0, trede=frozenset({3, 4, 5})),
    CandidateFilters(min_hours=20.0, route=frozenset({"werk"}), plaatsingsvorm=frozenset({"regulier"})),
]


@pytest.fixture(scope="module")
def regional(tmp_path_factory: pytest.TempPathFactory) -> tuple[ClientArrays, VacancyArrays]:
    """1,500 synthetic clients and 500 vacancies of the region, as arrays (no model needed)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("prefilter"))
    matcher = Matcher(settings, may_write=False)
    write_to_db(matcher.engine, generate(1500, 500, seed=23), progress=False)
    return matcher.index.arrays()


def spread(arrays, rng: np.random.Generator):
    """The same records, each moved to a random Dutch PC4 (the national case)."""
    table = geo.load_pc4()
    picked = table.coords[rng.integers(0, len(table.codes), len(arrays.ids))]
    return dataclasses.replace(arrays, lat=picked[:, 0].copy(), lon=picked[:, 1].copy())


@pytest.fixture(scope="module", params=["regional", "national"])
def world(request: pytest.FixtureRequest, regional) -> tuple[ClientArrays, VacancyArrays]:
    clients, vacancies = regional
    if request.param == "regional":
        return clients, vacancies
    rng = np.random.default_rng(5)
    return spread(clients, rng), spread(vacancies, rng)


def test_buckets_hold_every_row_once_and_find_what_a_scan_finds() -> None:
    rng = np.random.default_rng(3)
    table = geo.load_pc4()
    coords = table.coords[rng.integers(0, 60, 2000)]
    reach = rng.uniform(0, 30, 2000)
    buckets = geo.Buckets.build(coords[:, 0], coords[:, 1], reach)
    assert sorted(buckets.members.tolist()) == list(range(2000))
    for lat, lon in table.coords[rng.integers(0, 60, 25)]:
        distance = geo.haversine_km(coords[:, 0], coords[:, 1], lat, lon)
        np.testing.assert_array_equal(buckets.distances(lat, lon), distance)
        within = buckets.rows_within(lat, lon)
        assert set(np.flatnonzero(distance <= reach)) <= set(within.tolist())
        assert np.all(np.diff(within) > 0)
        np.testing.assert_array_equal(buckets.rows_within(lat, lon, km=10.0), np.flatnonzero(distance <= 10.0))


def test_full_conflict_rows_are_exactly_the_hard_statuses(regional) -> None:
    """``full_ernst`` × ``full_unclosed`` (read per search instead of comparing every record) marks the
    pairs that :func:`compatibility.statuses` calls hard, on random levels and remedies."""
    clients, vacancies = regional
    rng = np.random.default_rng(8)
    ernst = rng.integers(0, 4, clients.beperking_ernst.shape).astype(np.int8)
    belasting = rng.integers(0, 4, vacancies.belasting.shape).astype(np.int8)
    remedies = {name: rng.random(len(vacancies.ids)) < 0.3 for name in ("jobcarving", "jobcoach", "guided")}
    c = dataclasses.replace(clients, beperking_ernst=ernst)
    v = dataclasses.replace(vacancies, belasting=belasting, **remedies)
    closed = compatibility.accommodated(v.jobcarving, v.jobcoach, v.guided)
    hard = 0
    for v_row in range(0, len(v.ids), 25):
        expected = compatibility.statuses(ernst, belasting[v_row], closed[v_row]) == Status.HARD
        found = np.logical_or.reduce(c.full_ernst[np.flatnonzero(v.full_unclosed[:, v_row])], axis=0)
        np.testing.assert_array_equal(found, expected)
        hard += int(expected.sum())
    assert hard > 0


def test_fit_features_of_one_vacancy_or_client_equal_the_pairwise_ones(regional) -> None:
    """The matrix-vector fit features of a search are :func:`scoring.fit_features`, value and type."""
    clients, vacancies = regional
    rng = np.random.default_rng(4)
    matched = 0
    for v_row in range(0, len(vacancies.ids), 50):
        rows = np.sort(rng.choice(len(clients.ids), 200, replace=False))
        for c_rows in (rows, np.arange(len(clients.ids))):  # few rows, and past a quarter of them
            found = scoring.fit_features_for_vacancy(clients, c_rows, vacancies, v_row)
            expected = scoring.fit_features(clients, c_rows, vacancies, np.full(len(c_rows), v_row))
            matched += _assert_same_fit(found, expected)
    for c_row in range(0, len(clients.ids), 150):
        for v_rows in (np.sort(rng.choice(len(vacancies.ids), 60, replace=False)), np.arange(len(vacancies.ids))):
            found = scoring.fit_features_for_client(clients, c_row, vacancies, v_rows)
            expected = scoring.fit_features(clients, np.full(len(v_rows), c_row), vacancies, v_rows)
            matched += _assert_same_fit(found, expected)
    assert matched > 0  # the fields are exercised, not only their zeros


def _assert_same_fit(found: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> int:
    """Asserts ``found`` equals ``expected``; answers how many pairs matched a competence or had experience."""
    assert found.keys() == expected.keys()
    for name, values in expected.items():
        assert found[name].dtype == values.dtype, name
        np.testing.assert_array_equal(found[name], values, err_msg=name)
    return int(expected["required_matched"].astype(bool).sum() + expected["experience_years"].astype(bool).sum())


@pytest.mark.slow  # embeds 210 records and runs 320 searches twice: the array tests above cover the quick subset
def test_lists_are_identical_with_and_without_the_prefilter(settings, embedder) -> None:
    """Through the façade (real SQLite, model, FAISS, BM25, the shipped ranker): every list equal."""
    matcher = Matcher(settings, embedder=embedder)
    write_to_db(matcher.engine, generate(160, 50, seed=31), progress=False)
    matcher.sync()
    clients, vacancies = matcher.index.arrays()
    caseload = Viewer(caseload=_consulenten(matcher)[0])
    compared = 0
    for vacancy_id in vacancies.ids[vacancies.open][:20].tolist():
        for filters in FILTERS:
            for viewer in (EVERYONE, caseload):
                found = {}
                for prefilter in (False, True):
                    matcher.prefilter = prefilter
                    found[prefilter] = matcher.search_candidates(vacancy_id, 20, filters=filters, viewer=viewer)
                assert found[True] == found[False]
                compared += len(found[True].results)
    for client_id in clients.ids[::2].tolist():
        listed = {}
        for prefilter in (False, True):
            matcher.prefilter = prefilter
            listed[prefilter] = matcher.search_vacancies(client_id, 20)
        assert listed[True] == listed[False]
    assert compared > 0


def _consulenten(matcher: Matcher) -> list[str]:
    with Session(matcher.engine) as session:
        return sorted({row for row in session.exec(select(Client.consulent)) if row})
