"""Every reason code a person can give for saying no to a pair, with its Dutch label: one source for API and web.

A consulent declines a pair (a candidate on a vacancy's list, or a push or zoekopdracht item in the
inbox) with a code of :data:`AFWIJZEN`; a voorstel is closed as ``afgewezen`` or ``uitgevallen``
with a code of :data:`VOORSTEL_AFGEWEZEN` or :data:`VOORSTEL_UITGEVALLEN`. The API checks the codes
against these lists, documents them as the enum of its request fields, and the web forms offer
exactly them, labelled with :func:`label`.

**Job-related only.** No code names a protected attribute (gender, age, origin, religion, name,
pregnancy, ...) or health: werkmatch learns from these codes, so a code that exists becomes a
signal, and a health reason would teach the ranker to put people with a beperking lower (the AMAS
failure, trust.md §2.1; WGBH/CZ). What a job cannot ask of a person is ``belastbaarheid``.

**Retired codes** (:data:`RETIRED`) may stand in rows stored before they were withdrawn (the old
``gezondheid`` for uitval): they read and show with their label, and are never offered or accepted.
"""

from __future__ import annotations

from enum import StrEnum


class Reden(StrEnum):
    """A reason code; the lists below say which decision offers which."""

    # the consulent declines a pair (candidate list, inbox)
    PAST_NIET_BIJ_WENSEN = "past_niet_bij_wensen"  # sector, occupation, plaatsingsvorm the client does not want
    VAARDIGHEDEN = "vaardigheden"  # competences, experience or language level fall short for this job
    REISAFSTAND = "reisafstand"
    UREN_WERKTIJDEN = "uren_werktijden"
    BELASTBAARHEID = "belastbaarheid"  # the job's demands do not fit the client's beperkingen
    NIET_BESCHIKBAAR = "niet_beschikbaar"  # not available now (course, care duties, a trajectory running)
    AL_BEMIDDELD = "al_bemiddeld"  # already placed or proposed elsewhere
    ANDERS = "anders"  # needs a toelichting
    # a voorstel ends: afgewezen (employer or client says no) or uitgevallen (after the hire)
    COMPETENTIES_ONVOLDOENDE = "competenties_onvoldoende"
    ERVARING_ONVOLDOENDE = "ervaring_onvoldoende"
    TAALNIVEAU = "taalniveau"
    REISTIJD = "reistijd"
    UREN_PASSEN_NIET = "uren_passen_niet"
    WERKTIJDEN = "werktijden"
    MOTIVATIE = "motivatie"
    NIET_VERSCHENEN = "niet_verschenen"
    VACATURE_VERVULD_DOOR_ANDER = "vacature_vervuld_door_ander"
    WERKGEVER_TREKT_IN = "werkgever_trekt_in"
    KLANT_TREKT_IN = "klant_trekt_in"
    ANDER_WERK = "ander_werk"  # the client took another job: not a failure of this match
    CONTRACT_NIET_VERLENGD = "contract_niet_verlengd"
    OVERIG = "overig"  # needs a toelichting


LABELS: dict[str, str] = {
    Reden.PAST_NIET_BIJ_WENSEN: "past niet bij de wensen van de klant",
    Reden.VAARDIGHEDEN: "vaardigheden of ervaring schieten tekort",
    Reden.REISAFSTAND: "reisafstand",
    Reden.UREN_WERKTIJDEN: "uren of werktijden",
    Reden.BELASTBAARHEID: "belastbaarheid (eisen van de baan)",
    Reden.NIET_BESCHIKBAAR: "nu niet beschikbaar",
    Reden.AL_BEMIDDELD: "al bemiddeld",
    Reden.ANDERS: "anders",
    Reden.COMPETENTIES_ONVOLDOENDE: "competenties onvoldoende",
    Reden.ERVARING_ONVOLDOENDE: "ervaring onvoldoende",
    Reden.TAALNIVEAU: "taalniveau",
    Reden.REISTIJD: "reistijd",
    Reden.UREN_PASSEN_NIET: "uren passen niet",
    Reden.WERKTIJDEN: "werktijden",
    Reden.MOTIVATIE: "motivatie",
    Reden.NIET_VERSCHENEN: "niet verschenen",
    Reden.VACATURE_VERVULD_DOOR_ANDER: "vacature vervuld door een ander",
    Reden.WERKGEVER_TREKT_IN: "werkgever trekt in",
    Reden.KLANT_TREKT_IN: "klant trekt in",
    Reden.ANDER_WERK: "ander werk gevonden",
    Reden.CONTRACT_NIET_VERLENGD: "contract niet verlengd",
    Reden.OVERIG: "overig",
}
RETIRED: dict[str, str] = {"gezondheid": "gezondheid (vervallen code, niet meer te kiezen)"}
"""Codes stored before they were withdrawn, with the label they read with; never offered, never accepted."""

AFWIJZEN: tuple[Reden, ...] = (
    Reden.PAST_NIET_BIJ_WENSEN,
    Reden.VAARDIGHEDEN,
    Reden.REISAFSTAND,
    Reden.UREN_WERKTIJDEN,
    Reden.BELASTBAARHEID,
    Reden.NIET_BESCHIKBAAR,
    Reden.AL_BEMIDDELD,
    Reden.VACATURE_VERVULD_DOOR_ANDER,
    Reden.ANDERS,
)
"""A consulent declines a pair: a candidate on a vacancy's list and an inbox item alike."""

SITUATIONAL = frozenset({Reden.NIET_BESCHIKBAAR, Reden.AL_BEMIDDELD, Reden.VACATURE_VERVULD_DOOR_ANDER})
"""Declines that say something about the client's or the vacancy's situation now, not about the pair's fit: recorded and
reported, but no training label (a relevance 0 would teach the ranker that a good pair is bad)."""

_ENDINGS = (
    Reden.COMPETENTIES_ONVOLDOENDE,
    Reden.ERVARING_ONVOLDOENDE,
    Reden.TAALNIVEAU,
    Reden.REISTIJD,
    Reden.UREN_PASSEN_NIET,
    Reden.WERKTIJDEN,
    Reden.BELASTBAARHEID,
    Reden.MOTIVATIE,
    Reden.NIET_VERSCHENEN,
    Reden.VACATURE_VERVULD_DOOR_ANDER,
    Reden.WERKGEVER_TREKT_IN,
    Reden.KLANT_TREKT_IN,
    Reden.ANDER_WERK,
    Reden.CONTRACT_NIET_VERLENGD,
    Reden.OVERIG,
)
VOORSTEL_AFGEWEZEN = tuple(r for r in _ENDINGS if r is not Reden.CONTRACT_NIET_VERLENGD)
"""A voorstel ends before the hire (no contract to extend yet)."""
VOORSTEL_UITGEVALLEN = tuple(r for r in _ENDINGS if r is not Reden.VACATURE_VERVULD_DOOR_ANDER)
"""A hire or placement ends early (the vacancy was already theirs)."""


def label(code: str) -> str:
    """The Dutch label of any stored code: a current one, a retired one, or else the code in words."""
    return LABELS.get(code) or RETIRED.get(code) or code.replace("_", " ")


def choices(codes: tuple[Reden, ...]) -> list[tuple[str, str]]:
    """``(code, label)`` pairs for a form's options, in the list's order."""
    return [(code.value, LABELS[code]) for code in codes]
