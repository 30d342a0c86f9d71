"""What a candidate list reveals outside the viewer's caseload (matching.disclosure), attacked as the audit did.

Issue 15, finding 3: two identical vacancies, one demanding ``tillen`` at level 3, searched with
``straalKm: 1`` — the lists differed by one client and the per-demand counts said why. Finding 4: exact
distances to a few vacancies gave away home postcodes. One world: consulent1 owns wc-a (three
clients), consulent2 owns wc-b (two clients, one of whom cannot lift at all).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.routes.matches import MatchKandidaten, MatchVacatures
from matching import disclosure
from matching.disclosure import EVERYONE, OUTSIDER, Viewer
from matching.hard_filters import CandidateFilters
from matching.matcher import Matcher
from tests.factories import app_settings, disclosure_world, logins, running_app

BANDS = {"0–5 km", "5–10 km", "10–20 km", "20–50 km", "meer dan 50 km"}
EXACT_DISTANCE = re.compile(r"\d+,\d km van het werkadres|\bmin\b")


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory, embedder, module_database: str) -> Iterator[TestClient]:
    with running_app(
        app_settings(tmp_path_factory.mktemp("disclosure") / "var", database_url=module_database),
        embedder,
        disclosure_world,
    ) as client:
        yield client


@pytest.fixture(scope="module")
def tokens(http: TestClient) -> dict[str, dict[str, str]]:
    return logins(http, "consulent1", "consulent2", "accountmanager")


def search(http: TestClient, headers: dict[str, str], vacancy: str, **filters: object) -> dict:
    body = {"vacatureId": vacancy, "top": 10, **filters}
    response = http.post("/api/v1/matches/kandidaten", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def ids(listing: dict) -> set[str]:
    return {item["klantId"] for item in listing["resultaten"]}


@pytest.mark.parametrize("user", ["accountmanager", "consulent1"])
def test_differencing_two_vacancies_teaches_an_outsider_nothing_about_beperkingen(http, tokens, user) -> None:
    plain = search(http, tokens[user], "V-GEEN", straalKm=1)
    lifting = search(http, tokens[user], "V-TIL", straalKm=1)
    assert len(plain["resultaten"]) == len(lifting["resultaten"]) >= 1
    assert plain["aantalGeschikt"] == lifting["aantalGeschikt"]
    assert plain["nietGetoond"] == lifting["nietGetoond"]  # counts and sentences alike
    if user == "accountmanager":
        assert not {"beperkingOnverenigbaar", "beperkingPerEis", "eigenKlanten"} & set(lifting["nietGetoond"])
        assert not any("beperking" in text for text in lifting["nietGetoond"]["toelichting"])
    else:  # K-TIL is consulent2's client: listed for both vacancies, nothing beperking-derived about them
        assert "K-TIL" in ids(plain) and "K-TIL" in ids(lifting)
        assert lifting["nietGetoond"]["beperkingPerEis"] == {}


def test_the_own_consulent_still_sees_the_conflict_and_who_it_left_out(http, tokens) -> None:
    lifting = search(http, tokens["consulent2"], "V-TIL")
    assert "K-TIL" not in ids(lifting)
    assert lifting["nietGetoond"]["beperkingPerEis"] == {"tillen": 1}
    [left_out] = lifting["nietGetoond"]["eigenKlanten"]
    assert left_out["klantId"] == "K-TIL" and "tillen" in left_out["redenen"][0]
    assert any("eigen caseload" in text for text in lifting["nietGetoond"]["toelichting"])


def test_a_push_does_not_depend_on_beperkingen_either(http, tokens) -> None:
    def push(vacancy: str) -> dict:
        response = http.post(f"/api/v1/vacatures/{vacancy}/push", json={"aantal": 5}, headers=tokens["accountmanager"])
        assert response.status_code in (200, 201), response.text
        return response.json()

    assert len(push("V-GEEN")["kandidaten"]) == len(push("V-TIL")["kandidaten"]) == 5


@pytest.mark.parametrize("user", ["accountmanager", "consulent1"])
def test_outsiders_see_a_distance_band_never_kilometres(http, tokens, user) -> None:
    listing = search(http, tokens[user], "V-GEEN")
    outsiders = [item for item in listing["resultaten"] if not item.get("eigenKlant")]
    assert outsiders
    for item in outsiders:
        assert item["afstandKm"] is None and item["afstandsklasse"] in BANDS
        assert "distance" not in item["signalen"]
        assert all(part["kenmerk"] != "reis" for part in item["bijdragen"])
        opbouw = item["scoreOpbouw"]  # distance and text not apart: the rest would give the distance
        assert {part["kenmerk"] for part in opbouw["onderdelen"]} == {
            "competenties",
            "ervaring",
            "uren",
            "begeleiding",
            "eisen",
        }
        assert opbouw["nietGetoond"] == ["reis", "tekst"]
        parts = sum(part["punten"] for part in opbouw["onderdelen"]) + opbouw["nietGetoondPunten"]
        assert opbouw["startpunt"] + parts == item["score"]
        assert not any(EXACT_DISTANCE.search(text) for text in item["redenen"] + item["aandachtspunten"])
        assert item["rangschikkingsscore"] == round(item["rangschikkingsscore"], disclosure.OUTSIDER_SCORE_DECIMALS)
    own = [item for item in listing["resultaten"] if item.get("eigenKlant")]
    assert (user == "consulent1") == bool(own)
    assert all(isinstance(item["afstandKm"], float) and "distance" in item["signalen"] for item in own)


@pytest.mark.parametrize("user", ["accountmanager", "consulent1", "consulent2"])
def test_every_list_is_what_its_response_model_documents(http, tokens, user) -> None:
    """The routes answer plain JSON for speed; the response models in the OpenAPI document describe it."""
    for vacancy in ("V-GEEN", "V-TIL"):
        listing = MatchKandidaten.model_validate(search(http, tokens[user], vacancy))
        own = [item for item in listing.resultaten if item.eigen_klant]
        assert all(item.aanpassingen is not None for item in own)  # kansen: for the own caseload only
        assert all(item.aanpassingen is None for item in listing.resultaten if not item.eigen_klant)
    if user != "accountmanager":
        client = "K-A1" if user == "consulent1" else "K-TIL"
        body = {"klantId": client, "top": 5}
        response = http.post("/api/v1/matches/vacatures", json=body, headers=tokens[user])
        assert response.status_code == 200, response.text
        assert MatchVacatures.model_validate(response.json()).resultaten


def test_a_radius_cannot_measure_an_outsiders_distance(http) -> None:
    matcher: Matcher = http.app.state.matcher

    def listed(viewer: Viewer, km: float) -> set[str]:
        return ids(
            matcher.search_candidates("V-GEEN", 10, filters=CandidateFilters(max_km=km), viewer=viewer).to_json()
        )

    radii = [0.5 * step for step in range(1, 11)]  # 0.5 … 5.0 km, all inside the first band
    exact = [("K-TIL" in listed(EVERYONE, km)) for km in radii]
    assert len(set(exact)) == 2  # the attack works on exact distances: K-TIL enters at one radius
    for viewer in (OUTSIDER, Viewer(caseload="wc-a")):
        assert all("K-TIL" in listed(viewer, km) for km in radii)  # the whole band, whatever the radius
    own = [("K-TIL" in listed(Viewer(caseload="wc-b"), km)) for km in radii]
    assert own == exact  # the own consulent filters on the exact distance


def test_bands_and_rounded_radii() -> None:
    assert [disclosure.distance_band(km) for km in (0.0, 5.0, 5.1, 19.9, 50.0, 51.0)] == [
        "0–5 km",
        "0–5 km",
        "5–10 km",
        "10–20 km",
        "20–50 km",
        "meer dan 50 km",
    ]
    assert [disclosure.radius_for_outsiders(km) for km in (0.1, 5.0, 7.5, 49.0)] == [5.0, 5.0, 10.0, 50.0]
    assert disclosure.radius_for_outsiders(80.0) == float("inf")


def test_the_own_consulent_reads_the_conflict_of_a_pushed_candidate_in_the_inbox(http, tokens) -> None:
    pushed = http.post("/api/v1/vacatures/V-TIL/push", json={"aantal": 5}, headers=tokens["accountmanager"])
    assert pushed.status_code in (200, 201), pushed.text
    items = http.get("/api/v1/inbox", headers=tokens["consulent2"]).json()["items"]
    mine = {item["klantId"]: item for item in items if item["vacatureId"] == "V-TIL"}
    assert "tillen" in mine["K-TIL"]["aandachtspuntenBeperkingen"][0]
    assert mine["K-B2"]["aandachtspuntenBeperkingen"] == []
