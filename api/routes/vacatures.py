"""Vacatures as a resource: create, list, read, replace and import.

Endpoints, roles and answers (errors are always ``application/problem+json`` in Dutch):

======  ====================================  ==========================  ====================================
method  path                                  roles                       status codes
======  ====================================  ==========================  ====================================
POST    ``/api/v1/vacatures``                 accountmanager, beheerder   201, 400, 401, 403, 409, 413
GET     ``/api/v1/vacatures``                 any logged-in user          200, 400, 401
GET     ``/api/v1/vacatures/{nummer}``        any logged-in user          200, 401, 404
PUT     ``/api/v1/vacatures/{nummer}``        accountmanager              200, 400, 401, 403, 404, 413
POST    ``/api/v1/vacatures/import``          accountmanager              200, 400, 401, 403, 413
======  ====================================  ==========================  ====================================

``POST``/``PUT`` take one record in the JSON import format of :mod:`matching.importer`
(``vacatureNummer``, camelCase, unknown fields refused); the number in a ``PUT`` body must equal the
one in the path. Vacatures are not personal data: the list is a ``GET`` with query parameters, in
pages (:class:`api.routes.common.Paginering`) ordered by number. Imports: :mod:`api.routes.imports`.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response, UploadFile
from pydantic import Field, computed_field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api import problems
from api.deps import Accountmanager, EngineDep, VacatureMaker
from api.problems import ProblemError
from api.routes import imports
from api.routes.common import (
    RESOURCE_ERRORS,
    Pagina,
    PaginaGrootte,
    Paginering,
    Uitvoer,
    Utc,
    conflict,
    page_of,
    paging,
)
from api.security import CurrentUser
from matching import geo, importer, store, vacancy_search
from matching.domain import Belasting, Competentie, Vacancy, VacancyIn
from matching.errors import NotFoundError
from matching.vocab import Bron, Plaatsingsvorm, VacancyStatus

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/vacatures", tags=["klanten en vacatures"])
ZOEK_TEKST = (
    "woorden in titel, werkgever, nummer of plaats (elk woord moet voorkomen), bijvoorbeeld 'orderpicker Arnhem'; "
    "mag eindigen op 'binnen 10 km van Ede'"
)


class VacatureInvoer(VacancyIn):
    """A vacature as sent to ``POST``/``PUT``: one record of the JSON import."""


class VacatureSamenvatting(Uitvoer):
    """A vacature in a list."""

    vacature_nummer: str
    bron: str
    werkgever: str
    titel: str
    beroep_code: str | None
    postcode: str
    uren_min: int
    uren_max: int
    plaatsingsvorm: str
    status: str
    sluitingsdatum: date | None
    updated_at: Utc = Field(alias="gewijzigdOp", description="laatst gewijzigd (UTC)")

    @computed_field(description="de plaats van de postcode (PC4), zoals de weblijst die toont; leeg bij onbekende PC4")
    @property
    def plaats(self) -> str | None:
        return geo.place_of(self.postcode)


class Vacature(VacatureSamenvatting):
    """A whole vacature."""

    beroep_label: str | None
    omschrijving: str
    werktijden: list[str]
    belasting: list[Belasting]
    competenties_vereist: list[Competentie]
    competenties_gewenst: list[Competentie]
    certificaten: list[str]
    taalniveau: str | None
    rijbewijs: list[str]
    jobcoach: bool
    jobcarving: bool
    aantal_plaatsen: int


class VacaturesPagina(Paginering):
    resultaten: list[VacatureSamenvatting]


def _vacancy(session: Session, nummer: str) -> Vacancy:
    vacancy = session.exec(select(Vacancy).where(Vacancy.vacature_nummer == nummer)).first()
    if vacancy is None:
        raise NotFoundError(f"vacature '{nummer}' bestaat niet; controleer het vacaturenummer")
    return vacancy


@router.post(
    "",
    status_code=201,
    response_model=Vacature,
    responses=problems.documented(400, 401, 403, 409, 413, texts=RESOURCE_ERRORS),
)
def create_vacancy(body: VacatureInvoer, _user: VacatureMaker, engine: EngineDep, response: Response) -> Vacature:
    """Een vacature aanmaken (WSP of Scalabor); geeft de vacature en de Location ervan."""
    path = f"/api/v1/vacatures/{body.vacature_nummer}"
    try:
        with store.session_scope(engine) as session:
            taken = select(Vacancy.id).where(Vacancy.vacature_nummer == body.vacature_nummer)
            if session.exec(taken).first() is not None:
                raise conflict("vacaturenummer", body.vacature_nummer, path)
            vacancy, _ = store.upsert_vacancy(session, body)
            result = Vacature.model_validate(vacancy.model_dump())
    except IntegrityError:
        raise conflict("vacaturenummer", body.vacature_nummer, path) from None
    response.headers["Location"] = path
    return result


@router.get("", response_model=VacaturesPagina, responses=problems.documented(400, 401, texts=RESOURCE_ERRORS))
def list_vacancies(
    _user: CurrentUser,
    engine: EngineDep,
    bron: Annotated[Bron | None, Query(description="WSP of Scalabor")] = None,
    status: Annotated[VacancyStatus | None, Query()] = None,
    plaatsingsvorm: Annotated[Plaatsingsvorm | None, Query()] = None,
    zoek: Annotated[str | None, Query(max_length=100, description=ZOEK_TEKST)] = None,
    plaats: Annotated[str | None, Query(max_length=100, description="plaatsnaam of postcode van de vacature")] = None,
    straal_km: Annotated[
        float | None, Query(alias="straalKm", gt=0, le=vacancy_search.MAX_KM, description="km rond plaats")
    ] = None,
    pagina: Pagina = 1,
    pagina_grootte: PaginaGrootte = 20,
) -> VacaturesPagina:
    """Vacatures per pagina, op vacaturenummer; filters op bron, status, plaatsingsvorm, plaats en afstand."""
    statement = select(Vacancy)
    condition = vacancy_search.parse(zoek or "", plaats, straal_km).where()
    if condition is not None:
        statement = statement.where(condition)
    if bron is not None:
        statement = statement.where(Vacancy.bron == bron.value)
    if status is not None:
        statement = statement.where(Vacancy.status == status.value)
    if plaatsingsvorm is not None:
        statement = statement.where(Vacancy.plaatsingsvorm == plaatsingsvorm.value)
    with Session(engine) as session:
        rows, total = page_of(session, statement, Vacancy.vacature_nummer, pagina, pagina_grootte)
        return VacaturesPagina(
            resultaten=[VacatureSamenvatting.model_validate(row.model_dump()) for row in rows],
            **paging(pagina, pagina_grootte, total),
        )


@router.get(
    "/{vacaturenummer}", response_model=Vacature, responses=problems.documented(401, 404, texts=RESOURCE_ERRORS)
)
def read_vacancy(vacaturenummer: str, _user: CurrentUser, engine: EngineDep) -> Vacature:
    """Een vacature."""
    with Session(engine) as session:
        return Vacature.model_validate(_vacancy(session, vacaturenummer).model_dump())


@router.put(
    "/{vacaturenummer}",
    response_model=Vacature,
    responses=problems.documented(400, 401, 403, 404, 413, texts=RESOURCE_ERRORS),
)
def replace_vacancy(vacaturenummer: str, body: VacatureInvoer, _user: Accountmanager, engine: EngineDep) -> Vacature:
    """Een vacature vervangen; opgeslagen voordat het antwoord komt."""
    with store.session_scope(engine) as session:
        _vacancy(session, vacaturenummer)
        if body.vacature_nummer != vacaturenummer:
            raise ProblemError(
                400,
                "Ongeldige invoer",
                f"vacatureNummer '{body.vacature_nummer}' in de body wijkt af van '{vacaturenummer}' in het pad; "
                "een vacaturenummer wijzigen kan niet, gebruik hetzelfde nummer.",
            )
        vacancy, _ = store.upsert_vacancy(session, body)
        return Vacature.model_validate(vacancy.model_dump())


@router.post(
    "/import",
    response_model=imports.ImportRapport,
    responses=problems.documented(400, 401, 403, 413, texts=RESOURCE_ERRORS),
)
def import_vacancies(
    bestand: Annotated[UploadFile, imports.BESTAND], user: Accountmanager, engine: EngineDep
) -> imports.ImportRapport:
    """Vacatures importeren (CSV of JSON); de geldige regels worden in één transactie opgeslagen."""
    valid, rejected = importer.validate_records("vacancies", imports.upload_records(bestand))
    with store.session_scope(engine) as session:
        result = importer.import_records(session, "vacancies", valid)
    logger.info("API import of vacatures by %s: %d stored, %d rejected", user.username, len(valid), len(rejected))
    return imports.report(valid, rejected, result)
