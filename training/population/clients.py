"""A synthetic client: its true profile, what the consulent records of it, and the hidden factors.

Step 1 is :mod:`.people`, steps 2–5 :mod:`.client_truth`; this module draws the rest (the
sectors the client wants, wishes, licences, transport, hours, availability, certificates), what the
consulent records, and assembles the record. The draws happen in a fixed order on one stream:
reordering them changes every record after it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from matching.taxonomy import Taxonomy
from matching.vocab import ASPECTS, Plaatsingsvorm
from training.population.catalogue import OCCUPATION_LICENCE, Catalogue
from training.population.client_texts import NOTE_BEPERKING, notes, self_description
from training.population.client_truth import Truth, draw_truth
from training.population.context import Context
from training.population.people import draw_person, personalia
from training.population.sampling import picker

PLAATSINGSVORM_WISH = {
    0: {
        Plaatsingsvorm.SOCIALE_ACTIVERING: 0.5,
        Plaatsingsvorm.DAGBESTEDING: 0.4,
        Plaatsingsvorm.VRIJWILLIGERSWERK: 0.1,
    },
    1: {
        Plaatsingsvorm.SOCIALE_ACTIVERING: 0.25,
        Plaatsingsvorm.DAGBESTEDING: 0.25,
        Plaatsingsvorm.VRIJWILLIGERSWERK: 0.4,
        Plaatsingsvorm.WERKERVARINGSPLEK: 0.1,
    },
    2: {
        Plaatsingsvorm.VRIJWILLIGERSWERK: 0.25,
        Plaatsingsvorm.WERKERVARINGSPLEK: 0.35,
        Plaatsingsvorm.STAGE: 0.1,
        Plaatsingsvorm.BESCHUT_WERK: 0.15,
        Plaatsingsvorm.BEGELEID_WERKEN: 0.15,
    },
    3: {
        Plaatsingsvorm.WERKERVARINGSPLEK: 0.25,
        Plaatsingsvorm.PROEFPLAATSING: 0.2,
        Plaatsingsvorm.DETACHERING: 0.2,
        Plaatsingsvorm.BEGELEID_WERKEN: 0.2,
        Plaatsingsvorm.LOONKOSTENSUBSIDIE: 0.15,
    },
    4: {
        Plaatsingsvorm.BEGELEID_WERKEN: 0.2,
        Plaatsingsvorm.DETACHERING: 0.2,
        Plaatsingsvorm.LOONKOSTENSUBSIDIE: 0.35,
        Plaatsingsvorm.REGULIER: 0.25,
    },
    5: {Plaatsingsvorm.REGULIER: 0.8, Plaatsingsvorm.LOONKOSTENSUBSIDIE: 0.1, Plaatsingsvorm.DETACHERING: 0.1},
}
HOURS_MAX = {
    "low": {8: 0.25, 12: 0.25, 16: 0.3, 20: 0.2},
    "mid": {12: 0.1, 16: 0.2, 20: 0.25, 24: 0.2, 28: 0.1, 32: 0.15},
    "high": {20: 0.08, 24: 0.17, 28: 0.1, 32: 0.25, 36: 0.2, 38: 0.05, 40: 0.15},
}


@dataclass(frozen=True)
class _Circumstances:
    """Step 6: wishes, licences, transport, hours, availability and certificates."""

    beroepen: list[str]
    rijbewijs: list[str]
    vervoer: list[str]
    max_km: int | None
    max_min: int | None
    excluded: list[str]
    plaatsingsvormen: list[str]
    uren_min: int
    uren_max: int
    beschikbaar_per: date | None
    certificaten: list[str]


def client_record(
    ctx: Context, index: int, rnd: random.Random
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """One client: (ClientIn fields, personalia, audit attributes, latent factors)."""
    person = draw_person(rnd)
    truth = draw_truth(ctx, rnd, person)
    recorded_beperkingen = _recorded_beperkingen(rnd, truth.beperkingen, truth.hidden)
    sectors = _true_sectors(ctx.catalogue, rnd, truth.werkervaring)
    circumstances = _circumstances(ctx, rnd, truth, person.age, sectors)
    profile = _profile(ctx, index, rnd, truth, sectors, recorded_beperkingen, circumstances)
    standing = truth.standing
    trede_true = min(5.0, max(0.0, standing.trede + rnd.gauss(0.0, 0.6) + (0.25 if recorded_beperkingen else 0.0)))
    latent = {
        "trede_werkelijk": round(trede_true, 4),
        "motivatie": round(standing.motivatie, 4),
        "betrouwbaarheid": round(standing.betrouwbaarheid, 4),
        "vermogen": round(standing.vermogen, 4),
        "competenties": truth.competences,
        "beperkingen": truth.beperkingen,
        "verborgen_beperkingen": truth.hidden,
        "taalniveau": truth.taal,
        "opleidingsniveau": truth.opleiding.value,
        "sectoren": sectors,
        "consulent_grondigheid": round(standing.grondigheid, 4),
        "match_key": rnd.getrandbits(62),
    }
    return profile, personalia(person, rnd), person.audit(ctx.reference_date), latent


def _recorded_beperkingen(rnd: random.Random, beperkingen: dict[str, int], hidden: list[str]) -> list[dict[str, Any]]:
    """The beperkingen on record: all but the hidden one, half of them with a note."""
    return [
        {
            "aspect": aspect,
            "ernst": ernst,
            "categorie": ASPECTS[aspect][0].value,
            "toelichting": rnd.choice(NOTE_BEPERKING[aspect]) if rnd.random() < 0.5 else None,
        }
        for aspect, ernst in beperkingen.items()
        if aspect not in hidden
    ]


def _true_sectors(catalogue: Catalogue, rnd: random.Random, werkervaring: list[dict[str, Any]]) -> list[str]:
    """The sectors the client truly wants: mostly those of their experience, 1–3 in all."""
    true_sectors: list[str] = []
    for item in werkervaring:
        s = catalogue.taxonomy.occupations[item["beroep_code"]].sector
        if s not in true_sectors and rnd.random() < 0.7:
            true_sectors.append(s)
    while len(true_sectors) < rnd.choice((1, 1, 2, 3)):
        s = catalogue.client_sectors(rnd)
        if s not in true_sectors:
            true_sectors.append(s)
    return true_sectors


def _circumstances(ctx: Context, rnd: random.Random, truth: Truth, age: int, sectors: list[str]) -> _Circumstances:
    """Step 6: wished occupations, licences, transport, travel, working times, forms, hours, certificates."""
    trede, werkervaring = truth.standing.trede, truth.werkervaring
    zorgtaken = "onregelmatige_tijden" in truth.beperkingen
    beroepen = _wished_occupations(ctx.catalogue, rnd, werkervaring, sectors)
    rijbewijs = _licences(rnd, werkervaring, trede, age)
    vervoer = _transport(rnd, rijbewijs)
    max_km, max_min = _travel_limit(rnd, vervoer)
    excluded = _excluded_times(rnd, zorgtaken)
    plaatsingsvormen = _placement_wishes(rnd, trede)
    uren_min, uren_max = _hours(rnd, truth.standing.band, zorgtaken)
    beschikbaar_per = _available_from(rnd, ctx.reference_date)
    certificaten = _certificates(ctx.catalogue, rnd, werkervaring)
    return _Circumstances(
        beroepen,
        rijbewijs,
        vervoer,
        max_km,
        max_min,
        excluded,
        plaatsingsvormen,
        uren_min,
        uren_max,
        beschikbaar_per,
        certificaten,
    )


def _wished_occupations(
    catalogue: Catalogue, rnd: random.Random, werkervaring: list[dict[str, Any]], sectors: list[str]
) -> list[str]:
    """For about two in three clients 1–2 occupations: one they did, or one in a sector they want."""
    wished: list[str] = []
    if rnd.random() < 0.65:
        for _ in range(rnd.choice((1, 1, 2))):
            if werkervaring and rnd.random() < 0.6:
                code = rnd.choice(werkervaring)["beroep_code"]
            else:
                code = catalogue.occupation_in(rnd.choice(sectors), rnd).code
            if code not in wished:
                wished.append(code)
    return wished


def _licences(rnd: random.Random, werkervaring: list[dict[str, Any]], trede: int, age: int) -> list[str]:
    """Driving licences, in the order AM, B, C, CE, D."""
    licences: set[str] = set()
    for item in werkervaring:  # a driver's experience comes with the licence (C and D on top of B)
        needed = OCCUPATION_LICENCE.get(item["beroep_code"])
        if needed:
            licences |= {needed, "B"} if needed in ("C", "D") else {needed}
    if rnd.random() < 0.30 + 0.05 * trede - (0.15 if age < 22 else 0.0):
        licences.add("B")
    if "C" in licences and rnd.random() < 0.4:
        licences.add("CE")
    if rnd.random() < 0.06:
        licences.add("AM")
    return [code for code in ("AM", "B", "C", "CE", "D") if code in licences]


def _transport(rnd: random.Random, rijbewijs: list[str]) -> list[str]:
    """Means of transport; about 6 % have none on record."""
    vervoer: list[str] = []
    if rnd.random() >= 0.06:
        if rnd.random() < 0.72:
            vervoer.append("fiets")
        if rnd.random() < 0.5:
            vervoer.append("ov")
        if "B" in rijbewijs and rnd.random() < 0.65:
            vervoer.append("auto")
        if ("AM" in rijbewijs or "B" in rijbewijs) and rnd.random() < 0.08:
            vervoer.append("scooter")
        if rnd.random() < 0.15 or not vervoer:
            vervoer.append("lopen")
    return vervoer


def _travel_limit(rnd: random.Random, vervoer: list[str]) -> tuple[int | None, int | None]:
    """(max km, max minutes): a distance for 45 %, a travel time for 35 %, neither for the rest."""
    travel = rnd.random()
    max_km = max_min = None
    if travel < 0.45:
        max_km = rnd.choice((5, 8, 10, 15, 20, 25, 30) if "auto" in vervoer else (3, 5, 8, 10, 12, 15, 20))
    elif travel < 0.80:
        max_min = rnd.choice((15, 20, 30, 30, 45, 45, 60))
    return max_km, max_min


def _excluded_times(rnd: random.Random, zorgtaken: bool) -> list[str]:
    """Working times the client rules out; care duties rule out all but day work."""
    excluded = []
    for werktijd, p in (("nacht", 0.45), ("ploegendienst", 0.25), ("weekend", 0.25), ("avond", 0.2)):
        if rnd.random() < p or zorgtaken and werktijd in ("avond", "weekend", "nacht"):
            excluded.append(werktijd)
    if zorgtaken and "ploegendienst" not in excluded:
        excluded.append("ploegendienst")
    return excluded


def _placement_wishes(rnd: random.Random, trede: int) -> list[str]:
    """For 60 % of clients 1–2 plaatsingsvormen that fit their trede."""
    plaatsingsvormen: list[str] = []
    if rnd.random() < 0.6:
        for _ in range(rnd.choice((1, 1, 2))):
            form = picker(f"pv-{trede}", PLAATSINGSVORM_WISH[trede])(rnd).value
            if form not in plaatsingsvormen:
                plaatsingsvormen.append(form)
    return plaatsingsvormen


def _hours(rnd: random.Random, trede_band: str, zorgtaken: bool) -> tuple[int, int]:
    """(uren_min, uren_max); not more than 24 hours beside care duties. uren_min may exceed uren_max."""
    uren_max = picker(f"hours-{trede_band}", HOURS_MAX[trede_band])(rnd)
    if zorgtaken:
        uren_max = min(uren_max, 24)
    uren_min = 0 if rnd.random() < 0.15 else max(0, uren_max - rnd.choice((0, 4, 8, 8, 12, 16)))
    return uren_min, uren_max


def _available_from(rnd: random.Random, reference_date: date) -> date | None:
    """Available now (55 %), from a date within four months (25 %), or unknown."""
    availability = rnd.random()
    if availability < 0.55:
        return reference_date - timedelta(days=rnd.randint(0, 300))
    if availability < 0.8:
        return reference_date + timedelta(days=rnd.randint(7, 120))
    return None


def _certificates(catalogue: Catalogue, rnd: random.Random, werkervaring: list[dict[str, Any]]) -> list[str]:
    """Certificates of the occupations done for a year or more (35 % each), and sometimes a generic one."""
    taxonomy = catalogue.taxonomy
    certificaten: list[str] = []
    for item in werkervaring:
        for code in taxonomy.occupations[item["beroep_code"]].certificaten:
            held = code in taxonomy.certificates and code not in certificaten and item["jaren"] >= 1
            if held and rnd.random() < 0.35:
                certificaten.append(code)
    if catalogue.certificates and rnd.random() < 0.10:
        code = rnd.choice(catalogue.certificates)
        if code not in certificaten:
            certificaten.append(code)
    return certificaten


def _recorded_competences(
    taxonomy: Taxonomy, rnd: random.Random, true_competences: dict[str, int], grondigheid: float
) -> list[dict[str, Any]]:
    """About 70 % of the true competences (none for ~10 % of clients), sometimes a level off by one."""
    record = 0.70 + 0.08 * grondigheid
    competenties = []
    if rnd.random() >= 0.10 - 0.03 * grondigheid:
        for code, level in true_competences.items():
            if rnd.random() < min(max(record, 0.4), 0.95):
                shown = level if rnd.random() >= 0.15 else min(3, max(1, level + rnd.choice((-1, 1))))
                competenties.append({"code": code, "label": taxonomy.competences[code].label, "niveau": shown})
        if not competenties and true_competences:
            code, level = next(iter(true_competences.items()))
            competenties.append({"code": code, "label": taxonomy.competences[code].label, "niveau": level})
    return competenties


def _profile(
    ctx: Context,
    index: int,
    rnd: random.Random,
    truth: Truth,
    sectors: list[str],
    beperkingen: list[dict[str, Any]],
    wish: _Circumstances,
) -> dict[str, Any]:
    """Step 7: the ClientIn fields as the consulent records them, thoroughness deciding completeness."""
    taxonomy, standing = ctx.catalogue.taxonomy, truth.standing
    competenties = _recorded_competences(taxonomy, rnd, truth.competences, standing.grondigheid)

    def missing(share: float) -> bool:
        return rnd.random() < share * (1.0 - 0.3 * max(min(standing.grondigheid, 1.5), -1.5))

    profile = {
        "client_nummer": f"K{index + 1:07d}",
        "consulent": standing.consulent,
        "gemeente": standing.gemeente,
        "trede": standing.trede,
        "route": standing.route.value,
        "postcode": ctx.region.postcode(standing.gemeente, rnd),
        "competenties": competenties,
        "werkervaring": truth.werkervaring,
        "opleidingsniveau": None if missing(0.20) else truth.opleiding.value,
        "taalniveau": None if missing(0.10) else truth.taal,
        "certificaten": wish.certificaten,
        "rijbewijs": wish.rijbewijs,
        "vervoermiddel": wish.vervoer,
        "uren_min": min(wish.uren_min, wish.uren_max),
        "uren_max": wish.uren_max,
        "beschikbaar_per": wish.beschikbaar_per,
        "wensen": {
            "beroepen": wish.beroepen,
            "sectoren": [] if missing(0.30) else sectors,
            "max_reisafstand_km": wish.max_km,
            "max_reistijd_min": wish.max_min,
            "werktijden_uitgesloten": wish.excluded,
            "plaatsingsvormen": wish.plaatsingsvormen,
        },
        "beperkingen": beperkingen,
    }
    profile["zelfbeschrijving"] = self_description(rnd, taxonomy, profile, truth.taal, standing.motivatie)
    profile["notities"] = notes(
        rnd, taxonomy, profile, standing.route, standing.motivatie, standing.betrouwbaarheid, truth.hidden
    )
    return profile
