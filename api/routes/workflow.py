"""The consulent's workflow over HTTP: voorstellen, the accountmanager's push, the inbox, saved searches, nazorg.

Who may do what (tested in ``tests/api/test_api_workflow.py``):

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
* ``POST /api/v1/vacatures/{vacaturenummer}/afwijzingen`` (201): a werkconsulent rejects a client of
  their own caseload on a vacancy's candidate list, with a required reason code
  (:class:`api.services.inbox.AfwijsReden`); audited, and a training label unless the reason is situational.
* ``GET /api/v1/rapportages/afwijkingen``: beheerder and data scientist. How often consulenten deviate
  from the ranking (:func:`api.services.oversight.deviation_report`). The data scientist gets the consulenten
  as pseudonyms (``P-…``, stable across reports): the report is about how the model is used, and
  per-person figures about employees are a personeelsvolgsysteem (WOR art. 27(1)(l)) that only the
  beheerder, who follows up, needs by name.
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
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from sqlalchemy import func
from sqlmodel import Session, select

from api import problems
from api.deps import Accountmanager, Beheerder, Consulent, MatcherDep, Toezicht
from api.problems import PROBLEM
from api.services import inbox, oversight, tokens
from api.services.users import Rol, User
from matching import outcomes
from matching.disclosure import OUTSIDER
from matching.domain import Client, Note, Vacancy, utcnow
from matching.errors import InvalidInputError, NotFoundError
from matching.lookup import ID_MAX, find_vacancy
from matching.outcomes import Voorstel, VoorstelStatus

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
            "content": {PROBLEM: {"schema": problems.Problem.model_json_schema()}},
        }
        for status in statuses
    }


# Every route here needs a role: 401 without a valid token, 403 for another role.
router = APIRouter(prefix="/api/v1", tags=["werkproces"], responses=_problems(401, 403))

NOT_FOUND = _problems(404)
CONFLICT = _problems(404, 409)

ItemId = Annotated[int, Path(ge=1, le=ID_MAX, description="nummer van het inbox-item")]
VoorstelId = Annotated[int, Path(ge=1, le=ID_MAX, description="nummer van het voorstel")]
PURPOSE = Field("bemiddeling", min_length=3, max_length=200, description="doel van de verwerking (doelbinding)")
NOTE = Field(None, max_length=outcomes.TOELICHTING_MAX)


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


VOORSTEL_REDEN = Field(
    None,
    max_length=40,
    description="waarom deze kandidaat: hoogste_match, kent_klant, wens_klant, ontwikkelkans, werkgever_vraagt "
    "of anders (met toelichting); leeg wordt vastgelegd als niet_opgegeven",
)


class VoorstelIn(Input):
    klant_id: str = Field(min_length=1, max_length=64, description="pseudoniem klantnummer (eigen caseload)")
    vacature_id: str = Field(min_length=1, max_length=64, description="vacaturenummer")
    reden: str | None = VOORSTEL_REDEN
    toelichting: Note | None = NOTE
    doel: str = PURPOSE


class OvergangIn(Input):
    naar: VoorstelStatus = Field(description="de volgende status")
    reden: str | None = Field(None, max_length=40, description="redencode, nodig bij afgewezen en uitgevallen")
    toelichting: Note | None = NOTE


class VoorstelZoeken(Input):
    status: list[VoorstelStatus] | None = Field(None, description="alleen deze statussen; leeg: alle")
    pagina: int = Field(1, ge=1, le=PAGE_MAX)
    pagina_grootte: int = Field(20, ge=1, le=inbox.PAGE_SIZE_MAX)


class PushIn(Input):
    aantal: int = Field(5, ge=1, le=50, description="hoeveel kandidaten (de besten uit de kandidatenlijst)")
    toelichting: Note | None = NOTE
    doel: str = Field("warme overdracht vacature", min_length=3, max_length=200)


class AfhandelenIn(Input):
    toelichting: Note | None = NOTE


class KandidaatAfwijzenIn(Input):
    klant_id: str = Field(min_length=1, max_length=64, description="pseudoniem klantnummer (eigen caseload)")
    reden: str = Field(
        min_length=1,
        max_length=40,
        description="past_niet_bij_wensen, vaardigheden, reisafstand, uren_werktijden, belastbaarheid, "
        "niet_beschikbaar, al_bemiddeld of anders (met toelichting)",
    )
    toelichting: Note | None = NOTE
    doel: str = PURPOSE


class AfwijzenIn(Input):
    reden: str = Field(min_length=1, max_length=40, description="redencode, bijv. reistijd of uren_passen_niet")
    toelichting: Note | None = NOTE


class AccepterenIn(AfhandelenIn):
    reden: str | None = VOORSTEL_REDEN


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
    aandachtspunten_beperkingen: list[str] = Field(
        default_factory=list,
        description="waar de eisen van de vacature de beperkingen van de eigen klant raken, en wat dat oplost",
    )
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
    reden: str | None = Field(None, description="redencode van het voorstel (niet_opgegeven als die ontbrak)")


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


class KandidaatAfwijzingOut(Output):
    id: int
    klant_id: str
    vacature_id: str
    reden: str
    toelichting: str | None
    leerlabel: bool = Field(description="telt als leerlabel (relevantie 0) voor het rangschikkingsmodel")
    rang: int | None = Field(description="plaats in de laatst getoonde kandidatenlijst voor deze vacature")
    door: str
    op: datetime


class Rangklasse(Output):
    rang: str = Field(description="1, 2-3, 4-10, >10 of 'niet in getoonde lijst'")
    aantal: int
    aandeel: float | None = Field(description="deel van het totaal (0-1); leeg bij 0 beslissingen")


class Telling(Output):
    code: str
    aantal: int


class Aandeel(Output):
    aantal: int
    aandeel: float | None


class VoorstelCijfers(Output):
    aantal: int
    via_inbox: int = Field(description="voorstellen uit een geaccepteerde push of zoekopdracht")
    rang: list[Rangklasse] = Field(description="plaats in de hele getoonde lijst")
    eigen_rang: list[Rangklasse] = Field(description="plaats tussen de klanten van de eigen caseload in die lijst")
    redenen: list[Telling]


class AfwijzingCijfers(Output):
    aantal: int
    rang: list[Rangklasse]
    eigen_rang: list[Rangklasse]
    redenen: list[Telling]


class LijstCijfers(Output):
    aantal: int = Field(description="getoonde lijsten waarop beslist is")
    top3_gepasseerd: Aandeel = Field(description="een lagere eigen kandidaat voorgesteld, een uit de eigen top 3 niet")
    top3_afgewezen: Aandeel = Field(description="een kandidaat uit de eigen top 3 afgewezen")


class Afwijkingen(Output):
    beslissingen: int
    voorstellen: VoorstelCijfers
    afwijzingen: AfwijzingCijfers
    lijsten: LijstCijfers
    signalen: list[str]


class AfwijkingenConsulent(Afwijkingen):
    consulent: str = Field(description="gebruikersnaam; een pseudoniem (P-...) voor de data scientist")


class Drempels(Output):
    minimum_beslissingen: int
    volgt_rangorde_vanaf: float
    top3_nuttig_vanaf: float
    zonder_reden_vanaf: float


class AfwijkingsRapport(Output):
    vanaf: date
    tot: date = Field(description="tot en met")
    totaal: Afwijkingen
    per_consulent: list[AfwijkingenConsulent]
    drempels: Drempels


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


def _short(voorstel: Voorstel, klant: str, vacature: str, titel: str, reden: str | None = None) -> dict[str, Any]:
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
        "reden": reden,
    }


def _voorstel_view(session: Session, voorstel: Voorstel, client: Client, vacancy: Vacancy) -> dict[str, Any]:
    today = inbox.local_today()
    motivation = session.get(inbox.VoorstelMotivatie, voorstel.id)
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
        **_short(
            voorstel,
            client.client_nummer,
            vacancy.vacature_nummer,
            vacancy.titel,
            motivation.reason_code if motivation is not None else None,
        ),
        "model_versie": voorstel.model_version,
        "rang": voorstel.rank,
        "volgende_stappen": [str(step) for step in outcomes.TRANSITIONS[VoorstelStatus(voorstel.status)]],
        "geschiedenis": steps,
        "nazorg": nazorg,
    }


@router.post("/voorstellen", status_code=201, response_model=VoorstelOut, responses=NOT_FOUND)
def make_voorstel(body: VoorstelIn, matcher: MatcherDep, user: Consulent, request: Request) -> dict[str, Any]:
    """Een klant uit de eigen caseload voorstellen voor een open vacature, met de reden (redencode).

    De redencode is (nog) niet verplicht; zonder wordt 'niet_opgegeven' vastgelegd en telt mee in de
    afwijkingsrapportage.
    """
    who = actor(user, request, body.doel)
    reden = oversight.voorstel_reden(body.reden, body.toelichting)
    with Session(matcher.engine, expire_on_commit=False) as session:
        client = inbox.own_client(session, body.klant_id, user.consulent)
        vacancy = find_vacancy(session, body.vacature_id)
        try:
            inbox.record_audit(
                session, who, "voorstel_gedaan", [client.client_nummer, vacancy.vacature_nummer], reden=reden
            )
            voorstel = outcomes.propose(
                session,
                client.id,
                vacancy.id,
                user.username,
                outcomes.Rol.CONSULENT,
                toelichting=body.toelichting,
                with_voorstel=lambda made: oversight.record_motivation(session, made.id, reden, user.username),  # type: ignore[arg-type]
            )  # one commit: the audit entry, the voorstel and its reason
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
            select(
                Voorstel,
                Client.client_nummer,
                Vacancy.vacature_nummer,
                Vacancy.titel,
                inbox.VoorstelMotivatie.reason_code,
            )
            .join(Client, Client.id == Voorstel.client_id)  # type: ignore[arg-type]
            .join(Vacancy, Vacancy.id == Voorstel.vacancy_id)  # type: ignore[arg-type]
            .outerjoin(inbox.VoorstelMotivatie, inbox.VoorstelMotivatie.voorstel_id == Voorstel.id)  # type: ignore[arg-type]
            .where(*conditions)
            .order_by(Voorstel.updated_at.desc(), Voorstel.id.desc())  # type: ignore[attr-defined]
            .offset((body.pagina - 1) * body.pagina_grootte)
            .limit(body.pagina_grootte)
        ).all()
        found = [_short(*row) for row in rows]
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
    return lambda klantnummer: tokens.pseudonym(settings, vacature, klantnummer)


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
    # The accountmanager's own view: beperkingen shape nothing, so the answer cannot be differenced
    # (matching.disclosure); the client's consulent sees any conflict in the inbox and decides.
    listing = matcher.candidates(vacaturenummer, body.aantal, served=True, viewer=OUTSIDER)
    pushed = inbox.push_candidates(
        matcher.engine,
        listing,
        actor(user, request, body.doel),
        _pseudonym(request, listing["vacancyId"]),
        body.toelichting,
    )
    return {**pushed, "rankedBy": listing["rankedBy"]}


@router.post(
    "/vacatures/{vacaturenummer}/afwijzingen",
    status_code=201,
    response_model=KandidaatAfwijzingOut,
    responses=NOT_FOUND,
)
def reject_candidate(
    vacaturenummer: Annotated[str, Path(min_length=1, max_length=64)],
    body: KandidaatAfwijzenIn,
    matcher: MatcherDep,
    user: Consulent,
    request: Request,
) -> dict[str, Any]:
    """Een kandidaat uit de eigen caseload afwijzen voor een vacature, met een redencode.

    De afwijzing komt in het auditlog en telt als leerlabel (relevantie 0), behalve bij
    'niet_beschikbaar' en 'al_bemiddeld': die zeggen niets over hoe goed klant en vacature passen.
    'gezondheid' is geen reden; kies 'belastbaarheid' als de eisen van de baan niet passen bij de beperkingen.
    """
    who = actor(user, request, body.doel)
    return oversight.reject_candidate(matcher.engine, who, vacaturenummer, body.klant_id, body.reden, body.toelichting)


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
    item_id: ItemId,
    matcher: MatcherDep,
    user: Consulent,
    request: Request,
    body: AccepterenIn | None = None,
) -> dict[str, Any]:
    """Een push of zoekopdracht-treffer accepteren: het voorstel wordt gedaan (201), met de reden als die er is."""
    toelichting = body.toelichting if body else None
    reden = oversight.voorstel_reden(getattr(body, "reden", None), toelichting)  # the web UI passes AfhandelenIn
    item, voorstel = inbox.accept(matcher.engine, actor(user, request), item_id, toelichting, reden=reden)
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


# ---------------------------------------------------------------------------------------- toezicht

REPORT_DAYS = 28  # the default period: four weeks, as trust.md's rubber-stamp monitor (A6) counts
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


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
    for name, day in (("vanaf", vanaf), ("tot", tot)):  # before any arithmetic: 0001-01-01 minus 4 weeks overflows
        if day is not None and not EARLIEST <= day <= LATEST:
            raise InvalidInputError(
                f"{name} {day.isoformat()} ligt buiten {EARLIEST.year}-{LATEST.year}; kies een datum daarbinnen"
            )
    last = tot or inbox.local_today()
    first = vanaf or last - timedelta(days=REPORT_DAYS - 1)
    if first > last:
        raise InvalidInputError(f"vanaf ({first.isoformat()}) ligt na tot ({last.isoformat()}); draai de data om")
    since = datetime.combine(first, time.min, inbox.LOCAL_TIME)
    until = datetime.combine(last + timedelta(days=1), time.min, inbox.LOCAL_TIME)
    with Session(matcher.engine) as session:
        report = oversight.deviation_report(session, since, until)
        inbox.record_audit(
            session,
            actor(user, request, "toezicht op het gebruik van de rangorde"),
            "afwijkingsrapport_opgevraagd",
            [],
            vanaf=first.isoformat(),
            tot=last.isoformat(),
        )
        session.commit()
    if user.rol == Rol.DATA_SCIENTIST:
        settings = request.app.state.settings
        for group in report["perConsulent"]:
            group["consulent"] = tokens.pseudonym(settings, "afwijkingsrapport", group["consulent"])
        report["perConsulent"].sort(key=lambda group: group["consulent"])  # the order of the names would tell
    return {**report, "vanaf": first, "tot": last}
