"""A synthetic vacancy of WSP (about 65 %) or Scalabor (about 35 %), with its hidden factors.

A vacancy gets a source, an occupation from the source's sector mix, an employer (one location
and a hidden openness shared by its vacancies), a plaatsingsvorm, jobcoach and jobcarving (mostly
Scalabor), belasting from the occupation (jittered, lowered by Scalabor and by jobcarving), 2–5
required and 1–4 optional competences, certificates, taalniveau, hours and working times, status
and closing date; and hidden ``openheid``, ``begeleiding_kwaliteit`` and ``werkdruk``. The draws
happen in a fixed order on one stream: reordering them changes every record after it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from matching import geo
from matching.taxonomy import OccupationDef, Taxonomy
from matching.vocab import ASPECTS, TAALNIVEAUS, Bron, Plaatsingsvorm, VacancyStatus
from training.population.catalogue import OCCUPATION_LICENCE, Catalogue
from training.population.context import Context
from training.population.region import Employer
from training.population.sampling import picker
from training.population.vacancy_texts import title, vacancy_text

WSP_SHARE = 0.65
WSP_FORMS = {
    Plaatsingsvorm.REGULIER: 0.75,
    Plaatsingsvorm.LOONKOSTENSUBSIDIE: 0.20,
    Plaatsingsvorm.PROEFPLAATSING: 0.05,
}
SCALABOR_FORMS = {
    Plaatsingsvorm.WERKERVARINGSPLEK: 0.25,
    Plaatsingsvorm.DETACHERING: 0.23,
    Plaatsingsvorm.BEGELEID_WERKEN: 0.20,
    Plaatsingsvorm.BESCHUT_WERK: 0.15,
    Plaatsingsvorm.PROEFPLAATSING: 0.12,
    Plaatsingsvorm.STAGE: 0.05,
}
STATUSES = {VacancyStatus.OPEN: 0.85, VacancyStatus.VERVULD: 0.10, VacancyStatus.GESLOTEN: 0.05}
SECTOR_TIMES: dict[str, dict[tuple[str, ...], float]] = {
    "logistiek": {
        ("dag",): 0.4,
        ("dag", "avond"): 0.25,
        ("ploegendienst",): 0.2,
        ("nacht",): 0.1,
        ("dag", "weekend"): 0.05,
    },
    "productie": {("dag",): 0.45, ("ploegendienst",): 0.4, ("dag", "avond"): 0.15},
    "horeca": {("dag", "avond", "weekend"): 0.5, ("avond", "weekend"): 0.3, ("dag",): 0.2},
    "zorg_welzijn": {
        ("dag", "avond", "weekend"): 0.45,
        ("dag",): 0.35,
        ("nacht", "weekend"): 0.1,
        ("dag", "avond"): 0.1,
    },
    "retail": {("dag", "weekend"): 0.5, ("dag",): 0.3, ("dag", "avond", "weekend"): 0.2},
    "schoonmaak": {("dag",): 0.4, ("avond",): 0.35, ("dag", "avond"): 0.25},
    "beveiliging": {("dag", "avond", "nacht", "weekend"): 0.6, ("nacht",): 0.4},
    "transport": {("dag",): 0.6, ("dag", "nacht"): 0.2, ("dag", "weekend"): 0.2},
}
DEFAULT_TIMES = {("dag",): 0.85, ("dag", "avond"): 0.1, ("dag", "weekend"): 0.05}
# Scalabor runs its own work locations besides placing people with partner employers.
SCALABOR_OWN = {
    "groen": "Scalabor Groen",
    "productie": "Scalabor Inpak & Assemblage",
    "facilitair": "Scalabor Facilitair",
    "schoonmaak": "Scalabor Schoonmaak",
    "horeca": "Scalabor Horeca & Catering",
    "techniek": "Scalabor Fietsenwerkplaats",
}
MOBILE_SECTORS = {"techniek", "bouw", "schoonmaak", "groen", "facilitair", "zorg_welzijn"}


@dataclass(frozen=True)
class _Placement:
    """Source, occupation, plaatsingsvorm, support and employer of a vacancy."""

    wsp: bool
    sector: str
    occupation: OccupationDef
    form: Plaatsingsvorm
    jobcoach: bool
    jobcarving: bool
    employer: Employer
    place: str


@dataclass(frozen=True)
class _Terms:
    """What a vacancy asks and offers besides competences and belasting."""

    certificaten: list[str]
    taalniveau: str | None
    rijbewijs: list[str]
    uren_min: int
    uren_max: int
    werktijden: list[str]
    status: VacancyStatus
    sluitingsdatum: date | None
    places: int


def vacancy_record(ctx: Context, index: int, rnd: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    """One vacancy: (VacancyIn fields, latent factors)."""
    catalogue, taxonomy = ctx.catalogue, ctx.catalogue.taxonomy
    placement = _draw_placement(ctx, rnd)
    wsp, occupation, employer = placement.wsp, placement.occupation, placement.employer
    belasting = _belasting(rnd, occupation, wsp, placement.jobcarving)
    required, optional = _competences(catalogue, rnd, occupation, wsp)
    terms = _terms(ctx, rnd, placement)
    # Hidden factors: employer openness is shared by its vacancies.
    openness = 0.8 * employer.openness + rnd.gauss(0.0, 0.6) + (0.0 if wsp else 0.5)
    coaching = rnd.gauss(0.3 if not wsp else 0.0, 1.0)
    workload = rnd.gauss(0.2 if wsp else -0.2, 1.0) + (0.3 if belasting.get("tijdsdruk") == 3 else 0.0)
    label = occupation.label
    profile = {
        "vacature_nummer": f"{'WSP' if wsp else 'SCA'}-{index + 1:07d}",
        "bron": (Bron.WSP if wsp else Bron.SCALABOR).value,
        "gemeente": None if wsp else employer.gemeente,  # a WSP vacancy is the region's
        "werkgever": employer.name,
        "titel": title(rnd, occupation, wsp, placement.form, terms.uren_min, terms.uren_max, placement.place),
        "beroep_code": occupation.code,
        "beroep_label": label,
        "omschrijving": _description(rnd, taxonomy, placement, required, belasting, terms, openness, workload),
        "postcode": employer.postcode,
        "uren_min": terms.uren_min,
        "uren_max": terms.uren_max,
        "werktijden": terms.werktijden,
        "belasting": [{"aspect": a, "niveau": n} for a, n in belasting.items()],
        "competenties_vereist": [_competence(taxonomy, c, _required_level(rnd, wsp)) for c in required],
        "competenties_gewenst": [_competence(taxonomy, c, rnd.choice((1, 2))) for c in optional],
        "certificaten": terms.certificaten,
        "taalniveau": terms.taalniveau,
        "rijbewijs": terms.rijbewijs,
        "plaatsingsvorm": placement.form.value,
        "jobcoach": placement.jobcoach,
        "jobcarving": placement.jobcarving,
        "aantal_plaatsen": terms.places,
        "status": terms.status.value,
        "sluitingsdatum": terms.sluitingsdatum,
    }
    latent = {
        "openheid": round(openness, 4),
        "begeleiding_kwaliteit": round(coaching, 4),
        "werkdruk": round(workload, 4),
        "werkgever_openheid": round(employer.openness, 4),
        "match_key": rnd.getrandbits(62),
    }
    return profile, latent


def _draw_placement(ctx: Context, rnd: random.Random) -> _Placement:
    """Source, sector and occupation, plaatsingsvorm, jobcoach and jobcarving, employer."""
    catalogue = ctx.catalogue
    wsp = rnd.random() < WSP_SHARE
    sector = (catalogue.wsp_sectors if wsp else catalogue.scalabor_sectors)(rnd)
    occupation = catalogue.occupation_in(sector, rnd)
    form = picker("wsp-forms" if wsp else "scalabor-forms", WSP_FORMS if wsp else SCALABOR_FORMS)(rnd)
    p_jobcoach = (0.4 if form == Plaatsingsvorm.LOONKOSTENSUBSIDIE else 0.08) if wsp else 0.75
    jobcoach = rnd.random() < p_jobcoach
    jobcarving = rnd.random() < 0.05 if wsp else rnd.random() < 0.40
    if not wsp and sector in SCALABOR_OWN and rnd.random() < 0.3:
        employer = Employer(SCALABOR_OWN[sector], sector, "Arnhem", ctx.region.postcode("Arnhem", rnd), 1.5)
    else:
        employers = ctx.employers[sector]
        # Large employers post more: index = n·u² puts half of the picks on the first quarter.
        employer = employers[min(int(len(employers) * rnd.random() ** 2), len(employers) - 1)]
    place = geo.load_pc4().place(employer.postcode[:4])
    return _Placement(wsp, sector, occupation, form, jobcoach, jobcarving, employer, place)


def _belasting(rnd: random.Random, occupation: OccupationDef, wsp: bool, jobcarving: bool) -> dict[str, int]:
    """The occupation's belasting, jittered, lowered at Scalabor and by jobcarving (aspect -> 1–3)."""
    belasting: dict[str, int] = {}
    for aspect, niveau in occupation.belasting.items():
        if aspect not in ASPECTS:
            continue
        if rnd.random() < 0.3:
            niveau += rnd.choice((-1, 1))
        if not wsp and aspect in ("tijdsdruk", "complexiteit", "zelfstandigheid") and rnd.random() < 0.5:
            niveau -= 1
        belasting[aspect] = min(3, max(1, niveau))
    if jobcarving and belasting:
        for aspect in sorted(belasting, key=lambda a: -belasting[a])[: rnd.randint(1, 2)]:
            belasting[aspect] = max(1, belasting[aspect] - 1)
    return belasting


def _competences(
    catalogue: Catalogue, rnd: random.Random, occupation: OccupationDef, wsp: bool
) -> tuple[list[str], list[str]]:
    """(required, optional) competence codes: the occupation's typical ones, general skills to fill up."""
    typical = [c for c in occupation.competenties if c in catalogue.taxonomy.competences]
    n_required = min(len(typical), rnd.randint(3, 5) if wsp else rnd.randint(2, 3))
    required = rnd.sample(typical, n_required) if n_required >= 1 else []
    if len(required) < 2:  # occupations with few typical competences borrow general skills
        extra = [c.code for c in catalogue.general if c.code not in required]
        required += rnd.sample(extra, min(2 - len(required), len(extra)))
    optional_pool = sorted((set(typical) | {c.code for c in catalogue.general}) - set(required))
    optional = rnd.sample(optional_pool, min(len(optional_pool), rnd.randint(1, 4)))
    return required, optional


def _required_level(rnd: random.Random, wsp: bool) -> int:
    return rnd.choices((1, 2, 3), weights=(0.15, 0.6, 0.25) if wsp else (0.6, 0.4, 0.0))[0]


def _competence(taxonomy: Taxonomy, code: str, niveau: int) -> dict[str, Any]:
    return {"code": code, "label": taxonomy.competences[code].label, "niveau": niveau}


def _terms(ctx: Context, rnd: random.Random, placement: _Placement) -> _Terms:
    """Certificates, taalniveau, licence, hours, working times, status, closing date, places."""
    wsp, occupation, sector = placement.wsp, placement.occupation, placement.sector
    p_certificate = 0.6 if wsp else 0.15
    certificaten = [
        c for c in occupation.certificaten if c in ctx.catalogue.taxonomy.certificates and rnd.random() < p_certificate
    ]
    taalniveau = _language(rnd, occupation, wsp)
    rijbewijs = []
    if occupation.code in OCCUPATION_LICENCE:
        rijbewijs = [OCCUPATION_LICENCE[occupation.code]]
    elif rnd.random() < (0.12 if sector in MOBILE_SECTORS else 0.03) * (1.0 if wsp else 0.2):
        rijbewijs = ["B"]
    if wsp:
        uren_max = rnd.choices((24, 32, 36, 38, 40), weights=(0.15, 0.25, 0.25, 0.15, 0.2))[0]
    else:
        uren_max = rnd.choices((12, 16, 20, 24, 28, 32), weights=(0.1, 0.2, 0.25, 0.2, 0.1, 0.15))[0]
    uren_min = max(4, uren_max - rnd.choice((0, 8, 12, 16)))
    werktijden = list(picker(f"times-{sector}", SECTOR_TIMES.get(sector, DEFAULT_TIMES))(rnd))
    status = picker("status", STATUSES)(rnd)
    if status == VacancyStatus.OPEN:
        sluitingsdatum = None if rnd.random() < 0.2 else ctx.reference_date + timedelta(days=rnd.randint(7, 90))
    else:
        sluitingsdatum = ctx.reference_date - timedelta(days=rnd.randint(1, 120))
    places = rnd.choices((1, 2, 3, 4, 5), weights=(0.75, 0.12, 0.06, 0.04, 0.03))[0]
    if placement.form == Plaatsingsvorm.DETACHERING and not wsp and rnd.random() < 0.15:
        places = rnd.randint(6, 12)  # groepsdetachering
    return _Terms(certificaten, taalniveau, rijbewijs, uren_min, uren_max, werktijden, status, sluitingsdatum, places)


def _language(rnd: random.Random, occupation: OccupationDef, wsp: bool) -> str | None:
    """The taalniveau asked: WSP the occupation's minimum or one above, Scalabor often lower or none."""
    minimum = TAALNIVEAUS.index(occupation.taalniveau_min) if occupation.taalniveau_min in TAALNIVEAUS else 2
    if wsp:
        taal_index = None if rnd.random() < 0.10 else min(minimum + (1 if rnd.random() < 0.3 else 0), 5)
    else:
        taal_index = None if rnd.random() < 0.35 else max(min(minimum, 2) - (1 if rnd.random() < 0.4 else 0), 1)
    return None if taal_index is None else TAALNIVEAUS[taal_index]


def _description(
    rnd: random.Random,
    taxonomy: Taxonomy,
    placement: _Placement,
    required: list[str],
    belasting: dict[str, int],
    terms: _Terms,
    openness: float,
    workload: float,
) -> str:
    return vacancy_text(
        rnd,
        taxonomy,
        placement.employer.name,
        placement.place,
        placement.occupation.label.lower(),
        required,
        placement.wsp,
        placement.form,
        placement.jobcoach,
        placement.jobcarving,
        belasting,
        terms.certificaten,
        terms.taalniveau,
        openness,
        workload,
        terms.werktijden,
    )
