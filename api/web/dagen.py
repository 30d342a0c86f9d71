"""The date fields of the web's filter forms (auditlog, toezicht): one parser, one range.

A date the calendar holds can still break what follows: ``tot=9999-12-31`` plus the one day that
makes the end inclusive overflowed into a 500 on the auditlog page. Dates outside the range every
record may carry (:data:`matching.domain.DATE_MIN` … :data:`~matching.domain.DATE_MAX`) are an
error next to the field instead.
"""

from __future__ import annotations

from datetime import date

from matching.domain import DATE_MAX, DATE_MIN


def form_day(value: str, name: str, errors: dict[str, str]) -> date | None:
    """The date typed into field ``name`` (``JJJJ-MM-DD``), or ``None`` with a Dutch error in ``errors``.

    Args:
        value: What was typed; empty means "no limit".
        name: The field, the key of the error.
        errors: Field name → Dutch message, filled in here.

    Returns:
        The date; ``None`` when empty or wrong (then ``errors[name]`` says why).
    """
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        errors[name] = "Vul een geldige datum in: dag, maand en jaar."
        return None
    if not DATE_MIN <= day <= DATE_MAX:
        errors[name] = f"Vul een datum tussen {DATE_MIN.year} en {DATE_MAX.year} in."
        return None
    return day
