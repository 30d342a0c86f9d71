"""Seeded synthetic clients and vacancies for the Arnhem region, with a hidden ground truth.

Real bijstand profiles are special-category data and cannot leave the municipality, so werkmatch is
developed, trained and benchmarked on a synthetic population that looks like the real one: the
clients of W&I Arnhem and the other Scalabor municipalities (Rheden, Rozendaal, Renkum, Overbetuwe,
Lingewaard, Zevenaar, Duiven, Westervoort, Doesburg; Arnhem about 60 % of clients), and the
vacancies of WSP (about 65 %) and Scalabor (about 35 %).

Generative story
----------------
A *client* is drawn in this order; every draw only looks at what was drawn before it.

1. Protected attributes (audit only): geslacht (55 % vrouw), age 18–66 (older-heavy, as in the
   bijstand population), migratieachtergrond (45 % geen, 10 % westers, 45 % niet-westers). A name
   from Faker's nl_NL (pl_PL/de_DE or tr_TR pools for part of the migrants) goes to personalia.
2. Trede (0: 8 %, 1: 17 %, 2: 25 %, 3: 22 %, 4: 16 %, 5: 12 %) and the route that follows from it.
3. Hidden factors (independent of step 1): motivatie, betrouwbaarheid, vermogen, the true
   readiness ``trede_werkelijk`` (see :mod:`training.latent`).
4. True taalniveau (A1–A2 for about 60 % of niet-westerse clients), opleidingsniveau (tilted by
   vermogen), 0–3 occupations of work experience (sector mix of this population: logistiek,
   productie, schoonmaak, retail, horeca …), the true competences (about 75 % of each experienced
   occupation's typical competences, levels from the years, plus 2–5 general skills), the true
   beperkingen (about half of the clients have none; more and heavier at low tredes; physical
   ones more often with age) and the sectors the client truly wants.
5. What the consulent records, through a per-consulent thoroughness: about 70 % of the true
   competences (none at all for ~10 % of clients), sometimes a level off by one; the beperkingen
   except a hidden one that ~12 % of clients have; and incomplete fields (opleidingsniveau
   missing ~20 %, wensen sectoren ~30 %, taalniveau ~10 %).
6. Wishes (occupations, travel, excluded working times, plaatsingsvormen: Scalabor forms for low
   tredes), hours, availability, licences and transport.
7. Free text: a zelfbeschrijving in lay Dutch (often short, sometimes misspelt, sometimes empty)
   and consulent notes in shorthand. Both reveal hidden factors only partly (a motivated client
   *usually* sounds motivated; a hidden beperking is *sometimes* hinted at) and never contain a
   name, gender, age or migration background.

A *vacancy* gets a source (WSP/Scalabor), an occupation from the source's sector mix, an
employer (Faker surnames with sector-fitting names; an employer has one location and a hidden
openness shared by its vacancies), a plaatsingsvorm, jobcoach and jobcarving (mostly Scalabor),
belasting from the occupation (jittered, lowered by Scalabor and by jobcarving), 2–5 required and
1–4 optional competences, certificates, taalniveau, hours and working times, status (~85 % open)
and closing date; and hidden ``openheid``, ``begeleiding_kwaliteit`` and ``werkdruk``, which the
description hints at only sometimes.

What is observable is the validated :class:`~matching.domain.ClientIn` / :class:`VacancyIn`; what
is latent goes to :class:`training.latent.SyntheticLatent`. The true suitability combines both
(weights in :mod:`training.latent`), so a model that reads profiles can approach but never reach it.

Determinism: records are generated in chunks of :data:`CHUNK` with a random stream per chunk
(``SeedSequence([seed, kind, chunk])``), so a seed gives the same records whatever the batch size
of :func:`iter_batches`. Dates are relative to ``reference_date`` (default a fixed date, so output
does not change from day to day; pass ``date.today()`` for a live demo).

Scale: every record is validated through ``ClientIn``/``VacancyIn`` (the contract), also at scale:
validation is ~80 µs of the ~300 µs a client costs, so an unvalidated path would save little. On
2 cores 100,000 clients take about 30 s and 100,000 vacancies about 25 s, so
``generate(400_000, 300_000, seed)`` takes about 3.5 minutes and some 8 GB of memory; use
:func:`iter_batches` with :func:`write_to_db` per batch to keep memory flat.
"""

from __future__ import annotations

import logging
import math
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
from faker import Faker
from faker.providers.person.de_DE import Provider as GermanNames
from faker.providers.person.nl_NL import Provider as DutchNames
from faker.providers.person.pl_PL import Provider as PolishNames
from faker.providers.person.tr_TR import Provider as TurkishNames
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from tqdm import tqdm

from matching import geo
from matching.domain import (
    AuditKenmerken,
    Client,
    ClientIn,
    ClientPersonalia,
    Vacancy,
    VacancyIn,
    client_from_input,
    utcnow,
    vacancy_from_input,
)
from matching.store import init_db
from matching.taxonomy import CompetenceDef, OccupationDef, Taxonomy, load_taxonomy
from matching.text import join_nl
from matching.vocab import (
    ASPECTS,
    OPLEIDING_ORDER,
    SECTOREN,
    TAALNIVEAUS,
    BeperkingCategorie,
    Bron,
    Opleidingsniveau,
    Plaatsingsvorm,
    Route,
    VacancyStatus,
)
from training.latent import CLIENT, VACANCY, SyntheticLatent

logger = logging.getLogger(__name__)

CHUNK = 1000  # records per random stream: the unit of determinism
CLIENT_STREAM, VACANCY_STREAM, CONSULENT_STREAM, EMPLOYER_STREAM = 1, 2, 3, 4
DEFAULT_REFERENCE_DATE = date(2026, 11, 2)
CASELOAD = 150  # clients per werkconsulent, a typical W&I caseload

# gemeente -> (places as spelled in data/pc4_nl.csv, share of clients, share of vacancies).
# Client shares follow bijstand counts (Arnhem ~9,000 of ~15,000); vacancies lean to the
# business parks of Duiven, Zevenaar and Elst.
REGION: dict[str, tuple[tuple[str, ...], float, float]] = {
    "Arnhem": (("Arnhem",), 0.60, 0.48),
    "Rheden": (("Rheden", "Velp", "Dieren", "De Steeg", "Ellecom", "Spankeren", "Laag-Soeren"), 0.08, 0.07),
    "Rozendaal": (("Rozendaal",), 0.005, 0.01),
    "Renkum": (("Renkum", "Oosterbeek", "Doorwerth", "Heelsum", "Heveadorp", "Wolfheze"), 0.045, 0.05),
    "Overbetuwe": (
        (
            "Elst",
            "Driel",
            "Heteren",
            "Randwijk",
            "Zetten",
            "Hemmen",
            "Andelst",
            "Herveld",
            "Valburg",
            "Homoet",
            "Slijk-Ewijk",
            "Oosterhout",
        ),
        0.05,
        0.08,
    ),
    "Lingewaard": (("Huissen", "Bemmel", "Haalderen", "Doornenburg", "Angeren", "Gendt"), 0.05, 0.06),
    "Zevenaar": (
        (
            "Zevenaar",
            "Babberich",
            "Pannerden",
            "Aerdt",
            "Lobith",
            "Tolkamer",
            "Spijk",
            "Didam",
            "Angerlo",
            "Giesbeek",
            "Lathum",
        ),
        0.07,
        0.08,
    ),
    "Duiven": (("Duiven", "Groessen", "Loo Gld"), 0.035, 0.08),
    "Westervoort": (("Westervoort",), 0.035, 0.05),
    "Doesburg": (("Doesburg",), 0.03, 0.04),
}
REGION_PC4_RANGE = ("6600", "6999")  # the same place names exist elsewhere (Elst, Oosterhout)
PC6_LETTERS = "ABCDEGHJKLMNPRSTVWXZ"

# --- client distributions -------------------------------------------------------------------------
GENDERS = {"vrouw": 0.55, "man": 0.445, "x": 0.005}
AGE_BANDS = {(18, 26): 0.10, (27, 35): 0.18, (36, 45): 0.22, (46, 55): 0.25, (56, 66): 0.25}
MIGRATION = {"geen": 0.45, "westers": 0.10, "niet-westers": 0.45}
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
CLIENT_SECTORS = {
    "logistiek": 0.17,
    "productie": 0.13,
    "schoonmaak": 0.14,
    "horeca": 0.11,
    "retail": 0.12,
    "zorg_welzijn": 0.08,
    "groen": 0.06,
    "facilitair": 0.05,
    "bouw": 0.04,
    "transport": 0.03,
    "techniek": 0.03,
    "administratie": 0.03,
    "klantcontact": 0.03,
    "beveiliging": 0.02,
    "kinderopvang_onderwijs": 0.02,
    "ict": 0.01,
}
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

# --- vacancy distributions ------------------------------------------------------------------------
WSP_SHARE = 0.65
WSP_SECTORS = {
    "logistiek": 0.17,
    "productie": 0.13,
    "zorg_welzijn": 0.13,
    "retail": 0.10,
    "horeca": 0.09,
    "schoonmaak": 0.08,
    "techniek": 0.07,
    "transport": 0.05,
    "bouw": 0.05,
    "administratie": 0.04,
    "klantcontact": 0.03,
    "facilitair": 0.02,
    "groen": 0.02,
    "beveiliging": 0.02,
    "kinderopvang_onderwijs": 0.02,
    "ict": 0.01,
}
SCALABOR_SECTORS = {
    "groen": 0.18,
    "productie": 0.17,
    "schoonmaak": 0.16,
    "logistiek": 0.13,
    "facilitair": 0.12,
    "horeca": 0.10,
    "retail": 0.06,
    "zorg_welzijn": 0.04,
    "techniek": 0.02,
    "administratie": 0.02,
}
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
EMPLOYER_NAMES: dict[str, tuple[str, ...]] = {
    "logistiek": ("{n} Logistiek", "{n} Warehousing", "Distributiecentrum {p}", "{n} Transport & Logistiek"),
    "productie": ("{n} Productie", "{n} Industrie", "{n} & Zonen", "{n} Groep", "Fabriek De {w}"),
    "schoonmaak": ("{n} Schoonmaakdiensten", "Schoonmaakbedrijf {n}", "{n} Facilitair & Schoon"),
    "horeca": ("Restaurant {n}", "Eetcafé De {w}", "Hotel {p}", "Brasserie {w}", "{n} Catering"),
    "retail": ("Supermarkt {n}", "{n} Winkels", "Winkelcentrum De {w}", "{n} Retail"),
    "zorg_welzijn": ("Zorggroep {w}", "Stichting De {w}", "{n} Zorg", "Welzijnsorganisatie {p}"),
    "groen": ("{n} Groen", "Hoveniersbedrijf {n}", "{n} Agro", "Landgoed De {w}"),
    "facilitair": ("{n} Facilitaire Diensten", "{n} Services"),
    "bouw": ("Bouwbedrijf {n}", "{n} Bouw", "{n} Renovatie"),
    "transport": ("{n} Transport", "Vervoersbedrijf {p}", "{n} Mobiliteit"),
    "techniek": ("{n} Techniek", "{n} Installatie & Onderhoud", "{n} Technische Dienst"),
    "administratie": ("Administratiekantoor {n}", "{n} Accountants"),
    "klantcontact": ("{n} Klantcontact", "Callcenter {p}"),
    "beveiliging": ("{n} Beveiliging", "{n} Security"),
    "kinderopvang_onderwijs": ("Kinderopvang De {w}", "Stichting Kind & Co {p}"),
    "ict": ("{n} IT", "{n} Automatisering"),
}
EMPLOYER_WORDS = (
    "Linde",
    "Eik",
    "Hoeve",
    "Brug",
    "Molen",
    "Zonnebloem",
    "Horizon",
    "Parel",
    "Vlinder",
    "Wingerd",
    "Rijnoever",
    "Veluwezoom",
    "Klaproos",
    "Kastanje",
    "Waterkant",
)

# --- text banks (lay Dutch for clients, shorthand for consulenten, house style for vacancies) --------
OPENERS = (
    "Ik ben op zoek naar werk.",
    "Hoi, ik zoek een baan.",
    "Ik wil graag weer aan het werk.",
    "Ik zoek werk in de buurt.",
    "Thuis zitten is niks voor mij, ik wil wat doen.",
    "Ik wil graag iets gaan doen.",
    "Ik zoek een baan waar ik wat kan leren.",
    "ik zoek werk",
    "Ik wil weer meedoen.",
    "Graag wil ik aan de slag.",
)
EXPERIENCE_LINES = (
    "Ik heb {jaren} jaar als {beroep} gewerkt.",
    "Ik heb eerder gewerkt als {beroep}.",
    "Vroeger werkte ik als {beroep}.",
    "Ik heb ervaring als {beroep}.",
    "Heb {jaren} jaar {beroep} gedaan.",
    "Ik heb in de {sector} gewerkt als {beroep}.",
)
NO_EXPERIENCE = (
    "Ik heb nog niet veel gewerkt.",
    "Ik heb geen werkervaring in Nederland.",
    "Ik heb nog nooit echt gewerkt maar wil het graag leren.",
    "Werkervaring heb ik weinig.",
)
WISH_LINES = (
    "Het liefst werk ik als {beroep}.",
    "Ik zou graag {beroep} willen worden.",
    "{beroep} lijkt me leuk.",
    "Ik wil graag werken als {beroep}.",
)
SECTOR_LINES = (
    "Ik zou graag in de {sector} willen werken.",
    "Iets in de {sector} lijkt me leuk.",
    "Liefst iets in de {sector}.",
)
ANYTHING = (
    "Maakt mij niet zoveel uit wat, als ik maar bezig ben.",
    "Ik sta open voor alles.",
    "Ik weet nog niet goed wat ik wil.",
)
SKILL_LINES = (
    "Ik ben goed in {skill}.",
    "Ik kan goed {skill}.",
    "Waar ik goed in ben: {skill}.",
    "Mensen zeggen dat ik goed ben in {skill}.",
)
MOTIVATED = (
    "Ik wil echt graag werken!",
    "Ik ben gemotiveerd en leer snel.",
    "Ik ben altijd op tijd.",
    "Ik wil laten zien wat ik kan.",
    "Ik ben een harde werker.",
    "Ik wil graag een vaste baan.",
)
HESITANT = (
    "Ik wil eerst rustig beginnen.",
    "Werken is voor mij nu nog lastig.",
    "Ik weet niet of ik het al kan.",
    "Ik wil het proberen maar het is spannend.",
    "Eerst wil ik mijn situatie op orde hebben.",
)
LAY_BEPERKING: dict[str, tuple[str, ...]] = {
    "tillen": ("Ik heb last van mijn rug dus geen zwaar werk.", "Zwaar tillen gaat niet meer."),
    "staan": ("Lang staan gaat niet door mijn knie.", "Ik kan niet de hele dag staan."),
    "lopen": ("Veel lopen gaat moeilijk.",),
    "bukken": ("Bukken is lastig voor mij.",),
    "buitenwerk": ("Buiten werken in de kou gaat niet zo goed.",),
    "prikkels": ("Drukte vind ik moeilijk.", "Ik heb een rustige plek nodig."),
    "tijdsdruk": ("Ik kan niet goed tegen stress.", "Als het te snel moet raak ik in de war."),
    "klantcontact": ("Ik werk liever niet met klanten.", "Met veel mensen praten vind ik eng."),
    "wisselende_taken": ("Ik heb duidelijkheid nodig.", "Vaste taken vind ik fijn."),
    "complexiteit": ("Ik leer het beste als iemand het voordoet.",),
    "zelfstandigheid": ("Ik werk graag met iemand samen die me helpt.",),
    "machines": ("Door mijn medicijnen mag ik niet met machines werken.",),
    "stoffen": ("Ik ben allergisch voor stof.",),
    "onregelmatige_tijden": (
        "Ik moet de kinderen van school halen, dus alleen overdag.",
        "Ik zorg voor een familielid, dus vaste tijden graag.",
    ),
    "taal": ("Mijn Nederlands is nog niet zo goed, ik doe mijn best.", "ik spreek nog niet goed nederlands"),
}
HOURS_LINES = (
    "Ik kan {uren} uur per week.",
    "Liefst parttime.",
    "Ik kan {uren} uur in de week werken.",
    "Fulltime is ook goed.",
)
CLOSERS = ("Groetjes", "Bel me maar!", "Alvast bedankt.", "")
MISSPELLINGS = {
    "gewerkt": "gewerkd",
    "graag": "graach",
    "eigenlijk": "eigelijk",
    "misschien": "misschein",
    "natuurlijk": "natuurlik",
    "ervaring": "ervaaring",
    "Nederlands": "nederlans",
    "werken": "werke",
    "moeilijk": "moeilek",
    "kinderen": "kindere",
    "lastig": "lasstig",
    "gemotiveerd": "gemotifeerd",
    "vind": "vindt",
    "liefst": "liefts",
    "allergisch": "alergies",
    "beginnen": "beginne",
}
NOTE_PREFIX = ("n.a.v. diagnosegesprek:", "gesprek gehad:", "intake:", "", "", "")
NOTE_MOTIVATED = ("klt zeer gemotiveerd", "klt gemotiveerd", "wil graag aan de slag", "komt gemotiveerd over")
NOTE_NEUTRAL = ("motivatie ok", "klt staat open voor werk", "redelijk gemotiveerd")
NOTE_UNMOTIVATED = ("motivatie wisselend", "weinig werkzin", "klt ziet werk nog niet zitten", "houdt de boot af")
NOTE_RELIABLE = ("afspraken goed nagekomen", "altijd op tijd", "betrouwbaar, komt afspraken na")
NOTE_UNRELIABLE = ("2x no-show", "afspraken niet altijd nagekomen", "lastig bereikbaar", "vaak te laat")
NOTE_BEPERKING: dict[str, tuple[str, ...]] = {
    "tillen": ("rugklachten → geen zwaar tillen", "schouderklachten, niet tillen"),
    "staan": ("knieklachten → niet lang staan", "afwisselend zitten/staan nodig"),
    "lopen": ("beperkt loopvermogen",),
    "bukken": ("niet veel bukken ivm rug",),
    "buitenwerk": ("liever binnenwerk (longen)",),
    "prikkels": ("snel overprikkeld → rustige werkplek", "prikkelarme omgeving nodig"),
    "tijdsdruk": ("kan slecht tegen tijdsdruk", "burn-out verleden, tempo opbouwen"),
    "klantcontact": ("liever geen klantcontact", "sociale angst, achter de schermen"),
    "wisselende_taken": ("heeft structuur nodig, vaste taken", "moeite met veranderingen"),
    "complexiteit": ("eenvoudige taken, stap voor stap uitleg", "leert in kleine stappen"),
    "zelfstandigheid": ("heeft aansturing nodig", "niet zelfstandig inzetbaar, begeleiding nodig"),
    "machines": ("medisch: niet met gevaarlijke machines",),
    "stoffen": ("allergie → geen stof/chemicaliën",),
    "onregelmatige_tijden": ("zorgtaken → alleen schooltijden", "mantelzorg, vaste werktijden"),
    "taal": ("NL taal beperkt, volgt taalles", "taal is drempel, evt. tolk bij gesprek"),
}
NOTE_HIDDEN_HINT = (
    "lijkt snel gestrest, verder uitvragen",
    "mogelijk psychische klachten?",
    "vermoeden leerproblemen, nog niet getest",
    "klachten niet helder, navragen",
)
NOTE_ROUTE = {
    Route.WERK: ("route werk", "bemiddelbaar", "cv bijwerken en doorzetten naar WSP", "klaar voor werk"),
    Route.PERSPECTIEF: ("route perspectief", "advies: eerst WEP", "traject via Scalabor", "i.o.m. jobcoach opbouwen"),
    Route.MEEDOEN: ("route meedoen", "eerst dagbesteding/vrijwilligerswerk", "geen zicht op betaald werk nu"),
}
NOTE_CLOSERS = (
    "vervolgafspraak over 4 wk",
    "cv nog aanpassen",
    "terugkoppeling WSP",
    "belt zelf terug",
    "huisbezoek gepland",
    "",
)
VACANCY_INTRO = (
    "Voor {werkgever} in {plaats} zoeken wij een {beroep}.",
    "{werkgever} is op zoek naar een {beroep}.",
    "Wil jij aan de slag als {beroep} in {plaats}?",
    "Ben jij de {beroep} die ons team in {plaats} komt versterken?",
    "{werkgever} ({plaats}) heeft plek voor een {beroep}.",
)
VACANCY_TASKS = ("Je werkzaamheden: {taken}.", "Wat ga je doen? {Taken}.", "Je taken bestaan uit {taken}.")
WSP_DEMANDS = (
    "Je hebt ervaring als {beroep}.",
    "Ervaring is een pré, maar geen must.",
    "Je bent flexibel en stressbestendig.",
    "Je bent een teamspeler.",
)
WSP_OFFER = (
    "Wij bieden een contract voor 6 maanden met uitzicht op vast.",
    "Salaris volgens cao.",
    "Goede secundaire arbeidsvoorwaarden.",
    "Je krijgt een inwerkperiode.",
)
SCALABOR_OFFER = (
    "Je krijgt begeleiding van een jobcoach van Scalabor.",
    "Ervaring is niet nodig, je leert het op de werkvloer.",
    "Je werkt in een kleine, vaste ploeg.",
    "We kijken samen wat bij je past.",
    "Je bouwt rustig op in uren en taken.",
)
JOBCARVING_LINE = ("Taken worden afgestemd op wat jij kunt.", "We passen de taken aan waar dat nodig is.")
OPEN_LINES = (
    "Wij hebben goede ervaringen met medewerkers via de gemeente.",
    "Iedereen verdient een kans.",
    "Wij staan open voor mensen met een afstand tot de arbeidsmarkt.",
)
PRESSURE_LINES = ("Het tempo ligt hoog.", "In piekperiodes is het flink aanpoten.", "Het is een dynamische omgeving.")
BELASTING_LINES = {
    "tillen": "Het werk is fysiek zwaar.",
    "staan": "Je staat een groot deel van de dag.",
    "buitenwerk": "Je werkt weer of geen weer buiten.",
    "klantcontact": "Je hebt veel contact met klanten.",
    "tijdsdruk": "Je werkt met deadlines.",
    "prikkels": "Het is een drukke werkplek.",
}


def _weighted(mapping: dict[Any, float]) -> tuple[list[Any], list[float]]:
    keys = list(mapping)
    total = 0.0
    cumulative = []
    for key in keys:
        total += mapping[key]
        cumulative.append(total)
    return keys, cumulative


class _Picker:
    """Weighted choice from a fixed distribution with precomputed cumulative weights."""

    def __init__(self, mapping: dict[Any, float]) -> None:
        self.keys, self.cumulative = _weighted(mapping)

    def __call__(self, rnd: random.Random) -> Any:
        return rnd.choices(self.keys, cum_weights=self.cumulative)[0]


def _stream(seed: int, kind: int, chunk: int) -> random.Random:
    """The random stream of one chunk: a pure function of (seed, kind, chunk)."""
    state = np.random.SeedSequence([seed, kind, chunk]).generate_state(2, np.uint64)
    return random.Random(int(state[0]) << 64 | int(state[1]))


def _band(trede: int) -> str:
    return "low" if trede <= 1 else "mid" if trede <= 3 else "high"


def _misspell(text: str, rnd: random.Random, rate: float) -> str:
    """Lay-Dutch errors: known misspellings, a dropped or doubled letter, lower case, missing full stops."""
    words = text.split(" ")
    for i, word in enumerate(words):
        if rnd.random() >= rate:
            continue
        bare = word.strip(".,!?")
        if bare in MISSPELLINGS:
            words[i] = word.replace(bare, MISSPELLINGS[bare])
        elif len(bare) > 4:
            j = rnd.randrange(1, len(bare) - 1)
            wrong = bare[:j] + bare[j + 1 :] if rnd.random() < 0.5 else bare[:j] + bare[j] + bare[j:]
            words[i] = word.replace(bare, wrong)
    text = " ".join(words)
    if rnd.random() < 0.4:
        text = text.lower()
    if rnd.random() < 0.3:
        text = text.replace(".", "")
    return text


@dataclass(frozen=True)
class _Catalogue:
    """The taxonomy arranged for sampling."""

    taxonomy: Taxonomy
    by_sector: dict[str, tuple[OccupationDef, ...]]
    general: tuple[CompetenceDef, ...]
    talents: tuple[CompetenceDef, ...]  # anything a hobby can teach: no language skills
    certificates: tuple[str, ...]  # generic certificates anyone may hold
    client_sectors: _Picker
    wsp_sectors: _Picker
    scalabor_sectors: _Picker

    @classmethod
    def build(cls, taxonomy: Taxonomy) -> _Catalogue:
        if not taxonomy.occupations:
            raise ValueError("de taxonomie bevat geen beroepen; vul data/beroepen.csv")
        by_sector: dict[str, list[OccupationDef]] = {}
        for code in sorted(taxonomy.occupations):
            occupation = taxonomy.occupations[code]
            by_sector.setdefault(occupation.sector, []).append(occupation)
        typical = {code for occ in taxonomy.occupations.values() for code in occ.competenties}
        competences = tuple(taxonomy.competences[code] for code in sorted(taxonomy.competences))
        # General skills: a group that says so, else the competences no occupation lists as typical,
        # else the ones most occupations share.
        drawable = tuple(c for c in competences if c.code not in LANGUAGE_SKILLS and not FOREIGN_LANGUAGE.match(c.code))
        general = tuple(c for c in drawable if c.groep.lower() in GENERAL_GROUPS)
        if not general:
            general = tuple(c for c in competences if c.code not in typical)
        if not general:
            counts = {c.code: sum(c.code in o.competenties for o in taxonomy.occupations.values()) for c in competences}
            general = tuple(sorted(competences, key=lambda c: -counts[c.code])[:8])

        def restricted(weights: dict[str, float]) -> _Picker:
            present = {s: w for s, w in weights.items() if s in by_sector}
            for sector in by_sector:  # sectors the mix does not name still occur, rarely
                present.setdefault(sector, 0.005)
            return _Picker(present)

        return cls(
            taxonomy=taxonomy,
            by_sector={s: tuple(o) for s, o in by_sector.items()},
            general=general,
            talents=drawable,
            certificates=tuple(c for c in GENERIC_CERTIFICATES if c in taxonomy.certificates),
            client_sectors=restricted(CLIENT_SECTORS),
            wsp_sectors=restricted(WSP_SECTORS),
            scalabor_sectors=restricted(SCALABOR_SECTORS),
        )

    def occupation_in(self, sector: str, rnd: random.Random) -> OccupationDef:
        return rnd.choice(self.by_sector[sector])


# Groups in data/competenties.csv whose skills are not tied to one occupation.
GENERAL_GROUPS = {
    "werknemersvaardigheden",
    "sociale vaardigheden",
    "digitale vaardigheden",
    "taal en rekenen",
    "algemeen",
    "basisvaardigheden",
}
# Dutch language skills follow the true taalniveau (level 1 at the threshold, +1 per CEFR step above).
LANGUAGE_SKILLS = {
    "nederlands_verstaan": "A2",
    "nederlands_spreken": "A2",
    "nederlands_lezen": "B1",
    "nederlands_schrijven": "B1",
}
# Other languages are not generated: a mother tongue on the profile is a proxy for migration
# background, and the truth must not depend on it. English is drawn independently of background.
FOREIGN_LANGUAGE = re.compile(r"^(?!engels_)[a-z]+_(spreken|lezen|schrijven|verstaan)$")
ENGLISH_SKILLS = ("engels_spreken", "engels_lezen")
# Certificates held without a matching occupation; inburgering and NT2 are left out (proxies again).
GENERIC_CERTIFICATES = (
    "vca_basis",
    "bhv",
    "ehbo",
    "reanimatie_aed",
    "icdl",
    "vog",
    "entree_diploma",
    "heftruck",
    "ept",
    "sociale_hygiene",
    "haccp",
)
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
# Driving licence an occupation needs (vacancies ask it; experienced clients hold it).
OCCUPATION_LICENCE = {
    "vrachtwagenchauffeur": "C",
    "chauffeur_afvalinzameling": "C",
    "buschauffeur": "D",
    "taxichauffeur": "B",
    "chauffeur_bestelbus": "B",
    "pakketbezorger": "B",
    "chauffeur_zorgvervoer": "B",
    "verhuizer": "B",
    "maaltijdbezorger": "AM",
}
MOBILE_SECTORS = {"techniek", "bouw", "schoonmaak", "groen", "facilitair", "zorg_welzijn"}


@dataclass(frozen=True)
class _Region:
    """PC4 areas per gemeente of the Scalabor region."""

    gemeenten: tuple[str, ...]
    pc4s: dict[str, tuple[str, ...]]
    client_picker: _Picker
    vacancy_picker: _Picker

    @classmethod
    def build(cls) -> _Region:
        table = geo.load_pc4()
        low, high = REGION_PC4_RANGE
        pc4s: dict[str, tuple[str, ...]] = {}
        for gemeente, (places, _, _) in REGION.items():
            wanted = set(places)
            found = tuple(c for c, p in zip(table.codes, table.places, strict=True) if p in wanted and low <= c <= high)
            if found:
                pc4s[gemeente] = found
        if not pc4s:
            raise ValueError("geen postcodes van de regio Arnhem gevonden in data/pc4_nl.csv")
        return cls(
            gemeenten=tuple(pc4s),
            pc4s=pc4s,
            client_picker=_Picker({g: REGION[g][1] for g in pc4s}),
            vacancy_picker=_Picker({g: REGION[g][2] for g in pc4s}),
        )

    def postcode(self, gemeente: str, rnd: random.Random) -> str:
        return rnd.choice(self.pc4s[gemeente]) + rnd.choice(PC6_LETTERS) + rnd.choice(PC6_LETTERS)


@dataclass(frozen=True)
class _Employer:
    name: str
    sector: str
    gemeente: str
    postcode: str
    openness: float


@dataclass(frozen=True)
class _Context:
    """Everything shared by all chunks of one generation run."""

    seed: int
    reference_date: date
    catalogue: _Catalogue
    region: _Region
    consulenten: dict[str, tuple[tuple[str, float], ...]]  # gemeente -> (code, thoroughness)
    employers: dict[str, tuple[_Employer, ...]]  # sector -> employers


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _consulenten(seed: int, region: _Region, n_clients: int) -> dict[str, tuple[tuple[str, float], ...]]:
    rnd = _stream(seed, CONSULENT_STREAM, 0)
    pool = {}
    for gemeente in region.gemeenten:
        count = max(1, round(n_clients * REGION[gemeente][1] / CASELOAD))
        pool[gemeente] = tuple((f"wc-{_slug(gemeente)}-{j + 1:02d}", rnd.gauss(0.0, 1.0)) for j in range(count))
    return pool


def _employers(seed: int, region: _Region, catalogue: _Catalogue, n_vacancies: int) -> dict[str, tuple[_Employer, ...]]:
    """About one employer per four vacancies, per sector; names from Faker nl_NL surnames."""
    fake = Faker("nl_NL")
    fake.seed_instance(seed)
    rnd = _stream(seed, EMPLOYER_STREAM, 0)
    per_sector: dict[str, tuple[_Employer, ...]] = {}
    for sector in sorted(catalogue.by_sector):
        share = max(WSP_SECTORS.get(sector, 0.0), SCALABOR_SECTORS.get(sector, 0.0), 0.01)
        count = max(3, min(5000, round(n_vacancies * share / 4)))
        templates = EMPLOYER_NAMES.get(sector, ("{n} B.V.",))
        employers = []
        seen: set[str] = set()
        for _ in range(count):
            gemeente = region.vacancy_picker(rnd)
            postcode = region.postcode(gemeente, rnd)
            place = geo.load_pc4().place(postcode[:4])
            name = rnd.choice(templates).format(n=fake.last_name(), p=place, w=rnd.choice(EMPLOYER_WORDS))
            if rnd.random() < 0.35 and not name.startswith(("Hotel", "Eetcafé", "Basisschool", "Zorg", "Woon")):
                name += " B.V."
            if name in seen:
                name = f"{name} {place}"
            seen.add(name)
            employers.append(_Employer(name, sector, gemeente, postcode, rnd.gauss(0.0, 1.0)))
        per_sector[sector] = tuple(employers)
    return per_sector


def _name_pool(provider: Any) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(female first names, male first names, surnames) of a Faker person provider."""
    # pl_PL keeps its surnames as unisex stems (its ``last_names`` is a placeholder).
    surnames = getattr(provider, "unisex_last_names", None) or provider.last_names
    return tuple(provider.first_names_female), tuple(provider.first_names_male), tuple(surnames)


# Name pools: Faker's person providers, sampled with our own stream (400,000 names in milliseconds,
# where Faker's own calls take ~10 µs each). Constant tuples, no I/O: cheap at import.
NAME_POOLS = {
    "nl": _name_pool(DutchNames),
    "pl": _name_pool(PolishNames),
    "de": _name_pool(GermanNames),
    "tr": _name_pool(TurkishNames),
}
NAME_ORIGIN = {
    "geen": {"nl": 1.0},
    "westers": {"nl": 0.4, "pl": 0.35, "de": 0.25},
    "niet-westers": {"nl": 0.45, "tr": 0.55},
}

# Pickers for the fixed distributions above, built on first use (keyed by a name per distribution).
_PICKERS: dict[str, _Picker] = {}


def _picker(name: str, mapping: dict[Any, float]) -> _Picker:
    if name not in _PICKERS:
        _PICKERS[name] = _Picker(mapping)
    return _PICKERS[name]


def _client_record(
    ctx: _Context, index: int, rnd: random.Random
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """One client: (ClientIn fields, personalia, audit attributes, latent factors)."""
    catalogue, taxonomy = ctx.catalogue, ctx.catalogue.taxonomy
    # 1. Protected attributes and name: audit and personalia only.
    geslacht = _picker("gender", GENDERS)(rnd)
    low, high = _picker("age", AGE_BANDS)(rnd)
    age = rnd.randint(low, high)
    migratie = _picker("migration", MIGRATION)(rnd)
    origin = _picker(f"origin-{migratie}", NAME_ORIGIN[migratie])(rnd)
    female_names, male_names, last_names = NAME_POOLS[origin]
    female = geslacht == "vrouw" or (geslacht == "x" and rnd.random() < 0.5)
    voornaam = rnd.choice(female_names if female else male_names)
    achternaam = rnd.choice(last_names)

    # 2. Trede, route and the hidden factors (independent of step 1).
    trede = _picker("trede", TREDES)(rnd)
    band = _band(trede)
    route = _picker(f"route-{trede}", ROUTES[trede])(rnd)
    motivatie = rnd.gauss(0.15 * (trede - 2.5), 1.0)
    betrouwbaarheid = 0.3 * motivatie + math.sqrt(1 - 0.09) * rnd.gauss(0.0, 1.0)
    vermogen = rnd.gauss(0.0, 1.0)
    gemeente = ctx.region.client_picker(rnd)
    consulent, grondigheid = rnd.choice(ctx.consulenten[gemeente])

    # 3. Language and education.
    taal_true = _picker(f"taal-{migratie}", TAAL_BY_MIGRATION[migratie])(rnd)
    education_weights = {
        level: p
        * (EDUCATION_MIGRANT_FACTOR.get(level, 1.0) if migratie == "niet-westers" else 1.0)
        * math.exp(0.35 * vermogen * (OPLEIDING_ORDER[level] - 4.5) / 4.5)
        for level, p in EDUCATION.items()
    }
    opleiding = rnd.choices(list(education_weights), weights=list(education_weights.values()))[0]

    # 4. Work experience and the true competences.
    n_experience = rnd.choices((0, 1, 2, 3), weights=EXPERIENCE_COUNT[band])[0]
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
        jaren = min(_picker("years", YEARS)(rnd), max(age - 17, 0.5))
        werkervaring.append({"beroep_code": occupation.code, "beroep_label": occupation.label, "jaren": jaren})
    true_competences: dict[str, int] = {}
    for item in werkervaring:
        occupation = taxonomy.occupations[item["beroep_code"]]
        base = 1 if item["jaren"] < 1 else 2 if item["jaren"] < 5 else 3
        for code in occupation.competenties:
            if code in taxonomy.competences and rnd.random() < 0.75:
                level = min(3, max(1, base + (rnd.choice((-1, 1)) if rnd.random() < 0.2 else 0)))
                true_competences[code] = max(true_competences.get(code, 0), level)
    for code in _general_skills(rnd, catalogue, rnd.randint(2, 5), motivatie, betrouwbaarheid):
        true_competences.setdefault(code, rnd.choices((1, 2, 3), weights=(0.35, 0.45, 0.2))[0])
    if rnd.random() < 0.3:  # a talent from hobby or volunteering that no job shows
        true_competences.setdefault(rnd.choice(catalogue.talents).code, rnd.randint(1, 2))
    for code, threshold in LANGUAGE_SKILLS.items():
        steps = TAALNIVEAUS.index(taal_true) - TAALNIVEAUS.index(threshold)
        if code in taxonomy.competences and steps >= 0:
            true_competences[code] = min(3, 1 + steps)
    for code in ENGLISH_SKILLS:
        if code in taxonomy.competences and rnd.random() < 0.10 + 0.04 * OPLEIDING_ORDER[opleiding]:
            true_competences[code] = rnd.randint(1, 3)

    # 5. True beperkingen (recorded ones plus possibly a hidden one).
    beperkingen_true: dict[str, int] = {}
    if taal_true in ("A0", "A1") and rnd.random() < 0.6 or taal_true == "A2" and rnd.random() < 0.2:
        beperkingen_true["taal"] = {"A0": 3, "A1": 2, "A2": 1}[taal_true]
    if rnd.random() < BEPERKING_SHARE[trede] - 0.05:
        count = rnd.choices((1, 2, 3), weights=BEPERKING_COUNT[band])[0]
        for _ in range(min(count, 3 - len(beperkingen_true))):  # at most three on record
            weights = dict(CATEGORY_WEIGHTS)
            weights[BeperkingCategorie.FYSIEK] *= 0.6 + age / 50.0  # physical complaints grow with age
            categorie = rnd.choices(list(weights), weights=list(weights.values()))[0]
            aspects = [a for a in ASPECTS if ASPECTS[a][0] == categorie]
            aspect = rnd.choices(aspects, weights=[ASPECT_WEIGHTS[a] for a in aspects])[0]
            if aspect not in beperkingen_true:
                beperkingen_true[aspect] = rnd.choices((1, 2, 3), weights=ERNST[band])[0]
    hidden: list[str] = []
    if rnd.random() < (0.15 if trede <= 2 else 0.10):
        categorie = _picker("hidden", HIDDEN_CATEGORY)(rnd)
        options = [a for a in ASPECTS if ASPECTS[a][0] == categorie and a not in beperkingen_true]
        if options:
            aspect = rnd.choices(options, weights=[ASPECT_WEIGHTS[a] for a in options])[0]
            beperkingen_true[aspect] = rnd.choice((1, 2))
            hidden.append(aspect)
    for code, aspect in RULED_OUT_BY.items():
        if beperkingen_true.get(aspect, 0) >= 2:
            true_competences.pop(code, None)
    recorded_beperkingen = [
        {
            "aspect": aspect,
            "ernst": ernst,
            "categorie": ASPECTS[aspect][0].value,
            "toelichting": rnd.choice(NOTE_BEPERKING[aspect]) if rnd.random() < 0.5 else None,
        }
        for aspect, ernst in beperkingen_true.items()
        if aspect not in hidden
    ]
    zorgtaken = "onregelmatige_tijden" in beperkingen_true

    # 6. Sectors the client truly wants, wishes, hours, availability, licences, transport.
    experience_sectors = [taxonomy.occupations[w["beroep_code"]].sector for w in werkervaring]
    true_sectors: list[str] = []
    for s in experience_sectors:
        if s not in true_sectors and rnd.random() < 0.7:
            true_sectors.append(s)
    while len(true_sectors) < rnd.choice((1, 1, 2, 3)):
        s = catalogue.client_sectors(rnd)
        if s not in true_sectors:
            true_sectors.append(s)
    wished_occupations: list[str] = []
    if rnd.random() < 0.65:
        for _ in range(rnd.choice((1, 1, 2))):
            if werkervaring and rnd.random() < 0.6:
                code = rnd.choice(werkervaring)["beroep_code"]
            else:
                code = catalogue.occupation_in(rnd.choice(true_sectors), rnd).code
            if code not in wished_occupations:
                wished_occupations.append(code)
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
    rijbewijs = [code for code in ("AM", "B", "C", "CE", "D") if code in licences]
    vervoer: list[str] = []
    if rnd.random() >= 0.06:  # ~6 % have no transport on record
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
    travel = rnd.random()
    max_km = max_min = None
    if travel < 0.45:
        max_km = rnd.choice((5, 8, 10, 15, 20, 25, 30) if "auto" in vervoer else (3, 5, 8, 10, 12, 15, 20))
    elif travel < 0.80:
        max_min = rnd.choice((15, 20, 30, 30, 45, 45, 60))
    excluded = []
    for werktijd, p in (("nacht", 0.45), ("ploegendienst", 0.25), ("weekend", 0.25), ("avond", 0.2)):
        if rnd.random() < p or zorgtaken and werktijd in ("avond", "weekend", "nacht"):
            excluded.append(werktijd)
    if zorgtaken and "ploegendienst" not in excluded:
        excluded.append("ploegendienst")
    plaatsingsvormen = []
    if rnd.random() < 0.6:
        for _ in range(rnd.choice((1, 1, 2))):
            form = _picker(f"pv-{trede}", PLAATSINGSVORM_WISH[trede])(rnd).value
            if form not in plaatsingsvormen:
                plaatsingsvormen.append(form)
    uren_max = _picker(f"hours-{band}", HOURS_MAX[band])(rnd)
    if zorgtaken:
        uren_max = min(uren_max, 24)
    uren_min = 0 if rnd.random() < 0.15 else max(0, uren_max - rnd.choice((0, 4, 8, 8, 12, 16)))
    availability = rnd.random()
    beschikbaar_per = (
        ctx.reference_date - timedelta(days=rnd.randint(0, 300))
        if availability < 0.55
        else ctx.reference_date + timedelta(days=rnd.randint(7, 120))
        if availability < 0.8
        else None
    )
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

    # 7. What the consulent records: thoroughness decides completeness.
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

    def missing(share: float) -> bool:
        return rnd.random() < share * (1.0 - 0.3 * max(min(grondigheid, 1.5), -1.5))

    profile = {
        "client_nummer": f"K{index + 1:07d}",
        "consulent": consulent,
        "trede": trede,
        "route": route.value,
        "postcode": ctx.region.postcode(gemeente, rnd),
        "competenties": competenties,
        "werkervaring": werkervaring,
        "opleidingsniveau": None if missing(0.20) else opleiding.value,
        "taalniveau": None if missing(0.10) else taal_true,
        "certificaten": certificaten,
        "rijbewijs": rijbewijs,
        "vervoermiddel": vervoer,
        "uren_min": min(uren_min, uren_max),
        "uren_max": uren_max,
        "beschikbaar_per": beschikbaar_per,
        "wensen": {
            "beroepen": wished_occupations,
            "sectoren": [] if missing(0.30) else true_sectors,
            "max_reisafstand_km": max_km,
            "max_reistijd_min": max_min,
            "werktijden_uitgesloten": excluded,
            "plaatsingsvormen": plaatsingsvormen,
        },
        "beperkingen": recorded_beperkingen,
    }
    profile["zelfbeschrijving"] = _self_description(rnd, taxonomy, profile, taal_true, motivatie)
    profile["notities"] = _notes(rnd, taxonomy, profile, route, motivatie, betrouwbaarheid, hidden)
    trede_true = min(5.0, max(0.0, trede + rnd.gauss(0.0, 0.6) + (0.25 if recorded_beperkingen else 0.0)))
    latent = {
        "trede_werkelijk": round(trede_true, 4),
        "motivatie": round(motivatie, 4),
        "betrouwbaarheid": round(betrouwbaarheid, 4),
        "vermogen": round(vermogen, 4),
        "competenties": true_competences,
        "beperkingen": beperkingen_true,
        "verborgen_beperkingen": hidden,
        "taalniveau": taal_true,
        "opleidingsniveau": opleiding.value,
        "sectoren": true_sectors,
        "consulent_grondigheid": round(grondigheid, 4),
        "match_key": rnd.getrandbits(62),
    }
    personalia = {
        "voornaam": voornaam,
        "achternaam": achternaam,
        "email": f"{_slug(voornaam)}.{_slug(achternaam)}{rnd.randint(1, 99)}@example.nl",
        "telefoon": f"06-{rnd.randint(10_000_000, 99_999_999)}",
    }
    audit = {"geslacht": geslacht, "geboortejaar": ctx.reference_date.year - age, "migratieachtergrond": migratie}
    return profile, personalia, audit, latent


def _general_skills(
    rnd: random.Random, catalogue: _Catalogue, count: int, motivatie: float, betrouwbaarheid: float
) -> list[str]:
    """``count`` general skills, plus reliability and motivation skills more often for those who have them."""
    codes = [c.code for c in rnd.sample(catalogue.general, min(count, len(catalogue.general)))]
    codes = [code for code in codes if code not in RELIABILITY_SKILLS and code not in MOTIVATION_SKILLS]
    for skills, factor in ((RELIABILITY_SKILLS, betrouwbaarheid), (MOTIVATION_SKILLS, motivatie)):
        p_skill = min(0.9, 0.15 * math.exp(0.8 * factor))  # ≈ 0.2 on average, 0.5 at +1.5 sd
        codes += [code for code in sorted(skills) if code in catalogue.taxonomy.competences and rnd.random() < p_skill]
    return codes


def _label(taxonomy: Taxonomy, code: str) -> str:
    return taxonomy.occupation_label(code).lower()


def _self_description(
    rnd: random.Random, taxonomy: Taxonomy, profile: dict[str, Any], taal: str, motivatie: float
) -> str:
    """First-person lay Dutch; shorter and with more errors for low language levels."""
    if rnd.random() < 0.12:
        return ""
    parts = [rnd.choice(OPENERS)]
    if profile["werkervaring"]:
        item = rnd.choice(profile["werkervaring"])
        occupation = taxonomy.occupations[item["beroep_code"]]
        parts.append(
            rnd.choice(EXPERIENCE_LINES).format(
                jaren=f"{item['jaren']:g}",
                beroep=_label(taxonomy, item["beroep_code"]),
                sector=SECTOREN.get(occupation.sector, occupation.sector),
            )
        )
    elif rnd.random() < 0.6:
        parts.append(rnd.choice(NO_EXPERIENCE))
    wensen = profile["wensen"]
    if wensen["beroepen"] and rnd.random() < 0.7:
        line = rnd.choice(WISH_LINES).format(beroep=_label(taxonomy, wensen["beroepen"][0]))
        parts.append(line[0].upper() + line[1:])
    elif wensen["sectoren"] and rnd.random() < 0.6:
        parts.append(rnd.choice(SECTOR_LINES).format(sector=SECTOREN.get(wensen["sectoren"][0], wensen["sectoren"][0])))
    elif rnd.random() < 0.4:
        parts.append(rnd.choice(ANYTHING))
    if profile["competenties"] and rnd.random() < 0.5:
        skill = rnd.choice(profile["competenties"])["label"].lower()
        parts.append(rnd.choice(SKILL_LINES).format(skill=skill))
    signal = motivatie + rnd.gauss(0.0, 0.8)  # the text shows motivation, imperfectly
    if signal > 0.7:
        parts.append(rnd.choice(MOTIVATED))
    elif signal < -0.7:
        parts.append(rnd.choice(HESITANT))
    for beperking in profile["beperkingen"]:
        if rnd.random() < 0.45:
            parts.append(rnd.choice(LAY_BEPERKING[beperking["aspect"]]))
    if rnd.random() < 0.35:
        line = rnd.choice(HOURS_LINES)
        if "Fulltime" not in line or profile["uren_max"] >= 36:
            parts.append(line.format(uren=profile["uren_max"]))
    parts.append(rnd.choice(CLOSERS))
    low_language = TAALNIVEAUS.index(taal) <= TAALNIVEAUS.index("A2")
    keep = rnd.randint(1, 3) if low_language or rnd.random() < 0.25 else len(parts)
    text = " ".join(p for p in parts[:keep] if p)
    if low_language or rnd.random() < 0.15:
        text = _misspell(text, rnd, 0.25 if low_language else 0.08)
    return text


def _notes(
    rnd: random.Random,
    taxonomy: Taxonomy,
    profile: dict[str, Any],
    route: Route,
    motivatie: float,
    betrouwbaarheid: float,
    hidden: list[str],
) -> str:
    """Consulent shorthand: motivation, reliability, wishes, experience, beperkingen, route, next step."""
    if rnd.random() < 0.08:
        return ""
    fragments = [rnd.choice(NOTE_PREFIX)]
    signal = motivatie + rnd.gauss(0.0, 0.6)
    motivation_bank = NOTE_MOTIVATED if signal > 0.6 else NOTE_UNMOTIVATED if signal < -0.6 else NOTE_NEUTRAL
    fragments.append(rnd.choice(motivation_bank))
    wensen = profile["wensen"]
    if wensen["beroepen"] and rnd.random() < 0.6:
        fragments.append(f"wil graag als {_label(taxonomy, wensen['beroepen'][0])}")
    elif wensen["sectoren"] and rnd.random() < 0.5:
        fragments.append(f"interesse in {SECTOREN.get(wensen['sectoren'][0], wensen['sectoren'][0])}")
    if profile["werkervaring"] and rnd.random() < 0.5:
        item = profile["werkervaring"][0]
        fragments.append(f"wrkerv. {_label(taxonomy, item['beroep_code'])} ({item['jaren']:g} jr)")
    for beperking in profile["beperkingen"]:
        if rnd.random() < 0.7:
            fragments.append(rnd.choice(NOTE_BEPERKING[beperking["aspect"]]))
    if hidden and rnd.random() < 0.3:
        fragments.append(rnd.choice(NOTE_HIDDEN_HINT))
    reliability_signal = betrouwbaarheid + rnd.gauss(0.0, 0.7)
    if reliability_signal > 1.0:
        fragments.append(rnd.choice(NOTE_RELIABLE))
    elif reliability_signal < -1.0:
        fragments.append(rnd.choice(NOTE_UNRELIABLE))
    if profile["taalniveau"] and rnd.random() < 0.2:
        fragments.append(f"taal {profile['taalniveau']}")
    if rnd.random() < 0.6:
        fragments.append(rnd.choice(NOTE_ROUTE[route]))
    fragments.append(rnd.choice(NOTE_CLOSERS))
    prefix, body = fragments[0], [f for f in fragments[1:] if f]
    separator = rnd.choice((", ", "; ", " / ", ". "))
    text = separator.join(body)
    return f"{prefix} {text}" if prefix else text


def _vacancy_record(ctx: _Context, index: int, rnd: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    """One vacancy: (VacancyIn fields, latent factors)."""
    catalogue, taxonomy = ctx.catalogue, ctx.catalogue.taxonomy
    wsp = rnd.random() < WSP_SHARE
    bron = Bron.WSP if wsp else Bron.SCALABOR
    sector = (catalogue.wsp_sectors if wsp else catalogue.scalabor_sectors)(rnd)
    occupation = catalogue.occupation_in(sector, rnd)
    form = _picker("wsp-forms" if wsp else "scalabor-forms", WSP_FORMS if wsp else SCALABOR_FORMS)(rnd)
    p_jobcoach = (0.4 if form == Plaatsingsvorm.LOONKOSTENSUBSIDIE else 0.08) if wsp else 0.75
    jobcoach = rnd.random() < p_jobcoach
    jobcarving = rnd.random() < 0.05 if wsp else rnd.random() < 0.40
    if not wsp and sector in SCALABOR_OWN and rnd.random() < 0.3:
        employer = _Employer(SCALABOR_OWN[sector], sector, "Arnhem", ctx.region.postcode("Arnhem", rnd), 1.5)
    else:
        employers = ctx.employers[sector]
        # Large employers post more: index = n·u² puts half of the picks on the first quarter.
        employer = employers[min(int(len(employers) * rnd.random() ** 2), len(employers) - 1)]
    place = geo.load_pc4().place(employer.postcode[:4])

    # Demands.
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
    typical = [c for c in occupation.competenties if c in taxonomy.competences]
    n_required = min(len(typical), rnd.randint(3, 5) if wsp else rnd.randint(2, 3))
    required = rnd.sample(typical, n_required) if n_required >= 1 else []
    if len(required) < 2:  # occupations with few typical competences borrow general skills
        extra = [c.code for c in catalogue.general if c.code not in required]
        required += rnd.sample(extra, min(2 - len(required), len(extra)))
    optional_pool = sorted((set(typical) | {c.code for c in catalogue.general}) - set(required))
    optional = rnd.sample(optional_pool, min(len(optional_pool), rnd.randint(1, 4)))

    def level() -> int:
        return rnd.choices((1, 2, 3), weights=(0.15, 0.6, 0.25) if wsp else (0.6, 0.4, 0.0))[0]

    def competence(code: str, niveau: int) -> dict[str, Any]:
        return {"code": code, "label": taxonomy.competences[code].label, "niveau": niveau}

    p_certificate = 0.6 if wsp else 0.15
    certificaten = [c for c in occupation.certificaten if c in taxonomy.certificates and rnd.random() < p_certificate]
    minimum = TAALNIVEAUS.index(occupation.taalniveau_min) if occupation.taalniveau_min in TAALNIVEAUS else 2
    if wsp:
        taal_index = None if rnd.random() < 0.10 else min(minimum + (1 if rnd.random() < 0.3 else 0), 5)
    else:
        taal_index = None if rnd.random() < 0.35 else max(min(minimum, 2) - (1 if rnd.random() < 0.4 else 0), 1)
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
    werktijden = list(_picker(f"times-{sector}", SECTOR_TIMES.get(sector, DEFAULT_TIMES))(rnd))
    status = _picker("status", STATUSES)(rnd)
    if status == VacancyStatus.OPEN:
        sluitingsdatum = None if rnd.random() < 0.2 else ctx.reference_date + timedelta(days=rnd.randint(7, 90))
    else:
        sluitingsdatum = ctx.reference_date - timedelta(days=rnd.randint(1, 120))
    places = rnd.choices((1, 2, 3, 4, 5), weights=(0.75, 0.12, 0.06, 0.04, 0.03))[0]
    if form == Plaatsingsvorm.DETACHERING and not wsp and rnd.random() < 0.15:
        places = rnd.randint(6, 12)  # groepsdetachering

    # Hidden factors: employer openness is shared by its vacancies.
    openness = 0.8 * employer.openness + rnd.gauss(0.0, 0.6) + (0.0 if wsp else 0.5)
    coaching = rnd.gauss(0.3 if not wsp else 0.0, 1.0)
    workload = rnd.gauss(0.2 if wsp else -0.2, 1.0) + (0.3 if belasting.get("tijdsdruk") == 3 else 0.0)

    label = occupation.label
    title = _title(rnd, occupation, wsp, form, uren_min, uren_max, place)
    taalniveau = None if taal_index is None else TAALNIVEAUS[taal_index]
    description = _vacancy_text(
        rnd,
        taxonomy,
        employer.name,
        place,
        label.lower(),
        required,
        wsp,
        form,
        jobcoach,
        jobcarving,
        belasting,
        certificaten,
        taalniveau,
        openness,
        workload,
        werktijden,
    )
    profile = {
        "vacature_nummer": f"{'WSP' if wsp else 'SCA'}-{index + 1:07d}",
        "bron": bron.value,
        "werkgever": employer.name,
        "titel": title,
        "beroep_code": occupation.code,
        "beroep_label": label,
        "omschrijving": description,
        "postcode": employer.postcode,
        "uren_min": uren_min,
        "uren_max": uren_max,
        "werktijden": werktijden,
        "belasting": [{"aspect": a, "niveau": n} for a, n in belasting.items()],
        "competenties_vereist": [competence(c, level()) for c in required],
        "competenties_gewenst": [competence(c, rnd.choice((1, 2))) for c in optional],
        "certificaten": certificaten,
        "taalniveau": taalniveau,
        "rijbewijs": rijbewijs,
        "plaatsingsvorm": form.value,
        "jobcoach": jobcoach,
        "jobcarving": jobcarving,
        "aantal_plaatsen": places,
        "status": status.value,
        "sluitingsdatum": sluitingsdatum,
    }
    latent = {
        "openheid": round(openness, 4),
        "begeleiding_kwaliteit": round(coaching, 4),
        "werkdruk": round(workload, 4),
        "werkgever_openheid": round(employer.openness, 4),
        "match_key": rnd.getrandbits(62),
    }
    return profile, latent


def _title(
    rnd: random.Random,
    occupation: OccupationDef,
    wsp: bool,
    form: Plaatsingsvorm,
    uren_min: int,
    uren_max: int,
    place: str,
) -> str:
    label = occupation.label
    options = [label, label, f"{label} {place}", f"{label} ({uren_min}-{uren_max} uur)"]
    if occupation.synoniemen:
        synonym = rnd.choice(occupation.synoniemen)
        options.append(synonym[0].upper() + synonym[1:])
    if uren_max <= 28:
        options.append(f"Parttime {label.lower()}")
    if wsp:
        options += [f"Ervaren {label.lower()}", f"{label} gezocht"]
    else:
        options += [f"Leerwerkplek {label.lower()}", f"{label} met begeleiding"]
        if form == Plaatsingsvorm.WERKERVARINGSPLEK:
            options.append(f"Werkervaringsplek {label.lower()}")
        if form == Plaatsingsvorm.BESCHUT_WERK:
            options.append(f"Beschut werk: {label.lower()}")
    return rnd.choice(options)[:200]


def _vacancy_text(
    rnd: random.Random,
    taxonomy: Taxonomy,
    werkgever: str,
    plaats: str,
    beroep: str,
    required: list[str],
    wsp: bool,
    form: Plaatsingsvorm,
    jobcoach: bool,
    jobcarving: bool,
    belasting: dict[str, int],
    certificaten: list[str],
    taal: str | None,
    openness: float,
    workload: float,
    werktijden: list[str],
) -> str:
    parts = [rnd.choice(VACANCY_INTRO).format(werkgever=werkgever, plaats=plaats, beroep=beroep)]
    tasks = [taxonomy.competence_label(code).lower() for code in required]
    if tasks:
        joined = join_nl(tasks)
        parts.append(rnd.choice(VACANCY_TASKS).format(taken=joined, Taken=joined[0].upper() + joined[1:]))
    for aspect, niveau in belasting.items():
        if niveau == 3 and aspect in BELASTING_LINES and rnd.random() < 0.6:
            parts.append(BELASTING_LINES[aspect])
    if workload + rnd.gauss(0.0, 0.7) > 1.0:  # hidden pressure, sometimes visible
        parts.append(rnd.choice(PRESSURE_LINES))
    if wsp:
        parts += rnd.sample(WSP_DEMANDS, 2)
        parts[-2] = parts[-2].format(beroep=beroep)
        parts[-1] = parts[-1].format(beroep=beroep)
        if certificaten:
            labels = join_nl([taxonomy.certificate_label(c) for c in certificaten])
            parts.append(f"Je hebt {labels} of bent bereid dit te halen.")
        if taal:
            parts.append(f"Je spreekt Nederlands op minimaal {taal}-niveau.")
        parts.append(rnd.choice(WSP_OFFER))
        if form == Plaatsingsvorm.LOONKOSTENSUBSIDIE:
            parts.append("Plaatsing met loonkostensubsidie is mogelijk.")
    else:
        parts += rnd.sample(SCALABOR_OFFER, 2)
    if jobcoach and wsp:
        parts.append("Begeleiding door een jobcoach is mogelijk.")
    if jobcarving:
        parts.append(rnd.choice(JOBCARVING_LINE))
    if openness + rnd.gauss(0.0, 0.7) > 1.2:  # an open employer often says so
        parts.append(rnd.choice(OPEN_LINES))
    parts.append(f"Werktijden: {join_nl(werktijden)}.")
    return " ".join(parts)


@dataclass
class SyntheticData:
    """Generated records; the lists of one kind are aligned (``clients[i]`` ↔ ``personalia[i]`` …)."""

    clients: list[ClientIn] = field(default_factory=list)
    personalia: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    client_latent: list[dict[str, Any]] = field(default_factory=list)
    vacancies: list[VacancyIn] = field(default_factory=list)
    vacancy_latent: list[dict[str, Any]] = field(default_factory=list)

    def extend(self, other: SyntheticData) -> None:
        for name in ("clients", "personalia", "audit", "client_latent", "vacancies", "vacancy_latent"):
            getattr(self, name).extend(getattr(other, name))


def _context(n_clients: int, n_vacancies: int, seed: int, reference_date: date, taxonomy: Taxonomy | None) -> _Context:
    catalogue = _Catalogue.build(taxonomy or load_taxonomy())
    region = _Region.build()
    return _Context(
        seed=seed,
        reference_date=reference_date,
        catalogue=catalogue,
        region=region,
        consulenten=_consulenten(seed, region, n_clients),
        employers=_employers(seed, region, catalogue, n_vacancies),
    )


def _client_chunk(ctx: _Context, chunk: int, n_clients: int) -> SyntheticData:
    rnd = _stream(ctx.seed, CLIENT_STREAM, chunk)
    data = SyntheticData()
    for index in range(chunk * CHUNK, min((chunk + 1) * CHUNK, n_clients)):
        profile, personalia, audit, latent = _client_record(ctx, index, rnd)
        data.clients.append(ClientIn.model_validate(profile))
        data.personalia.append(personalia)
        data.audit.append(audit)
        data.client_latent.append(latent)
    return data


def _vacancy_chunk(ctx: _Context, chunk: int, n_vacancies: int) -> SyntheticData:
    rnd = _stream(ctx.seed, VACANCY_STREAM, chunk)
    data = SyntheticData()
    for index in range(chunk * CHUNK, min((chunk + 1) * CHUNK, n_vacancies)):
        profile, latent = _vacancy_record(ctx, index, rnd)
        data.vacancies.append(VacancyIn.model_validate(profile))
        data.vacancy_latent.append(latent)
    return data


def iter_batches(
    n_clients: int,
    n_vacancies: int,
    seed: int,
    *,
    batch_size: int = 10 * CHUNK,
    reference_date: date = DEFAULT_REFERENCE_DATE,
    taxonomy: Taxonomy | None = None,
) -> Iterator[SyntheticData]:
    """Generate in batches (clients first, then vacancies), so scale runs need not hold everything.

    The records are the same as :func:`generate` gives for the same arguments, whatever ``batch_size``.

    Args:
        n_clients: number of clients.
        n_vacancies: number of vacancies.
        seed: the seed; same seed, same records.
        batch_size: records per yielded batch (rounded up to a multiple of :data:`CHUNK`).
        reference_date: "today" for availability and closing dates.
        taxonomy: competences and occupations to draw from (default: ``data/``).

    Yields:
        Batches holding either clients or vacancies.
    """
    ctx = _context(n_clients, n_vacancies, seed, reference_date, taxonomy)
    chunks_per_batch = max(1, math.ceil(batch_size / CHUNK))
    for total, make in ((n_clients, _client_chunk), (n_vacancies, _vacancy_chunk)):
        n_chunks = math.ceil(total / CHUNK)
        for first in range(0, n_chunks, chunks_per_batch):
            batch = SyntheticData()
            for chunk in range(first, min(first + chunks_per_batch, n_chunks)):
                batch.extend(make(ctx, chunk, total))
            yield batch


def generate(
    n_clients: int,
    n_vacancies: int,
    seed: int,
    *,
    reference_date: date = DEFAULT_REFERENCE_DATE,
    taxonomy: Taxonomy | None = None,
) -> SyntheticData:
    """Generate a synthetic population of clients and vacancies with their hidden truth.

    Args:
        n_clients: number of clients (Arnhem has about 9,000).
        n_vacancies: number of vacancies.
        seed: the seed; the same seed gives identical output.
        reference_date: "today" for availability and closing dates (fixed by default).
        taxonomy: competences and occupations to draw from (default: ``data/``).

    Returns:
        The records, personalia, audit attributes and latent factors.
    """
    start = time.perf_counter()
    data = SyntheticData()
    for batch in iter_batches(
        n_clients,
        n_vacancies,
        seed,
        batch_size=max(n_clients, n_vacancies, 1),
        reference_date=reference_date,
        taxonomy=taxonomy,
    ):
        data.extend(batch)
    logger.info("generated %d clients and %d vacancies in %.1f s", n_clients, n_vacancies, time.perf_counter() - start)
    return data


WRITE_BATCH = 2000  # rows per executemany; also the size of the id look-up (SQLite allows 32,766 parameters)


def _insert_returning_ids(session: Session, model: Any, key: Any, rows: list[dict[str, Any]], bar: tqdm) -> list[int]:
    """Insert rows in batches and return their new ids in row order, looked up by their unique number.

    ``INSERT … RETURNING`` with ordered results is quadratic in SQLAlchemy's SQLite path (9,000 rows
    took 7 s); a plain executemany plus one ``IN`` look-up per batch takes a fraction of that.
    """
    ids: list[int] = []
    for first in range(0, len(rows), WRITE_BATCH):
        batch = rows[first : first + WRITE_BATCH]
        session.execute(insert(model), batch)
        numbers = [row[key.key] for row in batch]
        found = {number: id_ for number, id_ in session.execute(select(key, model.id).where(key.in_(numbers)))}
        ids += [found[number] for number in numbers]
        bar.update(len(batch))
    return ids


def write_to_db(engine: Engine, data: SyntheticData, progress: bool = True) -> tuple[int, int]:
    """Insert all generated records, personalia, audit attributes and latent factors in one transaction.

    Bulk inserts (executemany in batches of :data:`WRITE_BATCH`), so 9,000 clients and 3,000
    vacancies take a few seconds. The database must not yet hold the same client or vacancy numbers.

    Args:
        engine: the target database; missing tables are created.
        data: what :func:`generate` or one batch of :func:`iter_batches` returned.
        progress: show a tqdm progress bar.

    Returns:
        ``(clients written, vacancies written)``.

    Raises:
        ValueError: a client or vacancy number already exists in the database.
    """
    start = time.perf_counter()
    init_db(engine)
    now = utcnow()
    bar = tqdm(
        total=len(data.clients) + len(data.vacancies), desc="synthetic → database", unit="rec", disable=not progress
    )
    with bar, Session(engine) as session:
        try:
            client_rows = [{**client_from_input(c), "updated_at": now} for c in data.clients]
            client_ids = _insert_returning_ids(session, Client, Client.client_nummer, client_rows, bar)
            pairs = list(zip(client_ids, data.personalia, data.audit, data.client_latent, strict=True))
            latent_rows = [{"kind": CLIENT, "entity_id": i, "factors": f} for i, _, _, f in pairs]
            if pairs:
                session.execute(insert(ClientPersonalia), [{**p, "client_id": i} for i, p, _, _ in pairs])
                session.execute(insert(AuditKenmerken), [{**a, "client_id": i} for i, _, a, _ in pairs])
            vacancy_rows = [{**vacancy_from_input(v), "updated_at": now} for v in data.vacancies]
            vacancy_ids = _insert_returning_ids(session, Vacancy, Vacancy.vacature_nummer, vacancy_rows, bar)
            latent_rows += [
                {"kind": VACANCY, "entity_id": i, "factors": f}
                for i, f in zip(vacancy_ids, data.vacancy_latent, strict=True)
            ]
            if latent_rows:
                session.execute(insert(SyntheticLatent), latent_rows)
            session.commit()
        except IntegrityError as error:
            session.rollback()
            raise ValueError(
                "synthetische klant- of vacaturenummers bestaan al in deze database; schrijf naar een lege database"
            ) from error
    elapsed = time.perf_counter() - start
    logger.info("wrote %d clients and %d vacancies in %.1f s", len(client_ids), len(vacancy_ids), elapsed)
    return len(client_ids), len(vacancy_ids)
