"""Dutch text renderings of profiles and vacancies, the input of the embedder and the lexical index.

What is rendered is a decision about personal data: names, contact details and protected
attributes never appear (they are not even on the :class:`Client` row), and neither do beperkingen:
they are health data, and they are matched structurally against a vacancy's belasting, where the
match can be explained, instead of silently through text similarity. Trede and route are matched
structurally too. Consulent notes and the self-description *are* rendered: they are where a client's
experience and wishes are described in their own words.
"""

from __future__ import annotations

import hashlib

from matching.domain import Client, Vacancy
from matching.taxonomy import Taxonomy
from matching.vocab import PLAATSINGSVORM_LABELS, SECTOREN, Plaatsingsvorm


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _join(labels: list[str]) -> str:
    labels = [label for label in labels if label]
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " en " + labels[-1]


def _occupation_with_synonyms(taxonomy: Taxonomy, code: str) -> str:
    occupation = taxonomy.occupations.get(code)
    if occupation is None or not occupation.synoniemen:
        return taxonomy.occupation_label(code)
    return f"{occupation.label} ({', '.join(occupation.synoniemen)})"


def render_client(client: Client, taxonomy: Taxonomy) -> str:
    """The profile as Dutch text: experience, skills, wishes and the client's own words."""
    parts: list[str] = []
    if client.werkervaring:
        experience = [
            f"{_occupation_with_synonyms(taxonomy, item['beroepCode'])} ({item['jaren']:g} jaar)"
            for item in client.werkervaring
        ]
        parts.append(f"Werkervaring: {_join(experience)}.")
    if client.competenties:
        parts.append(
            "Competenties: "
            + _join([item.get("label") or taxonomy.competence_label(item["code"]) for item in client.competenties])
            + "."
        )
    if client.opleidingsniveau:
        parts.append(f"Opleiding: {client.opleidingsniveau}.")
    if client.certificaten:
        parts.append("Certificaten: " + _join([taxonomy.certificate_label(c) for c in client.certificaten]) + ".")
    if client.rijbewijs:
        parts.append("Rijbewijs " + _join(client.rijbewijs) + ".")
    wensen = client.wensen
    if wensen.get("beroepen"):
        parts.append(
            "Wil werken als " + _join([_occupation_with_synonyms(taxonomy, c) for c in wensen["beroepen"]]) + "."
        )
    if wensen.get("sectoren"):
        parts.append("Voorkeur voor de sector " + _join([SECTOREN.get(s, s) for s in wensen["sectoren"]]) + ".")
    if wensen.get("plaatsingsvormen"):
        parts.append(
            "Zoekt " + _join([PLAATSINGSVORM_LABELS[Plaatsingsvorm(p)] for p in wensen["plaatsingsvormen"]]) + "."
        )
    parts.append(f"Beschikbaar {client.uren_min}–{client.uren_max} uur per week.")
    if client.zelfbeschrijving:
        parts.append(client.zelfbeschrijving.strip())
    if client.notities:
        parts.append(client.notities.strip())
    return " ".join(parts)


def render_vacancy(vacancy: Vacancy, taxonomy: Taxonomy) -> str:
    """The vacancy as Dutch text: title, occupation, tasks, required skills and the kind of placement."""
    parts = [vacancy.titel.strip() + "."]
    if vacancy.beroep_code:
        occupation = taxonomy.occupations.get(vacancy.beroep_code)
        sector = f" in de sector {SECTOREN.get(occupation.sector, occupation.sector)}" if occupation else ""
        parts.append(f"Beroep: {_occupation_with_synonyms(taxonomy, vacancy.beroep_code)}{sector}.")
    elif vacancy.beroep_label:
        parts.append(f"Beroep: {vacancy.beroep_label}.")
    if vacancy.omschrijving:
        parts.append(vacancy.omschrijving.strip())
    if vacancy.competenties_vereist:
        parts.append(
            "Gevraagd: "
            + _join(
                [item.get("label") or taxonomy.competence_label(item["code"]) for item in vacancy.competenties_vereist]
            )
            + "."
        )
    if vacancy.competenties_gewenst:
        parts.append(
            "Pré: "
            + _join(
                [item.get("label") or taxonomy.competence_label(item["code"]) for item in vacancy.competenties_gewenst]
            )
            + "."
        )
    if vacancy.certificaten:
        parts.append("Certificaten: " + _join([taxonomy.certificate_label(c) for c in vacancy.certificaten]) + ".")
    vorm = PLAATSINGSVORM_LABELS[Plaatsingsvorm(vacancy.plaatsingsvorm)]
    parts.append(f"{vacancy.uren_min}–{vacancy.uren_max} uur per week, {vorm}.")
    if vacancy.jobcoach:
        parts.append("Begeleiding door een jobcoach is mogelijk.")
    if vacancy.jobcarving:
        parts.append("Taken kunnen worden aangepast (jobcarving).")
    return " ".join(parts)
