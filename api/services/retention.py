"""Retention of the logs in the database: ``werkmatch retentie`` deletes what is past its term.

Terms are :class:`matching.settings.RetentieSettings` (``WERKMATCH_RETENTIE__AUDIT_DAGEN``,
``WERKMATCH_RETENTIE__INFERENTIE_DAGEN``). The **access log** is written to stderr only
(:mod:`api.ops`), never to the database or a file of werkmatch: its retention is whatever the
operator's log shipper keeps.

**The audit chain stays verifiable.** Before deleting, the anchor (:class:`api.services.audit.AuditAnchor`)
moves to the last row to delete and takes that row's ``hash``; then the rows up to it are deleted.
:func:`api.services.audit.verify_chain` starts after the anchor, with its hash as the first ``prev_hash``, so
every remaining row is still checked, and the first remaining row still proves it followed exactly
the anchored one. The head row is never deleted (the next entry extends it). The database triggers
allow deleting only up to the anchor, and the anchor only moves forward onto a row that exists, so
retention cannot be used to cut rows out of the middle. Publishing the anchor with the head (see
:mod:`api.services.audit`) lets an outsider check that nothing was cut beyond it.

**The inference log** has no chain: its floor (:class:`api.services.audit.InferenceFloor`) moves to the
newest id past the term, and rows up to it are deleted.

Rows are selected by time (``at`` before now minus the term) and deleted by position (``seq``/``id``
up to the newest such row), because positions are what the triggers guard; rows are written in time
order under the chain's lock, so the two agree.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, update
from sqlmodel import Session, delete, select

from api.services import audit
from api.services.audit import AuditAnchor, AuditEntry, InferenceEntry, InferenceFloor
from api.services.erasure import checkpoint
from matching.domain import utcnow

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from matching.settings import Settings

ACCESS_LOG = "stderr (logger werkmatch.access): bewaartermijn is die van de logverzamelaar"


def apply_retention(settings: Settings, engine: Engine, now: datetime | None = None) -> dict[str, Any]:
    """Delete the audit and inference rows older than their terms, in one transaction.

    Args:
        settings: ``retentie`` holds the terms in days.
        engine: The database (with :func:`api.services.schema.create_all` run).
        now: The moment to count back from (default: now, UTC).

    Returns:
        ``audit`` (``bewaardagen``, ``verwijderd``, ``anker``: the seq the chain now starts after),
        ``inferentie`` (``bewaardagen``, ``verwijderd``, ``tot``: the highest id deleted so far),
        ``toegangslog`` (where the access log goes) and ``logLeeggemaakt`` (as the erasure's answer).
    """
    moment = now or utcnow()
    terms = settings.retentie
    with Session(engine) as session:
        head_seq, _ = audit.lock_head(session)  # no entry is appended while the anchor moves
        audit_before = moment - timedelta(days=terms.audit_dagen)
        last = session.exec(
            select(func.max(AuditEntry.seq)).where(AuditEntry.at < audit_before, AuditEntry.seq < head_seq)  # type: ignore[arg-type]
        ).one()
        anchor_seq = int(session.exec(select(AuditAnchor.seq).where(AuditAnchor.id == 1)).one())
        audit_deleted = 0
        if last is not None and int(last) > anchor_seq:
            anchor_hash = session.exec(select(AuditEntry.hash).where(AuditEntry.seq == last)).one()
            session.execute(
                update(AuditAnchor.__table__)  # type: ignore[attr-defined]
                .where(AuditAnchor.__table__.c.id == 1)  # type: ignore[attr-defined]
                .values(seq=int(last), hash=anchor_hash)
            )
            audit_deleted = int(session.exec(delete(AuditEntry).where(AuditEntry.seq <= last)).rowcount or 0)  # type: ignore[call-overload,arg-type]
            anchor_seq = int(last)
        inference_before = moment - timedelta(days=terms.inferentie_dagen)
        newest = session.exec(select(func.max(InferenceEntry.id)).where(InferenceEntry.at < inference_before)).one()  # type: ignore[arg-type]
        floor = int(session.exec(select(InferenceFloor.upto).where(InferenceFloor.id == 1)).one())
        inference_deleted = 0
        if newest is not None and int(newest) > floor:
            session.execute(
                update(InferenceFloor.__table__)  # type: ignore[attr-defined]
                .where(InferenceFloor.__table__.c.id == 1)  # type: ignore[attr-defined]
                .values(upto=int(newest))
            )
            result = session.exec(delete(InferenceEntry).where(InferenceEntry.id <= newest))  # type: ignore[call-overload,operator]
            inference_deleted = int(result.rowcount or 0)
            floor = int(newest)
        session.commit()
    return {
        "audit": {"bewaardagen": terms.audit_dagen, "verwijderd": audit_deleted, "anker": anchor_seq},
        "inferentie": {"bewaardagen": terms.inferentie_dagen, "verwijderd": inference_deleted, "tot": floor},
        "toegangslog": ACCESS_LOG,
        "logLeeggemaakt": checkpoint(engine),
    }


__all__ = ["ACCESS_LOG", "apply_retention"]
