"""Dutch explanations for one (client, vacancy) pair: the reasons behind a score and the aandachtspunten.

Sentences are built from the same values the score used, strongest signal first, so the text says
why the pair ranks where it does. They are advice to a consulent, never a verdict, and never mention
a protected attribute (the explainer never sees one). Beperking-related points go into
``aandachtspunten`` only and name the kind of demand, so the API can hide them from roles that may not
see beperkingen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from matching import geo
from matching.domain import Client, Vacancy
from matching.taxonomy import Taxonomy
from matching.vocab import ASPECTS, TAALNIVEAUS

MODE_LABELS = {
    "lopen": "lopend",
    "fiets": "met de fiets",
    "scooter": "met de scooter",
    "ov": "met het ov",
    "auto": "met de auto",
}


@dataclass
class Explanation:
    reasons: list[str] = field(default_factory=list)
    aandachtspunten: list[str] = field(default_factory=list)
    # Derived from beperkingen (health data): only for roles that may see them (the client's consulent).
    beperking_aandachtspunten: list[str] = field(default_factory=list)


def _km(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def _labels(taxonomy: Taxonomy, codes: list[str], limit: int = 4) -> str:
    labels = [taxonomy.competence_label(code) for code in codes[:limit]]
    more = f" en {len(codes) - limit} meer" if len(codes) > limit else ""
    return ", ".join(labels) + more


def explain_pair(
    client: Client,
    vacancy: Vacancy,
    signals: dict[str, float],
    distance_km: float,
    max_km: float,
    mode: str,
    taxonomy: Taxonomy,
) -> Explanation:
    """Reasons (strongest first) and aandachtspunten for one pair, in Dutch."""
    scored: list[tuple[float, str]] = []
    explanation = Explanation()

    occupation = vacancy.beroep_code
    years = {item["beroepCode"]: item["jaren"] for item in client.werkervaring}
    if occupation and occupation in years:
        label = taxonomy.occupation_label(occupation)
        scored.append((signals["occupation"] + 0.5, f"Heeft {years[occupation]:g} jaar ervaring als {label.lower()}."))
    elif occupation and occupation in client.wensen.get("beroepen", []):
        scored.append((signals["occupation"], f"Wil graag werken als {taxonomy.occupation_label(occupation).lower()}."))

    client_codes = {item["code"] for item in client.competenties}
    required = [item["code"] for item in vacancy.competenties_vereist]
    matched = [code for code in required if code in client_codes]
    missing = [code for code in required if code not in client_codes]
    if matched:
        scored.append(
            (
                signals["competences"] + 0.3,
                f"Heeft {len(matched)} van de {len(required)} gevraagde competenties: {_labels(taxonomy, matched)}.",
            )
        )
    optional_matched = [item["code"] for item in vacancy.competenties_gewenst if item["code"] in client_codes]
    if optional_matched:
        scored.append((0.3, f"Heeft ook gewenste competenties: {_labels(taxonomy, optional_matched)}."))

    minutes = geo.travel_minutes(distance_km, mode)
    scored.append(
        (
            signals["distance"],
            f"Woont op {_km(distance_km)} km van het werkadres (ca. {minutes:.0f} min {MODE_LABELS.get(mode, mode)}); "
            f"reisbereik ca. {_km(max_km)} km.",
        )
    )
    scored.append(
        (
            0.25,
            f"Uren passen: beschikbaar {client.uren_min}–{client.uren_max} uur, "
            f"vacature {vacancy.uren_min}–{vacancy.uren_max} uur.",
        )
    )
    if signals["dense"] >= 0.6:
        scored.append(
            (signals["dense"], "Profiel en vacature beschrijven vergelijkbaar werk (inhoudelijke tekstovereenkomst).")
        )
    if signals["lexical"] >= 0.5:
        scored.append((signals["lexical"] * 0.9, "Profieltekst noemt dezelfde werkzaamheden als de vacature."))
    sector_wish = client.wensen.get("sectoren", [])
    known = taxonomy.occupations.get(occupation or "")
    if known and known.sector in sector_wish:
        scored.append((0.4, f"Heeft een voorkeur voor de sector van deze vacature ({known.sector.replace('_', ' ')})."))

    explanation.reasons = [text for _, text in sorted(scored, key=lambda pair: -pair[0])]

    if missing:
        explanation.aandachtspunten.append(f"Mist gevraagde competenties: {_labels(taxonomy, missing)}.")
    missing_certs = [code for code in vacancy.certificaten if code not in client.certificaten]
    if missing_certs:
        names = ", ".join(taxonomy.certificate_label(code) for code in missing_certs)
        explanation.aandachtspunten.append(f"Vacature vraagt {names}; dat staat niet in het profiel.")
    if (
        vacancy.taalniveau
        and client.taalniveau
        and TAALNIVEAUS.index(client.taalniveau) < TAALNIVEAUS.index(vacancy.taalniveau)
    ):
        explanation.aandachtspunten.append(
            f"Vacature vraagt Nederlands op niveau {vacancy.taalniveau}; klant heeft {client.taalniveau}."
        )
    if {"B", "C", "CE", "D"} & set(vacancy.rijbewijs) and not {"B", "C", "CE", "D"} & set(client.rijbewijs):
        explanation.aandachtspunten.append("Vacature vraagt een rijbewijs; dat staat niet in het profiel.")
    demands = {item["aspect"]: item["niveau"] for item in vacancy.belasting}
    for beperking in client.beperkingen:
        niveau = demands.get(beperking["aspect"])
        if niveau and niveau + beperking["ernst"] >= 4:
            remedy = (
                "jobcoach en jobcarving mogelijk"
                if vacancy.jobcoach and vacancy.jobcarving
                else (
                    "jobcoach mogelijk"
                    if vacancy.jobcoach
                    else "jobcarving mogelijk"
                    if vacancy.jobcarving
                    else "bespreek een aanpassing met de werkgever"
                )
            )
            explanation.beperking_aandachtspunten.append(
                f"Werk vraagt {ASPECTS[beperking['aspect']][1]}; "
                f"dit vraagt aandacht bij de beperkingen van de klant ({remedy})."
            )
    return explanation
