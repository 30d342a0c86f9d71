"""The workflow through HTTP: push → inbox → voorstel → plaatsing → nazorg; declines as labels; saved searches.

One app per module on a real SQLite file with the real embedding model. Every test works on its own
vacancies, so the tests do not depend on each other's order.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.services import inbox, voorstellen
from api.services.tokens import pseudonym
from api.services.werkproces import Actor
from matching.domain import Client, Vacancy
from matching.errors import ConflictError
from matching.outcomes import Voorstel
from matching.timeutil import add_months
from tests.factories import (
    app_settings,
    assert_problem,
    audit_entries,
    inbox_items,
    item_for,
    make_client,
    make_vacancy,
    push,
    running_app,
)
from training.dataset import build_dataset

OWN = ("K-W1", "K-W2", "K-W3")  # wc-a: the most clients, so the caseload of consulent1
OTHER = ("K-B1", "K-B2")  # wc-b: consulent2


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory, embedder, module_database: str) -> Iterator[TestClient]:
    def records(session: Session) -> None:
        for number in OWN:
            make_client(session, client_nummer=number, consulent="wc-a")
        for number in OTHER:
            make_client(session, client_nummer=number, consulent="wc-b")
        for number in ("V-E2E", "V-DECL", "V-DUBBEL", "V-ROLLEN", "V-FOUT", "V-ZOEK1", "V-ZOEK2", "V-RACE", "V-DICHT"):
            make_vacancy(session, vacature_nummer=number)

    settings = app_settings(tmp_path_factory.mktemp("workflow") / "var", database_url=module_database)
    with running_app(settings, embedder, records) as client:
        yield client


def test_push_accept_place_and_nazorg_end_to_end(http, tokens) -> None:
    settings = http.app.state.settings
    pushed = push(http, tokens, "V-E2E")
    # the accountmanager learns counts and the candidate list's pseudonyms, never who
    assert pushed["aangemaakt"] == 5 and pushed["overgeslagen"] == 0 and pushed["consulenten"] == 2
    assert "K-" not in str(pushed)
    expected = {pseudonym(settings, "V-E2E", number) for number in OWN + OTHER}
    assert {k["referentie"] for k in pushed["kandidaten"]} == expected
    assert pushed["gerangschiktDoor"]["naam"]

    mine = [i for i in inbox_items(http, tokens["consulent1"]) if i["vacatureId"] == "V-E2E"]
    theirs = [i for i in inbox_items(http, tokens["consulent2"]) if i["vacatureId"] == "V-E2E"]
    assert sorted(i["klantId"] for i in mine) == sorted(OWN)
    assert sorted(i["klantId"] for i in theirs) == sorted(OTHER)
    assert all(i["soort"] == "push" and i["status"] == "open" and i["van"] == "accountmanager" for i in mine)
    assert all(i["redenen"] and i["toelichting"] == "Werkgever zoekt snel mensen" for i in mine)

    item = mine[0]
    accepted = http.post(f"/api/v1/inbox/{item['id']}/accepteren", json={}, headers=tokens["consulent1"])
    assert accepted.status_code == 201, accepted.text
    voorstel = accepted.json()["voorstel"]
    assert accepted.json()["item"]["status"] == "afgehandeld"
    assert accepted.json()["item"]["uitkomst"] == "geaccepteerd"
    assert accepted.json()["item"]["voorstelId"] == voorstel["id"]
    assert voorstel["status"] == "voorgesteld" and voorstel["klantId"] == item["klantId"]
    assert voorstel["gedaanDoor"] == "consulent1" and voorstel["rang"] == item["rang"]
    assert item["id"] not in {i["id"] for i in inbox_items(http, tokens["consulent1"])}  # no longer open

    path = f"/api/v1/voorstellen/{voorstel['id']}"
    for step in ("uitgenodigd", "aangenomen", "geplaatst"):
        moved = http.post(f"{path}/overgangen", json={"naar": step}, headers=tokens["consulent1"])
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == step

    placed = http.get(path, headers=tokens["consulent1"]).json()
    assert [s["naar"] for s in placed["geschiedenis"]] == ["voorgesteld", "uitgenodigd", "aangenomen", "geplaatst"]
    assert placed["volgendeStappen"] == ["duurzaam", "uitgevallen"]
    placed_on = datetime.fromisoformat(placed["geschiedenis"][-1]["op"]).astimezone(inbox.LOCAL_TIME).date()
    nazorg = placed["nazorg"]
    assert [n["nazorgMaanden"] for n in nazorg] == [1, 3, 6]
    assert [date.fromisoformat(n["vervaldatum"]) for n in nazorg] == [
        add_months(placed_on, months) for months in (1, 3, 6)
    ]
    assert all(n["soort"] == "nazorg" and n["gepland"] and n["klantId"] == item["klantId"] for n in nazorg)

    # the inbox shows planned nazorg with a flag, after what is due now; gepland=false hides it
    listed = inbox_items(http, tokens["consulent1"])
    planned = [i for i in listed if i["soort"] == "nazorg" and i["voorstelId"] == voorstel["id"]]
    assert len(planned) == 3 and all(i["gepland"] for i in planned)
    assert listed.index(planned[0]) > max(listed.index(i) for i in listed if not i["gepland"])
    assert not [i for i in inbox_items(http, tokens["consulent1"], gepland="false") if i["soort"] == "nazorg"]

    # on the day of the first follow-up it is due, and listed before the planned ones
    engine = http.app.state.matcher.engine
    who = Actor("consulent1", "werkconsulent", consulent="wc-a")
    due_day = date.fromisoformat(nazorg[0]["vervaldatum"])
    on_the_day = inbox.list_inbox(engine, who, today=due_day, size=100)["items"]
    ours = [i for i in on_the_day if i["voorstel_id"] == voorstel["id"]]
    assert [(i["nazorg_maanden"], i["gepland"]) for i in ours] == [(1, False), (3, True), (6, True)]
    assert inbox.list_inbox(engine, who, today=due_day, gepland=False, size=100)["totaal"] < len(on_the_day)

    done = http.post(
        f"/api/v1/inbox/{nazorg[0]['id']}/afronden", json={"toelichting": "Gaat goed"}, headers=tokens["consulent1"]
    )
    assert done.status_code == 200 and done.json()["uitkomst"] == "afgerond"

    gepusht = audit_entries(http, tokens, actie="vacature_gepusht", betrokkene="V-E2E")
    assert len(gepusht) == 1 and gepusht[0]["gebruiker"] == "accountmanager"
    assert {*OWN, *OTHER} <= set(gepusht[0]["betrokkenen"])  # the real numbers, for the audit only
    gewijzigd = audit_entries(http, tokens, actie="voorstel_gewijzigd", betrokkene=item["klantId"])
    steps = [e["details"]["naar"] for e in gewijzigd if e["details"]["voorstel"] == voorstel["id"]]
    assert steps == ["geplaatst", "aangenomen", "uitgenodigd"]  # newest first


def test_an_impossible_transition_is_refused_in_dutch_and_writes_nothing(http, tokens) -> None:
    made = http.post(
        "/api/v1/voorstellen", json={"klantId": "K-W2", "vacatureId": "V-FOUT"}, headers=tokens["consulent1"]
    )
    assert made.status_code == 201, made.text
    path = f"/api/v1/voorstellen/{made.json()['id']}"
    audits_before = len(audit_entries(http, tokens, actie="voorstel_gewijzigd"))

    refused = http.post(f"{path}/overgangen", json={"naar": "geplaatst"}, headers=tokens["consulent1"])
    body = assert_problem(refused, 400)
    assert "'geplaatst' kan pas na 'uitgenodigd'" in body["detail"] and "voorgesteld" in body["detail"]
    no_reason = http.post(f"{path}/overgangen", json={"naar": "afgewezen"}, headers=tokens["consulent1"])
    assert "vraagt een reden" in assert_problem(no_reason, 400)["detail"]
    unknown = http.post(f"{path}/overgangen", json={"naar": "gedaan"}, headers=tokens["consulent1"])
    assert assert_problem(unknown, 400)["invalidParams"][0]["name"] == "naar"

    after = http.get(path, headers=tokens["consulent1"]).json()
    assert after["status"] == "voorgesteld" and len(after["geschiedenis"]) == 1 and after["nazorg"] == []
    assert len(audit_entries(http, tokens, actie="voorstel_gewijzigd")) == audits_before
    with Session(http.app.state.matcher.engine) as session:
        assert not inbox.nazorg_for(session, made.json()["id"])

    twice = http.post(
        "/api/v1/voorstellen", json={"klantId": "K-W2", "vacatureId": "V-FOUT"}, headers=tokens["consulent1"]
    )
    assert "al voorgesteld" in assert_problem(twice, 400)["detail"]

    found = http.post("/api/v1/voorstellen/zoeken", json={"status": ["voorgesteld"]}, headers=tokens["consulent1"])
    assert found.status_code == 200, found.text
    assert made.json()["id"] in {v["id"] for v in found.json()["voorstellen"]}
    assert all(v["status"] == "voorgesteld" and v["klantId"] in OWN for v in found.json()["voorstellen"])
    paged = http.post("/api/v1/voorstellen/zoeken", json={"paginaGrootte": 1}, headers=tokens["consulent1"]).json()
    assert len(paged["voorstellen"]) == 1 and paged["totaal"] >= 1
    theirs = http.post("/api/v1/voorstellen/zoeken", json={}, headers=tokens["consulent2"]).json()["voorstellen"]
    assert made.json()["id"] not in {v["id"] for v in theirs} and all(v["klantId"] in OTHER for v in theirs)


def test_a_declined_suggestion_becomes_a_training_label(http, tokens) -> None:
    push(http, tokens, "V-DECL")
    item = item_for(http, tokens["consulent2"], "V-DECL")
    health = http.post(
        f"/api/v1/inbox/{item['id']}/afwijzen", json={"reden": "gezondheid"}, headers=tokens["consulent2"]
    )
    assert "geen geldige reden" in assert_problem(health, 400)["detail"]
    anders = http.post(f"/api/v1/inbox/{item['id']}/afwijzen", json={"reden": "anders"}, headers=tokens["consulent2"])
    assert "toelichting" in assert_problem(anders, 400)["detail"]

    declined = http.post(
        f"/api/v1/inbox/{item['id']}/afwijzen",
        json={"reden": "reisafstand", "toelichting": "Geen vervoer naar het bedrijventerrein"},
        headers=tokens["consulent2"],
    )
    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "afgehandeld" and declined.json()["uitkomst"] == "afgewezen"

    with Session(http.app.state.matcher.engine) as session:
        client = session.exec(select(Client).where(Client.client_nummer == item["klantId"])).one()
        vacancy = session.exec(select(Vacancy).where(Vacancy.vacature_nummer == "V-DECL")).one()
        labels = {(label.client_id, label.vacancy_id): label.label for label in voorstellen.declined_labels(session)}
        assert labels[(client.id, vacancy.id)] == 0
        merged = {(label.client_id, label.vacancy_id): label.label for label in voorstellen.training_labels(session)}
        assert merged[(client.id, vacancy.id)] == 0
        # no fake voorstel: the voorstellen table keeps meaning "proposals that were made"
        assert not session.exec(
            select(Voorstel).where(Voorstel.client_id == client.id, Voorstel.vacancy_id == vacancy.id)
        ).all()
    # what `werkmatch train` learns from includes the decline; what promotion compares on does not
    learned = build_dataset(http.app.state.matcher, labels=voorstellen.training_labels)
    pairs = dict(
        zip(
            zip(learned.client_ids.tolist(), learned.vacancy_ids.tolist(), strict=True),
            learned.labels.tolist(),
            strict=True,
        )
    )
    assert pairs[(client.id, vacancy.id)] == 0
    compared = build_dataset(http.app.state.matcher)
    assert (client.id, vacancy.id) not in set(
        zip(compared.client_ids.tolist(), compared.vacancy_ids.tolist(), strict=True)
    )

    again = http.post(
        f"/api/v1/inbox/{item['id']}/afwijzen", json={"reden": "reisafstand"}, headers=tokens["consulent2"]
    )
    assert "al afgehandeld" in assert_problem(again, 409)["detail"]
    accept = http.post(f"/api/v1/inbox/{item['id']}/accepteren", headers=tokens["consulent2"])
    assert_problem(accept, 409)


def test_handling_an_item_twice_is_a_conflict_and_makes_one_voorstel(http, tokens) -> None:
    push(http, tokens, "V-DUBBEL")
    item = item_for(http, tokens["consulent1"], "V-DUBBEL")
    first = http.post(f"/api/v1/inbox/{item['id']}/accepteren", headers=tokens["consulent1"])
    assert first.status_code == 201, first.text
    second = http.post(f"/api/v1/inbox/{item['id']}/accepteren", headers=tokens["consulent1"])
    assert "al afgehandeld (geaccepteerd door consulent1)" in assert_problem(second, 409)["detail"]
    with Session(http.app.state.matcher.engine) as session:
        vacancy = session.exec(select(Vacancy).where(Vacancy.vacature_nummer == "V-DUBBEL")).one()
        assert len(session.exec(select(Voorstel).where(Voorstel.vacancy_id == vacancy.id)).all()) == 1

    # pushing the same vacancy again skips the pairs that are still open or proposed
    again = push(http, tokens, "V-DUBBEL")
    assert again["aangemaakt"] == 0 and again["overgeslagen"] == 5
    assert not any(k["inInbox"] for k in again["kandidaten"])


def test_two_consulents_accepting_at_once_make_one_voorstel(http, tokens) -> None:
    push(http, tokens, "V-RACE")
    item = item_for(http, tokens["consulent1"], "V-RACE")
    engine = http.app.state.matcher.engine
    who = Actor("consulent1", "werkconsulent", consulent="wc-a")
    start, outcomes_seen = threading.Barrier(4), []

    def attempt() -> None:
        start.wait()
        try:
            voorstellen.accept(engine, who, item["id"])
            outcomes_seen.append("ok")
        except ConflictError:
            outcomes_seen.append("conflict")

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes_seen) == ["conflict", "conflict", "conflict", "ok"]
    with Session(engine) as session:
        vacancy = session.exec(select(Vacancy).where(Vacancy.vacature_nummer == "V-RACE")).one()
        assert len(session.exec(select(Voorstel).where(Voorstel.vacancy_id == vacancy.id)).all()) == 1


def test_accepting_for_a_closed_vacancy_is_refused_and_the_item_stays_open(http, tokens) -> None:
    push(http, tokens, "V-DICHT")
    item = item_for(http, tokens["consulent1"], "V-DICHT")
    with Session(http.app.state.matcher.engine) as session:
        make_vacancy(session, vacature_nummer="V-DICHT", status="vervuld")
    refused = http.post(f"/api/v1/inbox/{item['id']}/accepteren", headers=tokens["consulent1"])
    assert "alleen bij een open vacature" in assert_problem(refused, 400)["detail"]
    assert item_for(http, tokens["consulent1"], "V-DICHT")["status"] == "open"
    declined = http.post(
        f"/api/v1/inbox/{item['id']}/afwijzen",
        json={"reden": "vacature_vervuld_door_ander"},
        headers=tokens["consulent1"],
    )
    assert declined.status_code == 200, declined.text


ROLE_CASES = [
    # (method, path, body, user, expected status)
    ("get", "/api/v1/inbox", None, None, 401),
    ("get", "/api/v1/inbox", None, "accountmanager", 403),
    ("get", "/api/v1/inbox", None, "beheerder", 403),
    ("post", "/api/v1/vacatures/V-ROLLEN/push", {"aantal": 1}, None, 401),
    ("post", "/api/v1/vacatures/V-ROLLEN/push", {"aantal": 1}, "consulent1", 403),
    ("post", "/api/v1/vacatures/V-ROLLEN/push", {"aantal": 1}, "datascientist", 403),
    ("post", "/api/v1/vacatures/V-ONBEKEND/push", {"aantal": 1}, "accountmanager", 404),
    ("post", "/api/v1/voorstellen", {"klantId": "K-W1", "vacatureId": "V-ROLLEN"}, "accountmanager", 403),
    ("post", "/api/v1/voorstellen", {"klantId": "K-B1", "vacatureId": "V-ROLLEN"}, "consulent1", 404),
    ("post", "/api/v1/voorstellen/zoeken", {}, "accountmanager", 403),
    ("post", "/api/v1/zoekopdrachten", {"klantId": "K-B1"}, "consulent1", 404),
    ("post", "/api/v1/zoekopdrachten", {"klantId": "K-W1"}, "beheerder", 403),
    ("post", "/api/v1/zoekopdrachten/uitvoeren", None, "consulent1", 403),
    ("post", "/api/v1/zoekopdrachten/uitvoeren", None, None, 401),
    ("get", "/api/v1/zoekopdrachten", None, "accountmanager", 403),
    ("delete", "/api/v1/zoekopdrachten/999999", None, "consulent1", 404),
    ("get", "/api/v1/voorstellen/999999", None, "consulent1", 404),
    ("post", "/api/v1/inbox/999999/accepteren", None, "consulent1", 404),
]


@pytest.mark.parametrize(("method", "path", "body", "user", "expected"), ROLE_CASES)
def test_role_rules(http, tokens, method, path, body, user, expected) -> None:
    response = http.request(method, path, json=body, headers=tokens[user])
    assert_problem(response, expected)
    if expected == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_another_consulents_item_and_voorstel_look_unknown(http, tokens) -> None:
    push(http, tokens, "V-ROLLEN")
    theirs = item_for(http, tokens["consulent2"], "V-ROLLEN")
    stolen = http.post(f"/api/v1/inbox/{theirs['id']}/accepteren", headers=tokens["consulent1"])
    unknown = http.post("/api/v1/inbox/999999/accepteren", headers=tokens["consulent1"])
    assert assert_problem(stolen, 404)["detail"].replace(str(theirs["id"]), "X") == unknown.json()["detail"].replace(
        "999999", "X"
    )
    declined = http.post(
        f"/api/v1/inbox/{theirs['id']}/afwijzen", json={"reden": "uren_werktijden"}, headers=tokens["consulent1"]
    )
    assert_problem(declined, 404)
    assert item_for(http, tokens["consulent2"], "V-ROLLEN")["status"] == "open"  # untouched

    accepted = http.post(f"/api/v1/inbox/{theirs['id']}/accepteren", headers=tokens["consulent2"]).json()
    voorstel = accepted["voorstel"]["id"]
    assert_problem(http.get(f"/api/v1/voorstellen/{voorstel}", headers=tokens["consulent1"]), 404)
    move = http.post(
        f"/api/v1/voorstellen/{voorstel}/overgangen", json={"naar": "uitgenodigd"}, headers=tokens["consulent1"]
    )
    assert_problem(move, 404)
    assert http.get(f"/api/v1/voorstellen/{voorstel}", headers=tokens["consulent2"]).json()["status"] == "voorgesteld"

    nazorg_accept = http.post(f"/api/v1/inbox/{theirs['id']}/afronden", headers=tokens["consulent2"])
    assert "push-item" in assert_problem(nazorg_accept, 400)["detail"]


def test_a_saved_search_fills_the_inbox_once(http, tokens) -> None:
    saved = http.post(
        "/api/v1/zoekopdrachten", json={"klantId": "K-W3", "minScore": 0, "top": 50}, headers=tokens["consulent1"]
    )
    assert saved.status_code == 201, saved.text
    search_id = saved.json()["id"]
    pushed_before = {
        i["vacatureId"] for i in inbox_items(http, tokens["consulent1"], status="alle") if i["klantId"] == "K-W3"
    }

    first = http.post("/api/v1/zoekopdrachten/uitvoeren", headers=tokens["beheerder"])
    assert first.status_code == 200, first.text
    assert first.json()["zoekopdrachten"] == 1 and first.json()["nieuw"] >= 1

    def found() -> list[dict]:
        items = inbox_items(http, tokens["consulent1"], status="alle")
        return [i for i in items if i["soort"] == "zoekopdracht" and i["klantId"] == "K-W3"]

    hits = found()
    assert len(hits) == first.json()["nieuw"]
    assert {"V-ZOEK1", "V-ZOEK2"} <= {i["vacatureId"] for i in hits}
    assert not {i["vacatureId"] for i in hits} & pushed_before  # never a pair already pushed
    assert all(i["zoekopdrachtId"] == search_id for i in hits)

    second = http.post("/api/v1/zoekopdrachten/uitvoeren", headers=tokens["beheerder"]).json()
    assert second["nieuw"] == 0 and len(found()) == len(hits)

    with Session(http.app.state.matcher.engine) as session:
        make_vacancy(session, vacature_nummer="V-ZOEK-NIEUW")
    third = http.post("/api/v1/zoekopdrachten/uitvoeren", headers=tokens["beheerder"]).json()
    assert third["nieuw"] == 1
    assert {i["vacatureId"] for i in found()} - {i["vacatureId"] for i in hits} == {"V-ZOEK-NIEUW"}

    # accepting a hit makes the voorstel
    hit = next(i for i in found() if i["vacatureId"] == "V-ZOEK-NIEUW")
    accepted = http.post(f"/api/v1/inbox/{hit['id']}/accepteren", headers=tokens["consulent1"])
    assert accepted.status_code == 201 and accepted.json()["voorstel"]["vacatureId"] == "V-ZOEK-NIEUW"

    listed = http.get("/api/v1/zoekopdrachten", headers=tokens["consulent1"]).json()["zoekopdrachten"]
    assert [(s["id"], s["klantId"], s["aantalGevonden"]) for s in listed] == [(search_id, "K-W3", len(hits) + 1)]
    assert listed[0]["laatstUitgevoerd"]
    assert http.get("/api/v1/zoekopdrachten", headers=tokens["consulent2"]).json()["zoekopdrachten"] == []
    assert_problem(http.delete(f"/api/v1/zoekopdrachten/{search_id}", headers=tokens["consulent2"]), 404)

    assert http.delete(f"/api/v1/zoekopdrachten/{search_id}", headers=tokens["consulent1"]).status_code == 204
    assert http.get("/api/v1/zoekopdrachten", headers=tokens["consulent1"]).json()["zoekopdrachten"] == []
    assert_problem(http.delete(f"/api/v1/zoekopdrachten/{search_id}", headers=tokens["consulent1"]), 404)
    assert len(found()) == len(hits) + 1  # the hits stay in the inbox
    runs = audit_entries(http, tokens, actie="zoekopdracht_uitgevoerd", betrokkene="K-W3")
    assert len(runs) == 2 and all(e["gebruiker"] == "beheerder" for e in runs)


def test_inbox_pagination_and_the_push_pseudonym_matches_the_candidate_list(http, tokens) -> None:
    page = http.get("/api/v1/inbox", params={"paginaGrootte": 1, "status": "alle"}, headers=tokens["consulent1"])
    assert page.status_code == 200 and len(page.json()["items"]) == 1 and page.json()["totaal"] > 1
    bad = http.get("/api/v1/inbox", params={"paginaGrootte": 0}, headers=tokens["consulent1"])
    assert assert_problem(bad, 400)["invalidParams"][0]["name"] == "paginaGrootte"
    listing = http.post(
        "/api/v1/matches/kandidaten", json={"vacatureId": "V-ROLLEN", "top": 5}, headers=tokens["accountmanager"]
    ).json()
    again = push(http, tokens, "V-ROLLEN")
    assert {k["referentie"] for k in again["kandidaten"]} == {r["klantId"] for r in listing["resultaten"]}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/voorstellen/9223372036854775808", None),
        ("post", "/api/v1/inbox/9223372036854775808/accepteren", None),
        ("delete", "/api/v1/zoekopdrachten/9223372036854775808", None),
        ("get", "/api/v1/inbox?pagina=461168601842738792", None),
        ("post", "/api/v1/voorstellen/zoeken", {"pagina": 461168601842738792}),
    ],
)
def test_numbers_past_sqlites_range_are_a_400_not_a_500(http, tokens, method, path, body) -> None:
    """Found by fuzzing: ids and page numbers over 2**63 overflowed SQLite (OverflowError, 500)."""
    response = http.request(method, path, json=body, headers=tokens["consulent1"])
    assert_problem(response, 400)


def test_an_all_digit_vacancy_number_past_the_id_range_is_not_found(http, tokens) -> None:
    """Found by fuzzing: matching.lookup read it as a database id and overflowed SQLite (500)."""
    response = http.post(
        "/api/v1/vacatures/9223372036854775808/push", json={"aantal": 1}, headers=tokens["accountmanager"]
    )
    assert_problem(response, 404)


def test_placing_a_placed_voorstel_again_is_refused_and_keeps_one_nazorg_plan(http, tokens) -> None:
    """Found by fuzzing: the second set of nazorg items broke their unique key (IntegrityError, 500)."""
    with Session(http.app.state.matcher.engine) as session:
        make_vacancy(session, vacature_nummer="V-TWEEMAAL")
    made = http.post(
        "/api/v1/voorstellen", json={"klantId": "K-W2", "vacatureId": "V-TWEEMAAL"}, headers=tokens["consulent1"]
    )
    assert made.status_code == 201, made.text
    path = f"/api/v1/voorstellen/{made.json()['id']}/overgangen"
    for step in ("uitgenodigd", "aangenomen", "geplaatst"):
        response = http.post(path, json={"naar": step}, headers=tokens["consulent1"])
        assert response.status_code == 200, response.text
    again = http.post(path, json={"naar": "geplaatst"}, headers=tokens["consulent1"])
    assert "geplaatst" in assert_problem(again, 400)["detail"]
    with Session(http.app.state.matcher.engine) as session:
        assert sorted(item.maanden for item in inbox.nazorg_for(session, made.json()["id"])) == [1, 3, 6]
