"""Four eyes on caseload access: a beheerder asks, a *second* beheerder approves.

A caseload (the clients with one consulentcode) holds health data (beperkingen). Before issue 15 a
single beheerder could create a werkconsulent with an existing consulentcode and read that
caseload at once. Now:

* Creating a werkconsulent, or changing an account so that it gains a consulentcode (a new code,
  or the role werkconsulent), stores a **pending grant** (:class:`CaseloadToekenning`, status
  ``open``) instead of the code. Until it is approved the account has no caseload
  (``User.consulent`` stays empty, or keeps the code it already had), so it sees no client.
* Another beheerder approves (:func:`approve`): not the one who asked, and not the account itself.
  Only then ``User.consulent`` (and the role werkconsulent) is set. Any beheerder may refuse
  (:func:`reject`), the asker too (withdrawing). A newer request for the same account, or a change
  of its role or code, voids an open one (``vervallen``).
* The consulenten who hold that code are **told** (:class:`CaseloadMelding`, addressed to the code as
  inbox items are, so a colleague who takes the caseload over sees it too): when access is asked
  and when it is granted. They read it with ``GET /api/v1/meldingen``.
* Every step is audited (``caseload_aangevraagd``, ``caseload_goedgekeurd``, ``caseload_afgewezen``).

The demo accounts of :func:`api.services.users.create_demo_users` are made at install, outside this flow.
Two new tables, so an existing database keeps working.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, String, update
from sqlalchemy.engine import Engine
from sqlmodel import Field as SQLField
from sqlmodel import Session, SQLModel, col, select

from api.services import audit
from api.services.users import Rol, User, get_user
from matching.domain import utcnow
from matching.errors import ConflictError, NotFoundError

PURPOSE = "accountbeheer"
TEXT_MAX = 500


class Status(StrEnum):
    OPEN = "open"
    GOEDGEKEURD = "goedgekeurd"
    AFGEWEZEN = "afgewezen"
    VERVALLEN = "vervallen"


class CaseloadToekenning(SQLModel, table=True):
    """A request to give ``username`` the caseload ``consulent``; applied only once a second beheerder approves."""

    __tablename__ = "caseload_toekenning"

    id: int | None = SQLField(default=None, primary_key=True)
    username: str = SQLField(index=True, max_length=64)
    consulent: str = SQLField(sa_column=Column(String(80), index=True, nullable=False))
    status: str = SQLField(default=Status.OPEN.value, index=True, max_length=20)
    aangevraagd_door: str = SQLField(max_length=64)
    aangevraagd_op: datetime = SQLField(default_factory=utcnow)
    beoordeeld_door: str | None = SQLField(default=None, max_length=64)
    beoordeeld_op: datetime | None = None


class CaseloadMelding(SQLModel, table=True):
    """A notice for the consulenten of caseload ``consulent`` about access to it."""

    __tablename__ = "caseload_melding"

    id: int | None = SQLField(default=None, primary_key=True)
    consulent: str = SQLField(sa_column=Column(String(80), index=True, nullable=False))
    toekenning_id: int = SQLField(foreign_key="caseload_toekenning.id", index=True)
    tekst: str = SQLField(max_length=TEXT_MAX)
    created_at: datetime = SQLField(default_factory=utcnow)


class GrantRefused(Exception):
    """The actor may not do this to this grant (e.g. approve their own request): HTTP 403."""


def _audit(session: Session, actor: User, action: str, grant: CaseloadToekenning, request_id: str | None) -> None:
    audit.record(
        session,
        actor=actor.username,
        rol=Rol(actor.rol).value,
        action=action,
        purpose=PURPOSE,
        subjects=[grant.username],
        details={"consulent": grant.consulent, "toekenning": grant.id, "aangevraagdDoor": grant.aangevraagd_door},
        request_id=request_id,
    )


def _notify(session: Session, grant: CaseloadToekenning, text: str) -> None:
    session.add(CaseloadMelding(consulent=grant.consulent, toekenning_id=grant.id, tekst=text[:TEXT_MAX]))  # type: ignore[arg-type]


def pending(session: Session, usernames: list[str] | None = None) -> dict[str, str]:
    """The code each account waits for (open grants), by username; all accounts when ``usernames`` is None."""
    statement = select(CaseloadToekenning).where(CaseloadToekenning.status == Status.OPEN.value)
    if usernames is not None:
        statement = statement.where(col(CaseloadToekenning.username).in_(usernames))
    return {grant.username: grant.consulent for grant in session.exec(statement)}


def void_open(session: Session, username: str, actor: str) -> int:
    """Mark the open grants of ``username`` ``vervallen`` (its role or code changed otherwise); the caller commits."""
    result = session.execute(
        update(CaseloadToekenning)
        .where(col(CaseloadToekenning.username) == username, col(CaseloadToekenning.status) == Status.OPEN.value)
        .values(status=Status.VERVALLEN.value, beoordeeld_door=actor, beoordeeld_op=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def request_grant(
    session: Session, actor: User, username: str, consulent: str, request_id: str | None = None
) -> CaseloadToekenning:
    """Ask for caseload ``consulent`` for account ``username``; the caller commits (with its own change).

    An identical open request is returned as it is; another open one for the account is voided.

    Returns:
        The open grant.
    """
    existing = session.exec(
        select(CaseloadToekenning).where(
            CaseloadToekenning.username == username, CaseloadToekenning.status == Status.OPEN.value
        )
    ).all()
    for grant in existing:
        if grant.consulent == consulent:
            return grant
    void_open(session, username, actor.username)
    grant = CaseloadToekenning(username=username, consulent=consulent, aangevraagd_door=actor.username)
    session.add(grant)
    session.flush()
    _audit(session, actor, "caseload_aangevraagd", grant, request_id)
    _notify(
        session,
        grant,
        f"Beheerder {actor.username} heeft gevraagd account '{username}' toegang te geven tot caseload "
        f"{consulent}. Een tweede beheerder moet dit goedkeuren; tot dan ziet '{username}' geen klanten van "
        "deze caseload. Klopt dit niet? Neem contact op met een beheerder.",
    )
    return grant


def _open_grant(session: Session, grant_id: int, actor: User) -> tuple[CaseloadToekenning, User | None]:
    """An open grant ``actor`` may decide, with its account (None when that no longer exists).

    A gemeente's beheerder decides only the grants of the own gemeente's accounts.
    """
    grant = session.get(CaseloadToekenning, grant_id)
    account = get_user(session, grant.username) if grant is not None else None
    # a regional beheerder (no gemeente) decides every grant
    foreign = actor.gemeente is not None and (account is None or account.gemeente != actor.gemeente)
    if grant is None or foreign:  # another gemeente's grant answers as an unknown one
        raise NotFoundError(f"toekenning {grant_id} bestaat niet; zie GET /api/v1/caseloadtoekenningen")
    if grant.status != Status.OPEN.value:
        raise ConflictError(
            f"toekenning {grant_id} is al {grant.status}; alleen een open toekenning kan worden beoordeeld"
        )
    return grant, account


def _decide(session: Session, grant: CaseloadToekenning, actor: User, status: Status) -> None:
    """Compare-and-set on ``status = 'open'``: of two beheerders deciding at once, one wins."""
    result = session.execute(
        update(CaseloadToekenning)
        .where(col(CaseloadToekenning.id) == grant.id, col(CaseloadToekenning.status) == Status.OPEN.value)
        .values(status=status.value, beoordeeld_door=actor.username, beoordeeld_op=utcnow())
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise ConflictError(f"toekenning {grant.id} is intussen door iemand anders beoordeeld")
    session.refresh(grant)


def approve(engine: Engine, actor: User, grant_id: int, request_id: str | None = None) -> CaseloadToekenning:
    """A second beheerder approves: the account gets the role werkconsulent and the code; commits.

    Raises:
        NotFoundError: No such grant, or its account no longer exists.
        ConflictError: The grant is not open (any more).
        GrantRefused: ``actor`` asked for it, or it is ``actor``'s own account.
    """
    with Session(engine, expire_on_commit=False) as session:
        grant, account = _open_grant(session, grant_id, actor)
        if actor.username == grant.aangevraagd_door:
            raise GrantRefused(
                f"u heeft toekenning {grant_id} zelf aangevraagd; een tweede beheerder moet haar goedkeuren (vier ogen)"
            )
        if actor.username == grant.username:
            raise GrantRefused(
                f"toekenning {grant_id} geldt uw eigen account; een andere beheerder moet haar goedkeuren"
            )
        if account is None:
            raise NotFoundError(f"gebruiker '{grant.username}' van toekenning {grant_id} bestaat niet meer")
        _decide(session, grant, actor, Status.GOEDGEKEURD)
        account.rol = Rol.WERKCONSULENT
        account.consulent = grant.consulent
        session.add(account)
        _audit(session, actor, "caseload_goedgekeurd", grant, request_id)
        _notify(
            session,
            grant,
            f"Account '{grant.username}' heeft nu toegang tot caseload {grant.consulent}: aangevraagd door "
            f"{grant.aangevraagd_door}, goedgekeurd door {actor.username}.",
        )
        session.commit()
        return grant


def reject(engine: Engine, actor: User, grant_id: int, request_id: str | None = None) -> CaseloadToekenning:
    """Any beheerder refuses (or the asker withdraws) an open grant; nothing else changes; commits."""
    with Session(engine, expire_on_commit=False) as session:
        grant, _ = _open_grant(session, grant_id, actor)
        _decide(session, grant, actor, Status.AFGEWEZEN)
        _audit(session, actor, "caseload_afgewezen", grant, request_id)
        session.commit()
        return grant


def grants(engine: Engine, by: User, status: Status | None = None, limit: int = 500) -> list[CaseloadToekenning]:
    """Grants ``by`` may see, newest first, optionally of one status: a gemeente's beheerder the own gemeente's."""
    with Session(engine, expire_on_commit=False) as session:
        statement = select(CaseloadToekenning).order_by(col(CaseloadToekenning.id).desc()).limit(limit)
        if status is not None:
            statement = statement.where(CaseloadToekenning.status == status.value)
        if by.gemeente is not None:
            statement = statement.join(User, col(User.username) == col(CaseloadToekenning.username)).where(
                User.gemeente == by.gemeente
            )
        return list(session.exec(statement).all())


def notices(engine: Engine, consulent: str | None, limit: int = 100) -> list[dict[str, Any]]:
    """The notices for caseload ``consulent``, newest first; none without a code."""
    if not consulent:
        return []
    with Session(engine) as session:
        rows = session.exec(
            select(CaseloadMelding)
            .where(CaseloadMelding.consulent == consulent)
            .order_by(col(CaseloadMelding.id).desc())
            .limit(limit)
        ).all()
        return [
            {"id": row.id, "toekenning": row.toekenning_id, "tekst": row.tekst, "op": row.created_at} for row in rows
        ]
