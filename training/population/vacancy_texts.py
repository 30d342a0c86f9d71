"""Vacancy titles and descriptions in the house style of WSP and Scalabor.

The description hints at the hidden ``openheid`` and ``werkdruk`` only sometimes.
"""

from __future__ import annotations

import random

from matching.taxonomy import OccupationDef, Taxonomy
from matching.text import join_nl
from matching.vocab import Plaatsingsvorm

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


def title(
    rnd: random.Random,
    occupation: OccupationDef,
    wsp: bool,
    form: Plaatsingsvorm,
    uren_min: int,
    uren_max: int,
    place: str,
) -> str:
    """A title as employers write them: the occupation, with the place, hours or kind of placement."""
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


def vacancy_text(
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
    """The description: intro, tasks, demands, what is offered, and hints at the hidden openness and workload."""
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
