"""Finding vacancies by words, place and distance: one parser and one filter for the API's list and the web search.

A search text is split into words and every word must be found: in the title, the employer or the
vacancy number (case-insensitive, anywhere in it), or, when the word is a place name, in the place
of the vacancy. A run of words that names a place counts as one ("Alphen aan den Rijn", "Den Haag"),
so "orderpicker Arnhem" finds the orderpicker vacancies in Arnhem; a place word still finds a title
or employer with that word in it ("Logistiek Arnhem BV"), so naming a place never loses a match the
old whole-text search found. The place of a vacancy is the place of its PC4 in the PC4 table
(:mod:`matching.geo`); names compare without case or accents ("'s-hertogenbosch", "Den Bosch").

``binnen 10 km van Arnhem`` (or ``binnen 7,5 km van 6811 AB``) at the end of the text, or the
separate fields ``plaats`` and ``straalKm``, keep vacancies whose PC4 centroid lies within that many
km, straight line, of the nearest PC4 centroid of the place (a whole town is its own surroundings) or
of the postcode's PC4. ``plaats`` without a distance keeps the vacancies in that place. An unknown
place is a Dutch error naming the field and, where one looks alike, the place that was probably meant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_

from matching import geo
from matching.domain import Vacancy
from matching.errors import InvalidInputError

MAX_KM = 300.0  # the Netherlands end to end: a larger radius is a typo
_RADIUS = re.compile(r"\bbinnen\s+(?P<km>\S+?)\s*km\s+(?:van|rond|om)\s+(?P<plaats>.+?)\s*$", re.IGNORECASE)


class SearchFieldError(InvalidInputError):
    """A search value that cannot be used; ``field`` names the form field or query parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Place:
    """Where a search looks: the name as shown and the PC4 codes it covers."""

    name: str
    codes: tuple[str, ...]


@dataclass(frozen=True)
class VacancyQuery:
    """A parsed search: each word must match; each place word also matches the vacancy's place.

    Attributes:
        words: ``(word, place or None)``: the word as typed, and the place it names, if any.
        area: The PC4 codes a vacancy must lie in (a place, or everything within the radius), or None.
        centre: The place or postcode the radius is measured from (shown with the distance), or None.
        radius_km: The radius, or None.
    """

    words: tuple[tuple[str, Place | None], ...] = ()
    area: tuple[str, ...] | None = None
    centre: Place | None = None
    radius_km: float | None = None

    def where(self) -> Any:
        """The SQL condition on :class:`~matching.domain.Vacancy`, or None when nothing is asked."""
        pc4 = func.substr(Vacancy.postcode, 1, 4)
        conditions = []
        for word, place in self.words:
            lowered = word.lower()
            options = [
                func.lower(Vacancy.titel).contains(lowered, autoescape=True),
                func.lower(Vacancy.werkgever).contains(lowered, autoescape=True),
                func.lower(Vacancy.vacature_nummer).contains(lowered, autoescape=True),
            ]
            if place is not None:
                options.append(pc4.in_(place.codes))
            conditions.append(or_(*options))
        if self.area is not None:
            conditions.append(pc4.in_(self.area))
        return and_(*conditions) if conditions else None

    def km_to(self, postcode: str) -> float | None:
        """The straight-line km from the centre to a vacancy's postcode (None without a radius)."""
        return geo.km_from(self.centre.codes, postcode) if self.centre is not None else None


def parse(zoek: str = "", plaats: str | None = None, straal_km: str | float | None = None) -> VacancyQuery:
    """The query for a search text and the optional place and radius fields.

    Args:
        zoek: Words; a place name among them also matches the place; may end in "binnen X km van Y".
        plaats: A place name or a postcode (4 digits, optionally 2 letters).
        straal_km: Kilometres around ``plaats``; a decimal comma is read ("7,5").

    Raises:
        SearchFieldError: An unknown place, an unreadable or impossible distance, a distance without a place.
    """
    text = (zoek or "").strip()
    field_plaats, field_km = "plaats", "straalKm"
    phrase = _RADIUS.search(text)
    if phrase is not None and not (plaats or "").strip() and straal_km in (None, ""):
        text = text[: phrase.start()].strip()
        plaats, straal_km, field_plaats, field_km = phrase["plaats"], phrase["km"], "zoek", "zoek"
    km = _kilometres(straal_km, field_km)
    centre = _place(plaats, field_plaats) if (plaats or "").strip() else None
    if km is not None and centre is None:
        shown = f"{km:g}".replace(".", ",")
        raise SearchFieldError(
            field_plaats, f"{field_plaats}: binnen {shown} km van welke plaats? Vul een plaats of postcode in"
        )
    area = None
    if centre is not None:
        area = geo.codes_within(centre.codes, km) if km is not None else centre.codes
    return VacancyQuery(words=_words(text), area=area, centre=centre if km is not None else None, radius_km=km)


def _kilometres(value: str | float | None, field: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip().replace(",", ".")
    try:
        km = float(text)
    except ValueError:
        raise SearchFieldError(
            field, f"{field}: '{str(value).strip()[:20]}' is geen afstand; geef een getal in km, bijvoorbeeld 7,5"
        ) from None
    if not 0 < km <= MAX_KM:
        shown = f"{km:g}".replace(".", ",")
        raise SearchFieldError(field, f"{field}: {shown} km kan niet; kies meer dan 0 en hoogstens {MAX_KM:g} km")
    return km


def _place(value: str | None, field: str) -> Place:
    """A place name or a postcode as the PC4 codes it covers; unknown is a field error."""
    text = (value or "").strip()
    postcode = geo.normalise_postcode(text)
    if postcode is not None:
        if not geo.pc4_exists(postcode[:4]):
            raise SearchFieldError(field, f"{field}: postcode '{text}' ken ik niet; controleer de cijfers")
        return Place(f"{postcode[:4]} {geo.place_of(postcode)}", (postcode[:4],))
    found = geo.find_place(text)
    if found is None:
        alike = geo.similar_places(text)
        hint = f"; bedoelt u {' of '.join(alike)}?" if alike else "; geef een plaatsnaam of een postcode"
        raise SearchFieldError(field, f"{field}: '{text[:40]}' ken ik niet als plaats{hint}")
    return Place(*found)


def _words(text: str) -> tuple[tuple[str, Place | None], ...]:
    """The words of ``text``; the longest run of words naming a place becomes one word with that place."""
    tokens = text.split()
    longest = geo.place_words_max()
    words: list[tuple[str, Place | None]] = []
    start = 0
    while start < len(tokens):
        for end in range(min(len(tokens), start + longest), start, -1):
            phrase = " ".join(tokens[start:end])
            found = geo.find_place(phrase) if geo.fold(phrase) else None
            if found is not None:
                words.append((phrase, Place(*found)))
                start = end
                break
        else:
            words.append((tokens[start], None))
            start += 1
    return tuple(words)
