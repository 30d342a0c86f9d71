"""Every reason code a person can give for saying no to a pair, with its Dutch label: one list for API and web.

One list (:data:`REDENEN`) for every "no": a consulent declines a pair (a candidate on a vacancy's list,
or a push or zoekopdracht item in the inbox), and a voorstel is closed as ``afgewezen`` (before the
hire) or ``uitgevallen`` (after it), with the same codes and the same Dutch labels, so a consulent
learns one list and a report counts one vocabulary. The API checks the codes against it, documents it
as the enum of every ``reden`` field, and the web forms offer exactly it, labelled with :func:`label`.
Each code is worded so that it fits every decision ("werkgever ziet af" covers an employer who says no,
withdraws the vacancy or does not extend the contract).

**Job-related only.** No code names a protected attribute (gender, age, origin, religion, name,
pregnancy, ...) or health: werkmatch learns from these codes, so a code that exists becomes a
signal, and a health reason would teach the ranker to put people with a beperking lower (the AMAS
failure, trust.md §2.1; WGBH/CZ). What a job cannot ask of a person is ``belastbaarheid``.

**Retired codes** (:data:`RETIRED`) may stand in rows stored before they were withdrawn: ``gezondheid``,
and the finer codes of the separate lists for closing a voorstel (``competenties_onvoldoende``,
``reistijd``, ``overig``, ...) that the one list replaced. They read and show with their label, and are
never offered or accepted.
"""

from __future__ import annotations

from enum import StrEnum


class Reden(StrEnum):
    """A reason code of the one list."""

    PAST_NIET_BIJ_WENSEN = "past_niet_bij_wensen"  # the client does not want this work, or withdraws
    VAARDIGHEDEN = "vaardigheden"  # competences, experience or language level fall short for this job
    REISAFSTAND = "reisafstand"  # distance or travel time
    UREN_WERKTIJDEN = "uren_werktijden"
    BELASTBAARHEID = "belastbaarheid"  # the job's demands do not fit the client's beperkingen
    MOTIVATIE = "motivatie"
    NIET_BESCHIKBAAR = "niet_beschikbaar"  # not available now (course, care duties), or did not turn up
    AL_BEMIDDELD = "al_bemiddeld"  # already placed or proposed elsewhere, or found other work
    VACATURE_VERVULD_DOOR_ANDER = "vacature_vervuld_door_ander"
    WERKGEVER_ZIET_AF = "werkgever_ziet_af"  # says no, withdraws the vacancy, or does not extend the contract
    ANDERS = "anders"  # needs a toelichting


LABELS: dict[str, str] = {
    Reden.PAST_NIET_BIJ_WENSEN: "past niet bij de wensen van de klant, of de klant ziet af",
    Reden.VAARDIGHEDEN: "vaardigheden, ervaring of taalniveau schieten tekort",
    Reden.REISAFSTAND: "reisafstand of reistijd",
    Reden.UREN_WERKTIJDEN: "uren of werktijden",
    Reden.BELASTBAARHEID: "belastbaarheid (eisen van de baan)",
    Reden.MOTIVATIE: "motivatie",
    Reden.NIET_BESCHIKBAAR: "nu niet beschikbaar of niet verschenen",
    Reden.AL_BEMIDDELD: "al bemiddeld of ander werk gevonden",
    Reden.VACATURE_VERVULD_DOOR_ANDER: "vacature vervuld door een ander",
    Reden.WERKGEVER_ZIET_AF: "werkgever ziet af of verlengt niet",
    Reden.ANDERS: "anders",
}
REDENEN: tuple[Reden, ...] = tuple(Reden)
"""The one list, in the order forms offer it: declining a candidate or an inbox item, closing a voorstel."""

RETIRED: dict[str, str] = {
    "gezondheid": "gezondheid (vervallen code, niet meer te kiezen)",
    "competenties_onvoldoende": "competenties onvoldoende",
    "ervaring_onvoldoende": "ervaring onvoldoende",
    "taalniveau": "taalniveau",
    "reistijd": "reistijd",
    "uren_passen_niet": "uren passen niet",
    "werktijden": "werktijden",
    "niet_verschenen": "niet verschenen",
    "werkgever_trekt_in": "werkgever trekt in",
    "klant_trekt_in": "klant trekt in",
    "ander_werk": "ander werk gevonden",
    "contract_niet_verlengd": "contract niet verlengd",
    "overig": "overig",
}
"""Codes stored before they were withdrawn, with the label they read with; never offered, never accepted."""

SITUATIONAL = frozenset(
    {Reden.NIET_BESCHIKBAAR, Reden.AL_BEMIDDELD, Reden.VACATURE_VERVULD_DOOR_ANDER, Reden.WERKGEVER_ZIET_AF}
)
"""Declines that say something about the client's or the vacancy's situation now, not about the pair's fit: recorded and
reported, but no training label (a relevance 0 would teach the ranker that a good pair is bad)."""


def label(code: str) -> str:
    """The Dutch label of any stored code: a current one, a retired one, or else the code in words."""
    return LABELS.get(code) or RETIRED.get(code) or code.replace("_", " ")


def choices(codes: tuple[Reden, ...] = REDENEN) -> list[tuple[str, str]]:
    """``(code, label)`` pairs for a form's options, in the list's order."""
    return [(code.value, LABELS[code]) for code in codes]
