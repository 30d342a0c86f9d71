"""Domain errors and Dutch sentences for pydantic validation errors."""

from __future__ import annotations

import re
from typing import Any, Literal
from uuid import UUID

import pytest
from pydantic import Field, ValidationError

from matching.domain import ClientIn, Schema, VacancyIn
from matching.errors import (
    ImportFileError,
    InvalidInputError,
    ModelError,
    NotFoundError,
    WerkmatchError,
    dutch_messages,
    field_path,
)

VALID_CLIENT: dict[str, Any] = {
    "klantNummer": "K0000001",
    "consulent": "consulent-a",
    "trede": 4,
    "route": "werk",
    "postcode": "6811AB",
}
VALID_VACANCY: dict[str, Any] = {
    "vacatureNummer": "V0000001",
    "bron": "WSP",
    "werkgever": "Logistiek Arnhem BV",
    "titel": "Orderpicker",
    "postcode": "6902",
}
# Words of pydantic's English messages; none may reach a user.
ENGLISH = re.compile(
    r"Input should|Field required|Value error|Extra inputs|should|valid|must|String|"
    r"characters|greater|less|unable|Assertion|\bor\b|\bthe\b|\bat\b",
)


class _Edge(Schema):
    """A schema with the constraint types the domain schemas do not use (yet)."""

    soort: Literal["a", "b"] = "a"
    items: list[str] = Field([], max_length=2)
    verplicht: list[str] = Field(["x"], min_length=1)
    fractie: float = Field(0.5, lt=1)
    code: str = Field("ab", pattern=r"^[a-z]+$")
    sleutel: UUID | None = None


def _messages(model: type[Schema], data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return dutch_messages(caught.value)


def test_error_classes_share_the_dutch_base() -> None:
    for error_class in (NotFoundError, InvalidInputError, ImportFileError, ModelError):
        error = error_class("vacature V812 bestaat niet; controleer het vacaturenummer")
        assert isinstance(error, WerkmatchError)
        assert str(error) == "vacature V812 bestaat niet; controleer het vacaturenummer"


def test_trede_out_of_range_names_value_and_range() -> None:
    assert _messages(ClientIn, {**VALID_CLIENT, "trede": 7}) == ["trede: 7 is geen geldige trede; kies 0 t/m 5"]
    assert _messages(ClientIn, {**VALID_CLIENT, "trede": "7"}) == ["trede: 7 is geen geldige trede; kies 0 t/m 5"]


def test_enum_lists_allowed_values() -> None:
    assert _messages(ClientIn, {**VALID_CLIENT, "route": "snel"}) == [
        "route: 'snel' is geen geldige route; kies uit: werk, perspectief, meedoen"
    ]
    assert _messages(ClientIn, {**VALID_CLIENT, "route": None}) == [
        "route: mag niet leeg zijn; kies uit: werk, perspectief, meedoen"
    ]


def test_date_errors_name_the_value_and_the_format() -> None:
    assert _messages(ClientIn, {**VALID_CLIENT, "beschikbaarPer": "morgen"}) == [
        "beschikbaarPer: moet een datum zijn in de vorm JJJJ-MM-DD, bijv. 2025-03-01, niet 'morgen'"
    ]


def test_examples_from_the_brief() -> None:
    data = {key: value for key, value in VALID_CLIENT.items() if key != "postcode"}
    messages = _messages(ClientIn, {**data, "urenMax": "veel", "wensen": {"max_reisafstand_km": 0}})
    assert messages == [
        "postcode: ontbreekt",
        "urenMax: moet een geheel getal zijn",
        "wensen.maxReisafstandKm: moet groter zijn dan 0",
    ]


def test_own_validators_pass_through_without_prefix() -> None:
    assert _messages(ClientIn, {**VALID_CLIENT, "klantNummer": "123456789"}) == [
        "klantNummer: klantnummer lijkt op een BSN (9 cijfers); gebruik het pseudonieme klantnummer"
    ]
    assert _messages(ClientIn, {**VALID_CLIENT, "urenMin": 30, "urenMax": 20}) == [
        "urenMin (30) is groter dan urenMax (20)"
    ]


def test_list_positions_count_from_one() -> None:
    data = {**VALID_CLIENT, "competenties": [{"code": "orderpicken"}, {"code": "samenwerken", "niveau": 4}]}
    assert _messages(ClientIn, data) == ["competenties[2].niveau: mag hoogstens 3 zijn"]


def test_field_path_turns_snake_case_into_camel_case() -> None:
    assert field_path(("wensen", "werktijden_uitgesloten", 0)) == "wensen.werktijdenUitgesloten[1]"
    assert field_path(()) == ""


BAD_CLIENTS: list[dict[str, Any]] = [
    {**VALID_CLIENT, "trede": "hoog", "route": None, "postcode": "0000"},
    {**VALID_CLIENT, "urenMin": -1, "urenMax": 61, "onbekend": 1, "beschikbaarPer": "morgen"},
    {**VALID_CLIENT, "beschikbaarPer": "2026-01-01T10:30:00", "rijbewijs": "B", "taalniveau": "Z9"},
    {**VALID_CLIENT, "competenties": [{"code": ""}, "orderpicken"], "werkervaring": [{"beroepCode": "kok"}]},
    {**VALID_CLIENT, "wensen": {"maxReistijdMin": 1.5, "werktijdenUitgesloten": ["zondag"]}, "notities": "x" * 4001},
    {**VALID_CLIENT, "beperkingen": [{"aspect": "vliegen", "ernst": 1}, {"aspect": "tillen", "ernst": 0}]},
    {**VALID_CLIENT, "werkervaring": [{"beroepCode": "kok", "jaren": "lang"}], "wensen": []},
]
BAD_VACANCIES: list[dict[str, Any]] = [
    {**VALID_VACANCY, "bron": "UWV", "jobcoach": "misschien", "werkgever": "", "aantalPlaatsen": 1.5},
    {**VALID_VACANCY, "sluitingsdatum": "31-02-2027", "belasting": [{"aspect": "tillen", "niveau": 9}]},
]
BAD_EDGES: list[dict[str, Any]] = [
    {"soort": "c", "items": ["a", "b", "c"], "verplicht": [], "fractie": 1, "code": "AB", "sleutel": "geen-uuid"},
]


@pytest.mark.parametrize(
    ("model", "data"),
    [(ClientIn, data) for data in BAD_CLIENTS]
    + [(VacancyIn, data) for data in BAD_VACANCIES]
    + [(_Edge, data) for data in BAD_EDGES],
)
def test_no_english_reaches_the_user(model: type[Schema], data: dict[str, Any]) -> None:
    messages = _messages(model, data)
    assert messages
    for message in messages:
        assert not ENGLISH.search(message.split(": ", 1)[-1]), message


def test_edge_types_have_their_own_sentences() -> None:
    messages = _messages(_Edge, BAD_EDGES[0])
    assert messages[:5] == [
        "soort: 'c' is geen geldige soort; kies uit: a, b",
        "items: mag hoogstens 2 items bevatten",
        "verplicht: mag niet leeg zijn",
        "fractie: moet kleiner zijn dan 1",
        "code: 'AB' heeft niet de juiste vorm",
    ]
    # an error type without its own sentence still gets a Dutch one
    assert messages[5] == "sleutel: waarde 'geen-uuid' is ongeldig; controleer dit veld"
