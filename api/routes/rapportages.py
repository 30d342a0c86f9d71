"""Reports on how the advice is used, over HTTP: ``GET /api/v1/rapportages/afwijkingen``.

For the beheerder and the data scientist: how often consulenten deviate from the ranking
(:func:`api.services.oversight.report_for_days`). The data scientist gets the consulenten as
pseudonyms (``P-…``, stable across reports): the report is about how the model is used, and
per-person figures about employees are a personeelsvolgsysteem (WOR art. 27(1)(l)) that only the
beheerder, who follows up, needs by name.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import Field

from api.deps import MatcherDep, Toezicht
from api.routes.common import Uitvoer
from api.routes.werkproces import RESPONSES, actor
from api.services import oversight

router = APIRouter(prefix="/api/v1", tags=["werkproces"], responses=RESPONSES)


class Rangklasse(Uitvoer):
    rang: str = Field(description="1, 2-3, 4-10, >10 of 'niet in getoonde lijst'")
    aantal: int
    aandeel: float | None = Field(description="deel van het totaal (0-1); leeg bij 0 beslissingen")


class Telling(Uitvoer):
    code: str
    aantal: int


class Aandeel(Uitvoer):
    aantal: int
    aandeel: float | None


class VoorstelCijfers(Uitvoer):
    aantal: int
    via_inbox: int = Field(description="voorstellen uit een geaccepteerde push of zoekopdracht")
    rang: list[Rangklasse] = Field(description="plaats in de hele getoonde lijst")
    eigen_rang: list[Rangklasse] = Field(description="plaats tussen de klanten van de eigen caseload in die lijst")
    redenen: list[Telling]


class AfwijzingCijfers(Uitvoer):
    aantal: int
    rang: list[Rangklasse]
    eigen_rang: list[Rangklasse]
    redenen: list[Telling]


class LijstCijfers(Uitvoer):
    aantal: int = Field(description="getoonde lijsten waarop beslist is")
    top3_gepasseerd: Aandeel = Field(description="een lagere eigen kandidaat voorgesteld, een uit de eigen top 3 niet")
    top3_afgewezen: Aandeel = Field(description="een kandidaat uit de eigen top 3 afgewezen")


class Afwijkingen(Uitvoer):
    beslissingen: int
    voorstellen: VoorstelCijfers
    afwijzingen: AfwijzingCijfers
    lijsten: LijstCijfers
    signalen: list[str]


class AfwijkingenConsulent(Afwijkingen):
    consulent: str = Field(description="gebruikersnaam; een pseudoniem (P-...) voor de data scientist")


class Drempels(Uitvoer):
    minimum_beslissingen: int
    volgt_rangorde_vanaf: float
    top3_nuttig_vanaf: float
    zonder_reden_vanaf: float


class AfwijkingsRapport(Uitvoer):
    vanaf: date
    tot: date = Field(description="tot en met")
    totaal: Afwijkingen
    per_consulent: list[AfwijkingenConsulent]
    drempels: Drempels


@router.get("/rapportages/afwijkingen", response_model=AfwijkingsRapport)
def deviation_report(
    matcher: MatcherDep,
    user: Toezicht,
    request: Request,
    vanaf: Annotated[date | None, Query(description="eerste dag (standaard 4 weken vóór 'tot')")] = None,
    tot: Annotated[date | None, Query(description="laatste dag, tot en met (standaard vandaag)")] = None,
) -> dict[str, Any]:
    """Hoe vaak consulenten afwijken van de rangorde: plaats van voorgestelde en afgewezen kandidaten, redenen.

    Voor beheerder en data scientist. Een heel laag afwijkingspercentage is een waarschuwing
    (worden lijsten echt beoordeeld?), een heel hoog een vraag aan het model. De data scientist
    ziet consulenten als pseudoniem.
    """
    who = actor(user, request, "toezicht op het gebruik van de rangorde")
    return oversight.report_for_days(matcher.engine, request.app.state.settings, who, vanaf, tot)
