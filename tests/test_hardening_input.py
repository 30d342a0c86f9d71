"""Issue 15, bad input: vocabularies, list limits, control characters, date ranges, identifiers in free text.

The domain schemas are tested here directly; the API and import paths that use them are tested
further down (real app, real SQLite), each with the attack the audit made.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from matching.domain import MAX_ITEMS, ClientIn, VacancyIn
from matching.errors import dutch_messages
from tests.factories import client_in, vacancy_in


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
        ClientIn.model_validate({"clientNummer": "K1", "\ud800": 1})
    with pytest.raises(ValidationError):
        VacancyIn.model_validate({"vacatureNummer": "V1", "x\x00": 1})
