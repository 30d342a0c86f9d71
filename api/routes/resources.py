"""Klanten and vacatures as resources: create, read, replace, search, list and import.

Endpoints, roles and answers (errors are always ``application/problem+json`` in Dutch):

======  ==================================  ==============================  ====================================
method  path                                roles                           status codes
======  ==================================  ==============================  ====================================
POST    ``/api/v1/klanten``                 werkconsulent                   201, 400, 401, 403, 404, 409, 413
GET     ``/api/v1/klanten/datakwaliteit``   werkconsulent (own caseload)    200, 400, 401, 403
GET     ``/api/v1/klanten/{klantnummer}``   werkconsulent (own caseload)    200, 400, 401, 403, 404
PUT     ``/api/v1/klanten/{klantnummer}``   werkconsulent (own caseload)    200, 400, 401, 403, 404, 413
POST    ``/api/v1/klanten/zoeken``          werkconsulent (own caseload)    200, 400, 401, 403, 413, 429
POST    ``/api/v1/klanten/import``          werkconsulent (own caseload)    200, 400, 401, 403, 413
POST    ``/api/v1/vacatures``               accountmanager, beheerder       201, 400, 401, 403, 409, 413
GET     ``/api/v1/vacatures``               any logged-in user              200, 400, 401
GET     ``/api/v1/vacatures/{nummer}``      any logged-in user              200, 401, 404
PUT     ``/api/v1/vacatures/{nummer}``      accountmanager                  200, 400, 401, 403, 404, 413
POST    ``/api/v1/vacatures/import``        accountmanager                  200, 400, 401, 403, 413
======  ==================================  ==============================  ====================================

Decisions:

* **Bodies are the import records.** ``POST``/``PUT`` take one record in the JSON import format of
  :mod:`matching.importer` (``clientNummer``, ``vacatureNummer``, camelCase, unknown fields refused).
  For a klant, ``consulent`` may be left out: it is the caller's own consulent code, and any other
  code is refused with 403 (a client cannot be moved to another caseload here). The number in a
  ``PUT`` body must equal the one in the path. Personalia (name, contact) and protected attributes
  are not part of these resources: matching does not need them (the import still takes them).
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
  and must not end up in URLs and access logs. Vacatures are not personal data: ``GET`` with query
  parameters. The summaries in lists carry no beperkingen (health data); only the profile has them.
* **Pages** are ``{"resultaten": [...], "pagina", "paginaGrootte", "totaal", "aantalPaginas"}``;
  ``pagina`` counts from 1, ``paginaGrootte`` is 1–100 (default 20). A page past the last one is
  empty (200), not an error. Results are ordered by number, so pages are stable.
* **Imports** take a multipart upload (field ``bestand``), CSV or JSON exactly as for
  ``werkmatch import`` (see :mod:`matching.importer`). A file that cannot be read at all is a 400
  and stores nothing; otherwise the valid rows are stored in one transaction and the answer (200)
  reports every stored and every rejected row with its line number (and Dutch reasons). Bodies over
  the limit are refused with 413 problem+json by :mod:`api.ops` before anything is read: 5 MiB on
  ``*/import`` and 1 MiB elsewhere by default (``WERKMATCH_OPS__BODY_LIMITS``, ``__MAX_BODY_BYTES``).
* **Data quality** (:func:`matching.quality.assess`) is part of every profile (``datakwaliteit``:
  score, status, what to fix). ``GET /klanten/datakwaliteit`` lists the caseload's profiles that need
  attention, worst first (tegenstrijdig, verouderd, onvolledig; then the lowest score), with counts
  per status over the whole caseload; ``alle=true`` lists the ``ok`` ones too. It is audited like a
  list of klanten (``datakwaliteit_opgevraagd``).
* Saved changes need no extra step to reach the matcher: every search first picks up rows whose
  ``updated_at`` moved (:meth:`matching.matcher.Matcher.refresh`).
"""

from __future__ import annotations

import logging
import math
import re
import tempfile
from datetime import date, datetime
from pathlib import Path, PurePath
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, Response, UploadFile
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api import problems, security
from api.deps import Accountmanager, Consulent, Doel, EngineDep, VacatureMaker
from api.problems import ProblemError
from api.services import audit
from api.services.users import User
from matching import importer, quality, store
from matching.domain import (
    Belasting,
    Beperking,
    Client,
    ClientIn,
    Competentie,
    Vacancy,
    VacancyIn,
    Wensen,
    Werkervaring,
    utcnow,
)
from matching.errors import ImportFileError, NotFoundError
from matching.lookup import in_chunks
from matching.timeutil import stored_utc
from matching.vocab import Bron, Plaatsingsvorm, Route, Trede, VacancyStatus

logger = logging.getLogger(__name__)

PAGE_SIZE_MAX = 100
PAGE_MAX = 1_000_000  # keeps OFFSET far below SQLite's 64-bit limit (a larger page number overflowed: 500)
DEFAULT_PURPOSE = "bemiddeling"
_OWNER_CHUNK = 500  # klantnummers per IN (...) query; SQLite allows 32,766 parameters, stay well below
_POSTCODE_PREFIX = re.compile(r"^(\d{1,3}|\d{4}[A-Z]{0,2})$")  # "6", "68", "6811", "6811A", "6811AB"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")  # the upload's name becomes a file name: nothing else gets through
_UPLOAD_TYPES = {"text/csv": ".csv", "application/json": ".json", "application/x-ndjson": ".ndjson"}


# ------------------------------------------------------------------------------- errors at the edge


router = APIRouter(tags=["klanten en vacatures"])


ERRORS = {
    400: "Ongeldige invoer: een veld, de X-Doel-header of het importbestand",
    403: "Deze rol mag dit niet, of de consulentcode is niet de eigen",
    409: "Het nummer is al in gebruik",
    413: "De aanvraag is te groot (5 MB voor een import, anders 1 MB; zie api.ops)",
}


# ------------------------------------------------------------------------------------------ schemas


class KlantInvoer(ClientIn):
    """A klant as sent to ``POST``/``PUT``: one record of the JSON import; ``consulent`` may be left out."""

    consulent: str | None = Field(  # type: ignore[assignment]
        None, min_length=1, max_length=80, description="consulentcode; leeg = die van de ingelogde werkconsulent"
    )


class VacatureInvoer(VacancyIn):
    """A vacature as sent to ``POST``/``PUT``: one record of the JSON import."""


# SQLite hands back naive datetimes; they were stored in UTC and are answered with an offset.
Utc = Annotated[datetime, AfterValidator(stored_utc)]


class Uitvoer(BaseModel):
    """Base of every response schema: camelCase JSON."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


class KlantSamenvatting(Uitvoer):
    """A klant in a list: no beperkingen (health data), no free text."""

    client_nummer: str = Field(description="pseudoniem klantnummer")
    consulent: str
    trede: int = Field(description="0–5 (officiële participatieladder: trede + 1)")
    route: str
    postcode: str
    opleidingsniveau: str | None
    taalniveau: str | None
    uren_min: int
    uren_max: int
    beschikbaar_per: date | None
    ontbrekende_gegevens: list[str] = Field(description="lege profielvelden, getoond in plaats van ingevuld")
    updated_at: Utc = Field(description="laatst gewijzigd (UTC)")


class Datakwaliteit(Uitvoer):
    """How fit a profile is for matching (:func:`matching.quality.assess`) and what to fix."""

    score: float = Field(description="volledigheid × versheid, 0-1")
    status: str = Field(description="ok, onvolledig, verouderd of tegenstrijdig (de ergste telt)")
    signalen: list[str] = Field(description="wat er te verbeteren is, in het Nederlands")
    volledigheid: float = Field(description="gewogen deel van de ingevulde velden, 0-1")
    versheid: float = Field(description="1 tot een half jaar na de laatste wijziging, daarna lager (min. 0,3)")
    dagen_sinds_update: int


class KlantProfiel(KlantSamenvatting):
    """The whole profile of a klant, beperkingen included (own caseload only, audited)."""

    datakwaliteit: Datakwaliteit

    competenties: list[Competentie]
    werkervaring: list[Werkervaring]
    certificaten: list[str]
    rijbewijs: list[str]
    vervoermiddel: list[str]
    wensen: Wensen
    beperkingen: list[Beperking] = Field(description="gezondheidsgegevens: alleen voor de eigen consulent")
    zelfbeschrijving: str
    notities: str


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
    updated_at: Utc = Field(description="laatst gewijzigd (UTC)")


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


class Paginering(Uitvoer):
    """Where a page lies: ``pagina`` counts from 1; a page past the last one is empty."""

    pagina: int
    pagina_grootte: int
    totaal: int = Field(description="aantal resultaten over alle pagina's")
    aantal_paginas: int


class KlantenPagina(Paginering):
    resultaten: list[KlantSamenvatting]


class VacaturesPagina(Paginering):
    resultaten: list[VacatureSamenvatting]


class KwaliteitRegel(Uitvoer):
    """One profile in the data-quality list: no beperkingen, no free text."""

    client_nummer: str
    trede: int
    route: str
    updated_at: Utc = Field(description="laatst gewijzigd (UTC)")
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


class ImportRegel(Uitvoer):
    """A stored row of an import file."""

    regel: int = Field(description="regelnummer in het bestand (kopregel = 1)")
    nummer: str = Field(description="klantnummer of vacaturenummer")


class AfgewezenRegel(Uitvoer):
    """A rejected row of an import file, with why."""

    regel: int
    nummer: str | None = Field(description="het nummer uit de regel, als dat te lezen was (nooit een BSN)")
    redenen: list[str]


class ImportRapport(Uitvoer):
    """What an import stored (in one transaction) and what it rejected."""

    aangemaakt: int
    bijgewerkt: int
    opgeslagen: list[ImportRegel]
    afgewezen: list[AfgewezenRegel]


# ------------------------------------------------------------------------------------- dependencies


Pagina = Annotated[int, Query(ge=1, le=PAGE_MAX, description="paginanummer, vanaf 1")]
PaginaGrootte = Annotated[int, Query(alias="paginaGrootte", ge=1, le=PAGE_SIZE_MAX, description="1 t/m 100")]


# ------------------------------------------------------------------------------------------ helpers


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


def _vacancy(session: Session, nummer: str) -> Vacancy:
    vacancy = session.exec(select(Vacancy).where(Vacancy.vacature_nummer == nummer)).first()
    if vacancy is None:
        raise NotFoundError(f"vacature '{nummer}' bestaat niet; controleer het vacaturenummer")
    return vacancy


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
    return body.model_copy(update={"consulent": own})


def _profile(client: Client) -> KlantProfiel:
    return KlantProfiel.model_validate(
        {
            **client.model_dump(),
            "ontbrekende_gegevens": client.missing_fields(),
            "datakwaliteit": quality.assess(client, utcnow()).to_json(),
        }
    )


def _summary(client: Client) -> KlantSamenvatting:
    return KlantSamenvatting.model_validate({**client.model_dump(), "ontbrekende_gegevens": client.missing_fields()})


def _record(session: Session, request: Request, user: User, action: str, purpose: str, subjects: list[str]) -> None:
    """Audit entries for ``subjects`` in the caller's transaction (several when there are more than fit one).

    Nothing is written when no client was read (an empty page, an import that stored no row).
    """
    if subjects:
        audit.record_all(
            session,
            actor=user.username,
            rol=str(user.rol),
            action=action,
            purpose=purpose,
            subjects=subjects,
            request_id=request.state.request_id,
        )


def _page(session: Session, statement: Any, order: Any, pagina: int, grootte: int) -> tuple[list[Any], int]:
    """One page of ``statement`` in ``order``, and the number of rows over all pages."""
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    rows = list(session.exec(statement.order_by(order).offset((pagina - 1) * grootte).limit(grootte)))
    return rows, int(total)


def _paging(pagina: int, grootte: int, total: int) -> dict[str, int]:
    return {"pagina": pagina, "pagina_grootte": grootte, "totaal": total, "aantal_paginas": math.ceil(total / grootte)}


def _conflict(what: str, nummer: str, path: str) -> ProblemError:
    return ProblemError(
        409,
        "Bestaat al",
        f"{what} '{nummer}' bestaat al; kies een ander nummer, of wijzig de bestaande met PUT {path}.",
    )


def _taken(data: ClientIn, taken_by: str | None, path: str) -> NotFoundError | ProblemError:
    """409 for a klantnummer of the own caseload; for another caseload's, the 404 of an unknown klant."""
    if taken_by != data.consulent:
        return _unknown_client(data.client_nummer)
    return _conflict("klantnummer", data.client_nummer, path)


# -------------------------------------------------------------------------------------------- klanten


@router.post(
    "/api/v1/klanten",
    status_code=201,
    response_model=KlantProfiel,
    responses=problems.documented(400, 401, 403, 404, 409, 413, texts=ERRORS),
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
            _record(session, request, user, "klantprofiel_aangemaakt", doel, [client.client_nummer])
            profile = _profile(client)
    except IntegrityError:  # created by someone else between our check and our commit
        with Session(engine) as session:
            raise _taken(data, session.exec(owner).first(), path) from None
    response.headers["Location"] = path
    return profile


@router.post(
    "/api/v1/klanten/zoeken",
    response_model=KlantenPagina,
    responses=problems.documented(400, 401, 403, 413, texts=ERRORS),
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
        rows, total = _page(session, statement, Client.client_nummer, search.pagina, search.pagina_grootte)
        if rows:
            _record(session, request, user, "klantenlijst_opgevraagd", search.doel, [r.client_nummer for r in rows])
        page = KlantenPagina(
            resultaten=[_summary(row) for row in rows], **_paging(search.pagina, search.pagina_grootte, total)
        )
        session.commit()
    return page


@router.get(
    "/api/v1/klanten/datakwaliteit",
    response_model=KwaliteitPagina,
    responses=problems.documented(400, 401, 403, texts=ERRORS),
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
        _record(session, request, user, "datakwaliteit_opgevraagd", doel, [row.client_nummer for row in rows])
        session.commit()
    return KwaliteitPagina(
        resultaten=rows,
        aantallen=KwaliteitAantallen.model_validate(counts),
        **_paging(pagina, pagina_grootte, len(shown)),
    )


@router.get(
    "/api/v1/klanten/{klantnummer}",
    response_model=KlantProfiel,
    responses=problems.documented(400, 401, 403, 404, texts=ERRORS),
)
def read_client(
    klantnummer: str, user: Consulent, engine: EngineDep, request: Request, doel: Doel = DEFAULT_PURPOSE
) -> KlantProfiel:
    """Het volledige profiel van een klant uit de eigen caseload, met beperkingen (vastgelegd in het auditlog)."""
    with Session(engine) as session:
        client = _own_client(session, user, klantnummer)
        profile = _profile(client)
        _record(session, request, user, "klantprofiel_gelezen", doel, [client.client_nummer])
        session.commit()
    return profile


@router.put(
    "/api/v1/klanten/{klantnummer}",
    response_model=KlantProfiel,
    responses=problems.documented(400, 401, 403, 404, 413, texts=ERRORS),
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
                f"clientNummer '{body.client_nummer}' in de body wijkt af van '{klantnummer}' in het pad; "
                "een klantnummer wijzigen kan niet, gebruik hetzelfde nummer.",
            )
        client, _ = store.upsert_client(session, _client_input(body, user))
        _record(session, request, user, "klantprofiel_gewijzigd", doel, [client.client_nummer])
        return _profile(client)


def _upload_records(bestand: UploadFile) -> list[tuple[int, dict[str, Any]]]:
    """The records of an uploaded CSV or JSON file, read by :func:`matching.importer.read_records`.

    The importer reads from a path, so the upload goes to a private temporary directory under its
    own (base) name; messages show that name, never the temporary path.
    """
    name = _SAFE_NAME.sub("_", PurePath(bestand.filename or "").name)[-100:].lstrip(".") or "bestand"
    if not PurePath(name).suffix and (bestand.content_type or "") in _UPLOAD_TYPES:
        name += _UPLOAD_TYPES[bestand.content_type or ""]
    with tempfile.TemporaryDirectory(prefix="werkmatch-import-") as folder:
        path = Path(folder) / name
        path.write_bytes(bestand.file.read())
        try:
            return importer.read_records(path)
        except ImportFileError as error:
            raise ImportFileError(str(error).replace(str(path), name)) from None


def _with_consulent(record: dict[str, Any], own: str) -> dict[str, Any]:
    """A row without a consulent belongs to the caller's caseload (an empty cell is "not given")."""
    return record if record.get("consulent") else {**record, "consulent": own}


def _owners(session: Session, numbers: list[str]) -> dict[str, str]:
    """Klantnummer → consulent code of the klanten among ``numbers`` that exist."""
    owners: dict[str, str] = {}
    for chunk in in_chunks(numbers, _OWNER_CHUNK):
        query = select(Client.client_nummer, Client.consulent).where(Client.client_nummer.in_(chunk))  # type: ignore[attr-defined]
        owners.update(dict(session.exec(query).all()))
    return owners


def _outside_caseload(
    valid: list[importer.ValidRecord], own: str, owners: dict[str, str]
) -> tuple[list[importer.ValidRecord], list[importer.RejectedRecord]]:
    """Split off the rows a werkconsulent may not store: another caseload, or a klantnummer taken elsewhere."""
    kept: list[importer.ValidRecord] = []
    rejected: list[importer.RejectedRecord] = []
    for record in valid:
        data = record.data
        assert isinstance(data, ClientIn)
        if data.consulent != own:
            reason = (
                f"consulent '{data.consulent}' is niet uw consulentcode '{own}'; u kunt alleen klanten in uw eigen "
                "caseload importeren (laat de kolom consulent leeg voor uw eigen code)"
            )
        elif owners.get(data.client_nummer, own) != own:
            reason = (
                f"klantnummer {data.client_nummer} is al in gebruik buiten uw caseload; "
                "controleer het klantnummer of vraag de consulent van deze klant"
            )
        else:
            kept.append(record)
            continue
        rejected.append(importer.RejectedRecord(record.line, data.client_nummer, [reason]))
    return kept, rejected


def _report(
    valid: list[importer.ValidRecord], rejected: list[importer.RejectedRecord], result: importer.ImportResult
) -> ImportRapport:
    def number(record: importer.ValidRecord) -> str:
        return record.data.client_nummer if isinstance(record.data, ClientIn) else record.data.vacature_nummer

    return ImportRapport(
        aangemaakt=result.created,
        bijgewerkt=result.updated,
        opgeslagen=[ImportRegel(regel=record.line, nummer=number(record)) for record in valid],
        afgewezen=[
            AfgewezenRegel(regel=item.line, nummer=item.external_id, redenen=list(item.reasons))
            for item in sorted(rejected, key=lambda item: item.line)
        ],
    )


BESTAND = File(description="CSV of JSON in het formaat van 'werkmatch import' (zie matching/importer.py); max. 5 MB")


@router.post(
    "/api/v1/klanten/import",
    response_model=ImportRapport,
    responses=problems.documented(400, 401, 403, 413, texts=ERRORS),
)
def import_clients(
    bestand: Annotated[UploadFile, BESTAND],
    user: Consulent,
    engine: EngineDep,
    request: Request,
    doel: Doel = DEFAULT_PURPOSE,
) -> ImportRapport:
    """Klanten importeren (CSV of JSON); alleen regels van de eigen caseload worden opgeslagen, in één transactie."""
    own = _caseload(user)
    records = [(line, _with_consulent(record, own)) for line, record in _upload_records(bestand)]
    valid, rejected = importer.validate_records("clients", records)
    with store.session_scope(engine) as session:
        numbers = [record.data.client_nummer for record in valid if isinstance(record.data, ClientIn)]
        valid, refused = _outside_caseload(valid, own, _owners(session, numbers))
        result = importer.import_records(session, "clients", valid)
        stored = [record.data.client_nummer for record in valid if isinstance(record.data, ClientIn)]
        if stored:
            _record(session, request, user, "klanten_geimporteerd", doel, stored)
    logger.info("API import of klanten by %s: %d stored, %d rejected", user.username, len(valid), len(rejected))
    return _report(valid, [*rejected, *refused], result)


# ------------------------------------------------------------------------------------------ vacatures


@router.post(
    "/api/v1/vacatures",
    status_code=201,
    response_model=Vacature,
    responses=problems.documented(400, 401, 403, 409, 413, texts=ERRORS),
)
def create_vacancy(body: VacatureInvoer, _user: VacatureMaker, engine: EngineDep, response: Response) -> Vacature:
    """Een vacature aanmaken (WSP of Scalabor); geeft de vacature en de Location ervan."""
    path = f"/api/v1/vacatures/{body.vacature_nummer}"
    try:
        with store.session_scope(engine) as session:
            taken = select(Vacancy.id).where(Vacancy.vacature_nummer == body.vacature_nummer)
            if session.exec(taken).first() is not None:
                raise _conflict("vacaturenummer", body.vacature_nummer, path)
            vacancy, _ = store.upsert_vacancy(session, body)
            result = Vacature.model_validate(vacancy.model_dump())
    except IntegrityError:
        raise _conflict("vacaturenummer", body.vacature_nummer, path) from None
    response.headers["Location"] = path
    return result


@router.get("/api/v1/vacatures", response_model=VacaturesPagina, responses=problems.documented(400, 401, texts=ERRORS))
def list_vacancies(
    _user: security.CurrentUser,
    engine: EngineDep,
    bron: Annotated[Bron | None, Query(description="WSP of Scalabor")] = None,
    status: Annotated[VacancyStatus | None, Query()] = None,
    plaatsingsvorm: Annotated[Plaatsingsvorm | None, Query()] = None,
    pagina: Pagina = 1,
    pagina_grootte: PaginaGrootte = 20,
) -> VacaturesPagina:
    """Vacatures per pagina, op vacaturenummer; filters op bron, status en plaatsingsvorm."""
    statement = select(Vacancy)
    if bron is not None:
        statement = statement.where(Vacancy.bron == bron.value)
    if status is not None:
        statement = statement.where(Vacancy.status == status.value)
    if plaatsingsvorm is not None:
        statement = statement.where(Vacancy.plaatsingsvorm == plaatsingsvorm.value)
    with Session(engine) as session:
        rows, total = _page(session, statement, Vacancy.vacature_nummer, pagina, pagina_grootte)
        return VacaturesPagina(
            resultaten=[VacatureSamenvatting.model_validate(row.model_dump()) for row in rows],
            **_paging(pagina, pagina_grootte, total),
        )


@router.get(
    "/api/v1/vacatures/{vacaturenummer}", response_model=Vacature, responses=problems.documented(401, 404, texts=ERRORS)
)
def read_vacancy(vacaturenummer: str, _user: security.CurrentUser, engine: EngineDep) -> Vacature:
    """Een vacature."""
    with Session(engine) as session:
        return Vacature.model_validate(_vacancy(session, vacaturenummer).model_dump())


@router.put(
    "/api/v1/vacatures/{vacaturenummer}",
    response_model=Vacature,
    responses=problems.documented(400, 401, 403, 404, 413, texts=ERRORS),
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
    "/api/v1/vacatures/import",
    response_model=ImportRapport,
    responses=problems.documented(400, 401, 403, 413, texts=ERRORS),
)
def import_vacancies(bestand: Annotated[UploadFile, BESTAND], user: Accountmanager, engine: EngineDep) -> ImportRapport:
    """Vacatures importeren (CSV of JSON); de geldige regels worden in één transactie opgeslagen."""
    valid, rejected = importer.validate_records("vacancies", _upload_records(bestand))
    with store.session_scope(engine) as session:
        result = importer.import_records(session, "vacancies", valid)
    logger.info("API import of vacatures by %s: %d stored, %d rejected", user.username, len(valid), len(rejected))
    return _report(valid, rejected, result)
