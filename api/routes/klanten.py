"""Klanten as a resource: create, read, replace, search, data quality, import and erase (AVG art. 17).

Endpoints, roles and answers (errors are always ``application/problem+json`` in Dutch):

======  ==================================  ==============================  ====================================
method  path                                roles                           status codes
======  ==================================  ==============================  ====================================
POST    ``/api/v1/klanten``                 werkconsulent                   201, 400, 401, 403, 404, 409, 413
POST    ``/api/v1/klanten/zoeken``          werkconsulent (own caseload)    200, 400, 401, 403, 413, 429
GET     ``/api/v1/klanten/datakwaliteit``   werkconsulent (own caseload)    200, 400, 401, 403
GET     ``/api/v1/klanten/{klantnummer}``   werkconsulent (own caseload)    200, 400, 401, 403, 404
PUT     ``/api/v1/klanten/{klantnummer}``   werkconsulent (own caseload)    200, 400, 401, 403, 404, 413
DELETE  ``/api/v1/klanten/{klantnummer}``   werkconsulent (own), beheerder  200, 400, 401, 403, 404
POST    ``/api/v1/klanten/import``          werkconsulent (own caseload)    200, 400, 401, 403, 413
======  ==================================  ==============================  ====================================

Decisions (vacatures: :mod:`api.routes.vacatures`; imports: :mod:`api.routes.imports`):

* **Bodies are the import records.** ``POST``/``PUT`` take one record in the JSON import format of
  :mod:`matching.importer` (``klantNummer``, camelCase, unknown fields refused). ``consulent`` may be
  left out: it is the caller's own consulent code, and any other code is refused with 403 (a client
  cannot be moved to another caseload here). The number in a ``PUT`` body must equal the one in the
  path. Personalia (name, contact) and protected attributes are not part of this resource: matching
  does not need them (the import still takes them).
* **Another consulent's klant is answered like an unknown one** (404, the same text), so the API
  does not tell which klantnummers exist elsewhere. ``POST`` of a klantnummer taken in the own
  caseload says 409; one taken in another caseload is the same 404 (creating it cannot work, and
  "bestaat al" told the audit which numbers other caseloads hold).
* **Every read or write of client data is audited** in the transaction that reads or writes it
  (``klantprofiel_gelezen``, ``klantprofiel_aangemaakt``, ``klantprofiel_gewijzigd``,
  ``klantenlijst_opgevraagd``, ``klanten_geimporteerd``), committed before the answer. The purpose
  (doelbinding) comes from the ``X-Doel`` header (``doel`` in the body of ``zoeken``), default
  ``bemiddeling``.
* **Searching klanten is a POST** (``/klanten/zoeken``): its filters (postcode) are personal data
  and must not end up in URLs and access logs. The summaries in lists carry no beperkingen (health
  data); only the profile has them. Pages are :class:`api.routes.common.Paginering`, ordered by
  number, so pages are stable.
* **Data quality** (:func:`matching.quality.assess`) is part of every profile (``datakwaliteit``:
  score, status, what to fix). ``GET /klanten/datakwaliteit`` lists the caseload's profiles that need
  attention, worst first (tegenstrijdig, verouderd, onvolledig; then the lowest score), with counts
  per status over the whole caseload; ``alle=true`` lists the ``ok`` ones too. It is audited like a
  list of klanten (``datakwaliteit_opgevraagd``).
* **Erasing** needs the reason as a query parameter ``reden``, a code of
  :class:`api.services.erasure.Reden` (a ``DELETE`` body has no defined meaning in HTTP, and a code
  rather than free text because it stays in the audit log's tombstone, which must hold no personal
  data). The answer says what was removed: :func:`api.services.erasure.erase_client`.
* Saved changes need no extra step to reach the matcher: every search first picks up rows whose
  ``updated_at`` moved (:meth:`matching.matcher.Matcher.refresh`).
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api import problems, security
from api.deps import Consulent, Doel, EngineDep, Verwijderaar
from api.problems import ProblemError
from api.routes import imports
from api.routes.common import (
    DEFAULT_PURPOSE,
    PAGE_MAX,
    PAGE_SIZE_MAX,
    RESOURCE_ERRORS,
    Pagina,
    PaginaGrootte,
    Paginering,
    Uitvoer,
    Utc,
    conflict,
    page_of,
    paging,
    record,
    request_id,
)
from api.routes.matches import trace
from api.services import erasure
from api.services.users import Rol, User
from matching import importer, quality, store
from matching.domain import Beperking, Client, ClientIn, Competentie, Wensen, Werkervaring, utcnow
from matching.errors import NotFoundError
from matching.vocab import Route, Trede

logger = logging.getLogger(__name__)

_POSTCODE_PREFIX = re.compile(r"^(\d{1,3}|\d{4}[A-Z]{0,2})$")  # "6", "68", "6811", "6811A", "6811AB"

# Every klanten route runs in the caller's gemeente: on PostgreSQL the database hides other gemeenten's clients.
router = APIRouter(
    prefix="/api/v1/klanten", tags=["klanten en vacatures"], dependencies=[Depends(security.gemeente_scope)]
)


class KlantInvoer(ClientIn):
    """A klant as sent to ``POST``/``PUT``: one record of the JSON import; ``consulent`` may be left out."""

    consulent: str | None = Field(  # type: ignore[assignment]
        None, min_length=1, max_length=80, description="consulentcode; leeg = die van de ingelogde werkconsulent"
    )


class Datakwaliteit(Uitvoer):
    """How fit a profile is for matching (:func:`matching.quality.assess`) and what to fix."""

    score: float = Field(description="volledigheid × versheid, 0-1")
    status: str = Field(description="ok, onvolledig, verouderd of tegenstrijdig (de ergste telt)")
    signalen: list[str] = Field(description="wat er te verbeteren is, in het Nederlands")
    volledigheid: float = Field(description="gewogen deel van de ingevulde velden, 0-1")
    versheid: float = Field(description="1 tot een half jaar na de laatste wijziging, daarna lager (min. 0,3)")
    dagen_sinds_update: int = Field(alias="dagenSindsWijziging", description="dagen sinds de laatste wijziging")


class KlantSamenvatting(Uitvoer):
    """A klant in a list: no beperkingen (health data), no free text."""

    client_nummer: str = Field(alias="klantNummer", description="pseudoniem klantnummer")
    consulent: str
    gemeente: str = Field(description="de gemeente van de klant")
    trede: int = Field(description="0–5 (officiële participatieladder: trede + 1)")
    route: str
    postcode: str
    opleidingsniveau: str | None
    taalniveau: str | None
    uren_min: int
    uren_max: int
    beschikbaar_per: date | None
    ontbrekende_gegevens: list[str] = Field(description="lege profielvelden (matching.quality), nooit ingevuld")
    updated_at: Utc = Field(alias="gewijzigdOp", description="laatst gewijzigd (UTC)")
    datakwaliteit: Datakwaliteit


class KlantProfiel(KlantSamenvatting):
    """The whole profile of a klant, beperkingen included (own caseload only, audited)."""

    competenties: list[Competentie]
    werkervaring: list[Werkervaring]
    certificaten: list[str]
    rijbewijs: list[str]
    vervoermiddel: list[str]
    wensen: Wensen
    beperkingen: list[Beperking] = Field(description="gezondheidsgegevens: alleen voor de eigen consulent")
    zelfbeschrijving: str
    notities: str


class KlantenPagina(Paginering):
    resultaten: list[KlantSamenvatting]


class KwaliteitRegel(Uitvoer):
    """One profile in the data-quality list: no beperkingen, no free text."""

    client_nummer: str = Field(alias="klantNummer")
    trede: int
    route: str
    updated_at: Utc = Field(alias="gewijzigdOp", description="laatst gewijzigd (UTC)")
    datakwaliteit: Datakwaliteit


class KwaliteitAantallen(Uitvoer):
    """Profiles per status over the whole caseload."""

    ok: int
    onvolledig: int
    verouderd: int
    tegenstrijdig: int


class KwaliteitPagina(Paginering):
    resultaten: list[KwaliteitRegel]
    aantallen: KwaliteitAantallen


class KlantZoekvraag(BaseModel):
    """Filters over the caller's own caseload; each filter given must hold."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
    trede: Trede | None = None
    route: Route | None = None
    postcode: str | None = Field(
        None, min_length=1, max_length=7, description="begin van de postcode: '68', '6811' of '6811 AB'"
    )
    pagina: int = Field(1, ge=1, le=PAGE_MAX)
    pagina_grootte: int = Field(20, ge=1, le=PAGE_SIZE_MAX)
    doel: str = Field(DEFAULT_PURPOSE, min_length=3, max_length=200, description="doel van de opvraging")

    @field_validator("postcode")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        if value is None:
            return None
        prefix = value.replace(" ", "").upper()
        if not _POSTCODE_PREFIX.match(prefix):
            raise ValueError(
                f"'{value}' is geen begin van een postcode; geef 1 tot 4 cijfers, na 4 cijfers eventueel 1 of 2 letters"
            )
        return prefix


class Verwijdering(Uitvoer):
    """What erasing one client removed."""

    pseudoniem: str = Field(description="het nummer waaronder de klant in het auditlog blijft (grafsteen)")
    audit_volgnummer: int = Field(description="volgnummer van de grafsteen (klant_verwijderd) in het auditlog")
    reden: erasure.Reden
    verwijderd: dict[str, int] = Field(description="verwijderde rijen per tabel")
    audit_geredigeerd: int = Field(description="auditregels waarin het klantnummer is vervangen door het pseudoniem")
    inferentie_geredigeerd: int = Field(description="regels van het inferentielog waarin het is vervangen")
    embeddings_verwijderd: int = Field(description="gecachte vectoren van tekst die geen ander record gebruikt")
    index_verwijderd: int | Literal["schrijver"] = Field(
        description="vectoren verwijderd uit de opgeslagen index; 'schrijver' als een ander proces de indexbestanden "
        "schrijft: dat haalt de vector er binnen 20 seconden uit"
    )
    log_leeggemaakt: bool = Field(description="of het write-ahead-log meteen is leeggemaakt (anders bij het volgende)")


def _caseload(user: User) -> str:
    """The werkconsulent's consulent code; an account without one has no caseload to show."""
    if not user.consulent:
        raise ProblemError(
            403,
            "Geen toegang",
            f"Het account '{user.username}' heeft geen consulentcode en dus geen caseload; "
            "vraag een beheerder de code in te stellen.",
        )
    return user.consulent


def _unknown_client(klantnummer: str) -> NotFoundError:
    return NotFoundError(f"klant '{klantnummer}' bestaat niet; controleer het klantnummer")


def _own_client(session: Session, user: User, klantnummer: str) -> Client:
    """The klant by its exact klantnummer, in ``user``'s caseload; otherwise the same 404 as an unknown one.

    Not :func:`matching.lookup.find_client`: that reads an all-digit reference as a database id, and
    a klantnummer may be all digits.
    """
    client = session.exec(select(Client).where(Client.client_nummer == klantnummer)).first()
    if client is None or client.consulent != _caseload(user):
        raise _unknown_client(klantnummer)
    return client


def _client_input(body: KlantInvoer, user: User) -> ClientIn:
    """The body with the caller's consulent code filled in; another code is a 403."""
    own = _caseload(user)
    if body.consulent is not None and body.consulent != own:
        raise ProblemError(
            403,
            "Geen toegang",
            f"consulent '{body.consulent}' is niet uw consulentcode '{own}'; u kunt alleen klanten in uw eigen "
            "caseload opslaan. Laat 'consulent' weg of vul uw eigen code in.",
        )
    if body.gemeente is not None and body.gemeente != user.gemeente:
        raise ProblemError(
            403,
            "Geen toegang",
            f"gemeente '{body.gemeente}' is niet uw gemeente '{user.gemeente}'; u kunt alleen klanten van uw eigen "
            "gemeente opslaan. Laat 'gemeente' weg.",
        )
    return body.model_copy(update={"consulent": own, "gemeente": user.gemeente})


def _quality(client: Client) -> dict[str, Any]:
    """What every page says about the profile's state: :mod:`matching.quality`'s one definition."""
    return {
        "ontbrekende_gegevens": quality.missing_fields(client),
        "datakwaliteit": quality.assess(client, utcnow()).to_json(),
    }


def _profile(client: Client) -> KlantProfiel:
    return KlantProfiel.model_validate({**client.model_dump(), **_quality(client)})


def _summary(client: Client) -> KlantSamenvatting:
    return KlantSamenvatting.model_validate({**client.model_dump(), **_quality(client)})


def _taken(data: ClientIn, taken_by: str | None, path: str) -> NotFoundError | ProblemError:
    """409 for a klantnummer of the own caseload; for another caseload's, the 404 of an unknown klant."""
    if taken_by != data.consulent:
        return _unknown_client(data.client_nummer)
    return conflict("klantnummer", data.client_nummer, path)


@router.post(
    "",
    status_code=201,
    response_model=KlantProfiel,
    responses=problems.documented(400, 401, 403, 404, 409, 413, texts=RESOURCE_ERRORS),
)
def create_client(
    body: KlantInvoer,
    user: Consulent,
    engine: EngineDep,
    request: Request,
    response: Response,
    doel: Doel = DEFAULT_PURPOSE,
) -> KlantProfiel:
    """Een klant aanmaken in de eigen caseload; geeft het profiel en de Location van de nieuwe klant."""
    data = _client_input(body, user)
    path = f"/api/v1/klanten/{data.client_nummer}"
    owner = select(Client.consulent).where(Client.client_nummer == data.client_nummer)
    try:
        with store.session_scope(engine) as session:
            if (taken_by := session.exec(owner).first()) is not None:
                raise _taken(data, taken_by, path)
            client, _ = store.upsert_client(session, data)
            record(session, request, user, "klantprofiel_aangemaakt", doel, [client.client_nummer])
            profile = _profile(client)
    except IntegrityError:  # created by someone else between our check and our commit
        with Session(engine) as session:
            raise _taken(data, session.exec(owner).first(), path) from None
    response.headers["Location"] = path
    return profile


@router.post(
    "/zoeken",
    response_model=KlantenPagina,
    responses=problems.documented(400, 401, 403, 413, texts=RESOURCE_ERRORS),
)
def search_clients(search: KlantZoekvraag, user: Consulent, engine: EngineDep, request: Request) -> KlantenPagina:
    """Klanten uit de eigen caseload zoeken (trede, route, begin van de postcode), per pagina, zonder beperkingen."""
    statement = select(Client).where(Client.consulent == _caseload(user))
    if search.trede is not None:
        statement = statement.where(Client.trede == int(search.trede))
    if search.route is not None:
        statement = statement.where(Client.route == search.route.value)
    if search.postcode is not None:
        statement = statement.where(Client.postcode.startswith(search.postcode, autoescape=True))  # type: ignore[attr-defined]
    with Session(engine) as session:
        rows, total = page_of(session, statement, Client.client_nummer, search.pagina, search.pagina_grootte)
        if rows:
            record(session, request, user, "klantenlijst_opgevraagd", search.doel, [r.client_nummer for r in rows])
        page = KlantenPagina(
            resultaten=[_summary(row) for row in rows], **paging(search.pagina, search.pagina_grootte, total)
        )
        session.commit()
    return page


@router.get(
    "/datakwaliteit",
    response_model=KwaliteitPagina,
    responses=problems.documented(400, 401, 403, texts=RESOURCE_ERRORS),
)
def client_data_quality(
    user: Consulent,
    engine: EngineDep,
    request: Request,
    pagina: Pagina = 1,
    pagina_grootte: PaginaGrootte = 20,
    alle: Annotated[bool, Query(description="ook profielen met status ok")] = False,
    doel: Doel = DEFAULT_PURPOSE,
) -> KwaliteitPagina:
    """Profielen uit de eigen caseload die aandacht nodig hebben, slechtste eerst, met aantallen per status."""
    now = utcnow()
    with Session(engine) as session:
        clients = session.exec(select(Client).where(Client.consulent == _caseload(user))).all()
        assessed = [(quality.assess(client, now), client) for client in clients]
        counts = dict.fromkeys(quality.STATUS_ORDER, 0)
        for found, _ in assessed:
            counts[found.status] += 1
        shown = sorted(
            (pair for pair in assessed if alle or pair[0].status != quality.OK),
            key=lambda pair: (pair[0].severity, pair[0].score, pair[1].client_nummer),
        )
        page = shown[(pagina - 1) * pagina_grootte : pagina * pagina_grootte]
        rows = [
            KwaliteitRegel(
                client_nummer=client.client_nummer,
                trede=client.trede,
                route=client.route,
                updated_at=client.updated_at,
                datakwaliteit=Datakwaliteit.model_validate(found.to_json()),
            )
            for found, client in page
        ]
        if rows:  # an empty page showed no client
            record(session, request, user, "datakwaliteit_opgevraagd", doel, [row.client_nummer for row in rows])
        session.commit()
    return KwaliteitPagina(
        resultaten=rows,
        aantallen=KwaliteitAantallen.model_validate(counts),
        **paging(pagina, pagina_grootte, len(shown)),
    )


@router.get(
    "/{klantnummer}",
    response_model=KlantProfiel,
    responses=problems.documented(400, 401, 403, 404, texts=RESOURCE_ERRORS),
)
def read_client(
    klantnummer: str, user: Consulent, engine: EngineDep, request: Request, doel: Doel = DEFAULT_PURPOSE
) -> KlantProfiel:
    """Het volledige profiel van een klant uit de eigen caseload, met beperkingen (vastgelegd in het auditlog)."""
    with Session(engine) as session:
        client = _own_client(session, user, klantnummer)
        profile = _profile(client)
        record(session, request, user, "klantprofiel_gelezen", doel, [client.client_nummer])
        session.commit()
    return profile


@router.put(
    "/{klantnummer}",
    response_model=KlantProfiel,
    responses=problems.documented(400, 401, 403, 404, 413, texts=RESOURCE_ERRORS),
)
def replace_client(
    klantnummer: str,
    body: KlantInvoer,
    user: Consulent,
    engine: EngineDep,
    request: Request,
    doel: Doel = DEFAULT_PURPOSE,
) -> KlantProfiel:
    """Het profiel van een klant uit de eigen caseload vervangen; opgeslagen voordat het antwoord komt."""
    with store.session_scope(engine) as session:
        _own_client(session, user, klantnummer)
        if body.client_nummer != klantnummer:
            raise ProblemError(
                400,
                "Ongeldige invoer",
                f"klantNummer '{body.client_nummer}' in de body wijkt af van '{klantnummer}' in het pad; "
                "een klantnummer wijzigen kan niet, gebruik hetzelfde nummer.",
            )
        client, _ = store.upsert_client(session, _client_input(body, user))
        record(session, request, user, "klantprofiel_gewijzigd", doel, [client.client_nummer])
        return _profile(client)


@router.delete(
    "/{klantnummer}",
    response_model=Verwijdering,
    responses=problems.documented(401, 403, 404, _400="Ongeldige invoer: een onbekende reden"),
)
def erase_client(
    klantnummer: str,
    reden: Annotated[erasure.Reden, Query(description="waarom de klant verwijderd wordt (een code, geen vrije tekst)")],
    user: Verwijderaar,
    request: Request,
) -> Verwijdering:
    """Een klant en alles over de klant verwijderen (AVG art. 17); het auditlog houdt een grafsteen."""
    result = erasure.erase_client(
        request.app.state.settings,
        request.app.state.matcher.engine,
        klantnummer,
        actor=user.username,
        rol=str(user.rol),
        reden=reden.value,
        caseload=None if user.rol == Rol.BEHEERDER else (user.consulent or ""),
        request_id=request_id(request),
        matcher=request.app.state.matcher,
        origin=trace(request).origin,
    )
    return Verwijdering.model_validate(result)


@router.post(
    "/import",
    response_model=imports.ImportRapport,
    responses=problems.documented(400, 401, 403, 413, texts=RESOURCE_ERRORS),
)
def import_clients(
    bestand: Annotated[UploadFile, imports.BESTAND],
    user: Consulent,
    engine: EngineDep,
    request: Request,
    doel: Doel = DEFAULT_PURPOSE,
) -> imports.ImportRapport:
    """Klanten importeren (CSV of JSON); alleen regels van de eigen caseload worden opgeslagen, in één transactie."""
    own = _caseload(user)
    records = [
        (line, imports.with_consulent(record, own, user.gemeente)) for line, record in imports.upload_records(bestand)
    ]
    valid, rejected = importer.validate_records("clients", records)
    with store.session_scope(engine) as session:
        valid, refused = imports.outside_caseload(session, valid, own, user.gemeente)
        result = importer.import_records(session, "clients", valid)
        stored = [record.data.client_nummer for record in valid if isinstance(record.data, ClientIn)]
        if stored:
            record(session, request, user, "klanten_geimporteerd", doel, stored)
    logger.info("API import of klanten by %s: %d stored, %d rejected", user.username, len(valid), len(rejected))
    return imports.report(valid, [*rejected, *refused], result)
