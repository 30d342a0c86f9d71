"""The taxonomy arranged for sampling: occupations by sector, general skills, sector mixes."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from matching.taxonomy import CompetenceDef, OccupationDef, Taxonomy
from training.population.sampling import Picker

# Sector mix of the client population (their work experience and wishes).
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

# Sector mixes of the two vacancy sources.
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


@dataclass(frozen=True)
class Catalogue:
    """The taxonomy arranged for sampling."""

    taxonomy: Taxonomy
    by_sector: dict[str, tuple[OccupationDef, ...]]
    general: tuple[CompetenceDef, ...]
    talents: tuple[CompetenceDef, ...]  # anything a hobby can teach: no language skills
    certificates: tuple[str, ...]  # generic certificates anyone may hold
    client_sectors: Picker
    wsp_sectors: Picker
    scalabor_sectors: Picker

    @classmethod
    def build(cls, taxonomy: Taxonomy) -> Catalogue:
        """Arrange ``taxonomy`` for sampling; refuses one without occupations."""
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

        def restricted(weights: dict[str, float]) -> Picker:
            present = {s: w for s, w in weights.items() if s in by_sector}
            for sector in by_sector:  # sectors the mix does not name still occur, rarely
                present.setdefault(sector, 0.005)
            return Picker(present)

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
        """A uniformly drawn occupation of ``sector``."""
        return rnd.choice(self.by_sector[sector])
