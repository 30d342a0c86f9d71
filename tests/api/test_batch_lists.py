"""``GET /api/v1/vacatures/{nummer}/kandidaten-vannacht``: last night's list, cut for the role exactly as the live one;
``GET /api/v1/klanten/{nummer}/vacatures-vannacht``: a client's vacancies of last night, for the own consulent only.

One world (as in test_disclosure): consulent1 owns wc-a (three clients), consulent2 owns wc-b (two
clients, one of whom cannot lift at all), two identical vacancies of which one demands lifting, and
a closed one. The batch runs once per database on a local Ray; the app's exposure re-ranking is off
(``exposureSterkte`` 0), so the live list a role sees is the ranker's list the batch stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from api.routes.vannacht import NachtKandidaten, NachtVacatures
from api.services.audit import AuditEntry
from api.services.batch_lists import ACTION, VACANCIES_ACTION
from matching.batch_lists import NachtKandidaat, latest_finished
from matching.settings import RankerSettings
from tests.factories import SAME_VACANCY, app_settings, disclosure_world, logins, make_vacancy, running_app
from training.batch_embed import RaySizing
from training.batch_match import match_bestand

KEYS = {"rang", "klantId", "score", "rangschikkingsscore", "trede", "route"}


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory, embedder, module_database: str) -> Iterator[TestClient]:
    def records(session: Session) -> None:
        disclosure_world(session)
        make_vacancy(session, vacature_nummer="V-DICHT", status="gesloten", **SAME_VACANCY)

    ranker = RankerSettings(poll_seconds=0, exposure_strength=0.0)
    settings = app_settings(tmp_path_factory.mktemp("vannacht") / "var", database_url=module_database, ranker=ranker)
    with running_app(settings, embedder, records) as client:
        matcher = client.app.state.matcher  # type: ignore[attr-defined]
        sizing = RaySizing(num_cpus=2, object_store_mb=200)
        match_bestand(settings, matcher.engine, workers=1, sizing=sizing, embedder=embedder)
        yield client


@pytest.fixture(scope="module")
def tokens(http: TestClient) -> dict[str, dict[str, str]]:
    return logins(http, "consulent1", "consulent2", "accountmanager", "beheerder")


def nightly(http: TestClient, headers: dict[str, str], vacancy: str) -> dict:
    response = http.get(f"/api/v1/vacatures/{vacancy}/kandidaten-vannacht", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def live(http: TestClient, headers: dict[str, str], vacancy: str) -> list[tuple]:
    response = http.post("/api/v1/matches/kandidaten", json={"vacatureId": vacancy, "top": 50}, headers=headers)
    assert response.status_code == 200, response.text
    return [shown(item) for item in response.json()["resultaten"]]


def shown(item: dict) -> tuple:
    """What both lists show of a candidate; the ranking score at the outsiders' precision (the nightly list is
    ranked as for a viewer without a caseload, so it keeps that precision for the own clients too)."""
    return item["klantId"], item["score"], round(item["rangschikkingsscore"], 2), item.get("eigenKlant")


@pytest.mark.parametrize("user", ["accountmanager", "consulent1", "consulent2"])
@pytest.mark.parametrize("vacancy", ["V-GEEN", "V-TIL"])
def test_each_role_sees_last_nights_list_as_it_sees_the_live_one(http, tokens, user, vacancy) -> None:
    listing = nightly(http, tokens[user], vacancy)
    NachtKandidaten.model_validate(listing)
    assert [item["rang"] for item in listing["resultaten"]] == list(range(1, len(listing["resultaten"]) + 1))
    assert [shown(item) for item in listing["resultaten"]] == live(http, tokens[user], vacancy)
    for item in listing["resultaten"]:  # rank, client and scores: nothing of beperkingen, kansen or distances
        assert set(item) == KEYS | ({"eigenKlant"} if user != "accountmanager" else set())
    numbers = {item["klantId"] for item in listing["resultaten"]}
    if user == "accountmanager":
        assert all(number.startswith("P-") for number in numbers)
    elif user == "consulent2":  # a hard beperking conflict keeps the own client off, as it does live
        assert ("K-TIL" in numbers) == (vacancy == "V-GEEN")
    else:  # consulent1: another consulent's client's beperkingen shape nothing
        assert "K-TIL" in numbers


def test_the_list_says_how_old_it_is_and_which_ranker_made_it(http, tokens) -> None:
    listing = nightly(http, tokens["consulent1"], "V-GEEN")
    made = datetime.fromisoformat(listing["berekendOp"])
    assert made.tzinfo is not None and 0 <= listing["leeftijdUren"] < 1
    assert listing["gerangschiktDoor"]["naam"]
    assert listing["vacatureId"] == "V-GEEN" and listing["titel"] == "Orderpicker"


def test_each_look_is_audited_with_the_clients_shown(http, tokens) -> None:
    nightly(http, tokens["accountmanager"], "V-TIL")
    listing = nightly(http, tokens["consulent1"], "V-TIL")  # every klantnummer of the list, none hidden
    with Session(http.app.state.matcher.engine) as session:  # type: ignore[attr-defined]
        entries = session.exec(select(AuditEntry).where(AuditEntry.action == ACTION).order_by(AuditEntry.seq)).all()
    assert [entry.actor for entry in entries[-2:]] == ["accountmanager", "consulent1"]
    assert entries[-2].subjects == entries[-1].subjects  # the log names the clients behind the pseudonyms
    assert entries[-1].subjects == ["V-TIL", *(item["klantId"] for item in listing["resultaten"])]


@pytest.mark.parametrize(("vacancy", "words"), [("V-ONBEKEND", "bestaat niet"), ("V-DICHT", "geen lijst van vannacht")])
def test_no_list_is_a_dutch_problem_404(http, tokens, vacancy, words) -> None:
    response = http.get(f"/api/v1/vacatures/{vacancy}/kandidaten-vannacht", headers=tokens["consulent1"])
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert words in response.json()["detail"]


def test_only_the_roles_of_the_live_list_may_see_it(http, tokens) -> None:
    response = http.get("/api/v1/vacatures/V-GEEN/kandidaten-vannacht", headers=tokens["beheerder"])
    assert response.status_code == 403
    assert http.get("/api/v1/vacatures/V-GEEN/kandidaten-vannacht").status_code == 401


@pytest.mark.parametrize(("vacancy", "shown"), [("V-GEEN", True), ("V-DICHT", False)])
def test_the_web_candidate_page_shows_last_nights_list_with_its_age(http, vacancy, shown) -> None:
    browser = TestClient(http.app, follow_redirects=False)
    form = {"gebruikersnaam": "consulent2", "wachtwoord": "consulent2-demo-wachtwoord"}
    assert browser.post("/inloggen", data=form).status_code == 303
    page = browser.get(f"/vacatures/{vacancy}")
    assert page.status_code == 200, page.text[:300]
    assert ("Lijst van vannacht (minder dan een uur oud)" in page.text) == shown
    if shown:
        assert "K-TIL" in page.text.split('id="vannacht"')[1].split("</details>")[0]


@pytest.mark.parametrize(("user", "client"), [("consulent1", "K-A1"), ("consulent2", "K-TIL")])
def test_a_clients_vacancies_of_last_night_are_the_live_options_audited(http, tokens, user, client) -> None:
    response = http.get(f"/api/v1/klanten/{client}/vacatures-vannacht", headers=tokens[user])
    assert response.status_code == 200, response.text
    listing = response.json()
    NachtVacatures.model_validate(listing)
    assert listing["klantId"] == client and 0 <= listing["leeftijdUren"] < 1
    found = [(item["vacatureId"], item["score"], item["rangschikkingsscore"]) for item in listing["resultaten"]]
    options = http.post("/api/v1/matches/vacatures", json={"klantId": client, "top": 20}, headers=tokens[user])
    assert options.status_code == 200, options.text
    assert found == [
        (item["vacatureId"], item["score"], item["rangschikkingsscore"]) for item in options.json()["resultaten"]
    ]
    assert ("V-TIL" in {number for number, _, _ in found}) == (client != "K-TIL")  # her beperking shapes her list
    with Session(http.app.state.matcher.engine) as session:  # type: ignore[attr-defined]
        query = select(AuditEntry).where(AuditEntry.action == VACANCIES_ACTION).order_by(AuditEntry.seq)
        entry = session.exec(query).all()[-1]
    assert (entry.actor, entry.subjects) == (user, [client])


@pytest.mark.parametrize(
    ("user", "client", "status"),
    [("consulent2", "K-A1", 404), ("consulent1", "K-ONBEKEND", 404), ("accountmanager", "K-A1", 403)],
)
def test_a_clients_vacancies_of_last_night_only_for_the_own_consulent(http, tokens, user, client, status) -> None:
    response = http.get(f"/api/v1/klanten/{client}/vacatures-vannacht", headers=tokens[user])
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    if status == 404:  # another consulent's client answers as an unknown one: existence does not leak
        assert "bestaat niet" in response.json()["detail"]
    assert http.get(f"/api/v1/klanten/{client}/vacatures-vannacht").status_code == 401


@pytest.mark.slow  # a second Ray batch (14 s in a loaded quick run); test_batch_lists_emptying has the slots
def test_the_next_night_is_served_from_its_own_slot_and_empties_the_one_before(http, tokens) -> None:
    """A second night writes beside the first (the other pair of list tables) and replaces it when it finishes."""
    before = nightly(http, tokens["consulent1"], "V-GEEN")
    matcher = http.app.state.matcher  # type: ignore[attr-defined]
    sizing = RaySizing(num_cpus=2, object_store_mb=200)
    match_bestand(matcher.settings, matcher.engine, workers=1, sizing=sizing, embedder=matcher.embedder)
    with Session(matcher.engine) as session:
        served = latest_finished(session)
        assert served is not None and served.slot == "b"
        assert session.exec(select(func.count()).select_from(NachtKandidaat)).one() == 0  # slot a, emptied
    after = nightly(http, tokens["consulent1"], "V-GEEN")
    assert after["berekendOp"] > before["berekendOp"]
    assert after["resultaten"] == before["resultaten"]
    options = http.get("/api/v1/klanten/K-A1/vacatures-vannacht", headers=tokens["consulent1"])
    assert options.status_code == 200 and options.json()["resultaten"]
