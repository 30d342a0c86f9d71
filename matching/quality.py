"""Data quality of a client profile before it is matched: complete, fresh, free of contradictions.

:func:`assess` is pure (no database, no model) and cheap: a few dict look-ups per profile, so the
matcher can call it for every candidate of a 9,000-client bestand. It reads the stored
:class:`matching.domain.Client` row as it is, *not* through :class:`matching.domain.ClientIn`:
input validation already refuses most contradictions (``urenMin > urenMax``, a competence without a
code, negative years, a travel distance of 0), but rows imported from older systems, or written
before a rule existed, never passed it. Those rows are exactly the ones to flag, so every check
here tolerates missing keys, wrong types and out-of-range values and says what to fix instead of
raising.

**Score** = ``completeness × freshness``, both 0–1.

*Completeness* is the weighted share of filled fields (:data:`FIELD_WEIGHTS`, sum 1.0). The weights
follow what matching leans on: competences (0.20), experience and wished occupations (0.15 each)
carry the text and the structured fit; education, language level, travel limit and transport
(0.10 each) drive hard filters and features; sectors and the self-description (0.05 each) only add
to the text. A list counts as filled when it has at least one usable entry (a competence with a
code, experience with an occupation).

*Freshness* is 1.0 for a profile updated in the last half year, then falls linearly to 0.7 at
:data:`STALE_DAYS` (one year) and to 0.3 at :data:`VERY_STALE_DAYS` (two years), and stays 0.3
after that (:data:`FRESHNESS_POINTS`). One year because a client's situation (trede, wensen,
beperkingen) is meant to be discussed at least yearly; the profile is then a snapshot that may no
longer hold (DOMAIN.md, problem 5). ``days_since_update`` counts from ``Client.updated_at``, i.e. the
last save in werkmatch: an import re-saves a row and so makes it fresh; the source system's own date
is not kept.

**Status**, worst first (:data:`STATUS_ORDER`): ``tegenstrijdig`` (a contradiction or an impossible
value: the filters and features act on wrong data, so the rank itself cannot be trusted; fix
first), ``verouderd`` (older than :data:`STALE_DAYS`: everything in it may have changed),
``onvolledig`` (competences or wished occupations missing, or completeness below
:data:`INCOMPLETE_BELOW`: the client is ranked on too little), ``ok``. The worst that applies wins.
A status other than ``ok`` is a flag for the candidate list, never a reason to hide or demote
someone: the list shows the flag, the consulent fixes the profile.

**Contradictions** checked: trede 4–5 (paid work, a fact) with route meedoen (no prospect of paid
work); ``urenMin > urenMax``; no hours at all; a competence entry without a code (with or without a
niveau) or with a niveau outside 1–3; experience without an occupation, with negative years or with
more than 60; a maximum travel distance or time of 0 or less; every working time excluded; an
``updated_at`` in the future; a trede, route, taalniveau or opleidingsniveau outside the vocabulary.

**Unusual, not contradictory**: trede 0–1 with route werk. The ladder measures *current*
participation, the route the *prospect*: someone who just lost a job and has few contacts outside
the home can be werkfit. It is flagged with a "Controleer:" signal and does not change the status.

**One definition.** :func:`missing_fields` is what every page calls missing; the status and the score
(shown as a percentage) are what every page calls the profile's state: Mijn klanten, the client page,
a candidate's card and "profielen met aandacht" show the same verdict and number for the same client.
A missing field that leaves the status ``ok`` (the self-description, say) is listed as "aan te vullen".

**Signalen** are Dutch sentences that each say what to fix. They never name a beperking (health
data) nor the klantnummer, so they can travel with a candidate list to any role that sees the list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from matching.domain import Client
from matching.vocab import TAALNIVEAUS, TREDE_LABELS, Opleidingsniveau, Route, Trede, Werktijd

OK = "ok"
ONVOLLEDIG = "onvolledig"
VEROUDERD = "verouderd"
TEGENSTRIJDIG = "tegenstrijdig"
STATUS_ORDER = (TEGENSTRIJDIG, VEROUDERD, ONVOLLEDIG, OK)
"""Worst first: the status of a profile is the first one here that applies."""

FIELD_WEIGHTS: dict[str, float] = {
    "competenties": 0.20,
    "werkervaring": 0.15,
    "gewenste beroepen": 0.15,
    "opleidingsniveau": 0.10,
    "taalniveau": 0.10,
    "maximale reisafstand": 0.10,
    "vervoermiddel": 0.10,
    "gewenste sectoren": 0.05,
    "zelfbeschrijving": 0.05,
}
"""Weight of each field in completeness; the keys are the Dutch field names :func:`missing_fields` returns."""

ESSENTIAL = ("competenties", "gewenste beroepen")
"""Without these a client is ``onvolledig`` whatever the score: every diagnosegesprek can fill them.
Werkervaring is not here: having none is a fact for many clients, and the profile cannot say "none"."""

INCOMPLETE_BELOW = 0.6
STALE_DAYS = 365
VERY_STALE_DAYS = 730
FRESHNESS_POINTS = ((0, 1.0), (183, 1.0), (STALE_DAYS, 0.7), (VERY_STALE_DAYS, 0.3))
"""(days since update, freshness) corners; linear in between, 0.3 after the last."""
FUTURE_TOLERANCE_DAYS = 1  # clocks and time zones: a day ahead is not yet an error
MAX_YEARS = 60

FIX = {
    "competenties": "voeg competenties toe",
    "werkervaring": "voeg werkervaring toe (ook vrijwilligerswerk en stages tellen)",
    "gewenste beroepen": "vraag naar gewenste beroepen en vul ze in",
    "opleidingsniveau": "vul het opleidingsniveau in",
    "taalniveau": "vul het taalniveau in (A0 t/m C2)",
    "maximale reisafstand": "vul een maximale reisafstand of reistijd in",
    "vervoermiddel": "vul het vervoermiddel in",
    "gewenste sectoren": "vul gewenste sectoren in",
    "zelfbeschrijving": "laat de klant kort over zichzelf vertellen en leg dat vast",
}

SIGNAL_LABELS: dict[str, str] = {
    **{f"onvolledig:{name}": f"Ontbreekt: {fix}" for name, fix in FIX.items()},
    "verouderd": "Profiel verouderd (meer dan 12 maanden niet bijgewerkt)",
    "zeer_verouderd": "Profiel sterk verouderd (meer dan 24 maanden niet bijgewerkt)",
    "tegenstrijdig:trede_route": "Tegenstrijdig: trede 4 of 5 (betaald werk) met route meedoen",
    "tegenstrijdig:uren": "Tegenstrijdig: minimum uren groter dan maximum uren",
    "tegenstrijdig:geen_uren": "Tegenstrijdig: geen uren beschikbaar",
    "tegenstrijdig:competentie": "Tegenstrijdig: competentie zonder naam of met ongeldig niveau",
    "tegenstrijdig:werkervaring": "Tegenstrijdig: werkervaring zonder beroep of met ongeldige jaren",
    "tegenstrijdig:reisafstand": "Tegenstrijdig: maximale reisafstand of reistijd van 0",
    "tegenstrijdig:werktijden": "Tegenstrijdig: alle werktijden uitgesloten",
    "tegenstrijdig:datum": "Tegenstrijdig: laatste wijziging ligt in de toekomst",
    "tegenstrijdig:waarde": "Ongeldige waarde (trede, route, taalniveau of opleidingsniveau)",
    "controle:trede_route": "Controleer: trede 0 of 1 met route werk",
}
"""A generic Dutch label per signal code, for reports that count signals over many profiles."""

Signal = Callable[[str, str], None]
"""Adds one signal: its code and its Dutch text."""

# ``dict`` first: a stored JSON object is a dict, which the C check answers without the ABC's Python hook.
_MAPPINGS = (dict, Mapping)
_ALL_TIMES = frozenset(str(time) for time in Werktijd)
_ROUTES = frozenset(str(route) for route in Route)
_OPLEIDINGEN = frozenset(str(level) for level in Opleidingsniveau)


@dataclass(frozen=True, slots=True)
class ProfileQuality:
    """How fit a profile is for matching, and what to fix.

    Attributes:
        score: ``completeness × freshness``, 0–1.
        completeness: Weighted share of filled fields (:data:`FIELD_WEIGHTS`), 0–1.
        freshness: 1.0 when recently updated, down to 0.3 (:data:`FRESHNESS_POINTS`).
        days_since_update: Whole days since ``Client.updated_at`` (0 when it lies in the future).
        status: ``ok``, ``onvolledig``, ``verouderd`` or ``tegenstrijdig``: the worst that applies.
        signalen: Dutch sentences, each saying what to fix; contradictions first.
        codes: One code per signal (``onvolledig:competenties``, ``verouderd``, ...), for counting.
        missing: :func:`missing_fields` of the profile (a list shows both: computed once).
    """

    score: float
    completeness: float
    freshness: float
    days_since_update: int
    status: str
    signalen: tuple[str, ...] = ()
    codes: tuple[str, ...] = field(default=(), repr=False)
    missing: tuple[str, ...] = field(default=(), repr=False)

    @property
    def severity(self) -> int:
        """0 for ``tegenstrijdig`` … 3 for ``ok``: sorts worst first."""
        return STATUS_ORDER.index(self.status)

    def to_json(self) -> dict[str, Any]:
        """The API form: ``score``, ``status``, ``signalen``, ``volledigheid``, ``versheid``,
        ``dagenSindsWijziging``."""
        return {
            "score": round(self.score, 3),
            "status": self.status,
            "signalen": list(self.signalen),
            "volledigheid": round(self.completeness, 3),
            "versheid": round(self.freshness, 3),
            "dagenSindsWijziging": self.days_since_update,
        }


def freshness(days: float) -> float:
    """The freshness factor after ``days`` without an update (piecewise linear, :data:`FRESHNESS_POINTS`)."""
    if days <= FRESHNESS_POINTS[0][0]:
        return FRESHNESS_POINTS[0][1]
    for (x0, y0), (x1, y1) in zip(FRESHNESS_POINTS, FRESHNESS_POINTS[1:], strict=False):
        if days <= x1:
            return y0 + (y1 - y0) * (days - x0) / (x1 - x0)
    return FRESHNESS_POINTS[-1][1]


def assess(client: Client, now: datetime) -> ProfileQuality:
    """Completeness, freshness and contradictions of one stored profile.

    Args:
        client: The stored row; it may hold values that input validation would refuse today.
        now: The moment to measure freshness at, aware (a naive one is read as UTC).

    Returns:
        The :class:`ProfileQuality`; never raises on odd stored values.
    """
    codes: list[str] = []
    texts: list[str] = []

    def signal(code: str, text: str) -> None:
        codes.append(code)
        texts.append(text)

    _contradictions(client, signal)
    days, future = _days_since(client.updated_at, now)
    if future is not None:
        signal(
            "tegenstrijdig:datum",
            f"Tegenstrijdig: laatst bijgewerkt op {future}, dat ligt in de toekomst; controleer de import.",
        )
    contradictory = bool(codes)
    if days > STALE_DAYS:
        months = days * 12 // 365
        strong = days > VERY_STALE_DAYS
        signal(
            "zeer_verouderd" if strong else "verouderd",
            f"Profiel {'sterk ' if strong else ''}verouderd: {months} maanden niet bijgewerkt; "
            "bespreek het profiel opnieuw met de klant.",
        )
    missing = missing_fields(client)
    completeness = 1.0 - sum(FIELD_WEIGHTS[name] for name in missing)
    completeness = min(1.0, max(0.0, round(completeness, 6)))  # round away float dust (1 - 0.2 - 0.1 ...)
    incomplete = completeness < INCOMPLETE_BELOW or any(name in missing for name in ESSENTIAL)
    for name in missing:  # "onvolledig" only where the definition says so; else a field still worth filling in
        signal(f"onvolledig:{name}", f"{'Profiel onvolledig' if incomplete else 'Aan te vullen'}: {FIX[name]}.")
    _unusual(client, signal)

    fresh = freshness(days)
    if contradictory:
        status = TEGENSTRIJDIG
    elif days > STALE_DAYS:
        status = VEROUDERD
    elif incomplete:
        status = ONVOLLEDIG
    else:
        status = OK
    return ProfileQuality(
        score=completeness * fresh,
        completeness=completeness,
        freshness=fresh,
        days_since_update=days,
        status=status,
        signalen=tuple(texts),
        codes=tuple(codes),
        missing=tuple(missing),
    )


def summarise(qualities: Iterable[ProfileQuality], top: int = 10) -> dict[str, Any]:
    """Counts over many profiles: per status, the mean score, and the most common signals.

    Returns:
        ``{"profielen", "gemiddeldeScore", "perStatus": {status: n}, "signalen": [{"code", "omschrijving",
        "aantal"}, ...]}``, signals most common first (at most ``top``).
    """
    per_status = dict.fromkeys(STATUS_ORDER, 0)
    signals: Counter[str] = Counter()
    total, score_sum = 0, 0.0
    for quality in qualities:
        total += 1
        score_sum += quality.score
        per_status[quality.status] += 1
        signals.update(set(quality.codes))  # a profile counts once per kind of signal
    return {
        "profielen": total,
        "gemiddeldeScore": round(score_sum / total, 3) if total else None,
        "perStatus": per_status,
        "signalen": [
            {"code": code, "omschrijving": SIGNAL_LABELS.get(code, code), "aantal": count}
            for code, count in sorted(signals.items(), key=lambda item: (-item[1], item[0]))[:top]
        ],
    }


# ---------------------------------------------------------------------------------------- checks


def _days_since(updated_at: datetime | None, now: datetime) -> tuple[int, str | None]:
    """Whole days since the update, and the update's date when it lies in the future (else None)."""
    if not isinstance(updated_at, datetime):
        return VERY_STALE_DAYS + 1, None  # no date at all: as old as it gets
    moment = updated_at if updated_at.tzinfo else updated_at.replace(tzinfo=UTC)
    reference = now if now.tzinfo else now.replace(tzinfo=UTC)
    seconds = (reference - moment).total_seconds()
    if seconds < -FUTURE_TOLERANCE_DAYS * 86_400:
        return 0, moment.date().isoformat()
    return max(0, int(seconds // 86_400)), None


def _entries(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(entry: Any, *keys: str) -> str:
    """The first non-empty text under one of ``keys`` (camelCase as stored, snake_case from old imports)."""
    if not isinstance(entry, _MAPPINGS):
        return ""
    for key in keys:
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _plain_text(value: Any) -> bool:
    """A ``str`` (not a subclass) with a non-blank character: what :func:`_text` takes, checked without a call."""
    return type(value) is str and bool(value.strip())


def _any_text(entries: list[Any], *keys: str) -> bool:
    """Whether an entry has a text under one of ``keys`` (``any(_text(entry, *keys) for entry in entries)``)."""
    for entry in entries:
        if (type(entry) is dict and _plain_text(entry.get(keys[0]))) or _text(entry, *keys):
            return True
    return False


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _wensen(client: Client) -> Mapping[str, Any]:
    return client.wensen if isinstance(client.wensen, _MAPPINGS) else {}


def _wish(wensen: Mapping[str, Any], camel: str, snake: str) -> Any:
    return wensen.get(camel, wensen.get(snake))


def missing_fields(client: Client) -> list[str]:
    """The profile fields without a usable value, in :data:`FIELD_WEIGHTS` order: *the* list of what is missing.

    Every page and answer that says what a profile lacks ("ontbreekt", "aan te vullen") shows this list, and
    :func:`assess` derives completeness and the ``onvolledig`` status from it, so the verdict, the number and the
    list always agree. (``Client.missing_fields`` is only the learned ranker's feature, a count over 8 fields that
    the trained models were fitted on.)
    """
    wensen = _wensen(client)
    present = {
        "competenties": _any_text(_entries(client.competenties), "code"),
        "werkervaring": _any_text(_entries(client.werkervaring), "beroepCode", "beroep_code"),
        "gewenste beroepen": bool(_entries(wensen.get("beroepen"))),
        "opleidingsniveau": bool(client.opleidingsniveau),
        "taalniveau": bool(client.taalniveau),
        "maximale reisafstand": _wish(wensen, "maxReisafstandKm", "max_reisafstand_km") is not None
        or _wish(wensen, "maxReistijdMin", "max_reistijd_min") is not None,
        "vervoermiddel": bool(_entries(client.vervoermiddel)),
        "gewenste sectoren": bool(_entries(wensen.get("sectoren"))),
        "zelfbeschrijving": bool((client.zelfbeschrijving or "").strip()),
    }
    return [name for name in FIELD_WEIGHTS if not present[name]]


def _contradictions(client: Client, signal: Signal) -> None:
    trede = client.trede if isinstance(client.trede, int) and not isinstance(client.trede, bool) else None
    if trede is None or not 0 <= trede <= 5:
        signal("tegenstrijdig:waarde", f"Ongeldige waarde: trede {client.trede!r} bestaat niet; kies 0 t/m 5.")
        trede = None
    if client.route not in _ROUTES:
        signal(
            "tegenstrijdig:waarde",
            f"Ongeldige waarde: route {client.route!r} bestaat niet; kies werk, perspectief of meedoen.",
        )
    if trede is not None and trede >= Trede.BETAALD_MET_ONDERSTEUNING and client.route == Route.MEEDOEN:
        signal(
            "tegenstrijdig:trede_route",
            f"Tegenstrijdig: trede {trede} ({TREDE_LABELS[Trede(trede)]}) past niet bij route meedoen; "
            "controleer de trede of de route.",
        )
    if client.taalniveau and str(client.taalniveau).upper() not in TAALNIVEAUS:
        signal(
            "tegenstrijdig:waarde",
            f"Ongeldige waarde: taalniveau {client.taalniveau!r} bestaat niet; kies {', '.join(TAALNIVEAUS)}.",
        )
    if client.opleidingsniveau and client.opleidingsniveau not in _OPLEIDINGEN:
        signal(
            "tegenstrijdig:waarde",
            f"Ongeldige waarde: opleidingsniveau {client.opleidingsniveau!r} bestaat niet; kies uit de lijst.",
        )
    _hours(client, signal)
    _competences(client, signal)
    _experience(client, signal)
    _travel_and_times(client, signal)


def _hours(client: Client, signal: Signal) -> None:
    low, high = _number(client.uren_min), _number(client.uren_max)
    if high is not None and high <= 0:
        signal(
            "tegenstrijdig:geen_uren",
            f"Tegenstrijdig: maximaal {high:g} uur per week beschikbaar; vul de uren in die de klant kan werken.",
        )
    elif low is not None and high is not None and low > high:
        signal(
            "tegenstrijdig:uren",
            f"Tegenstrijdig: minimaal {low:g} uur per week is meer dan maximaal {high:g} uur; corrigeer de uren.",
        )
    if low is not None and low < 0:
        signal("tegenstrijdig:uren", f"Tegenstrijdig: minimaal {low:g} uur per week is negatief; corrigeer de uren.")


def _competences(client: Client, signal: Signal) -> None:
    for position, item in enumerate(_entries(client.competenties), start=1):
        if type(item) is dict and _plain_text(item.get("code")):  # the common, sound entry: nothing to say
            niveau = item.get("niveau")
            if niveau is None or (type(niveau) in (int, float) and 1 <= niveau <= 3):
                continue
        niveau = item.get("niveau") if isinstance(item, _MAPPINGS) else None
        if not _text(item, "code"):
            with_level = f"een niveau ({niveau}) maar " if niveau is not None else ""
            signal(
                "tegenstrijdig:competentie",
                f"Tegenstrijdig: competentie {position} heeft {with_level}geen naam; "
                "vul de competentie in of verwijder de regel.",
            )
        elif niveau is not None and (_number(niveau) is None or not 1 <= float(niveau) <= 3):
            signal(
                "tegenstrijdig:competentie",
                f"Tegenstrijdig: competentie '{_text(item, 'code')}' heeft niveau {niveau!r}; kies 1, 2 of 3.",
            )


def _experience(client: Client, signal: Signal) -> None:
    for position, item in enumerate(_entries(client.werkervaring), start=1):
        if type(item) is dict and _plain_text(item.get("beroepCode")):  # the common, sound entry
            years = item.get("jaren")
            if years is None or (type(years) in (int, float) and 0 <= years <= MAX_YEARS):
                continue
        occupation = _text(item, "beroepCode", "beroep_code")
        years = _number(item.get("jaren")) if isinstance(item, _MAPPINGS) else None
        name = f"'{occupation}'" if occupation else str(position)
        if not occupation:
            signal(
                "tegenstrijdig:werkervaring",
                f"Tegenstrijdig: werkervaring {position} noemt geen beroep; vul het beroep in of verwijder de regel.",
            )
        if years is not None and years < 0:
            signal(
                "tegenstrijdig:werkervaring",
                f"Tegenstrijdig: werkervaring {name} heeft {years:g} jaar; het aantal jaren kan niet negatief zijn.",
            )
        elif years is not None and years > MAX_YEARS:
            signal(
                "tegenstrijdig:werkervaring",
                f"Tegenstrijdig: werkervaring {name} heeft {years:g} jaar; meer dan {MAX_YEARS} kan niet, corrigeer.",
            )


def _travel_and_times(client: Client, signal: Signal) -> None:
    wensen = _wensen(client)
    for camel, snake, unit, what in (
        ("maxReisafstandKm", "max_reisafstand_km", "km", "reisafstand"),
        ("maxReistijdMin", "max_reistijd_min", "minuten", "reistijd"),
    ):
        value = _number(_wish(wensen, camel, snake))
        if value is not None and value <= 0:
            signal(
                "tegenstrijdig:reisafstand",
                f"Tegenstrijdig: maximale {what} is {value:g} {unit}; dan past geen enkele vacature. "
                f"Vul de werkelijke {what} in.",
            )
    excluded = {str(time) for time in _entries(_wish(wensen, "werktijdenUitgesloten", "werktijden_uitgesloten"))}
    if _ALL_TIMES <= excluded:
        signal(
            "tegenstrijdig:werktijden",
            "Tegenstrijdig: alle werktijden zijn uitgesloten (dag, avond, nacht, weekend en ploegendienst); "
            "vraag de klant wanneer werken wel kan.",
        )


def _unusual(client: Client, signal: Signal) -> None:
    trede = client.trede if isinstance(client.trede, int) and not isinstance(client.trede, bool) else None
    if trede in (Trede.GEISOLEERD, Trede.SOCIALE_CONTACTEN) and client.route == Route.WERK:
        signal(
            "controle:trede_route",
            f"Controleer: trede {trede} ({TREDE_LABELS[Trede(trede)]}) met route werk is ongebruikelijk; "
            "klopt de trede nog?",
        )


__all__ = [
    "FIELD_WEIGHTS",
    "ONVOLLEDIG",
    "OK",
    "SIGNAL_LABELS",
    "STALE_DAYS",
    "STATUS_ORDER",
    "TEGENSTRIJDIG",
    "VEROUDERD",
    "VERY_STALE_DAYS",
    "ProfileQuality",
    "assess",
    "freshness",
    "missing_fields",
    "summarise",
]
