"""What is true of a synthetic client: steps 2–5 of the generative story in :mod:`training.synthetic`.

Trede and route, the hidden factors (motivatie, betrouwbaarheid, vermogen), taalniveau and
opleidingsniveau, the work history and the true competences, the true beperkingen and which of them
the consulent does not know of. Every draw only looks at what was drawn before it, and the draws
happen in a fixed order on one stream: reordering them changes every record after it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from matching.vocab import ASPECTS, OPLEIDING_ORDER, TAALNIVEAUS, BeperkingCategorie, Opleidingsniveau, Route
from training.population.catalogue import LANGUAGE_SKILLS, Catalogue
from training.population.context import Context
from training.population.people import Person
from training.population.sampling import band, picker

TREDES = {0: 0.08, 1: 0.17, 2: 0.25, 3: 0.22, 4: 0.16, 5: 0.12}
ROUTES = {
    0: {Route.MEEDOEN: 1.0},
    1: {Route.MEEDOEN: 0.85, Route.PERSPECTIEF: 0.15},
    2: {Route.PERSPECTIEF: 0.9, Route.MEEDOEN: 0.1},
    3: {Route.PERSPECTIEF: 0.6, Route.WERK: 0.4},
    4: {Route.WERK: 1.0},
    5: {Route.WERK: 1.0},
}
TAAL_BY_MIGRATION = {
    "geen": {"A2": 0.04, "B1": 0.16, "B2": 0.35, "C1": 0.35, "C2": 0.10},
    "westers": {"A1": 0.06, "A2": 0.16, "B1": 0.33, "B2": 0.30, "C1": 0.15},
    "niet-westers": {"A0": 0.04, "A1": 0.22, "A2": 0.34, "B1": 0.26, "B2": 0.11, "C1": 0.03},
}
EDUCATION = {
    Opleidingsniveau.GEEN: 0.08,
    Opleidingsniveau.BASISONDERWIJS: 0.12,
    Opleidingsniveau.VMBO: 0.22,
    Opleidingsniveau.MBO1: 0.10,
    Opleidingsniveau.MBO2: 0.18,
    Opleidingsniveau.HAVO_VWO: 0.06,
    Opleidingsniveau.MBO3: 0.09,
    Opleidingsniveau.MBO4: 0.08,
    Opleidingsniveau.HBO: 0.05,
    Opleidingsniveau.WO: 0.02,
}
# Diplomas from abroad are often not recognised: more "geen"/"basisonderwijs" on record.
EDUCATION_MIGRANT_FACTOR = {Opleidingsniveau.GEEN: 2.5, Opleidingsniveau.BASISONDERWIJS: 1.5}
EXPERIENCE_COUNT = {"low": (0.45, 0.35, 0.15, 0.05), "mid": (0.20, 0.45, 0.25, 0.10), "high": (0.08, 0.42, 0.32, 0.18)}
YEARS = {
    0.5: 0.12,
    1: 0.16,
    1.5: 0.08,
    2: 0.14,
    3: 0.13,
    4: 0.09,
    5: 0.08,
    6: 0.06,
    8: 0.06,
    10: 0.04,
    12: 0.02,
    15: 0.02,
}

# Share of clients with at least one recorded beperking, per trede (overall about half).
BEPERKING_SHARE = {0: 0.80, 1: 0.70, 2: 0.60, 3: 0.50, 4: 0.40, 5: 0.25}
BEPERKING_COUNT = {"low": (0.35, 0.35, 0.30), "mid": (0.50, 0.32, 0.18), "high": (0.70, 0.22, 0.08)}
ERNST = {"low": (0.30, 0.45, 0.25), "mid": (0.45, 0.40, 0.15), "high": (0.55, 0.37, 0.08)}
CATEGORY_WEIGHTS = {
    BeperkingCategorie.FYSIEK: 0.38,
    BeperkingCategorie.PSYCHISCH: 0.32,
    BeperkingCategorie.COGNITIEF: 0.10,
    BeperkingCategorie.MEDISCH: 0.08,
    BeperkingCategorie.ZORGTAKEN: 0.09,
    BeperkingCategorie.TAAL: 0.03,
}
ASPECT_WEIGHTS = {
    "tillen": 0.35,
    "staan": 0.2,
    "bukken": 0.2,
    "lopen": 0.15,
    "buitenwerk": 0.1,
    "prikkels": 0.35,
    "tijdsdruk": 0.35,
    "klantcontact": 0.15,
    "wisselende_taken": 0.15,
    "complexiteit": 0.6,
    "zelfstandigheid": 0.4,
    "machines": 0.4,
    "stoffen": 0.6,
    "onregelmatige_tijden": 1.0,
    "taal": 1.0,
}
HIDDEN_CATEGORY = {BeperkingCategorie.PSYCHISCH: 0.6, BeperkingCategorie.COGNITIEF: 0.2, BeperkingCategorie.FYSIEK: 0.2}
ENGLISH_SKILLS = ("engels_spreken", "engels_lezen")
# A skill the true beperking now rules out, whatever the work history says.
RULED_OUT_BY = {
    "zwaar_tillen": "tillen",
    "fysiek_belastbaar": "tillen",
    "ploegendienst": "onregelmatige_tijden",
    "stressbestendig": "tijdsdruk",
    "snel_schakelen": "tijdsdruk",
}
# Soft skills a consulent records more often for reliable (or motivated) clients.
RELIABILITY_SKILLS = {"op_tijd_komen", "afspraken_nakomen", "betrouwbaar", "regels_naleven"}
MOTIVATION_SKILLS = {"inzet_tonen", "doorzetten", "leergierig", "initiatief"}


@dataclass(frozen=True)
class Standing:
    """Step 2: trede and route, the hidden factors, and the consulent of the client's gemeente."""

    trede: int
    band: str
    route: Route
    motivatie: float
    betrouwbaarheid: float
    vermogen: float
    gemeente: str
    consulent: str
    grondigheid: float  # the consulent's thoroughness, in sd units


@dataclass(frozen=True)
class Truth:
    """Steps 2–5: what is true of a client (the work history is recorded as it is)."""

    standing: Standing
    taal: str
    opleiding: Opleidingsniveau
    werkervaring: list[dict[str, Any]]
    competences: dict[str, int]
    beperkingen: dict[str, int]
    hidden: list[str]


def draw_truth(ctx: Context, rnd: random.Random, person: Person) -> Truth:
    """Steps 2–5: standing, language and education, work history and competences, beperkingen."""
    standing = _draw_standing(ctx, rnd)
    taal, opleiding = _language_and_education(rnd, person.migratie, standing.vermogen)
    werkervaring = _work_history(ctx.catalogue, rnd, standing.band, person.age)
    competences = _true_competences(ctx.catalogue, rnd, werkervaring, standing, taal, opleiding)
    beperkingen, hidden = _true_beperkingen(rnd, standing, taal, person.age)
    for code, aspect in RULED_OUT_BY.items():
        if beperkingen.get(aspect, 0) >= 2:
            competences.pop(code, None)
    return Truth(standing, taal, opleiding, werkervaring, competences, beperkingen, hidden)


def _draw_standing(ctx: Context, rnd: random.Random) -> Standing:
    """Trede, route and the hidden factors (independent of the protected attributes), gemeente, consulent."""
    trede = picker("trede", TREDES)(rnd)
    route = picker(f"route-{trede}", ROUTES[trede])(rnd)
    motivatie = rnd.gauss(0.15 * (trede - 2.5), 1.0)
    betrouwbaarheid = 0.3 * motivatie + math.sqrt(1 - 0.09) * rnd.gauss(0.0, 1.0)
    vermogen = rnd.gauss(0.0, 1.0)
    gemeente = ctx.region.client_picker(rnd)
    consulent, grondigheid = rnd.choice(ctx.consulenten[gemeente])
    return Standing(trede, band(trede), route, motivatie, betrouwbaarheid, vermogen, gemeente, consulent, grondigheid)


def _language_and_education(rnd: random.Random, migratie: str, vermogen: float) -> tuple[str, Opleidingsniveau]:
    """The true taalniveau and the opleidingsniveau (tilted by vermogen)."""
    taal = picker(f"taal-{migratie}", TAAL_BY_MIGRATION[migratie])(rnd)
    education_weights = {
        level: p
        * (EDUCATION_MIGRANT_FACTOR.get(level, 1.0) if migratie == "niet-westers" else 1.0)
        * math.exp(0.35 * vermogen * (OPLEIDING_ORDER[level] - 4.5) / 4.5)
        for level, p in EDUCATION.items()
    }
    opleiding = rnd.choices(list(education_weights), weights=list(education_weights.values()))[0]
    return taal, opleiding


def _work_history(catalogue: Catalogue, rnd: random.Random, trede_band: str, age: int) -> list[dict[str, Any]]:
    """0–3 occupations of work experience, mostly in one sector, with years capped by age."""
    n_experience = rnd.choices((0, 1, 2, 3), weights=EXPERIENCE_COUNT[trede_band])[0]
    werkervaring: list[dict[str, Any]] = []
    seen_occupations: set[str] = set()
    sector = catalogue.client_sectors(rnd)
    for _ in range(n_experience):
        if werkervaring and rnd.random() >= 0.5:
            sector = catalogue.client_sectors(rnd)
        occupation = catalogue.occupation_in(sector, rnd)
        if occupation.code in seen_occupations:
            continue
        seen_occupations.add(occupation.code)
        jaren = min(picker("years", YEARS)(rnd), max(age - 17, 0.5))
        werkervaring.append({"beroep_code": occupation.code, "beroep_label": occupation.label, "jaren": jaren})
    return werkervaring


def _true_competences(
    catalogue: Catalogue,
    rnd: random.Random,
    werkervaring: list[dict[str, Any]],
    standing: Standing,
    taal: str,
    opleiding: Opleidingsniveau,
) -> dict[str, int]:
    """About 75 % of each experienced occupation's competences, general skills, a talent, languages."""
    taxonomy = catalogue.taxonomy
    true_competences: dict[str, int] = {}
    for item in werkervaring:
        occupation = taxonomy.occupations[item["beroep_code"]]
        base = 1 if item["jaren"] < 1 else 2 if item["jaren"] < 5 else 3
        for code in occupation.competenties:
            if code in taxonomy.competences and rnd.random() < 0.75:
                level = min(3, max(1, base + (rnd.choice((-1, 1)) if rnd.random() < 0.2 else 0)))
                true_competences[code] = max(true_competences.get(code, 0), level)
    general = _general_skills(rnd, catalogue, rnd.randint(2, 5), standing.motivatie, standing.betrouwbaarheid)
    for code in general:
        true_competences.setdefault(code, rnd.choices((1, 2, 3), weights=(0.35, 0.45, 0.2))[0])
    if rnd.random() < 0.3:  # a talent from hobby or volunteering that no job shows
        true_competences.setdefault(rnd.choice(catalogue.talents).code, rnd.randint(1, 2))
    for code, threshold in LANGUAGE_SKILLS.items():
        steps = TAALNIVEAUS.index(taal) - TAALNIVEAUS.index(threshold)
        if code in taxonomy.competences and steps >= 0:
            true_competences[code] = min(3, 1 + steps)
    for code in ENGLISH_SKILLS:
        if code in taxonomy.competences and rnd.random() < 0.10 + 0.04 * OPLEIDING_ORDER[opleiding]:
            true_competences[code] = rnd.randint(1, 3)
    return true_competences


def _general_skills(
    rnd: random.Random, catalogue: Catalogue, count: int, motivatie: float, betrouwbaarheid: float
) -> list[str]:
    """``count`` general skills, plus reliability and motivation skills more often for those who have them."""
    codes = [c.code for c in rnd.sample(catalogue.general, min(count, len(catalogue.general)))]
    codes = [code for code in codes if code not in RELIABILITY_SKILLS and code not in MOTIVATION_SKILLS]
    for skills, factor in ((RELIABILITY_SKILLS, betrouwbaarheid), (MOTIVATION_SKILLS, motivatie)):
        p_skill = min(0.9, 0.15 * math.exp(0.8 * factor))  # ≈ 0.2 on average, 0.5 at +1.5 sd
        codes += [code for code in sorted(skills) if code in catalogue.taxonomy.competences and rnd.random() < p_skill]
    return codes


def _true_beperkingen(rnd: random.Random, standing: Standing, taal: str, age: int) -> tuple[dict[str, int], list[str]]:
    """The true beperkingen (aspect -> ernst) and which of them the consulent does not know of."""
    beperkingen: dict[str, int] = {}
    if taal in ("A0", "A1") and rnd.random() < 0.6 or taal == "A2" and rnd.random() < 0.2:
        beperkingen["taal"] = {"A0": 3, "A1": 2, "A2": 1}[taal]
    if rnd.random() < BEPERKING_SHARE[standing.trede] - 0.05:
        count = rnd.choices((1, 2, 3), weights=BEPERKING_COUNT[standing.band])[0]
        for _ in range(min(count, 3 - len(beperkingen))):  # at most three on record
            weights = dict(CATEGORY_WEIGHTS)
            weights[BeperkingCategorie.FYSIEK] *= 0.6 + age / 50.0  # physical complaints grow with age
            categorie = rnd.choices(list(weights), weights=list(weights.values()))[0]
            aspects = [a for a in ASPECTS if ASPECTS[a][0] == categorie]
            aspect = rnd.choices(aspects, weights=[ASPECT_WEIGHTS[a] for a in aspects])[0]
            if aspect not in beperkingen:
                beperkingen[aspect] = rnd.choices((1, 2, 3), weights=ERNST[standing.band])[0]
    hidden: list[str] = []
    if rnd.random() < (0.15 if standing.trede <= 2 else 0.10):
        categorie = picker("hidden", HIDDEN_CATEGORY)(rnd)
        options = [a for a in ASPECTS if ASPECTS[a][0] == categorie and a not in beperkingen]
        if options:
            aspect = rnd.choices(options, weights=[ASPECT_WEIGHTS[a] for a in options])[0]
            beperkingen[aspect] = rnd.choice((1, 2))
            hidden.append(aspect)
    return beperkingen, hidden
