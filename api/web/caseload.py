"""The werkconsulent's own work: voorstellen, the caseload and its data quality, a client page, the inbox.

Each page calls the API's route function (caseload checks, audit entries and Dutch errors are the
API's); another consulent's client or item is the same "niet gevonden" page as an unknown one.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.routes.inbox import AccepterenIn, AfhandelenIn, AfwijzenIn, accept_item, decline_item, finish_item, read_inbox
from api.routes.klanten import KlantZoekvraag, client_data_quality, read_client, search_clients
from api.routes.matches import VacancySearch, trace
from api.routes.voorstellen import OvergangIn, VoorstelZoeken, move_voorstel, search_voorstellen
from api.routes.zoekopdrachten import ZoekopdrachtIn, delete_search, list_searches, save_search
from api.services import matches
from api.services.users import Rol
from api.web import paging, shortlist
from api.web.common import blank_to_none, field_errors, refusals, render
from api.web.formats import FieldError, form_number
from api.web.pages import Web
from api.web.session import WebSession, check_csrf, gemeente_scope, require_role
from matching import geo, outcomes, reasons
from matching.errors import InvalidInputError, NotFoundError
from matching.outcomes import VoorstelStatus

# The caseload's pages run in the user's gemeente: on PostgreSQL the database hides other gemeenten's clients.
router = APIRouter(include_in_schema=False, dependencies=[Depends(gemeente_scope)])
# the reason lists and their labels: matching.reasons, the one source the API checks against
REDENEN = [str(reden) for reden in reasons.REDENEN]
# The status filter of /voorstellen: "open" (not yet final, the default), every status, or one.
VOORSTEL_FILTERS: dict[str, list[VoorstelStatus] | None] = {
    "open": sorted(outcomes.OPEN_STATUSES),
    "alle": None,
    **{status.value: [status] for status in VoorstelStatus},
}
INBOX_FILTERS = ("open", "afgehandeld", "alle")


# ------------------------------------------------------------------------------------------ voorstellen


def voorstellen_page(request: Request, web: WebSession, status: int = 200, **extra: Any) -> Response:
    """The own voorstellen, by status (default: still open), 50 a page."""
    require_role(web, Rol.WERKCONSULENT)
    chosen = paging.choice(request.query_params.get("status"), tuple(VOORSTEL_FILTERS))

    def search(page: int) -> dict[str, Any]:
        query = VoorstelZoeken(status=VOORSTEL_FILTERS[chosen], pagina=page, pagina_grootte=paging.LIST_PAGE)
        return search_voorstellen(query, request.app.state.matcher, web.user, request)

    found = search(paging.page_number(request.query_params.get("pagina")))
    where = paging.Position.of(found["pagina"], found["totaal"])
    if where.page != found["pagina"]:  # past the last page: show the last one
        found = search(where.page)
    for voorstel in found["voorstellen"]:
        voorstel["volgende"] = [str(s) for s in outcomes.TRANSITIONS[VoorstelStatus(voorstel["status"])]]
    nieuw = request.query_params.get("nieuw")
    return render(
        request,
        web,
        "voorstellen.html",
        status,
        voorstellen=found["voorstellen"],
        totaal=found["totaal"],
        positie=where,
        filter=chosen,
        filters=VOORSTEL_FILTERS,
        nieuw=int(nieuw) if nieuw and nieuw.isdigit() else None,
        redenen=REDENEN,
        reden_label=reasons.label,
        voorstel_labels=shortlist.VOORSTEL_LABELS,
        **extra,
    )


@router.get("/voorstellen", response_class=HTMLResponse)
def voorstellen(request: Request, web: Web) -> Response:
    return voorstellen_page(request, web)


@router.post("/voorstellen/{voorstel_id}/overgang", response_class=HTMLResponse)
def move(
    request: Request,
    web: Web,
    voorstel_id: int,
    naar: Annotated[str, Form(max_length=40)] = "",
    reden: Annotated[str, Form(max_length=40)] = "",
    toelichting: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """A voorstel's next step; afwijzen and uitvallen need a reason (the API's rule and its Dutch message)."""
    check_csrf(web, csrf)
    require_role(web, Rol.WERKCONSULENT)
    errors: dict[str, str] = {}
    with refusals(errors):
        body = OvergangIn(naar=naar, reden=blank_to_none(reden), toelichting=blank_to_none(toelichting))
        move_voorstel(voorstel_id, body, request.app.state.matcher, web.user, request)
        return RedirectResponse(f"/voorstellen?nieuw={voorstel_id}", status_code=303)
    message = "; ".join(errors.values())
    form = {"id": voorstel_id, "naar": naar, "reden": reden, "toelichting": toelichting, "error": message}
    return voorstellen_page(request, web, 400, overgang=form)


# ------------------------------------------------------------------------------------------ klanten


@router.get("/klanten", response_class=HTMLResponse)
def caseload(request: Request, web: Web, pagina: str = "1") -> Response:
    require_role(web, Rol.WERKCONSULENT)
    page = int(pagina) if pagina.isdigit() and 0 < int(pagina) < 100_000 else 1
    search = KlantZoekvraag(pagina=page, pagina_grootte=50)
    found = search_clients(search, web.user, request.app.state.engine, request)
    return render(request, web, "klanten.html", page=found)


@router.get("/klanten/datakwaliteit", response_class=HTMLResponse)
def data_quality(request: Request, web: Web, pagina: str = "1") -> Response:
    """Profiles of the own caseload that need attention, worst first (the API's ``klanten/datakwaliteit``).

    Registered before ``/klanten/{klantnummer}``, as in the API: "datakwaliteit" is no klantnummer.
    """
    require_role(web, Rol.WERKCONSULENT)
    page = int(pagina) if pagina.isdigit() and 0 < int(pagina) < 100_000 else 1
    found = client_data_quality(web.user, request.app.state.engine, request, pagina=page, pagina_grootte=50)
    return render(request, web, "datakwaliteit.html", page=found.model_dump(by_alias=False))


@router.get("/klanten/{klantnummer}", response_class=HTMLResponse)
def client_page(request: Request, web: Web, klantnummer: str) -> Response:
    return client_view(request, web, klantnummer)


@router.post("/klanten/{klantnummer}/zoekopdracht", response_class=HTMLResponse)
def save_client_search(
    request: Request,
    web: Web,
    klantnummer: str,
    min_score: Annotated[str, Form(alias="minScore", max_length=20)] = "",
    top: Annotated[str, Form(max_length=10)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Save a search for this client: new fitting vacancies land in the inbox (the API's save_search)."""
    check_csrf(web, csrf)
    require_role(web, Rol.WERKCONSULENT)
    try:
        score, most = form_number(min_score, "minScore"), form_number(top, "top", whole=True)
        body = ZoekopdrachtIn(klant_id=klantnummer, min_score=score or 0, top=10 if most is None else most)
        save_search(body, request.app.state.matcher, web.user, request)
    except ValidationError as error:
        errors = field_errors(error, {"min_score": "minScore"})
    except FieldError as error:  # "0,5" is read as 0.5; only what is no number at all comes here
        errors = {error.field: error.message}
    else:
        return RedirectResponse(f"/klanten/{quote(klantnummer, safe='')}?zoekopdracht=opgeslagen#zoekopdrachten", 303)
    form = {"minScore": min_score, "top": top, "errors": errors}
    return client_view(request, web, klantnummer, 400, zoek_form=form)


@router.post("/klanten/{klantnummer}/zoekopdrachten/{zoekopdracht_id}/verwijderen", response_class=HTMLResponse)
def delete_client_search(
    request: Request, web: Web, klantnummer: str, zoekopdracht_id: int, csrf: Annotated[str, Form()] = ""
) -> Response:
    """Delete a saved search (the API's ``DELETE /zoekopdrachten/{id}``); its hits stay in the inbox."""
    check_csrf(web, csrf)
    require_role(web, Rol.WERKCONSULENT)
    delete_search(zoekopdracht_id, request.app.state.matcher, web.user, request)  # another's: 404, as unknown
    return RedirectResponse(f"/klanten/{quote(klantnummer, safe='')}?zoekopdracht=verwijderd#zoekopdrachten", 303)


def client_view(request: Request, web: WebSession, klantnummer: str, status: int = 200, **extra: Any) -> Response:
    """The profile (beperkingen included: own caseload only, audited) and the fitting vacancies at intake."""
    require_role(web, Rol.WERKCONSULENT)
    engine, matcher = request.app.state.engine, request.app.state.matcher
    profile = read_client(klantnummer, web.user, engine, request, doel="bemiddeling")
    options, refused = None, {}
    with refusals(refused, passes=(NotFoundError,)):
        search = VacancySearch(klant_id=klantnummer, top=10)
        options = matches.vacancy_listing(request.app.state.settings, matcher, web.user, search.query(), trace(request))
    searches = [
        found
        for found in list_searches(matcher, web.user, request)["zoekopdrachten"]
        if found["klant_id"] == profile.client_nummer
    ]
    return render(
        request,
        web,
        "klant.html",
        status,
        klant=profile,
        plaats=geo.place_of(profile.postcode),
        bron_url=request.app.state.settings.bronsysteem_link(profile.client_nummer, profile.gemeente),
        options=options,
        options_error=refused.get("algemeen"),
        zoekopdrachten=searches,
        **extra,
    )


# ------------------------------------------------------------------------------------------ inbox


def inbox_page(request: Request, web: WebSession, status: int = 200, **extra: Any) -> Response:
    """The inbox of the own caseload, by status (default: open), 50 a page."""
    require_role(web, Rol.WERKCONSULENT)
    chosen = paging.choice(request.query_params.get("status"), INBOX_FILTERS)

    def read(page: int) -> dict[str, Any]:
        matcher, size = request.app.state.matcher, paging.LIST_PAGE
        return read_inbox(matcher, web.user, request, status=chosen, pagina=page, pagina_grootte=size)  # type: ignore[arg-type]

    found = read(paging.page_number(request.query_params.get("pagina")))
    where = paging.Position.of(found["pagina"], found["totaal"])
    if where.page != found["pagina"]:  # past the last page: show the last one
        found = read(where.page)
    return render(
        request,
        web,
        "inbox.html",
        status,
        items=found["items"],
        totaal=found["totaal"],
        positie=where,
        filter=chosen,
        filters=INBOX_FILTERS,
        redenen=REDENEN,
        reden_label=reasons.label,
        voorstel_labels=shortlist.VOORSTEL_LABELS,
        **extra,
    )


@router.get("/inbox", response_class=HTMLResponse)
def inbox(request: Request, web: Web) -> Response:
    return inbox_page(request, web)


@router.post("/inbox/{item_id}/{actie}", response_class=HTMLResponse)
def handle(
    request: Request,
    web: Web,
    item_id: int,
    actie: str,
    reden: Annotated[str, Form(max_length=40)] = "",
    toelichting: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Accepteren (makes the voorstel), afwijzen with a reason, or afronden (nazorg)."""
    check_csrf(web, csrf)
    require_role(web, Rol.WERKCONSULENT)
    matcher = request.app.state.matcher
    note = blank_to_none(toelichting)
    errors: dict[str, str] = {}
    with refusals(errors, passes=(NotFoundError,)):
        if actie == "accepteren":
            body = AccepterenIn(toelichting=note, reden=blank_to_none(reden))
            made = accept_item(item_id, matcher, web.user, request, body)
            return RedirectResponse(f"/voorstellen?nieuw={made['voorstel']['id']}", status_code=303)
        if actie == "afwijzen":
            if not reden:
                raise InvalidInputError("Kies een reden om af te wijzen.")
            decline_item(item_id, AfwijzenIn(reden=reden, toelichting=note), matcher, web.user, request)
        elif actie == "afronden":
            finish_item(item_id, matcher, web.user, request, AfhandelenIn(toelichting=note))
        else:
            raise NotFoundError(f"actie '{actie}' bestaat niet")
        return RedirectResponse(f"/inbox?afgehandeld={item_id}", status_code=303)
    form = {"id": item_id, "reden": reden, "toelichting": toelichting, "error": "; ".join(errors.values())}
    return inbox_page(request, web, 400, afhandeling=form)
