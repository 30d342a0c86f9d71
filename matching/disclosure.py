"""What a candidate list may reveal about clients outside the viewer's own caseload.

A candidate list is shown to people who may not see everything about every candidate: a
werkconsulent sees the full profile (with beperkingen, health data under AVG art. 9) of the own
caseload only; an accountmanager sees nobody in full. A list that merely *hides* a field can still
give it away: two lists for two otherwise identical vacancies, one demanding ``tillen``, differ by
exactly the clients a lifting limitation kept off, and exact distances to a few vacancies pin down a
client's postcode. So the rule is about what shapes a list, not only about what it shows:

1. **Beperkingen of clients outside the viewer's caseload shape nothing.** For those clients the
   list, its order and every count are computed as if they had no beperkingen recorded: no hard
   exclusion for a beperking conflict, and "niet getoond, omdat…" counts beperking conflicts among
   the viewer's own clients only (an accountmanager gets no beperking counts at all). The client's
   own consulent sees the conflict when the candidate reaches them (the warm hand-over) and decides.
   Differencing two lists therefore teaches nothing about anyone's beperkingen.
2. **Location outside the caseload is a band, everywhere.** Distance is shown as one of
   :data:`DISTANCE_BANDS_KM` (never kilometres with a decimal), the explanation names the band
   without travel minutes, the distance signal and its contribution are left out, the score is
   rounded to :data:`OUTSIDER_SCORE_DECIMALS` decimals, and a radius filter (``straalKm``) is
   rounded up to the next band edge for these clients, so narrowing the radius step by step
   cannot measure a distance either.
3. **Identity**: an accountmanager sees a per-list pseudonym instead of the klantnummer
   (``api.services.tokens.pseudonym``, keyed apart from token signing), so two lists cannot be joined;
   so does a werkconsulent for the candidates of another gemeente of the region (:mod:`matching.tenancy`).

Internal callers (evaluation, training) use :data:`EVERYONE`: the full view of every client. People —
through the API, the web UI or the CLI — search as themselves (:mod:`api.services.matches`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Upper edges of the distance bands (km); beyond the last one: "meer dan 50 km".
DISTANCE_BANDS_KM = (5.0, 10.0, 20.0, 50.0)
OUTSIDER_SCORE_DECIMALS = 2


@dataclass(frozen=True)
class Viewer:
    """Whose eyes a search is for: built once per request (:func:`api.services.matches.viewer_for`).

    Attributes:
        caseload: The consulentcode whose clients this viewer sees in full; None for a viewer
            without a caseload (an accountmanager).
        gemeente: The gemeente the viewer works for; None for a regional viewer. A werkconsulent sees
            candidates of another gemeente under a pseudonym (:func:`api.services.matches.for_role`).
        everyone: The full view of every client (internal callers: evaluation, training).
        username: Who asks, for the audit log; None for an internal caller.
        rol: The role they ask in.
        purpose: Why (doelbinding), for the audit log.
    """

    caseload: str | None = None
    gemeente: str | None = None
    everyone: bool = False
    username: str | None = None
    rol: str | None = None
    purpose: str | None = None


EVERYONE = Viewer(everyone=True)
OUTSIDER = Viewer()


def distance_band(km: float) -> str:
    """The Dutch label of the band ``km`` falls in, e.g. ``"5–10 km"``, ``"meer dan 50 km"``."""
    low = 0.0
    for high in DISTANCE_BANDS_KM:
        if km <= high:
            return f"{low:g}–{high:g} km"
        low = high
    return f"meer dan {DISTANCE_BANDS_KM[-1]:g} km"


def radius_for_outsiders(max_km: float) -> float:
    """A radius filter as it applies to clients outside the viewer's caseload: up to the next band edge."""
    for high in DISTANCE_BANDS_KM:
        if max_km <= high:
            return high
    return math.inf
