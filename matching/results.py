"""The typed results of a search, and their JSON: the one place a result becomes a string-keyed object.

The search (:class:`matching.matcher.Matcher`) returns a :class:`CandidateList` or a :class:`VacancyList`;
the API, the web UI and the CLI print ``to_json()`` of it, so ``werkmatch match … --json`` and the API
answer the same object. The keys are Dutch, as every key of the API's JSON (API 1.0.0; 0.1.0 answered
``vacancyId``, ``clientId``, ``results``, ``rank``, ``reasons`` and ``rankedBy``); their order is the order
the API has always answered in. Measurement outputs (``bench search``, ``evaluate``) read the typed
results, never this JSON, and keep their own keys.

What a viewer may not see is never computed (:mod:`matching.disclosure`): :attr:`Explained.kansen`
(the beperking-derived fields) is None for a client outside the viewer's caseload, and its three
keys are then absent from the JSON, as they always were for such a viewer.

Every result carries two numbers (issue 18): ``score``, the one a person reads (0–100, the same for
the pair on every list and in either direction: :mod:`matching.display_score`, with its parts in
``scoreOpbouw``), and ``rangschikkingsscore``, the number that ordered this list (the ranker's, or the
weighted core score; its scale is the model's and shifts per list, so it is not shown on pages).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from matching.display_score import ScoreBreakdown

RANKER_KEYS = {
    "name": "naam",
    "version": "versie",
    "source": "bron",
    "note": "opmerking",
    "aliases": "aliassen",
    "error": "fout",
}


def ranker_json(described: dict[str, Any]) -> dict[str, Any]:
    """A ranker's description (:meth:`matching.ranker.LearnedRanker.describe`) under the API's Dutch keys.

    The description itself keeps its keys: ``werkmatch evaluate --json`` and the registry's evidence
    print it as they always did; only what the API and the web UI show is renamed, here.
    """
    return {RANKER_KEYS.get(key, key): value for key, value in described.items()}


@dataclass(frozen=True)
class IndexInfo:
    """What the search searched: for the inference log (no database count needed), whose stored keys stay."""

    model_id: str
    clients: int  # vectors in the client index
    vacancies: int  # vectors in the vacancy index

    def to_json(self) -> dict[str, Any]:
        return {"modelId": self.model_id, "clients": self.clients, "vacancies": self.vacancies}


@dataclass(frozen=True)
class Kansen:
    """What beperkingen say about one pair: only for a viewer who may see the client's beperkingen."""

    kans_met_aanpassing: bool
    aanpassingen: list[dict[str, Any]]
    aandachtspunten_beperkingen: list[str]


@dataclass(frozen=True)
class Explained:
    """What every shown pair carries, either direction: distance, signals, explanation, kansen, near miss."""

    distance_km: float | None  # None for a viewer outside the client's caseload: the band only
    distance_band: str
    signals: dict[str, float]
    reasons: list[str]
    aandachtspunten: list[str]
    bijdragen: list[dict[str, Any]]
    kansen: Kansen | None  # None: not computed, the viewer may not see this client's beperkingen
    bijna_passend: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "afstandKm": self.distance_km,
            "afstandsklasse": self.distance_band,
            "signalen": self.signals,
            "redenen": self.reasons,
            "aandachtspunten": self.aandachtspunten,
            "bijdragen": self.bijdragen,
        }
        if self.kansen is not None:
            out["kansMetAanpassing"] = self.kansen.kans_met_aanpassing
            out["aanpassingen"] = self.kansen.aanpassingen
            out["aandachtspuntenBeperkingen"] = self.kansen.aandachtspunten_beperkingen
        out["bijnaPassend"] = self.bijna_passend
        return out


@dataclass(frozen=True)
class LeftOut:
    """A client of the viewer's own caseload a hard beperking conflict kept off the list, and why."""

    client_id: str
    redenen: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"klantId": self.client_id, "redenen": self.redenen}


@dataclass(frozen=True)
class NotShown:
    """ "Niet getoond, omdat…": how many each hard filter removed (a record can count more than once).

    ``beperking_onverenigbaar`` is None where beperkingen were counted for nobody the viewer sees;
    ``buiten_filters`` and ``eigen_klanten`` belong to candidate lists (the latter for a viewer with a
    caseload only).
    """

    vacature_niet_open: int
    uren_passen_niet: int
    buiten_reisbereik: int
    werktijden_passen_niet: int
    toelichting: list[str]
    beperking_onverenigbaar: int | None = None
    beperking_per_eis: dict[str, int] | None = None
    buiten_filters: int | None = None
    eigen_klanten: list[LeftOut] | None = None

    def counts(self) -> dict[str, Any]:
        """The counts under their JSON names, in the API's order (what the Dutch sentences are made from)."""
        out: dict[str, Any] = {
            "vacatureNietOpen": self.vacature_niet_open,
            "urenPassenNiet": self.uren_passen_niet,
            "buitenReisbereik": self.buiten_reisbereik,
            "werktijdenPassenNiet": self.werktijden_passen_niet,
        }
        if self.beperking_onverenigbaar is not None:
            out["beperkingOnverenigbaar"] = self.beperking_onverenigbaar
        if self.beperking_per_eis is not None:
            out["beperkingPerEis"] = self.beperking_per_eis
        if self.buiten_filters is not None:
            out["buitenFilters"] = self.buiten_filters
        return out

    def to_json(self) -> dict[str, Any]:
        out = {**self.counts(), "toelichting": self.toelichting}
        if self.eigen_klanten is not None:
            out["eigenKlanten"] = [item.to_json() for item in self.eigen_klanten]
        return out


@dataclass(frozen=True)
class CandidateResult:
    """One client on a vacancy's candidate list.

    ``eigen_klant`` says whether the client is in the viewer's caseload: None where the viewer has no
    caseload (an accountmanager, or an internal caller), and then the JSON leaves the key out.
    """

    rank: int
    ranking_score: float
    display: ScoreBreakdown
    client_id: str
    trede: int
    route: str
    explained: Explained
    datakwaliteit: dict[str, Any]
    ontbrekende_gegevens: list[str]
    eigen_klant: bool | None = None

    @property
    def score(self) -> int:
        """The shown score, 0–100 (:mod:`matching.display_score`)."""
        return self.display.score

    def to_json(self) -> dict[str, Any]:
        out = {
            "rang": self.rank,
            "score": self.display.score,
            "rangschikkingsscore": self.ranking_score,
            "scoreOpbouw": self.display.to_json(),
            "klantId": self.client_id,
            "trede": self.trede,
            "route": self.route,
            **self.explained.to_json(),
            "datakwaliteit": self.datakwaliteit,
            "ontbrekendeGegevens": self.ontbrekende_gegevens,
        }
        if self.eigen_klant is not None:
            out["eigenKlant"] = self.eigen_klant
        return out


@dataclass(frozen=True)
class CandidateList:
    """The best-fitting clients for one vacancy, as one viewer may see them."""

    vacancy_id: str
    titel: str
    advies: str
    ranked_by: dict[str, Any]
    rangschikking: dict[str, Any]
    aantal_geschikt: int
    niet_getoond: NotShown
    results: list[CandidateResult]
    index: IndexInfo = field(compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "vacatureId": self.vacancy_id,
            "titel": self.titel,
            "advies": self.advies,
            "gerangschiktDoor": ranker_json(self.ranked_by),
            "rangschikking": self.rangschikking,
            "aantalGeschikt": self.aantal_geschikt,
            "nietGetoond": self.niet_getoond.to_json(),
            "resultaten": [item.to_json() for item in self.results],
        }


@dataclass(frozen=True)
class VacancyResult:
    """One open vacancy on a client's list of options."""

    rank: int
    ranking_score: float
    display: ScoreBreakdown
    vacancy_id: str
    titel: str
    werkgever: str
    bron: str
    plaatsingsvorm: str
    explained: Explained

    @property
    def score(self) -> int:
        """The shown score, 0–100 (:mod:`matching.display_score`)."""
        return self.display.score

    def to_json(self) -> dict[str, Any]:
        return {
            "rang": self.rank,
            "score": self.display.score,
            "rangschikkingsscore": self.ranking_score,
            "scoreOpbouw": self.display.to_json(),
            "vacatureId": self.vacancy_id,
            "titel": self.titel,
            "werkgever": self.werkgever,
            "bron": self.bron,
            "plaatsingsvorm": self.plaatsingsvorm,
            **self.explained.to_json(),
        }


@dataclass(frozen=True)
class VacancyList:
    """The best-fitting open vacancies for one client (the options at intake)."""

    client_id: str
    advies: str
    ranked_by: dict[str, Any]
    ontbrekende_gegevens: list[str]
    datakwaliteit: dict[str, Any]
    aantal_geschikt: int
    niet_getoond: NotShown
    results: list[VacancyResult]
    index: IndexInfo = field(compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "klantId": self.client_id,
            "advies": self.advies,
            "gerangschiktDoor": ranker_json(self.ranked_by),
            "ontbrekendeGegevens": self.ontbrekende_gegevens,
            "datakwaliteit": self.datakwaliteit,
            "aantalGeschikt": self.aantal_geschikt,
            "nietGetoond": self.niet_getoond.to_json(),
            "resultaten": [item.to_json() for item in self.results],
        }
