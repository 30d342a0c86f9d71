"""Moments and calendar arithmetic shared by matching, training and the API: one copy of each rule.

Three places converted a caller's moment to UTC on their own, and a fix for a year-1 moment
(``0001-01-01T00:00+00:01`` lies before year 1 in UTC: ``OverflowError``) reached only one of
them; ``werkmatch train --since`` kept ending in a traceback. They all call :func:`aware_utc` now.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from typing import TypeVar

from matching.errors import InvalidInputError

Day = TypeVar("Day", bound=date)
# An aware moment as a caller writes one; named in messages that refuse a moment without a time zone.
UTC_EXAMPLE = "2025-03-01T09:00+00:00"


def aware_utc(moment: datetime, name: str, *, example: str = "") -> datetime:
    """A caller's moment in UTC, refused in Dutch when it has no time zone or leaves the calendar.

    Args:
        moment: The moment as given (a query parameter, a CLI option, a function argument).
        name: The name the caller knows it by, used in the message (``since``, ``tijdstip``).
        example: Appended to the no-time-zone message as ``, bijv. {example}`` when given.

    Returns:
        ``moment`` converted to UTC.

    Raises:
        InvalidInputError: ``moment`` is naive, or lies outside years 1–9999 once in UTC.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        hint = f", bijv. {example}" if example else ""
        raise InvalidInputError(f"{name} {moment.isoformat(sep=' ')} heeft geen tijdzone; geef een tijd in UTC{hint}")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # found by fuzzing: 0001-01-01T00:00+00:01 lies before year 1 in UTC (500)
        raise InvalidInputError(f"{name} {moment.isoformat(sep=' ')} valt buiten het bereik van de kalender") from None


def stored_utc(moment: datetime) -> datetime:
    """A moment read back from storage in UTC: SQLite keeps no time zone, and what it holds was stored in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def add_months(day: Day, months: int) -> Day:
    """``day`` (a date or datetime) plus whole calendar months; the 31st becomes the last day of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))
