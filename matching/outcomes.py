"""Outcomes as data: proposals (voorstellen), their history, and graded relevance labels.

A :class:`Voorstel` links one client to one vacancy, made by a consulent or an accountmanager. It
moves through the states of :data:`TRANSITIONS`::

    voorgesteld → uitgenodigd → aangenomen → geplaatst → duurzaam
         │             │             │            │
         └─────────────┴→ afgewezen  └────────────┴→ uitgevallen

Every change appends a :class:`VoorstelEvent` (who, when, from which state, why); nothing in the
history is ever updated. ``afgewezen`` and ``uitgevallen`` need a reason code of
:mod:`matching.reasons` (:data:`REDENEN`), which names only job-related causes: there is no code for
a protected attribute (gender, age, origin, religion, name, pregnancy, ...) or health, so a rejection
for such a reason cannot be recorded as data and can never become a training signal.

:data:`RELEVANCE` turns the state a pair reached into a graded label (0 afgewezen … 4 duurzaam) and
:func:`relevance_labels` lists them for training the ranker.

**The rules, not the road.** This module holds the tables, the states and the checks of every step.
People change voorstellen only through :mod:`api.services.voorstellen`, which adds the caseload
check, the audit entry, the reason of the decision and the nazorg, and calls :func:`propose` and
:func:`transition` for the step itself; the outcome simulator (:mod:`training.outcome_sim`) writes
its history straight through them, so a simulated step passes the same checks.

Writes commit before they return, so a proposal the user saw accepted is on disk (the engine runs
SQLite in WAL mode with ``synchronous=FULL``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Column, Index, String, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field as SQLField
from sqlmodel import Session, SQLModel, select

from matching import reasons
from matching.columns import moment_column
from matching.domain import Client, Note, Vacancy, utcnow
from matching.errors import InvalidInputError, NotFoundError
from matching.lookup import find_client, find_vacancy
from matching.reasons import Reden
from matching.timeutil import UTC_EXAMPLE, add_months, aware_utc


class VoorstelStatus(StrEnum):
    """Where a proposal stands. ``afgewezen``, ``duurzaam`` and ``uitgevallen`` are final."""

    VOORGESTELD = "voorgesteld"  # proposed to the employer (or to the client)
    UITGENODIGD = "uitgenodigd"  # invited for an interview / kennismaking
    AANGENOMEN = "aangenomen"  # hired, not yet started
    AFGEWEZEN = "afgewezen"  # rejected or withdrawn before a hire
    GEPLAATST = "geplaatst"  # started work
    DUURZAAM = "duurzaam"  # still working 6 months after the start
    UITGEVALLEN = "uitgevallen"  # the hire or the placement ended early


class Rol(StrEnum):
    """Who made a proposal: the client's consulent or the accountmanager holding the vacancy."""

    CONSULENT = "consulent"
    ACCOUNTMANAGER = "accountmanager"


FINAL_STATUSES = frozenset({VoorstelStatus.AFGEWEZEN, VoorstelStatus.DUURZAAM, VoorstelStatus.UITGEVALLEN})
OPEN_STATUSES = frozenset(VoorstelStatus) - FINAL_STATUSES

TRANSITIONS: dict[VoorstelStatus, tuple[VoorstelStatus, ...]] = {
    VoorstelStatus.VOORGESTELD: (VoorstelStatus.UITGENODIGD, VoorstelStatus.AFGEWEZEN),
    VoorstelStatus.UITGENODIGD: (VoorstelStatus.AANGENOMEN, VoorstelStatus.AFGEWEZEN),
    # A hire can still fall through before the first working day (werkgever or klant trekt in).
    VoorstelStatus.AANGENOMEN: (VoorstelStatus.GEPLAATST, VoorstelStatus.UITGEVALLEN),
    VoorstelStatus.GEPLAATST: (VoorstelStatus.DUURZAAM, VoorstelStatus.UITGEVALLEN),
    VoorstelStatus.AFGEWEZEN: (),
    VoorstelStatus.DUURZAAM: (),
    VoorstelStatus.UITGEVALLEN: (),
}
"""Allowed next states. Anything else (skipping a state, going back, leaving a final state) is refused."""

REDENEN: dict[VoorstelStatus, frozenset[Reden]] = {
    VoorstelStatus.AFGEWEZEN: frozenset(reasons.REDENEN),
    VoorstelStatus.UITGEVALLEN: frozenset(reasons.REDENEN),
}
"""The reason codes each state needs (the one list of :mod:`matching.reasons`); other states take none."""

RELEVANCE: dict[VoorstelStatus, int] = {
    VoorstelStatus.AFGEWEZEN: 0,
    VoorstelStatus.VOORGESTELD: 1,
    VoorstelStatus.UITGENODIGD: 1,
    VoorstelStatus.AANGENOMEN: 2,
    VoorstelStatus.UITGEVALLEN: 2,
    VoorstelStatus.GEPLAATST: 3,
    VoorstelStatus.DUURZAAM: 4,
}
"""Graded relevance of a pair by the state its proposal reached: how far the match got.

* ``afgewezen`` 0: someone who knew both sides said no.
* ``voorgesteld`` and ``uitgenodigd`` 1: a consulent or accountmanager judged the pair plausible, which
  is more than an unseen pair, but nothing is decided yet. An invitation is not graded higher: it
  mostly says the CV passed a first look. Label 1 therefore means "still open"; leave those rows out
  to train on decided outcomes only.
* ``aangenomen`` 2, ``geplaatst`` 3, ``duurzaam`` 4.
* ``uitgevallen`` 2, as high as the hire it got to: the employer did say yes. Dropping out says as much
  about missing nazorg as about the match, and grading it 0 would teach the ranker to prefer the
  "safest" clients, which is afromen again.
"""

DUURZAAM_NA_MAANDEN = 6
ACTOR_MAX = 80
TOELICHTING_MAX = 500
NOTE_CHECK: TypeAdapter[str] = TypeAdapter(Note)
MODEL_VERSION_MAX = 120


def note_column() -> Any:
    """A toelichting (:func:`clean_toelichting`), at most :data:`TOELICHTING_MAX` characters, or empty."""
    return SQLField(default=None, sa_column=Column(String(TOELICHTING_MAX), nullable=True))


_OPEN_SQL = text("status IN ({})".format(", ".join(f"'{status.value}'" for status in sorted(OPEN_STATUSES))))


class Voorstel(SQLModel, table=True):
    """A proposal of one client for one vacancy; ``status`` is the state of its latest event."""

    # At most one open proposal per pair, also when two users propose at the same moment.
    __table_args__ = (
        Index(
            "uq_voorstel_open_pair",
            "client_id",
            "vacancy_id",
            unique=True,
            sqlite_where=_OPEN_SQL,
            postgresql_where=_OPEN_SQL,
        ),
    )

    id: int | None = SQLField(default=None, primary_key=True)
    client_id: int = SQLField(foreign_key="client.id", index=True, ondelete="CASCADE")
    vacancy_id: int = SQLField(foreign_key="vacancy.id", index=True, ondelete="CASCADE")
    made_by: str = SQLField(index=True, max_length=ACTOR_MAX)
    made_by_role: str
    status: str = SQLField(default=VoorstelStatus.VOORGESTELD.value, index=True)
    model_version: str | None = SQLField(default=None, max_length=MODEL_VERSION_MAX)
    rank: int | None = None
    created_at: datetime = moment_column()
    updated_at: datetime = moment_column(index=True)


class VoorstelEvent(SQLModel, table=True):
    """One step in a proposal's history. Append-only: rows are written once and never changed."""

    __tablename__ = "voorstel_event"

    id: int | None = SQLField(default=None, primary_key=True)
    voorstel_id: int = SQLField(foreign_key="voorstel.id", index=True, ondelete="CASCADE")
    from_status: str | None = None  # None for the event that created the proposal
    to_status: str
    reason_code: str | None = None
    toelichting: str | None = note_column()
    actor: str = SQLField(max_length=ACTOR_MAX)
    at: datetime = moment_column()


class RelevanceLabel(NamedTuple):
    """One training label: the pair, its graded relevance and when the pair reached that state."""

    client_id: int
    vacancy_id: int
    label: int
    decided_at: datetime


# ---------------------------------------------------------------------------------------- public API


def propose(
    session: Session,
    client_ref: str | int,
    vacancy_ref: str | int,
    actor: str,
    role: Rol | str,
    *,
    model_version: str | None = None,
    rank: int | None = None,
    toelichting: str | None = None,
    at: datetime | None = None,
    with_voorstel: Callable[[Voorstel], None] | None = None,
) -> Voorstel:
    """Propose a client for a vacancy; commits before it returns.

    Args:
        session: An open session; it is committed (with anything else pending in it).
        client_ref: Klantnummer or database id (a string of digits counts as an id, as in the matcher).
        vacancy_ref: Vacaturenummer or database id.
        actor: User id of whoever makes the proposal.
        role: ``"consulent"`` or ``"accountmanager"``.
        model_version: The ranking model that suggested the pair, if one did.
        rank: Its position (1 = top) in that model's list.
        toelichting: Free text for colleagues, at most 500 characters; never used as a feature.
        at: When it happened, aware; defaults to now. For history written afterwards (the outcome
            simulator); then the vacancy may have been closed since, so its status is not checked.
        with_voorstel: Called with the flushed proposal (its id set) before the commit, to add rows
            that must be written in the same transaction (the reason of the decision, say).

    Returns:
        The new proposal in state ``voorgesteld``, with its first event written.

    Raises:
        NotFoundError: The client or the vacancy does not exist.
        InvalidInputError: A bad argument, a closed vacancy, or an open proposal for this pair exists.
    """
    client = find_client(session, client_ref)
    vacancy = find_vacancy(session, vacancy_ref)
    made_by = _clean_actor(actor)
    made_by_role = _parse_role(role)
    note = clean_toelichting(toelichting)
    moment = _moment(at)
    model_version = _clean_ranking(model_version, rank)
    _check_pair(session, client, vacancy, open_now=at is None)
    voorstel = Voorstel(
        client_id=client.id,  # type: ignore[arg-type]
        vacancy_id=vacancy.id,  # type: ignore[arg-type]
        made_by=made_by,
        made_by_role=made_by_role.value,
        model_version=model_version,
        rank=rank,
        created_at=moment,
        updated_at=moment,
    )
    try:
        session.add(voorstel)
        session.flush()
        session.add(
            VoorstelEvent(
                voorstel_id=voorstel.id,  # type: ignore[arg-type]
                to_status=VoorstelStatus.VOORGESTELD.value,
                toelichting=note,
                actor=made_by,
                at=moment,
            )
        )
        if with_voorstel is not None:
            with_voorstel(voorstel)
        session.commit()
    except IntegrityError:
        # Someone else proposed the same pair between our check and our write.
        session.rollback()
        existing = _open_voorstel(session, client.id, vacancy.id)  # type: ignore[arg-type]
        if existing is None:
            raise
        raise _duplicate(client, vacancy, existing) from None
    return voorstel


def transition(
    session: Session,
    voorstel_id: int,
    to_status: VoorstelStatus | str,
    actor: str,
    reason_code: Reden | str | None = None,
    toelichting: str | None = None,
    at: datetime | None = None,
) -> Voorstel:
    """Move a proposal to its next state and append the event; commits before it returns.

    Args:
        session: An open session; it is committed (with anything else pending in it).
        voorstel_id: The proposal's id.
        to_status: One of the states :data:`TRANSITIONS` allows from the current one.
        actor: User id of whoever records the change.
        reason_code: Required for ``afgewezen`` and ``uitgevallen`` (see :data:`REDENEN`), refused otherwise.
        toelichting: Free text, at most 500 characters; required with reason ``overig``.
        at: When it happened, aware; defaults to now. Must not be before the proposal's last event,
            nor in the future. ``duurzaam`` needs at least 6 months since ``geplaatst``.

    Returns:
        The proposal in its new state.

    Raises:
        NotFoundError: No proposal with this id.
        InvalidInputError: The step is not allowed, the reason is missing or does not fit, the time
            is out of order, or someone else changed the proposal meanwhile. The message names the
            current state and the allowed next states.
    """
    voorstel = session.get(Voorstel, voorstel_id, populate_existing=True)
    if voorstel is None:
        raise NotFoundError(f"voorstel {voorstel_id} bestaat niet; controleer het nummer")
    current = VoorstelStatus(voorstel.status)
    target = _check_step(voorstel_id, current, to_status)
    reden = _check_reason(voorstel_id, current, target, reason_code)
    note = clean_toelichting(toelichting)
    if reden is Reden.ANDERS and note is None:
        raise InvalidInputError(
            f"reden 'anders' vraagt een toelichting; beschrijf kort waarom voorstel {voorstel_id} {target} is"
        )
    made_by = _clean_actor(actor)
    moment = _moment(at)
    last = _events(session, voorstel_id)[-1]
    if moment < last.at:
        raise InvalidInputError(
            f"tijdstip {_show_time(moment)} ligt vóór de laatste stap van voorstel {voorstel_id} "
            f"('{last.to_status}' op {_show_time(last.at)}); geef een later tijdstip"
        )
    if target is VoorstelStatus.DUURZAAM:
        _check_duurzaam(session, voorstel_id, moment)

    # Compare-and-set: a concurrent change between our read and this write updates no row.
    changed = session.exec(
        update(Voorstel)
        .where(Voorstel.id == voorstel_id, Voorstel.status == current.value)  # type: ignore[arg-type]
        .values(status=target.value, updated_at=moment)
    )
    if changed.rowcount != 1:
        session.rollback()
        raise InvalidInputError(
            f"voorstel {voorstel_id} is intussen door iemand anders gewijzigd; "
            "bekijk de nieuwe stand en probeer het opnieuw"
        )
    session.add(
        VoorstelEvent(
            voorstel_id=voorstel_id,
            from_status=current.value,
            to_status=target.value,
            reason_code=reden.value if reden is not None else None,
            toelichting=note,
            actor=made_by,
            at=moment,
        )
    )
    session.commit()
    session.refresh(voorstel)
    return voorstel


def history(session: Session, voorstel_id: int) -> list[VoorstelEvent]:
    """A proposal's events, oldest first; the first one created it (``from_status`` is None).

    Raises:
        NotFoundError: No proposal with this id.
    """
    if session.get(Voorstel, voorstel_id) is None:
        raise NotFoundError(f"voorstel {voorstel_id} bestaat niet; controleer het nummer")
    return _events(session, voorstel_id)


def relevance_labels(session: Session, since: datetime | None = None) -> list[RelevanceLabel]:
    """Graded labels for training: one per (client, vacancy) pair, from its latest proposal.

    A pair proposed again after an earlier proposal ended keeps only the latest outcome: it is the
    current judgement, and one pair with two conflicting labels would only be noise.

    Args:
        session: An open session.
        since: Only pairs whose latest proposal changed at or after this aware moment (incremental
            training); None for all.

    Returns:
        ``(client_id, vacancy_id, label, decided_at)`` tuples with labels from :data:`RELEVANCE`,
        ``decided_at`` the moment the pair reached its state; oldest first. Label 1 means still open.
    """
    cutoff = aware_utc(since, "since", example=UTC_EXAMPLE) if since is not None else None
    # four columns, not Voorstel objects: a national history has millions of rows (ORM objects ≈ 1.5 kB each)
    columns = (Voorstel.client_id, Voorstel.vacancy_id, Voorstel.status, Voorstel.updated_at)
    rows = session.exec(select(*columns).order_by(Voorstel.created_at, Voorstel.id))  # type: ignore[arg-type]
    latest: dict[tuple[int, int], tuple[str, datetime]] = {}
    for client_id, vacancy_id, status, updated_at in rows:
        latest[(client_id, vacancy_id)] = (status, updated_at)
    labels = [
        RelevanceLabel(client_id, vacancy_id, RELEVANCE[VoorstelStatus(status)], updated_at)
        for (client_id, vacancy_id), (status, updated_at) in latest.items()
        if cutoff is None or updated_at >= cutoff
    ]
    return sorted(labels, key=lambda label: (label.decided_at, label.client_id, label.vacancy_id))


# ---------------------------------------------------------------------------------------- checks


def _names(options: frozenset[str] | tuple[str, ...]) -> str:
    return ", ".join(sorted(str(option) for option in options)) if options else "geen"


def _next_text(current: VoorstelStatus) -> str:
    if not TRANSITIONS[current]:
        return "dit voorstel is afgerond en verandert niet meer; doe zo nodig een nieuw voorstel"
    return "mogelijke volgende stap: " + ", ".join(TRANSITIONS[current])


def _reachable(start: VoorstelStatus) -> set[VoorstelStatus]:
    seen: set[VoorstelStatus] = set()
    todo = list(TRANSITIONS[start])
    while todo:
        status = todo.pop()
        if status not in seen:
            seen.add(status)
            todo.extend(TRANSITIONS[status])
    return seen


def _check_step(voorstel_id: int, current: VoorstelStatus, to_status: VoorstelStatus | str) -> VoorstelStatus:
    """The target state, or a Dutch refusal that names the current state and the allowed next ones."""
    where = f"voorstel {voorstel_id} staat op '{current}'"
    try:
        target = VoorstelStatus(str(to_status).strip().lower())
    except ValueError:
        raise InvalidInputError(f"'{to_status}' is geen geldige status; {where}; {_next_text(current)}") from None
    if target in TRANSITIONS[current]:
        return target
    if current in FINAL_STATUSES:
        problem = f"voorstel {voorstel_id} is afgerond met '{current}' en kan niet meer naar '{target}'"
    elif target == current:
        problem = f"voorstel {voorstel_id} staat al op '{current}'"
    elif current in _reachable(target):
        problem = f"{where} en kan niet terug naar '{target}'"
    elif target in _reachable(current):
        before = [step for step in TRANSITIONS[current] if target in _reachable(step)]
        problem = f"{where}; '{target}' kan pas na '{' of '.join(before)}'"
    else:
        problem = f"{where} en kan niet naar '{target}'"
    raise InvalidInputError(f"{problem}; {_next_text(current)}")


def _check_reason(
    voorstel_id: int, current: VoorstelStatus, target: VoorstelStatus, reason_code: Reden | str | None
) -> Reden | None:
    allowed = REDENEN.get(target, frozenset())
    if reason_code is None or not str(reason_code).strip():
        if allowed:
            raise InvalidInputError(
                f"voorstel {voorstel_id} ('{current}') naar '{target}' vraagt een reden; kies uit: {_names(allowed)}"
            )
        return None
    code = str(reason_code).strip().lower()
    if not allowed:
        raise InvalidInputError(
            f"'{target}' krijgt geen reden (reden '{code}' hoort bij afgewezen of uitgevallen); "
            f"laat de reden weg of zet een toelichting bij voorstel {voorstel_id}"
        )
    if code not in set(Reden) and code not in reasons.RETIRED:  # a retired code: "past niet", as before
        raise InvalidInputError(f"'{code}' is geen geldige reden bij '{target}'; kies uit: {_names(allowed)}")
    if code not in allowed:
        raise InvalidInputError(f"reden '{code}' past niet bij '{target}'; kies uit: {_names(allowed)}")
    return Reden(code)


def _check_duurzaam(session: Session, voorstel_id: int, moment: datetime) -> None:
    placed = next(event.at for event in _events(session, voorstel_id) if event.to_status == VoorstelStatus.GEPLAATST)
    durable_from = add_months(placed, DUURZAAM_NA_MAANDEN)
    if moment < durable_from:
        raise InvalidInputError(
            f"voorstel {voorstel_id} staat op 'geplaatst' sinds {_show_time(placed)}; 'duurzaam' kan pas vanaf "
            f"{_show_time(durable_from)} ({DUURZAAM_NA_MAANDEN} maanden na plaatsing); tot dan kan alleen 'uitgevallen'"
        )


def _show_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _moment(at: datetime | None) -> datetime:
    now = utcnow()
    if at is None:
        return now
    moment = aware_utc(at, "tijdstip", example=UTC_EXAMPLE)
    if moment > now:
        raise InvalidInputError(f"tijdstip {_show_time(moment)} ligt in de toekomst; leg alleen vast wat al gebeurd is")
    return moment


def _clean_actor(actor: str) -> str:
    name = (actor or "").strip()
    if not name:
        raise InvalidInputError("gebruiker ontbreekt; geef het gebruikers-id van wie het voorstel doet of wijzigt")
    if len(name) > ACTOR_MAX:
        raise InvalidInputError(f"gebruikers-id mag hoogstens {ACTOR_MAX} tekens bevatten")
    return name


def clean_toelichting(toelichting: str | None) -> str | None:
    """A note beside a voorstel, an afwijzing or a push, as stored: stripped, at most 500 characters,
    printable, and without BSN, phone number or e-mail address (``matching.domain.Note``); None when empty.

    Raises:
        InvalidInputError: In Dutch, naming what to change (never repeating the value).
    """
    note = (toelichting or "").strip()
    if len(note) > TOELICHTING_MAX:
        raise InvalidInputError(
            f"toelichting mag hoogstens {TOELICHTING_MAX} tekens bevatten, niet {len(note)}; maak hem korter"
        )
    try:
        NOTE_CHECK.validate_python(note)
    except ValidationError as error:
        raise InvalidInputError("toelichting " + str(error.errors()[0]["msg"]).removeprefix("Value error, ")) from None
    return note or None


def _clean_ranking(model_version: str | None, rank: int | None) -> str | None:
    """The model version as stored (stripped, None when empty); refuses one too long or a rank below 1."""
    if model_version is not None:
        model_version = model_version.strip() or None
    if model_version is not None and len(model_version) > MODEL_VERSION_MAX:
        raise InvalidInputError(f"modelversie mag hoogstens {MODEL_VERSION_MAX} tekens bevatten")
    if rank is not None and rank < 1:
        raise InvalidInputError(f"rang {rank} is ongeldig; de bovenste plaats is 1")
    return model_version


def _check_pair(session: Session, client: Client, vacancy: Vacancy, *, open_now: bool) -> None:
    """Refuse a closed vacancy (when ``open_now``: history written afterwards skips it) or an open voorstel."""
    if open_now and not vacancy.is_open:
        raise InvalidInputError(
            f"vacature '{vacancy.vacature_nummer}' is {vacancy.status}; een voorstel kan alleen bij een open vacature"
        )
    existing = _open_voorstel(session, client.id, vacancy.id)  # type: ignore[arg-type]
    if existing is not None:
        raise _duplicate(client, vacancy, existing)


def _parse_role(role: Rol | str) -> Rol:
    try:
        return Rol(str(role).strip().lower())
    except ValueError:
        raise InvalidInputError(f"'{role}' is geen geldige rol; kies uit: {', '.join(Rol)}") from None


# ---------------------------------------------------------------------------------------- lookups


def _open_voorstel(session: Session, client_id: int, vacancy_id: int) -> Voorstel | None:
    open_values = [status.value for status in OPEN_STATUSES]
    return session.exec(
        select(Voorstel).where(
            Voorstel.client_id == client_id,
            Voorstel.vacancy_id == vacancy_id,
            Voorstel.status.in_(open_values),  # type: ignore[attr-defined]
        )
    ).first()


def _duplicate(client: Client, vacancy: Vacancy, existing: Voorstel) -> InvalidInputError:
    return InvalidInputError(
        f"klant '{client.client_nummer}' is al voorgesteld voor vacature '{vacancy.vacature_nummer}' "
        f"(voorstel {existing.id}, status '{existing.status}'); werk dat voorstel bij in plaats van een nieuw te doen"
    )


def _events(session: Session, voorstel_id: int) -> list[VoorstelEvent]:
    return list(
        session.exec(
            select(VoorstelEvent)
            .where(VoorstelEvent.voorstel_id == voorstel_id)
            .order_by(VoorstelEvent.at, VoorstelEvent.id)  # type: ignore[arg-type]
        )
    )
