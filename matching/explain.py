"""Dutch explanations for one (client, vacancy) pair, derived from what the ranker itself weighed.

The learned ranker gives per-feature contributions (LightGBM's ``pred_contrib``: SHAP values of a
tree ensemble, which sum with the bias to the score); the transparent weighted score gives its
weighted terms minus their pool average. Both are summed into a dozen *groups* a consulent
recognises (competences, experience, travel, hours, …: :data:`FEATURE_GROUP`, :data:`SIGNAL_GROUP`).
A group that pushed the pair up becomes a reason, one that pushed it down an aandachtspunt, each a
short sentence built from the pair's own values; strongest first. Facts a consulent must know
(a missing certificate, licence or language level) are always aandachtspunten, however little they
weighed.

The explainer sees profile and vacancy fields and the ranker's features only: never a protected
attribute (there is none among the features, see :mod:`matching.features`), and never beperkingen
(those are :mod:`matching.compatibility`'s, with their own texts and access rules). The same inputs
give the same sentences whoever asks. Advice to a consulent, never a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from matching import display_score, geo, quality
from matching.domain import Client, Vacancy
from matching.features import EXPERIENCE_COLUMN
from matching.taxonomy import Taxonomy
from matching.vocab import PLAATSINGSVORM_LABELS, TAALNIVEAUS, TREDE_LABELS, Trede

MODE_LABELS = {
    "lopen": "lopend",
    "fiets": "met de fiets",
    "scooter": "met de scooter",
    "ov": "met het ov",
    "auto": "met de auto",
}
# Learned-ranker feature -> group.
FEATURE_GROUP: dict[str, str] = {
    "dense_similarity": "tekst",
    "lexical_similarity": "tekst",
    "required_coverage": "competenties",
    "optional_coverage": "competenties",
    EXPERIENCE_COLUMN: "ervaring",
    "wishes_occupation": "wensen",
    "wishes_sector": "wensen",
    "distance_km": "reis",
    "travel_minutes": "reis",
    "travel_ratio": "reis",
    "travel_overshoot": "reis",
    "hours_overlap": "uren",
    "hours_shortfall": "uren",
    "excluded_times_share": "werktijden",
    "readiness_gap": "trede",
    "readiness_surplus": "trede",
    "route_fit": "trede",
    "coaching_need_met": "begeleiding",
    "coaching_need_unmet": "begeleiding",
    "language_gap": "taal",
    "language_unknown": "taal",
    "certificate_gap": "certificaten",
    "licence_missing": "rijbewijs",
    "days_since_update": "profiel",
    "missing_fields": "profiel",
    "notes_readiness": "inzet",  # a ranker that reads the notes column (matching.notes_readiness)
}
# Weighted-score signal -> group.
SIGNAL_GROUP: dict[str, str] = {
    "dense": "tekst",
    "lexical": "tekst",
    "competences": "competenties",
    "occupation": "ervaring",
    "distance": "reis",
}
GROUP_LABELS: dict[str, str] = {
    "competenties": "Competenties",
    "ervaring": "Ervaring in het beroep",
    "wensen": "Wensen van de klant",
    "reis": "Reisafstand",
    "uren": "Uren",
    "werktijden": "Werktijden",
    "trede": "Trede, route en plaatsingsvorm",
    "begeleiding": "Begeleiding",
    "tekst": "Overeenkomst profiel en vacaturetekst",
    "taal": "Taalniveau",
    "certificaten": "Certificaten",
    "rijbewijs": "Rijbewijs",
    "profiel": "Actualiteit van het profiel",
    "inzet": "Inzet en afspraken (eigen woorden en notities, zonder gezondheid)",
}
# A group counts when it moved the score by at least this share of all the movement in the pair.
MIN_SHARE = 0.08
MAX_REASONS = 5
# The text sentences follow the pair's own text fit (matching.display_score): "vergelijkbaar werk" from
# half of the tekst part up, "lijkt weinig op" below it.
TEXT_FIT_SAYS = 0.5
LICENCES = {"B", "C", "CE", "D"}


@dataclass
class Explanation:
    reasons: list[str] = field(default_factory=list)
    aandachtspunten: list[str] = field(default_factory=list)
    bijdragen: list[dict[str, Any]] = field(default_factory=list)  # per group, largest |bijdrage| first


def _km(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def _labels(taxonomy: Taxonomy, codes: list[str], limit: int = 4) -> str:
    labels = [taxonomy.competence_label(code) for code in codes[:limit]]
    more = f" en {len(codes) - limit} meer" if len(codes) > limit else ""
    return ", ".join(labels) + more


def group_contributions(contributions: dict[str, float], groups: dict[str, str]) -> dict[str, float]:
    """Per-feature (or per-signal) contributions summed per group."""
    summed: dict[str, float] = {}
    for name, value in contributions.items():
        group = groups.get(name)
        if group is not None:
            summed[group] = summed.get(group, 0.0) + float(value)
    return summed


@dataclass(frozen=True)
class PairFacts:
    """The values of one pair the sentences quote (from the feature row and the records)."""

    distance_km: float
    max_km: float
    mode: str
    values: dict[str, float]  # the ranker's feature values of the pair (matching.features)
    # Set for a viewer outside the client's caseload: the sentences name this band, never kilometres
    # or travel minutes (matching.disclosure, rule 2).
    distance_band: str | None = None


class _Sentences:
    """The positive and the negative sentence of each group for one pair (None: nothing to say)."""

    def __init__(self, client: Client, vacancy: Vacancy, facts: PairFacts, taxonomy: Taxonomy) -> None:
        self.client, self.vacancy, self.facts, self.taxonomy = client, vacancy, facts, taxonomy
        self.held = {item.get("code") for item in client.competenties} - {None, ""}

    def competenties(self, positive: bool) -> str | None:
        required = [item["code"] for item in self.vacancy.competenties_vereist if item.get("code")]
        matched = [code for code in required if code in self.held]
        missing = [code for code in required if code not in self.held]
        optional = [item.get("code") for item in self.vacancy.competenties_gewenst if item.get("code") in self.held]
        if positive:
            if matched:
                return (
                    f"Heeft {len(matched)} van de {len(required)} gevraagde competenties: "
                    f"{_labels(self.taxonomy, matched)}."
                )
            if optional:
                return f"Heeft gewenste competenties: {_labels(self.taxonomy, optional)}."
            return None
        if missing:
            return f"Mist gevraagde competenties: {_labels(self.taxonomy, missing)}."
        return None

    def ervaring(self, positive: bool) -> str | None:
        occupation = self.vacancy.beroep_code
        if not occupation:
            return None
        label = self.taxonomy.occupation_label(occupation).lower()
        years = {item.get("beroepCode"): item.get("jaren") or 0 for item in self.client.werkervaring}
        if positive:
            if occupation in years:
                return f"Heeft {years[occupation]:g} jaar ervaring als {label}."
            if occupation in self.client.wensen.get("beroepen", []):
                return f"Wil graag werken als {label}."
            return None
        return None if occupation in years else f"Heeft nog geen ervaring als {label} in het profiel."

    def wensen(self, positive: bool) -> str | None:
        occupation = self.vacancy.beroep_code
        known = self.taxonomy.occupations.get(occupation or "")
        if positive:
            if occupation and occupation in self.client.wensen.get("beroepen", []):
                return f"Wil graag werken als {self.taxonomy.occupation_label(occupation).lower()}."
            if known and known.sector in self.client.wensen.get("sectoren", []):
                return f"Heeft een voorkeur voor de sector van deze vacature ({known.sector.replace('_', ' ')})."
            return None
        if self.client.wensen.get("beroepen") or self.client.wensen.get("sectoren"):
            return "Beroep en sector van deze vacature staan niet bij de wensen van de klant."
        return None

    def reis(self, positive: bool) -> str | None:
        facts = self.facts
        if facts.distance_band is not None:
            where = f"Woont op {facts.distance_band} van het werkadres"
            if positive:
                return f"{where}; reisbereik ca. {_km(facts.max_km)} km."
            return f"{where}; andere kandidaten wonen dichterbij."
        minutes = geo.travel_minutes(facts.distance_km, facts.mode)
        trip = (
            f"{_km(facts.distance_km)} km van het werkadres (ca. {minutes:.0f} min "
            f"{MODE_LABELS.get(facts.mode, facts.mode)})"
        )
        if positive:
            return f"Woont op {trip}; reisbereik ca. {_km(facts.max_km)} km."
        if facts.distance_km > facts.max_km:
            return f"Woont op {trip}: verder dan de klant wil reizen (ca. {_km(facts.max_km)} km)."
        return f"Woont op {trip}; andere kandidaten wonen dichterbij."

    def uren(self, positive: bool) -> str | None:
        hours = (
            f"beschikbaar {self.client.uren_min}–{self.client.uren_max} uur, "
            f"vacature {self.vacancy.uren_min}–{self.vacancy.uren_max} uur"
        )
        return f"Uren passen: {hours}." if positive else f"Uren passen maar deels: {hours}."

    def werktijden(self, positive: bool) -> str | None:
        if positive:
            return None
        return "De vacature vraagt werktijden die de klant liever niet werkt."

    def trede(self, positive: bool) -> str | None:
        vorm = PLAATSINGSVORM_LABELS.get(self.vacancy.plaatsingsvorm, self.vacancy.plaatsingsvorm)  # type: ignore[call-overload]
        trede = TREDE_LABELS.get(Trede(self.client.trede), str(self.client.trede))
        if positive:
            return (
                f"De plaatsingsvorm ({vorm}) past bij trede {self.client.trede} ({trede}) en route {self.client.route}."
            )
        if self.facts.values.get("readiness_gap", 0.0) > 0:
            return (
                f"De plaatsingsvorm ({vorm}) vraagt meer dan trede {self.client.trede} ({trede}) nu biedt; "
                "een tussenstap of begeleiding kan helpen."
            )
        return f"De plaatsingsvorm ({vorm}) past minder goed bij route {self.client.route}."

    def begeleiding(self, positive: bool) -> str | None:
        if positive and self.vacancy.jobcoach:
            return "De vacature biedt een jobcoach; dat past bij de begeleiding die de klant nodig heeft."
        if not positive and not self.vacancy.jobcoach:
            return "De klant heeft waarschijnlijk begeleiding nodig en de vacature noemt geen jobcoach."
        return None

    def tekst(self, positive: bool) -> str | None:
        # Said only where the pair's own text fit (the shown score's tekst part, the same from either
        # side) agrees: a ranker that weighs the text against this pool never contradicts the bars.
        fit = float(display_score.text_fit(self.facts.values.get("dense_similarity", 0.0)))
        if positive and fit >= TEXT_FIT_SAYS:
            return "Profiel en vacature beschrijven vergelijkbaar werk (inhoudelijke tekstovereenkomst)."
        if not positive and fit < TEXT_FIT_SAYS:
            return "De profieltekst lijkt weinig op de vacaturetekst."
        return None

    def taal(self, positive: bool) -> str | None:
        return None  # a fact: see _facts

    def certificaten(self, positive: bool) -> str | None:
        if positive and self.vacancy.certificaten:
            names = ", ".join(self.taxonomy.certificate_label(code) for code in self.vacancy.certificaten)
            return f"Heeft de gevraagde certificaten: {names}."
        return None  # missing ones are a fact: see _facts

    def rijbewijs(self, positive: bool) -> str | None:
        return None  # a fact: see _facts

    def profiel(self, positive: bool) -> str | None:
        if positive:
            return None
        days = self.facts.values.get("days_since_update", 0.0)
        missing = quality.missing_fields(self.client)
        if missing:
            return f"In het profiel ontbreekt nog: {', '.join(missing[:3])}; dat maakt de score minder zeker."
        return f"Het profiel is {days:.0f} dagen niet bijgewerkt; dat maakt de score minder zeker."

    def inzet(self, positive: bool) -> str | None:
        """The notes column says nothing of what was written (the fragments stay in the profile), only that it
        weighed: a reading of free text is advice to check in a conversation, never a verdict. It reads the client,
        not the vacancy, so it never says that the client fits this placement."""
        if positive:
            return "Wat klant en consulent schreven over inzet en afspraken woog positief mee; een gesprek zegt meer."
        return "Wat klant en consulent schreven over inzet en afspraken woog minder mee; een gesprek zegt meer."

    def facts_to_know(self) -> list[str]:
        """Aandachtspunten that are always said: requirements the profile does not show."""
        points = []
        missing_certs = [code for code in self.vacancy.certificaten if code not in self.client.certificaten]
        if missing_certs:
            names = ", ".join(self.taxonomy.certificate_label(code) for code in missing_certs)
            points.append(f"Vacature vraagt {names}; dat staat niet in het profiel.")
        if (
            self.vacancy.taalniveau in TAALNIVEAUS
            and self.client.taalniveau in TAALNIVEAUS
            and TAALNIVEAUS.index(self.client.taalniveau) < TAALNIVEAUS.index(self.vacancy.taalniveau)
        ):
            points.append(
                f"Vacature vraagt Nederlands op niveau {self.vacancy.taalniveau}; klant heeft {self.client.taalniveau}."
            )
        elif self.vacancy.taalniveau and not self.client.taalniveau:
            points.append(f"Vacature vraagt Nederlands op niveau {self.vacancy.taalniveau}; taalniveau klant onbekend.")
        if LICENCES & set(self.vacancy.rijbewijs) and not LICENCES & set(self.client.rijbewijs):
            points.append("Vacature vraagt een rijbewijs; dat staat niet in het profiel.")
        return points


def explain_pair(
    client: Client,
    vacancy: Vacancy,
    contributions: dict[str, float],
    facts: PairFacts,
    taxonomy: Taxonomy,
) -> Explanation:
    """Reasons (strongest first), aandachtspunten and per-group contributions for one pair.

    Args:
        contributions: per group (see :func:`group_contributions`) how much it moved the score
            against the average pair.
        facts: the pair's distance, reach, transport mode and feature values.
    """
    sentences = _Sentences(client, vacancy, facts, taxonomy)
    total = sum(abs(value) for value in contributions.values()) or 1.0
    ordered = sorted(contributions.items(), key=lambda item: (-abs(item[1]), item[0]))
    explanation = Explanation(
        bijdragen=[
            {"kenmerk": group, "label": GROUP_LABELS[group], "bijdrage": round(value, 4)} for group, value in ordered
        ]
    )
    for group, value in ordered:
        if abs(value) / total < MIN_SHARE:
            continue
        text = getattr(sentences, group)(value > 0)
        if text is None or text in explanation.reasons:
            continue
        if value > 0 and len(explanation.reasons) < MAX_REASONS:
            explanation.reasons.append(text)
        elif value < 0:
            explanation.aandachtspunten.append(text)
    for text in sentences.facts_to_know():
        if text not in explanation.aandachtspunten:
            explanation.aandachtspunten.append(text)
    if not explanation.reasons:  # a list entry always says something in its favour, if only the distance
        explanation.reasons.append(sentences.reis(True) or "")
    return explanation
