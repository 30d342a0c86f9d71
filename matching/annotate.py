"""What a shown (client, vacancy) pair carries besides its rank: explanation, kansen, near misses.

:mod:`matching.matcher` ranks; this module turns a ranked pair into what a consulent reads:

* ``reasons`` / ``aandachtspunten`` / ``bijdragen`` from the ranker's own contributions
  (:mod:`matching.explain`);
* ``aanpassingen`` and ``kansMetAanpassing`` from the compatibility table (:mod:`matching.compatibility`),
  with ``aandachtspuntenBeperkingen`` as their sentences — beperking-derived, so they are computed
  only for a viewer who may see the client's beperkingen (:mod:`matching.disclosure`);
* ``bijnaPassend``: one or two missing requirements and how to close them (:mod:`matching.development`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from sqlmodel import Session, select

from matching import compatibility, development, disclosure
from matching.compatibility import Status
from matching.domain import Client, Vacancy
from matching.explain import FEATURE_GROUP, SIGNAL_GROUP, PairFacts, explain_pair, group_contributions
from matching.features import FEATURE_NAMES
from matching.lookup import in_chunks
from matching.results import Explained, Kansen, LeftOut, NotShown
from matching.scoring import weighted_terms
from matching.settings import RetrievalSettings
from matching.taxonomy import Taxonomy
from matching.vocab import ASPECTS

# What measures a client's distance: left out for a viewer outside the caseload (matching.disclosure).
LOCATION_SIGNALS = frozenset({"distance"})
LOCATION_GROUPS = frozenset({"reis"})


def grouped_contributions(contributions: np.ndarray, names: tuple[str, ...] = FEATURE_NAMES) -> list[dict[str, float]]:
    """Per row of the ranker's per-input contributions (:meth:`LearnedRanker.contributions`, columns ``names``: its
    ``feature_names``): its sum per group.

    The rows are read as Python floats once (``tolist``), the same values ``float`` of each element gives.
    """
    return [group_contributions(dict(zip(names, row, strict=True)), FEATURE_GROUP) for row in contributions.tolist()]


def weighted_contributions(
    signals: dict[str, np.ndarray], weights: RetrievalSettings, positions: np.ndarray
) -> list[dict[str, float]]:
    """Per shown position: each weighted term minus its pool average, summed per group."""
    if len(positions) == 0:  # an empty pool has no average (numpy would warn "Mean of empty slice")
        return []
    terms = weighted_terms(signals, weights)
    centred = {name: values - values.mean() for name, values in terms.items()}
    return [
        group_contributions({name: float(values[position]) for name, values in centred.items()}, SIGNAL_GROUP)
        for position in positions
    ]


@dataclass(frozen=True, slots=True)
class PairParts:
    """What a shown pair carries that the ranker's contributions do not shape: kansen and the near miss."""

    kansen: Kansen | None
    bijna_passend: dict[str, Any] | None


def pair_parts(client: Client, vacancy: Vacancy, taxonomy: Taxonomy, beperkingen: bool = True) -> PairParts:
    """The pair's kansen (only for a viewer who may see the beperkingen) and near miss (:func:`explained`)."""
    near = development.near_miss(client, vacancy, taxonomy)
    return PairParts(
        kansen=kansen(client, vacancy) if beperkingen else None,
        bijna_passend=near.to_json() if near is not None else None,
    )


def explained(
    client: Client,
    vacancy: Vacancy,
    contributions: dict[str, float],
    facts: PairFacts,
    signals: dict[str, float],
    taxonomy: Taxonomy,
    beperkingen: bool = True,
    parts: PairParts | None = None,
) -> Explained:
    """What every shown pair carries, either side of the search: distance, signals, explanation, kansen.

    Args:
        beperkingen: The viewer may see this client's beperkingen; otherwise the kansen (derived from
            them) are not computed at all.
        parts: :func:`pair_parts` of the pair when already made (a search makes them while the shown
            rows' contributions are computed); default: made here.
    """
    explanation = explain_pair(client, vacancy, contributions, facts, taxonomy)
    banded = facts.distance_band is not None  # a viewer outside the caseload (matching.disclosure, rule 2)
    parts = parts if parts is not None else pair_parts(client, vacancy, taxonomy, beperkingen)
    return Explained(
        distance_km=None if banded else round(facts.distance_km, 1),
        distance_band=disclosure.distance_band(facts.distance_km),
        signals={name: round(value, 4) for name, value in signals.items() if not (banded and name in LOCATION_SIGNALS)},
        reasons=explanation.reasons,
        aandachtspunten=explanation.aandachtspunten,
        bijdragen=[item for item in explanation.bijdragen if not (banded and item["kenmerk"] in LOCATION_GROUPS)],
        kansen=parts.kansen,
        bijna_passend=parts.bijna_passend,
    )


def offered_by(vacancy: Vacancy) -> frozenset[str]:
    return compatibility.offered(
        vacancy.jobcarving, vacancy.jobcoach, vacancy.plaatsingsvorm in compatibility.GUIDED_FORMS
    )


def kansen(client: Client, vacancy: Vacancy) -> Kansen:
    """What the client's beperkingen mean for this vacancy: conflicts, what closes them, the sentences."""
    aanpassingen = compatibility.pair_aanpassingen(client.beperkingen, vacancy.belasting, offered_by(vacancy))
    return Kansen(
        kans_met_aanpassing=any(item.status in (Status.GEACCOMMODEERD, Status.AANPASSING) for item in aanpassingen),
        aanpassingen=[item.to_json() for item in aanpassingen],
        aandachtspunten_beperkingen=[item.tekst() for item in aanpassingen],
    )


def own_left_out(session: Session, client_ids: list[int], caseload: str, vacancy: Vacancy) -> list[LeftOut]:
    """Of the clients a hard conflict kept off ``vacancy``'s list, those of ``caseload``, with the reasons."""
    offered = offered_by(vacancy)
    left_out = []
    for chunk in in_chunks(client_ids):
        statement = select(Client).where(Client.id.in_(chunk), Client.consulent == caseload)  # type: ignore[union-attr]
        for client in session.exec(statement):
            conflicts = compatibility.pair_aanpassingen(client.beperkingen, vacancy.belasting, offered)
            reasons = [item.tekst() for item in conflicts if item.status == Status.HARD]
            left_out.append(LeftOut(client.client_nummer, reasons))
    return sorted(left_out, key=lambda item: item.client_id)


def not_shown(
    counts: dict[str, int],
    side: str,
    *,
    hard: int | None = None,
    per_aspect: dict[str, int] | None = None,
    outside_filters: int | None = None,
    per_filter: dict[str, int] | None = None,
    empty: bool = False,
    own: list[LeftOut] | None = None,
    beperking_side: str | None = None,
) -> NotShown:
    """The "niet getoond, omdat…" of one list, with its Dutch sentences.

    Args:
        counts: :func:`matching.hard_filters.excluded_counts` of the search.
        side: "klanten" or "vacatures".
        hard: How many a hard beperking conflict left out; None where beperkingen were counted for
            nobody the viewer sees.
        per_aspect: Of those, how many per aspect (counts only, per demand: no person named).
        outside_filters: How many the consulent's filters left out (candidate lists).
        per_filter: Per filter (API name), how many the hard filters kept and that filter left out:
            the sentence names them, and says so when they emptied the list (``empty``).
        empty: Nothing was left to show.
        own: The viewer's own clients among the hard conflicts, with the reasons.
        beperking_side: How the beperking sentence names whom it counts (see :func:`explain_not_shown`).
    """
    per_eis = None if per_aspect is None else {ASPECTS[a][1]: count for a, count in sorted(per_aspect.items())}
    shown = NotShown(
        vacature_niet_open=counts["vacatureNietOpen"],
        uren_passen_niet=counts["urenPassenNiet"],
        buiten_reisbereik=counts["buitenReisbereik"],
        werktijden_passen_niet=counts["werktijdenPassenNiet"],
        toelichting=[],
        beperking_onverenigbaar=hard,
        beperking_per_eis=per_eis,
        buiten_filters=outside_filters,
        eigen_klanten=own,
    )
    sentences = explain_not_shown(shown.counts(), side, beperking_side)
    return replace(shown, toelichting=sentences + filter_sentences(per_filter or {}, side, empty))


FILTER_NAMES = {
    "straalKm": "de straal",
    "trede": "de trede",
    "route": "de route",
    "minUren": "het minimum aantal uren per week",
    "plaatsingsvorm": "de plaatsingsvorm",
    "alleenEigenKlanten": "alleen eigen klanten",
}


SINGULAR = {"klanten": "klant", "vacatures": "vacature"}


def counted(count: int, side: str) -> str:
    """``"1 klant"``, ``"3 klanten"``: a count with the noun in the right number."""
    return f"{count} {SINGULAR.get(side, side) if count == 1 else side}"


def filter_sentences(per_filter: dict[str, int], side: str, empty: bool) -> list[str]:
    """Which of the consulent's filters left out whom, by name; when they emptied the list, that they did."""
    named = [f"{FILTER_NAMES[name]} {counted(count, side)}" for name, count in per_filter.items() if count]
    if not named:
        return []
    parts = ", ".join(named)
    if not empty:
        return [f"Per filter weggelaten: {parts}."]
    lift = "zet dat filter ruimer of uit" if len(named) == 1 else "zet die filters ruimer of uit"
    return [f"De lijst is leeg door de gekozen filters ({parts}); {lift} om {side} te zien."]


def explain_not_shown(counts: dict[str, Any], side: str, beperking_side: str | None = None) -> list[str]:
    """Dutch sentences for the "niet getoond, omdat…" summary.

    Args:
        counts: The summary's counts.
        side: "klanten" or "vacatures".
        beperking_side: How the beperking sentence names whom it counts (default ``side``), e.g.
            "klanten uit uw eigen caseload" when only the viewer's own clients were checked.
    """
    texts = {
        "vacatureNietOpen": "{n} vacatures zijn niet open.",
        "urenPassenNiet": "Bij {n} " + side + " passen de uren niet.",
        "buitenReisbereik": "{n} " + side + " liggen buiten het reisbereik van de klant.",
        "werktijdenPassenNiet": "Bij {n} " + side + " passen de werktijden niet.",
        "beperkingOnverenigbaar": (
            "Bij {n} " + (beperking_side or side) + " vraagt het werk iets wat de klant door een beperking niet kan, "
            "en biedt de vacature geen aanpassing die dat oplost."
        ),
        "buitenFilters": "{n} " + side + " vallen buiten de gekozen filters.",
    }
    return [template.format(n=counts[key]) for key, template in texts.items() if counts.get(key)]
