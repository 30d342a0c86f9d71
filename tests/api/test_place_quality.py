"""Vacancies by place and distance (issue 18, item 7) and one definition of a complete profile (item 8).

The place search is checked against oracles: the PC4 table's own place names and a brute-force
distance over every PC4; the profile's state against :func:`matching.quality.assess` on every answer
that shows it (the caseload list, the profile, "profielen met aandacht", a candidate's card).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from matching import geo, quality, vacancy_search
from matching.settings import Settings, load_settings
from tests.factories import app_settings, assert_problem, make_client, make_vacancy, running_app

ARNHEM = geo.find_place("Arnhem")[1]  # type: ignore[index]

# ------------------------------------------------------------------------------------------ pure


def _places(text: str) -> list[str | None]:
    return [place.name if place else None for _, place in vacancy_search.parse(text).words]


def test_a_place_among_the_words_is_found_without_case_or_accents() -> None:
    assert _places("orderpicker Arnhem") == [None, "Arnhem"]
    assert _places("ARNHEM orderpicker") == ["Arnhem", None]
    assert _places("kok Den Haag") == [None, "'s-Gravenhage"]  # the everyday name
    assert _places("'s-hertogenbosch") == _places("Den Bosch") == ["'s-Hertogenbosch"]
    assert _places("Alphen aan den Rijn kok") == ["Alphen aan den Rijn", None]  # four words, one place
    assert _places("1e Exloermond") == ["1e Exloërmond"]  # without the diaeresis
    assert _places("orderpicker heftruck") == [None, None]
    arnhem = vacancy_search.parse("arnhem").words[0][1]
    assert arnhem is not None and set(arnhem.codes) == {
        code for code, place in zip(geo.load_pc4().codes, geo.load_pc4().places, strict=True) if place == "Arnhem"
    }


def test_the_radius_keeps_exactly_the_pc4s_a_brute_force_distance_keeps() -> None:
    table = geo.load_pc4()
    for centre, km in ((ARNHEM, 10.0), (("1011",), 7.5), (("9711",), 2.0)):
        brute = {code for code in table.codes if min(geo.distance_km(code, c) for c in centre) <= km}
        assert set(geo.codes_within(centre, km)) == brute, (centre, km)
    assert geo.km_from(ARNHEM, "6827AB") == 0.0 and geo.km_from(ARNHEM, "0000") is None


def test_binnen_x_km_van_reads_a_decimal_comma_a_place_or_a_postcode() -> None:
    query = vacancy_search.parse("orderpicker binnen 7,5 km van Arnhem")
    assert query.radius_km == 7.5 and query.centre is not None and query.centre.name == "Arnhem"
    assert [word for word, _ in query.words] == ["orderpicker"]
    assert set(query.area or ()) == set(geo.codes_within(ARNHEM, 7.5))
    by_postcode = vacancy_search.parse("", "6811 ab", "3")
    assert by_postcode.centre is not None and by_postcode.centre.name == "6811 Arnhem"
    assert vacancy_search.parse("", "Arnhem").area == ARNHEM  # a place without a radius: in that place


@pytest.mark.parametrize(
    ("args", "field", "text"),
    [
        (("", "Arnhm"), "plaats", "'Arnhm' ken ik niet als plaats; bedoelt u Arnhem?"),
        (("kok binnen 5 km van Nergenshuizen",), "zoek", "'Nergenshuizen' ken ik niet als plaats"),
        (("", "0000"), "plaats", "'0000' ken ik niet als plaats"),
        (("", "1000"), "plaats", "postcode '1000' ken ik niet"),
        (("", "Arnhem", "vijf"), "straalKm", "'vijf' is geen afstand"),
        (("", "Arnhem", "0"), "straalKm", "0 km kan niet"),
        (("", "Arnhem", "1.000,5"), "straalKm", "geen afstand"),
        (("", "Arnhem", "301"), "straalKm", "301 km kan niet"),
        (("", None, "5"), "plaats", "binnen 5 km van welke plaats?"),
    ],
)
def test_an_unusable_place_or_distance_is_a_dutch_error_naming_the_field(
    args: tuple[str, ...], field: str, text: str
) -> None:
    with pytest.raises(vacancy_search.SearchFieldError, match=text) as refused:
        vacancy_search.parse(*args)
    assert refused.value.field == field and str(refused.value).startswith(f"{field}: ")


def test_the_source_system_link_is_a_checked_template_or_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().bronsysteem_link("K1") is None
    linked = Settings(bronsysteem_url="https://szeebra.example/klant/{klantnummer}")
    assert linked.bronsysteem_link("K 1/2") == "https://szeebra.example/klant/K%201%2F2"
    for bad, text in (
        ("szeebra.example/{klantnummer}", "begint met https://"),
        ("https://szeebra.example/klant", "{klantnummer} bevat"),
        ("https://x.example/{klantnummer}/{klant.__class__}", "alleen {klantnummer}"),
    ):
        monkeypatch.setenv("WERKMATCH_BRONSYSTEEM_URL", bad)
        with pytest.raises(Exception, match="WERKMATCH_BRONSYSTEEM_URL") as refused:
            load_settings()
        assert text in str(refused.value)
    assert os.environ["WERKMATCH_BRONSYSTEEM_URL"]  # the last bad one; monkeypatch restores it


# ------------------------------------------------------------------------------------------ API

VACANCIES = {
    "V-ARN-OP": {"titel": "Orderpicker", "werkgever": "Distributie Oost", "postcode": "6827AB"},
    "V-ARN-KOK": {"titel": "Kok", "werkgever": "Restaurant De Rijn", "postcode": "6811"},
    "V-VELP-OP": {"titel": "Orderpicker", "werkgever": "Magazijn Oost BV", "postcode": "6881"},
    "V-NIJM-OP": {"titel": "Orderpicker", "werkgever": "Waalhaven BV", "postcode": "6511"},
    "V-AMS-OP": {"titel": "Orderpicker", "werkgever": "Haven Logistiek Arnhem", "postcode": "1011"},
}


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[TestClient]:
    def records(session: Session) -> None:
        for number, fields in VACANCIES.items():
            make_vacancy(session, vacature_nummer=number, **fields)
        make_client(session, client_nummer="K-HEEL", consulent="wc-a")
        make_client(session, client_nummer="K-BIJNA", consulent="wc-a", zelfbeschrijving="", vervoermiddel=[])
        make_client(session, client_nummer="K-LEEG", consulent="wc-a", competenties=[], werkervaring=[])

    with running_app(app_settings(tmp_path_factory.mktemp("plaats") / "var"), embedder, records) as client:
        yield client


def _numbers(http: TestClient, token: dict[str, str], **params: str) -> set[str]:
    response = http.get("/api/v1/vacatures", params=params, headers=token)
    assert response.status_code == 200, response.text
    return {row["vacatureNummer"] for row in response.json()["resultaten"]}


def test_the_vacancy_list_finds_by_place_and_by_distance(http, tokens) -> None:
    token = tokens["accountmanager"]
    assert _numbers(http, token, zoek="orderpicker arnhem") == {"V-ARN-OP", "V-AMS-OP"}  # the employer's name too
    assert _numbers(http, token, zoek="orderpicker", plaats="ARNHEM") == {"V-ARN-OP"}
    assert _numbers(http, token, zoek="kok", plaats="arnhem") == {"V-ARN-KOK"}
    # Velp lies 1.8 km from the nearest Arnhem PC4, Nijmegen 11.0 km, Amsterdam 77 km
    assert _numbers(http, token, zoek="orderpicker", plaats="Arnhem", straalKm="5") == {"V-ARN-OP", "V-VELP-OP"}
    assert _numbers(http, token, zoek="orderpicker", plaats="Arnhem", straalKm="12") == {
        "V-ARN-OP",
        "V-VELP-OP",
        "V-NIJM-OP",
    }
    # from one postcode, not the whole town: Nijmegen is 15.0 km from 6827's centroid
    assert _numbers(http, token, zoek="orderpicker binnen 12 km van 6827") == {"V-ARN-OP", "V-VELP-OP"}
    assert _numbers(http, token, plaats="Amsterdam") == {"V-AMS-OP"}
    # the summary names the place as the web list shows it, and so does the whole vacancy
    listed = http.get("/api/v1/vacatures", params={"plaats": "Velp"}, headers=token).json()["resultaten"]
    assert [(row["vacatureNummer"], row["plaats"]) for row in listed] == [("V-VELP-OP", "Velp")]
    assert http.get("/api/v1/vacatures/V-NIJM-OP", headers=token).json()["plaats"] == "Nijmegen"


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"plaats": "Arnhm"}, "plaats: 'Arnhm' ken ik niet als plaats; bedoelt u Arnhem?"),
        ({"zoek": "kok binnen 5 km van Atlantis"}, "zoek: 'Atlantis' ken ik niet als plaats"),
        ({"straalKm": "5"}, "plaats: binnen 5 km van welke plaats?"),
        ({"plaats": "Arnhem", "straalKm": "0"}, "straalKm"),
    ],
)
def test_an_unknown_place_is_a_400_naming_it(http, tokens, params, text) -> None:
    response = http.get("/api/v1/vacatures", params=params, headers=tokens["accountmanager"])
    assert_problem(response, 400)
    assert text in response.text


def test_one_client_has_the_same_verdict_and_number_in_every_answer(http, tokens) -> None:
    token = tokens["consulent1"]
    listed = http.post("/api/v1/klanten/zoeken", json={"paginaGrootte": 50}, headers=token).json()["resultaten"]
    attention = http.get("/api/v1/klanten/datakwaliteit", params={"alle": "true"}, headers=token).json()
    by_list = {row["klantNummer"]: row for row in listed}
    by_attention = {row["klantNummer"]: row["datakwaliteit"] for row in attention["resultaten"]}
    candidates = http.post(
        "/api/v1/matches/kandidaten", json={"vacatureId": "V-ARN-OP", "top": 20, "heleBestand": True}, headers=token
    )
    assert candidates.status_code == 200, candidates.text
    cards = {card["klantId"]: card for card in candidates.json()["resultaten"]}
    assert {"K-HEEL", "K-BIJNA", "K-LEEG"} <= set(by_list) and {"K-HEEL", "K-BIJNA"} <= set(cards)
    expected = {"K-HEEL": ("ok", 1.0), "K-BIJNA": ("ok", 0.85), "K-LEEG": ("onvolledig", 0.65)}
    for number, (status, score) in expected.items():
        profile = http.get(f"/api/v1/klanten/{number}", headers=token).json()
        shown = [profile["datakwaliteit"], by_list[number]["datakwaliteit"], by_attention[number]]
        if number in cards:
            shown.append(cards[number]["datakwaliteit"])
        for answer in shown:
            assert (answer["status"], answer["score"]) == (status, score), (number, answer)
        missing = [profile["ontbrekendeGegevens"], by_list[number]["ontbrekendeGegevens"]]
        if number in cards:
            missing.append(cards[number]["ontbrekendeGegevens"])
        weights = sum(quality.FIELD_WEIGHTS[name] for name in missing[0])
        assert all(found == missing[0] for found in missing) and 1.0 - weights == pytest.approx(score)
        onvolledig = [s for s in profile["datakwaliteit"]["signalen"] if s.startswith("Profiel onvolledig")]
        assert bool(onvolledig) == (status == "onvolledig"), profile["datakwaliteit"]["signalen"]
    assert attention["aantallen"]["onvolledig"] == 1 and attention["aantallen"]["ok"] == 2
