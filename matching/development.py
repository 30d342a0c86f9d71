"""Near misses: candidates who fit except for one or two requirements, and what would close the gap.

A consulent who sees "mist alleen het VCA-certificaat" can plan a Perspectief route (a one-day course)
instead of saying no. A *gap* is one missing certificate, a missing driving licence, a Dutch language
level below the one asked, or one missing required competence. A pair with one or two gaps is a near
miss; with none it simply fits, with more it is not near. Each gap comes with development advice:
what usually closes it and roughly how long that takes (team knowledge, documented in
:data:`CERTIFICATE_ADVICE`; a consulent checks the local offer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from matching.domain import Client, Vacancy
from matching.taxonomy import Taxonomy
from matching.vocab import TAALNIVEAUS

MAX_GAPS = 2
LICENCES = {"B", "C", "CE", "D"}

# How a missing certificate is usually obtained. Unknown codes get the generic advice.
CERTIFICATE_ADVICE: dict[str, str] = {
    "vca_basis": "een VCA Basis-cursus met examen (1–2 dagen)",
    "vca_vol": "een VOL-VCA-cursus met examen (2–3 dagen)",
    "heftruck": "een heftruckcursus met praktijkexamen (1–2 dagen)",
    "reachtruck": "een reachtruckcursus (1–2 dagen)",
    "ept": "een korte EPT-instructie (een dagdeel)",
    "hoogwerker": "een hoogwerkertraining (1 dag)",
    "bhv": "een BHV-basiscursus (2 dagen)",
    "ehbo": "een EHBO-cursus (enkele avonden)",
    "reanimatie_aed": "een reanimatie- en AED-training (een dagdeel)",
    "sociale_hygiene": "de cursus Sociale Hygiëne met SVH-examen (enkele weken)",
    "haccp": "een HACCP-hygiënetraining (1 dag)",
    "schoonmaak_basis": "de opleiding Basis Schoonmaak (enkele dagen, vaak via de werkgever)",
    "vog": "een VOG-aanvraag via Justis (ongeveer 4 weken; vaak vergoed door de werkgever)",
    "code95": "nascholing Code 95 (35 uur)",
    "entree_diploma": "een Entreeopleiding (mbo 1, ongeveer een jaar, kan in de BBL naast werk)",
    "icdl": "een ICDL-cursus digitale vaardigheden (enkele weken)",
    "beveiliger_2": "de opleiding Beveiliger 2 (ongeveer een half jaar, vaak BBL)",
    "helpende_zorg": "de opleiding Helpende Zorg en Welzijn (mbo 2, BBL naast werk)",
    "taal_3f": "een taaltraject naar 3F mondeling",
    "nt2_programma_1": "een NT2-traject naar B1 met staatsexamen programma I",
    "inburgering": "het inburgeringstraject afronden",
}


@dataclass
class NearMiss:
    ontbreekt: list[dict[str, str]] = field(default_factory=list)  # {"soort", "tekst"}
    advies: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"ontbreekt": self.ontbreekt, "advies": self.advies}


def gaps(client: Client, vacancy: Vacancy, taxonomy: Taxonomy) -> NearMiss:
    """Every gap of the pair with its advice (possibly more than :data:`MAX_GAPS`)."""
    found = NearMiss()
    for code in vacancy.certificaten:
        if code in client.certificaten:
            continue
        label = taxonomy.certificate_label(code)
        found.ontbreekt.append({"soort": "certificaat", "tekst": label})
        route = CERTIFICATE_ADVICE.get(code, "een erkende cursus of opleiding; vraag de werkgever of die meebetaalt")
        found.advies.append(f"{label}: te halen via {route}.")
    if LICENCES & set(vacancy.rijbewijs) and not LICENCES & set(client.rijbewijs):
        asked = "/".join(sorted(LICENCES & set(vacancy.rijbewijs)))
        found.ontbreekt.append({"soort": "rijbewijs", "tekst": f"rijbewijs {asked}"})
        found.advies.append(
            f"Rijbewijs {asked}: bespreek rijlessen; vraag of het re-integratiebudget of de werkgever bijdraagt."
        )
    if (
        vacancy.taalniveau in TAALNIVEAUS
        and client.taalniveau in TAALNIVEAUS
        and TAALNIVEAUS.index(client.taalniveau) < TAALNIVEAUS.index(vacancy.taalniveau)
    ):
        found.ontbreekt.append(
            {"soort": "taalniveau", "tekst": f"Nederlands {vacancy.taalniveau} (klant: {client.taalniveau})"}
        )
        found.advies.append(
            f"Nederlands naar {vacancy.taalniveau}: een taaltraject, eventueel naast het werk (taal op de werkvloer)."
        )
    held = {item.get("code") for item in client.competenties} - {None, ""}
    for item in vacancy.competenties_vereist:
        if not item.get("code") or item["code"] in held:
            continue
        label = taxonomy.competence_label(item["code"])
        found.ontbreekt.append({"soort": "competentie", "tekst": label})
        found.advies.append(f"{label}: aan te leren via een werkervaringsplek, training on the job of jobcarving.")
    return found


def near_miss(client: Client, vacancy: Vacancy, taxonomy: Taxonomy) -> NearMiss | None:
    """The pair's gaps when there are one or two of them; ``None`` when it fits or misses more."""
    found = gaps(client, vacancy, taxonomy)
    return found if 1 <= len(found.ontbreekt) <= MAX_GAPS else None
