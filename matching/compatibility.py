"""Beperkingen against vacancy demands: one documented table, read as kansen, not exclusions.

A beperking (``aspect``, ernst 1–3) and a vacancy demand (``belasting``: the same ``aspect``, niveau
1–3) share one vocabulary (:data:`matching.vocab.ASPECTS`). For each aspect the vacancy demands,
the *conflict* is ``max(0, ernst + niveau - 3)``: 0 (no conflict), 1–2 (partial) or 3 (ernst 3 "kan
dit niet" against niveau 3 "vraagt dit veel"). What the pair becomes:

=================  ==============================================================  ==================
status             when                                                            shown?
=================  ==============================================================  ==================
``geen``           no conflict on any demanded aspect                              yes
``geaccommodeerd`` every conflict is on an aspect a remedy *the vacancy offers*    yes, "kans met
                   closes (its jobcarving, its jobcoach, a guided plaatsingsvorm)  aanpassing"
``aanpassing``     a conflict no offered remedy closes, but one that can be        yes, "kans met
                   arranged does (table below), and it is not a full conflict      aanpassing" + the
                                                                                   remedies to arrange
``hard``           a full conflict (3) that nothing the vacancy offers closes      no: counted in
                                                                                   "niet getoond,
                                                                                   omdat…"
=================  ==============================================================  ==================

A full conflict can still be closed by a remedy the vacancy offers (jobcarving takes the heavy lifting
away), which is exactly what "accommodates" means. :data:`REMEDIES` lists, per aspect, what can close
a conflict — in the order a consulent would try them.

Beperkingen never enter the learned ranker (:mod:`matching.features`): health data is a constraint
with a stated reason here, not a learned feature, so a beperking never lowers anyone's score
(behavioural test in ``tests/matching/test_compatibility.py``). The texts this module writes name the demand
("werk vraagt zwaar tillen"), so only roles that may see beperkingen receive them (the API cuts them).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np

from matching.vocab import ASPECTS, Plaatsingsvorm

ASPECT_NAMES: tuple[str, ...] = tuple(ASPECTS)


# The remedies, as consulenten name them.
JOBCARVING = "jobcarving"
JOBCOACH = "jobcoach"
WERKPLEK = "aangepaste werkplek"
MINDER_UREN = "minder uren"
VASTE_TIJDEN = "vaste werktijden"
BEGELEID = "begeleid of beschut werk via Scalabor"
TAALTRAJECT = "taaltraject op de werkvloer"

# Per aspect: the remedies that can close a conflict, most usual first.
REMEDIES: dict[str, tuple[str, ...]] = {
    "tillen": (JOBCARVING, WERKPLEK),
    "staan": (WERKPLEK, JOBCARVING, MINDER_UREN),
    "lopen": (JOBCARVING, WERKPLEK),
    "bukken": (WERKPLEK, JOBCARVING),
    "buitenwerk": (JOBCARVING,),
    "prikkels": (JOBCOACH, WERKPLEK, BEGELEID, MINDER_UREN),
    "tijdsdruk": (JOBCOACH, JOBCARVING, MINDER_UREN, BEGELEID),
    "klantcontact": (JOBCARVING, JOBCOACH),
    "wisselende_taken": (JOBCOACH, JOBCARVING, BEGELEID),
    "complexiteit": (JOBCARVING, JOBCOACH, BEGELEID),
    "zelfstandigheid": (JOBCOACH, BEGELEID),
    "machines": (JOBCARVING, WERKPLEK),
    "stoffen": (WERKPLEK, JOBCARVING),
    "onregelmatige_tijden": (VASTE_TIJDEN, MINDER_UREN),
    "taal": (JOBCOACH, TAALTRAJECT),
}
if set(REMEDIES) != set(ASPECTS):  # the table must cover the vocabulary exactly
    raise RuntimeError(f"compatibility.REMEDIES misses {set(ASPECTS) - set(REMEDIES)} or has extra aspects")

# Plaatsingsvormen that come with begeleiding on the work floor (Scalabor's guided forms).
GUIDED_FORMS = frozenset({Plaatsingsvorm.BESCHUT_WERK, Plaatsingsvorm.BEGELEID_WERKEN, Plaatsingsvorm.DAGBESTEDING})
FULL_CONFLICT = 3


class Status(IntEnum):
    """Worst-first comparable: the pair's status is the maximum over its aspects."""

    GEEN = 0
    GEACCOMMODEERD = 1
    AANPASSING = 2
    HARD = 3

    @property
    def code(self) -> str:
        return ("geen", "geaccommodeerd", "aanpassing", "hard")[self]


def offered(jobcarving: bool, jobcoach: bool, guided: bool) -> frozenset[str]:
    """The remedies a vacancy itself offers (``guided``: its plaatsingsvorm is in :data:`GUIDED_FORMS`)."""
    have = set()
    if jobcarving:
        have.add(JOBCARVING)
    if jobcoach:
        have.add(JOBCOACH)
    if guided:
        have.add(BEGELEID)
    return frozenset(have)


_CLOSED_BY = {
    remedy: np.array([remedy in REMEDIES[aspect] for aspect in ASPECT_NAMES], bool)
    for remedy in (JOBCARVING, JOBCOACH, BEGELEID)
}


def accommodated(jobcarving: np.ndarray, jobcoach: np.ndarray, guided: np.ndarray) -> np.ndarray:
    """(m, len(ASPECTS)): per vacancy and aspect, does a remedy the vacancy offers close a conflict there."""
    return (
        (np.asarray(jobcarving, bool)[:, None] & _CLOSED_BY[JOBCARVING][None, :])
        | (np.asarray(jobcoach, bool)[:, None] & _CLOSED_BY[JOBCOACH][None, :])
        | (np.asarray(guided, bool)[:, None] & _CLOSED_BY[BEGELEID][None, :])
    )


def statuses(ernst: np.ndarray, niveau: np.ndarray, closed: np.ndarray) -> np.ndarray:
    """Vectorised status (:class:`Status` values, int8) per pair, worst aspect first.

    Broadcasts over pairs: many clients against one vacancy (``ernst`` (n, A), ``niveau`` and ``closed``
    (A,)) or one client against many vacancies (``ernst`` (A,), ``niveau`` and ``closed`` (m, A)).

    Args:
        ernst: ernst per aspect, 0 where the client has no beperking on it.
        niveau: the vacancy's demand per aspect, 0 where it demands nothing.
        closed: per aspect, does a remedy the vacancy offers close a conflict (:func:`accommodated`).
    """
    ernst = np.atleast_2d(np.asarray(ernst, np.int16))
    niveau = np.atleast_2d(np.asarray(niveau, np.int16))
    points = np.where(niveau > 0, np.maximum(ernst + niveau - 3, 0), 0)
    unaccommodated = np.where(points >= FULL_CONFLICT, Status.HARD, Status.AANPASSING)
    conflict = np.where(np.atleast_2d(closed), Status.GEACCOMMODEERD, unaccommodated)
    per_aspect = np.where(points == 0, Status.GEEN, conflict)
    return per_aspect.max(axis=1, initial=Status.GEEN).astype(np.int8)


@dataclass(frozen=True)
class Aanpassing:
    """One conflicting aspect of a shown pair and what closes it."""

    aspect: str
    status: Status
    oplossingen: tuple[str, ...]  # remedies that close it: offered ones first

    def tekst(self) -> str:
        demand = ASPECTS[self.aspect][1]
        if self.status == Status.GEACCOMMODEERD:
            return f"Werk vraagt {demand}; de vacature biedt {self.oplossingen[0]}, dat sluit aan bij de beperking."
        if self.status == Status.HARD:
            return f"Werk vraagt {demand}; de klant kan dit niet en de vacature biedt geen passende aanpassing."
        return (
            f"Kans met aanpassing: werk vraagt {demand}; bespreek {' of '.join(self.oplossingen[:2])} met de werkgever."
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "aspect": self.aspect,
            "status": self.status.code,
            "tekst": self.tekst(),
            "oplossingen": list(self.oplossingen),
        }


def pair_aanpassingen(
    beperkingen: list[dict[str, Any]], belasting: list[dict[str, Any]], remedies: frozenset[str]
) -> list[Aanpassing]:
    """The conflicting aspects of one (client, vacancy) pair, worst first, with their remedies."""
    demands = {item["aspect"]: int(item["niveau"]) for item in belasting}
    worst: dict[str, int] = {}
    for item in beperkingen:
        aspect = item.get("aspect")
        if aspect in demands and aspect in REMEDIES:
            worst[aspect] = max(worst.get(aspect, 0), int(item.get("ernst", 0)))
    found = []
    for aspect, ernst in worst.items():
        points = max(ernst + demands[aspect] - 3, 0)
        if points == 0:
            continue
        closing = tuple(remedy for remedy in REMEDIES[aspect] if remedy in remedies)
        if closing:
            status = Status.GEACCOMMODEERD
        elif points >= FULL_CONFLICT:
            status = Status.HARD
        else:
            status = Status.AANPASSING
        ordered = closing + tuple(remedy for remedy in REMEDIES[aspect] if remedy not in closing)
        found.append(Aanpassing(aspect, status, ordered))
    return sorted(found, key=lambda item: (-item.status, ASPECT_NAMES.index(item.aspect)))


def hard_reason_counts(ernst: np.ndarray, niveau: np.ndarray, closed: np.ndarray, rows: np.ndarray) -> dict[str, int]:
    """For the hard-excluded client ``rows`` of one vacancy: how many on each aspect (a client can count twice)."""
    if len(rows) == 0:
        return {}
    points = np.maximum(ernst[rows].astype(np.int16) + niveau.astype(np.int16)[None, :] - 3, 0)
    full = (points >= FULL_CONFLICT) & (niveau > 0)[None, :] & ~closed[None, :]
    counts = full.sum(axis=0)
    return {ASPECT_NAMES[column]: int(counts[column]) for column in np.flatnonzero(counts)}
