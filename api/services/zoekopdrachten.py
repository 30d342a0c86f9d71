"""Saved searches (zoekopdrachten): new fitting vacancies for a client go to the consulent's inbox.

A werkconsulent saves a search for a client of their caseload (:func:`save_search`). A beheerder, or
a timer (cron/systemd) calling ``POST /api/v1/zoekopdrachten/uitvoeren`` say every night, runs them
all (:func:`run_saved_searches`): the run is an explicit, audited job rather than a thread inside
every API worker. Each new open vacancy whose shown score (0–100, :mod:`matching.display_score`: the
number the consulent reads on every list) is at least ``min_score`` becomes a ``zoekopdracht`` item
(:class:`api.services.inbox.InboxItem`). A search never suggests a (client, vacancy) pair it
suggested before, nor one that was pushed or proposed; a partial unique index enforces the first
rule in the database, also when two runs overlap.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Column, String, func, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field as SQLField
from sqlmodel import Session, SQLModel, select

from api.services.inbox import SUGGESTIONS, InboxItem, Soort
from api.services.werkproces import Actor, model_version, own_client, record_audit
from matching import outcomes
from matching.columns import moment_column, optional_moment_column
from matching.domain import Client, Vacancy, utcnow
from matching.errors import InvalidInputError, NotFoundError, WerkmatchError
from matching.outcomes import Voorstel

logger = logging.getLogger(__name__)
MAX_SCORE = 100  # the shown score's scale (matching.display_score)

SYSTEM_ACTOR = "werkmatch-planner"


class Zoekopdracht(SQLModel, table=True):
    """A saved search: new open vacancies for one client with at least ``min_score``, at most ``top`` a run."""

    __tablename__ = "zoekopdracht"

    id: int | None = SQLField(default=None, primary_key=True)
    consulent: str = SQLField(sa_column=Column(String(80), index=True, nullable=False))
    made_by: str = SQLField(max_length=outcomes.ACTOR_MAX)
    client_id: int = SQLField(foreign_key="client.id", index=True, ondelete="CASCADE")
    min_score: float = 0.0
    top: int = 10
    created_at: datetime = moment_column(index=True)
    last_run_at: datetime | None = optional_moment_column()


def save_search(engine: Engine, actor: Actor, klant: str, min_score: float = 0.0, top: int = 10) -> dict[str, Any]:
    """Save a search for a client of the actor's caseload; :func:`run_saved_searches` runs it.

    Raises:
        NotFoundError: Unknown client or another consulent's client.
        InvalidInputError: ``min_score`` outside 0–100 or ``top`` outside 1–50.
    """
    if not 0.0 <= min_score <= MAX_SCORE:
        raise InvalidInputError(
            f"minScore moet tussen 0 en {MAX_SCORE} liggen (de kans op aanname in procenten), niet {min_score}"
        )
    if not 1 <= top <= 50:
        raise InvalidInputError(f"top moet tussen 1 en 50 liggen, niet {top}")
    with Session(engine, expire_on_commit=False) as session:
        client = own_client(session, klant, actor.consulent)
        search = Zoekopdracht(
            consulent=actor.consulent or "",
            made_by=actor.username,
            client_id=client.id,  # type: ignore[arg-type]
            min_score=min_score,
            top=top,
        )
        session.add(search)
        record_audit(session, actor, "zoekopdracht_opgeslagen", [client.client_nummer], top=top)
        session.commit()
        return _search_view(search, client.client_nummer, 0)


def _search_view(search: Zoekopdracht, klant: str, found: int) -> dict[str, Any]:
    return {
        "id": search.id,
        "klant_id": klant,
        "min_score": search.min_score,
        "top": search.top,
        "aangemaakt": search.created_at,
        "laatst_uitgevoerd": search.last_run_at,
        "aantal_gevonden": found,
    }


def list_searches(engine: Engine, actor: Actor) -> list[dict[str, Any]]:
    """The saved searches of the actor's caseload, newest first, with how many items each produced."""
    with Session(engine, expire_on_commit=False) as session:
        found = dict(
            session.exec(
                select(InboxItem.zoekopdracht_id, func.count())
                .where(InboxItem.consulent == (actor.consulent or ""), InboxItem.zoekopdracht_id.is_not(None))  # type: ignore[union-attr]
                .group_by(InboxItem.zoekopdracht_id)
            ).all()
        )
        rows = session.exec(
            select(Zoekopdracht, Client.client_nummer)
            .join(Client, Client.id == Zoekopdracht.client_id)  # type: ignore[arg-type]
            .where(Zoekopdracht.consulent == (actor.consulent or ""))
            .order_by(Zoekopdracht.created_at.desc(), Zoekopdracht.id.desc())  # type: ignore[union-attr,attr-defined]
        ).all()
        views = [_search_view(search, klant, found.get(search.id, 0)) for search, klant in rows]
        if views:
            record_audit(session, actor, "zoekopdrachten_gelezen", sorted({view["klant_id"] for view in views}))
            session.commit()
    return views


def delete_search(engine: Engine, actor: Actor, search_id: int) -> None:
    """Delete a saved search of the actor's caseload; the items it produced stay (their link is cleared).

    Raises:
        NotFoundError: No such search in the actor's caseload.
    """
    with Session(engine, expire_on_commit=False) as session:
        search = session.get(Zoekopdracht, search_id)
        if search is None or actor.consulent is None or search.consulent != actor.consulent:
            raise NotFoundError(f"zoekopdracht {search_id} bestaat niet; controleer het nummer")
        client = session.get(Client, search.client_id)
        record_audit(session, actor, "zoekopdracht_verwijderd", [client.client_nummer], zoekopdracht=search_id)  # type: ignore[union-attr]
        session.delete(search)
        session.commit()


def _known_vacancies(session: Session, client_id: int) -> set[int]:
    """Vacancies already suggested to or proposed for this client (never suggested again by a search)."""
    items = session.exec(
        select(InboxItem.vacancy_id).where(InboxItem.client_id == client_id, InboxItem.soort.in_(SUGGESTIONS))  # type: ignore[attr-defined]
    ).all()
    proposals = session.exec(select(Voorstel.vacancy_id).where(Voorstel.client_id == client_id)).all()
    return set(items) | set(proposals)


def run_saved_searches(
    engine: Engine, matcher: Any, actor: Actor | None = None, now: datetime | None = None
) -> dict[str, int]:
    """Run every saved search: new fitting open vacancies go to the consulent's inbox as ``zoekopdracht`` items.

    Each search asks ``matcher.search_vacancies(klantnummer, top)`` and keeps results with
    ``score >= min_score`` that were never suggested to or proposed for this client. One transaction
    per search, so a failing search does not hold back the others. A search whose client moved to
    another caseload is skipped (the new consulent can save their own).

    Args:
        engine: The database.
        matcher: A :class:`matching.matcher.Matcher` (anything with ``search_vacancies``).
        actor: Who runs it, for the audit log; default the system planner.
        now: The run's moment (stored as ``last_run_at``); default now.

    Returns:
        ``zoekopdrachten`` (searches run), ``nieuw`` (items created), ``overgeslagen`` (searches
        skipped: client moved), ``mislukt`` (searches that raised a domain error or lost a race; they
        run again next time).
    """
    runner = actor or Actor(SYSTEM_ACTOR, "systeem", purpose="opgeslagen zoekopdracht")
    moment = now or utcnow()
    summary = {"zoekopdrachten": 0, "nieuw": 0, "overgeslagen": 0, "mislukt": 0}
    with Session(engine, expire_on_commit=False) as session:
        searches = list(session.exec(select(Zoekopdracht).order_by(Zoekopdracht.id)))  # type: ignore[arg-type]
    for search in searches:
        outcome, new = _run_one(engine, matcher, search, runner, moment)
        summary[outcome] += 1
        summary["nieuw"] += new
    return summary


def _run_one(engine: Engine, matcher: Any, search: Zoekopdracht, runner: Actor, moment: datetime) -> tuple[str, int]:
    """One saved search in its own transaction: the summary key it counts under, and the items it made."""
    with Session(engine, expire_on_commit=False) as session:
        client = session.get(Client, search.client_id)
        if client is None or client.consulent != search.consulent:
            return "overgeslagen", 0
        try:
            listing = matcher.search_vacancies(client.client_nummer, search.top)
        except WerkmatchError as error:
            logger.warning("zoekopdracht %s failed: %s", search.id, error)
            return "mislukt", 0
        fits = [r.vacancy_id for r in listing.results if r.score >= search.min_score]
        try:
            # The update takes the write lock first: the reads below see every committed suggestion.
            session.exec(
                update(Zoekopdracht).where(Zoekopdracht.id == search.id).values(last_run_at=moment)  # type: ignore[arg-type]
            )
            known = _known_vacancies(session, client.id)  # type: ignore[arg-type]
            by_number = {
                v.vacature_nummer: v
                for v in session.exec(select(Vacancy).where(Vacancy.vacature_nummer.in_(fits)))  # type: ignore[attr-defined]
            }
            by_rank = {r.vacancy_id: r for r in listing.results}
            new = [by_number[n] for n in fits if n in by_number and by_number[n].id not in known]
            version = model_version(listing.ranked_by)
            for vacancy in new:
                result = by_rank[vacancy.vacature_nummer]
                session.add(
                    InboxItem(
                        soort=Soort.ZOEKOPDRACHT.value,
                        consulent=search.consulent,
                        client_id=client.id,  # type: ignore[arg-type]
                        vacancy_id=vacancy.id,  # type: ignore[arg-type]
                        zoekopdracht_id=search.id,
                        sender=runner.username,
                        rank=result.rank,
                        score=result.score,
                        model_version=version,
                        reasons=list(result.explained.reasons),
                    )
                )
            if new:
                subjects = [client.client_nummer, *(v.vacature_nummer for v in new)]
                record_audit(
                    session, runner, "zoekopdracht_uitgevoerd", subjects, zoekopdracht=search.id, nieuw=len(new)
                )
            session.commit()
        except IntegrityError:
            session.rollback()  # a concurrent run suggested the same pair first
            logger.info("zoekopdracht %s raced another run; it runs again next time", search.id)
            return "mislukt", 0
    return "zoekopdrachten", len(new)
