"""Who may do what through HTTP: a role × endpoint × owner matrix, role-shaped candidate lists, the audit trail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import app_settings, make_client, make_vacancy, running_app

BEPERKING = [{"aspect": "tillen", "ernst": 2}]


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory, embedder, module_database: str) -> Iterator[TestClient]:
    def records(session: Session) -> None:
        # wc-a owns the most clients, so the demo user consulent1 is wc-a and consulent2 is wc-b
        make_client(session, client_nummer="K-EIGEN", consulent="wc-a", beperkingen=BEPERKING)
        make_client(session, client_nummer="K-EIGEN2", consulent="wc-a")
        make_client(session, client_nummer="K-ANDER", consulent="wc-b", beperkingen=BEPERKING)
        # cannot lift at all, against heavy lifting without jobcarving: left off every list, with the reason
        make_client(session, client_nummer="K-RUG", consulent="wc-a", beperkingen=[{"aspect": "tillen", "ernst": 3}])
        make_vacancy(session, vacature_nummer="V-ROL", belasting=[{"aspect": "tillen", "niveau": 3}])

    with running_app(
        app_settings(tmp_path_factory.mktemp("roles") / "var", database_url=module_database), embedder, records
    ) as client:
        yield client


CANDIDATES = ("post", "/api/v1/matches/kandidaten", {"vacatureId": "V-ROL", "top": 10})
OWN_CLIENT = ("post", "/api/v1/matches/vacatures", {"klantId": "K-EIGEN"})
OTHER_CLIENT = ("post", "/api/v1/matches/vacatures", {"klantId": "K-ANDER"})
RELOAD = ("post", "/api/v1/modellen/herladen", None)
AUDIT = ("post", "/api/v1/audit/zoeken", {"betrokkene": "K-EIGEN"})
CHAIN = ("get", "/api/v1/audit/controle", None)
SWITCH_READ = ("get", "/api/v1/instellingen/rangschikking", None)
SWITCH = ("put", "/api/v1/instellingen/rangschikking", {"modus": "model", "reden": "matrix: blijft model"})

# expected status per user, in the order of COLUMNS (None = no token at all)
COLUMNS = (None, "consulent1", "consulent2", "accountmanager", "datascientist", "beheerder")
MATRIX = [
    (CANDIDATES,   (401, 200, 200, 200, 403, 403)),
    (OWN_CLIENT,   (401, 200, 404, 403, 403, 403)),
    (OTHER_CLIENT, (401, 404, 200, 403, 403, 403)),
    (RELOAD,       (401, 403, 403, 403, 200, 200)),
    (AUDIT,        (401, 403, 403, 403, 403, 200)),
    (CHAIN,        (401, 403, 403, 403, 403, 200)),
    (SWITCH_READ,  (401, 403, 403, 403, 200, 200)),
    (SWITCH,       (401, 403, 403, 403, 200, 200)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("endpoint", "user", "expected"),
    [(endpoint, user, status) for endpoint, row in MATRIX for user, status in zip(COLUMNS, row, strict=True)],
    ids=lambda value: value[1] if isinstance(value, tuple) else str(value),
)
def test_role_endpoint_owner_matrix(http, tokens, endpoint, user, expected) -> None:
    method, path, body = endpoint
    headers = tokens[user] if user else {}
    response = http.request(method, path, json=body, headers=headers)
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"]  # Dutch, precise
    if expected == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_another_consulents_client_looks_like_an_unknown_one(http, tokens) -> None:
    other = http.post("/api/v1/matches/vacatures", json={"klantId": "K-ANDER"}, headers=tokens["consulent1"])
    unknown = http.post("/api/v1/matches/vacatures", json={"klantId": "K-NIEMAND"}, headers=tokens["consulent1"])
    assert other.status_code == unknown.status_code == 404
    assert other.json()["detail"].replace("K-ANDER", "X") == unknown.json()["detail"].replace("K-NIEMAND", "X")


def test_beperkingen_reach_only_the_clients_own_consulent(http, tokens) -> None:
    body = {"vacatureId": "V-ROL", "top": 10}
    mine = http.post("/api/v1/matches/kandidaten", json=body, headers=tokens["consulent1"]).json()["resultaten"]
    by_id = {item["klantId"]: item for item in mine}
    assert by_id["K-EIGEN"]["eigenKlant"] and by_id["K-EIGEN"]["aandachtspuntenBeperkingen"]
    assert not by_id["K-ANDER"]["eigenKlant"] and "aandachtspuntenBeperkingen" not in by_id["K-ANDER"]
    theirs = http.post("/api/v1/matches/kandidaten", json=body, headers=tokens["consulent2"]).json()["resultaten"]
    assert {i["klantId"]: i for i in theirs}["K-ANDER"]["aandachtspuntenBeperkingen"]


def test_an_accountmanager_sees_pseudonymised_summaries(http, tokens) -> None:
    body = {"vacatureId": "V-ROL", "top": 10}
    listing = http.post("/api/v1/matches/kandidaten", json=body, headers=tokens["accountmanager"]).json()
    ids = [item["klantId"] for item in listing["resultaten"]]
    assert len(ids) == 4 and all(i.startswith("P-") for i in ids)  # K-RUG too: beperkingen shape nothing here
    assert not any("K-" in str(item) for item in listing["resultaten"])
    assert all("aandachtspuntenBeperkingen" not in item for item in listing["resultaten"])
    again = http.post("/api/v1/matches/kandidaten", json=body, headers=tokens["accountmanager"]).json()
    assert [item["klantId"] for item in again["resultaten"]] == ids  # stable within a vacancy's list
    assert "geen besluit" in listing["advies"] and listing["gerangschiktDoor"]["naam"]


def test_every_candidate_list_is_in_the_audit_log_with_who_and_why(http, tokens) -> None:
    body = {"vacatureId": "V-ROL", "top": 10, "doel": "matchgesprek werkgever"}
    response = http.post("/api/v1/matches/kandidaten", json=body, headers=tokens["accountmanager"])
    request_id = response.headers["X-Request-ID"]
    found = http.post("/api/v1/audit/zoeken", json={"gebruiker": "accountmanager"}, headers=tokens["beheerder"]).json()
    entry = next(e for e in found["regels"] if e["verzoekId"] == request_id)
    assert entry["actie"] == "kandidatenlijst_opgevraagd" and entry["doel"] == "matchgesprek werkgever"
    assert {"V-ROL", "K-EIGEN", "K-ANDER"} <= set(entry["betrokkenen"])  # the real klantnummers, for the audit
    check = http.get("/api/v1/audit/controle", headers=tokens["beheerder"]).json()
    assert check["inOrde"] and check["regels"] >= 1


def test_a_bad_purpose_or_body_is_a_dutch_400(http, tokens) -> None:
    response = http.post(
        "/api/v1/matches/kandidaten", json={"vacatureId": "V-ROL", "doel": "x"}, headers=tokens["consulent1"]
    )
    assert response.status_code == 400 and response.json()["invalidParams"][0]["name"] == "doel"


def test_an_audit_moment_before_year_one_in_utc_is_a_400(http, tokens) -> None:
    """Found by fuzzing: 0001-01-01T00:00+00:01 overflowed when converted to UTC (500)."""
    body = {"tot": "0001-01-01T00:00:00+00:01"}
    response = http.post("/api/v1/audit/zoeken", json=body, headers=tokens["beheerder"])
    assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"
    assert "bereik" in response.json()["detail"]


def test_an_audit_offset_past_sqlites_range_is_a_400(http, tokens) -> None:
    """Found by fuzzing: offset 2**63 overflowed SQLite's OFFSET (500)."""
    response = http.post("/api/v1/audit/zoeken", json={"overslaan": 2**63}, headers=tokens["beheerder"])
    assert response.status_code == 400 and response.json()["invalidParams"][0]["name"] == "overslaan"
    assert response.headers["content-type"] == "application/problem+json"


def test_a_klant_reference_with_other_digits_is_not_found(http, tokens) -> None:
    """Found by fuzzing: "²" passed str.isdigit, then int("²") raised ValueError (500)."""
    response = http.post("/api/v1/matches/vacatures", json={"klantId": "²"}, headers=tokens["consulent1"])
    assert response.status_code == 404, response.text


def test_candidate_filters_through_http(http, tokens) -> None:
    def ids(**filters: object) -> set[str]:
        body = {"vacatureId": "V-ROL", "top": 10, **filters}
        response = http.post("/api/v1/matches/kandidaten", json=body, headers=tokens["consulent1"])
        assert response.status_code == 200, response.text
        return {item["klantId"] for item in response.json()["resultaten"]}

    assert ids() == {"K-EIGEN", "K-EIGEN2", "K-ANDER"}
    assert ids(trede=[2]) == set()  # the factories' clients are all trede 4
    assert ids(trede=[4], route=["werk"], straalKm=50, minUren=10) == {"K-EIGEN", "K-EIGEN2", "K-ANDER"}
    assert ids(heleBestand=True) >= {"K-EIGEN"}
    assert ids(plaatsingsvorm=["regulier"]) == {"K-EIGEN", "K-EIGEN2", "K-ANDER"}  # route werk: 3.0–4.5
    assert ids(plaatsingsvorm=["arbeidsmatige_dagbesteding"]) == set()  # meedoen's band, not werk's
    bad = http.post(
        "/api/v1/matches/kandidaten", json={"vacatureId": "V-ROL", "trede": [7]}, headers=tokens["consulent1"]
    )
    assert bad.status_code == 400 and bad.json()["invalidParams"][0]["name"] == "trede"


def test_kansen_and_what_was_left_out_follow_the_role(http, tokens) -> None:
    body = {"vacatureId": "V-ROL", "top": 10}
    mine = http.post("/api/v1/matches/kandidaten", json=body, headers=tokens["consulent1"]).json()
    by_id = {item["klantId"]: item for item in mine["resultaten"]}
    assert "K-RUG" not in by_id and mine["nietGetoond"]["beperkingOnverenigbaar"] == 1
    assert mine["nietGetoond"]["beperkingPerEis"] == {"tillen": 1}
    [left_out] = mine["nietGetoond"]["eigenKlanten"]  # consulent1's own client: the list opens for them
    assert left_out["klantId"] == "K-RUG" and "tillen" in left_out["redenen"][0]
    assert by_id["K-EIGEN"]["kansMetAanpassing"] and by_id["K-EIGEN"]["aanpassingen"][0]["status"] == "aanpassing"
    assert all(name not in by_id["K-ANDER"] for name in ("kansMetAanpassing", "aanpassingen"))
    assert by_id["K-EIGEN"]["bijdragen"] and by_id["K-EIGEN"]["redenen"]

    # Another consulent's client: beperkingen shape nothing (matching.disclosure), so K-RUG is listed, unmarked,
    # and the beperking count covers consulent2's own caseload only (none of it conflicts).
    theirs = http.post("/api/v1/matches/kandidaten", json=body, headers=tokens["consulent2"]).json()
    assert theirs["nietGetoond"]["eigenKlanten"] == [] and theirs["nietGetoond"]["beperkingOnverenigbaar"] == 0
    assert "K-RUG" in {item["klantId"] for item in theirs["resultaten"]}
    manager = http.post("/api/v1/matches/kandidaten", json=body, headers=tokens["accountmanager"]).json()
    assert not {"eigenKlanten", "beperkingOnverenigbaar", "beperkingPerEis"} & set(manager["nietGetoond"])
    assert len(manager["resultaten"]) == 4  # K-RUG too, as a pseudonym
    assert all("aanpassingen" not in item and "kansMetAanpassing" not in item for item in manager["resultaten"])
    assert not any("K-RUG" in str(value) for value in manager.values())


def test_the_kill_switch_through_http_needs_a_reason_and_is_audited(http, tokens) -> None:
    path, body = "/api/v1/instellingen/rangschikking", {"vacatureId": "V-ROL", "top": 10}
    bad = http.put(path, json={"modus": "uit", "reden": "test"}, headers=tokens["beheerder"])
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
    assert http.put(path, json={"modus": "transparant"}, headers=tokens["beheerder"]).status_code == 400
    switched = http.put(path, json={"modus": "transparant", "reden": "afwijkend gedrag"}, headers=tokens["beheerder"])
    assert switched.status_code == 200 and switched.json()["modus"] == "transparant"
    assert switched.json()["gewijzigdDoor"] == "beheerder"
    try:
        listing = http.post("/api/v1/matches/kandidaten", json=body, headers=tokens["consulent1"]).json()
        assert listing["rangschikking"]["modus"] == "transparant"
        assert listing["gerangschiktDoor"]["naam"] == "baseline:weighted"
        found = http.post(
            "/api/v1/audit/zoeken", json={"actie": "rangschikking_omgezet"}, headers=tokens["beheerder"]
        ).json()
        assert any(entry["details"]["modus"] == "transparant" for entry in found["regels"])
    finally:
        back = http.put(path, json={"modus": "model", "reden": "terug na test"}, headers=tokens["beheerder"])
        assert back.status_code == 200
    listing = http.post("/api/v1/matches/kandidaten", json=body, headers=tokens["consulent1"]).json()
    assert listing["rangschikking"]["modus"] == "model"
