"""The beheerder's pages: accounts (list, create, change role, deactivate) and the audit log (search, chain check).

Accounts go through the API's route functions (:mod:`api.routes.gebruikers`: the same rules, the same
audit entries ``gebruiker_aangemaakt`` and ``gebruiker_gewijzigd``, the same Dutch refusals); the
audit log through :func:`api.services.audit.query` and :func:`api.services.audit.verify_chain`, which the API's
``audit/zoeken`` and ``audit/controle`` call.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session

from api.problems import ProblemError
from api.routes.audit import AuditSearch
from api.routes.gebruikers import GebruikerNieuw, GebruikerWijziging, add_user, change_user, list_users, read_user
from api.routes.toekenningen import approve_grant, reject_grant
from api.services import audit, grants, inbox
from api.services.users import Rol
from api.web.common import blank_to_none, error_text, refusals, render
from api.web.dagen import form_day
from api.web.pages import Web
from api.web.session import WebSession, check_csrf, require_role
from matching.errors import NotFoundError, WerkmatchError

router = APIRouter(include_in_schema=False)
AUDIT_PAGE = 50
# The API's names (GebruikerNieuw) of the form's fields username and password.
USER_FIELDS = {
    "gebruikersnaam": "username",
    "wachtwoord": "password",
    "rol": "rol",
    "consulent": "consulent",
    "naam": "naam",
}
# Which field a refusal of api.services.accounts is about, by the words its Dutch message starts with.
_MESSAGE_FIELD = (
    ("wachtwoord", "password"),
    ("gebruikersnaam", "username"),
    ("naam", "naam"),
    ("een werkconsulent", "consulent"),
    ("werkconsulent", "consulent"),
    ("alleen een werkconsulent", "consulent"),
    ("consulentcode", "consulent"),
    ("'", "rol"),
    ("u kunt uw eigen rol", "rol"),
    ("u kunt uw eigen account", "actief"),
)


def _field_of(message: str, default: str) -> str:
    lowered = message.lower()
    for start, field in _MESSAGE_FIELD:
        if lowered.startswith(start):
            return field
    return default


# ------------------------------------------------------------------------------------------ gebruikers


def users_page(request: Request, web: WebSession, status: int = 200, **extra: Any) -> Response:
    require_role(web, Rol.BEHEERDER)
    accounts = list_users(web.user, request.app.state.engine).gebruikers
    waiting = grants.grants(request.app.state.engine, web.user, grants.Status.OPEN)
    return render(
        request,
        web,
        "gebruikers.html",
        status,
        accounts=accounts,
        toekenningen=waiting,
        rollen=[rol.value for rol in Rol],
        nieuw=extra.pop("nieuw", None) or {"rol": Rol.WERKCONSULENT.value},
        **extra,
    )


@router.get("/beheer/gebruikers", response_class=HTMLResponse)
def users(request: Request, web: Web) -> Response:
    return users_page(request, web)


@router.post("/beheer/gebruikers", response_class=HTMLResponse)
def create(
    request: Request,
    web: Web,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=500)] = "",
    rol: Annotated[str, Form(max_length=40)] = "",
    consulent: Annotated[str, Form(max_length=200)] = "",
    naam: Annotated[str, Form(max_length=400)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """A new account (the API's ``POST /gebruikers``); a refusal stands next to its field; no password echoed."""
    check_csrf(web, csrf)
    require_role(web, Rol.BEHEERDER)
    errors: dict[str, str] = {}
    with refusals(errors, lambda message: _field_of(message, "username"), USER_FIELDS):
        body = GebruikerNieuw(
            gebruikersnaam=username.strip(),
            wachtwoord=password,
            rol=rol,
            consulent=blank_to_none(consulent),
            naam=blank_to_none(naam),
        )
        made = add_user(body, web.user, request.app.state.engine, request, Response())
        return RedirectResponse(f"/beheer/gebruikers?aangemaakt={quote(made.username)}", status_code=303)
    form = {"username": username, "rol": rol, "consulent": consulent, "naam": naam, "errors": errors}
    return users_page(request, web, 400, nieuw=form)


@router.post("/beheer/gebruikers/{gebruikersnaam}", response_class=HTMLResponse)
def change(
    request: Request,
    web: Web,
    gebruikersnaam: str,
    actie: Annotated[str, Form(max_length=20)] = "",
    rol: Annotated[str, Form(max_length=40)] = "",
    consulent: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Deactivate, activate, or change role and consulentcode (the API's ``PATCH /gebruikers/{naam}``)."""
    check_csrf(web, csrf)
    require_role(web, Rol.BEHEERDER)
    errors: dict[str, str] = {}
    with refusals(errors, lambda message: _field_of(message, "rol"), USER_FIELDS):
        if actie in ("deactiveren", "activeren"):
            body = GebruikerWijziging(actief=actie == "activeren")
        else:
            body = _role_change(request, web, gebruikersnaam, rol, blank_to_none(consulent))
        change_user(gebruikersnaam, body, web.user, request.app.state.engine, request)
        return RedirectResponse(f"/beheer/gebruikers?gewijzigd={quote(gebruikersnaam)}", status_code=303)
    form = {"username": gebruikersnaam, "actie": actie, "rol": rol, "consulent": consulent, "errors": errors}
    return users_page(request, web, 400, wijziging=form)


@router.post("/beheer/toekenningen/{toekenning_id}", response_class=HTMLResponse)
def decide_grant(
    request: Request,
    web: Web,
    toekenning_id: int,
    besluit: Annotated[str, Form(max_length=20)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Approve (as the second beheerder) or refuse a caseload request, through :mod:`api.routes.toekenningen`."""
    check_csrf(web, csrf)
    require_role(web, Rol.BEHEERDER)
    decide = {"goedkeuren": approve_grant, "afwijzen": reject_grant}.get(besluit)
    try:
        if decide is None:
            raise ProblemError(400, "Ongeldige invoer", "Kies goedkeuren of afwijzen.")
        decide(request, web.user, toekenning_id)
    except (WerkmatchError, ProblemError) as error:
        status = error.status if isinstance(error, ProblemError) else 404 if isinstance(error, NotFoundError) else 409
        return users_page(request, web, status, toekenningfout=error_text(error))
    return RedirectResponse(f"/beheer/gebruikers?toekenning={toekenning_id}&besluit={besluit}", status_code=303)


def _role_change(
    request: Request, web: WebSession, gebruikersnaam: str, rol: str, consulent: str | None
) -> GebruikerWijziging:
    """Rol and consulentcode from the row's form.

    The form shows the current code; moving a werkconsulent to another role leaves it out, so the API
    drops the caseload itself (as ``PATCH`` without ``consulent`` does). A code typed for another
    role is passed on, and the API refuses it next to the field.
    """
    current = read_user(gebruikersnaam, web.user, request.app.state.engine)
    if rol != Rol.WERKCONSULENT.value and consulent in (current.consulent, current.aangevraagd):
        return GebruikerWijziging(rol=rol)
    return GebruikerWijziging(rol=rol, consulent=consulent)


# ------------------------------------------------------------------------------------------ auditlog


@router.get("/beheer/audit", response_class=HTMLResponse)
def audit_log(
    request: Request,
    web: Web,
    actor: str = "",
    actie: str = "",
    subject: str = "",
    vanaf: str = "",
    tot: str = "",
    pagina: str = "1",
    controle: str = "",
) -> Response:
    """Search the audit log (newest first, 50 a page) and, on request, recompute its hash chain."""
    require_role(web, Rol.BEHEERDER)
    errors: dict[str, str] = {}
    first, last = form_day(vanaf, "vanaf", errors), form_day(tot, "tot", errors)
    if first and last and first > last:
        errors["tot"] = "De einddatum ligt vóór de begindatum; draai ze om."
    page = int(pagina) if pagina.isdigit() and 0 < int(pagina) < 100_000 else 1
    values = {"actor": actor, "actie": actie, "subject": subject, "vanaf": vanaf, "tot": tot}
    entries: list[dict[str, Any]] = []
    more = False
    chain = None
    total = 0
    if not errors:
        with refusals(errors, names={"gebruiker": "actor", "betrokkene": "subject"}):
            search = AuditSearch(
                gebruiker=blank_to_none(actor),
                actie=blank_to_none(actie),
                betrokkene=blank_to_none(subject),
                vanaf=datetime.combine(first, time.min, inbox.LOCAL_TIME) if first else None,
                tot=datetime.combine(last + timedelta(days=1), time.min, inbox.LOCAL_TIME) if last else None,
                aantal=AUDIT_PAGE + 1,  # one more than shown: is there a next page?
                overslaan=(page - 1) * AUDIT_PAGE,
            )
    if not errors:
        with Session(request.app.state.engine) as session:
            entries = audit.query(session, **search.filters())
            total = audit.count(session, **search.where())
            if controle:
                chain = audit.verify_chain(session)
        more = len(entries) > AUDIT_PAGE
        entries = entries[:AUDIT_PAGE]
    for entry in entries:
        entry["lokaal"] = datetime.fromisoformat(entry["at"]).astimezone(inbox.LOCAL_TIME)
    query = urlencode({k: v for k, v in values.items() if v})
    return render(
        request,
        web,
        "audit.html",
        400 if errors else 200,
        values=values,
        errors=errors,
        entries=entries,
        page=page,
        more=more,
        total=total,
        pages=max(1, -(-total // AUDIT_PAGE)),
        size=AUDIT_PAGE,
        query=query,
        chain=chain,
    )
