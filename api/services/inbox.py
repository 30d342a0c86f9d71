"""The consulent's work queue: inbox items, the accountmanager's push, declines, nazorg.

**Inbox items** (``inbox_item``, :class:`InboxItem`) are addressed to a consulent *code* (the code in
``Client.consulent``, i.e. the caseload), not to a user, so a colleague who takes over the caseload
sees them. Three kinds (:class:`Soort`):

* ``push``: an accountmanager's warm hand-over of a vacancy (:func:`push_candidates`). The
  accountmanager only ever gets back pseudonymous references; the consulent sees the klantnummer;
* ``zoekopdracht``: a new open vacancy found by a saved search (:mod:`api.services.zoekopdrachten`);
* ``nazorg``: a follow-up 1, 3 and 6 months after a placement (:func:`schedule_nazorg`, called by
  :mod:`api.services.voorstellen` when a voorstel reaches ``geplaatst``), with a ``due`` date; until
  that date it is listed with ``gepland`` set.

An item is ``open`` until it is handled once: accepted (:func:`api.services.voorstellen.accept` makes
the voorstel), declined (:func:`decline`, with a job-related reason code) or, for nazorg, afgerond
(:func:`finish`). Handling is a compare-and-set on ``status = 'open'`` (:func:`claim`), so a second
attempt, also a concurrent one, gets :class:`ConflictError` (HTTP 409) and changes nothing.

**Declines are labels.** A consulent who declines a suggested pair knows the client; that is the same
judgement as an ``afgewezen`` voorstel (relevance 0). It is stored in its own table
(``inbox_afwijzing``, :class:`InboxAfwijzing`) rather than as a fake voorstel: no employer ever saw
the pair, and the voorstellen table must keep meaning "proposals that were made" (the promotion gate
reads them on real data). :func:`api.services.voorstellen.training_labels` reads them.

**Pairs are suggested once.** A push skips pairs that already have an open push/zoekopdracht item
or an open voorstel; a saved search never suggests a (client, vacancy) pair it suggested before (a
partial unique index enforces that in the database).

Every function that reads or changes data about clients appends an audit entry
(:func:`api.services.werkproces.record_audit`) in the same transaction and commits before it returns.
The tables are created with all others by :func:`api.services.schema.create_all`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Column, Index, String, case, func, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Field as SQLField
from sqlmodel import Session, SQLModel, select

from api.services.werkproces import Actor, check_page, record_audit
from matching import compatibility, geo, outcomes, reasons
from matching.annotate import offered_by
from matching.columns import moment_column, optional_moment_column
from matching.domain import Client, Vacancy, utcnow
from matching.errors import ConflictError, InvalidInputError, NotFoundError
from matching.outcomes import Voorstel, note_column
from matching.timeutil import add_months

NAZORG_MAANDEN = (1, 3, 6)
"""Follow-ups after a placement, in months: the first weeks decide most drop-outs, 6 months is duurzaam."""
LOCAL_TIME = ZoneInfo("Europe/Amsterdam")  # due dates are calendar days of the consulent, not UTC


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


_ZOEKOPDRACHT_SQL = text("soort = 'zoekopdracht'")
_NAZORG_SQL = text("soort = 'nazorg'")


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
    toelichting: str | None = note_column()
    reference: str | None = SQLField(default=None, max_length=40)  # the push's pseudonym for the accountmanager
    rank: int | None = None
    score: float | None = None
    model_version: str | None = SQLField(default=None, max_length=outcomes.MODEL_VERSION_MAX)
    reasons: list[str] = SQLField(default_factory=list, sa_column=Column(JSON, nullable=False))
    due: date | None = SQLField(default=None, index=True)
    maanden: int | None = None
    created_at: datetime = moment_column(index=True)
    handled_by: str | None = SQLField(default=None, max_length=outcomes.ACTOR_MAX)
    handled_at: datetime | None = optional_moment_column()
    handled_note: str | None = note_column()


class InboxAfwijzing(SQLModel, table=True):
    """A suggested pair a consulent declined, with a job-related reason: a relevance-0 training label."""

    __tablename__ = "inbox_afwijzing"

    id: int | None = SQLField(default=None, primary_key=True)
    inbox_item_id: int = SQLField(foreign_key="inbox_item.id", unique=True, ondelete="CASCADE")
    client_id: int = SQLField(foreign_key="client.id", index=True, ondelete="CASCADE")
    vacancy_id: int = SQLField(foreign_key="vacancy.id", index=True, ondelete="CASCADE")
    soort: str = SQLField(max_length=20)
    reason_code: str = SQLField(max_length=40)
    toelichting: str | None = note_column()
    actor: str = SQLField(max_length=outcomes.ACTOR_MAX)
    at: datetime = moment_column(index=True)


def local_today() -> date:
    """Today's date in the Netherlands."""
    return utcnow().astimezone(LOCAL_TIME).date()


# ---------------------------------------------------------------------------------------- inbox


def beperking_notes(client: Client, vacancy: Vacancy) -> list[str]:
    """For the client's own consulent only: where the vacancy's demands meet the client's beperkingen.

    A pushed candidate was chosen without looking at beperkingen (``matching.disclosure``), so the
    conflict, and whether the vacancy offers what closes it, is said here, where the consulent decides.
    """
    conflicts = compatibility.pair_aanpassingen(client.beperkingen, vacancy.belasting, offered_by(vacancy))
    return [item.tekst() for item in conflicts]


def _km(client: Client, vacancy: Vacancy) -> float | None:
    """The distance between the client's and the vacancy's postcode area, or None where one is unknown."""
    try:
        return round(geo.distance_km(client.postcode, vacancy.postcode), 1)
    except (KeyError, ValueError):
        return None


def item_dict(
    item: InboxItem, client: Client, vacancy: Vacancy, today: date, beperkingen: list[str] | None = None
) -> dict[str, Any]:
    """One item as the API returns it; ``beperkingen`` (:func:`beperking_notes`) only for the own consulent."""
    return {
        "id": item.id,
        "soort": item.soort,
        "status": item.status,
        "uitkomst": item.uitkomst,
        "klant_id": client.client_nummer,
        "vacature_id": vacancy.vacature_nummer,
        "titel": vacancy.titel,
        "uren_min": vacancy.uren_min,
        "uren_max": vacancy.uren_max,
        "afstand_km": _km(client, vacancy),
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
    check_page(page, size)
    day = today or local_today()
    conditions = [InboxItem.consulent == (actor.consulent or "")]
    if status is not None:
        conditions.append(InboxItem.status == ItemStatus(status).value)
    if not gepland:
        conditions.append((InboxItem.due.is_(None)) | (InboxItem.due <= day))  # type: ignore[union-attr,operator]
    planned = case((InboxItem.due > day, 1), else_=0)  # type: ignore[operator]
    upcoming_due = case((InboxItem.due > day, InboxItem.due), else_=None)  # type: ignore[operator]
    notes = beperking_notes
    with Session(engine, expire_on_commit=False) as session:
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
        items = [item_dict(item, client, vacancy, day, notes(client, vacancy)) for item, client, vacancy in rows]
        if items:  # the item numbers: a push's sender sees what was shown ("bekeken", api.services.pushes)
            klanten = sorted({item["klant_id"] for item in items})
            record_audit(session, actor, "inbox_gelezen", klanten, items=[item["id"] for item in items])
            session.commit()
    return {"items": items, "totaal": total, "pagina": page, "pagina_grootte": size}


def claim(
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


def pair_numbers(session: Session, item: InboxItem) -> tuple[str, str]:
    client = session.get(Client, item.client_id)
    vacancy = session.get(Vacancy, item.vacancy_id)
    return client.client_nummer, vacancy.vacature_nummer  # type: ignore[union-attr]


def decline(engine: Engine, actor: Actor, item_id: int, reden: str, toelichting: str | None = None) -> InboxItem:
    """Decline a push or zoekopdracht item with a job-related reason; stores the pair as a training label.

    Args:
        engine: The database.
        actor: The werkconsulent of the item's caseload.
        item_id: The item.
        reden: A code of :data:`matching.reasons.REDENEN`, the list a candidate is rejected with too.
        toelichting: Required with ``anders``; at most 500 characters.

    Raises:
        NotFoundError, ConflictError, InvalidInputError: as :func:`accept`; also a reason that does not fit.
    """
    allowed = [r.value for r in reasons.REDENEN]
    code = (reden or "").strip().lower()
    if code not in allowed:
        raise InvalidInputError(
            f"'{reden}' is geen geldige reden om af te wijzen; kies uit: {', '.join(sorted(allowed))}"
        )
    note = outcomes.clean_toelichting(toelichting)
    if code == reasons.Reden.ANDERS and note is None:
        raise InvalidInputError("reden 'anders' vraagt een toelichting; beschrijf kort waarom dit niet past")
    with Session(engine, expire_on_commit=False) as session:
        try:
            item = claim(session, actor, item_id, SUGGESTIONS, Uitkomst.AFGEWEZEN, note)
            klant, vacature = pair_numbers(session, item)
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
    note = outcomes.clean_toelichting(toelichting)
    with Session(engine, expire_on_commit=False) as session:
        try:
            item = claim(session, actor, item_id, (Soort.NAZORG.value,), Uitkomst.AFGEROND, note)
            klant, vacature = pair_numbers(session, item)
            record_audit(session, actor, "nazorg_afgerond", [klant, vacature], inboxItem=item_id)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        return item


def item_view(engine: Engine, item: InboxItem, today: date | None = None) -> dict[str, Any]:
    """One item as :func:`list_inbox` shows it."""
    with Session(engine, expire_on_commit=False) as session:
        client, vacancy = session.get(Client, item.client_id), session.get(Vacancy, item.vacancy_id)
        assert client is not None and vacancy is not None  # foreign keys
        notes = beperking_notes(client, vacancy)
        return item_dict(item, client, vacancy, today or local_today(), notes)


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
    return list(
        session.exec(
            select(InboxItem)
            .where(InboxItem.voorstel_id == voorstel_id, InboxItem.soort == Soort.NAZORG.value)
            .order_by(InboxItem.due)  # type: ignore[arg-type]
        )
    )
