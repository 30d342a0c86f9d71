"""The nightly batch's reorganised step 1 and BM25 (:mod:`matching.batch_steps`) answer bit for bit what the
parts they replace answer: :func:`matching.hard_filters.candidate_eligible` and
:func:`~matching.hard_filters.vacancy_eligible` (themselves held to the live step 1 in
``test_batch_rank_parts.py``), and :meth:`matching.lexical.LexicalIndex.scores_by_term` with its best; owners of
one nightly partition at one place share step 1's place part (:class:`matching.batch_steps.PlaceReach`) and
their lists stay bit for bit the live search's.

Real parts, small: 120 generated clients and 40 vacancies (seed 23) in the ten gemeenten of the region, so
places are shared and reaches overlap; SQLite, and PostgreSQL in the whole suite.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from sqlmodel import Session, select

from api.services import schema
from matching import batch_steps, hard_filters, scoring
from matching.batch_rank import NightlyRanking, RankedList
from matching.disclosure import EVERYONE, OUTSIDER
from matching.domain import Client, Vacancy
from matching.embedding import Embedder
from matching.lexical import Bm25Buffer
from matching.matcher import Matcher
from matching.store import make_engine
from tests.factories import app_settings
from training.synthetic import write_streaming

# Every test reads one world of 160 records embedded per module (36 s set-up in a loaded quick run): the whole
# suite runs it; step 1 within reach and BM25 term by term stay quick in test_batch_rank_parts.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def matcher(tmp_path_factory: pytest.TempPathFactory, module_database: str, embedder: Embedder) -> Iterator[Matcher]:
    settings = app_settings(tmp_path_factory.mktemp("batch-steps") / "var", database_url=module_database)
    settings.data_dir.mkdir(parents=True)
    engine = make_engine(settings.resolved_database_url)
    schema.create_all(engine)
    write_streaming(engine, 120, 40, seed=23, progress=False)
    found = Matcher(settings, embedder)
    found.sync()
    found.index.catch_up()
    yield found
    found.close()
    engine.dispose()


def _same(found: hard_filters.Eligible, live: hard_filters.Eligible) -> None:
    assert found.eligible.dtype == live.eligible.dtype and np.array_equal(found.eligible, live.eligible)
    for mine, theirs in ((found.fit, live.fit), (found.structured, live.structured)):
        assert list(mine) == list(theirs)
        for name, values in mine.items():
            assert values.dtype == theirs[name].dtype and np.array_equal(values, theirs[name]), name


def test_step_one_kept_before_sorting_is_the_batchs_step_one(matcher: Matcher) -> None:
    clients, vacancies = matcher.index.arrays()
    eligible, empty = 0, 0
    for v_row in range(len(vacancies.ids)):
        found = batch_steps.candidate_eligible(clients, vacancies, v_row)
        _same(found, hard_filters.candidate_eligible(clients, vacancies, v_row))
        eligible, empty = eligible + len(found.eligible), empty + (not len(found.eligible))
    for c_row in range(len(clients.ids)):
        found = batch_steps.vacancy_eligible(clients, c_row, vacancies)
        _same(found, hard_filters.vacancy_eligible(clients, c_row, vacancies))
        eligible, empty = eligible + len(found.eligible), empty + (not len(found.eligible))
    assert eligible > 1000 and empty < len(vacancies.ids) + len(clients.ids)


def test_bm25_in_one_buffer_is_bit_for_bit_the_batchs_bm25_and_its_best(matcher: Matcher) -> None:
    clients, vacancies = matcher.index.arrays()
    checked = 0
    for asking, searched, ids in (("vacancies", "clients", clients.ids), ("clients", "vacancies", vacancies.ids)):
        lexical = matcher.index.sides[searched].lexical  # type: ignore[index]
        owners = (vacancies if asking == "vacancies" else clients).ids.tolist()
        queries = [*matcher.index.sides[asking].lexical.terms_of(owners)]  # type: ignore[index]
        queries += lexical.asked(["", "heftruck schoonmaak heftruck", "qqzz"])
        wider = np.concatenate([ids, [int(ids.max()) + 1]])  # an id not indexed: the index's own way
        for every in (ids, wider):
            buffer = Bm25Buffer(lexical, every)
            assert (buffer._scores is not None) == (every is ids)
            rng = np.random.default_rng(5)
            for terms in queries:
                rows = np.sort(rng.choice(len(every), size=len(every) // 3, replace=False))
                live = lexical.scores_by_term(terms, every)
                found, best = buffer.scores(terms, rows)
                assert found.dtype == live.dtype and np.array_equal(found, live[rows])
                assert best == (float(live.max()) if len(live) else 0.0)
                checked += int(np.count_nonzero(found))
    assert checked > 1000


def test_owners_at_one_place_share_its_reach_and_step_one_stays_the_same(matcher: Matcher) -> None:
    clients, vacancies = matcher.index.arrays()
    places = batch_steps.PlaceReach()  # one partition's: every vacancy of the world, then every client
    for v_row in np.argsort(vacancies.lat, kind="stable"):
        _same(
            batch_steps.candidate_eligible(clients, vacancies, int(v_row), places),
            hard_filters.candidate_eligible(clients, vacancies, int(v_row)),
        )
    shared = len(places)
    assert shared < len(np.unique(vacancies.lat + 1j * vacancies.lon)) + 1 < len(vacancies.ids)
    for c_row in np.argsort(clients.lat, kind="stable"):
        _same(
            batch_steps.vacancy_eligible(clients, int(c_row), vacancies, places),
            hard_filters.vacancy_eligible(clients, int(c_row), vacancies),
        )
    # a client's reach is shared by the clients at its place with its travel limit (the distances by all at it)
    limits = set(zip(clients.lat.tolist(), clients.lon.tolist(), clients.max_km.tolist(), strict=True))
    assert len(places) == shared + len(limits)
    assert len(set(zip(clients.lat.tolist(), clients.lon.tolist(), strict=True))) < len(clients.ids)
    first = places.candidates(clients, vacancies, 0)
    assert places.candidates(clients, vacancies, 0) is first  # computed once, then read
    # the fit features' rows: selected once per vacancy place's reach, and per client place once per widest limit
    # so far (clients one at a time here: a wider limit asked later at a place finds its vacancies again)
    assert len(places._selected) == len(places._clients_at) == shared
    at = set(zip(clients.lat.tolist(), clients.lon.tolist(), strict=True))
    assert len(places._wide) == len(at) <= len(places._vacancies_at) <= len(limits)
    (has,) = places.selected(first[0], clients.has_competences)
    assert places.selected(first[0], clients.has_competences)[0] is has


@pytest.mark.parametrize("share", [0.1, 0.5, 1.0])
def test_fit_features_from_rows_selected_once_per_place_are_the_same(matcher: Matcher, share: float) -> None:
    """The competence counts read from a reach's rows selected once (at positions among them) are the live search's:
    the same values and types, when a product runs over every selected row (most of them eligible) and when over the
    eligible ones selected again (fewer than a quarter)."""
    clients, vacancies = matcher.index.arrays()
    places, rng, compared = batch_steps.PlaceReach(), np.random.default_rng(7), 0
    for v_row in range(len(vacancies.ids)):
        rows = places.candidates(clients, vacancies, v_row)[0]
        at = np.sort(rng.choice(len(rows), int(share * len(rows)), replace=False))
        selected = (places.selected(rows, clients.has_competences)[0], at)
        found = scoring.fit_features_for_vacancy(clients, rows[at], vacancies, v_row, selected)
        _same_fit(found, scoring.fit_features_for_vacancy(clients, rows[at], vacancies, v_row))
        compared += int(np.count_nonzero(found["required_matched"]))
    for c_row in range(len(clients.ids)):
        rows = places.vacancies(clients, c_row, vacancies)[0]
        at = np.sort(rng.choice(len(rows), int(share * len(rows)), replace=False))
        selected = (*places.selected(rows, vacancies.required, vacancies.optional), at)
        found = scoring.fit_features_for_client(clients, c_row, vacancies, rows[at], selected)  # type: ignore[arg-type]
        _same_fit(found, scoring.fit_features_for_client(clients, c_row, vacancies, rows[at]))
        compared += int(np.count_nonzero(found["required_matched"]))
    assert compared > 50  # counts that are not all zero


@pytest.mark.parametrize("together", [1, 3, 64])
def test_a_partitions_step_one_computed_per_place_is_each_owners_own(
    matcher: Matcher, together: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every owner of a partition at once (:func:`batch_steps.candidates_eligible`, ``vacancies_eligible``): the
    place's records gathered once and the competence counts of ``together`` owners in one product are each owner's
    step 1, bit for bit."""
    monkeypatch.setattr(batch_steps, "PRODUCT_OWNERS", together)
    clients, vacancies = matcher.index.arrays()
    v_rows = np.argsort(vacancies.lat, kind="stable").tolist()  # owners at one place next to each other
    found = batch_steps.candidates_eligible(clients, vacancies, v_rows, batch_steps.PlaceReach())
    for v_row, step_one in zip(v_rows, found, strict=True):
        _same(step_one, hard_filters.candidate_eligible(clients, vacancies, v_row))
    c_rows = np.argsort(clients.lat, kind="stable").tolist()
    found = batch_steps.vacancies_eligible(clients, c_rows, vacancies, batch_steps.PlaceReach())
    for c_row, step_one in zip(c_rows, found, strict=True):
        _same(step_one, hard_filters.vacancy_eligible(clients, c_row, vacancies))
    assert sum(len(step_one.eligible) for step_one in found) > 500
    # the partition in the other order (the widest limit of a place found at its first client): the same
    unplanned = batch_steps.PlaceReach()
    for c_row, step_one in zip(
        c_rows[::-1], batch_steps.vacancies_eligible(clients, c_rows[::-1], vacancies, unplanned), strict=True
    ):
        _same(step_one, hard_filters.vacancy_eligible(clients, c_row, vacancies))


def _same_fit(found: dict[str, np.ndarray], live: dict[str, np.ndarray]) -> None:
    assert list(found) == list(live)
    for name, values in found.items():
        assert values.dtype == live[name].dtype and np.array_equal(values, live[name]), name


def test_a_places_vacancies_found_once_at_its_widest_limit_are_each_clients_own(matcher: Matcher) -> None:
    clients, vacancies = matcher.index.arrays()
    places = batch_steps.PlaceReach()
    order = np.argsort(clients.lat, kind="stable").tolist()
    places.plan_limits(clients, order)  # the partition's clients, as vacancy_lists plans them
    for c_row in order:
        _same(
            batch_steps.vacancy_eligible(clients, c_row, vacancies, places),
            hard_filters.vacancy_eligible(clients, c_row, vacancies),
        )
    at = set(zip(clients.lat.tolist(), clients.lon.tolist(), strict=True))
    limits = set(zip(clients.lat.tolist(), clients.lon.tolist(), clients.max_km.tolist(), strict=True))
    assert len(places._wide) == len(at) < len(limits)  # one search per place, fewer than its limits
    # a place whose clients were not planned finds its vacancies again when a wider limit is asked there
    unplanned = batch_steps.PlaceReach()
    for c_row in sorted(order, key=lambda row: clients.max_km[row]):
        _same(
            batch_steps.vacancy_eligible(clients, c_row, vacancies, unplanned),
            hard_filters.vacancy_eligible(clients, c_row, vacancies),
        )


def _listed(item: RankedList, numbers: dict[int, str]) -> list[tuple[str, float, int]]:
    return [(numbers[i], s, shown) for i, s, shown in zip(item.ids, item.ranking_scores, item.scores, strict=True)]


def test_a_partition_of_owners_at_one_place_lists_what_the_live_search_lists(matcher: Matcher) -> None:
    with Session(matcher.engine) as session:
        every = list(session.exec(select(Vacancy)))
        clients = list(session.exec(select(Client)))
    ranking = NightlyRanking(matcher)
    vacancies = sorted((v for v in every if v.is_open), key=lambda v: (v.postcode[:4], v.id))  # as a partition
    assert len({v.postcode[:4] for v in vacancies}) < len(vacancies)
    numbers = {c.id: c.client_nummer for c in clients}
    checked = 0
    for vacancy, item in zip(vacancies, ranking.candidate_lists([v.id for v in vacancies], 50), strict=True):  # type: ignore[misc]
        live = matcher.search_candidates(vacancy.vacature_nummer, 50, viewer=OUTSIDER)
        assert item.owner == vacancy.id
        assert _listed(item, numbers) == [(r.client_id, r.ranking_score, r.score) for r in live.results]
        checked += len(item.ids)
    clients.sort(key=lambda c: (c.postcode[:4], c.id))
    titles = {v.id: v.vacature_nummer for v in every}
    for client, item in zip(clients, ranking.vacancy_lists([c.id for c in clients], 20), strict=True):  # type: ignore[misc]
        live = matcher.search_vacancies(client.client_nummer, 20, viewer=EVERYONE)
        assert item.owner == client.id
        assert _listed(item, titles) == [(r.vacancy_id, r.ranking_score, r.score) for r in live.results]
        checked += len(item.ids)
    assert checked > 500
