"""The competence taxonomy, the occupation list and the certificate list from ``data/``."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from matching.reference import CERTIFICATES_FILE, COMPETENCES_FILE, OCCUPATIONS_FILE


@dataclass(frozen=True)
class CompetenceDef:
    code: str
    label: str
    groep: str
    esco_uri: str | None


@dataclass(frozen=True)
class OccupationDef:
    code: str
    label: str
    sector: str
    isco08: str
    competenties: tuple[str, ...]
    belasting: dict[str, int]
    certificaten: tuple[str, ...]
    taalniveau_min: str
    synoniemen: tuple[str, ...]


@dataclass(frozen=True)
class Taxonomy:
    competences: dict[str, CompetenceDef]
    occupations: dict[str, OccupationDef]
    certificates: dict[str, str]  # code -> Dutch label

    def competence_label(self, code: str) -> str:
        known = self.competences.get(code)
        return known.label if known else code.replace("_", " ")

    def occupation_label(self, code: str) -> str:
        known = self.occupations.get(code)
        return known.label if known else code.replace("_", " ")

    def certificate_label(self, code: str) -> str:
        return self.certificates.get(code, code.replace("_", " "))


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(";") if part.strip())


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=2)
def load_taxonomy(
    competences: Path = COMPETENCES_FILE,
    occupations: Path = OCCUPATIONS_FILE,
    certificates: Path = CERTIFICATES_FILE,
) -> Taxonomy:
    comps = {
        row["code"]: CompetenceDef(row["code"], row["label"], row["groep"], row.get("esco_uri") or None)
        for row in _read(competences)
    }
    occs = {}
    for row in _read(occupations):
        belasting = {}
        for pair in _split(row["belasting"]):
            aspect, _, niveau = pair.partition(":")
            belasting[aspect.strip()] = int(niveau)
        occs[row["code"]] = OccupationDef(
            code=row["code"],
            label=row["label"],
            sector=row["sector"],
            isco08=row.get("isco08", ""),
            competenties=_split(row["competenties"]),
            belasting=belasting,
            certificaten=_split(row.get("certificaten", "")),
            taalniveau_min=row.get("taalniveau_min") or "A2",
            synoniemen=_split(row.get("synoniemen", "")),
        )
    certs = {row["code"]: row["label"] for row in _read(certificates)}
    return Taxonomy(comps, occs, certs)
