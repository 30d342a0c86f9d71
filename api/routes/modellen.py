"""The ranker's models over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api import problems
from api.deps import MatcherDep, SettingsDep, Toezicht
from training import registry

router = APIRouter(prefix="/api/v1/modellen", tags=["modellen"])


class Rangschikker(BaseModel):
    """The ranker that orders candidate lists now (the same keys as in ``GET /api/v1/health``)."""

    name: str = Field(description="registermodel, 'baseline' (meegeleverd) of 'baseline:weighted'")
    version: str | None = Field(description="versie in het register of van de meegeleverde baseline")
    source: str | None = None
    aliases: list[str] = Field([], description="aliassen van deze versie in het register")
    error: str | None = Field(None, description="waarom het laatste herladen mislukte (de vorige serveert)")


@router.post(
    "/herladen", response_model=Rangschikker, response_model_exclude_unset=True, responses=problems.documented(401, 403)
)
def reload_ranker(matcher: MatcherDep, settings: SettingsDep, _user: Toezicht) -> dict[str, Any]:
    """Het champion-model opnieuw laden uit het register (na werkmatch promote); zegt welk model rangschikt."""
    return registry.serve_champion(settings, matcher)
