"""The Scalabor region: postcodes per gemeente, the consulenten who keep the caseload, the employers."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from faker import Faker

from matching import geo
from training.population.catalogue import SCALABOR_SECTORS, WSP_SECTORS, Catalogue
from training.population.sampling import CONSULENT_STREAM, EMPLOYER_STREAM, Picker, stream

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


@dataclass(frozen=True)
class Region:
    """PC4 areas per gemeente of the Scalabor region."""

    gemeenten: tuple[str, ...]
    pc4s: dict[str, tuple[str, ...]]
    client_picker: Picker
    vacancy_picker: Picker

    @classmethod
    def build(cls, gemeenten: int | None = None) -> Region:
        """The region's PC4 areas from ``data/pc4_nl.csv``, with the client and vacancy shares per gemeente.

        Args:
            gemeenten: Only this many gemeenten, those with the most clients (None: all of :data:`REGION`).

        Raises:
            ValueError: ``gemeenten`` outside 1 to the region's size (Dutch message).
        """
        if gemeenten is not None and not 1 <= gemeenten <= len(REGION):
            raise ValueError(f"--gemeenten moet tussen 1 en {len(REGION)} liggen (de regio Arnhem), niet {gemeenten}")
        chosen = sorted(REGION, key=lambda name: -REGION[name][1])[: gemeenten or len(REGION)]
        table = geo.load_pc4()
        low, high = REGION_PC4_RANGE
        pc4s: dict[str, tuple[str, ...]] = {}
        for gemeente, (places, _, _) in REGION.items():
            if gemeente not in chosen:
                continue
            wanted = set(places)
            found = tuple(c for c, p in zip(table.codes, table.places, strict=True) if p in wanted and low <= c <= high)
            if found:
                pc4s[gemeente] = found
        if not pc4s:
            raise ValueError("geen postcodes van de regio Arnhem gevonden in data/pc4_nl.csv")
        return cls(
            gemeenten=tuple(pc4s),
            pc4s=pc4s,
            client_picker=Picker({g: REGION[g][1] for g in pc4s}),
            vacancy_picker=Picker({g: REGION[g][2] for g in pc4s}),
        )

    def postcode(self, gemeente: str, rnd: random.Random) -> str:
        """A random PC6 postcode in ``gemeente``: one of its PC4 areas and two letters."""
        return rnd.choice(self.pc4s[gemeente]) + rnd.choice(PC6_LETTERS) + rnd.choice(PC6_LETTERS)


@dataclass(frozen=True)
class Employer:
    """An employer: one location, and a hidden openness that all its vacancies share."""

    name: str
    sector: str
    gemeente: str
    postcode: str
    openness: float


def slug(name: str) -> str:
    """Lower case, runs of other characters as one hyphen: ``"Loo Gld"`` → ``"loo-gld"``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def consulenten(seed: int, region: Region, n_clients: int) -> dict[str, tuple[tuple[str, float], ...]]:
    """One werkconsulent per :data:`CASELOAD` clients of each gemeente, each with a thoroughness (sd units)."""
    rnd = stream(seed, CONSULENT_STREAM, 0)
    pool = {}
    for gemeente in region.gemeenten:
        count = max(1, round(n_clients * REGION[gemeente][1] / CASELOAD))
        pool[gemeente] = tuple((f"wc-{slug(gemeente)}-{j + 1:02d}", rnd.gauss(0.0, 1.0)) for j in range(count))
    return pool


def employers(seed: int, region: Region, catalogue: Catalogue, n_vacancies: int) -> dict[str, tuple[Employer, ...]]:
    """About one employer per four vacancies, per sector; names from Faker nl_NL surnames."""
    fake = Faker("nl_NL")
    fake.seed_instance(seed)
    rnd = stream(seed, EMPLOYER_STREAM, 0)
    per_sector: dict[str, tuple[Employer, ...]] = {}
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
            employers.append(Employer(name, sector, gemeente, postcode, rnd.gauss(0.0, 1.0)))
        per_sector[sector] = tuple(employers)
    return per_sector
