"""Oversight for beheerder and data scientist: the kill switch (ranking mode) and the deviation report.

Both call the API's route functions: :func:`api.routes.instellingen.switch_ranking_mode` (reason
required, audited as ``rangschikking_omgezet``) and :func:`api.routes.rapportages.deviation_report`
(audited as ``afwijkingsrapport_opgevraagd``; consulenten as pseudonyms for the data scientist).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.routes.instellingen import Rangschikking, switch_ranking_mode
from api.routes.rapportages import deviation_report
from api.services.users import Rol
from api.web import charts
from api.web.common import refusals, render
from api.web.dagen import form_day
from api.web.models import models_page, ranking_state
from api.web.pages import Web
from api.web.session import WebSession, check_csrf, require_role

router = APIRouter(include_in_schema=False)
OVERSEERS = (Rol.BEHEERDER, Rol.DATA_SCIENTIST)
RETURN_PAGES = {"modellen": "/modellen", "toezicht": "/toezicht"}


def oversight_page(request: Request, web: WebSession, status: int = 200, **extra: Any) -> Response:
    """The kill switch and the deviation report for the period in the query (default: the last four weeks)."""
    require_role(web, *OVERSEERS)
    params = request.query_params
    values = {"vanaf": params.get("vanaf", ""), "tot": params.get("tot", "")}
    errors: dict[str, str] = {}
    first, last = form_day(values["vanaf"], "vanaf", errors), form_day(values["tot"], "tot", errors)
    report = None
    if not errors:
        with refusals(errors, "tot" if first and last and first > last else "vanaf"):
            report = deviation_report(request.app.state.matcher, web.user, request, vanaf=first, tot=last)
    if errors:
        status = 400 if status == 200 else status
    total = report["totaal"] if report else None
    picture = (
        charts.rank_bars(
            [("voorstellen", total["voorstellen"]["eigenRang"]), ("afwijzingen", total["afwijzingen"]["eigenRang"])]
        )
        if total
        else ""
    )
    return render(
        request,
        web,
        "toezicht.html",
        status,
        ranking=ranking_state(request, web),
        report=report,
        picture=picture,
        values=values,
        errors=errors,
        **extra,
    )


@router.get("/toezicht", response_class=HTMLResponse)
def oversight(request: Request, web: Web) -> Response:
    return oversight_page(request, web)


@router.post("/toezicht/rangschikking", response_class=HTMLResponse)
def switch(
    request: Request,
    web: Web,
    modus: Annotated[str, Form(max_length=20)] = "",
    reden: Annotated[str, Form(max_length=2000)] = "",
    terug: Annotated[str, Form(max_length=20)] = "toezicht",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Switch the ranking (the kill switch): from the next search on, for everyone; a reason is required."""
    check_csrf(web, csrf)
    require_role(web, *OVERSEERS)
    errors: dict[str, str] = {}
    if not reden.strip():
        errors["reden"] = "Geef een reden: leg vast waarom de rangschikking wordt omgezet."
    else:
        with refusals(errors, "reden"):
            switch_ranking_mode(
                Rangschikking(modus=modus, reden=reden.strip()), request.app.state.matcher, web.user, request
            )
    back = terug if terug in RETURN_PAGES else "toezicht"
    if not errors:
        return RedirectResponse(f"{RETURN_PAGES[back]}?rangschikking={modus}", status_code=303)
    form = {"modus": modus, "reden": reden, "errors": errors}
    if back == "modellen":
        return models_page(request, web, 400, ks_form=form)
    return oversight_page(request, web, 400, ks_form=form)
