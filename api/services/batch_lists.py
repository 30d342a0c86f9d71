"""A vacancy's candidate list "van vannacht" (the nightly batch, :mod:`training.batch_match`), cut as the live one;
a client's vacancies of last night for the client's own werkconsulent (:func:`nightly_vacancies`).

The nightly list was ranked as for a viewer without a caseload (nobody's beperkingen shaped it), so
each role sees it as it sees the live list (:mod:`api.services.matches`, :mod:`matching.disclosure`):

* an accountmanager: every candidate under the per-list pseudonym;
* a werkconsulent: the own caseload by klantnummer (``eigenKlant``), a client of another gemeente of
  the region under the pseudonym, and none of the own clients whom a hard beperking conflict keeps
  off the live list (their beperkingen are the only ones this viewer may let shape a list);
* nobody: beperkingen, kansen, exact distances (a nightly list stores rank, client and scores only).

Each look is audited as a live search is (who saw which clients, why). A list of an own client whom
a beperking keeps off is shorter by that client, not topped up: the live list is one click away.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from api.services import audit, erasure, tokens
from api.services.matches import Trace, other_gemeenten, viewer_for
from api.services.users import Rol, User
from matching import compatibility
from matching.annotate import offered_by
from matching.batch_lists import BatchPartition, NachtKandidaatBase, served_list
from matching.compatibility import Status
from matching.disclosure import Viewer
from matching.domain import Client, Vacancy, utcnow
from matching.errors import NotFoundError
from matching.lookup import find_client, find_vacancy
from matching.results import ranker_json
from matching.settings import Settings

ACTION = "kandidatenlijst_vannacht_opgevraagd"


def _kept_off(client: Client, vacancy: Vacancy) -> bool:
    """A hard beperking conflict between the client and the vacancy (what keeps an own client off the live list)."""
    conflicts = compatibility.pair_aanpassingen(client.beperkingen, vacancy.belasting, offered_by(vacancy))
    return any(item.status == Status.HARD for item in conflicts)


def _shown_rows(
    viewer: Viewer, vacancy: Vacancy, found: list[tuple[NachtKandidaatBase, Client]]
) -> list[tuple[NachtKandidaatBase, Client]]:
    """The list's rows with their clients, best first, less own clients a beperking keeps off."""
    if viewer.caseload is None:
        return found
    return [
        (row, client) for row, client in found if client.consulent != viewer.caseload or not _kept_off(client, vacancy)
    ]


def _not_found(number: str) -> NotFoundError:
    return NotFoundError(
        f"er is geen lijst van vannacht voor vacature {number}: de nachtelijke match heeft nog niet gedraaid, "
        "de vacature was toen niet open of had geen kandidaten binnen bereik; gebruik de actuele kandidatenlijst"
    )


def _audit_shown(
    settings: Settings,
    session: Session,
    user: User,
    viewer: Viewer,
    trace: Trace,
    action: str,
    numbers: list[str],
    *leading: str,
) -> None:
    """Log that ``user`` was shown a nightly list naming the clients ``numbers`` (after ``leading``); commits.

    The log names the clients as a live search's does (an erased client by the erasure's placeholder).
    """
    audit.lock_head(session)
    gone = erasure.erased_meanwhile(session, settings, numbers)
    audit.record(
        session,
        actor=user.username,
        rol=Rol(user.rol).value,
        action=action,
        purpose=viewer.purpose or "bemiddeling",
        subjects=[*leading, *(gone.get(n, n) for n in numbers)],
        details=trace.origin,
        request_id=trace.request_id,
        gemeente=viewer.gemeente,
    )
    session.commit()


def nightly_candidates(settings: Settings, session: Session, user: User, number: str, trace: Trace) -> dict[str, Any]:
    """The vacancy's nightly list as ``user``'s role may see it, audited (the caller's session is committed).

    Raises:
        NotFoundError: the vacancy does not exist, or has no nightly list.
        ConflictError: nights kept finishing while it read (:func:`matching.batch_lists.served_list`).
    """
    viewer = viewer_for(user, "bemiddeling")
    vacancy = find_vacancy(session, number)
    served = served_list(session, "vacatures", vacancy.id or 0)
    rows = [] if served is None else _shown_rows(viewer, vacancy, served.rows)
    if served is None or not rows:
        raise _not_found(vacancy.vacature_nummer)
    numbers = [client.client_nummer for _, client in rows]
    hidden = set(numbers) if user.rol == Rol.ACCOUNTMANAGER else other_gemeenten(session, viewer, numbers)
    shown = [tokens.pseudonym(settings, vacancy.vacature_nummer, n) if n in hidden else n for n in numbers]
    _audit_shown(settings, session, user, viewer, trace, ACTION, numbers, vacancy.vacature_nummer)
    return _listing(vacancy, served.mark, viewer, rows, shown)


def _listing(
    vacancy: Vacancy,
    mark: BatchPartition,
    viewer: Viewer,
    rows: list[tuple[NachtKandidaatBase, Client]],
    shown: list[str],
) -> dict[str, Any]:
    computed: datetime = mark.committed_at
    results = []
    for rank, ((row, client), number) in enumerate(zip(rows, shown, strict=True), start=1):
        item: dict[str, Any] = {
            "rang": rank,
            "klantId": number,
            "score": row.score,
            "rangschikkingsscore": row.ranking_score,
            "trede": client.trede,
            "route": client.route,
        }
        if viewer.rol == Rol.WERKCONSULENT.value:
            item["eigenKlant"] = viewer.caseload is not None and client.consulent == viewer.caseload
        results.append(item)
    return {
        "vacatureId": vacancy.vacature_nummer,
        "titel": vacancy.titel,
        "berekendOp": computed.isoformat(),
        "leeftijdUren": round((utcnow() - computed).total_seconds() / 3600, 1),
        "gerangschiktDoor": ranker_json(mark.ranked_by),
        "resultaten": results,
    }


def nightly_section(
    settings: Settings, session: Session, user: User, number: str, trace: Trace
) -> dict[str, Any] | None:
    """:func:`nightly_candidates` for the web's candidate page: None where there is no list of last night."""
    try:
        return nightly_candidates(settings, session, user, number, trace)
    except NotFoundError:
        return None


VACANCIES_ACTION = "vacaturelijst_vannacht_opgevraagd"


def nightly_vacancies(settings: Settings, session: Session, user: User, number: str, trace: Trace) -> dict[str, Any]:
    """A client's nightly list of vacancies for the client's own werkconsulent, audited (the session is committed).

    As the live options (:func:`api.services.matches.vacancy_listing`): another consulent's client
    answers as an unknown one, so existence does not leak; the list was ranked as the client's own
    consulent's live search ranks it (the client's beperkingen shape it).

    Raises:
        NotFoundError: the client does not exist, is not in the user's caseload, or has no nightly list.
        ConflictError: nights kept finishing while it read (:func:`matching.batch_lists.served_list`).
    """
    viewer = viewer_for(user, "bemiddeling")
    client = find_client(session, number)
    if client.consulent != viewer.caseload:
        raise NotFoundError(f"klant '{number}' bestaat niet; controleer het klantnummer")
    served = served_list(session, "klanten", client.id or 0)
    if served is None:
        raise NotFoundError(
            f"er is geen lijst van vannacht voor klant {client.client_nummer}: de nachtelijke match heeft nog "
            "niet gedraaid of vond geen open vacature binnen bereik; gebruik de actuele vacaturelijst"
        )
    _audit_shown(settings, session, user, viewer, trace, VACANCIES_ACTION, [client.client_nummer])
    computed: datetime = served.mark.committed_at
    results = [
        {
            "rang": rank,
            "vacatureId": vacancy.vacature_nummer,
            "titel": vacancy.titel,
            "werkgever": vacancy.werkgever,
            "score": row.score,
            "rangschikkingsscore": row.ranking_score,
        }
        for rank, (row, vacancy) in enumerate(served.rows, start=1)
    ]
    return {
        "klantId": client.client_nummer,
        "berekendOp": computed.isoformat(),
        "leeftijdUren": round((utcnow() - computed).total_seconds() / 3600, 1),
        "gerangschiktDoor": ranker_json(served.mark.ranked_by),
        "resultaten": results,
    }
