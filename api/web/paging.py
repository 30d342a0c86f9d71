"""Paging and the status filter of the web's work lists (voorstellen, inbox, auditlog, pushes).

One page size and one reading of ``?pagina=`` for every list, so "1–50 van 280" and the pager mean the
same everywhere. A page number that is no number, or past the last page, shows the first or the last
page instead of an error: a person followed or edited a link (the API answers problem+json for a bad
``pagina``, :mod:`api.routes.common`).
"""

from __future__ import annotations

from dataclasses import dataclass

LIST_PAGE = 50  # the issue asked for 25–50 a page; 50 keeps a day's inbox on one or two pages
PAGE_MAX = 100_000


def page_number(value: str | None) -> int:
    """The page asked for in ``?pagina=``; 1 when it is missing or no page number."""
    return int(value) if value and value.isdigit() and 0 < int(value) < PAGE_MAX else 1


@dataclass(frozen=True)
class Position:
    """Where a page lies in a list: page ``page`` of ``pages``, items ``first``–``last`` of ``total``."""

    page: int
    pages: int
    total: int
    size: int = LIST_PAGE

    @classmethod
    def of(cls, page: int, total: int, size: int = LIST_PAGE) -> Position:
        """Page ``page`` of a list of ``total``, moved onto the last page when it lies past it."""
        pages = max(1, -(-total // size))
        return cls(page=min(page, pages), pages=pages, total=total, size=size)


def choice(value: str | None, allowed: tuple[str, ...]) -> str:
    """The status filter asked for, or the first of ``allowed`` (the default, "open") when unknown."""
    return value if value in allowed else allowed[0]
