"""Erasure of one client (AVG art. 17): every row, vector and log mention, in one function.

:func:`erase_client` is what ``DELETE /api/v1/klanten/{klantnummer}`` and ``werkmatch klant
verwijderen`` both call. In **one transaction** it:

* deletes the client from every table that holds them (:data:`CLIENT_TABLES`: profile, personalia,
  kenmerken, exposure ledger, voorstellen with their history and motivation, inbox items and
  declined suggestions, rejections from candidate lists, saved searches, synthetic latent factors,
  last night's lists);
* deletes the cached vectors of the pieces of text that no other client or vacancy uses (a shared
  competence sentence stays: another record's vector is built from it);
* **redacts the logs**: every audit row and inference row that names the klantnummer gets it
  replaced by the client's tombstone pseudonym (:func:`tombstone_pseudonym`), and a
  ``klant_verwijderd`` audit entry (the tombstone: pseudonym, who, when, why) commits to which
  audit rows were redacted.

Why redact rather than re-hash: the audit chain hashes each row over the klantnummers it names, and
rows before this change were written that way. Re-hashing them would break every later link, and a
second, pseudonymous copy of the hash input would itself need erasing. A redacted row keeps its
``seq``, ``prev_hash`` and ``hash``, so :func:`api.services.audit.verify_chain` still checks every link; it
checks the row's content through the tombstone instead (count and digest of the redacted ``seq``\\s),
so a redaction cannot be added or removed afterwards without breaking the check. The database
triggers allow exactly that change and nothing else (:mod:`api.services.audit`).

After the commit: the vector leaves the saved FAISS index, but only here when this process is (or can
become) the writer of the index files (:mod:`matching.index_lock`; a running matcher in this process
first drops it from memory, then :func:`matching.index.remove_saved`). Otherwise another process
writes them (the service next to the CLI, or another worker of a multi-worker service): editing its
files here would make a second writer, and the writer could save its in-memory index with the
vector back. The writer drops it within ``SAVE_EVERY_S`` (:meth:`matching.index_sync.IndexSync.
catch_up_deletions`) and the result says so: ``indexVerwijderd`` is :data:`BY_WRITER` instead of a
count. An SQLite database is then checkpointed
with ``wal_checkpoint(TRUNCATE)`` so the write-ahead log holds no old page with the client. With
``secure_delete`` (:func:`matching.store.make_engine`) the freed bytes are zeros. PostgreSQL keeps the
old rows in dead tuples and its write-ahead log until the owner runs ``werkmatch db schoonmaken``
(:mod:`api.services.scrub`), nightly. Should the process
die between commit and index removal, the next start drops the vector: the matcher removes ids that
are no longer in the database (:meth:`matching.matcher.Matcher.sync`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from sqlalchemy import String, cast, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, delete, select

from api.services import audit, tokens
from api.services.audit import AuditEntry, AuditRedaction, InferenceEntry, InferenceRedaction
from api.services.inbox import InboxAfwijzing, InboxItem
from api.services.voorstellen import KandidaatAfwijzing, VoorstelMotivatie
from api.services.zoekopdrachten import Zoekopdracht
from matching import index, index_lock, notes_readiness
from matching.batch_lists import LIST_TABLES
from matching.domain import AuditKenmerken, Client, ClientPersonalia, Vacancy
from matching.embedding import forget_cached
from matching.errors import InvalidInputError, NotFoundError
from matching.lookup import in_chunks
from matching.notes_readiness import fragments
from matching.outcomes import Voorstel, VoorstelEvent
from matching.oversight_state import ExposureEntry
from matching.taxonomy import Taxonomy, load_taxonomy
from matching.text import client_fields, content_hash, render_client, vacancy_fields
from training.latent import SyntheticLatent

if TYPE_CHECKING:
    from matching.matcher import Matcher
    from matching.settings import Settings


class Reden(StrEnum):
    """Why a client is erased: a code, not free text, so the tombstone cannot carry personal data."""

    VERZOEK_KLANT = "verzoek_klant"  # the client asked (AVG art. 17)
    BEWAARTERMIJN_VERSTREKEN = "bewaartermijn_verstreken"  # the file's retention period has passed
    ONTERECHT_VASTGELEGD = "onterecht_vastgelegd"  # recorded by mistake (wrong person, test record)


# Tables with a client_id: deleted child-first. tests/api/test_erasure.py checks that every table with a
# foreign key to client.id is here, so a new table cannot be forgotten.
CLIENT_TABLES: tuple[type[SQLModel], ...] = (
    InboxAfwijzing,
    InboxItem,
    KandidaatAfwijzing,
    Zoekopdracht,
    ExposureEntry,
    ClientPersonalia,
    AuditKenmerken,
    *LIST_TABLES,  # both slots' nightly lists
)
PURPOSE = "verwijdering (AVG art. 17)"
BY_WRITER = "schrijver"  # indexVerwijderd when another process writes the index files and drops the vector


def tombstone_pseudonym(settings: Settings, klantnummer: str) -> str:
    """The erased client's number in the logs: keyed, so it cannot be reversed without the pseudonym key."""
    return tokens.pseudonym(settings, "verwijderd", klantnummer)


def erased_meanwhile(session: Session, settings: Settings, numbers: Iterable[str]) -> dict[str, str]:
    """Of klantnummers a search just read, those erased since: klantnummer → their tombstone pseudonym.

    Call it holding the audit write lock (:func:`api.services.audit.lock_head`), as an erasure does, so that
    no erasure commits between this check and the log write that follows: a search that raced an
    erasure then logs the pseudonym, never the erased number.
    """
    wanted = sorted(set(numbers))
    present: set[str] = set()
    for chunk in in_chunks(wanted):
        present.update(session.exec(select(Client.client_nummer).where(Client.client_nummer.in_(chunk))))  # type: ignore[attr-defined]
    return {number: tombstone_pseudonym(settings, number) for number in wanted if number not in present}


def reason(value: str) -> Reden:
    """The reason code, or a Dutch error naming the allowed ones."""
    try:
        return Reden(value.strip())
    except ValueError:
        allowed = ", ".join(item.value for item in Reden)
        raise InvalidInputError(f"reden '{value}' bestaat niet; kies uit: {allowed}") from None


def erase_client(
    settings: Settings,
    engine: Engine,
    klantnummer: str,
    *,
    actor: str,
    rol: str,
    reden: str,
    caseload: str | None = None,
    request_id: str | None = None,
    matcher: Matcher | None = None,
    origin: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Erase one client everywhere werkmatch keeps them (see the module docstring).

    Args:
        settings: For the pseudonym key and the index directory.
        engine: The database.
        klantnummer: The exact klantnummer.
        actor: Who erases (user name), recorded in the tombstone.
        rol: Their role.
        reden: A :class:`Reden` code.
        caseload: A werkconsulent's consulent code: a client outside it is answered as unknown.
        request_id: The request's correlation id, if any.
        matcher: The running matcher of this process, which then drops the vector from memory at once.
        origin: Where the request came from, into the tombstone, e.g. ``{"via": "cli", "osGebruiker": "jan"}``.

    Returns:
        ``pseudoniem``, ``auditVolgnummer`` (the tombstone), ``verwijderd`` (rows per table),
        ``auditGeredigeerd``, ``inferentieGeredigeerd``, ``embeddingsVerwijderd``,
        ``indexVerwijderd`` (vectors taken off the saved index here, or :data:`BY_WRITER` when another
        process writes the index files and drops it) and ``logLeeggemaakt`` (False when readers kept the
        write-ahead log busy, and always on PostgreSQL: only its owner can rewrite its files, with
        ``werkmatch db schoonmaken``, :mod:`api.services.scrub`).

    Raises:
        NotFoundError: No such client (or not in ``caseload``).
        InvalidInputError: An unknown reason code.
    """
    code = reason(reden)
    pseudonym = tombstone_pseudonym(settings, klantnummer)
    with Session(engine) as session:
        audit.lock_head(session)  # first: no audit row naming the client can be appended meanwhile
        client = session.exec(select(Client).where(Client.client_nummer == klantnummer)).first()
        if client is None or (caseload is not None and client.consulent != caseload):
            raise NotFoundError(f"klant '{klantnummer}' bestaat niet; controleer het klantnummer")
        client_id = int(client.id)  # type: ignore[arg-type]
        orphans = _orphan_pieces(session, client, load_taxonomy())
        audit_seqs, inference_ids = (
            _mentions(session, _AUDIT_LOG, klantnummer),
            _mentions(session, _INFERENCE_LOG, klantnummer),
        )
        deleted, cache_removed = _delete_rows(session, client_id), forget_cached(session, orphans)
        tombstone = audit.record(
            session,
            actor=actor,
            rol=rol,
            action=audit.TOMBSTONE_ACTION,
            purpose=PURPOSE,
            subjects=[pseudonym],
            details={**_tombstone_details(code, audit_seqs, len(inference_ids), deleted), **(origin or {})},
            request_id=request_id,
        )
        tombstone_seq = int(tombstone.seq)
        for log, keys in ((_AUDIT_LOG, audit_seqs), (_INFERENCE_LOG, inference_ids)):
            _redact(session, log, keys, tombstone_seq, _pattern(klantnummer), pseudonym)
        session.commit()
    if matcher is not None:
        matcher.refresh("clients")  # notices the missing row and drops its vector from memory
    return {
        "pseudoniem": pseudonym,
        "auditVolgnummer": tombstone_seq,
        "reden": code.value,
        "verwijderd": deleted,
        "auditGeredigeerd": len(audit_seqs),
        "inferentieGeredigeerd": len(inference_ids),
        "embeddingsVerwijderd": cache_removed,
        "indexVerwijderd": _remove_from_saved_index(settings, client_id),
        "logLeeggemaakt": checkpoint(engine),
    }


def _remove_from_saved_index(settings: Settings, client_id: int) -> int | str:
    """Take the vector and the client's saved notes values off the saved index as its writer (a lease shared with
    this process's matcher); :data:`BY_WRITER` when another process writes the files (it drops both itself: its
    next save of the values writes the bestand's clients only)."""
    if not index_lock.acquire(settings.data_dir):
        return BY_WRITER
    try:
        notes_readiness.remove_saved_values(settings.index_dir, np.array([client_id], np.int64))
        return index.remove_saved(settings.index_dir, "clients", np.array([client_id], np.int64))
    finally:
        index_lock.release(settings.data_dir)


def checkpoint(engine: Engine) -> bool:
    """Move the write-ahead log into the database file and empty it (SQLite); True when it completed.

    False on PostgreSQL: the service's role cannot rewrite the server's files (:mod:`api.services.scrub`)."""
    if engine.dialect.name != "sqlite":
        return False
    with engine.connect() as connection:
        busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    return int(busy) == 0


# ---------------------------------------------------------------------------------------- helpers


def _tombstone_details(
    code: Reden, audit_seqs: list[int], inference_count: int, deleted: dict[str, int]
) -> dict[str, Any]:
    """What the ``klant_verwijderd`` entry commits to: the reason, the redacted audit rows (count and
    digest), how many inference rows were redacted and the rows deleted per table."""
    return {
        "reden": code.value,
        audit.REDACTED_COUNT: len(audit_seqs),
        audit.REDACTED_DIGEST: audit.redacted_digest(audit_seqs),
        "inferentieGeredigeerd": inference_count,
        "verwijderd": deleted,
    }


def _delete_rows(session: Session, client_id: int) -> dict[str, int]:
    """Delete the client's rows child-first; rows per table (only tables that had some)."""
    counts: dict[str, int] = {}

    def gone(table: type[SQLModel], statement: Any) -> None:
        result = session.exec(statement)  # type: ignore[call-overload]
        if result.rowcount:
            counts[table.__tablename__] = counts.get(table.__tablename__, 0) + int(result.rowcount)  # type: ignore[attr-defined]

    voorstellen = list(session.exec(select(Voorstel.id).where(Voorstel.client_id == client_id)))
    gone(InboxAfwijzing, delete(InboxAfwijzing).where(InboxAfwijzing.client_id == client_id))
    gone(InboxItem, delete(InboxItem).where(InboxItem.voorstel_id.in_(voorstellen)))  # type: ignore[union-attr]
    gone(VoorstelMotivatie, delete(VoorstelMotivatie).where(VoorstelMotivatie.voorstel_id.in_(voorstellen)))  # type: ignore[attr-defined]
    gone(VoorstelEvent, delete(VoorstelEvent).where(VoorstelEvent.voorstel_id.in_(voorstellen)))  # type: ignore[attr-defined]
    gone(InboxItem, delete(InboxItem).where(InboxItem.client_id == client_id))
    gone(Voorstel, delete(Voorstel).where(Voorstel.client_id == client_id))
    for table in CLIENT_TABLES:
        gone(table, delete(table).where(table.client_id == client_id))  # type: ignore[attr-defined]
    gone(
        SyntheticLatent,
        delete(SyntheticLatent).where(SyntheticLatent.kind == "client", SyntheticLatent.entity_id == client_id),
    )
    gone(Client, delete(Client).where(Client.id == client_id))
    return counts


def _pieces(client_or_vacancy: Any, taxonomy: Taxonomy) -> set[str]:
    """Content hashes of every text the embedder may have cached for a record: fields, whole-text mode, and for a
    client the fragments of own words and notes that a ranker's notes column embeds (:func:`fragments`)."""
    notes: list[str] = []
    if isinstance(client_or_vacancy, Client):
        fields, whole = client_fields(client_or_vacancy, taxonomy), render_client(client_or_vacancy, taxonomy)
        notes = fragments(client_or_vacancy.zelfbeschrijving) + fragments(client_or_vacancy.notities)
    else:
        fields, whole = vacancy_fields(client_or_vacancy, taxonomy), ""
    hashes = {content_hash(piece) for pieces in [*fields.values(), notes] for piece in pieces}
    if whole:
        hashes.add(content_hash(whole))
    return hashes


def _orphan_pieces(session: Session, client: Client, taxonomy: Taxonomy) -> set[str]:
    """The client's cached pieces that no other client or vacancy uses (one pass over the bestand)."""
    own = _pieces(client, taxonomy)
    for table in (Client, Vacancy):
        for row in session.exec(select(table)):  # type: ignore[call-overload]
            if own and not (table is Client and row.id == client.id):
                own -= _pieces(row, taxonomy)
    return own


def _mentions(session: Session, log: _Log, klantnummer: str) -> list[int]:
    """Keys of the log's rows whose client-naming columns name ``klantnummer`` (a LIKE pre-filter, then exact)."""
    columns = [getattr(log.model, name) for name in log.columns]
    pattern = "%" + re.sub(r"([\\%_])", r"\\\1", klantnummer) + "%"
    statement = select(log.model).where(or_(*(cast(column, String).like(pattern, escape="\\") for column in columns)))
    found = _pattern(klantnummer)
    keys = []
    for row in session.exec(statement):
        if any(_names(getattr(row, name), found) for name in log.columns):
            keys.append(int(getattr(row, log.key_column)))
    return sorted(keys)


def _names(value: Any, found: re.Pattern[str]) -> bool:
    if isinstance(value, str):
        return bool(found.search(value))
    if isinstance(value, dict):
        return any(_names(key, found) or _names(item, found) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_names(item, found) for item in value)
    return False


def _replaced(value: Any, found: re.Pattern[str], pseudonym: str) -> Any:
    if isinstance(value, str):
        return found.sub(pseudonym, value)
    if isinstance(value, dict):
        return {found.sub(pseudonym, key): _replaced(item, found, pseudonym) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_replaced(item, found, pseudonym) for item in value]
    return value


def _pattern(klantnummer: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9_.-]){re.escape(klantnummer)}(?![A-Za-z0-9_.-])")


class _Log(NamedTuple):
    """A log that erasure redacts: its table, key column, the marker table that registers a redaction under
    its tombstone (the triggers allow a rewrite only of a registered row), and the columns that may name a client."""

    model: Any
    key_column: str
    marker: Any
    columns: tuple[str, ...]


_AUDIT_LOG = _Log(AuditEntry, "seq", AuditRedaction, ("subjects", "details"))
_INFERENCE_LOG = _Log(InferenceEntry, "id", InferenceRedaction, ("query_ref", "inputs", "output"))


def _redact(
    session: Session, log: _Log, keys: list[int], tombstone: int, found: re.Pattern[str], pseudonym: str
) -> None:
    """Register each row under the tombstone, then rewrite its client-naming columns with the pseudonym."""
    model, key_column, marker, columns = log
    table = model.__table__
    for key in keys:
        session.add(marker(**{key_column: key}, tombstone_seq=tombstone))
        session.flush()  # the marker first: the log's trigger refuses a rewrite of an unregistered row
        row = session.get(model, key)
        assert row is not None
        session.execute(
            update(table)
            .where(table.c[key_column] == key)
            .values({column: _replaced(getattr(row, column), found, pseudonym) for column in columns})
        )
        session.expire(row)


__all__ = ["BY_WRITER", "CLIENT_TABLES", "Reden", "checkpoint", "erase_client", "reason", "tombstone_pseudonym"]
