"""The consulent's inbox over HTTP, and the accountmanager's push that fills it.

Who may do what (tested in ``tests/api/test_api_workflow.py``):

* ``POST /api/v1/vacatures/{vacaturenummer}/push``: an accountmanager. The best ``aantal`` candidates
  land in the inbox of each client's consulent; the answer holds counts, the receiving consulenten by
  name (and why nobody, when nobody) and the candidate list's pseudonyms (``P-…``), never klantnummers.
* ``POST /api/v1/vacatures/{vacaturenummer}/doorsturen``: a werkconsulent hands one candidate of another
  gemeente (shown under its pseudonym, :func:`api.services.matches.for_role`) to that client's consulent:
  the same inbox item as a push, found by its ``referentie`` on the consulent's own candidate list.
* ``GET /api/v1/pushes``: the accountmanager's own pushes, with per receiving consulent the items
  open, bekeken, voorgesteld and afgewezen (:func:`api.services.pushes.list_pushes`).
* ``GET /api/v1/inbox``, ``POST /api/v1/inbox/{id}/accepteren`` (201, makes the voorstel),
  ``POST /api/v1/inbox/{id}/afwijzen`` (reason code; stored as a training label),
  ``POST /api/v1/inbox/{id}/afronden`` (nazorg done): a werkconsulent, for items addressed to their
  caseload; handling an item twice answers 409.

The routes call :mod:`api.services.inbox` and :mod:`api.services.pushes`; accepting makes a voorstel
(:func:`api.services.voorstellen.accept`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import Field

from api.deps import Accountmanager, Consulent, MatcherDep
from api.routes.common import Invoer, Pagina, PaginaGrootte, Paginering, Uitvoer, Utc, paging
from api.routes.modellen import Rangschikker
from api.routes.voorstellen import VoorstelOut
from api.routes.werkproces import (
    AFWIJS_REDEN_TEKST,
    CONFLICT,
    NOT_FOUND,
    NOTE,
    RESPONSES,
    VOORSTEL_REDEN,
    InboxItemOut,
    actor,
    reden_field,
)
from api.services import inbox, matches, pushes, tokens, voorstellen
from matching import reasons
from matching.disclosure import OUTSIDER
from matching.domain import Note
from matching.errors import NotFoundError
from matching.lookup import ID_MAX
from matching.matcher import TOP_MAX
from matching.results import ranker_json

router = APIRouter(prefix="/api/v1", tags=["werkproces"], responses=RESPONSES)

ItemId = Annotated[int, Path(ge=1, le=ID_MAX, description="nummer van het inbox-item")]


class PushIn(Invoer):
    aantal: int = Field(5, ge=1, le=50, description="hoeveel kandidaten (de besten uit de kandidatenlijst)")
    toelichting: Note | None = NOTE
    doel: str = Field("warme overdracht vacature", min_length=3, max_length=200)


class DoorsturenIn(Invoer):
    referentie: str = Field(min_length=3, max_length=40, description="het pseudoniem (P-…) op uw kandidatenlijst")
    toelichting: Note | None = NOTE
    doel: str = Field("warme overdracht kandidaat", min_length=3, max_length=200)


class AfhandelenIn(Invoer):
    toelichting: Note | None = NOTE


class AfwijzenIn(Invoer):
    reden: str = reden_field(reasons.REDENEN, AFWIJS_REDEN_TEKST)
    toelichting: Note | None = NOTE


class AccepterenIn(AfhandelenIn):
    reden: str | None = VOORSTEL_REDEN


class PushKandidaat(Uitvoer):
    referentie: str = Field(description="pseudoniem binnen de kandidatenlijst van deze vacature")
    rang: int
    score: int = Field(
        ge=0,
        le=100,
        description="de kans op aanname van het paar in procenten (0–100): dezelfde als op de kandidatenlijst",
    )
    in_inbox: bool = Field(description="false: er liep al een suggestie of voorstel voor dit paar")


class PushOntvanger(Uitvoer):
    consulent: str = Field(description="caseloadcode waar de items in de inbox staan")
    namen: list[str] = Field(description="actieve werkconsulenten met deze caseload (leeg: niemand leest deze inbox)")
    aantal: int = Field(description="items van deze push in die inbox")


class PushOut(Uitvoer):
    vacature_id: str
    aangemaakt: int
    overgeslagen: int
    consulenten: int
    ontvangers: list[PushOntvanger]
    niet_bereikt: str | None = Field(description="waarom de push geen consulent bereikte; leeg als dat wel zo is")
    kandidaten: list[PushKandidaat]
    gerangschikt_door: Rangschikker


class PushStand(PushOntvanger):
    open: int = Field(description="nog niet bekeken")
    bekeken: int = Field(description="in de inbox getoond, nog niet afgehandeld")
    voorgesteld: int = Field(description="geaccepteerd: het voorstel is gedaan")
    afgewezen: int


class PushOverzicht(Uitvoer):
    vacature_id: str
    titel: str
    moment: Utc
    toelichting: str | None
    ontvangers: list[PushStand]


class PushLijst(Paginering):
    pushes: list[PushOverzicht]


class InboxLijst(Paginering):
    items: list[InboxItemOut]


class Geaccepteerd(Uitvoer):
    item: InboxItemOut
    voorstel: VoorstelOut


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
    listing = matcher.search_candidates(vacaturenummer, body.aantal, served=True, viewer=OUTSIDER)
    settings, vacature = request.app.state.settings, listing.vacancy_id
    pushed = pushes.push_candidates(
        matcher.engine,
        listing,
        actor(user, request, body.doel),
        lambda klantnummer: tokens.pseudonym(settings, vacature, klantnummer),  # the P-… of the candidate list
        body.toelichting,
    )
    return {**pushed, "gerangschiktDoor": ranker_json(listing.ranked_by)}


@router.post("/vacatures/{vacaturenummer}/doorsturen", response_model=PushOut, responses=NOT_FOUND)
def hand_over(
    vacaturenummer: Annotated[str, Path(min_length=1, max_length=64)],
    body: DoorsturenIn,
    matcher: MatcherDep,
    user: Consulent,
    request: Request,
) -> dict[str, Any]:
    """Een kandidaat van een andere gemeente doorsturen naar de consulent van die klant (warme overdracht).

    De kandidaat staat op uw kandidatenlijst onder een pseudoniem; de consulent van de klant ziet het
    item in de inbox en beslist. U ziet wie het ontving, niet wie de klant is.
    """
    settings = request.app.state.settings
    listing = matcher.search_candidates(
        vacaturenummer, TOP_MAX, served=True, viewer=matches.viewer_for(user, body.doel)
    )

    def pseudonym(klantnummer: str) -> str:
        return tokens.pseudonym(settings, listing.vacancy_id, klantnummer)

    chosen = [item for item in listing.results if pseudonym(item.client_id) == body.referentie]
    if not chosen:
        raise NotFoundError(
            f"kandidaat '{body.referentie}' staat niet (meer) op de kandidatenlijst van {listing.vacancy_id}; "
            "vraag de lijst opnieuw op"
        )
    handed = pushes.push_candidates(
        matcher.engine, replace(listing, results=chosen), actor(user, request, body.doel), pseudonym, body.toelichting
    )
    return {**handed, "gerangschiktDoor": ranker_json(listing.ranked_by)}


@router.get("/pushes", response_model=PushLijst)
def read_pushes(
    matcher: MatcherDep, user: Accountmanager, request: Request, pagina: Pagina = 1, pagina_grootte: PaginaGrootte = 20
) -> dict[str, Any]:
    """De eigen pushes, nieuwste eerst: per ontvangende consulent hoeveel items open, bekeken, voorgesteld of
    afgewezen zijn."""
    found = pushes.list_pushes(matcher.engine, actor(user, request), page=pagina, size=pagina_grootte)
    return {**found, **paging(pagina, pagina_grootte, found["totaal"])}


@router.get("/inbox", response_model=InboxLijst)
def read_inbox(
    matcher: MatcherDep,
    user: Consulent,
    request: Request,
    status: Annotated[Literal["open", "afgehandeld", "alle"], Query()] = "open",
    gepland: Annotated[bool, Query(description="ook items waarvan de datum nog komt")] = True,
    pagina: Pagina = 1,
    pagina_grootte: PaginaGrootte = 20,
) -> dict[str, Any]:
    """De inbox van de eigen caseload: wat nu aan de beurt is (nieuwste eerst), daarna geplande nazorg."""
    chosen = None if status == "alle" else inbox.ItemStatus(status)
    found = inbox.list_inbox(
        matcher.engine, actor(user, request), status=chosen, gepland=gepland, page=pagina, size=pagina_grootte
    )
    return {**found, **paging(pagina, pagina_grootte, found["totaal"])}


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
    reden = getattr(body, "reden", None)  # the web UI passes AfhandelenIn
    return voorstellen.accept(matcher.engine, actor(user, request), item_id, toelichting, reden)


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
