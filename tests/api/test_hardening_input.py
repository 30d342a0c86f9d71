"""Issue 15, bad input: vocabularies, list limits, control characters, date ranges, identifiers in free text.

The domain schemas are tested here directly; the API and import paths that use them are tested
further down (real app, real SQLite), each with the attack the audit made.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import Session, select

from matching.domain import MAX_ITEMS, Client, ClientIn, VacancyIn
from matching.errors import dutch_messages
from tests.factories import app_settings, client_in, logins, make_client, make_vacancy, running_app, vacancy_in


def refused(make: Any, **overrides: Any) -> list[str]:
    """The Dutch messages of a record the schema refuses."""
    with pytest.raises(ValidationError) as caught:
        make(**overrides)
    return dutch_messages(caught.value)


# ------------------------------------------------------------------------------------------- vocabularies


def test_an_unknown_competence_code_is_refused_naming_field_and_code() -> None:
    [message] = refused(client_in, competenties=[{"code": "orderpicken"}, {"code": "raketbouw"}])
    assert message.startswith("competenties[2].code: onbekende competentiecode 'raketbouw'")
    [message] = refused(vacancy_in, competenties_gewenst=[{"code": "orderpikken"}])
    assert "'orderpikken'" in message and "bedoelt u 'orderpicken'?" in message


def test_a_formula_as_code_is_refused() -> None:
    # The audit stored =HYPERLINK(…) as a competence code; it would reach exports and labels.
    [message] = refused(client_in, competenties=[{"code": '=HYPERLINK("http://x.nl","klik")'}])
    assert "onbekende competentiecode '=HYPERLINK(" in message


@pytest.mark.parametrize(
    ("make", "overrides", "field", "what"),
    [
        (
            client_in,
            {"werkervaring": [{"beroep_code": "astronaut", "jaren": 2}]},
            "werkervaring[1].beroepCode",
            "beroepcode",
        ),
        (client_in, {"wensen": {"beroepen": ["orderpicker", "astronaut"]}}, "wensen.beroepen[2]", "beroepcode"),
        (client_in, {"wensen": {"sectoren": ["ruimtevaart"]}}, "wensen.sectoren[1]", "sector"),
        (client_in, {"certificaten": ["vca_basis", "brevet"]}, "certificaten[2]", "certificaatcode"),
        (vacancy_in, {"beroep_code": "astronaut"}, "beroepCode", "beroepcode"),
        (vacancy_in, {"certificaten": ["brevet"]}, "certificaten[1]", "certificaatcode"),
    ],
)
def test_unknown_occupation_sector_and_certificate_codes_are_refused(make, overrides, field, what) -> None:
    [message] = refused(make, **overrides)
    assert message.startswith(f"{field}: onbekende {what} '")


def test_known_codes_from_the_reference_data_pass() -> None:
    client = client_in(certificaten=["vca_basis"], wensen={"beroepen": ["orderpicker"], "sectoren": ["logistiek"]})
    assert client.certificaten == ["vca_basis"]


# -------------------------------------------------------------------------------------------- list limits


@pytest.mark.parametrize(
    ("make", "field", "item"),
    [
        (client_in, "competenties", lambda i: {"code": "orderpicken"}),
        (client_in, "certificaten", lambda i: "vca_basis"),
        (client_in, "werkervaring", lambda i: {"beroep_code": "orderpicker", "jaren": 1}),
        (client_in, "beperkingen", lambda i: {"aspect": "tillen", "ernst": 1}),
        (client_in, "vervoermiddel", lambda i: "fiets"),
        (vacancy_in, "competenties_vereist", lambda i: {"code": "orderpicken"}),
        (vacancy_in, "belasting", lambda i: {"aspect": "tillen", "niveau": 1}),
        (vacancy_in, "werktijden", lambda i: "dag"),
    ],
)
def test_lists_are_limited(make, field, item) -> None:
    make(**{field: [item(i) for i in range(MAX_ITEMS)]})
    [message] = refused(make, **{field: [item(i) for i in range(MAX_ITEMS + 1)]})
    assert message.endswith(f"mag hoogstens {MAX_ITEMS} items bevatten")


def test_the_audits_3000_unique_codes_give_one_short_message() -> None:
    messages = refused(client_in, competenties=[{"code": f"c{i:05d}"} for i in range(3000)])
    assert messages == [f"competenties: mag hoogstens {MAX_ITEMS} items bevatten"]
    messages = refused(client_in, wensen={"beroepen": [f"b{i}" for i in range(20_000)]})
    assert messages == [f"wensen.beroepen: mag hoogstens {MAX_ITEMS} items bevatten"]


def test_free_text_labels_are_limited() -> None:
    [message] = refused(client_in, competenties=[{"code": "orderpicken", "label": "x" * 201}])
    assert message == "competenties[1].label: mag hoogstens 200 tekens bevatten"


# ------------------------------------------------------------------------------------- control characters


@pytest.mark.parametrize(
    ("make", "field", "value"),
    [
        (client_in, "zelfbeschrijving", "Ik werk graag\x00 buiten"),
        (client_in, "consulent", "wc-a\x00"),
        (client_in, "notities", "escape \x1b[31m rood"),
        (client_in, "notities", "omgekeerd \u202egnitset"),
        (vacancy_in, "titel", "Orderpicker\x00"),
        (vacancy_in, "omschrijving", "tekst met \x7f"),
    ],
)
def test_control_characters_are_refused_in_every_text(make, field, value) -> None:
    [message] = refused(make, **{field: value})
    assert "stuurteken (U+" in message
    assert "\x00" not in message and "\x1b" not in message and "\u202e" not in message


def test_a_control_character_in_a_nested_text_or_a_list_is_refused() -> None:
    [message] = refused(client_in, beperkingen=[{"aspect": "tillen", "ernst": 2, "toelichting": "rug\x00"}])
    assert message.startswith("beperkingen[1].toelichting: bevat een onzichtbaar stuurteken (U+0000)")


def test_tabs_and_line_breaks_stay_allowed_in_free_text() -> None:
    text = "Eerste regel.\r\nTweede\tregel."
    assert client_in(zelfbeschrijving=text).zelfbeschrijving == text


def test_a_lone_surrogate_is_refused_without_being_echoed() -> None:
    [message] = refused(client_in, zelfbeschrijving="geheim \ud800 verhaal")
    assert message.startswith("zelfbeschrijving: ") and "\ud800" not in message and "geheim" not in message
    message.encode("utf-8")  # what is said can be sent


# -------------------------------------------------------------------------------------------------- dates


@pytest.mark.parametrize("value", ["0001-01-01", "1899-12-31", "2101-01-01", "9999-12-31"])
def test_dates_outside_1900_to_2100_are_refused(value: str) -> None:
    [message] = refused(vacancy_in, sluitingsdatum=value)
    assert message == f"sluitingsdatum: {value} ligt buiten 1900–2100; vul een datum in als 2025-03-01"
    [message] = refused(client_in, beschikbaar_per=value)
    assert message.startswith(f"beschikbaarPer: {value} ligt buiten 1900–2100")


def test_dates_inside_the_range_pass() -> None:
    assert str(vacancy_in(sluitingsdatum="2100-12-31").sluitingsdatum) == "2100-12-31"
    assert str(client_in(beschikbaar_per="1900-01-01").beschikbaar_per) == "1900-01-01"


# ------------------------------------------------------------------------------ identifiers in free text


@pytest.mark.parametrize(
    ("field", "value", "found"),
    [
        ("zelfbeschrijving", "Bel me op 06-12345678.", "een telefoonnummer"),
        ("notities", "BSN 123456782 opgevraagd", "een BSN-achtig nummer"),
        ("zelfbeschrijving", "mail: jan.jansen@example.nl", "een e-mailadres"),
    ],
)
def test_identifiers_in_a_clients_free_text_are_refused_named_not_echoed(field, value, found) -> None:
    [message] = refused(client_in, **{field: value})
    assert message.startswith(f"{field}: bevat {found};")
    for secret in ("12345678", "123456782", "jan.jansen"):
        assert secret not in message


def test_identifiers_in_a_beperking_toelichting_are_refused() -> None:
    toelichting = "overleg met huisarts, 020-1234567"
    [message] = refused(client_in, beperkingen=[{"aspect": "tillen", "ernst": 2, "toelichting": toelichting}])
    assert message.startswith("beperkingen[1].toelichting: bevat een telefoonnummer")


def test_a_vacancy_may_name_the_employers_contact_but_never_a_bsn() -> None:
    text = "Solliciteren: mail hr@bakkerij.nl of bel 026-1234567."
    assert vacancy_in(omschrijving=text).omschrijving == text
    [message] = refused(vacancy_in, omschrijving="Kandidaat 123456782 voorgesteld")
    assert message.startswith("omschrijving: bevat een BSN-achtig nummer")


def test_schemas_keep_refusing_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        ClientIn.model_validate({"klantNummer": "K1", "\ud800": 1})
    with pytest.raises(ValidationError):
        VacancyIn.model_validate({"vacatureNummer": "V1", "x\x00": 1})


# ------------------------------------------------------------------------------ through the API and the web


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[TestClient]:
    def records(session: Session) -> None:
        make_client(session, client_nummer="K-VAN-A", consulent="wc-a")  # consulent1 is wc-a, consulent2 wc-b
        make_client(session, client_nummer="K-VAN-B", consulent="wc-b")
        make_vacancy(session, vacature_nummer="V-HARD")

    settings = app_settings(tmp_path_factory.mktemp("hardening-input") / "var", ops={"rate_burst": 10_000})
    # Like the server: an exception becomes a 500 answer, not an exception in the test.
    with running_app(settings, embedder, records, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def tokens(http: TestClient) -> dict[str, dict[str, str]]:
    return logins(http, "consulent1", "consulent2", "accountmanager", "beheerder")


def klant(number: str, **overrides: Any) -> dict[str, Any]:
    return {"klantNummer": number, "trede": 4, "route": "werk", "postcode": "6811AB", **overrides}


def problem_of(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


def raw_post(http: TestClient, path: str, body: bytes, headers: dict[str, str]):
    return http.post(path, content=body, headers={**headers, "Content-Type": "application/json"})


def test_a_lone_surrogate_in_a_json_string_is_a_dutch_400_and_stays_out_of_the_log(
    http, tokens, caplog, capsys
) -> None:
    # The audit: "\ud800" in any JSON string was a 500 whose traceback wrote the request, toelichting
    # included, into the server log.
    caplog.set_level(logging.DEBUG)
    body = (
        b'{"klantNummer": "K-SUR", "trede": 4, "route": "werk", "postcode": "6811", "beperkingen": '
        b'[{"aspect": "tillen", "ernst": 2, "toelichting": "geheime rugklachten \\ud800"}]}'
    )
    problem = problem_of(raw_post(http, "/api/v1/klanten", body, tokens["consulent1"]), 400)
    assert [item["name"] for item in problem["invalidParams"]] == ["beperkingen[1].toelichting"]
    assert "Unicode" in problem["invalidParams"][0]["reason"]
    rest = b'"trede": 4, "route": "werk", "postcode": "6811"}'
    for start in (b'{"klantNummer": "K\\ud800", ', b'{"klantNummer": "K-SUR2", "\\ud800": 1, '):
        problem = problem_of(raw_post(http, "/api/v1/klanten", start + rest, tokens["consulent1"]), 400)
        assert problem["invalidParams"] and "\ud800" not in str(problem)  # said, never echoed raw
    search = raw_post(http, "/api/v1/matches/vacatures", b'{"klantId": "K\\ud800"}', tokens["consulent1"])
    assert search.status_code in (400, 404), search.text
    logged = capsys.readouterr().err + "\n".join(record.getMessage() for record in caplog.records)
    logged += "\n".join(record.exc_text or "" for record in caplog.records)
    assert "geheime rugklachten" not in logged and " 500" not in logged


def test_the_audits_3000_codes_post_is_refused_and_nothing_is_stored(http, tokens) -> None:
    codes = [{"code": f"vaardigheid-{i:05d}", "niveau": 2} for i in range(3000)]
    problem = problem_of(
        http.post("/api/v1/klanten", json=klant("K-3000", competenties=codes), headers=tokens["consulent1"]), 400
    )
    assert problem["invalidParams"] == [{"name": "competenties", "reason": f"mag hoogstens {MAX_ITEMS} items bevatten"}]
    problem_of(http.get("/api/v1/klanten/K-3000", headers=tokens["consulent1"]), 404)
    vacancy = {"vacatureNummer": "V-3000", "bron": "WSP", "werkgever": "X", "titel": "Y", "postcode": "6811"}
    vacancy["competentiesVereist"] = codes
    problem_of(http.post("/api/v1/vacatures", json=vacancy, headers=tokens["accountmanager"]), 400)
    problem_of(http.get("/api/v1/vacatures/V-3000", headers=tokens["accountmanager"]), 404)


def test_an_unknown_code_is_a_400_naming_field_and_code(http, tokens) -> None:
    body = klant("K-CODE", competenties=[{"code": '=HYPERLINK("http://x")'}], certificaten=["brevet"])
    problem = problem_of(http.post("/api/v1/klanten", json=body, headers=tokens["consulent1"]), 400)
    reasons = {item["name"]: item["reason"] for item in problem["invalidParams"]}
    assert set(reasons) == {"competenties[1].code", "certificaten[1]"}
    assert "'=HYPERLINK(\"http://x\")'" in reasons["competenties[1].code"] and "'brevet'" in reasons["certificaten[1]"]


def test_nul_characters_dates_and_identifiers_are_refused_by_the_api(http, tokens) -> None:
    cases = {
        "zelfbeschrijving": klant("K-NUL", zelfbeschrijving="a\x00b"),
        "beschikbaarPer": klant("K-JAAR1", beschikbaarPer="0001-01-01"),
        "notities": klant("K-TEL", notities="bellen op 06 12 34 56 78"),
    }
    for field, body in cases.items():
        problem = problem_of(http.post("/api/v1/klanten", json=body, headers=tokens["consulent1"]), 400)
        assert [item["name"] for item in problem["invalidParams"]] == [field]
    vacancy = {"vacatureNummer": "V-JAAR1", "bron": "WSP", "werkgever": "X", "titel": "Y", "postcode": "6811"}
    problem = problem_of(
        http.post("/api/v1/vacatures", json={**vacancy, "sluitingsdatum": "0001-01-01"}, headers=tokens["beheerder"]),
        400,
    )
    assert problem["invalidParams"][0]["name"] == "sluitingsdatum"


def test_posting_another_caseloads_klantnummer_is_the_404_of_an_unknown_one(http, tokens) -> None:
    # The audit: POST of wc-b's number by wc-a said "bestaat al" (409), telling which numbers exist elsewhere.
    taken = problem_of(http.post("/api/v1/klanten", json=klant("K-VAN-B"), headers=tokens["consulent1"]), 404)
    unknown = problem_of(http.get("/api/v1/klanten/K-NIEMAND", headers=tokens["consulent1"]), 404)
    assert taken["title"] == unknown["title"]
    assert taken["detail"].replace("K-VAN-B", "X") == unknown["detail"].replace("K-NIEMAND", "X")
    own = problem_of(http.post("/api/v1/klanten", json=klant("K-VAN-A"), headers=tokens["consulent1"]), 409)
    assert "bestaat al" in own["detail"]
    with Session(http.app.state.engine) as session:
        assert session.exec(select(Client.consulent).where(Client.client_nummer == "K-VAN-B")).one() == "wc-b"


@pytest.mark.parametrize("depth", [2_000, 50_000])
def test_deeply_nested_json_is_a_dutch_400_in_body_and_import(http, tokens, depth: int) -> None:
    nested = b"[" * depth + b"]" * depth
    body = b'{"klantNummer": "K-DIEP", "notities": ' + nested + b"}"
    problem_of(raw_post(http, "/api/v1/klanten", body, tokens["consulent1"]), 400)
    upload = {"bestand": ("diep.json", b"[" + body + b"]", "application/json")}
    problem = problem_of(http.post("/api/v1/klanten/import", files=upload, headers=tokens["consulent1"]), 400)
    assert "te diep genest" in problem["detail"] and "diep.json" in problem["detail"]


@pytest.mark.parametrize("query", ["tot=9999-12-31", "vanaf=0001-01-01", "vanaf=9999-12-31&tot=9999-12-31"])
def test_the_audit_page_answers_a_date_at_the_end_of_the_calendar_next_to_the_field(http, query: str) -> None:
    web = TestClient(http.app, raise_server_exceptions=False)  # its own cookie jar
    web.post("/inloggen", data={"gebruikersnaam": "beheerder", "wachtwoord": "beheerder-demo-wachtwoord"})
    page = web.get(f"/beheer/audit?{query}")
    assert page.status_code == 400, page.text
    assert "Vul een datum tussen 1900 en 2100 in." in page.text
    oversight = web.get(f"/toezicht?{query}")
    assert oversight.status_code == 400 and "Vul een datum tussen 1900 en 2100 in." in oversight.text


@pytest.mark.parametrize(
    ("note", "found"),
    [("bel haar op 06-12345678", "telefoonnummer"), ("mail jan@example.nl", "e-mailadres"), ("a\x00b", "stuurteken")],
)
def test_a_note_beside_a_voorstel_or_push_refuses_identifiers_and_control_characters(note: str, found: str) -> None:
    """Notes are written by the API, not the profile schema: they took phone numbers, e-mail and NUL as they came."""
    from matching.errors import InvalidInputError
    from matching.outcomes import clean_toelichting

    with pytest.raises(InvalidInputError, match=found):
        clean_toelichting(note)
    assert clean_toelichting("  kent het bedrijf al  ") == "kent het bedrijf al"
    assert clean_toelichting("   ") is None


def test_a_voorstel_with_a_phone_number_in_its_toelichting_is_a_dutch_400(http, tokens) -> None:
    body = {"klantId": "K-VAN-A", "vacatureId": "V-HARD", "toelichting": "bel haar op 06-12345678"}
    problem = problem_of(http.post("/api/v1/voorstellen", json=body, headers=tokens["consulent1"]), 400)
    [param] = problem["invalidParams"]
    assert param["name"] == "toelichting" and "telefoonnummer" in param["reason"]
    assert "12345678" not in str(problem)
