"""Numbers and dates as a Dutch reader writes them, and numbers as a Dutch user types them.

One copy for the whole web UI: the templates use :func:`getal`, :func:`km` and :func:`datum` as Jinja
filters (registered in :mod:`api.web.common`), the charts call them directly, and every number field
of a form goes through :func:`form_number`. The API is not touched: its JSON numbers stay numbers.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from api.services.inbox import LOCAL_TIME
from matching.timeutil import stored_utc

MONTHS = ("januari februari maart april mei juni juli augustus september oktober november december").split()
# A plain number: one decimal separator (comma or point), no thousands separators, no exponent.
# "7,5" and "7.5" are 7.5; "1.000,5", "7,5,1", "1e3" and "75 km" are refused instead of guessed at.
NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)")
TOO_LONG = 20


class FieldError(ValueError):
    """A form field that could not be read; ``message`` is the Dutch sentence shown at ``field``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def getal(value: float | int | None, decimals: int | None = None, teken: bool = False) -> str:
    """A number with a decimal comma and a thousands point: ``getal(0.325, 3)`` is ``"0,325"``.

    Args:
        value: The number; ``None`` shows as a dash.
        decimals: Digits after the comma; ``None`` shows at most two, without trailing zeros (``7,5``, ``60``).
        teken: Always show the sign (``+0,12``), for contributions that raise or lower a score.
    """
    if value is None:
        return "–"
    text = f"{value:{'+' if teken else ''},.{2 if decimals is None else decimals}f}"
    if decimals is None and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.translate(str.maketrans({",": ".", ".": ","}))


def waarde(value: object) -> str:
    """Any stored value in words, so that no page shows "actief: False" or "[1, 2]".

    ``True`` is "ja", ``False`` "nee", ``None`` a dash, numbers go through :func:`getal`, lists and dicts are
    written out item by item.
    """
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if value is None:
        return "–"
    if isinstance(value, int | float):
        return getal(value)
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(waarde(item) for item in value) or "–"
    if isinstance(value, dict):
        return "; ".join(f"{key}: {waarde(item)}" for key, item in value.items()) or "–"
    return str(value)


def km(value: float | None) -> str:
    """A distance in km with one decimal: ``"2,5 km"``."""
    return "–" if value is None else f"{getal(value, 1)} km"


def datum(value: date | datetime | str | None, tijd: bool = True) -> str:
    """A date as ``"4 december 2026"``, a moment as ``"4 december 2026, 14:05"`` (Amsterdam time).

    Args:
        value: A date, a datetime (a naive one is UTC, as the database stores it) or an ISO string.
        tijd: Show the time of a datetime; ``False`` shows only its date.
    """
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        moment = stored_utc(value).astimezone(LOCAL_TIME)
        day = f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"
        return f"{day}, {moment:%H:%M}" if tijd else day
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def form_number(text: str | None, field: str, whole: bool = False) -> float | int | None:
    """What a user typed in a number field, read as Dutch or English: ``"7,5"`` and ``"7.5"`` are 7.5.

    Ranges are the schema's to check; this only reads. Blank is ``None``.

    Raises:
        FieldError: At ``field``, in Dutch, for anything that is not one plain number (never a guess:
            "7,5" is never 75) or for a fraction where a whole number is asked.
    """
    cleaned = (text or "").strip()
    if not cleaned:
        return None
    example = "20" if whole else "7,5"
    if len(cleaned) > TOO_LONG or not NUMBER.fullmatch(cleaned):
        shown = cleaned[:TOO_LONG] + ("…" if len(cleaned) > TOO_LONG else "")
        raise FieldError(field, f"‘{shown}’ is geen getal; vul een getal in, bijvoorbeeld {example}.")
    number = float(cleaned.replace(",", "."))
    if whole:
        if not number.is_integer():
            raise FieldError(field, f"Vul een heel getal in (zonder komma), bijvoorbeeld {example}.")
        return int(number)
    return number
