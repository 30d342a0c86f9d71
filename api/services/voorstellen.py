"""The voorstel lifecycle, one road for every caller: propose, accept a suggestion, move, read, search, labels.

The HTTP routes (:mod:`api.routes.voorstellen`, :mod:`api.routes.inbox`), the web pages and the CLI
call these functions; :mod:`matching.outcomes` holds the states, the checks of each step and the
tables, and is called only from here (and by the outcome simulator, which writes history).

* **Proposing** (:func:`propose`) is for a werkconsulent, for a client of their own caseload; an
  accountmanager proposes only through a consulent, with a push (:mod:`api.services.inbox`).
  **Accepting** a push or zoekopdracht item (:func:`accept`) makes the voorstel too.
* **Decisions carry a reason** (:class:`VoorstelReden`), stored in :class:`VoorstelMotivatie` in the
  same transaction as the voorstel and its audit entry; none given is ``niet_opgegeven``, and
  :mod:`api.services.oversight` reports how often that happens.
* **Moving** a voorstel (:func:`move`) to ``geplaatst`` schedules nazorg at 1, 3 and 6 months in the
  same transaction (:func:`api.services.inbox.schedule_nazorg`).
* **Rejecting a candidate on a list** (:func:`reject_candidate`) with a job-related code of
  :data:`matching.reasons.REDENEN` (the inbox's list too) is recorded in :class:`KandidaatAfwijzing`.
* **Labels for training** (:func:`training_labels`): the voorstellen' outcomes
  (:func:`matching.outcomes.relevance_labels`) and the declines (:func:`declined_labels`: inbox
  declines and rejections on a list, ``RELEVANCE[afgewezen]``), per pair the latest judgement.
  ``werkmatch train`` trains on them through :func:`train_ranker`.

Another consulent's voorstel or client is answered as unknown (404), as an unknown one. Every
function appends its audit entry in the transaction of its change and commits before it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, String, func
from sqlalchemy.engine import Engine
from sqlmodel import Field as SQLField
from sqlmodel import Session, SQLModel, select

from api.services import audit, inbox
from api.services.inbox import SUGGESTIONS, InboxAfwijzing, Uitkomst
from api.services.werkproces import Actor, check_page, own_client, record_audit
from matching import outcomes, reasons
from matching.columns import moment_column
from matching.domain import Client, Vacancy, utcnow
from matching.errors import InvalidInputError, NotFoundError
from matching.lookup import find_vacancy
from matching.matcher import Matcher
from matching.outcomes import (
    RELEVANCE,
    RelevanceLabel,
    Voorstel,
    VoorstelStatus,
    note_column,
)
from matching.reasons import Reden
from matching.settings import Settings
from matching.timeutil import UTC_EXAMPLE, aware_utc
from training.train import train

NOT_GIVEN = "niet_opgegeven"  # the voorstel reason code stored when the consulent gave none


class VoorstelReden(StrEnum):
    """Why a consulent proposes this candidate for this vacancy."""

    HOOGSTE_MATCH = "hoogste_match"  # the best fit on the list
    KENT_KLANT = "kent_klant"  # the consulent knows the client fits, whatever the rank
    WENS_KLANT = "wens_klant"  # the client wants this job
    ONTWIKKELKANS = "ontwikkelkans"  # a step up the ladder, a chance to grow
    WERKGEVER_VRAAGT = "werkgever_vraagt"  # the employer or accountmanager asked for this client
    ANDERS = "anders"  # needs a toelichting
    NIET_OPGEGEVEN = NOT_GIVEN  # stored when none was given; not accepted as input


class VoorstelMotivatie(SQLModel, table=True):
    """Why a consulent proposed this candidate (a :class:`VoorstelReden` code), one per voorstel.

    A side table because :class:`matching.outcomes.Voorstel` has no place for it; written in the same
    transaction as the voorstel (``outcomes.propose(with_voorstel=…)``) and its audit entry.
    """

    __tablename__ = "voorstel_motivatie"

    voorstel_id: int = SQLField(foreign_key="voorstel.id", primary_key=True, ondelete="CASCADE")
    reason_code: str = SQLField(max_length=40)
    actor: str = SQLField(max_length=outcomes.ACTOR_MAX)
    at: datetime = moment_column(index=True)


class KandidaatAfwijzing(SQLModel, table=True):
    """A candidate a consulent rejected on a vacancy's list, with a reason: oversight data and (mostly) a label."""

    __tablename__ = "kandidaat_afwijzing"

    id: int | None = SQLField(default=None, primary_key=True)
    client_id: int = SQLField(foreign_key="client.id", index=True, ondelete="CASCADE")
    vacancy_id: int = SQLField(foreign_key="vacancy.id", index=True, ondelete="CASCADE")
    consulent: str = SQLField(sa_column=Column(String(80), index=True, nullable=False))  # the actor's caseload
    reason_code: str = SQLField(max_length=40)
    toelichting: str | None = note_column()
    actor: str = SQLField(max_length=outcomes.ACTOR_MAX, index=True)
    at: datetime = moment_column(index=True)


# ---------------------------------------------------------------------------------------- reasons


def voorstel_reden(reden: str | None, toelichting: str | None) -> str:
    """The voorstel reason code to store: ``reden`` checked, or ``niet_opgegeven`` when none was given.

    Raises:
        InvalidInputError: An unknown code, or ``anders`` without a toelichting.
    """
    code = (reden or "").strip().lower()
    if not code:
        return VoorstelReden.NIET_OPGEGEVEN.value
    allowed = [r.value for r in VoorstelReden if r is not VoorstelReden.NIET_OPGEGEVEN]
    if code not in allowed:
        raise InvalidInputError(f"'{reden}' is geen geldige reden voor een voorstel; kies uit: {', '.join(allowed)}")
    if code == VoorstelReden.ANDERS and not (toelichting or "").strip():
        raise InvalidInputError("reden 'anders' vraagt een toelichting; beschrijf kort waarom u deze klant voorstelt")
    return code


def afwijs_reden(reden: str, toelichting: str | None) -> tuple[str, str | None]:
    """The checked rejection code and the cleaned toelichting.

    Raises:
        InvalidInputError: ``gezondheid``, an unknown code, ``anders`` without a toelichting, or a
            toelichting over 500 characters.
    """
    code = (reden or "").strip().lower()
    if code == "gezondheid":  # retired (matching.reasons.RETIRED): say what to choose instead
        raise InvalidInputError(
            "'gezondheid' is geen reden om een kandidaat af te wijzen; kies 'belastbaarheid' als de eisen "
            "van deze baan niet passen bij de beperkingen van de klant"
        )
    allowed = [r.value for r in reasons.REDENEN]
    if code not in allowed:
        raise InvalidInputError(f"'{reden}' is geen geldige reden om af te wijzen; kies uit: {', '.join(allowed)}")
    note = outcomes.clean_toelichting(toelichting)
    if code == Reden.ANDERS and note is None:
        raise InvalidInputError("reden 'anders' vraagt een toelichting; beschrijf kort waarom deze kandidaat niet past")
    return code, note


def record_motivation(session: Session, voorstel_id: int, code: str, actor: str) -> None:
    """Add the voorstel's reason (from :func:`voorstel_reden`) to ``session``; the caller commits."""
    session.add(VoorstelMotivatie(voorstel_id=voorstel_id, reason_code=code, actor=actor))


# ---------------------------------------------------------------------------------------- views


def _own_voorstel(session: Session, voorstel_id: int, actor: Actor) -> tuple[Voorstel, Client, Vacancy]:
    """The voorstel if its client is in the actor's caseload; otherwise the same 404 as an unknown one."""
    voorstel = session.get(Voorstel, voorstel_id, populate_existing=True)
    client = session.get(Client, voorstel.client_id) if voorstel is not None else None
    if voorstel is None or client is None or actor.consulent is None or client.consulent != actor.consulent:
        raise NotFoundError(f"voorstel {voorstel_id} bestaat niet; controleer het nummer")
    vacancy = session.get(Vacancy, voorstel.vacancy_id)
    return voorstel, client, vacancy  # type: ignore[return-value]


def _short(voorstel: Voorstel, klant: str, vacature: str, titel: str, reden: str | None = None) -> dict[str, Any]:
    return {
        "id": voorstel.id,
        "klant_id": klant,
        "vacature_id": vacature,
        "titel": titel,
        "status": voorstel.status,
        "gedaan_door": voorstel.made_by,
        "rol": voorstel.made_by_role,
        "aangemaakt": voorstel.created_at,
        "gewijzigd": voorstel.updated_at,
        "reden": reden,
    }


def view(session: Session, voorstel: Voorstel, client: Client, vacancy: Vacancy) -> dict[str, Any]:
    """A voorstel with its reason, next steps, history and planned nazorg (snake_case keys)."""
    today = inbox.local_today()
    motivation = session.get(VoorstelMotivatie, voorstel.id)
    steps = [
        {
            "van": event.from_status,
            "naar": event.to_status,
            "reden": event.reason_code,
            "toelichting": event.toelichting,
            "door": event.actor,
            "op": event.at,
        }
        for event in outcomes.history(session, voorstel.id)  # type: ignore[arg-type]
    ]
    nazorg = [
        inbox.item_dict(item, client, vacancy, today)
        for item in inbox.nazorg_for(session, voorstel.id)  # type: ignore[arg-type]
    ]
    reden = motivation.reason_code if motivation is not None else None
    return {
        **_short(voorstel, client.client_nummer, vacancy.vacature_nummer, vacancy.titel, reden),
        "model_versie": voorstel.model_version,
        "rang": voorstel.rank,
        "volgende_stappen": [str(step) for step in outcomes.TRANSITIONS[VoorstelStatus(voorstel.status)]],
        "geschiedenis": steps,
        "nazorg": nazorg,
    }


# ---------------------------------------------------------------------------------------- the lifecycle


def propose(
    engine: Engine, actor: Actor, klant: str, vacature: str, reden: str | None = None, toelichting: str | None = None
) -> dict[str, Any]:
    """A werkconsulent proposes a client of their caseload for an open vacancy, with the reason (:func:`view`).

    Raises:
        InvalidInputError: A reason that does not fit, a closed vacancy, an open voorstel for the pair.
        NotFoundError: Unknown vacancy, or a client that is unknown or not in the caseload.
    """
    code = voorstel_reden(reden, toelichting)
    with Session(engine, expire_on_commit=False) as session:
        client = own_client(session, klant, actor.consulent)
        vacancy = find_vacancy(session, vacature)
        try:
            record_audit(session, actor, "voorstel_gedaan", [client.client_nummer, vacancy.vacature_nummer], reden=code)
            voorstel = outcomes.propose(
                session,
                client.id,  # type: ignore[arg-type]
                vacancy.id,  # type: ignore[arg-type]
                actor.username,
                outcomes.Rol.CONSULENT,
                toelichting=toelichting,
                with_voorstel=lambda made: record_motivation(session, made.id, code, actor.username),  # type: ignore[arg-type]
            )  # one commit: the audit entry, the voorstel and its reason
        except BaseException:
            session.rollback()
            raise
        return view(session, voorstel, client, vacancy)


def accept(
    engine: Engine, actor: Actor, item_id: int, toelichting: str | None = None, reden: str | None = None
) -> dict[str, Any]:
    """Accept a push or zoekopdracht item: make the voorstel and mark the item handled.

    The item's change, its audit entry, the voorstel, the link ``voorstel_id`` and the
    :class:`VoorstelMotivatie` commit together.

    Returns:
        ``item`` (:func:`api.services.inbox.item_view`) and ``voorstel`` (:func:`view`).

    Raises:
        NotFoundError: No such item in the actor's inbox.
        ConflictError: Already handled.
        InvalidInputError: A reason that does not fit, not a suggestion, or the voorstel is refused
            (vacancy closed, open voorstel for the pair): then nothing changes and the item stays open.
    """
    code = voorstel_reden(reden, toelichting)
    note = outcomes.clean_toelichting(toelichting)
    with Session(engine, expire_on_commit=False) as session:
        try:
            item = inbox.claim(session, actor, item_id, SUGGESTIONS, Uitkomst.GEACCEPTEERD, note)
            klant, vacature = inbox.pair_numbers(session, item)
            record_audit(
                session, actor, "inbox_geaccepteerd", [klant, vacature], inboxItem=item_id, soort=item.soort, reden=code
            )

            def link(made: Voorstel) -> None:
                item.voorstel_id = made.id
                session.add(item)
                record_motivation(session, made.id, code, actor.username)  # type: ignore[arg-type]

            voorstel = outcomes.propose(
                session,
                item.client_id,
                item.vacancy_id,
                actor.username,
                outcomes.Rol.CONSULENT,
                model_version=item.model_version,
                rank=item.rank,
                toelichting=note,
                with_voorstel=link,
            )  # one commit: the item, its audit entry, the voorstel, the link and the reason
        except BaseException:
            session.rollback()
            raise
        client, vacancy = session.get(Client, voorstel.client_id), session.get(Vacancy, voorstel.vacancy_id)
        made = view(session, voorstel, client, vacancy)  # type: ignore[arg-type]
    return {"item": inbox.item_view(engine, item), "voorstel": made}


def read(engine: Engine, actor: Actor, voorstel_id: int) -> dict[str, Any]:
    """A voorstel of the actor's caseload (:func:`view`); audited as ``voorstel_gelezen``."""
    with Session(engine, expire_on_commit=False) as session:
        voorstel, client, vacancy = _own_voorstel(session, voorstel_id, actor)
        shown = view(session, voorstel, client, vacancy)
        record_audit(session, actor, "voorstel_gelezen", [client.client_nummer, vacancy.vacature_nummer])
        session.commit()
        return shown


def move(
    engine: Engine,
    actor: Actor,
    voorstel_id: int,
    naar: VoorstelStatus,
    reden: str | None = None,
    toelichting: str | None = None,
) -> dict[str, Any]:
    """Move a voorstel of the actor's caseload to its next state; ``geplaatst`` schedules the nazorg.

    Raises:
        NotFoundError: No such voorstel in the actor's caseload.
        InvalidInputError: An impossible step or a reason that does not fit; nothing is written.
    """
    with Session(engine, expire_on_commit=False) as session:
        voorstel, client, vacancy = _own_voorstel(session, voorstel_id, actor)
        now = utcnow()
        subjects = [client.client_nummer, vacancy.vacature_nummer]
        try:
            record_audit(session, actor, "voorstel_gewijzigd", subjects, voorstel=voorstel_id, naar=naar.value)
            # Only for an allowed step: "geplaatst" again (from geplaatst, duurzaam, uitgevallen) would
            # add a second set of nazorg items, whose unique key failed (500) before the step was refused.
            allowed = outcomes.TRANSITIONS[VoorstelStatus(voorstel.status)]
            if naar is VoorstelStatus.GEPLAATST and naar in allowed:
                inbox.schedule_nazorg(session, voorstel, client.consulent, now, actor.username)
            # transition commits what is pending: the audit entry, the nazorg items and the step, or nothing.
            voorstel = outcomes.transition(session, voorstel_id, naar, actor.username, reden, toelichting, at=now)
        except BaseException:
            session.rollback()
            raise
        return view(session, voorstel, client, vacancy)


def search(
    engine: Engine, actor: Actor, statuses: Sequence[VoorstelStatus] | None = None, page: int = 1, size: int = 20
) -> dict[str, Any]:
    """The voorstellen for clients of the actor's caseload, last changed first, optionally by status.

    Returns:
        ``voorstellen`` (short views), ``totaal``, ``pagina``, ``pagina_grootte``.
    """
    check_page(page, size)
    conditions: list[Any] = [Client.consulent == (actor.consulent or "")]
    if statuses:
        conditions.append(Voorstel.status.in_([status.value for status in statuses]))  # type: ignore[attr-defined]
    with Session(engine, expire_on_commit=False) as session:
        total = session.exec(
            select(func.count())
            .select_from(Voorstel)
            .join(Client, Client.id == Voorstel.client_id)  # type: ignore[arg-type]
            .where(*conditions)
        ).one()
        rows = session.exec(
            select(
                Voorstel, Client.client_nummer, Vacancy.vacature_nummer, Vacancy.titel, VoorstelMotivatie.reason_code
            )
            .join(Client, Client.id == Voorstel.client_id)  # type: ignore[arg-type]
            .join(Vacancy, Vacancy.id == Voorstel.vacancy_id)  # type: ignore[arg-type]
            .outerjoin(VoorstelMotivatie, VoorstelMotivatie.voorstel_id == Voorstel.id)  # type: ignore[arg-type]
            .where(*conditions)
            .order_by(Voorstel.updated_at.desc(), Voorstel.id.desc())  # type: ignore[attr-defined]
            .offset((page - 1) * size)
            .limit(size)
        ).all()
        found = [_short(*row) for row in rows]
        if found:
            record_audit(session, actor, "voorstellen_gezocht", sorted({v["klant_id"] for v in found}))
            session.commit()
    return {"voorstellen": found, "totaal": total, "pagina": page, "pagina_grootte": size}


def reject_candidate(
    engine: Engine, actor: Actor, vacature: str, klant: str, reden: str, toelichting: str | None = None
) -> dict[str, Any]:
    """Record that a werkconsulent rejects a client of their caseload for a vacancy; commits before returning.

    Args:
        engine: The database.
        actor: The werkconsulent; the client must be in ``actor.consulent``'s caseload.
        vacature: The vacaturenummer.
        klant: The klantnummer.
        reden: A code of :data:`matching.reasons.REDENEN`.
        toelichting: Required with ``anders``; at most 500 characters.

    Returns:
        ``id``, ``klant_id``, ``vacature_id``, ``reden``, ``toelichting``, ``leerlabel`` (whether it
        becomes a training label), ``rang`` (its place in the last list this user was shown for the
        vacancy, or None), ``door`` and ``op``.

    Raises:
        InvalidInputError: A reason that does not fit, or an open voorstel for the pair (reject that instead).
        NotFoundError: Unknown vacancy, or a client that is unknown or not in the caseload.
    """
    code, note = afwijs_reden(reden, toelichting)
    with Session(engine, expire_on_commit=False) as session:
        vacancy = find_vacancy(session, vacature)
        client = own_client(session, klant, actor.consulent)
        open_one = session.exec(
            select(Voorstel.id).where(
                Voorstel.client_id == client.id,
                Voorstel.vacancy_id == vacancy.id,
                Voorstel.status.in_([s.value for s in outcomes.OPEN_STATUSES]),  # type: ignore[attr-defined]
            )
        ).first()
        if open_one is not None:
            raise InvalidInputError(
                f"klant '{client.client_nummer}' heeft een open voorstel ({open_one}) voor vacature "
                f"'{vacancy.vacature_nummer}'; wijs dat voorstel af met POST /api/v1/voorstellen/{open_one}/overgangen"
            )
        row = KandidaatAfwijzing(
            client_id=client.id,  # type: ignore[arg-type]
            vacancy_id=vacancy.id,  # type: ignore[arg-type]
            consulent=actor.consulent or "",
            reason_code=code,
            toelichting=note,
            actor=actor.username,
            at=utcnow(),
        )
        try:
            subjects = [client.client_nummer, vacancy.vacature_nummer]
            record_audit(session, actor, "kandidaat_afgewezen", subjects, reden=code)
            session.add(row)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        shown = audit.latest_list(session, actor.username, vacancy.vacature_nummer, row.at)
        order = [str(pair[0]) for pair in shown.output] if shown is not None else []
        return {
            "id": row.id,
            "klant_id": client.client_nummer,
            "vacature_id": vacancy.vacature_nummer,
            "reden": code,
            "toelichting": note,
            "leerlabel": code not in reasons.SITUATIONAL,
            "rang": order.index(client.client_nummer) + 1 if client.client_nummer in order else None,
            "door": actor.username,
            "op": row.at,
        }


# ---------------------------------------------------------------------------------------- labels


def declined_labels(session: Session, since: datetime | None = None) -> list[RelevanceLabel]:
    """Declined pairs as training labels, ``RELEVANCE[afgewezen]`` (0), oldest first.

    Both kinds of decline: a suggestion declined in the inbox (:class:`api.services.inbox.InboxAfwijzing`)
    and a candidate rejected on a vacancy's list (:class:`KandidaatAfwijzing`), except for the
    :data:`matching.reasons.SITUATIONAL` reasons, which say nothing about the fit (both use one list). The sibling of
    :func:`matching.outcomes.relevance_labels`; one label per pair (the latest decline).
    """
    since = aware_utc(since, "since", example=UTC_EXAMPLE) if since is not None else None
    rows: list[tuple[datetime, int, int]] = []
    situational = [r.value for r in reasons.SITUATIONAL]
    for table in (InboxAfwijzing, KandidaatAfwijzing):
        statement = select(table.at, table.client_id, table.vacancy_id).where(table.reason_code.not_in(situational))  # type: ignore[attr-defined]
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


def train_ranker(
    settings: Settings,
    matcher: Matcher,
    since: datetime | None = None,
    seed: int = 0,
    say: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """``werkmatch train``: fit and register a challenger on :func:`training_labels` (:func:`training.train.train`)."""
    return train(settings, matcher, since, seed, labels=training_labels, say=say)
