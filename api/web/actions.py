"""What a user does on a vacancy's candidate list: voorstellen, afwijzen and doorsturen (consulent), pushen
(accountmanager).

Each action calls the API's route function (:mod:`api.routes.voorstellen`, :mod:`api.routes.inbox`),
so the caseload check, the audit entry, the training label and the Dutch refusal are the API's. A
success redirects (post / redirect / get: a refresh shows the page again and sends nothing twice) back to
the candidate's own card (``#kandidaat-<klantnummer>``), where the confirmation stands; a refusal shows
the list again with the message on that card, focus moved to it, and what was typed still there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import parse_qs, quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.routes.inbox import DoorsturenIn, PushIn, hand_over, push_vacature
from api.routes.voorstellen import KandidaatAfwijzenIn, VoorstelIn, make_voorstel, reject_candidate
from api.services import voorstellen
from api.services.users import Rol
from api.web import shortlist
from api.web.common import blank_to_none, refusals
from api.web.formats import datum, form_number
from api.web.pages import Web, candidates_page
from api.web.session import check_csrf, require_role
from matching import outcomes

router = APIRouter(include_in_schema=False)
NOTE_FIELDS = {"toelichting": "toelichting", "reden": "reden", "klantId": "klant", "klant_id": "klant"}


def _back_to_list(nummer: str, filters: str, card: str = "", **notice: str | int) -> RedirectResponse:
    """The candidate list with the same filters and a notice of what was done, at ``card``'s candidate if given."""
    kept = {k: v for k, v in parse_qs(filters).items() if k not in notice}
    query = urlencode({**kept, **{k: [str(v)] for k, v in notice.items()}}, doseq=True)
    anchor = f"#kandidaat-{quote(card, safe='')}" if card else ""
    return RedirectResponse(f"/vacatures/{nummer}?{query}{anchor}", status_code=303)


def _reason_refused(check: Callable[[str, str], object], reden: str, toelichting: str) -> dict[str, str]:
    """The API's reason check (:mod:`api.services.voorstellen`) as field errors; empty when it passes.

    'anders' without a toelichting, or a toelichting too long, is the toelichting's error; the rest the reason's.
    """
    note = toelichting.strip()
    about_note = (reden.strip().lower() == "anders" and not note) or len(note) > outcomes.TOELICHTING_MAX
    errors: dict[str, str] = {}
    with refusals(errors, "toelichting" if about_note else "reden"):
        check(reden, toelichting)
    return errors


@router.post("/vacatures/{nummer}/voorstellen", response_class=HTMLResponse)
def propose(
    request: Request,
    web: Web,
    nummer: str,
    klant: Annotated[str, Form(max_length=64)] = "",
    reden: Annotated[str, Form(max_length=40)] = "",
    toelichting: Annotated[str, Form(max_length=2000)] = "",
    filters: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Voorstellen from the candidate list with an optional reason code (``VoorstelIn.reden``)."""
    check_csrf(web, csrf)
    require_role(web, Rol.WERKCONSULENT)
    earlier = shortlist.own_proposals(request.app.state.engine, nummer, web.user.consulent)
    if klant in earlier:  # a second click, or Back and again: say so in words, change nothing
        when = datum(earlier[klant]["op"], tijd=False)
        said = f"{klant} is al voorgesteld voor deze vacature (op {when}); er is niets opnieuw verstuurd."
        errors = {"algemeen": said}
        form = {"klant": klant, "reden": reden, "toelichting": toelichting, "errors": errors}
        return candidates_page(request, web, nummer, parse_qs(filters), 409, voorstel_form=form)
    errors = _reason_refused(voorstellen.voorstel_reden, reden, toelichting)
    if not errors:
        with refusals(errors, names=NOTE_FIELDS):
            body = VoorstelIn(
                klant_id=klant, vacature_id=nummer, reden=blank_to_none(reden), toelichting=blank_to_none(toelichting)
            )
            make_voorstel(body, request.app.state.matcher, web.user, request)
            return _back_to_list(nummer, filters, card=klant, voorgesteld=klant)
    form = {"klant": klant, "reden": reden, "toelichting": toelichting, "errors": errors}
    return candidates_page(request, web, nummer, parse_qs(filters), 400, voorstel_form=form)


@router.post("/vacatures/{nummer}/afwijzingen", response_class=HTMLResponse)
def reject(
    request: Request,
    web: Web,
    nummer: str,
    klant: Annotated[str, Form(max_length=64)] = "",
    reden: Annotated[str, Form(max_length=40)] = "",
    toelichting: Annotated[str, Form(max_length=2000)] = "",
    filters: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Afwijzen met reden: the API's ``POST /vacatures/{nummer}/afwijzingen`` (audited, mostly a training label)."""
    check_csrf(web, csrf)
    require_role(web, Rol.WERKCONSULENT)
    if not reden.strip():
        errors = {"reden": "Kies een reden om deze kandidaat af te wijzen."}
    else:  # the API's own check first ('gezondheid' refused, 'anders' needs a toelichting): its message has a field
        errors = _reason_refused(voorstellen.afwijs_reden, reden, toelichting)
    if not errors:
        with refusals(errors, names=NOTE_FIELDS):
            body = KandidaatAfwijzenIn(klant_id=klant, reden=reden, toelichting=blank_to_none(toelichting))
            reject_candidate(nummer, body, request.app.state.matcher, web.user, request)
            return _back_to_list(nummer, filters, card=klant, afgewezen=klant)
    form = {"klant": klant, "reden": reden, "toelichting": toelichting, "errors": errors}
    return candidates_page(request, web, nummer, parse_qs(filters), 400, afwijs_form=form)


@router.post("/vacatures/{nummer}/push", response_class=HTMLResponse)
def push(
    request: Request,
    web: Web,
    nummer: str,
    aantal: Annotated[str, Form(max_length=10)] = "",
    toelichting: Annotated[str, Form(max_length=2000)] = "",
    filters: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """The accountmanager's warm hand-over: the best candidates go to their consulenten's inboxes."""
    check_csrf(web, csrf)
    require_role(web, Rol.ACCOUNTMANAGER)
    errors: dict[str, str] = {}
    with refusals(errors, "aantal"):
        typed = form_number(aantal, "aantal", whole=True)
        body = PushIn(aantal=5 if typed is None else typed, toelichting=blank_to_none(toelichting))
        result = push_vacature(nummer, body, request.app.state.matcher, web.user, request)
        counts = {key: int(result[key]) for key in ("aangemaakt", "overgeslagen")}
        # To the own pushes, the result on top: who received it by name, or why nobody (api.web.pushes).
        return RedirectResponse(f"/pushes?{urlencode({'vacature': nummer, **counts})}", status_code=303)
    form = {"aantal": aantal, "toelichting": toelichting, "errors": errors}
    return candidates_page(request, web, nummer, parse_qs(filters), 400, push_form=form)


@router.post("/vacatures/{nummer}/doorsturen", response_class=HTMLResponse)
def forward(
    request: Request,
    web: Web,
    nummer: str,
    referentie: Annotated[str, Form(max_length=40)] = "",
    toelichting: Annotated[str, Form(max_length=2000)] = "",
    filters: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Hand another gemeente's candidate (shown under a pseudonym) to that client's consulent (the API's doorsturen)."""
    check_csrf(web, csrf)
    require_role(web, Rol.WERKCONSULENT)
    errors: dict[str, str] = {}
    with refusals(errors, "toelichting"):
        body = DoorsturenIn(referentie=referentie, toelichting=blank_to_none(toelichting))
        result = hand_over(nummer, body, request.app.state.matcher, web.user, request)
        names = [name for receiver in result["ontvangers"] for name in receiver["namen"]]
        told = ", ".join(names) if names else "de consulent van deze klant (nu niemand actief)"
        notice = {"doorgestuurd": referentie, "naar": told} if result["aangemaakt"] else {"al_doorgestuurd": referentie}
        return _back_to_list(nummer, filters, card=referentie, **notice)
    form = {"klant": referentie, "toelichting": toelichting, "errors": errors}
    return candidates_page(request, web, nummer, parse_qs(filters), 400, doorstuur_form=form)
