"""Searching, for every caller: who asks decides what is shown, and every search is audited. No HTTP here.

The API (:mod:`api.routes.matches`), the web pages and the CLI (in process, when no service runs) call
:func:`candidate_listing` and :func:`vacancy_listing`. The viewer is built once, here, from the user
who asks (:func:`viewer_for`), and goes into the search (:mod:`matching.disclosure`), which does not
compute what the viewer may not see. Who may search what (``tests/api/test_api_roles.py`` holds the
matrix):

* **candidates for a vacancy**: a werkconsulent and an accountmanager. A werkconsulent sees every
  candidate, but what comes from beperkingen (health data: ``aandachtspuntenBeperkingen``,
  ``aanpassingen``, ``kansMetAanpassing``) only for clients in their own caseload, each result says
  whether it is their own client (``eigenKlant``), and "niet getoond, omdat…" names their own clients
  only (``nietGetoond.eigenKlanten``); an accountmanager sees pseudonymised summaries (a per-list
  pseudonym instead of the klantnummer, no beperkingen) until a consulent accepts. Beyond hiding
  fields, beperkingen outside the viewer's caseload exclude nobody and are counted nowhere, and their
  distances are bands, so differencing two lists reveals neither.
* **vacancies for a client**: a werkconsulent, for a client in their own caseload (another
  consulent's client answers as an unknown one does, so existence does not leak).

Each search is one database session and one transaction: the search, the exposure ledger, the audit
entry (who saw which clients, why) and the inference record are committed together, before the answer.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlmodel import Session, select

from api.services import audit, erasure, tokens
from api.services.users import Rol, User
from matching.disclosure import Viewer
from matching.domain import Client
from matching.errors import InvalidInputError, WerkmatchError
from matching.hard_filters import NO_FILTERS, CandidateFilters
from matching.matcher import Matcher
from matching.results import CandidateList, VacancyList
from matching.settings import Settings

CANDIDATE_ROLES = (Rol.WERKCONSULENT, Rol.ACCOUNTMANAGER)
VACANCY_ROLES = (Rol.WERKCONSULENT,)
DEFAULT_PURPOSE = "bemiddeling"


class NotPermitted(WerkmatchError):
    """The user's role may not search this way (the API answers such a user 403 before asking)."""


@dataclass(frozen=True)
class CandidateQuery:
    """A request for a candidate list, as every caller passes it."""

    vacature_id: str
    top: int = 20
    doel: str = DEFAULT_PURPOSE
    filters: CandidateFilters = NO_FILTERS
    # the filters as the request named them (camelCase, unset ones left out): for the inference log
    filter_inputs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VacancyQuery:
    """A request for a client's options."""

    klant_id: str
    top: int = 20
    doel: str = DEFAULT_PURPOSE


@dataclass(frozen=True)
class Trace:
    """Where a search came from: its correlation id and, from the CLI, who ran it on the host.

    ``origin`` goes into the audit entry's details, e.g. ``{"via": "cli", "osGebruiker": "jan"}``.
    """

    request_id: str
    origin: Mapping[str, str] | None = None


def viewer_for(user: User, purpose: str) -> Viewer:
    """The viewer a user searches as: a werkconsulent's caseload is seen in full, nobody else's."""
    caseload = user.consulent if user.rol == Rol.WERKCONSULENT else None
    return Viewer(
        caseload=caseload, gemeente=user.gemeente, username=user.username, rol=Rol(user.rol).value, purpose=purpose
    )


def admit(user: User, roles: Sequence[Rol]) -> None:
    """Refuse a user whose role may not search this way, in the words of the API's 403.

    Raises:
        NotPermitted: The role is not one of ``roles``.
    """
    if user.rol not in roles:
        names = [Rol(role).value for role in roles]
        needed = f"de rol {names[0]}" if len(names) == 1 else "een van de rollen " + " of ".join(names)
        raise NotPermitted(f"Hiervoor is {needed} nodig; u bent ingelogd als {Rol(user.rol).value}.")


def candidate_listing(
    settings: Settings,
    matcher: Matcher,
    user: User,
    query: CandidateQuery,
    trace: Trace,
    action: str = "kandidatenlijst_opgevraagd",
) -> dict[str, Any]:
    """A candidate list as ``user``'s role may see it, audited and logged: the API's JSON.

    Raises:
        NotFoundError: The vacancy does not exist.
        InvalidInputError: The vacancy is not open, ``top`` is out of range, or only own clients are
            asked for by a user without a caseload.
    """
    viewer = viewer_for(user, query.doel)
    check_own_only(viewer, query.filters)
    inputs = {"vacatureId": None, "top": query.top, "filters": dict(query.filter_inputs)}
    with Session(matcher.engine) as session:
        found = matcher.search_candidates(
            query.vacature_id, query.top, filters=query.filters, served=True, viewer=viewer, session=session
        )
        inputs["vacatureId"] = found.vacancy_id
        log_search(session, settings, viewer, found, trace, action=action, inputs=inputs)
        session.commit()
        outsiders = other_gemeenten(session, viewer, [item.client_id for item in found.results])
    return for_role(settings, viewer, found, outsiders).to_json()


def other_gemeenten(session: Session, viewer: Viewer, numbers: Sequence[str]) -> set[str]:
    """The klantnummers among ``numbers`` of clients outside the viewer's gemeente (none for a regional viewer)."""
    if viewer.gemeente is None or not numbers:
        return set()
    found = select(Client.client_nummer).where(
        Client.client_nummer.in_(numbers),  # type: ignore[attr-defined]
        Client.gemeente != viewer.gemeente,
    )
    return set(session.exec(found))


def check_own_only(viewer: Viewer, filters: CandidateFilters) -> None:
    """Refuse ``alleenEigenKlanten`` to a viewer without a caseload: there are no own clients to keep.

    Raises:
        InvalidInputError: ``filters.own_only`` for an accountmanager, or a werkconsulent account
            without a consulentcode.
    """
    if filters.own_only and viewer.caseload is None:
        raise InvalidInputError(
            f"alleenEigenKlanten: u bent ingelogd als {viewer.rol} zonder eigen caseload, dus er zijn geen "
            "eigen klanten om te tonen; laat alleenEigenKlanten weg of zet het op false"
        )


def for_role(
    settings: Settings, viewer: Viewer, found: CandidateList, outsiders: Collection[str] = ()
) -> CandidateList:
    """The list as the viewer's role may see it: a per-list pseudonym instead of a klantnummer where needed.

    An accountmanager sees every candidate under a pseudonym; a werkconsulent those of another gemeente
    of the region (``outsiders``, :func:`other_gemeenten`), until that client's own consulent takes the
    match up. A werkconsulent is always told whether a candidate is their own (an account without a
    consulent code has no caseload: then nobody is).
    """
    if viewer.rol == Rol.ACCOUNTMANAGER:
        hidden: Collection[str] = {item.client_id for item in found.results}
    elif viewer.rol == Rol.WERKCONSULENT:
        hidden = outsiders
    else:
        return found
    results = [
        replace(item, client_id=tokens.pseudonym(settings, found.vacancy_id, item.client_id))
        if item.client_id in hidden
        else item
        for item in found.results
    ]
    if viewer.rol == Rol.WERKCONSULENT and viewer.caseload is None:
        results = [replace(item, eigen_klant=False) for item in results]
    return replace(found, results=results)


def vacancy_listing(
    settings: Settings, matcher: Matcher, user: User, query: VacancyQuery, trace: Trace
) -> dict[str, Any]:
    """Vacancies for a client of ``user``'s own caseload (another's answers as an unknown one), audited.

    Raises:
        NotFoundError: The client does not exist, or is not in the user's caseload.
    """
    viewer = viewer_for(user, query.doel)
    with Session(matcher.engine) as session:
        found = matcher.search_vacancies(query.klant_id, query.top, viewer=viewer, session=session)
        inputs = {"klantId": found.client_id, "top": query.top}
        log_search(session, settings, viewer, found, trace, action="vacatures_voor_klant", inputs=inputs)
        session.commit()
    return found.to_json()


def log_search(
    session: Session,
    settings: Settings,
    viewer: Viewer,
    found: CandidateList | VacancyList,
    trace: Trace,
    *,
    action: str,
    inputs: Mapping[str, Any],
) -> None:
    """The audit entry (who saw which clients, why) and the inference record; the caller commits.

    Takes the audit write lock first, so no erasure commits between the check below and the write: a
    client erased while this search ran is logged under their tombstone pseudonym, not the number.
    """
    if isinstance(found, CandidateList):
        kind, query_ref = "kandidaten", found.vacancy_id
        ids = [item.client_id for item in found.results]
    else:
        kind, query_ref = "vacatures", found.client_id
        ids = [item.vacancy_id for item in found.results]
    audit.lock_head(session)
    gone = erasure.erased_meanwhile(session, settings, ids if kind == "kandidaten" else [query_ref])
    if gone:
        ids = [gone.get(number, number) for number in ids]
        query_ref = gone.get(query_ref, query_ref)
        inputs = {key: gone.get(value, value) if isinstance(value, str) else value for key, value in inputs.items()}
    actor = viewer.username or "intern"
    audit.record(
        session,
        actor=actor,
        rol=viewer.rol or "intern",
        action=action,
        purpose=viewer.purpose or DEFAULT_PURPOSE,
        subjects=[query_ref, *ids],
        details=trace.origin,
        request_id=trace.request_id,
        gemeente=viewer.gemeente,
    )
    audit.log_inference(
        session,
        request_id=trace.request_id,
        actor=actor,
        kind=kind,
        query_ref=query_ref,
        model=found.ranked_by,
        index=found.index.to_json(),
        inputs=inputs,
        output=[[number, item.score] for number, item in zip(ids, found.results, strict=True)],
    )
