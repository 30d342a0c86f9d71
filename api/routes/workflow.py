"""The consulent's workflow over HTTP: voorstellen, the accountmanager's push, the inbox, saved searches, nazorg.

Who may do what (tested in ``tests/test_api_workflow.py``):

* ``POST /api/v1/voorstellen`` (201), ``GET /api/v1/voorstellen/{id}``,
  ``POST /api/v1/voorstellen/{id}/overgangen``, ``POST /api/v1/voorstellen/zoeken``: a werkconsulent,
  for clients of their own caseload. Another consulent's voorstel or client answers 404, as an
  unknown one does. An accountmanager proposes only through a consulent: with a push.
* ``POST /api/v1/vacatures/{vacaturenummer}/push``: an accountmanager. The best ``aantal`` candidates
  land in the inbox of each client's consulent; the answer holds counts and the candidate list's
  pseudonyms (``P-…``), never klantnummers.
* ``GET /api/v1/inbox``, ``POST /api/v1/inbox/{id}/accepteren`` (201, makes the voorstel),
  ``POST /api/v1/inbox/{id}/afwijzen`` (reason code; stored as a training label),
  ``POST /api/v1/inbox/{id}/afronden`` (nazorg done): a werkconsulent, for items addressed to their
  caseload; handling an item twice answers 409.
* ``POST /api/v1/zoekopdrachten`` (201), ``GET /api/v1/zoekopdrachten``,
  ``DELETE /api/v1/zoekopdrachten/{id}`` (204): a werkconsulent, own caseload.
  ``POST /api/v1/zoekopdrachten/uitvoeren``: a beheerder, or a timer (cron/systemd) calling it, say
  every night: the run is an explicit, audited job rather than a thread inside every API worker.
* Moving a voorstel to ``geplaatst`` schedules nazorg at 1, 3 and 6 months in the same transaction.

Errors are ``application/problem+json`` in Dutch: 400 invalid input or an impossible transition
(the message names the current state and the allowed next ones; nothing is written), 401/403 from
``api.security``, 404 unknown or not yours, 409 already handled.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from sqlalchemy import func
from sqlmodel import Session, select

from api import inbox, security
from api.users import Rol, User
from matching import outcomes
from matching.domain import Client, Vacancy, utcnow
from matching.errors import NotFoundError
from matching.lookup import ID_MAX, find_vacancy
from matching.matcher import Matcher
from matching.outcomes import Voorstel, VoorstelStatus

PROBLEM = "application/problem+json"


PAGE_MAX = 1_000_000  # keeps OFFSET far below SQLite's 64-bit limit (a larger page number overflowed: 500)
_PROBLEM_TEXTS = {
    401: "Niet ingelogd of token ongeldig",
    403: "Deze rol mag dit niet",
    404: "Bestaat niet (of hoort bij de caseload van een andere consulent)",
    409: "Het item is al afgehandeld",
}


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses documented as problem+json only."""
    return {
        status: {
            "description": _PROBLEM_TEXTS[status],
            "content": {PROBLEM: {"schema": security.Problem.model_json_schema()}},
        }
        for status in statuses
    }


# Every route here needs a role: 401 without a valid token, 403 for another role.
router = APIRouter(prefix="/api/v1", tags=["werkproces"], responses=_problems(401, 403))

NOT_FOUND = _problems(404)
CONFLICT = _problems(404, 409)

Consulent = Annotated[User, Depends(security.require(Rol.WERKCONSULENT))]
Accountmanager = Annotated[User, Depends(security.require(Rol.ACCOUNTMANAGER))]
Beheerder = Annotated[User, Depends(security.require(Rol.BEHEERDER))]
ItemId = Annotated[int, Path(ge=1, le=ID_MAX, description="nummer van het inbox-item")]
VoorstelId = Annotated[int, Path(ge=1, le=ID_MAX, description="nummer van het voorstel")]
PURPOSE = Field("bemiddeling", min_length=3, max_length=200, description="doel van de verwerking (doelbinding)")
NOTE = Field(None, max_length=outcomes.TOELICHTING_MAX)


def get_matcher(request: Request) -> Matcher:
    return request.app.state.matcher


MatcherDep = Annotated[Matcher, Depends(get_matcher)]


def actor(user: User, request: Request, purpose: str = "bemiddeling") -> inbox.Actor:
    """The audit actor for this request."""
    return inbox.Actor(
        username=user.username,
        rol=Rol(user.rol).value,
        consulent=user.consulent,
        request_id=getattr(request.state, "request_id", None),
        purpose=purpose,
    )


# ---------------------------------------------------------------------------------------- schemas


class Input(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Output(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class VoorstelIn(Input):
    klant_id: str = Field(min_length=1, max_length=64, description="pseudoniem klantnummer (eigen caseload)")
    vacature_id: str = Field(min_length=1, max_length=64, description="vacaturenummer")
    toelichting: str | None = NOTE
    doel: str = PURPOSE


class OvergangIn(Input):
    naar: VoorstelStatus = Field(description="de volgende status")
    reden: str | None = Field(None, max_length=40, description="redencode, nodig bij afgewezen en uitgevallen")
    toelichting: str | None = NOTE


class VoorstelZoeken(Input):
    status: list[VoorstelStatus] | None = Field(None, description="alleen deze statussen; leeg: alle")
    pagina: int = Field(1, ge=1, le=PAGE_MAX)
    pagina_grootte: int = Field(20, ge=1, le=inbox.PAGE_SIZE_MAX)


class PushIn(Input):
    aantal: int = Field(5, ge=1, le=50, description="hoeveel kandidaten (de besten uit de kandidatenlijst)")
    toelichting: str | None = NOTE
    doel: str = Field("warme overdracht vacature", min_length=3, max_length=200)


class AfhandelenIn(Input):
    toelichting: str | None = NOTE


class AfwijzenIn(Input):
    reden: str = Field(min_length=1, max_length=40, description="redencode, bijv. reistijd of uren_passen_niet")
    toelichting: str | None = NOTE


class ZoekopdrachtIn(Input):
    klant_id: str = Field(min_length=1, max_length=64, description="pseudoniem klantnummer (eigen caseload)")
    min_score: float = Field(0.0, ge=0.0, le=1.0, description="alleen vacatures met minstens deze score")
    top: int = Field(10, ge=1, le=50, description="hoogstens zoveel vacatures per uitvoering")


class Stap(Output):
    van: str | None
    naar: str
    reden: str | None
    toelichting: str | None
    door: str
    op: datetime


class InboxItemOut(Output):
    id: int
    soort: str
    status: str
    uitkomst: str | None
    klant_id: str
    vacature_id: str
    titel: str
    van: str
    toelichting: str | None
    rang: int | None
    score: float | None
    redenen: list[str]
    voorstel_id: int | None
    zoekopdracht_id: int | None
    vervaldatum: date | None
    nazorg_maanden: int | None
    gepland: bool = Field(description="vervaldatum ligt nog in de toekomst")
    aangemaakt: datetime
    afgehandeld_door: str | None
    afgehandeld_op: datetime | None


class VoorstelKort(Output):
    id: int
    klant_id: str
    vacature_id: str
    titel: str
    status: str
    gedaan_door: str
    rol: str
    aangemaakt: datetime
    gewijzigd: datetime


class VoorstelOut(VoorstelKort):
    model_versie: str | None
    rang: int | None
    volgende_stappen: list[str]
    geschiedenis: list[Stap]
    nazorg: list[InboxItemOut]


class VoorstelLijst(Output):
    voorstellen: list[VoorstelKort]
    totaal: int
    pagina: int
    pagina_grootte: int


class PushKandidaat(Output):
    referentie: str = Field(description="pseudoniem binnen de kandidatenlijst van deze vacature")
    rang: int
    score: float
    in_inbox: bool = Field(description="false: er liep al een suggestie of voorstel voor dit paar")


class PushOut(Output):
    vacature_id: str
    aangemaakt: int
    overgeslagen: int
    consulenten: int
    kandidaten: list[PushKandidaat]
    ranked_by: dict[str, Any]


class InboxLijst(Output):
    items: list[InboxItemOut]
    totaal: int
    pagina: int
    pagina_grootte: int


class Geaccepteerd(Output):
    item: InboxItemOut
    voorstel: VoorstelOut


class ZoekopdrachtOut(Output):
    id: int
    klant_id: str
    min_score: float
    top: int
    aangemaakt: datetime
    laatst_uitgevoerd: datetime | None
    aantal_gevonden: int


class ZoekopdrachtLijst(Output):
    zoekopdrachten: list[ZoekopdrachtOut]


class Uitvoering(Output):
    zoekopdrachten: int
    nieuw: int
    overgeslagen: int
    mislukt: int


# ---------------------------------------------------------------------------------------- voorstellen


def _own_voorstel(session: Session, voorstel_id: int, user: User) -> tuple[Voorstel, Client, Vacancy]:
    """The voorstel if its client is in the user's caseload; otherwise the same 404 as an unknown one."""
    voorstel = session.get(Voorstel, voorstel_id, populate_existing=True)
    client = session.get(Client, voorstel.client_id) if voorstel is not None else None
    if voorstel is None or client is None or user.consulent is None or client.consulent != user.consulent:
        raise NotFoundError(f"voorstel {voorstel_id} bestaat niet; controleer het nummer")
    vacancy = session.get(Vacancy, voorstel.vacancy_id)
    return voorstel, client, vacancy  # type: ignore[return-value]


def _short(voorstel: Voorstel, klant: str, vacature: str, titel: str) -> dict[str, Any]:
    return {
        "id": voorstel.id,
        "klant_id": klant,
        "vacature_id": vacature,
        "titel": titel,
        "status": voorstel.status,
        "gedaan_door": voorstel.made_by,
        "rol": voorstel.made_by_role,
        "aangemaakt": voorstel.created_at,
        "gewijzigd": voorstel.updated_at,
    }


def _voorstel_view(session: Session, voorstel: Voorstel, client: Client, vacancy: Vacancy) -> dict[str, Any]:
    today = inbox.local_today()
    steps = [
        {
            "van": event.from_status,
            "naar": event.to_status,
            "reden": event.reason_code,
            "toelichting": event.toelichting,
            "door": event.actor,
            "op": event.at,
        }
        for event in outcomes.history(session, voorstel.id)  # type: ignore[arg-type]
    ]
    nazorg = [
        inbox.item_dict(item, client.client_nummer, vacancy.vacature_nummer, vacancy.titel, today)
        for item in inbox.nazorg_for(session, voorstel.id)  # type: ignore[arg-type]
    ]
    return {
        **_short(voorstel, client.client_nummer, vacancy.vacature_nummer, vacancy.titel),
        "model_versie": voorstel.model_version,
        "rang": voorstel.rank,
        "volgende_stappen": [str(step) for step in outcomes.TRANSITIONS[VoorstelStatus(voorstel.status)]],
        "geschiedenis": steps,
        "nazorg": nazorg,
    }


@router.post("/voorstellen", status_code=201, response_model=VoorstelOut, responses=NOT_FOUND)
def make_voorstel(body: VoorstelIn, matcher: MatcherDep, user: Consulent, request: Request) -> dict[str, Any]:
    """Een klant uit de eigen caseload voorstellen voor een open vacature."""
    who = actor(user, request, body.doel)
    with Session(matcher.engine, expire_on_commit=False) as session:
        client = inbox.own_client(session, body.klant_id, user.consulent)
        vacancy = find_vacancy(session, body.vacature_id)
        try:
            inbox.record_audit(session, who, "voorstel_gedaan", [client.client_nummer, vacancy.vacature_nummer])
            voorstel = outcomes.propose(
                session, client.id, vacancy.id, user.username, outcomes.Rol.CONSULENT, toelichting=body.toelichting
            )  # commits the audit entry with the voorstel
        except BaseException:
            session.rollback()
            raise
        return _voorstel_view(session, voorstel, client, vacancy)


@router.get("/voorstellen/{voorstel_id}", response_model=VoorstelOut, responses=NOT_FOUND)
def read_voorstel(voorstel_id: VoorstelId, matcher: MatcherDep, user: Consulent, request: Request) -> dict[str, Any]:
    """Een voorstel met zijn geschiedenis en geplande nazorg (consulent van de klant)."""
    with Session(matcher.engine, expire_on_commit=False) as session:
        voorstel, client, vacancy = _own_voorstel(session, voorstel_id, user)
        view = _voorstel_view(session, voorstel, client, vacancy)
        inbox.record_audit(
            session, actor(user, request), "voorstel_gelezen", [client.client_nummer, vacancy.vacature_nummer]
        )
        session.commit()
        return view


@router.post("/voorstellen/{voorstel_id}/overgangen", response_model=VoorstelOut, responses=NOT_FOUND)
def move_voorstel(
    voorstel_id: VoorstelId, body: OvergangIn, matcher: MatcherDep, user: Consulent, request: Request
) -> dict[str, Any]:
    """Een voorstel naar de volgende status brengen; bij 'geplaatst' wordt nazorg na 1, 3 en 6 maanden gepland.

    Een onmogelijke stap (bijv. 'geplaatst' zonder 'aangenomen') geeft 400 en verandert niets.
    """
    with Session(matcher.engine, expire_on_commit=False) as session:
        voorstel, client, vacancy = _own_voorstel(session, voorstel_id, user)
        now = utcnow()
        try:
            inbox.record_audit(
                session,
                actor(user, request),
                "voorstel_gewijzigd",
                [client.client_nummer, vacancy.vacature_nummer],
                voorstel=voorstel_id,
                naar=body.naar.value,
            )
            # Only for an allowed step: "geplaatst" again (from geplaatst, duurzaam, uitgevallen) would
            # add a second set of nazorg items, whose unique key failed (500) before the step was refused.
            allowed = outcomes.TRANSITIONS[VoorstelStatus(voorstel.status)]
            if body.naar is VoorstelStatus.GEPLAATST and body.naar in allowed:
                inbox.schedule_nazorg(session, voorstel, client.consulent, now, user.username)
            # transition commits what is pending: the audit entry, the nazorg items and the step, or nothing.
            voorstel = outcomes.transition(
                session, voorstel_id, body.naar, user.username, body.reden, body.toelichting, at=now
            )
        except BaseException:
            session.rollback()
            raise
        return _voorstel_view(session, voorstel, client, vacancy)


@router.post("/voorstellen/zoeken", response_model=VoorstelLijst)
def search_voorstellen(body: VoorstelZoeken, matcher: MatcherDep, user: Consulent, request: Request) -> dict[str, Any]:
    """De voorstellen voor klanten uit de eigen caseload, laatst gewijzigd eerst, met statusfilter en paginering."""
    conditions: list[Any] = [Client.consulent == (user.consulent or "")]
    if body.status:
        conditions.append(Voorstel.status.in_([status.value for status in body.status]))  # type: ignore[attr-defined]
    with Session(matcher.engine, expire_on_commit=False) as session:
        total = session.exec(
            select(func.count())
            .select_from(Voorstel)
            .join(Client, Client.id == Voorstel.client_id)  # type: ignore[arg-type]
            .where(*conditions)
        ).one()
        rows = session.exec(
            select(Voorstel, Client.client_nummer, Vacancy.vacature_nummer, Vacancy.titel)
            .join(Client, Client.id == Voorstel.client_id)  # type: ignore[arg-type]
            .join(Vacancy, Vacancy.id == Voorstel.vacancy_id)  # type: ignore[arg-type]
            .where(*conditions)
            .order_by(Voorstel.updated_at.desc(), Voorstel.id.desc())  # type: ignore[attr-defined]
            .offset((body.pagina - 1) * body.pagina_grootte)
            .limit(body.pagina_grootte)
        ).all()
        found = [_short(voorstel, klant, vacature, titel) for voorstel, klant, vacature, titel in rows]
        if found:
            inbox.record_audit(
                session, actor(user, request), "voorstellen_gezocht", sorted({v["klant_id"] for v in found})
            )
            session.commit()
    return {"voorstellen": found, "totaal": total, "pagina": body.pagina, "pagina_grootte": body.pagina_grootte}


# ---------------------------------------------------------------------------------------- push


def _pseudonym(request: Request, vacature: str) -> Callable[[str], str]:
    """The candidate list's pseudonym: the same ``P-…`` the accountmanager saw there."""
    settings = request.app.state.settings
    return lambda klantnummer: security.pseudonym(settings, vacature, klantnummer)


@router.post("/vacatures/{vacaturenummer}/push", response_model=PushOut, responses=NOT_FOUND)
def push_vacature(
    vacaturenummer: Annotated[str, Path(min_length=1, max_length=64)],
    body: PushIn,
    matcher: MatcherDep,
    user: Accountmanager,
    request: Request,
) -> dict[str, Any]:
    """Een vacature warm overdragen: de beste kandidaten komen in de inbox van hun consulent.

    Het antwoord noemt alleen aantallen en pseudoniemen; wie het zijn ziet de accountmanager pas
    wanneer een consulent het voorstel doet.
    """
    listing = matcher.candidates(vacaturenummer, body.aantal)
    pushed = inbox.push_candidates(
        matcher.engine,
        listing,
        actor(user, request, body.doel),
        _pseudonym(request, listing["vacancyId"]),
        body.toelichting,
    )
    return {**pushed, "rankedBy": listing["rankedBy"]}


# ---------------------------------------------------------------------------------------- inbox


@router.get("/inbox", response_model=InboxLijst)
def read_inbox(
    matcher: MatcherDep,
    user: Consulent,
    request: Request,
    status: Annotated[Literal["open", "afgehandeld", "alle"], Query()] = "open",
    gepland: Annotated[bool, Query(description="ook items waarvan de datum nog komt")] = True,
    pagina: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 1,
    pagina_grootte: Annotated[int, Query(alias="paginaGrootte", ge=1, le=inbox.PAGE_SIZE_MAX)] = 20,
) -> dict[str, Any]:
    """De inbox van de eigen caseload: wat nu aan de beurt is (nieuwste eerst), daarna geplande nazorg."""
    chosen = None if status == "alle" else inbox.ItemStatus(status)
    return inbox.list_inbox(
        matcher.engine, actor(user, request), status=chosen, gepland=gepland, page=pagina, size=pagina_grootte
    )


@router.post("/inbox/{item_id}/accepteren", status_code=201, response_model=Geaccepteerd, responses=CONFLICT)
def accept_item(
    item_id: ItemId, matcher: MatcherDep, user: Consulent, request: Request, body: AfhandelenIn | None = None
) -> dict[str, Any]:
    """Een push of zoekopdracht-treffer accepteren: het voorstel wordt gedaan (201)."""
    item, voorstel = inbox.accept(matcher.engine, actor(user, request), item_id, body.toelichting if body else None)
    with Session(matcher.engine, expire_on_commit=False) as session:
        client = session.get(Client, voorstel.client_id)
        vacancy = session.get(Vacancy, voorstel.vacancy_id)
        view = _voorstel_view(session, voorstel, client, vacancy)  # type: ignore[arg-type]
    return {"item": inbox.item_view(matcher.engine, item), "voorstel": view}


@router.post("/inbox/{item_id}/afwijzen", response_model=InboxItemOut, responses=CONFLICT)
def decline_item(
    item_id: ItemId, body: AfwijzenIn, matcher: MatcherDep, user: Consulent, request: Request
) -> dict[str, Any]:
    """Een push of zoekopdracht-treffer afwijzen met een redencode; de afwijzing wordt een leerlabel."""
    item = inbox.decline(matcher.engine, actor(user, request), item_id, body.reden, body.toelichting)
    return inbox.item_view(matcher.engine, item)


@router.post("/inbox/{item_id}/afronden", response_model=InboxItemOut, responses=CONFLICT)
def finish_item(
    item_id: ItemId, matcher: MatcherDep, user: Consulent, request: Request, body: AfhandelenIn | None = None
) -> dict[str, Any]:
    """Een nazorgtaak afronden (het gesprek is gevoerd)."""
    item = inbox.finish(matcher.engine, actor(user, request), item_id, body.toelichting if body else None)
    return inbox.item_view(matcher.engine, item)


# ---------------------------------------------------------------------------------------- zoekopdrachten


@router.post("/zoekopdrachten", status_code=201, response_model=ZoekopdrachtOut, responses=NOT_FOUND)
def save_search(body: ZoekopdrachtIn, matcher: MatcherDep, user: Consulent, request: Request) -> dict[str, Any]:
    """Een zoekopdracht opslaan voor een klant uit de eigen caseload; nieuwe treffers komen in de inbox."""
    return inbox.save_search(matcher.engine, actor(user, request), body.klant_id, body.min_score, body.top)


@router.get("/zoekopdrachten", response_model=ZoekopdrachtLijst)
def list_searches(matcher: MatcherDep, user: Consulent, request: Request) -> dict[str, Any]:
    """De opgeslagen zoekopdrachten van de eigen caseload."""
    return {"zoekopdrachten": inbox.list_searches(matcher.engine, actor(user, request))}


@router.post("/zoekopdrachten/uitvoeren", response_model=Uitvoering)
def run_searches(matcher: MatcherDep, user: Beheerder, request: Request) -> dict[str, int]:
    """Alle opgeslagen zoekopdrachten uitvoeren (beheerder of een nachtelijke timer); elk paar komt één keer."""
    who = actor(user, request, "opgeslagen zoekopdracht")
    return inbox.run_saved_searches(matcher.engine, matcher, who)


@router.delete("/zoekopdrachten/{zoekopdracht_id}", status_code=204, responses=NOT_FOUND)
def delete_search(
    zoekopdracht_id: Annotated[int, Path(ge=1, le=ID_MAX)], matcher: MatcherDep, user: Consulent, request: Request
) -> Response:
    """Een opgeslagen zoekopdracht verwijderen; de treffers in de inbox blijven staan."""
    inbox.delete_search(matcher.engine, actor(user, request), zoekopdracht_id)
    return Response(status_code=204)
