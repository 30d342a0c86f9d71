"""Typed domain errors and Dutch sentences for pydantic validation errors.

Every message is Dutch, names the value and says how to fix it: users (consulenten,
accountmanagers) read them in the CLI, the API and import reports. The API turns
:class:`NotFoundError` into 404 and any other :class:`WerkmatchError` into 400.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

logger = logging.getLogger(__name__)


class WerkmatchError(Exception):
    """Base of domain errors; the message is Dutch and names the value and the fix."""


class NotFoundError(WerkmatchError):
    """A referenced client, vacancy or other record does not exist."""


class ConflictError(WerkmatchError):
    """The request clashes with the current state (already handled, already exists): HTTP 409."""


class InvalidInputError(WerkmatchError):
    """An argument or record is invalid."""


class ImportFileError(WerkmatchError):
    """An import file cannot be read at all: unreadable, not UTF-8 or malformed."""


class ModelError(WerkmatchError):
    """The embedding model is missing or cannot be loaded."""


# Characters that must never be echoed: C0/C1 control characters, bidi overrides and lone surrogates
# (a lone surrogate cannot be encoded as UTF-8: echoing one made every error answer a 500).
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` with every control character, bidi override and lone surrogate written as ``\\uXXXX``."""
    return UNPRINTABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def shown(value: Any) -> str:
    """A value as users recognise it: numbers bare, text in quotes, long text shortened, never unprintable."""
    if value is None:
        return "leeg"
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if re.fullmatch(r"-?\d+([.,]\d+)?", text):
        return text
    if len(text) > 40:
        text = text[:37] + "..."
    return f"'{printable(text)}'"


def _number(value: Any) -> str:
    """``3.0`` → ``3``: bounds from pydantic come as floats for float fields."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _choices(expected: str) -> list[str]:
    """Pydantic's ``"'werk', 'perspectief' or 'meedoen'"`` → ``["werk", "perspectief", "meedoen"]``."""
    parts = re.split(r", | or ", expected)
    return [part.strip().strip("'\"") for part in parts if part.strip()]


def _choice_text(expected: str) -> str:
    options = _choices(expected)
    if len(options) > 2 and all(option.lstrip("-").isdigit() for option in options):
        numbers = [int(option) for option in options]
        if numbers == list(range(numbers[0], numbers[-1] + 1)):
            return f"kies {numbers[0]} t/m {numbers[-1]}"
    return "kies uit: " + ", ".join(options)


def _subject(loc: tuple[int | str, ...]) -> str:
    """The noun for 'geen geldige …': a plain field name (``trede``, ``route``), else 'waarde'."""
    if loc and isinstance(loc[-1], str) and loc[-1].isalpha() and loc[-1].islower():
        return loc[-1]
    return "waarde"


def _camel(name: str) -> str:
    """``max_reisafstand_km`` → ``maxReisafstandKm``; names already in camelCase stay as they are."""
    if "_" not in name:
        return name
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def field_path(loc: tuple[int | str, ...]) -> str:
    """The field path users see: camelCase names, list positions counted from 1.

    Args:
        loc: A pydantic error location, e.g. ``("competenties", 0, "niveau")``.

    Returns:
        The path, e.g. ``"competenties[1].niveau"``; empty for errors about the whole record.
    """
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part + 1}]"
        else:
            path += ("." if path else "") + _camel(printable(str(part)[:80]))  # an unknown key is the sender's text
    return path


def _enum(error: ErrorDetails) -> str:
    expected = str(error.get("ctx", {}).get("expected", ""))
    if error["input"] is None:
        return f"mag niet leeg zijn; {_choice_text(expected)}"
    return f"{shown(error['input'])} is geen geldige {_subject(error['loc'])}; {_choice_text(expected)}"


def _domain(error: ErrorDetails) -> str:
    """Our own validators already speak Dutch: their text without pydantic's 'Value error, '."""
    cause = error.get("ctx", {}).get("error")
    if cause is not None:
        return str(cause)
    return re.sub(r"^(Value|Assertion) error, ", "", error["msg"])


def _ctx(key: str, error: ErrorDetails) -> str:
    return _number(error.get("ctx", {}).get(key, "?"))


def _length_text(error: ErrorDetails, many: str) -> str:
    limit = error.get("ctx", {}).get("min_length", 1)
    if limit == 1:
        return "mag niet leeg zijn"
    return f"moet minstens {limit} {many} bevatten"


_DATE = "moet een datum zijn in de vorm JJJJ-MM-DD, bijv. 2025-03-01"
_DATE_ONLY = "moet een datum zonder tijd zijn in de vorm JJJJ-MM-DD, bijv. 2025-03-01"
_DATETIME = "moet een datum en tijd zijn in de vorm JJJJ-MM-DDTUU:MM, bijv. 2025-03-01T09:00"
_INT = "moet een geheel getal zijn"
_FLOAT = "moet een getal zijn, bijv. 2.5"
_BOOL = "moet ja of nee zijn"
_TEXT = "moet tekst zijn"
_LIST = "moet een lijst zijn"
_OBJECT = "moet een object met velden zijn"

_MESSAGES: dict[str, Callable[[ErrorDetails], str]] = {
    "missing": lambda e: "ontbreekt",
    "extra_forbidden": lambda e: "onbekend veld of kolom; controleer de schrijfwijze of laat het weg",
    "int_parsing": lambda e: _INT,
    "int_type": lambda e: _INT,
    "int_from_float": lambda e: f"{_INT}, niet {shown(e['input'])}",
    "int_parsing_size": lambda e: "getal is te groot",
    "float_parsing": lambda e: f"{shown(e['input'])} is geen getal; schrijf bijv. 2.5",
    "float_type": lambda e: _FLOAT,
    "finite_number": lambda e: "moet een eindig getal zijn",
    "decimal_parsing": lambda e: _FLOAT,
    "decimal_type": lambda e: _FLOAT,
    "bool_parsing": lambda e: f"{_BOOL}, niet {shown(e['input'])}",
    "bool_type": lambda e: _BOOL,
    "date_parsing": lambda e: f"{_DATE}, niet {shown(e['input'])}",
    "date_type": lambda e: _DATE,
    "date_from_datetime_parsing": lambda e: f"{_DATE}, niet {shown(e['input'])}",
    "date_from_datetime_inexact": lambda e: _DATE_ONLY,
    "date_past": lambda e: "moet een datum in het verleden zijn",
    "date_future": lambda e: "moet een datum in de toekomst zijn",
    "datetime_parsing": lambda e: _DATETIME,
    "datetime_type": lambda e: _DATETIME,
    "datetime_from_date_parsing": lambda e: _DATETIME,
    "enum": _enum,
    "literal_error": _enum,
    "greater_than": lambda e: f"moet groter zijn dan {_ctx('gt', e)}",
    "greater_than_equal": lambda e: f"moet minstens {_ctx('ge', e)} zijn",
    "less_than": lambda e: f"moet kleiner zijn dan {_ctx('lt', e)}",
    "less_than_equal": lambda e: f"mag hoogstens {_ctx('le', e)} zijn",
    "multiple_of": lambda e: f"moet een veelvoud van {_ctx('multiple_of', e)} zijn",
    "string_type": lambda e: _TEXT,
    "string_too_short": lambda e: _length_text(e, "tekens"),
    "string_too_long": lambda e: f"mag hoogstens {_ctx('max_length', e)} tekens bevatten",
    "string_pattern_mismatch": lambda e: f"{shown(e['input'])} heeft niet de juiste vorm",
    "list_type": lambda e: _LIST,
    "tuple_type": lambda e: _LIST,
    "set_type": lambda e: _LIST,
    "too_short": lambda e: _length_text(e, "items"),
    "too_long": lambda e: f"mag hoogstens {_ctx('max_length', e)} items bevatten",
    "dict_type": lambda e: _OBJECT,
    "model_type": lambda e: _OBJECT,
    "model_attributes_type": lambda e: _OBJECT,
    "json_invalid": lambda e: "is geen geldige JSON",
    "string_unicode": lambda e: "bevat een ongeldig teken (geen geldige Unicode); stuur de tekst als UTF-8",
    "recursion_loop": lambda e: "is te diep genest",
    "url_parsing": lambda e: "moet een geldige URL zijn",
    "value_error": _domain,
    "assertion_error": _domain,
}


def dutch_message(error: ErrorDetails) -> str:
    """One Dutch sentence for one pydantic error, prefixed with its field path.

    Args:
        error: One item of ``ValidationError.errors()``.

    Returns:
        e.g. ``"urenMax: moet een geheel getal zijn"``; errors about the whole record have no prefix.
    """
    render = _MESSAGES.get(error["type"])
    if render is None:
        logger.debug("no Dutch text for pydantic error type %s", error["type"])
        text = f"waarde {shown(error.get('input'))} is ongeldig; controleer dit veld"
    else:
        text = render(error)
    text = printable(text)  # a validator elsewhere may have echoed the sender's text
    path = field_path(tuple(error["loc"]))
    return f"{path}: {text}" if path else text


def dutch_messages(exc: ValidationError) -> list[str]:
    """Every error of a pydantic ``ValidationError`` as one Dutch sentence.

    Args:
        exc: The validation error, e.g. from ``ClientIn.model_validate``.

    Returns:
        One sentence per error, e.g. ``["trede: 7 is geen geldige trede; kies 0 t/m 5",
        "postcode: ontbreekt"]``. Our own validators' Dutch texts pass through unchanged.
    """
    return [dutch_message(error) for error in exc.errors()]
