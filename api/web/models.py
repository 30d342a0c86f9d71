"""The data scientist's page: ranker versions and who promoted them, the match funnel, promote, the kill switch.

The list and the promotion are the API's own route functions (:mod:`api.routes.modellen`), so the
gates, the audit entry and the refusal's figures are the same as over HTTP.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from sqlalchemy import func
from sqlmodel import Session, select

from api.routes.instellingen import read_ranking_mode
from api.routes.modellen import PromotieVerzoek, list_models, model_card, model_fairness, promote_challenger
from api.services.users import Rol
from api.web import charts
from api.web.common import blank_to_none, refusals, render
from api.web.formats import datum
from api.web.pages import Web
from api.web.session import WebSession, check_csrf, require_role
from matching.domain import Vacancy
from matching.outcomes import Voorstel, VoorstelEvent

router = APIRouter(include_in_schema=False)


def funnel_counts(engine: Any) -> list[dict[str, Any]]:
    """Per source: voorstellen made, how many reached geplaatst, how many duurzaam (counts only, no clients)."""
    reached: dict[str, dict[str, int]] = {}
    with Session(engine) as session:
        made = session.exec(
            select(Vacancy.bron, func.count(Voorstel.id))  # type: ignore[arg-type]
            .join(Vacancy, Vacancy.id == Voorstel.vacancy_id)  # type: ignore[arg-type]
            .group_by(Vacancy.bron)
        ).all()
        steps = session.exec(
            select(Vacancy.bron, VoorstelEvent.to_status, func.count(func.distinct(VoorstelEvent.voorstel_id)))
            .join(Voorstel, Voorstel.id == VoorstelEvent.voorstel_id)  # type: ignore[arg-type]
            .join(Vacancy, Vacancy.id == Voorstel.vacancy_id)  # type: ignore[arg-type]
            .where(VoorstelEvent.to_status.in_(["geplaatst", "duurzaam"]))  # type: ignore[attr-defined]
            .group_by(Vacancy.bron, VoorstelEvent.to_status)
        ).all()
    for bron, status, count in steps:
        reached.setdefault(bron, {})[status] = int(count)
    return [
        {
            "bron": bron,
            "voorgesteld": int(count),
            "geplaatst": reached.get(bron, {}).get("geplaatst", 0),
            "duurzaam": reached.get(bron, {}).get("duurzaam", 0),
        }
        for bron, count in sorted(made)
    ]


def ranking_state(request: Request, web: WebSession) -> dict[str, Any]:
    """The kill switch as the API's ``GET /instellingen/rangschikking`` gives it, the moment in local time."""
    state = read_ranking_mode(request.app.state.matcher, web.user).model_dump()
    if state.get("gewijzigd_op"):
        state["gewijzigd_op"] = datum(state["gewijzigd_op"])
    return state


def models_page(request: Request, web: WebSession, status: int = 200, **extra: Any) -> Response:
    require_role(web, Rol.DATA_SCIENTIST, Rol.BEHEERDER)
    app = request.app
    overview, refused = None, {}
    with refusals(refused):
        overview = list_models(web.user, app.state.matcher, app.state.settings).model_dump(by_alias=True)
    rows = funnel_counts(app.state.engine)
    extra.setdefault("ranking", ranking_state(request, web))
    return render(
        request,
        web,
        "modellen.html",
        status,
        overview=overview,
        overview_error=refused.get("algemeen"),
        funnel=rows,
        funnel_svg=charts.funnel(rows),
        **extra,
    )


@router.get("/modellen", response_class=HTMLResponse)
def models(request: Request, web: Web) -> Response:
    return models_page(request, web)


@router.post("/modellen/promoveren", response_class=HTMLResponse)
def promote(
    request: Request,
    web: Web,
    forceer: Annotated[str, Form(max_length=10)] = "",
    reden: Annotated[str, Form(max_length=2000)] = "",
    verantwoording: Annotated[str, Form(max_length=4000)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Promote the challenger; a refusal shows the API's reason and figures, the form keeps what was typed."""
    check_csrf(web, csrf)
    require_role(web, Rol.DATA_SCIENTIST)
    app = request.app
    errors: dict[str, str] = {}
    result = None
    forced = forceer == "ja"
    if forced and not (reden or "").strip():
        errors["reden"] = "Geef een reden: leg vast waarom dit model toch champion wordt."
    else:
        with refusals(errors, "promotie"):
            body = PromotieVerzoek(
                forceer=forced, reden=blank_to_none(reden), verantwoording=blank_to_none(verantwoording)
            )
            result = promote_challenger(body, web.user, app.state.matcher, app.state.settings, request)
    form = {"forceer": forced, "reden": reden, "verantwoording": verantwoording, "errors": errors}
    return models_page(
        request, web, 400 if errors else 200, promote_form=form, promoted=result.model_dump() if result else None
    )


@router.get("/modellen/{versie}/modelkaart")
def card(request: Request, web: Web, versie: str) -> Response:
    """The model card (Markdown, shown as plain text) of the API's ``GET /api/v1/modellen/{versie}/modelkaart``."""
    require_role(web, Rol.DATA_SCIENTIST, Rol.BEHEERDER)
    text = model_card(versie, web.user, request.app.state.settings)
    return PlainTextResponse(text.body, media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-store"})


@router.get("/modellen/{versie}/fairness", response_class=HTMLResponse)
def fairness(request: Request, web: Web, versie: str) -> Response:
    """The fairness report of a version: the API's ``GET /api/v1/modellen/{versie}/fairness`` as a page."""
    require_role(web, Rol.DATA_SCIENTIST, Rol.BEHEERDER)
    report = model_fairness(versie, web.user, request.app.state.settings)
    return render(request, web, "fairness.html", report=report)
