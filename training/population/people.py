"""Protected attributes and names of a synthetic client: for the audit and personalia only.

Nothing drawn here reaches the profile, its texts or the hidden truth.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Any

from faker.providers.person.de_DE import Provider as GermanNames
from faker.providers.person.nl_NL import Provider as DutchNames
from faker.providers.person.pl_PL import Provider as PolishNames
from faker.providers.person.tr_TR import Provider as TurkishNames

from training.population.region import slug
from training.population.sampling import picker

GENDERS = {"vrouw": 0.55, "man": 0.445, "x": 0.005}
AGE_BANDS = {(18, 26): 0.10, (27, 35): 0.18, (36, 45): 0.22, (46, 55): 0.25, (56, 66): 0.25}
MIGRATION = {"geen": 0.45, "westers": 0.10, "niet-westers": 0.45}


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


@dataclass(frozen=True)
class Person:
    """Who a client is, as far as the audit and the personalia table know."""

    geslacht: str
    age: int
    migratie: str
    voornaam: str
    achternaam: str

    def audit(self, reference_date: date) -> dict[str, Any]:
        """The audit attributes (``AuditKenmerken`` fields)."""
        return {
            "geslacht": self.geslacht,
            "geboortejaar": reference_date.year - self.age,
            "migratieachtergrond": self.migratie,
        }


def draw_person(rnd: random.Random) -> Person:
    """Step 1 of a client: geslacht, age, migratieachtergrond and a name that fits them."""
    geslacht = picker("gender", GENDERS)(rnd)
    low, high = picker("age", AGE_BANDS)(rnd)
    age = rnd.randint(low, high)
    migratie = picker("migration", MIGRATION)(rnd)
    origin = picker(f"origin-{migratie}", NAME_ORIGIN[migratie])(rnd)
    female_names, male_names, last_names = NAME_POOLS[origin]
    female = geslacht == "vrouw" or (geslacht == "x" and rnd.random() < 0.5)
    voornaam = rnd.choice(female_names if female else male_names)
    achternaam = rnd.choice(last_names)
    return Person(geslacht, age, migratie, voornaam, achternaam)


def personalia(person: Person, rnd: random.Random) -> dict[str, Any]:
    """Name, e-mail address and phone number (``ClientPersonalia`` fields)."""
    return {
        "voornaam": person.voornaam,
        "achternaam": person.achternaam,
        "email": f"{slug(person.voornaam)}.{slug(person.achternaam)}{rnd.randint(1, 99)}@example.nl",
        "telefoon": f"06-{rnd.randint(10_000_000, 99_999_999)}",
    }
