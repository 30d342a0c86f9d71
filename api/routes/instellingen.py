"""The kill switch: switch the whole service to the transparent rule-based ranking, without a restart.

======  ======================================  ==========================  ====================
method  path                                    roles                       status codes
======  ======================================  ==========================  ====================
GET     ``/api/v1/instellingen/rangschikking``  beheerder, data_scientist   200, 401, 403
PUT     ``/api/v1/instellingen/rangschikking``  beheerder, data_scientist   200, 400, 401, 403
======  ======================================  ==========================  ====================

``modus`` ``transparant`` orders every candidate list by the weighted score of
:mod:`matching.scoring` (which a consulent can follow term by term) and switches the exposure-aware
re-ranking off; ``model`` puts the learned ranker back. Every process reads the switch from the
database at its next search (:mod:`matching.oversight_state`). A reason is required; the change is
written to the audit log (``rangschikking_omgezet``) and kept on the setting (who, when, why).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from api import problems
from api.deps import MatcherDep, Toezicht
from api.routes.werkproces import actor
from api.services import oversight
from matching.matcher import Matcher

router = APIRouter(prefix="/api/v1/instellingen", tags=["toezicht"], responses=problems.documented(401, 403))


class Rangschikking(BaseModel):
    modus: Literal["model", "transparant"] = Field(description="model: het geleerde model; transparant: de regels")
    reden: str = Field(min_length=3, max_length=1000, description="waarom de rangschikking wordt omgezet")

    model_config = ConfigDict(extra="forbid")


class RangschikkingStand(BaseModel):
    modus: str = Field(description="model of transparant")
    bron: str = Field(description="database (omgezet) of de instelling WERKMATCH_RANKER__MODE")
    gewijzigd_door: str | None = Field(None, alias="gewijzigdDoor")
    gewijzigd_op: str | None = Field(None, alias="gewijzigdOp")
    reden: str | None = None
    blootstelling_sterkte: float = Field(alias="blootstellingSterkte", description="sterkte van de spreiding")

    model_config = ConfigDict(populate_by_name=True)


def _state(matcher: Matcher) -> RangschikkingStand:
    return RangschikkingStand.model_validate(
        {**matcher.ranking_mode(), "blootstellingSterkte": matcher.settings.ranker.exposure_strength}
    )


@router.get("/rangschikking", response_model=RangschikkingStand, response_model_by_alias=True)
def read_ranking_mode(matcher: MatcherDep, _user: Toezicht) -> RangschikkingStand:
    """Hoe kandidatenlijsten nu gerangschikt worden: met het model of transparant (noodstop)."""
    return _state(matcher)


@router.put(
    "/rangschikking",
    response_model=RangschikkingStand,
    response_model_by_alias=True,
    responses=problems.documented(400),
)
def switch_ranking_mode(
    body: Rangschikking, matcher: MatcherDep, user: Toezicht, request: Request
) -> RangschikkingStand:
    """De rangschikking omzetten (noodstop): geldt vanaf de volgende zoekvraag, zonder herstart."""
    with Session(matcher.engine) as session:
        oversight.switch_ranking(session, actor(user, request, "toezicht"), body.modus, body.reden)
        session.commit()
    return _state(matcher)
