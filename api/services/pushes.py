"""The accountmanager's push (warm hand-over of a vacancy) and following it afterwards.

:func:`push_candidates` puts the best candidates of a vacancy into the inbox of each client's consulent
(:class:`api.services.inbox.InboxItem`, soort ``push``) and says who received them: the consulenten by
name, and when nobody was reached, why (an empty list, every pair already suggested, or caseloads
without an active werkconsulent). The accountmanager sees pseudonyms of the candidates, never
klantnummers, and the names of the colleagues, who are no clients.

:func:`list_pushes` is the accountmanager's page of own pushes: a push is the items one accountmanager
created for one vacancy in one moment (every item of a push gets the same ``created_at``). Per
receiving consulent it counts the items by state: ``open`` (not yet seen), ``bekeken`` (listed in
the consulent's inbox, :func:`api.services.inbox.list_inbox` records the item numbers it shows in
its audit entry), ``voorgesteld`` (accepted: the voorstel was made) and ``afgewezen``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.services.audit import AuditEntry
from api.services.inbox import SUGGESTIONS, InboxItem, ItemStatus, Soort, Uitkomst
from api.services.users import Rol, User
from api.services.werkproces import Actor, check_page, model_version, record_audit
from matching import outcomes
from matching.domain import Client, Vacancy, utcnow
from matching.outcomes import Voorstel
from matching.results import CandidateList

STATES = ("open", "bekeken", "voorgesteld", "afgewezen")


def _open_suggestion_pairs(session: Session, client_ids: Iterable[int], vacancy_id: int) -> set[int]:
    """Clients for which this vacancy already has an open suggestion or an open voorstel."""
    ids = list(client_ids)
    if not ids:
        return set()
    items = session.exec(
        select(InboxItem.client_id).where(
            InboxItem.vacancy_id == vacancy_id,
            InboxItem.client_id.in_(ids),  # type: ignore[attr-defined]
            InboxItem.soort.in_(SUGGESTIONS),  # type: ignore[attr-defined]
            InboxItem.status == ItemStatus.OPEN.value,
        )
    ).all()
    proposals = session.exec(
        select(Voorstel.client_id).where(
            Voorstel.vacancy_id == vacancy_id,
            Voorstel.client_id.in_(ids),  # type: ignore[attr-defined]
            Voorstel.status.in_([s.value for s in outcomes.OPEN_STATUSES]),  # type: ignore[attr-defined]
        )
    ).all()
    return set(items) | set(proposals)


def consulent_names(session: Session, codes: Iterable[str]) -> dict[str, list[User]]:
    """Per caseload code, the active werkconsulenten who hold it (none: nobody reads that inbox now)."""
    wanted = sorted(set(codes))
    holders: dict[str, list[User]] = {code: [] for code in wanted}
    if wanted:
        for user in session.exec(
            select(User).where(
                User.consulent.in_(wanted),  # type: ignore[union-attr]
                User.rol == Rol.WERKCONSULENT,
                User.actief == True,  # noqa: E712 - SQL, not Python truth
            )
        ):
            holders[str(user.consulent)].append(user)
    return holders


def receivers(session: Session, counts: dict[str, int]) -> list[dict[str, Any]]:
    """Per caseload code that got items: ``consulent`` (code), ``namen`` (active werkconsulenten), ``aantal``."""
    holders = consulent_names(session, counts)
    return [
        {"consulent": code, "namen": [user.naam or user.username for user in holders[code]], "aantal": counts[code]}
        for code in sorted(counts)
    ]


def reach_note(listed: int, created: int, reached: list[dict[str, Any]]) -> str | None:
    """Why a push reached no consulent (None when it reached one): the accountmanager can act on it."""
    if listed == 0:
        return "De kandidatenlijst van deze vacature is leeg: er is niemand gepusht."
    if created == 0:
        return (
            f"Alle {listed} kandidaten hadden al een lopende suggestie of voorstel voor deze vacature; "
            "er is niets nieuws in een inbox gezet."
        )
    if not any(row["namen"] for row in reached):
        codes = ", ".join(row["consulent"] for row in reached)
        return (
            f"De kandidaten horen bij caseloads zonder actieve werkconsulent ({codes}): de items wachten daar tot "
            "iemand die caseload krijgt. Vraag de beheerder wie deze klanten begeleidt."
        )
    return None


def push_candidates(
    engine: Engine,
    listing: CandidateList,
    actor: Actor,
    pseudonym: Callable[[str], str],
    toelichting: str | None = None,
) -> dict[str, Any]:
    """Put each candidate of ``listing`` into the inbox of the client's consulent (warm hand-over).

    Args:
        engine: The database.
        listing: :meth:`matching.matcher.Matcher.search_candidates` for the vacancy, already cut to the number
            wanted.
        actor: The accountmanager.
        pseudonym: Klantnummer → the reference the accountmanager may see (the candidate list's pseudonym).
        toelichting: A note for the consulenten, at most 500 characters.

    Returns:
        ``vacatureId``, ``aangemaakt`` (items created), ``overgeslagen`` (pairs with an open
        suggestion or voorstel already), ``consulenten`` (inboxes reached), ``ontvangers`` (per caseload
        code: the names of its active werkconsulenten and how many items), ``nietBereikt`` (why nobody
        was reached, or None) and ``kandidaten``: per candidate ``referentie`` (pseudonym), ``rang``,
        ``score`` and ``inInbox``. No klantnummers.
    """
    note = outcomes.clean_toelichting(toelichting)
    vacature = listing.vacancy_id
    numbers = [item.client_id for item in listing.results]
    moment = utcnow()  # one moment for every item: together they are this push (list_pushes)
    with Session(engine, expire_on_commit=False) as session:
        vacancy = session.exec(select(Vacancy).where(Vacancy.vacature_nummer == vacature)).one()
        clients = {
            c.client_nummer: c
            for c in session.exec(select(Client).where(Client.client_nummer.in_(numbers)))  # type: ignore[attr-defined]
        }
        # The audit entry takes the write lock first, so the check below sees every committed push.
        record_audit(session, actor, "vacature_gepusht", [vacature, *numbers], aantal=len(numbers))
        busy = _open_suggestion_pairs(session, (c.id for c in clients.values()), vacancy.id)  # type: ignore[misc,arg-type]
        version = model_version(listing.ranked_by)
        shown, per_code = [], {}
        for item in listing.results:
            client = clients[item.client_id]
            fresh = client.id not in busy
            if fresh:
                session.add(
                    InboxItem(
                        soort=Soort.PUSH.value,
                        consulent=client.consulent,
                        client_id=client.id,  # type: ignore[arg-type]
                        vacancy_id=vacancy.id,  # type: ignore[arg-type]
                        sender=actor.username,
                        toelichting=note,
                        reference=pseudonym(client.client_nummer),
                        rank=item.rank,
                        score=item.score,
                        model_version=version,
                        reasons=list(item.explained.reasons),
                        created_at=moment,
                    )
                )
                per_code[client.consulent] = per_code.get(client.consulent, 0) + 1
            reference = pseudonym(client.client_nummer)
            shown.append({"referentie": reference, "rang": item.rank, "score": item.score, "inInbox": fresh})
        reached = receivers(session, per_code)
        session.commit()
    created = sum(per_code.values())
    return {
        "vacatureId": vacature,
        "aangemaakt": created,
        "overgeslagen": len(shown) - created,
        "consulenten": len(per_code),
        "ontvangers": reached,
        "nietBereikt": reach_note(len(shown), created, reached),
        "kandidaten": shown,
    }


def _state(item: InboxItem, seen: set[int]) -> str:
    if item.status == ItemStatus.AFGEHANDELD.value:
        return "voorgesteld" if item.uitkomst == Uitkomst.GEACCEPTEERD.value else "afgewezen"
    return "bekeken" if item.id in seen else "open"


def _seen(session: Session, items: list[InboxItem], holders: dict[str, list[User]]) -> set[int]:
    """The items among ``items`` that a consulent of their caseload has had listed in the inbox."""
    names = sorted({user.username for users in holders.values() for user in users})
    if not items or not names:
        return set()
    wanted = {item.id for item in items}
    since = min(item.created_at for item in items)
    entries = session.exec(
        select(AuditEntry.details).where(
            AuditEntry.action == "inbox_gelezen",
            AuditEntry.actor.in_(names),  # type: ignore[attr-defined]
            AuditEntry.at >= since,
        )
    )
    return {number for details in entries for number in (details or {}).get("items", []) if number in wanted}


def _receiving(own: list[InboxItem], holders: dict[str, list[User]], seen: set[int]) -> list[dict[str, Any]]:
    """Per caseload code of one push: its consulenten's names, the items and how many are in each state."""
    rows: dict[str, dict[str, Any]] = {}
    for item in own:
        names = [user.naam or user.username for user in holders.get(item.consulent, [])]
        row = rows.setdefault(item.consulent, {"consulent": item.consulent, "namen": names, "aantal": 0})
        row["aantal"] += 1
        state = _state(item, seen)
        row[state] = row.get(state, 0) + 1
    return [{**dict.fromkeys(STATES, 0), **rows[code]} for code in sorted(rows)]


def list_pushes(engine: Engine, actor: Actor, page: int = 1, size: int = 25) -> dict[str, Any]:
    """The actor's own pushes, newest first, with per receiving consulent the items by state (:data:`STATES`).

    Returns:
        ``pushes`` (``vacature_id``, ``titel``, ``moment``, ``toelichting``, ``ontvangers``: per caseload
        code ``consulent``, ``namen``, ``aantal`` and a count per state), ``totaal``, ``pagina``, ``pagina_grootte``.
    """
    check_page(page, size)
    mine = (InboxItem.soort == Soort.PUSH.value, InboxItem.sender == actor.username)
    groups = select(InboxItem.vacancy_id, InboxItem.created_at).where(*mine).distinct()
    with Session(engine) as session:
        total = int(session.exec(select(func.count()).select_from(groups.subquery())).one())
        chosen = list(
            session.exec(
                groups.order_by(InboxItem.created_at.desc(), InboxItem.vacancy_id)  # type: ignore[attr-defined]
                .offset((page - 1) * size)
                .limit(size)
            )
        )
        if not chosen:
            return {"pushes": [], "totaal": total, "pagina": page, "pagina_grootte": size}
        since = min(moment for _, moment in chosen)
        keys = set(chosen)
        items = [
            item
            for item in session.exec(select(InboxItem).where(*mine, InboxItem.created_at >= since))
            if (item.vacancy_id, item.created_at) in keys
        ]
        holders = consulent_names(session, {item.consulent for item in items})
        seen = _seen(session, items, holders)
        ids = {vacancy_id for vacancy_id, _ in chosen}
        vacancies = {v.id: v for v in session.exec(select(Vacancy).where(Vacancy.id.in_(ids)))}  # type: ignore[union-attr]
    pushes = []
    for vacancy_id, moment in chosen:
        own = [item for item in items if (item.vacancy_id, item.created_at) == (vacancy_id, moment)]
        pushes.append(
            {
                "vacature_id": vacancies[vacancy_id].vacature_nummer,
                "titel": vacancies[vacancy_id].titel,
                "moment": moment,
                "toelichting": own[0].toelichting if own else None,
                "ontvangers": _receiving(own, holders, seen),
            }
        )
    return {"pushes": pushes, "totaal": total, "pagina": page, "pagina_grootte": size}
