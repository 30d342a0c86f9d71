"""Own clients first (issue 18, item 1): ``alleenEigenKlanten`` filters before the top is cut.

One world on SQLite and on PostgreSQL: twelve strong candidates of four other consulenten (three each)
for an orderpicker vacancy, and four of consulent1's (wc-a, the largest caseload, so the demo account's)
who fit the hard filters but rank below all twelve. Without the filter a top 5 holds none of them; with
it all four are listed, which a post-filter on a top 5 could never do.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.services.users import User
from api.web import shortlist
from matching import hard_filters
from matching.disclosure import EVERYONE, Viewer
from matching.domain import Vacancy
from matching.hard_filters import CandidateFilters
from tests.factories import app_settings, assert_problem, logins, make_client, make_vacancy, running_app

OWN = ("K-EIGEN1", "K-EIGEN2", "K-EIGEN3", "K-EIGEN4")
OTHERS = ("wc-b", "wc-c", "wc-d", "wc-e")
WEAK = {
    "competenties": [{"code": "samenwerken"}],
    "werkervaring": [],
    "wensen": {"max_reisafstand_km": 15},
    "zelfbeschrijving": "Ik zoek iets met mensen.",
}


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory, embedder, module_database: str) -> Iterator[TestClient]:
    def records(session: Session) -> None:
        for index in range(12):
            make_client(session, client_nummer=f"K-STERK{index:02d}", consulent=OTHERS[index % 4])
        for number in OWN:
            make_client(session, client_nummer=number, consulent="wc-a", **WEAK)
        make_vacancy(session, vacature_nummer="V-ORDER")

    settings = app_settings(tmp_path_factory.mktemp("own") / "var", database_url=module_database)
    with running_app(settings, embedder, records) as client:
        yield client


@pytest.fixture(scope="module")
def tokens(http: TestClient) -> dict[str, dict[str, str]]:
    return logins(http, "consulent1", "consulent2", "accountmanager")


def search(http: TestClient, headers: dict[str, str], **body: object) -> dict:
    response = http.post("/api/v1/matches/kandidaten", json={"vacatureId": "V-ORDER", **body}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def ids(listing: dict) -> list[str]:
    return [item["klantId"] for item in listing["resultaten"]]


def test_own_clients_below_the_national_top_are_listed_first(http, tokens) -> None:
    everyone = search(http, tokens["consulent1"], top=500)
    ranks = {number: rank for rank, number in enumerate(ids(everyone), start=1)}
    assert all(ranks[number] > 5 for number in OWN)  # nationally neither is in a top 5
    assert not set(OWN) & set(ids(search(http, tokens["consulent1"], top=5)))
    own = search(http, tokens["consulent1"], top=5, alleenEigenKlanten=True)
    assert sorted(ids(own)) == sorted(OWN)
    assert all(item["eigenKlant"] for item in own["resultaten"])
    assert [item["rang"] for item in own["resultaten"]] == [1, 2, 3, 4]
    assert own["aantalGeschikt"] == 4  # counted after the filter, before the cut


def test_the_filter_keeps_exactly_the_own_clients_of_the_whole_list(http, tokens) -> None:
    everyone = search(http, tokens["consulent2"], top=500)
    expected = {item["klantId"] for item in everyone["resultaten"] if item["eigenKlant"]}
    own = search(http, tokens["consulent2"], top=500, alleenEigenKlanten=True)
    assert len(expected) == 3 and set(ids(own)) == expected  # that caseload's three, nobody else's
    assert not set(OWN) & set(ids(own))


def test_niet_getoond_names_the_filter_and_an_explicit_false_changes_nothing(http, tokens) -> None:
    own = search(http, tokens["consulent1"], top=5, alleenEigenKlanten=True)
    sentences = " ".join(own["nietGetoond"]["toelichting"])
    assert "alleen eigen klanten 12 klanten" in sentences
    assert own["nietGetoond"]["buitenFilters"] == 12
    off = search(http, tokens["consulent1"], top=16, alleenEigenKlanten=False)
    assert len(off["resultaten"]) == 16


def test_a_role_without_a_caseload_gets_a_dutch_400(http, tokens) -> None:
    response = http.post(
        "/api/v1/matches/kandidaten",
        json={"vacatureId": "V-ORDER", "alleenEigenKlanten": True},
        headers=tokens["accountmanager"],
    )
    body = assert_problem(response, 400)
    assert "alleenEigenKlanten" in body["detail"] and "geen eigen klanten" in body["detail"]
    assert "accountmanager" in body["detail"]


def test_a_value_that_is_not_a_boolean_is_refused_in_dutch(http, tokens) -> None:
    response = http.post(
        "/api/v1/matches/kandidaten",
        json={"vacatureId": "V-ORDER", "alleenEigenKlanten": "misschien"},
        headers=tokens["consulent1"],
    )
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "alleenEigenKlanten" in response.text


def test_the_vacancy_lists_count_is_the_lists_aantal_geschikt(http, tokens) -> None:
    matcher = http.app.state.matcher
    with Session(matcher.engine) as session:
        vacancy = session.exec(select(Vacancy).where(Vacancy.vacature_nummer == "V-ORDER")).one()
        user = session.exec(select(User).where(User.username == "consulent1")).one()
    counts = shortlist.own_counts(matcher, user, [vacancy])
    listing = search(http, tokens["consulent1"], alleenEigenKlanten=True)
    assert counts == {vacancy.id: listing["aantalGeschikt"]} == {vacancy.id: len(OWN)}


def test_step_one_on_some_rows_equals_step_one_on_all_rows_there(http) -> None:
    matcher = http.app.state.matcher
    clients, vacancies = matcher.index.arrays()
    v_row = next(iter(vacancies.position.values()))
    rng = np.random.default_rng(7)
    full_view = rng.random(len(clients.ids)) < 0.5
    rows = np.sort(rng.choice(len(clients.ids), size=7, replace=False))
    for filters in (CandidateFilters(), CandidateFilters(own_only=True, max_km=5.0, min_hours=30)):
        everyone = hard_filters.candidate_eligibility(clients, vacancies, v_row, filters, full_view)
        some = hard_filters.candidate_eligibility(clients, vacancies, v_row, filters, full_view, rows)
        assert (some.mask == everyone.mask[rows]).all() and (some.hard == everyone.hard[rows]).all()
        assert np.allclose(some.features.distance_km, everyone.features.distance_km[rows])


def test_counts_over_every_client_read_from_the_reach_equal_the_plain_pass(http) -> None:
    """``Matcher.count_candidates`` without a caseload filter (read from the reach) and without the prefilter
    (the plain pass over every client) count the same, for everyone and for a caseload's viewer."""
    matcher = http.app.state.matcher
    clients, vacancies = matcher.index.arrays()
    opened = vacancies.ids[vacancies.open].tolist()
    for viewer in (EVERYONE, Viewer(caseload="wc-a")):
        for filters in (
            CandidateFilters(),
            CandidateFilters(max_km=8.0, min_hours=20),
            CandidateFilters(whole_bestand=True),
        ):
            found = {}
            for prefilter in (True, False):
                matcher.prefilter = prefilter
                found[prefilter] = matcher.count_candidates(opened, filters, viewer)
            matcher.prefilter = True
            assert found[True] == found[False] and len(found[True]) == len(opened)
    assert any(matcher.count_candidates(opened, CandidateFilters(), EVERYONE).values())
