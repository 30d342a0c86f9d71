"""The consulent's work queue: inbox items, saved searches, declined suggestions as training labels.

**Inbox items** (``inbox_item``, :class:`InboxItem`) are addressed to a consulent *code* (the code in
``Client.consulent``, i.e. the caseload), not to a user, so a colleague who takes over the caseload
sees them. Three kinds (:class:`Soort`):

* ``push``: an accountmanager's warm hand-over of a vacancy (:func:`push_candidates`). The
  accountmanager only ever gets back pseudonymous references; the consulent sees the klantnummer;
* ``zoekopdracht``: a new open vacancy found by a saved search (:func:`run_saved_searches`);
* ``nazorg``: a follow-up 1, 3 and 6 months after a placement (:func:`schedule_nazorg`), with a ``due``
  date; until that date it is listed with ``gepland`` set.

An item is ``open`` until it is handled once: accepted (a voorstel is made through
:func:`matching.outcomes.propose`), declined (with a job-related reason code) or, for nazorg,
afgerond. Handling is a compare-and-set on ``status = 'open'``, so a second attempt, also a
concurrent one, gets :class:`ConflictError` (HTTP 409) and changes nothing.

**Declines are labels.** A consulent who declines a suggested pair knows the client; that is the same
judgement as an ``afgewezen`` voorstel (relevance 0). It is stored in its own table
(``inbox_afwijzing``, :class:`InboxAfwijzing`) rather than as a fake voorstel: no employer ever saw
the pair, and the voorstellen table must keep meaning "proposals that were made" (the promotion gate
reads them on real data). :func:`declined_labels` reads them as :class:`matching.outcomes.RelevanceLabel`
rows with label ``RELEVANCE[afgewezen]``, and :func:`training_labels` merges them with
:func:`matching.outcomes.relevance_labels` (per pair the latest judgement wins, as there). A
candidate rejected on a vacancy's list (``kandidaat_afwijzing``, :class:`KandidaatAfwijzing`, written
by :func:`api.services.oversight.reject_candidate`) is the same judgement and becomes the same label, unless
its reason is situational (:data:`SITUATIONAL`: not available now, already placed).

**Decisions carry a reason.** An accepted suggestion records why in :class:`VoorstelMotivatie`, as a
voorstel made from a candidate list does; :mod:`api.services.oversight` reports how often consulenten deviate
from the ranking.

**Pairs are suggested once.** A push skips pairs that already have an open push/zoekopdracht item
or an open voorstel; a saved search never suggests a (client, vacancy) pair it suggested before, nor
one that was pushed or proposed (a partial unique index enforces the first rule in the database).

**Tables** are created by :func:`ensure_tables` (idempotent). Every public function here also calls
it once per engine, so the tables exist even when the app factory does not call it; the app should
call ``inbox.ensure_tables(engine)`` in its lifespan next to ``audit.ensure_tables``.

Every function that reads or changes data about clients appends an audit entry
(:func:`api.services.audit.record`) in the same transaction and commits before it returns.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Column, Index, String, case, func, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field as SQLField
from sqlmodel import Session, SQLModel, select

from api.services import audit
from matching import compatibility, outcomes
from matching.annotate import offered_by
from matching.domain import Client, Vacancy, utcnow
from matching.errors import ConflictError, InvalidInputError, NotFoundError, WerkmatchError
from matching.lookup import find_client
from matching.outcomes import RELEVANCE, RelevanceLabel, UTCDateTime, Voorstel, VoorstelStatus
from matching.timeutil import UTC_EXAMPLE, add_months, aware_utc

logger = logging.getLogger(__name__)

NAZORG_MAANDEN = (1, 3, 6)
"""Follow-ups after a placement, in months: the first weeks decide most drop-outs, 6 months is duurzaam."""
LOCAL_TIME = ZoneInfo("Europe/Amsterdam")  # due dates are calendar days of the consulent, not UTC
TOELICHTING_MAX = outcomes.TOELICHTING_MAX
PAGE_SIZE_MAX = 100
SYSTEM_ACTOR = "werkmatch-planner"
NOT_GIVEN = "niet_opgegeven"  # the voorstel reason code stored when the consulent gave none


class Soort(StrEnum):
    """What an inbox item asks of the consulent."""

    PUSH = "push"  # an accountmanager's vacancy for this client: accept or decline
    ZOEKOPDRACHT = "zoekopdracht"  # a new vacancy from a saved search: accept or decline
    NAZORG = "nazorg"  # a follow-up after a placement: afronden


SUGGESTIONS = (Soort.PUSH.value, Soort.ZOEKOPDRACHT.value)


class ItemStatus(StrEnum):
    """An item is open until it is handled, once."""

    OPEN = "open"
    AFGEHANDELD = "afgehandeld"


class Uitkomst(StrEnum):
    """How an item was handled."""

    GEACCEPTEERD = "geaccepteerd"
    AFGEWEZEN = "afgewezen"
    AFGEROND = "afgerond"


@dataclass(frozen=True)
class Actor:
    """Who does something, for the audit log and the caseload checks."""

    username: str
    rol: str
    consulent: str | None = None
    request_id: str | None = None
    purpose: str = "bemiddeling"


def _moment() -> Any:
    return SQLField(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True))


def _optional_moment() -> Any:
    return SQLField(default=None, sa_column=Column(UTCDateTime(), nullable=True))


def _note_column() -> Any:
    return SQLField(default=None, sa_column=Column(String(TOELICHTING_MAX), nullable=True))


_ZOEKOPDRACHT_SQL = text("soort = 'zoekopdracht'")
_NAZORG_SQL = text("soort = 'nazorg'")


class Zoekopdracht(SQLModel, table=True):
    """A saved search: new open vacancies for one client with at least ``min_score``, at most ``top`` a run."""

    __tablename__ = "zoekopdracht"

    id: int | None = SQLField(default=None, primary_key=True)
    consulent: str = SQLField(sa_column=Column(String(80), index=True, nullable=False))
    made_by: str = SQLField(max_length=outcomes.ACTOR_MAX)
    client_id: int = SQLField(foreign_key="client.id", index=True, ondelete="CASCADE")
    min_score: float = 0.0
    top: int = 10
    created_at: datetime = _moment()
    last_run_at: datetime | None = _optional_moment()


class InboxItem(SQLModel, table=True):
    """One thing for a consulent to handle; ``consulent`` is the caseload code it is addressed to."""

    __tablename__ = "inbox_item"
    __table_args__ = (
        # A saved search suggests a pair once, ever: also when two runs overlap.
        Index(
            "uq_inbox_zoekopdracht_pair",
            "client_id",
            "vacancy_id",
            unique=True,
            sqlite_where=_ZOEKOPDRACHT_SQL,
            postgresql_where=_ZOEKOPDRACHT_SQL,
        ),
        Index(
            "uq_inbox_nazorg",
            "voorstel_id",
            "maanden",
            unique=True,
            sqlite_where=_NAZORG_SQL,
            postgresql_where=_NAZORG_SQL,
        ),
    )

    id: int | None = SQLField(default=None, primary_key=True)
    soort: str = SQLField(index=True, max_length=20)
    consulent: str = SQLField(sa_column=Column(String(80), index=True, nullable=False))
    client_id: int = SQLField(foreign_key="client.id", index=True, ondelete="CASCADE")
    vacancy_id: int = SQLField(foreign_key="vacancy.id", index=True, ondelete="CASCADE")
    voorstel_id: int | None = SQLField(default=None, foreign_key="voorstel.id", index=True, ondelete="SET NULL")
    zoekopdracht_id: int | None = SQLField(default=None, foreign_key="zoekopdracht.id", ondelete="SET NULL")
    status: str = SQLField(default=ItemStatus.OPEN.value, index=True, max_length=20)
    uitkomst: str | None = SQLField(default=None, max_length=20)
    sender: str = SQLField(max_length=outcomes.ACTOR_MAX)
    toelichting: str | None = _note_column()
    reference: str | None = SQLField(default=None, max_length=40)  # the push's pseudonym for the accountmanager
    rank: int | None = None
    score: float | None = None
    model_version: str | None = SQLField(default=None, max_length=outcomes.MODEL_VERSION_MAX)
    reasons: list[str] = SQLField(default_factory=list, sa_column=Column(JSON, nullable=False))
    due: date | None = SQLField(default=None, index=True)
    maanden: int | None = None
    created_at: datetime = _moment()
    handled_by: str | None = SQLField(default=None, max_length=outcomes.ACTOR_MAX)
    handled_at: datetime | None = _optional_moment()
    handled_note: str | None = _note_column()


class InboxAfwijzing(SQLModel, table=True):
    """A suggested pair a consulent declined, with a job-related reason: a relevance-0 training label."""

    __tablename__ = "inbox_afwijzing"

    id: int | None = SQLField(default=None, primary_key=True)
    inbox_item_id: int = SQLField(foreign_key="inbox_item.id", unique=True, ondelete="CASCADE")
    client_id: int = SQLField(foreign_key="client.id", index=True, ondelete="CASCADE")
    vacancy_id: int = SQLField(foreign_key="vacancy.id", index=True, ondelete="CASCADE")
    soort: str = SQLField(max_length=20)
    reason_code: str = SQLField(max_length=40)
    toelichting: str | None = _note_column()
    actor: str = SQLField(max_length=outcomes.ACTOR_MAX)
    at: datetime = _moment()


class AfwijsReden(StrEnum):
    """Why a consulent rejects a candidate on a vacancy's list (``POST /vacatures/{nummer}/afwijzingen``).

    Job-related only, as :class:`matching.outcomes.Reden`: there is no ``gezondheid``. What a job
    cannot ask of a person is ``belastbaarheid``; a health reason would become a training label that
    teaches the ranker to put people with a beperking lower (the AMAS failure, trust.md §2.1).
    """

    PAST_NIET_BIJ_WENSEN = "past_niet_bij_wensen"  # sector, occupation, plaatsingsvorm the client does not want
    VAARDIGHEDEN = "vaardigheden"  # competences, experience or language level fall short for this job
    REISAFSTAND = "reisafstand"
    UREN_WERKTIJDEN = "uren_werktijden"
    BELASTBAARHEID = "belastbaarheid"  # the job's demands do not fit the client's beperkingen
    NIET_BESCHIKBAAR = "niet_beschikbaar"  # not available now (course, care duties, a trajectory running)
    AL_BEMIDDELD = "al_bemiddeld"  # already placed or proposed elsewhere
    ANDERS = "anders"  # needs a toelichting


SITUATIONAL = frozenset({AfwijsReden.NIET_BESCHIKBAAR, AfwijsReden.AL_BEMIDDELD})
"""Rejections that say something about the client's situation now, not about the pair's fit: recorded
and reported, but no training label (a relevance 0 would teach the ranker that a good pair is bad)."""


class KandidaatAfwijzing(SQLModel, table=True):
    """A candidate a consulent rejected on a vacancy's list, with a reason: oversight data and (mostly) a label."""

    __tablename__ = "kandidaat_afwijzing"

    id: int | None = SQLField(default=None, primary_key=True)
    client_id: int = SQLField(foreign_key="client.id", index=True, ondelete="CASCADE")
    vacancy_id: int = SQLField(foreign_key="vacancy.id", index=True, ondelete="CASCADE")
    consulent: str = SQLField(sa_column=Column(String(80), index=True, nullable=False))  # the actor's caseload
    reason_code: str = SQLField(max_length=40)
    toelichting: str | None = _note_column()
    actor: str = SQLField(max_length=outcomes.ACTOR_MAX, index=True)
    at: datetime = _moment()


class VoorstelMotivatie(SQLModel, table=True):
    """Why a consulent proposed this candidate (a :class:`api.services.oversight.VoorstelReden` code), one per voorstel.

    A side table because :class:`matching.outcomes.Voorstel` has no place for it; written in the same
    transaction as the voorstel (``outcomes.propose(with_voorstel=…)``) and its audit entry.
    """

    __tablename__ = "voorstel_motivatie"

    voorstel_id: int = SQLField(foreign_key="voorstel.id", primary_key=True, ondelete="CASCADE")
    reason_code: str = SQLField(max_length=40)
    actor: str = SQLField(max_length=outcomes.ACTOR_MAX)
    at: datetime = _moment()


_TABLES = [
    Zoekopdracht.__table__,  # type: ignore[attr-defined]
    InboxItem.__table__,  # type: ignore[attr-defined]
    InboxAfwijzing.__table__,  # type: ignore[attr-defined]
    KandidaatAfwijzing.__table__,  # type: ignore[attr-defined]
    VoorstelMotivatie.__table__,  # type: ignore[attr-defined]
]
_ready: weakref.WeakSet[Engine] = weakref.WeakSet()
_ready_lock = threading.Lock()


def ensure_tables(engine: Engine) -> None:
    """Create the inbox, zoekopdracht and afwijzing tables if they do not exist; idempotent."""
    with _ready_lock:
        SQLModel.metadata.create_all(engine, tables=_TABLES)
        _ready.add(engine)


def _ensure(engine: Engine) -> None:
    """:func:`ensure_tables` once per engine (the app factory may not have called it)."""
    if engine not in _ready:
        ensure_tables(engine)


def _session(engine: Engine) -> Session:
    _ensure(engine)
    return Session(engine, expire_on_commit=False)


# ---------------------------------------------------------------------------------------- helpers


def local_today() -> date:
    """Today's date in the Netherlands."""
    return utcnow().astimezone(LOCAL_TIME).date()


_note = outcomes.clean_toelichting


def _page(page: int, size: int) -> None:
    if page < 1:
        raise InvalidInputError(f"pagina begint bij 1, niet {page}")
    if not 1 <= size <= PAGE_SIZE_MAX:
        raise InvalidInputError(f"paginaGrootte moet tussen 1 en {PAGE_SIZE_MAX} liggen, niet {size}")


def record_audit(session: Session, actor: Actor, action: str, subjects: Sequence[str], **details: Any) -> None:
    """One audit entry as ``actor`` (more when the subjects do not fit one) in the caller's transaction."""
    audit.record_all(
        session,
        actor=actor.username,
        rol=actor.rol,
        action=action,
        purpose=actor.purpose,
        subjects=subjects,
        details=details or None,
        request_id=actor.request_id,
    )


def own_client(session: Session, ref: str | int, consulent: str | None) -> Client:
    """The client ``ref`` if it is in caseload ``consulent``.

    Raises:
        NotFoundError: Unknown, or another consulent's client: the same message, so existence does not leak.
    """
    client = find_client(session, ref)
    if consulent is None or client.consulent != consulent:
        raise NotFoundError(f"klant '{ref}' bestaat niet; controleer het klantnummer")
    return client


def _model_version(ranked_by: dict[str, Any] | None) -> str | None:
    if not ranked_by:
        return None
    name, version = ranked_by.get("name"), ranked_by.get("version")
    value = f"{name}@{version}" if version is not None else str(name)
    return value[: outcomes.MODEL_VERSION_MAX]


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


# ---------------------------------------------------------------------------------------- push


def push_candidates(
    engine: Engine,
    listing: dict[str, Any],
    actor: Actor,
    pseudonym: Callable[[str], str],
    toelichting: str | None = None,
) -> dict[str, Any]:
    """Put each candidate of ``listing`` into the inbox of the client's consulent (warm hand-over).

    Args:
        engine: The database.
        listing: :meth:`matching.matcher.Matcher.candidates` for the vacancy, already cut to the number wanted.
        actor: The accountmanager.
        pseudonym: Klantnummer → the reference the accountmanager may see (the candidate list's pseudonym).
        toelichting: A note for the consulenten, at most 500 characters.

    Returns:
        ``vacatureId``, ``aangemaakt`` (items created), ``overgeslagen`` (pairs with an open
        suggestion or voorstel already), ``consulenten`` (inboxes reached) and ``kandidaten``: per
        candidate ``referentie`` (pseudonym), ``rang``, ``score`` and ``inInbox``. No klantnummers.
    """
    note = _note(toelichting)
    vacature = listing["vacancyId"]
    numbers = [item["clientId"] for item in listing["results"]]
    with _session(engine) as session:
        vacancy = session.exec(select(Vacancy).where(Vacancy.vacature_nummer == vacature)).one()
        clients = {
            c.client_nummer: c
            for c in session.exec(select(Client).where(Client.client_nummer.in_(numbers)))  # type: ignore[attr-defined]
        }
        # The audit entry takes the write lock first, so the check below sees every committed push.
        record_audit(session, actor, "vacature_gepusht", [vacature, *numbers], aantal=len(numbers))
        busy = _open_suggestion_pairs(session, (c.id for c in clients.values()), vacancy.id)  # type: ignore[misc,arg-type]
        version = _model_version(listing.get("rankedBy"))
        shown, inboxes, created = [], set(), 0
        for item in listing["results"]:
            client = clients[item["clientId"]]
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
                        rank=item["rank"],
                        score=item["score"],
                        model_version=version,
                        reasons=list(item.get("reasons", [])),
                    )
                )
                inboxes.add(client.consulent)
                created += 1
            shown.append(
                {
                    "referentie": pseudonym(client.client_nummer),
                    "rang": item["rank"],
                    "score": item["score"],
                    "inInbox": fresh,
                }
            )
        session.commit()
    return {
        "vacatureId": vacature,
        "aangemaakt": created,
        "overgeslagen": len(shown) - created,
        "consulenten": len(inboxes),
        "kandidaten": shown,
    }


# ---------------------------------------------------------------------------------------- inbox


def beperking_notes(client: Client, vacancy: Vacancy) -> list[str]:
    """For the client's own consulent only: where the vacancy's demands meet the client's beperkingen.

    A pushed candidate was chosen without looking at beperkingen (``matching.disclosure``), so the
    conflict, and whether the vacancy offers what closes it, is said here, where the consulent decides.
    """
    conflicts = compatibility.pair_aanpassingen(client.beperkingen, vacancy.belasting, offered_by(vacancy))
    return [item.tekst() for item in conflicts]


def item_dict(
    item: InboxItem, klant: str, vacature: str, titel: str, today: date, beperkingen: list[str] | None = None
) -> dict[str, Any]:
    """One item as the API returns it; ``beperkingen`` (:func:`beperking_notes`) only for the own consulent."""
    return {
        "id": item.id,
        "soort": item.soort,
        "status": item.status,
        "uitkomst": item.uitkomst,
        "klant_id": klant,
        "vacature_id": vacature,
        "titel": titel,
        "van": item.sender,
        "toelichting": item.toelichting,
        "rang": item.rank,
        "score": item.score,
        "redenen": list(item.reasons or []),
        "aandachtspunten_beperkingen": beperkingen or [],
        "voorstel_id": item.voorstel_id,
        "zoekopdracht_id": item.zoekopdracht_id,
        "vervaldatum": item.due,
        "nazorg_maanden": item.maanden,
        "gepland": item.due is not None and item.due > today,
        "aangemaakt": item.created_at,
        "afgehandeld_door": item.handled_by,
        "afgehandeld_op": item.handled_at,
    }


def list_inbox(
    engine: Engine,
    actor: Actor,
    *,
    status: ItemStatus | None = ItemStatus.OPEN,
    gepland: bool = True,
    page: int = 1,
    size: int = 20,
    today: date | None = None,
) -> dict[str, Any]:
    """A consulent's inbox: items whose date has come first, newest first; then planned ones by date.

    Args:
        engine: The database.
        actor: The werkconsulent; only items addressed to ``actor.consulent`` are listed.
        status: ``open``, ``afgehandeld`` or None for both.
        gepland: Also list items whose ``due`` date lies after ``today`` (flagged ``gepland``).
        page: 1-based page number.
        size: Items per page (1–100).
        today: The local date (tests pass one); default: today in the Netherlands.

    Returns:
        ``items`` (dicts with snake_case keys), ``totaal``, ``pagina``, ``pagina_grootte``.
    """
    _page(page, size)
    day = today or local_today()
    conditions = [InboxItem.consulent == (actor.consulent or "")]
    if status is not None:
        conditions.append(InboxItem.status == ItemStatus(status).value)
    if not gepland:
        conditions.append((InboxItem.due.is_(None)) | (InboxItem.due <= day))  # type: ignore[union-attr,operator]
    planned = case((InboxItem.due > day, 1), else_=0)  # type: ignore[operator]
    upcoming_due = case((InboxItem.due > day, InboxItem.due), else_=None)  # type: ignore[operator]
    notes = beperking_notes
    with _session(engine) as session:
        total = session.exec(select(func.count()).select_from(InboxItem).where(*conditions)).one()
        rows = session.exec(
            select(InboxItem, Client, Vacancy)
            .join(Client, Client.id == InboxItem.client_id)  # type: ignore[arg-type]
            .join(Vacancy, Vacancy.id == InboxItem.vacancy_id)  # type: ignore[arg-type]
            .where(*conditions)
            .order_by(planned, upcoming_due, InboxItem.created_at.desc(), InboxItem.id.desc())  # type: ignore[union-attr,attr-defined]
            .offset((page - 1) * size)
            .limit(size)
        ).all()
        items = [
            item_dict(item, client.client_nummer, vacancy.vacature_nummer, vacancy.titel, day, notes(client, vacancy))
            for item, client, vacancy in rows
        ]
        if items:
            record_audit(session, actor, "inbox_gelezen", sorted({item["klant_id"] for item in items}))
            session.commit()
    return {"items": items, "totaal": total, "pagina": page, "pagina_grootte": size}


def _claim(
    session: Session, actor: Actor, item_id: int, kinds: Sequence[str], outcome: Uitkomst, note: str | None
) -> InboxItem:
    """Check the item is the actor's and open, then mark it handled (compare-and-set; takes the write lock)."""
    item = session.get(InboxItem, item_id)
    if item is None or actor.consulent is None or item.consulent != actor.consulent:
        raise NotFoundError(f"inbox-item {item_id} bestaat niet; controleer het nummer")
    if item.soort not in kinds:
        if item.soort == Soort.NAZORG.value:
            raise InvalidInputError(
                f"inbox-item {item_id} is een nazorgtaak; rond die af met POST /api/v1/inbox/{item_id}/afronden"
            )
        raise InvalidInputError(f"inbox-item {item_id} is een {item.soort}-item; accepteer het of wijs het af")
    if item.status != ItemStatus.OPEN.value:
        raise ConflictError(_handled_text(item))
    moment = utcnow()
    changed = session.exec(
        update(InboxItem)
        .where(InboxItem.id == item_id, InboxItem.status == ItemStatus.OPEN.value)  # type: ignore[arg-type]
        .values(
            status=ItemStatus.AFGEHANDELD.value,
            uitkomst=outcome.value,
            handled_by=actor.username,
            handled_at=moment,
            handled_note=note,
        )
    )
    if changed.rowcount != 1:
        session.rollback()
        session.refresh(item)
        raise ConflictError(_handled_text(item))
    session.refresh(item)
    return item


def _handled_text(item: InboxItem) -> str:
    who = f" door {item.handled_by}" if item.handled_by else ""
    return (
        f"inbox-item {item.id} is al afgehandeld ({item.uitkomst or 'afgehandeld'}{who}); "
        "ververs de inbox, er is niets meer te doen"
    )


def _numbers(session: Session, item: InboxItem) -> tuple[str, str]:
    client = session.get(Client, item.client_id)
    vacancy = session.get(Vacancy, item.vacancy_id)
    return client.client_nummer, vacancy.vacature_nummer  # type: ignore[union-attr]


def accept(
    engine: Engine, actor: Actor, item_id: int, toelichting: str | None = None, *, reden: str = NOT_GIVEN
) -> tuple[InboxItem, Voorstel]:
    """Accept a push or zoekopdracht item: make the voorstel (``outcomes.propose``) and mark the item handled.

    The item's change, its audit entry, the voorstel, the link ``voorstel_id`` and the
    :class:`VoorstelMotivatie` (``reden``, a code already checked by :func:`api.services.oversight.voorstel_reden`)
    commit together.

    Raises:
        NotFoundError: No such item in the actor's inbox.
        ConflictError: Already handled.
        InvalidInputError: Not a suggestion, or the voorstel is refused (vacancy closed, open voorstel
            for the pair): then nothing changes and the item stays open.
    """
    note = _note(toelichting)
    with _session(engine) as session:
        try:
            item = _claim(session, actor, item_id, SUGGESTIONS, Uitkomst.GEACCEPTEERD, note)
            klant, vacature = _numbers(session, item)
            record_audit(
                session,
                actor,
                "inbox_geaccepteerd",
                [klant, vacature],
                inboxItem=item_id,
                soort=item.soort,
                reden=reden,
            )
            voorstel = outcomes.propose(
                session,
                item.client_id,
                item.vacancy_id,
                actor.username,
                outcomes.Rol.CONSULENT,
                model_version=item.model_version,
                rank=item.rank,
                toelichting=note,
                with_voorstel=lambda made: _link(session, item, made, reden, actor.username),
            )  # one commit: the item, its audit entry, the voorstel, the link and the reason
        except BaseException:
            session.rollback()
            raise
        return item, voorstel


def _link(session: Session, item: InboxItem, voorstel: Voorstel, reden: str, username: str) -> None:
    item.voorstel_id = voorstel.id
    session.add(item)
    session.add(VoorstelMotivatie(voorstel_id=voorstel.id, reason_code=reden, actor=username))  # type: ignore[arg-type]


def decline(engine: Engine, actor: Actor, item_id: int, reden: str, toelichting: str | None = None) -> InboxItem:
    """Decline a push or zoekopdracht item with a job-related reason; stores the pair as a training label.

    Args:
        engine: The database.
        actor: The werkconsulent of the item's caseload.
        item_id: The item.
        reden: A code of :class:`matching.outcomes.Reden` allowed for ``afgewezen`` (not ``gezondheid``).
        toelichting: Required with ``overig``; at most 500 characters.

    Raises:
        NotFoundError, ConflictError, InvalidInputError: as :func:`accept`; also a reason that does not fit.
    """
    allowed = outcomes.REDENEN[VoorstelStatus.AFGEWEZEN]
    code = (reden or "").strip().lower()
    if code not in allowed:
        raise InvalidInputError(
            f"'{reden}' is geen geldige reden om af te wijzen; kies uit: {', '.join(sorted(allowed))}"
        )
    note = _note(toelichting)
    if code == outcomes.Reden.OVERIG and note is None:
        raise InvalidInputError("reden 'overig' vraagt een toelichting; beschrijf kort waarom dit niet past")
    with _session(engine) as session:
        try:
            item = _claim(session, actor, item_id, SUGGESTIONS, Uitkomst.AFGEWEZEN, note)
            klant, vacature = _numbers(session, item)
            record_audit(session, actor, "inbox_afgewezen", [klant, vacature], inboxItem=item_id, reden=code)
            session.add(
                InboxAfwijzing(
                    inbox_item_id=item_id,
                    client_id=item.client_id,
                    vacancy_id=item.vacancy_id,
                    soort=item.soort,
                    reason_code=code,
                    toelichting=note,
                    actor=actor.username,
                )
            )
            session.commit()
        except BaseException:
            session.rollback()
            raise
        return item


def finish(engine: Engine, actor: Actor, item_id: int, toelichting: str | None = None) -> InboxItem:
    """Mark a nazorg item afgerond (the follow-up happened), with an optional note."""
    note = _note(toelichting)
    with _session(engine) as session:
        try:
            item = _claim(session, actor, item_id, (Soort.NAZORG.value,), Uitkomst.AFGEROND, note)
            klant, vacature = _numbers(session, item)
            record_audit(session, actor, "nazorg_afgerond", [klant, vacature], inboxItem=item_id)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        return item


def item_view(engine: Engine, item: InboxItem, today: date | None = None) -> dict[str, Any]:
    """One item as :func:`list_inbox` shows it."""
    with _session(engine) as session:
        client, vacancy = session.get(Client, item.client_id), session.get(Vacancy, item.vacancy_id)
        assert client is not None and vacancy is not None  # foreign keys
        notes = beperking_notes(client, vacancy)
        return item_dict(
            item, client.client_nummer, vacancy.vacature_nummer, vacancy.titel, today or local_today(), notes
        )


# ---------------------------------------------------------------------------------------- nazorg


_MAANDEN = ("maand", "maanden")


def schedule_nazorg(
    session: Session, voorstel: Voorstel, consulent: str, placed_at: datetime, actor: str
) -> list[InboxItem]:
    """Add the nazorg items at 1, 3 and 6 months after ``placed_at`` to ``session`` (the caller commits).

    Args:
        session: The session of the transition to ``geplaatst``, so both commit together.
        voorstel: The placed voorstel.
        consulent: The caseload code of the client.
        placed_at: The moment of placement (aware); due dates count from its date in the Netherlands.
        actor: Who recorded the placement.
    """
    _ensure(session.get_bind())  # type: ignore[arg-type]
    placed_on = placed_at.astimezone(LOCAL_TIME).date()
    items = [
        InboxItem(
            soort=Soort.NAZORG.value,
            consulent=consulent,
            client_id=voorstel.client_id,
            vacancy_id=voorstel.vacancy_id,
            voorstel_id=voorstel.id,
            sender=actor,
            toelichting=f"Nazorg {months} {_MAANDEN[months > 1]} na plaatsing op {placed_on.isoformat()}",
            due=add_months(placed_on, months),
            maanden=months,
        )
        for months in NAZORG_MAANDEN
    ]
    session.add_all(items)
    return items


def nazorg_for(session: Session, voorstel_id: int) -> list[InboxItem]:
    """The nazorg items of a voorstel, by due date."""
    _ensure(session.get_bind())  # type: ignore[arg-type]
    return list(
        session.exec(
            select(InboxItem)
            .where(InboxItem.voorstel_id == voorstel_id, InboxItem.soort == Soort.NAZORG.value)
            .order_by(InboxItem.due)  # type: ignore[arg-type]
        )
    )


# ---------------------------------------------------------------------------------------- labels


def declined_labels(session: Session, since: datetime | None = None) -> list[RelevanceLabel]:
    """Declined pairs as training labels, ``RELEVANCE[afgewezen]`` (0), oldest first.

    Both kinds of decline: a suggestion declined in the inbox (:class:`InboxAfwijzing`) and a candidate
    rejected on a vacancy's list (:class:`KandidaatAfwijzing`), except for the :data:`SITUATIONAL`
    reasons, which say nothing about the fit. The sibling of
    :func:`matching.outcomes.relevance_labels`; one label per pair (the latest decline).
    """
    since = aware_utc(since, "since", example=UTC_EXAMPLE) if since is not None else None
    _ensure(session.get_bind())  # type: ignore[arg-type]
    rows: list[tuple[datetime, int, int]] = []
    for table, extra in (
        (InboxAfwijzing, ()),
        (KandidaatAfwijzing, (KandidaatAfwijzing.reason_code.not_in([r.value for r in SITUATIONAL]),)),  # type: ignore[attr-defined]
    ):
        statement = select(table.at, table.client_id, table.vacancy_id).where(*extra)
        if since is not None:
            statement = statement.where(table.at >= since)
        rows.extend(session.exec(statement).all())
    latest: dict[tuple[int, int], datetime] = {}
    for at, client_id, vacancy_id in sorted(rows):
        latest[(client_id, vacancy_id)] = at
    label = RELEVANCE[VoorstelStatus.AFGEWEZEN]
    return [
        RelevanceLabel(client, vacancy, label, at)
        for (client, vacancy), at in sorted(latest.items(), key=lambda item: (item[1], item[0]))
    ]


def training_labels(session: Session, since: datetime | None = None) -> list[RelevanceLabel]:
    """Voorstel labels and declined suggestions together: per pair the latest judgement, oldest first."""
    merged: dict[tuple[int, int], RelevanceLabel] = {}
    for label in sorted(
        [*declined_labels(session, since), *outcomes.relevance_labels(session, since)], key=lambda row: row.decided_at
    ):
        merged[(label.client_id, label.vacancy_id)] = label
    return sorted(merged.values(), key=lambda label: (label.decided_at, label.client_id, label.vacancy_id))


# ---------------------------------------------------------------------------------------- saved searches


def save_search(engine: Engine, actor: Actor, klant: str, min_score: float = 0.0, top: int = 10) -> dict[str, Any]:
    """Save a search for a client of the actor's caseload; :func:`run_saved_searches` runs it.

    Raises:
        NotFoundError: Unknown client or another consulent's client.
        InvalidInputError: ``min_score`` outside 0–1 or ``top`` outside 1–50.
    """
    if not 0.0 <= min_score <= 1.0:
        raise InvalidInputError(f"minScore moet tussen 0 en 1 liggen, niet {min_score}")
    if not 1 <= top <= 50:
        raise InvalidInputError(f"top moet tussen 1 en 50 liggen, niet {top}")
    with _session(engine) as session:
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
    with _session(engine) as session:
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
    with _session(engine) as session:
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

    Each search asks ``matcher.vacancies_for(klantnummer, top)`` and keeps results with
    ``score >= min_score`` that were never suggested to or proposed for this client. One transaction
    per search, so a failing search does not hold back the others. A search whose client moved to
    another caseload is skipped (the new consulent can save their own).

    Args:
        engine: The database.
        matcher: A :class:`matching.matcher.Matcher` (anything with ``vacancies_for``).
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
    with _session(engine) as session:
        searches = list(session.exec(select(Zoekopdracht).order_by(Zoekopdracht.id)))  # type: ignore[arg-type]
    for search in searches:
        with _session(engine) as session:
            client = session.get(Client, search.client_id)
            if client is None or client.consulent != search.consulent:
                summary["overgeslagen"] += 1
                continue
            try:
                listing = matcher.vacancies_for(client.client_nummer, search.top)
            except WerkmatchError as error:
                logger.warning("zoekopdracht %s failed: %s", search.id, error)
                summary["mislukt"] += 1
                continue
            fits = [r["vacancyId"] for r in listing["results"] if r["score"] >= search.min_score]
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
                by_rank = {r["vacancyId"]: r for r in listing["results"]}
                new = [by_number[n] for n in fits if n in by_number and by_number[n].id not in known]
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
                            rank=result["rank"],
                            score=result["score"],
                            model_version=_model_version(listing.get("rankedBy")),
                            reasons=list(result.get("reasons", [])),
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
                summary["mislukt"] += 1
                continue
            summary["zoekopdrachten"] += 1
            summary["nieuw"] += len(new)
    return summary


__all__ = [
    "NAZORG_MAANDEN",
    "NOT_GIVEN",
    "SITUATIONAL",
    "Actor",
    "AfwijsReden",
    "ConflictError",
    "InboxAfwijzing",
    "InboxItem",
    "ItemStatus",
    "KandidaatAfwijzing",
    "Soort",
    "Uitkomst",
    "VoorstelMotivatie",
    "Zoekopdracht",
    "accept",
    "add_months",
    "declined_labels",
    "decline",
    "delete_search",
    "ensure_tables",
    "finish",
    "item_view",
    "list_inbox",
    "list_searches",
    "local_today",
    "nazorg_for",
    "own_client",
    "push_candidates",
    "run_saved_searches",
    "save_search",
    "schedule_nazorg",
    "training_labels",
]
