"""Dutch text renderings of profiles and vacancies, the input of the embedder and the lexical index.

What is rendered is a decision about personal data: names, contact details and protected
attributes never appear (they are not even on the :class:`Client` row), and neither do beperkingen:
they are health data, and they are matched structurally against a vacancy's belasting, where the
match can be explained, instead of silently through text similarity. Trede and route are matched
structurally too. Consulent notes and the self-description *are* rendered: they are where a client's
experience and wishes are described in their own words.

Every rendering and every field piece has its feminine job forms folded to the masculine/neutral
counterpart (:func:`matching.gendered.neutral_text`: "Ik werkte als schoonmaakster" → "Ik werkte
als schoonmaker"), on both sides, so the embedder reads the same words whichever grammatical gender a
client or a vacancy uses, and a feminine form embeds like its masculine one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from matching.domain import Client, Vacancy
from matching.gendered import neutral_text
from matching.taxonomy import Taxonomy
from matching.vocab import PLAATSINGSVORM_LABELS, SECTOREN, Plaatsingsvorm


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def join_nl(labels: Sequence[str]) -> str:
    """``["a", "b", "c"]`` → ``"a, b en c"``; empty labels are left out."""
    labels = [label for label in labels if label]
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " en " + labels[-1]


def _occupations(taxonomy: Taxonomy, codes: list[str], synonyms: bool) -> list[str]:
    labels = []
    for code in codes:
        occupation = taxonomy.occupations.get(code)
        label = taxonomy.occupation_label(code)
        if synonyms and occupation is not None and occupation.synoniemen:
            label = f"{label} ({', '.join(occupation.synoniemen)})"
        labels.append(label)
    return labels


def _competences(taxonomy: Taxonomy, items: list[dict]) -> str:
    return join_nl([item.get("label") or taxonomy.competence_label(item.get("code") or "") for item in items])


def render_client(client: Client, taxonomy: Taxonomy, lexical: bool = False) -> str:
    """The profile as Dutch text, most telling parts first.

    The embedder reads only the first ``max_seq_length`` tokens (128 by default), so occupations,
    wishes and the client's own words come before the list of competences. ``lexical=True`` adds
    what only helps word matching (occupation synonyms, certificates, education) for BM25.
    """
    parts: list[str] = []
    if client.werkervaring:
        coded = [item for item in client.werkervaring if item.get("beroepCode")]
        names = _occupations(taxonomy, [item["beroepCode"] for item in coded], lexical)
        years = [f"{name} ({item.get('jaren') or 0:g} jaar)" for name, item in zip(names, coded, strict=True)]
        parts.append(f"Werkervaring: {join_nl(years)}.")
    wensen = client.wensen
    if wensen.get("beroepen"):
        parts.append("Wil werken als " + join_nl(_occupations(taxonomy, wensen["beroepen"], lexical)) + ".")
    if client.zelfbeschrijving:
        parts.append(client.zelfbeschrijving.strip())
    if client.notities:
        parts.append(client.notities.strip())
    if client.competenties:
        parts.append("Competenties: " + _competences(taxonomy, client.competenties) + ".")
    if wensen.get("sectoren"):
        parts.append("Voorkeur voor de sector " + join_nl([SECTOREN.get(s, s) for s in wensen["sectoren"]]) + ".")
    if wensen.get("plaatsingsvormen"):
        parts.append(
            "Zoekt " + join_nl([PLAATSINGSVORM_LABELS[Plaatsingsvorm(p)] for p in wensen["plaatsingsvormen"]]) + "."
        )
    if lexical:
        if client.certificaten:
            parts.append("Certificaten: " + join_nl([taxonomy.certificate_label(c) for c in client.certificaten]) + ".")
        if client.opleidingsniveau:
            parts.append(f"Opleiding: {client.opleidingsniveau}.")
    return neutral_text(" ".join(parts))


def render_vacancy(vacancy: Vacancy, taxonomy: Taxonomy, lexical: bool = False) -> str:
    """The vacancy as Dutch text: title, occupation and asked competences first, then the description."""
    parts = [vacancy.titel.strip() + "."]
    if vacancy.beroep_code:
        occupation = taxonomy.occupations.get(vacancy.beroep_code)
        sector = f" in de sector {SECTOREN.get(occupation.sector, occupation.sector)}" if occupation else ""
        parts.append(f"Beroep: {_occupations(taxonomy, [vacancy.beroep_code], lexical)[0]}{sector}.")
    elif vacancy.beroep_label:
        parts.append(f"Beroep: {vacancy.beroep_label}.")
    if vacancy.competenties_vereist:
        parts.append("Gevraagd: " + _competences(taxonomy, vacancy.competenties_vereist) + ".")
    if vacancy.omschrijving:
        parts.append(vacancy.omschrijving.strip())
    if vacancy.competenties_gewenst:
        parts.append("Pré: " + _competences(taxonomy, vacancy.competenties_gewenst) + ".")
    vorm = PLAATSINGSVORM_LABELS[Plaatsingsvorm(vacancy.plaatsingsvorm)]
    parts.append(f"Plaatsingsvorm: {vorm}.")
    if vacancy.jobcoach:
        parts.append("Begeleiding door een jobcoach is mogelijk.")
    if vacancy.jobcarving:
        parts.append("Taken kunnen worden aangepast (jobcarving).")
    if lexical and vacancy.certificaten:
        parts.append("Certificaten: " + join_nl([taxonomy.certificate_label(c) for c in vacancy.certificaten]) + ".")
    return neutral_text(" ".join(parts))


# ---------------------------------------------------------------------------------------------------
# Fields: the same content as the renderings, cut into pieces that many records share.
#
# Coded parts (occupations, competences, sectors, plaatsingsvormen) come from vocabularies of a few
# hundred labels, and free text repeats a lot of sentences, so embedding per piece and caching by
# content hash embeds each piece once for the whole bestand. A record's vector is the mean of its
# fields' vectors, each field the mean of its pieces (see ``matching.embedding.embed_fields``).

Fields = dict[str, list[str]]
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def sentences(text: str | None) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text or "") if part.strip()]


def client_fields(client: Client, taxonomy: Taxonomy) -> Fields:
    """The profile's pieces per field, in Dutch; empty fields are left out."""
    wensen = client.wensen
    fields: Fields = {
        "werkervaring": [
            f"Werkervaring als {taxonomy.occupation_label(item['beroepCode'])}."
            for item in client.werkervaring
            if item.get("beroepCode")
        ],
        "wensen": [f"Wil werken als {taxonomy.occupation_label(code)}." for code in wensen.get("beroepen", [])]
        + [f"Voorkeur voor de sector {SECTOREN.get(s, s)}." for s in wensen.get("sectoren", [])],
        "eigen woorden": sentences(client.zelfbeschrijving) + sentences(client.notities),
        "competenties": [
            item.get("label") or taxonomy.competence_label(item.get("code") or "") for item in client.competenties
        ],
    }
    return _folded(fields)


def _folded(fields: Fields) -> Fields:
    """Non-empty fields with feminine job forms folded in every piece (:func:`matching.gendered.neutral_text`)."""
    return {name: [neutral_text(piece) for piece in pieces] for name, pieces in fields.items() if pieces}


def vacancy_fields(vacancy: Vacancy, taxonomy: Taxonomy) -> Fields:
    """The vacancy's pieces per field, in the same field names as :func:`client_fields` where they meet."""
    occupation: list[str] = [vacancy.titel.strip() + "."]
    if vacancy.beroep_code:
        occupation.append(f"Werken als {taxonomy.occupation_label(vacancy.beroep_code)}.")
    elif vacancy.beroep_label:
        occupation.append(f"Werken als {vacancy.beroep_label}.")
    fields: Fields = {
        "beroep": occupation,
        "omschrijving": sentences(vacancy.omschrijving),
        "competenties": [
            item.get("label") or taxonomy.competence_label(item.get("code") or "")
            for item in vacancy.competenties_vereist + vacancy.competenties_gewenst
        ],
    }
    return _folded(fields)


def fields_hash(fields: Fields) -> str:
    return content_hash("\n".join(f"{name}: {' | '.join(pieces)}" for name, pieces in sorted(fields.items())))
