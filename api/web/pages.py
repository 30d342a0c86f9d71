"""Login, the vacancy overview, a vacancy's candidate list (filters, markers, map) and its export.

The actions on the list (voorstellen, afwijzen, push) are in :mod:`api.web.actions`.

Every list goes through the same functions as the API (:func:`api.services.matches.candidate_listing` cuts it
to the role and writes the audit and inference log); every action calls the API's route function,
so the checks, the audit entries and the Dutch errors are the API's own.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import Session, select

from api import security
from api.problems import ProblemError
from api.routes.matches import CandidateSearch, trace
from api.services import batch_lists, matches, tokens
from api.services.tokens import NotAuthenticated
from api.services.users import Rol, User
from api.web import charts, export, shortlist
from api.web.common import error_text, refusals, render
from api.web.formats import FieldError, form_number
from api.web.session import (
    WebSession,
    check_csrf,
    clear_cookie,
    current_session,
    require_role,
    safe_next,
    set_cookie,
)
from matching import geo, vacancy_search
from matching.domain import Vacancy
from matching.errors import NotFoundError
from matching.vocab import Bron, Plaatsingsvorm, VacancyStatus

router = APIRouter(include_in_schema=False)
Web = Annotated[WebSession, Depends(current_session)]
PAGE_SIZE = 25
SEARCHERS = (Rol.WERKCONSULENT, Rol.ACCOUNTMANAGER)
FILTER_FIELDS = {"straalKm": "straal", "minUren": "uren", "heleBestand": "heleBestand"}
# Set by a redirect after an action (post/redirect/get): shown as a notice, never passed on as a filter.
NOTICE_PARAMS = frozenset({"afgewezen", "voorgesteld", "doorgestuurd", "al_doorgestuurd", "naar"})
STATUS_WORDS = {VacancyStatus.OPEN: "open", VacancyStatus.VERVULD: "vervulde", VacancyStatus.GESLOTEN: "gesloten"}
HOME = {Rol.DATA_SCIENTIST: "/modellen", Rol.BEHEERDER: "/beheer/gebruikers"}


def home_for(rol: Rol) -> str:
    return HOME.get(rol, "/vacatures")


# ---------------------------------------------------------------------------------------------- login


@router.get("/", response_class=HTMLResponse)
def start(request: Request) -> Response:
    try:
        web = current_session(request)
    except Exception:  # noqa: BLE001 - any session problem: go and log in
        return RedirectResponse("/inloggen", status_code=303)
    return RedirectResponse(home_for(web.user.rol), status_code=303)


@router.get("/inloggen", response_class=HTMLResponse)
def login_page(request: Request, volgende: str | None = None, melding: str | None = None) -> Response:
    return render(request, None, "inloggen.html", volgende=safe_next(volgende) or "", melding=melding, values={})


@router.post("/inloggen", response_class=HTMLResponse)
def login(
    request: Request,
    gebruikersnaam: Annotated[str, Form(max_length=200)] = "",
    wachtwoord: Annotated[str, Form(max_length=500)] = "",
    volgende: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    errors: dict[str, str] = {}
    if not gebruikersnaam.strip():
        errors["gebruikersnaam"] = "Vul uw gebruikersnaam in."
    if not wachtwoord:
        errors["wachtwoord"] = "Vul uw wachtwoord in."
    user, generation, status, headers = None, 0, 400, {}
    if not errors:
        # The API's own login: one text for a wrong password, an unknown and a deactivated account, and
        # the same throttle (429 with Retry-After), also for the right password.
        try:
            user, generation = security.check_login(request, gebruikersnaam, wachtwoord)
        except NotAuthenticated:
            errors["wachtwoord"] = (
                "Gebruikersnaam of wachtwoord klopt niet, of het account is niet actief; controleer beide en "
                "probeer het opnieuw."
            )
        except ProblemError as error:  # 429: too many failed logins, Retry-After says how long to wait
            status, headers = error.status, {"Retry-After": error.headers["Retry-After"]}
            errors["wachtwoord"] = error.detail
    if errors or user is None:
        values = {"gebruikersnaam": gebruikersnaam}
        page = render(
            request, None, "inloggen.html", status, errors=errors, values=values, volgende=safe_next(volgende) or ""
        )
        page.headers.update(headers)
        return page
    settings = request.app.state.settings
    response = RedirectResponse(safe_next(volgende) or home_for(user.rol), status_code=303)
    set_cookie(response, request, settings, tokens.create_access_token(settings, user, generation=generation))
    return response


@router.post("/uitloggen")
def logout(request: Request, web: Web, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(web, csrf)
    tokens.log_out(request.app.state.engine, web.user.username)  # a copied cookie stops working too
    response = RedirectResponse("/inloggen?melding=uitgelogd", status_code=303)
    clear_cookie(response)
    return response


# ------------------------------------------------------------------------------------------- vacatures


@router.get("/vacatures", response_class=HTMLResponse)
def vacancies(
    request: Request,
    web: Web,
    zoek: str = "",
    plaats: str = "",
    straal_km: Annotated[str, Query(alias="straalKm")] = "",
    bron: str = "",
    plaatsingsvorm: str = "",
    status: str = "open",
    pagina: str = "1",
) -> Response:
    """Vacancies (not personal data) by status (open first), filtered on source, placement form, place and
    distance, searched on words (:mod:`matching.vacancy_search`, the API's list's search too)."""
    errors: dict[str, str] = {}
    if status not in {s.value for s in VacancyStatus}:
        errors["status"] = "Kies open, vervuld of gesloten."
    if bron and bron not in {b.value for b in Bron}:
        errors["bron"] = "Kies WSP of Scalabor."
    if plaatsingsvorm and plaatsingsvorm not in {p.value for p in Plaatsingsvorm}:
        errors["plaatsingsvorm"] = "Kies een plaatsingsvorm uit de lijst."
    for name, value in (("zoek", zoek), ("plaats", plaats), ("straalKm", straal_km)):
        if len(value) > 100:
            errors[name] = "Gebruik hoogstens 100 tekens."
    page = int(pagina) if pagina.isdigit() and 0 < int(pagina) < 100_000 else 1
    listed = VacancyStatus(status) if "status" not in errors else VacancyStatus.OPEN
    statement = select(Vacancy).where(Vacancy.status == listed.value)
    found = vacancy_search.VacancyQuery()
    try:
        found = vacancy_search.parse(zoek, plaats, straal_km)
    except vacancy_search.SearchFieldError as refused:
        errors[refused.field] = error_text(refused)
    if not errors:
        if bron:
            statement = statement.where(Vacancy.bron == bron)
        if plaatsingsvorm:
            statement = statement.where(Vacancy.plaatsingsvorm == plaatsingsvorm)
        if (condition := found.where()) is not None:
            statement = statement.where(condition)
    with Session(request.app.state.engine) as session:
        total = session.exec(select(func.count()).select_from(statement.subquery())).one()
        rows = session.exec(
            statement.order_by(Vacancy.vacature_nummer).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
        ).all()
    own_counts = shortlist.own_counts(request.app.state.matcher, web.user, list(rows)) if not errors else {}
    values = {
        "zoek": zoek,
        "plaats": plaats,
        "straalKm": straal_km,
        "bron": bron,
        "plaatsingsvorm": plaatsingsvorm,
        "status": status,
    }
    query = urlencode({k: v for k, v in values.items() if v})
    return render(
        request,
        web,
        "vacatures.html",
        400 if errors else 200,
        rows=[(row, geo.place_of(row.postcode), found.km_to(row.postcode)) for row in rows],
        centre=found.centre,
        radius=found.radius_km,
        total=total,
        page=page,
        pages=max(1, -(-int(total) // PAGE_SIZE)),
        values=values,
        errors=errors,
        query=query,
        status_word=STATUS_WORDS[listed],
        statuses=[s.value for s in VacancyStatus],
        own_counts=own_counts,
    )


def _filter_values(params: dict[str, list[str]], user: User) -> dict[str, Any]:
    def one(name: str) -> str:
        return (params.get(name) or [""])[0]

    return {
        "straal": one("straal"),
        "uren": one("uren"),
        "top": one("top") or "20",
        "trede": params.get("trede", []),
        "route": params.get("route", []),
        "plaatsingsvorm": params.get("plaatsingsvorm", []),
        "heleBestand": one("heleBestand") == "ja",
        "eigen": shortlist.own_only(params, user),
    }


def _search(nummer: str, values: dict[str, Any]) -> CandidateSearch:
    return CandidateSearch.model_validate(
        {
            "vacatureId": nummer,
            "top": form_number(values["top"], "top", whole=True),
            "straalKm": form_number(values["straal"], "straal"),
            "minUren": form_number(values["uren"], "uren"),
            "trede": values["trede"] or None,
            "route": values["route"] or None,
            "plaatsingsvorm": values["plaatsingsvorm"] or None,
            "heleBestand": values["heleBestand"],
            "alleenEigenKlanten": values["eigen"],
            "doel": "bemiddeling",
        }
    )


def _vacancy(request: Request, nummer: str) -> Vacancy:
    with Session(request.app.state.engine) as session:
        vacancy = session.exec(select(Vacancy).where(Vacancy.vacature_nummer == nummer)).first()
    if vacancy is None:
        raise NotFoundError(f"vacature '{nummer}' bestaat niet")
    return vacancy


def candidates_page(
    request: Request, web: WebSession, nummer: str, params: dict[str, list[str]], status: int = 200, **extra: Any
) -> Response:
    """The vacancy with its candidate list as the role may see it; filter errors next to the fields."""
    vacancy = _vacancy(request, nummer)
    values = _filter_values(params, web.user)
    errors: dict[str, str] = {}
    listing: dict[str, Any] | None = None
    listing_error = None
    if web.user.rol in SEARCHERS:
        # The filters' errors stand at their fields, a refused search above the list.
        with refusals(errors, "lijst", FILTER_FIELDS):
            search = _search(vacancy.vacature_nummer, values)
            listing = matches.candidate_listing(
                request.app.state.settings, request.app.state.matcher, web.user, search.query(), trace(request)
            )
        listing_error = errors.pop("lijst", None)
        status = 400 if errors else status
        with Session(request.app.state.engine) as session:  # last night's list beside the live one
            extra["vannacht"] = batch_lists.nightly_section(
                request.app.state.settings, session, web.user, vacancy.vacature_nummer, trace(request)
            )
    query = urlencode({k: v for k, v in params.items() if k not in NOTICE_PARAMS}, doseq=True)
    own_view = web.user.rol == Rol.WERKCONSULENT
    engine = request.app.state.engine
    rejected = shortlist.own_rejections(engine, vacancy, web.user.consulent) if own_view else {}
    proposed = shortlist.own_proposals(engine, vacancy.vacature_nummer, web.user.consulent) if own_view else {}
    points = (
        shortlist.map_points(engine, vacancy, listing["resultaten"], web.user.consulent) if own_view and listing else []
    )
    return render(
        request,
        web,
        "kandidaten.html",
        status,
        vacancy=vacancy,
        listing=listing,
        listing_error=listing_error,
        values=values,
        errors=errors,
        query=query,
        distance=charts.distance_plot(listing["resultaten"]) if listing else "",
        area_map=charts.area_map(points, vacancy.vacature_nummer),
        map_points=points,
        rejected=rejected,
        proposed=proposed,
        all_clients=shortlist.all_clients_query(query),
        afwijs_labels=shortlist.AFWIJS_LABELS,
        voorstel_labels=shortlist.VOORSTEL_LABELS,
        **extra,
    )


@router.get("/vacatures/{nummer}", response_class=HTMLResponse)
def vacancy_page(request: Request, web: Web, nummer: str) -> Response:
    return candidates_page(request, web, nummer, parse_qs(request.url.query))


@router.get("/vacatures/{nummer}/kandidaten.{formaat}")
def export_shortlist(request: Request, web: Web, nummer: str, formaat: str) -> Response:
    """The candidate list with the page's filters as CSV or XLSX (audited as an export)."""
    require_role(web, *SEARCHERS)
    if formaat not in ("csv", "xlsx"):
        raise NotFoundError(f"export als '{formaat}' bestaat niet; kies csv of xlsx")
    vacancy = _vacancy(request, nummer)
    values = _filter_values(parse_qs(request.url.query), web.user)
    try:
        search = _search(vacancy.vacature_nummer, values)
    except (ValidationError, FieldError):
        return candidates_page(request, web, nummer, parse_qs(request.url.query), 400)
    settings, matcher = request.app.state.settings, request.app.state.matcher
    listing = matches.candidate_listing(
        settings, matcher, web.user, search.query(), trace(request), action="kandidatenlijst_geexporteerd"
    )
    header, rows = export.shortlist_rows(listing)
    name = f"kandidaten-{vacancy.vacature_nummer}"
    if formaat == "csv":
        body, media = export.to_csv(header, rows), "text/csv; charset=utf-8"
    else:
        body = export.to_xlsx(header, rows, vacancy.vacature_nummer)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}.{formaat}"', "Cache-Control": "no-store"},
    )
