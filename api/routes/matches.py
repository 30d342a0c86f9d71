"""Matches over HTTP: candidates for a vacancy, vacancies for a client. Who sees what: :mod:`api.services.matches`.

======  ================================  ===========================  ======================
method  path                              roles                        status codes
======  ================================  ===========================  ======================
POST    ``/api/v1/matches/kandidaten``    werkconsulent, accountmanager  200, 400, 401, 403, 404
POST    ``/api/v1/matches/vacatures``     werkconsulent                200, 400, 401, 403, 404
======  ================================  ===========================  ======================

The routes parse, authenticate and answer; the search, the role cut and the audit entry are the
service's. A token the CLI minted (``werkmatch match …`` against a running service) carries
``via: cli`` and the operator's OS user; both go into the audit entry.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from api import problems
from api.deps import Consulent, MatcherDep, Searcher, SettingsDep
from api.routes.common import origin
from api.routes.modellen import Rangschikker
from api.services import matches
from matching.hard_filters import CandidateFilters
from matching.vocab import Plaatsingsvorm, Route

router = APIRouter(prefix="/api/v1/matches")

PURPOSE = Field(
    matches.DEFAULT_PURPOSE, min_length=3, max_length=200, description="doel van de opvraging (doelbinding)"
)


class CandidateSearch(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
    vacature_id: str = Field(min_length=1, max_length=64, description="vacaturenummer")
    top: int = Field(20, ge=1, le=500)
    doel: str = PURPOSE
    straal_km: float | None = Field(None, gt=0, le=500, description="alleen kandidaten binnen deze afstand")
    trede: list[int] | None = Field(None, min_length=1, max_length=6, description="alleen deze treden (0-5)")
    route: list[Route] | None = Field(None, min_length=1, max_length=3, description="alleen deze routes")
    min_uren: float | None = Field(
        None, ge=0, le=60, description="de klant kan minstens zoveel uur per week werken binnen de uren van de vacature"
    )
    plaatsingsvorm: list[Plaatsingsvorm] | None = Field(
        None,
        min_length=1,
        max_length=11,
        description="kandidaten voor wie een van deze plaatsingsvormen bij hun route past",
    )
    hele_bestand: bool = Field(False, description="ook klanten buiten hun eigen reiswens (uren en werktijden tellen)")
    alleen_eigen_klanten: bool = Field(
        False,
        description="alleen klanten uit de eigen caseload (werkconsulent), gefilterd vóór de top wordt gekozen; "
        "zonder eigen caseload 400",
    )

    @field_validator("trede")
    @classmethod
    def _trede_range(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and any(not 0 <= item <= 5 for item in value):
            raise ValueError("trede loopt van 0 tot en met 5")
        return value

    def query(self) -> matches.CandidateQuery:
        """The request as the matches service takes it (the filters also as named, for the inference log)."""
        filters = CandidateFilters(
            max_km=self.straal_km,
            trede=frozenset(self.trede) if self.trede else None,
            route=frozenset(str(route) for route in self.route) if self.route else None,
            min_hours=self.min_uren,
            plaatsingsvorm=frozenset(str(vorm) for vorm in self.plaatsingsvorm) if self.plaatsingsvorm else None,
            whole_bestand=self.hele_bestand,
            own_only=self.alleen_eigen_klanten,
        )
        named = self.model_dump(mode="json", by_alias=True, exclude={"vacature_id", "top", "doel"}, exclude_none=True)
        return matches.CandidateQuery(self.vacature_id, self.top, self.doel, filters, named)


class VacancySearch(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
    klant_id: str = Field(min_length=1, max_length=64, description="pseudoniem klantnummer")
    top: int = Field(20, ge=1, le=500)
    doel: str = PURPOSE

    def query(self) -> matches.VacancyQuery:
        return matches.VacancyQuery(self.klant_id, self.top, self.doel)


# ---------------------------------------------------------------------------------------- answers
class Uit(BaseModel):
    """The JSON the search answers (:mod:`matching.results`), described: Dutch keys, camelCase."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


class MatchBijdrage(Uit):
    kenmerk: str
    label: str
    bijdrage: float = Field(description="hoeveel dit kenmerk de score bewoog, tegen het gemiddelde paar")


class MatchScoreOnderdeel(Uit):
    kenmerk: str
    label: str
    punten: int = Field(description="procentpunten die dit onderdeel bij de kans optelt (negatief: aftrekt)")


class MatchScoreOpbouw(Uit):
    """How the shown score is built: startpunt plus the parts (matching.display_score)."""

    startpunt: int = Field(description="de kans op aanname (%) van een paar dat op elk onderdeel gemiddeld is")
    onderdelen: list[MatchScoreOnderdeel]
    niet_getoond: list[str] = Field(description="telt mee, niet getoond (buiten de caseload)")
    niet_getoond_punten: int = Field(description="de punten van die onderdelen samen")


class MatchAanpassing(Uit):
    aspect: str
    status: str
    tekst: str
    oplossingen: list[str]


class MatchBijnaPassend(Uit):
    ontbreekt: list[dict[str, Any]]
    advies: list[str]


class MatchKwaliteit(Uit):
    score: float
    status: str
    signalen: list[str]
    volledigheid: float
    versheid: float
    dagen_sinds_update: int = Field(alias="dagenSindsWijziging")


class MatchPaar(Uit):
    """What every shown pair carries: distance, signals, reasons, kansen (beperkingen: own caseload only)."""

    rang: int
    score: int = Field(
        ge=0,
        le=100,
        description="de kans op aanname van dit paar in hele procenten (0–100): dezelfde op elke lijst en in beide "
        "richtingen",
    )
    rangschikkingsscore: float = Field(
        description="waarop deze lijst is gerangschikt (ranker of gewogen score); de schaal verschilt per lijst"
    )
    score_opbouw: MatchScoreOpbouw
    afstand_km: float | None = Field(description="leeg buiten de eigen caseload: dan alleen de afstandsklasse")
    afstandsklasse: str
    signalen: dict[str, float]
    redenen: list[str]
    aandachtspunten: list[str]
    bijdragen: list[MatchBijdrage]
    kans_met_aanpassing: bool | None = Field(None, description="alleen bij een klant uit de eigen caseload")
    aanpassingen: list[MatchAanpassing] | None = Field(None, description="alleen bij een klant uit de eigen caseload")
    aandachtspunten_beperkingen: list[str] | None = Field(
        None, description="alleen bij een klant uit de eigen caseload"
    )
    bijna_passend: MatchBijnaPassend | None


class MatchKandidaat(MatchPaar):
    klant_id: str = Field(description="klantnummer, of voor een accountmanager een pseudoniem per lijst")
    trede: int
    route: str
    datakwaliteit: MatchKwaliteit
    ontbrekende_gegevens: list[str]
    eigen_klant: bool | None = Field(None, description="voor een werkconsulent: klant uit de eigen caseload")


class MatchEigenKlant(Uit):
    klant_id: str
    redenen: list[str]


class MatchNietGetoond(Uit):
    vacature_niet_open: int
    uren_passen_niet: int
    buiten_reisbereik: int
    werktijden_passen_niet: int
    beperking_onverenigbaar: int | None = None
    beperking_per_eis: dict[str, int] | None = None
    buiten_filters: int | None = None
    toelichting: list[str]
    eigen_klanten: list[MatchEigenKlant] | None = None


class MatchRangschikking(Uit):
    modus: str = Field(description="model of transparant")
    blootstelling_sterkte: float


class MatchKandidaten(Uit):
    vacature_id: str
    titel: str
    advies: str
    gerangschikt_door: Rangschikker
    rangschikking: MatchRangschikking
    aantal_geschikt: int
    niet_getoond: MatchNietGetoond
    resultaten: list[MatchKandidaat]


class MatchVacature(MatchPaar):
    vacature_id: str
    titel: str
    werkgever: str
    bron: str
    plaatsingsvorm: str


class MatchVacatures(Uit):
    klant_id: str
    advies: str
    gerangschikt_door: Rangschikker
    ontbrekende_gegevens: list[str]
    datakwaliteit: MatchKwaliteit
    aantal_geschikt: int
    niet_getoond: MatchNietGetoond
    resultaten: list[MatchVacature]


def trace(request: Request) -> matches.Trace:
    """The request's correlation id and, for a token the CLI minted, the operator's OS user."""
    return matches.Trace(request.state.request_id, origin(request))


@router.post("/kandidaten", response_model=MatchKandidaten, responses=problems.documented(401, 403, 404))
def candidates(
    search: CandidateSearch, matcher: MatcherDep, settings: SettingsDep, user: Searcher, request: Request
) -> JSONResponse:
    """Kandidaten voor een vacature (advies aan de consulent, geen besluit)."""
    listing = matches.candidate_listing(settings, matcher, user, search.query(), trace(request))
    # Already plain JSON values: FastAPI's encoder would walk the ≈ 40 KB list again (≈ 5 ms of CPU).
    return JSONResponse(listing)


@router.post("/vacatures", response_model=MatchVacatures, responses=problems.documented(401, 403, 404))
def vacancies(
    search: VacancySearch, matcher: MatcherDep, settings: SettingsDep, user: Consulent, request: Request
) -> JSONResponse:
    """Passende vacatures voor een klant uit de eigen caseload (opties bij intake)."""
    return JSONResponse(matches.vacancy_listing(settings, matcher, user, search.query(), trace(request)))
