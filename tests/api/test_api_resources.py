"""Klanten and vacatures as HTTP resources: roles, caseloads, audit, validation, paging, imports, size limit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.routes.common import record
from api.services import audit
from matching.domain import AuditKenmerken, Client, ClientPersonalia
from tests.factories import app_settings, audit_entries, make_client, make_vacancy, running_app
from tests.factories import assert_problem as assert_any_problem

BEPERKING = [{"aspect": "tillen", "ernst": 2}]
PAGED = 23  # wc-a clients in postcode area 1012, for the paging tests
PAGED_VACANCIES = 12  # vacancies with plaatsingsvorm beschut_werk
IMPORT_LIMIT = 5 * 1024 * 1024  # bytes in one import request (api.ops: "*/import")


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory, embedder, module_database: str) -> Iterator[TestClient]:
    settings = app_settings(
        tmp_path_factory.mktemp("resources") / "var",
        database_url=module_database,
        ops={"rate_burst": 10_000},  # these tests search far more often than a consulent; api.ops limits that
    )

    def records(session: Session) -> None:
        # wc-a owns the most clients, so the demo user consulent1 is wc-a and consulent2 is wc-b
        make_client(session, client_nummer="K-EIGEN", consulent="wc-a", beperkingen=BEPERKING)
        make_client(session, client_nummer="K-UREN", consulent="wc-a", uren_min=0, uren_max=8)
        for number in range(PAGED):
            make_client(
                session,
                client_nummer=f"K-PAG{number:02d}",
                consulent="wc-a",
                postcode="1012AB",
                trede=number % 2 + 2,
                route="perspectief",
            )
        make_client(session, client_nummer="K-ANDER", consulent="wc-b", beperkingen=BEPERKING)
        make_client(session, client_nummer="K-ANDER2", consulent="wc-b", postcode="1012CD", route="perspectief")
        make_vacancy(session, vacature_nummer="V-RES")
        make_vacancy(session, vacature_nummer="V-UREN", uren_min=24, uren_max=38)
        for number in range(PAGED_VACANCIES):
            make_vacancy(
                session,
                vacature_nummer=f"SCA-PAG{number:02d}",
                bron="Scalabor",
                plaatsingsvorm="beschut_werk",
                status="gesloten" if number < 2 else "open",
            )
        session.add(ClientPersonalia(client_id=session.exec(select(Client.id)).first(), voornaam="Jan"))
        session.add(AuditKenmerken(client_id=session.exec(select(Client.id)).first(), geslacht="man"))
        session.commit()

    with running_app(settings, embedder, records) as client:
        yield client


def klant(number: str, **overrides: Any) -> dict[str, Any]:
    """A valid klant body in the JSON import format (no consulent: the caller's own)."""
    body: dict[str, Any] = {
        "klantNummer": number,
        "trede": 4,
        "route": "werk",
        "postcode": "6811AB",
        "competenties": [{"code": "orderpicken", "niveau": 2}],
        "urenMin": 24,
        "urenMax": 36,
        "vervoermiddel": ["fiets"],
        "wensen": {"beroepen": ["orderpicker"], "maxReisafstandKm": 15},
        "beperkingen": [{"aspect": "prikkels", "ernst": 1}],
    }
    body.update(overrides)
    return body


def vacature(number: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "vacatureNummer": number,
        "bron": "WSP",
        "werkgever": "Logistiek Arnhem BV",
        "titel": "Orderpicker",
        "beroepCode": "orderpicker",
        "postcode": "6827",
        "urenMin": 24,
        "urenMax": 38,
        "competentiesVereist": [{"code": "orderpicken"}],
    }
    body.update(overrides)
    return body


def assert_problem(response, status: int) -> dict[str, Any]:
    """Every refusal here also names a title."""
    return assert_any_problem(response, status, titled=True)


def csv_upload(name: str, text: str) -> dict[str, Any]:
    return {"bestand": (name, text.encode(), "text/csv")}


# ------------------------------------------------------------------------------------ who may do what

COLUMNS = (None, "consulent1", "consulent2", "accountmanager", "datascientist", "beheerder")
KLANT_CSV = "klantNummer,trede,route,postcode\nK-MATRIX,3,werk,6811\n"
VACATURE_CSV = "vacatureNummer,bron,werkgever,titel,postcode\nV-MATRIX,WSP,Bakker BV,Bakker,6811\n"
# Every call is idempotent, so the order of the parameters does not matter: a POST of an existing
# number answers 409 to a role that may create it (404 to another caseload's consulent, as for an
# unknown klant), and the PUTs send what is stored.
MATRIX = [
    (("get", "/api/v1/klanten/K-EIGEN", None),         (401, 200, 404, 403, 403, 403)),
    (("get", "/api/v1/klanten/K-ANDER", None),         (401, 404, 200, 403, 403, 403)),
    (("post", "/api/v1/klanten", klant("K-EIGEN")),    (401, 409, 404, 403, 403, 403)),
    (("post", "/api/v1/klanten/zoeken", {}),           (401, 200, 200, 403, 403, 403)),
    (("post", "/api/v1/vacatures", vacature("V-RES")), (401, 403, 403, 409, 403, 409)),
    (("get", "/api/v1/vacatures", None),               (401, 200, 200, 200, 200, 200)),
    (("get", "/api/v1/vacatures/V-RES", None),         (401, 200, 200, 200, 200, 200)),
    (("put", "/api/v1/vacatures/V-MATRIX", vacature("V-MATRIX")), (401, 403, 403, 200, 403, 403)),
    (("upload", "/api/v1/klanten/import", KLANT_CSV),  (401, 200, 200, 403, 403, 403)),
    (("upload", "/api/v1/vacatures/import", VACATURE_CSV), (401, 403, 403, 200, 403, 403)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("endpoint", "user", "expected"),
    [(endpoint, user, status) for endpoint, row in MATRIX for user, status in zip(COLUMNS, row, strict=True)],
    ids=lambda value: f"{value[0]} {value[1]}" if isinstance(value, tuple) else str(value),
)
def test_role_endpoint_owner_matrix(http, tokens, endpoint, user, expected) -> None:
    method, path, body = endpoint
    headers = tokens[user] if user else {}
    if path == "/api/v1/vacatures/V-MATRIX":
        http.post("/api/v1/vacatures", json=vacature("V-MATRIX"), headers=tokens["accountmanager"])
    if method == "upload":
        response = http.post(path, files=csv_upload("matrix.csv", body), headers=headers)
    else:
        response = http.request(method, path, json=body, headers=headers)
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert_problem(response, expected)
    if expected == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


# ---------------------------------------------------------------------------------------------- klanten


def test_a_consulent_creates_a_klant_in_their_own_caseload(http, tokens) -> None:
    response = http.post("/api/v1/klanten", json=klant("K-NIEUW"), headers=tokens["consulent1"])
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == "/api/v1/klanten/K-NIEUW"
    created = response.json()
    assert created["klantNummer"] == "K-NIEUW" and created["consulent"] == "wc-a"
    [beperking] = created["beperkingen"]
    assert (beperking["aspect"], beperking["ernst"], beperking["categorie"]) == ("prikkels", 1, "psychisch")
    assert created["gewijzigdOp"].endswith("Z") or created["gewijzigdOp"].endswith("+00:00")
    again = http.get(response.headers["Location"], headers=tokens["consulent1"])
    assert again.status_code == 200 and again.json()["wensen"]["maxReisafstandKm"] == 15
    entry = audit_entries(http, tokens, betrokkene="K-NIEUW", actie="klantprofiel_aangemaakt")[0]
    assert entry["gebruiker"] == "consulent1" and entry["doel"] == "bemiddeling"


def test_the_body_takes_only_the_new_name_klantnummer(http, tokens) -> None:
    """API 2.0.0: ``clientNummer`` is ``klantNummer``; only import files still read the old name."""
    body = klant("K-OUDE-NAAM")
    body["clientNummer"] = body.pop("klantNummer")
    problem = assert_problem(http.post("/api/v1/klanten", json=body, headers=tokens["consulent1"]), 400)
    reasons = {item["name"]: item["reason"] for item in problem["invalidParams"]}
    assert {"klantNummer", "clientNummer"} <= set(reasons) and "onbekend veld" in reasons["clientNummer"]


def test_creating_in_another_caseload_is_forbidden(http, tokens) -> None:
    body = klant("K-VREEMD", consulent="wc-b")
    problem = assert_problem(http.post("/api/v1/klanten", json=body, headers=tokens["consulent1"]), 403)
    assert "wc-b" in problem["detail"] and "wc-a" in problem["detail"]
    own = http.post("/api/v1/klanten", json=klant("K-VREEMD", consulent="wc-a"), headers=tokens["consulent1"])
    assert own.status_code == 201  # naming one's own code is fine


def test_a_taken_klantnummer_is_a_conflict(http, tokens) -> None:
    problem = assert_problem(http.post("/api/v1/klanten", json=klant("K-UREN"), headers=tokens["consulent1"]), 409)
    assert "K-UREN" in problem["detail"] and "PUT" in problem["detail"]


def test_an_invalid_klant_names_every_field(http, tokens) -> None:
    body = klant("K-FOUT", trede=7, urenMin=30, urenMax=20, onbekend=1)
    del body["postcode"]
    problem = assert_problem(http.post("/api/v1/klanten", json=body, headers=tokens["consulent1"]), 400)
    reasons = {item["name"]: item["reason"] for item in problem["invalidParams"]}
    assert {"trede", "postcode", "onbekend"} <= set(reasons)
    assert "kies 0 t/m 5" in reasons["trede"]
    bsn = assert_problem(http.post("/api/v1/klanten", json=klant("123456782"), headers=tokens["consulent1"]), 400)
    assert "BSN" in json.dumps(bsn["invalidParams"])
    broken = http.post(
        "/api/v1/klanten",
        content=b"{niet json",
        headers={**tokens["consulent1"], "Content-Type": "application/json"},
    )
    assert_problem(broken, 400)
    assert http.get("/api/v1/klanten/K-NIEUW/", headers=tokens["consulent1"]).status_code == 404  # no redirect


def test_a_profile_read_shows_beperkingen_but_no_personal_extras_and_is_audited(http, tokens) -> None:
    response = http.get("/api/v1/klanten/K-EIGEN", headers={**tokens["consulent1"], "X-Doel": "intakegesprek"})
    assert response.status_code == 200, response.text
    profile = response.json()
    assert [(b["aspect"], b["ernst"], b["categorie"]) for b in profile["beperkingen"]] == [("tillen", 2, "fysiek")]
    for private in ("geslacht", "geboortejaar", "migratieachtergrond", "voornaam", "achternaam", "email", "id"):
        assert private not in profile
    assert profile["ontbrekendeGegevens"] == []
    entries = audit_entries(http, tokens, betrokkene="K-EIGEN", actie="klantprofiel_gelezen")
    entry = next(e for e in entries if e["verzoekId"] == response.headers["X-Request-ID"])
    assert entry["gebruiker"] == "consulent1" and entry["rol"] == "werkconsulent"
    assert entry["doel"] == "intakegesprek" and entry["betrokkenen"] == ["K-EIGEN"]
    default = http.get("/api/v1/klanten/K-EIGEN", headers=tokens["consulent1"])
    entries = audit_entries(http, tokens, betrokkene="K-EIGEN", actie="klantprofiel_gelezen")
    assert next(e for e in entries if e["verzoekId"] == default.headers["X-Request-ID"])["doel"] == "bemiddeling"


def test_a_refused_read_leaves_no_audit_entry_and_a_bad_purpose_is_a_400(http, tokens) -> None:
    before = len(audit_entries(http, tokens, betrokkene="K-ANDER", actie="klantprofiel_gelezen", aantal=1000))
    assert http.get("/api/v1/klanten/K-ANDER", headers=tokens["consulent1"]).status_code == 404
    assert len(audit_entries(http, tokens, betrokkene="K-ANDER", actie="klantprofiel_gelezen", aantal=1000)) == before
    short = http.get("/api/v1/klanten/K-EIGEN", headers={**tokens["consulent1"], "X-Doel": "x"})
    assert assert_problem(short, 400)["invalidParams"][0]["name"] == "X-Doel"


def test_another_consulents_klant_looks_like_an_unknown_one(http, tokens) -> None:
    other = assert_problem(http.get("/api/v1/klanten/K-ANDER", headers=tokens["consulent1"]), 404)
    unknown = assert_problem(http.get("/api/v1/klanten/K-NIEMAND", headers=tokens["consulent1"]), 404)
    assert other["detail"].replace("K-ANDER", "X") == unknown["detail"].replace("K-NIEMAND", "X")
    put = http.put("/api/v1/klanten/K-ANDER", json=klant("K-ANDER"), headers=tokens["consulent1"])
    assert assert_problem(put, 404)["detail"] == other["detail"]


def test_a_database_id_is_not_a_klantnummer(http, tokens) -> None:
    # matching.lookup reads all-digit references as database ids; a URL path must not.
    assert_problem(http.get("/api/v1/klanten/1", headers=tokens["consulent1"]), 404)


def test_an_update_is_stored_audited_and_refuses_other_numbers_and_caseloads(http, tokens) -> None:
    http.post("/api/v1/klanten", json=klant("K-WIJZIG"), headers=tokens["consulent1"])
    changed = klant("K-WIJZIG", trede=2, route="perspectief", beperkingen=[], notities="gesprek gehad")
    response = http.put(
        "/api/v1/klanten/K-WIJZIG", json=changed, headers={**tokens["consulent1"], "X-Doel": "heronderzoek"}
    )
    assert response.status_code == 200, response.text
    stored = http.get("/api/v1/klanten/K-WIJZIG", headers=tokens["consulent1"]).json()
    assert (stored["trede"], stored["route"], stored["beperkingen"]) == (2, "perspectief", [])
    assert stored["notities"] == "gesprek gehad" and stored["gewijzigdOp"] >= response.json()["gewijzigdOp"]
    with Session(http.app.state.matcher.engine) as session:  # durable: another connection sees it
        assert session.exec(select(Client.trede).where(Client.client_nummer == "K-WIJZIG")).one() == 2
    entry = audit_entries(http, tokens, betrokkene="K-WIJZIG", actie="klantprofiel_gewijzigd")[0]
    assert entry["doel"] == "heronderzoek" and entry["gebruiker"] == "consulent1"

    mismatch = http.put("/api/v1/klanten/K-WIJZIG", json=klant("K-ANDERS"), headers=tokens["consulent1"])
    assert "K-ANDERS" in assert_problem(mismatch, 400)["detail"]
    moved = http.put("/api/v1/klanten/K-WIJZIG", json=klant("K-WIJZIG", consulent="wc-b"), headers=tokens["consulent1"])
    assert_problem(moved, 403)
    unknown = http.put("/api/v1/klanten/K-NIEMAND", json=klant("K-NIEMAND"), headers=tokens["consulent1"])
    assert_problem(unknown, 404)
    invalid = http.put("/api/v1/klanten/K-WIJZIG", json=klant("K-WIJZIG", urenMax=0), headers=tokens["consulent1"])
    assert assert_problem(invalid, 400)["invalidParams"][0]["name"] == "urenMax"
    assert http.get("/api/v1/klanten/K-WIJZIG", headers=tokens["consulent1"]).json()["trede"] == 2  # unchanged


def test_a_saved_update_is_found_by_the_next_candidate_search(http, tokens) -> None:
    search = {"vacatureId": "V-UREN", "top": 100}
    before = http.post("/api/v1/matches/kandidaten", json=search, headers=tokens["consulent1"]).json()
    assert "K-UREN" not in {item["klantId"] for item in before["resultaten"]}  # 0–8 hours: no overlap with 24–38
    body = klant("K-UREN", urenMin=24, urenMax=36)
    assert http.put("/api/v1/klanten/K-UREN", json=body, headers=tokens["consulent1"]).status_code == 200
    after = http.post("/api/v1/matches/kandidaten", json=search, headers=tokens["consulent1"]).json()
    assert "K-UREN" in {item["klantId"] for item in after["resultaten"]}


def test_search_lists_only_the_own_caseload_without_beperkingen(http, tokens) -> None:
    response = http.post("/api/v1/klanten/zoeken", json={"paginaGrootte": 100}, headers=tokens["consulent1"])
    assert response.status_code == 200, response.text
    page = response.json()
    assert {item["consulent"] for item in page["resultaten"]} == {"wc-a"}
    assert all("beperkingen" not in item and "notities" not in item for item in page["resultaten"])
    numbers = [item["klantNummer"] for item in page["resultaten"]]
    assert "K-EIGEN" in numbers and "K-ANDER" not in numbers
    assert numbers == sorted(numbers) and page["totaal"] == len(numbers)
    entry = next(
        e
        for e in audit_entries(http, tokens, actie="klantenlijst_opgevraagd")
        if e["verzoekId"] == response.headers["X-Request-ID"]
    )
    assert entry["betrokkenen"] == numbers and entry["doel"] == "bemiddeling"


def test_search_filters_on_trede_route_and_postcode_prefix(http, tokens) -> None:
    def numbers(**search: Any) -> set[str]:
        response = http.post(
            "/api/v1/klanten/zoeken", json={**search, "paginaGrootte": 100}, headers=tokens["consulent1"]
        )
        assert response.status_code == 200, response.text
        return {item["klantNummer"] for item in response.json()["resultaten"]}

    paged = {f"K-PAG{n:02d}" for n in range(PAGED)}
    assert numbers(postcode="1012") == paged  # K-ANDER2 (1012CD) belongs to wc-b
    assert numbers(postcode="10") == paged and numbers(postcode="1012 ab") == paged
    assert numbers(postcode="1012CD") == set()
    assert numbers(postcode="1012", trede=2) == {f"K-PAG{n:02d}" for n in range(0, PAGED, 2)}
    assert numbers(route="perspectief", trede=3) == {f"K-PAG{n:02d}" for n in range(1, PAGED, 2)}
    for bad in ({"postcode": "AB"}, {"postcode": "12A4"}, {"trede": 6}, {"route": "snel"}, {"naam": "Jan"}):
        response = http.post("/api/v1/klanten/zoeken", json=bad, headers=tokens["consulent1"])
        assert assert_problem(response, 400)["invalidParams"][0]["name"] == next(iter(bad))


def test_search_pages_have_exact_boundaries(http, tokens) -> None:
    def page(pagina: int, grootte: int) -> dict[str, Any]:
        body = {"postcode": "1012", "pagina": pagina, "paginaGrootte": grootte}
        response = http.post("/api/v1/klanten/zoeken", json=body, headers=tokens["consulent1"])
        assert response.status_code == 200, response.text
        return response.json()

    pages = [page(n, 10) for n in (1, 2, 3, 4)]
    assert [len(p["resultaten"]) for p in pages] == [10, 10, 3, 0]
    assert {(p["totaal"], p["aantalPaginas"], p["paginaGrootte"]) for p in pages} == {(PAGED, 3, 10)}
    seen = [item["klantNummer"] for p in pages for item in p["resultaten"]]
    assert seen == sorted(f"K-PAG{n:02d}" for n in range(PAGED))  # no gaps, no repeats
    assert len(page(1, 100)["resultaten"]) == PAGED and len(page(23, 1)["resultaten"]) == 1
    for bad in ({"paginaGrootte": 101}, {"paginaGrootte": 0}, {"pagina": 0}, {"pagina": 10**12}):
        response = http.post("/api/v1/klanten/zoeken", json=bad, headers=tokens["consulent1"])
        assert assert_problem(response, 400)["invalidParams"][0]["name"] == next(iter(bad))


# -------------------------------------------------------------------------------------------- vacatures


def test_an_accountmanager_creates_reads_and_replaces_a_vacature(http, tokens) -> None:
    response = http.post("/api/v1/vacatures", json=vacature("WSP-NIEUW"), headers=tokens["accountmanager"])
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == "/api/v1/vacatures/WSP-NIEUW"
    assert response.json()["plaatsingsvorm"] == "regulier" and response.json()["status"] == "open"
    read = http.get("/api/v1/vacatures/WSP-NIEUW", headers=tokens["datascientist"])
    assert read.status_code == 200
    assert [(c["code"], c["niveau"]) for c in read.json()["competentiesVereist"]] == [("orderpicken", 2)]
    replaced = vacature("WSP-NIEUW", titel="Orderpicker avond", werktijden=["avond"], status="vervuld")
    put = http.put("/api/v1/vacatures/WSP-NIEUW", json=replaced, headers=tokens["accountmanager"])
    assert put.status_code == 200, put.text
    stored = http.get("/api/v1/vacatures/WSP-NIEUW", headers=tokens["consulent1"]).json()
    assert (stored["titel"], stored["werktijden"], stored["status"]) == ("Orderpicker avond", ["avond"], "vervuld")
    by_beheerder = http.post("/api/v1/vacatures", json=vacature("WSP-BEHEER"), headers=tokens["beheerder"])
    assert by_beheerder.status_code == 201


def test_vacature_errors_are_precise(http, tokens) -> None:
    am = tokens["accountmanager"]
    assert "V-RES" in assert_problem(http.post("/api/v1/vacatures", json=vacature("V-RES"), headers=am), 409)["detail"]
    invalid = http.post("/api/v1/vacatures", json=vacature("V-FOUT", bron="Indeed", urenMax=61), headers=am)
    assert {p["name"] for p in assert_problem(invalid, 400)["invalidParams"]} == {"bron", "urenMax"}
    assert_problem(http.get("/api/v1/vacatures/V-NIEMAND", headers=am), 404)
    assert_problem(http.put("/api/v1/vacatures/V-NIEMAND", json=vacature("V-NIEMAND"), headers=am), 404)
    assert_problem(http.put("/api/v1/vacatures/V-RES", json=vacature("V-ANDERS"), headers=am), 400)


def test_the_vacature_list_filters_and_pages(http, tokens) -> None:
    def page(**query: Any) -> dict[str, Any]:
        response = http.get("/api/v1/vacatures", params=query, headers=tokens["consulent1"])
        assert response.status_code == 200, response.text
        return response.json()

    query = {"bron": "Scalabor", "plaatsingsvorm": "beschut_werk"}
    pages = [page(**query, pagina=n, paginaGrootte=5) for n in (1, 2, 3, 4)]
    assert [len(p["resultaten"]) for p in pages] == [5, 5, 2, 0]
    assert {(p["totaal"], p["aantalPaginas"]) for p in pages} == {(PAGED_VACANCIES, 3)}
    seen = [item["vacatureNummer"] for p in pages for item in p["resultaten"]]
    assert seen == [f"SCA-PAG{n:02d}" for n in range(PAGED_VACANCIES)]
    assert page(**query, status="gesloten")["totaal"] == 2
    assert page(**query, status="open")["totaal"] == PAGED_VACANCIES - 2
    assert all(item["bron"] == "WSP" for item in page(bron="WSP", paginaGrootte=100)["resultaten"])
    assert page()["paginaGrootte"] == 20 and page()["pagina"] == 1
    for bad in ({"bron": "Indeed"}, {"status": "dicht"}, {"paginaGrootte": 101}, {"pagina": 0}):
        response = http.get("/api/v1/vacatures", params=bad, headers=tokens["consulent1"])
        assert assert_problem(response, 400)["invalidParams"][0]["name"] == next(iter(bad))


# ------------------------------------------------------------------------------------------------ import


def test_a_consulent_imports_only_rows_of_their_own_caseload(http, tokens) -> None:
    text = (
        "klantNummer;consulent;trede;route;postcode;beperkingen;voornaam;geslacht\n"
        "K-IMP1;;4;werk;6811AB;tillen:2;Ans;vrouw\n"
        "K-IMP2;wc-a;3;perspectief;6821;;;\n"
        "K-IMP3;wc-b;3;werk;6821;;;\n"
        "K-IMP4;;7;werk;6821;;;\n"
        "K-ANDER;;4;werk;6821;;;\n"
        "K-EIGEN;;4;werk;6811AB;tillen:2;;\n"
    )
    response = http.post(
        "/api/v1/klanten/import",
        files=csv_upload("klanten.csv", text),
        headers={**tokens["consulent1"], "X-Doel": "overdracht caseload"},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["aangemaakt"], report["bijgewerkt"]) == (2, 1)
    assert report["opgeslagen"] == [
        {"regel": 2, "nummer": "K-IMP1"},
        {"regel": 3, "nummer": "K-IMP2"},
        {"regel": 7, "nummer": "K-EIGEN"},
    ]
    rejected = {item["regel"]: item for item in report["afgewezen"]}
    assert sorted(rejected) == [4, 5, 6]
    assert rejected[4]["nummer"] == "K-IMP3" and "caseload" in rejected[4]["redenen"][0]
    assert "trede" in rejected[5]["redenen"][0]
    assert "buiten uw caseload" in rejected[6]["redenen"][0]
    with Session(http.app.state.matcher.engine) as session:
        owner = session.exec(select(Client.consulent).where(Client.client_nummer == "K-ANDER")).one()
        assert owner == "wc-b"  # not taken over
        assert session.exec(select(Client).where(Client.client_nummer == "K-IMP3")).first() is None
    profile = http.get("/api/v1/klanten/K-IMP1", headers=tokens["consulent1"]).json()
    assert profile["consulent"] == "wc-a" and profile["beperkingen"][0]["aspect"] == "tillen"
    assert "voornaam" not in profile and "geslacht" not in profile
    entry = audit_entries(http, tokens, betrokkene="K-IMP2", actie="klanten_geimporteerd")[0]
    assert set(entry["betrokkenen"]) == {"K-IMP1", "K-IMP2", "K-EIGEN"} and entry["doel"] == "overdracht caseload"


def test_an_accountmanager_imports_vacatures_from_json(http, tokens) -> None:
    records = [vacature("WSP-IMP1"), vacature("WSP-IMP2", urenMin=40, urenMax=20), vacature("V-RES", titel="Nieuw")]
    text = json.dumps(records, indent=2)
    response = http.post(
        "/api/v1/vacatures/import",
        files={"bestand": ("vacatures.json", text.encode(), "application/json")},
        headers=tokens["accountmanager"],
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["aangemaakt"], report["bijgewerkt"]) == (1, 1)
    assert [item["nummer"] for item in report["opgeslagen"]] == ["WSP-IMP1", "V-RES"]
    [rejected] = report["afgewezen"]
    assert rejected["nummer"] == "WSP-IMP2" and rejected["regel"] > 2 and "urenMin" in rejected["redenen"][0]
    assert http.get("/api/v1/vacatures/V-RES", headers=tokens["accountmanager"]).json()["titel"] == "Nieuw"


def test_an_unreadable_file_stores_nothing_and_names_the_upload(http, tokens) -> None:
    broken = http.post(
        "/api/v1/vacatures/import",
        files={"bestand": ("kapot.json", b'[{"vacatureNummer": "WSP-KAPOT",', "application/json")},
        headers=tokens["accountmanager"],
    )
    problem = assert_problem(broken, 400)
    assert "'kapot.json'" in problem["detail"] and "werkmatch-import" not in problem["detail"]
    assert_problem(http.get("/api/v1/vacatures/WSP-KAPOT", headers=tokens["accountmanager"]), 404)
    odd_type = http.post(
        "/api/v1/vacatures/import", files=csv_upload("lijst.xlsx", "x"), headers=tokens["accountmanager"]
    )
    assert ".csv" in assert_problem(odd_type, 400)["detail"]
    escape = http.post(
        "/api/v1/vacatures/import", files=csv_upload("../../etc/passwd", "x"), headers=tokens["accountmanager"]
    )
    assert "etc" not in assert_problem(escape, 400)["detail"]
    not_latin = http.post(
        "/api/v1/vacatures/import",
        files={"bestand": ("v.csv", "vacatureNummer\nV-É\n".encode("latin-1"), "text/csv")},
        headers=tokens["accountmanager"],
    )
    assert "UTF-8" in assert_problem(not_latin, 400)["detail"]
    no_boundary = http.post(
        "/api/v1/vacatures/import",
        content=b"--x\r\n",
        headers={**tokens["accountmanager"], "Content-Type": "multipart/form-data"},
    )
    assert "multipart" in assert_problem(no_boundary, 400)["detail"]  # Starlette's English 400, in Dutch
    missing = http.post("/api/v1/vacatures/import", data={"ander": "veld"}, headers=tokens["accountmanager"])
    assert assert_problem(missing, 400)["invalidParams"][0]["name"] == "bestand"


def test_an_upload_over_5_mb_is_refused_before_it_is_stored(http, tokens) -> None:
    header = "vacatureNummer,bron,werkgever,titel,postcode\n"
    row = "WSP-GROOT{:07d},WSP,Bakker BV,Bakker,6811\n"
    rows = header + "".join(row.format(n) for n in range(IMPORT_LIMIT // len(row.format(0)) + 10))
    assert len(rows.encode()) > IMPORT_LIMIT
    response = http.post(
        "/api/v1/vacatures/import", files=csv_upload("groot.csv", rows), headers=tokens["accountmanager"]
    )
    assert "groter dan" in assert_problem(response, 413)["detail"]

    def chunked() -> Any:  # no Content-Length: counted while it is read
        yield b'--grens\r\nContent-Disposition: form-data; name="bestand"; filename="groot.csv"\r\n\r\n'
        yield rows.encode()
        yield b"\r\n--grens--\r\n"

    streamed = http.post(
        "/api/v1/vacatures/import",
        content=chunked(),
        headers={**tokens["accountmanager"], "Content-Type": "multipart/form-data; boundary=grens"},
    )
    assert "content-length" not in {key.lower() for key in streamed.request.headers}
    assert_problem(streamed, 413)
    assert_problem(http.get("/api/v1/vacatures/WSP-GROOT0000000", headers=tokens["accountmanager"]), 404)
    just_under = header + row.format(1)
    ok = http.post(
        "/api/v1/vacatures/import", files=csv_upload("klein.csv", just_under), headers=tokens["accountmanager"]
    )
    assert ok.status_code == 200 and ok.json()["aangemaakt"] == 1


def test_a_large_import_is_audited_in_entries_of_at_most_the_maximum_subjects(http, tokens) -> None:
    numbers = [f"K-AUD{n:04d}" for n in range(audit.SUBJECTS_MAX * 2 + 5)]
    request = SimpleNamespace(state=SimpleNamespace(request_id="aud-test"))
    user = SimpleNamespace(username="consulent1", rol="werkconsulent", gemeente="Arnhem")
    with Session(http.app.state.matcher.engine) as session:
        record(session, request, user, "klanten_geimporteerd", "bemiddeling", numbers)  # type: ignore[arg-type]
        session.commit()
    entries = [e for e in audit_entries(http, tokens, actie="klanten_geimporteerd") if e["verzoekId"] == "aud-test"]
    assert sorted(len(e["betrokkenen"]) for e in entries) == [5, audit.SUBJECTS_MAX, audit.SUBJECTS_MAX]
    assert sorted(s for e in entries for s in e["betrokkenen"]) == numbers


def test_the_openapi_document_describes_the_resources(http) -> None:
    document = http.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    klant_path = next(key for key in paths if key.endswith("/klanten/{klantnummer}"))
    read = paths[klant_path]["get"]
    assert read["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/KlantProfiel")
    assert read["responses"]["404"]["content"]["application/problem+json"]
    assert "beperkingen" not in document["components"]["schemas"]["KlantSamenvatting"]["properties"]
    created = paths[next(key for key in paths if key.endswith("/vacatures"))]["post"]["responses"]
    assert {"201", "400", "403", "409", "413"} <= set(created)
