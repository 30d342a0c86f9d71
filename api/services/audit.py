"""The access audit log and the inference log: append-only, the audit log hash-chained.

**Audit log** (``audit_log``, :class:`AuditEntry`): who read or changed what about which clients, when,
in which role and for which purpose (doelbinding; BIO 12.4 via Algoritmekader owk-04 "log ook het
uitlezen", AI Act Art. 12). One row per access, written by :func:`record` inside the caller's
transaction: the caller commits, so the read (or change) and its audit row are one unit, and the
service acknowledges nothing before the commit is durable (the engine runs SQLite with WAL and
``synchronous=FULL``). Rows hold pseudonymous numbers only (klantnummers such as ``K0000042``,
vacaturenummers): never names, BSN or beperkingen. :func:`record` refuses a 9-digit number anywhere
in ``subjects`` or ``details``.

**The chain.** Every row stores ``prev_hash`` (the previous row's ``hash``; the first row's is 64 zeros,
:data:`GENESIS_HASH`) and its own ``hash``: the lowercase hex SHA-256 of the UTF-8 bytes of this JSON
text (:func:`canonical_json`)::

    {"action":…,"actor":…,"at":"2025-03-01T09:00:00.123456Z","details":{…},"prev_hash":"…",
     "purpose":…,"request_id":… or null,"rol":…,"seq":1,"subjects":["K0000042",…]}

- exactly these ten keys (eleven when the entry names a gemeente: ``"gemeente"``, the acting user's
  gemeente, added in schema 0002; entries without one keep their ten keys and their hashes), sorted
  by code point, no whitespace (separators ``,`` and ``:``);
- ``at`` in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always six fraction digits, suffix ``Z``);
- ``seq`` an integer; ``subjects`` a list of strings in stored order; ``details`` an object (``{}``
  when none was given) whose values are strings, integers, booleans, null, lists or objects, with
  object keys sorted at every level; ``request_id`` a string or null;
- strings as JSON strings with non-ASCII characters written as themselves (UTF-8), and only ``"``,
  ``\\``, and control characters below U+0020 escaped (``\\b \\f \\n \\r \\t``, the others as
  ``\\u00xx`` with lowercase hex).

That is Python's ``json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
and, because floats are refused in ``details``, equal to the RFC 8785 (JCS) form for these values,
so an auditor can recompute every hash with any JSON library. :func:`verify_chain` does so and
reports the first ``seq`` where the chain breaks: an edited row (its hash no longer matches), a
deleted row (a gap in ``seq``, or a tail shorter than the head says), a re-hashed edit (the next
row's ``prev_hash`` no longer matches).

**Writers never fork the chain.** ``audit_head`` is a single row (id 1) holding the last ``seq`` and
``hash``. :func:`record` first *updates* that row (``SET seq = seq``), which takes the database write
lock before anything of the chain is read: on SQLite the ``UPDATE`` opens the write transaction
(the same effect as ``BEGIN IMMEDIATE``, waiting up to the engine's 30 s busy timeout for another
writer), on PostgreSQL it locks the row until commit (in READ COMMITTED, the default; the next
statement then sees the other writer's committed head). Only then is the head read, the row
inserted with ``seq = head.seq + 1`` and ``prev_hash = head.hash``, and the head moved on. A
transaction that rolls back leaves neither the row nor the head change. A transaction that starts
with ``record`` cannot fail on a stale SQLite snapshot; reads the caller made before run outside an
SQLite transaction (pysqlite opens one at the first write), so they do not pin one either.

**Database-level protection** (:mod:`api.services.audit_guard`, run at every start by
:func:`api.services.schema.create_all`): triggers keep both logs append-only and the head moving
forward only; retention and erasure are the only changes they let through.

**Subject filter.** ``subjects`` is a JSON array; :func:`query` matches an element exactly with
``json_each`` on SQLite and ``@>`` on PostgreSQL (``jsonb``). It scans the rows the other filters
leave (``actor``, ``action`` and ``at`` are indexed): fine for a beheerder's look-up at municipal
scale; a side table (seq, subject) with an index is the next step if it ever is not.

**Inference log** (``inference_log``, :class:`InferenceEntry`, :func:`log_inference`): one row per match
request (AI Act Art. 12, 19, 26(5)-(6)): who asked, which kind, for which vacaturenummer or
klantnummer, with which ranker (name, version) and index (embedding model, record counts), the
pseudonymised request parameters and the ranked ``[id, score]`` list returned. Append-only by the
same triggers; not hash-chained (it holds float scores, and the access itself is in the audit log).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Integer, func, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, Session, SQLModel, select

from api.services import log_values
from matching.columns import UTCDateTime
from matching.domain import utcnow
from matching.errors import InvalidInputError
from matching.lookup import in_chunks
from matching.timeutil import aware_utc

GENESIS_HASH = "0" * 64
ACTOR_MAX = 80
ROL_MAX = 40
ACTION_MAX = 64
PURPOSE_MAX = 200
REQUEST_ID_MAX = 64
GEMEENTE_MAX = 60
SUBJECT_MAX = 64
SUBJECTS_MAX = 1000  # a candidate list of top 500 plus its vacancy fits easily
DETAILS_MAX_BYTES = 4096
QUERY_LIMIT_MAX = 1000
KINDS = ("kandidaten", "vacatures")

_ACTION = re.compile(r"^[a-z][a-z0-9_]*$")
_JSON = JSON().with_variant(JSONB(), "postgresql")
_VERIFY_BATCH = 1000


class AuditHead(SQLModel, table=True):
    """The chain's head: one row (id 1) with the last ``seq`` and ``hash``; its update is the writers' lock."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False))
    hash: str = Field(default=GENESIS_HASH, max_length=64)


class AuditEntry(SQLModel, table=True):
    """One access or change: who, in which role, why, about whom. Append-only and hash-chained."""

    __tablename__ = "audit_log"

    seq: int = Field(
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False)
    )
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    actor: str = Field(max_length=ACTOR_MAX, index=True)
    rol: str = Field(max_length=ROL_MAX)
    action: str = Field(max_length=ACTION_MAX, index=True)
    purpose: str = Field(max_length=PURPOSE_MAX)
    request_id: str | None = Field(default=None, max_length=REQUEST_ID_MAX)
    gemeente: str | None = Field(default=None, max_length=GEMEENTE_MAX, index=True)  # the actor's; None: regional
    subjects: list[str] = Field(sa_column=Column(_JSON, nullable=False))
    details: dict[str, Any] = Field(sa_column=Column(_JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class InferenceEntry(SQLModel, table=True):
    """One match request: query, ranker and index versions, pseudonymised inputs, ranked output. Append-only."""

    __tablename__ = "inference_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True))
    request_id: str | None = Field(default=None, max_length=REQUEST_ID_MAX, index=True)
    actor: str = Field(max_length=ACTOR_MAX)
    kind: str = Field(max_length=16)
    query_ref: str = Field(max_length=SUBJECT_MAX, index=True)
    model: dict[str, Any] = Field(sa_column=Column(_JSON, nullable=False))
    index: dict[str, Any] = Field(sa_column=Column("index", _JSON, nullable=False))
    inputs: dict[str, Any] = Field(sa_column=Column(_JSON, nullable=False))
    output: list[list[Any]] = Field(sa_column=Column(_JSON, nullable=False))


class AuditAnchor(SQLModel, table=True):
    """Where the chain starts after retention deleted its oldest rows: the last deleted ``seq`` and its ``hash``.

    One row (id 1); (0, :data:`GENESIS_HASH`) until ``werkmatch retentie`` first deletes. A trigger lets it
    move only forward, onto a row that exists at that moment (so its hash is the true one) and never onto
    the head; ``audit_log`` rows may be deleted only up to it. :func:`verify_chain` starts after it.
    """

    __tablename__ = "audit_anchor"

    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False))
    hash: str = Field(default=GENESIS_HASH, max_length=64)


class AuditRedaction(SQLModel, table=True):
    """An audit row whose ``subjects``/``details`` had an erased client's klantnummer replaced (AVG art. 17).

    The row keeps its ``seq``, ``prev_hash`` and ``hash``, so the chain stays linked; its content can no
    longer be checked against its hash. ``tombstone_seq`` is the ``klant_verwijderd`` entry that did it,
    which commits to the set of redacted rows (:data:`REDACTED_COUNT`, :data:`REDACTED_DIGEST` in its
    details): adding or removing a redaction afterwards breaks the chain check at that tombstone.
    Append-only; holds numbers only.
    """

    __tablename__ = "audit_redaction"

    seq: int = Field(
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False)
    )
    tombstone_seq: int = Field(sa_column=Column(BigInteger(), nullable=False, index=True))


class InferenceFloor(SQLModel, table=True):
    """Retention of the inference log: rows with ``id <= upto`` may be deleted. One row (id 1), only forward."""

    __tablename__ = "inference_floor"

    id: int = Field(default=1, primary_key=True)
    upto: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False))


class InferenceRedaction(SQLModel, table=True):
    """An inference row whose klantnummer of an erased client was replaced; ``tombstone_seq`` as above."""

    __tablename__ = "inference_redaction"

    id: int = Field(
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False)
    )
    tombstone_seq: int = Field(sa_column=Column(BigInteger(), nullable=False, index=True))


TOMBSTONE_ACTION = "klant_verwijderd"
REDACTED_COUNT = "geredigeerdeRegels"  # details key of a tombstone: how many audit rows it redacted
REDACTED_DIGEST = "geredigeerdDigest"  # details key: redacted_digest() of those rows' seqs


def redacted_digest(seqs: Sequence[int]) -> str:
    """SHA-256 (hex) of the sorted seqs joined by commas: what a tombstone commits to."""
    return hashlib.sha256(",".join(str(seq) for seq in sorted(seqs)).encode()).hexdigest()


# ---------------------------------------------------------------------------------------- public API


def record(
    session: Session,
    *,
    actor: str,
    rol: str,
    action: str,
    purpose: str,
    subjects: Sequence[str],
    details: Mapping[str, Any] | None = None,
    request_id: str | None = None,
    gemeente: str | None = None,
) -> AuditEntry:
    """Append one entry to the audit chain inside the caller's transaction; the caller commits.

    Takes the database write lock first (see the module docstring), so concurrent writers get
    consecutive ``seq`` values and one unbroken chain. Rolling the session back removes the entry.

    Args:
        session: An open session; the entry is flushed, not committed.
        actor: The user name, at most 80 characters.
        rol: The role the user acted in (``consulent``, ``accountmanager``, ``beheerder``, …).
        action: What happened, lower snake case, e.g. ``klantprofiel_gelezen``,
            ``kandidatenlijst_opgevraagd``, ``vacatures_voor_klant``, ``voorstel_gewijzigd``.
        purpose: Doelbinding: why the data was needed (a code or free text); required.
        subjects: Klantnummers and vacaturenummers concerned (pseudonymous; never a BSN or a name).
        details: A small JSON object (at most 4 KiB): strings, integers, booleans, null, lists and
            objects; no floats (they have no single canonical JSON form), no names or health data.
        request_id: The request's correlation id, if any.
        gemeente: The gemeente the actor works for; None for a regional actor or the system.

    Returns:
        The new entry, with ``seq``, ``at``, ``prev_hash`` and ``hash`` set.

    Raises:
        InvalidInputError: A field is empty, too long, BSN-like, or ``details`` is not canonical JSON.
        RuntimeError: :func:`api.services.schema.create_all` has not run on this database.
    """
    fields = {
        "actor": log_values.text(actor, "gebruiker", ACTOR_MAX),
        "rol": log_values.text(rol, "rol", ROL_MAX),
        "action": _action(action),
        "purpose": log_values.text(purpose, "doel (doelbinding)", PURPOSE_MAX),
        "request_id": log_values.optional_text(request_id, "request-id", REQUEST_ID_MAX),
        "gemeente": log_values.optional_text(gemeente, "gemeente", GEMEENTE_MAX),
        "subjects": _subjects(subjects),
        "details": _details(details),
    }
    head_seq, head_hash = lock_head(session)
    entry = AuditEntry(seq=head_seq + 1, at=utcnow(), prev_hash=head_hash, hash="", **fields)
    entry.hash = entry_hash(entry)
    session.add(entry)
    session.flush()
    session.execute(
        update(AuditHead.__table__).where(AuditHead.id == 1).values(seq=entry.seq, hash=entry.hash)  # type: ignore[attr-defined,arg-type]
    )
    return entry


def lock_head(session: Session) -> tuple[int, str]:
    """Take the database write lock through the head row (see the module docstring); the head's ``seq``, ``hash``.

    Raises:
        RuntimeError: :func:`api.services.schema.create_all` has not run on this database.
    """
    locked = session.execute(update(AuditHead.__table__).where(AuditHead.id == 1).values(seq=AuditHead.seq))  # type: ignore[attr-defined,arg-type]
    if locked.rowcount != 1:  # type: ignore[attr-defined]
        raise RuntimeError("audit_head ontbreekt: roep schema.create_all(engine) aan bij de start")
    head_seq, head_hash = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one()
    return int(head_seq), str(head_hash)


def record_all(session: Session, *, subjects: Sequence[str], **fields: Any) -> list[AuditEntry]:
    """:func:`record` (same keyword ``fields``) for any number of subjects: one entry per :data:`SUBJECTS_MAX`."""
    chunks = list(in_chunks(list(subjects), SUBJECTS_MAX)) or [[]]
    return [record(session, subjects=chunk, **fields) for chunk in chunks]


def canonical_json(entry: AuditEntry) -> bytes:
    """The UTF-8 bytes the entry's hash is taken over (documented field by field in the module docstring)."""
    fields = {
        "seq": entry.seq,
        "at": _timestamp(entry.at),
        "actor": entry.actor,
        "rol": entry.rol,
        "action": entry.action,
        "purpose": entry.purpose,
        "request_id": entry.request_id,
        "subjects": list(entry.subjects),
        "details": entry.details,
        "prev_hash": entry.prev_hash,
    }
    if entry.gemeente is not None:
        fields["gemeente"] = entry.gemeente
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def entry_hash(entry: AuditEntry) -> str:
    """The lowercase hex SHA-256 of :func:`canonical_json`: what ``entry.hash`` must be."""
    return hashlib.sha256(canonical_json(entry)).hexdigest()


def verify_chain(session: Session) -> dict[str, Any]:
    """Recompute the chain up to the head as it stands when called, in ``seq`` order, 1,000 rows a batch.

    Returns:
        ``{"ok": bool, "entries": n, "firstBroken": seq | None}``: ``entries`` counts the rows checked;
        ``firstBroken`` is the first ``seq`` that is missing (a deleted row, also at the tail as the
        head records it), whose hash does not match its content (an edited row), or whose
        ``prev_hash`` does not match the row before it (an edited row whose hash was recomputed).
    """
    # The head first: rows a concurrent writer appends while we read lie beyond it and are left out,
    # so a running service never makes the check fail.
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    upto = head[0] if head is not None else None
    # Retention deleted the rows up to the anchor: the chain starts after it, from its hash.
    anchor = session.execute(select(AuditAnchor.seq, AuditAnchor.hash).where(AuditAnchor.id == 1)).first()
    anchor_seq, anchor_hash = anchor if anchor is not None else (0, GENESIS_HASH)
    redacted: dict[int, int] = {
        int(seq): int(tombstone)
        for seq, tombstone in session.execute(select(AuditRedaction.seq, AuditRedaction.tombstone_seq)).all()
    }
    tombstones: dict[int, dict[str, Any]] = {}
    entries = 0
    broken: int | None = None
    expected_seq, prev_hash = anchor_seq + 1, anchor_hash
    last_seq = anchor_seq
    while True:
        statement = select(AuditEntry).where(AuditEntry.seq > last_seq)  # type: ignore[arg-type]
        if upto is not None:
            statement = statement.where(AuditEntry.seq <= upto)  # type: ignore[arg-type]
        batch = session.exec(
            statement.order_by(AuditEntry.seq)  # type: ignore[arg-type]
            .limit(_VERIFY_BATCH)
            .execution_options(populate_existing=True)  # rows as stored now, not as this session saw them
        ).all()
        for entry in batch:
            entries += 1
            if broken is None:
                # A redacted row (an erased client's number replaced) is checked by its links only; its
                # tombstone's commitment to the set of redacted rows is checked below.
                content_ok = entry.seq in redacted or entry.hash == entry_hash(entry)
                if entry.seq != expected_seq:
                    broken = expected_seq
                elif entry.prev_hash != prev_hash or not content_ok:
                    broken = entry.seq
            if entry.action == TOMBSTONE_ACTION and entry.seq not in redacted:
                tombstones[entry.seq] = dict(entry.details)
            expected_seq, prev_hash, last_seq = entry.seq + 1, entry.hash, entry.seq
        if len(batch) < _VERIFY_BATCH:
            break
    by_tombstone: dict[int, list[int]] = {}
    for seq, tombstone in redacted.items():
        by_tombstone.setdefault(tombstone, []).append(seq)
    for tombstone in sorted(set(by_tombstone) | set(tombstones)):
        if tombstone <= anchor_seq or (upto is not None and tombstone > upto):
            continue  # deleted by retention, or written after this check began
        seqs, details = by_tombstone.get(tombstone, []), tombstones.get(tombstone)
        committed = details is not None and details.get(REDACTED_COUNT, 0) == len(seqs)
        if not committed or (seqs and details.get(REDACTED_DIGEST) != redacted_digest(seqs)):  # type: ignore[union-attr]
            broken = tombstone if broken is None else min(broken, tombstone)
            break
    if broken is None and head is not None:
        head_seq, head_hash = head
        if head_seq > last_seq:  # rows deleted at the tail
            broken = last_seq + 1
        elif head_hash != prev_hash:  # the last row edited and re-hashed
            broken = max(last_seq, 1)
    return {"ok": broken is None, "entries": entries, "firstBroken": broken}


def query(
    session: Session,
    *,
    actor: str | None = None,
    subject: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Audit entries for the beheerder, newest first; every filter given must hold.

    Args:
        session: An open session.
        actor: Only this user's entries.
        subject: Only entries whose ``subjects`` list contains exactly this number.
        action: Only this action.
        since: From this moment on (inclusive), aware.
        until: Before this moment (exclusive), aware.
        limit: At most this many entries, 1 to 1,000.
        offset: Skip this many (for paging).

    Returns:
        One dict per entry with camelCase keys: ``seq``, ``at`` (ISO 8601 UTC), ``actor``, ``rol``,
        ``action``, ``purpose``, ``requestId``, ``gemeente``, ``subjects``, ``details``, ``prevHash``, ``hash``.

    Raises:
        InvalidInputError: A time without a time zone, ``since`` after ``until``, or a bad limit or offset.
    """
    if not 1 <= limit <= QUERY_LIMIT_MAX:
        raise InvalidInputError(f"aantal moet tussen 1 en {QUERY_LIMIT_MAX} liggen, niet {limit}")
    if offset < 0:
        raise InvalidInputError(f"overslaan mag niet negatief zijn, niet {offset}")
    statement = _search(session, select(AuditEntry), actor, subject, action, since, until)
    rows = session.exec(statement.order_by(AuditEntry.seq.desc()).offset(offset).limit(limit))  # type: ignore[union-attr]
    return [_public(entry) for entry in rows]


def count(session: Session, **filters: Any) -> int:
    """How many entries :func:`query` finds with its ``filters`` (not limit, offset) on all pages ("1–50 van 280")."""
    return int(session.exec(_search(session, select(func.count()).select_from(AuditEntry), **filters)).one())


def _search(
    session: Session,
    statement: Any,
    actor: str | None = None,
    subject: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Any:
    """``statement`` with the filters of :func:`query`."""
    if actor is not None:
        statement = statement.where(AuditEntry.actor == actor)
    if action is not None:
        statement = statement.where(AuditEntry.action == action)
    if since is not None:
        statement = statement.where(AuditEntry.at >= aware_utc(since, "vanaf"))
    if until is not None:
        statement = statement.where(AuditEntry.at < aware_utc(until, "tot"))
    if since is not None and until is not None and since > until:
        raise InvalidInputError("'vanaf' ligt na 'tot'; draai de twee tijden om")
    if subject is not None:
        statement = statement.where(_contains_subject(session, subject))
    return statement


def log_inference(
    session: Session,
    *,
    request_id: str | None,
    actor: str,
    kind: str,
    query_ref: str,
    model: Mapping[str, Any],
    index: Mapping[str, Any],
    inputs: Mapping[str, Any],
    output: Sequence[Sequence[Any]],
) -> InferenceEntry:
    """Append one match request to the inference log inside the caller's transaction; the caller commits.

    Args:
        session: An open session; the entry is flushed, not committed.
        request_id: The request's correlation id (the same as in its audit entry).
        actor: The user name.
        kind: ``kandidaten`` (clients for a vacancy) or ``vacatures`` (vacancies for a client).
        query_ref: The vacaturenummer or the pseudonymous klantnummer searched for.
        model: The ranker that ordered the list, e.g. the response's ``rankedBy`` (name, version).
        index: The index it searched, e.g. ``{"modelId": …, "clients": 9000, "vacancies": 3000}``.
        inputs: The request parameters, pseudonymised (numbers, never names or a BSN).
        output: The ranked list as ``[id, score]`` pairs, best first.

    Returns:
        The new entry.

    Raises:
        InvalidInputError: An unknown kind, an empty or BSN-like reference, a non-JSON value or a
            malformed output pair.
    """
    if kind not in KINDS:
        raise InvalidInputError(f"soort '{kind}' bestaat niet; kies uit: {', '.join(KINDS)}")
    pairs: list[list[Any]] = []
    for rank, pair in enumerate(output, start=1):
        if isinstance(pair, str | bytes) or len(pair) != 2:
            raise InvalidInputError(f"resultaat {rank} is geen paar [id, score]")
        ref, score = pair
        if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
            raise InvalidInputError(f"resultaat {rank} heeft geen eindige score: {score!r}")
        pairs.append([_reference(ref, f"id van resultaat {rank}"), float(score)])
    entry = InferenceEntry(
        at=utcnow(),
        request_id=log_values.optional_text(request_id, "request-id", REQUEST_ID_MAX),
        actor=log_values.text(actor, "gebruiker", ACTOR_MAX),
        kind=kind,
        query_ref=_reference(query_ref, "zoekvraag"),
        model=log_values.json_object(model, "model", allow_floats=True),
        index=log_values.json_object(index, "index", allow_floats=True),
        inputs=log_values.json_object(inputs, "invoer", allow_floats=True),
        output=pairs,
    )
    session.add(entry)
    session.flush()
    return entry


def latest_list(session: Session, actor: str, vacature: str, at: datetime) -> InferenceEntry | None:
    """The last candidate list ``actor`` was shown for ``vacature`` at or before ``at``, from the inference log."""
    return session.exec(
        select(InferenceEntry)
        .where(
            InferenceEntry.kind == "kandidaten",
            InferenceEntry.actor == actor,
            InferenceEntry.query_ref == vacature,
            InferenceEntry.at <= at,  # type: ignore[operator]
        )
        .order_by(InferenceEntry.at.desc(), InferenceEntry.id.desc())  # type: ignore[attr-defined,union-attr]
    ).first()


# ---------------------------------------------------------------------------------------- helpers


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _public(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": _timestamp(entry.at),
        "actor": entry.actor,
        "rol": entry.rol,
        "action": entry.action,
        "purpose": entry.purpose,
        "requestId": entry.request_id,
        "gemeente": entry.gemeente,
        "subjects": list(entry.subjects),
        "details": entry.details,
        "prevHash": entry.prev_hash,
        "hash": entry.hash,
    }


def _contains_subject(session: Session, subject: str) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return text("audit_log.subjects @> jsonb_build_array(CAST(:subject AS text))").bindparams(subject=subject)
    return text("EXISTS (SELECT 1 FROM json_each(audit_log.subjects) AS s WHERE s.value = :subject)").bindparams(
        subject=subject
    )


def _action(action: str) -> str:
    cleaned = log_values.text(action, "actie", ACTION_MAX)
    if not _ACTION.match(cleaned):
        raise InvalidInputError(
            f"actie '{cleaned}' is ongeldig; gebruik kleine letters, cijfers en '_', bijv. 'klantprofiel_gelezen'"
        )
    return cleaned


def _reference(value: Any, name: str) -> str:
    return log_values.reference(value, name, SUBJECT_MAX)


def _subjects(subjects: Sequence[str]) -> list[str]:
    if isinstance(subjects, str):
        raise InvalidInputError("subjects moet een lijst van nummers zijn, niet één tekst")
    cleaned = [_reference(subject, "nummer in subjects") for subject in subjects]
    if len(cleaned) > SUBJECTS_MAX:
        raise InvalidInputError(f"hoogstens {SUBJECTS_MAX} nummers per auditregel, niet {len(cleaned)}")
    return cleaned


def _details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    value = log_values.json_object(details or {}, "details", allow_floats=False)
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    if size > DETAILS_MAX_BYTES:
        raise InvalidInputError(f"details zijn {size} bytes; hoogstens {DETAILS_MAX_BYTES}, houd ze klein")
    return value
