"""api.web.formats: numbers and dates shown as a Dutch reader writes them, number fields read as a Dutch user types."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from api.web.common import templates
from api.web.formats import FieldError, datum, form_number, getal, km, waarde


@pytest.mark.parametrize(
    ("value", "decimals", "teken", "shown"),
    [
        (0.325, 3, False, "0,325"),
        (2.5, 1, False, "2,5"),
        (9000, None, False, "9.000"),
        (1234567.891, 2, False, "1.234.567,89"),
        (-0.66, 2, False, "-0,66"),
        (0.12, 2, True, "+0,12"),
        (60, None, False, "60"),
        (60.0, None, False, "60"),
        (7.5, None, False, "7,5"),
        (1500.25, None, False, "1.500,25"),
        (None, 2, False, "–"),
    ],
)
def test_getal_writes_a_decimal_comma_and_a_thousands_point(value, decimals, teken, shown) -> None:
    assert getal(value, decimals, teken=teken) == shown


def test_km_and_the_jinja_filters_are_the_same_functions() -> None:
    assert km(2.5) == "2,5 km" and km(None) == "–"
    rendered = templates.env.from_string("{{ 2.5|km }} · {{ 0.325|getal(3) }} · {{ d|datum }}").render(
        d=datetime(2026, 12, 4, 13, 5, tzinfo=UTC)
    )
    assert rendered == "2,5 km · 0,325 · 4 december 2026, 14:05"


def test_datum_in_amsterdam_time_from_every_stored_form() -> None:
    winter, summer = datetime(2026, 12, 4, 13, 5), datetime(2026, 7, 4, 13, 5)  # naive = UTC, as stored
    assert datum(winter) == "4 december 2026, 14:05"
    assert datum(summer) == "4 juli 2026, 15:05"
    assert datum(winter, tijd=False) == "4 december 2026"
    assert datum(date(2026, 1, 31)) == "31 januari 2026"
    assert datum("2026-12-04T13:05:00+00:00") == "4 december 2026, 14:05"
    assert datum("2026-03-01") == "1 maart 2026"
    assert datum(None) == "–"


@pytest.mark.parametrize(
    ("typed", "read"),
    [("7,5", 7.5), ("7.5", 7.5), (" 12 ", 12.0), (",5", 0.5), ("-3", -3.0), ("", None), ("   ", None)],
)
def test_form_number_reads_a_comma_and_a_point_as_the_decimal_separator(typed, read) -> None:
    assert form_number(typed, "straal") == read


@pytest.mark.parametrize("typed", ["zeven", "7,5,1", "1.000,5", "75 km", "1e3", "7 5", "x" * 40])
def test_form_number_refuses_what_is_not_one_plain_number_at_its_field(typed) -> None:
    with pytest.raises(FieldError) as refused:
        form_number(typed, "straal")
    assert refused.value.field == "straal"
    assert "is geen getal" in refused.value.message and "bijvoorbeeld 7,5" in refused.value.message
    assert len(refused.value.message) < 120  # a long input is cut, not echoed whole


def test_form_number_whole_refuses_a_fraction_and_reads_a_whole_number() -> None:
    assert form_number("20", "top", whole=True) == 20
    assert isinstance(form_number("20,0", "top", whole=True), int)
    with pytest.raises(FieldError, match="heel getal"):
        form_number("7,5", "top", whole=True)


def test_waarde_writes_stored_values_in_words() -> None:
    assert [waarde(True), waarde(False), waarde(None)] == ["ja", "nee", "–"]
    assert waarde(0.5) == "0,5" and waarde(3) == "3" and waarde("transparant") == "transparant"
    assert waarde(["WSP", 2.5, False]) == "WSP, 2,5, nee" and waarde([]) == "–"
    assert waarde({"actief": False, "rol": "beheerder"}) == "actief: nee; rol: beheerder"
