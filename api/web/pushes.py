"""The accountmanager's pushes: the result of a push, and every own push with its state per consulent.

The push itself is a form on a vacancy's candidate list (:mod:`api.web.actions`); after it the browser
lands here (post/redirect/get), where the newest push stands on top with the consulenten it reached
by name, or, when it reached nobody, why (:func:`api.services.pushes.reach_note`). The list is the
API's ``GET /api/v1/pushes`` (:func:`api.routes.inbox.read_pushes`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.routes.inbox import read_pushes
from api.services import pushes
from api.services.users import Rol
from api.web import paging
from api.web.common import render
from api.web.pages import Web
from api.web.session import WebSession, require_role

router = APIRouter(include_in_schema=False)
PUSH_PAGE = 25  # a push takes several lines (one per consulent)


def _count(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 6 else 0


def _result(request: Request, newest: dict[str, Any] | None) -> dict[str, Any] | None:
    """The notice after a push (``?vacature=…&aangemaakt=…&overgeslagen=…``): counts, receivers, why nobody."""
    params = request.query_params
    vacature = params.get("vacature")
    if not vacature:
        return None
    created, skipped = _count(params.get("aangemaakt")), _count(params.get("overgeslagen"))
    reached = newest["ontvangers"] if newest and newest["vacature_id"] == vacature and created else []
    return {
        "vacature": vacature,
        "aangemaakt": created,
        "overgeslagen": skipped,
        "ontvangers": reached,
        "niet_bereikt": pushes.reach_note(created + skipped, created, reached),
    }


def pushes_page(request: Request, web: WebSession) -> Response:
    require_role(web, Rol.ACCOUNTMANAGER)
    matcher = request.app.state.matcher

    def read(page: int) -> dict[str, Any]:
        return read_pushes(matcher, web.user, request, pagina=page, pagina_grootte=PUSH_PAGE)

    found = read(paging.page_number(request.query_params.get("pagina")))
    where = paging.Position.of(found["pagina"], found["totaal"], PUSH_PAGE)
    if where.page != found["pagina"]:  # past the last page: show the last one
        found = read(where.page)
    newest = found["pushes"][0] if found["pushes"] and where.page == 1 else None
    return render(
        request,
        web,
        "pushes.html",
        pushes=found["pushes"],
        totaal=found["totaal"],
        positie=where,
        resultaat=_result(request, newest),
        staten=pushes.STATES,
    )


@router.get("/pushes", response_class=HTMLResponse)
def own_pushes(request: Request, web: Web) -> Response:
    """The own pushes, newest first; after a push, its result on top."""
    return pushes_page(request, web)
