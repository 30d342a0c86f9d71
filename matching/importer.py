"""Import of clients and vacancies from CSV and JSON: read, validate per record, upsert all-or-nothing.

An import never stops at the first bad row: every record is validated, valid records are stored
and each rejected record is reported with its line number and Dutch reasons. A file that cannot be
read at all (not UTF-8, broken JSON, a CSV row with the wrong number of columns) raises
:class:`~matching.errors.ImportFileError` and stores nothing. All valid records of one file are
written in one transaction: a process killed halfway leaves the database as it was.

The formats (JSON, JSON Lines, CSV with flattened nested fields) are described in
:mod:`matching.import_formats`, which reads them.

Personalia and protected attributes (clients only, CSV columns or top-level JSON keys)
    ``voornaam``, ``achternaam``, ``email``, ``telefoon`` go to
    :class:`~matching.domain.ClientPersonalia`; ``geslacht``, ``geboortejaar``,
    ``migratieachtergrond`` go to :class:`~matching.domain.AuditKenmerken`. They are taken out of the
    record *before* ``ClientIn`` is validated and never reach the ``Client`` row. Left out, an
    earlier stored value stays.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from matching import store
from matching.domain import BSN_LIKE, AuditKenmerken, ClientIn, ClientPersonalia, Schema, VacancyIn
from matching.errors import InvalidInputError, dutch_messages, printable
from matching.import_formats import AUDIT_FIELDS, OLD_COLUMNS, PERSONALIA_FIELDS, read_records

logger = logging.getLogger(__name__)

Kind = Literal["clients", "vacancies"]

ID_FIELDS: dict[str, tuple[str, str, str]] = {
    "clients": ("klantNummer", "client_nummer", "klantnummer"),
    "vacancies": ("vacatureNummer", "vacature_nummer", "vacaturenummer"),
}


class _PersonaliaIn(Schema):
    """Validated personalia columns of one import row (kept apart from the profile)."""

    voornaam: str | None = Field(None, max_length=100)
    achternaam: str | None = Field(None, max_length=100)
    email: str | None = Field(None, max_length=254)
    telefoon: str | None = Field(None, max_length=30)


class _AuditIn(Schema):
    """Validated protected attributes of one import row (fairness audits only)."""

    geslacht: str | None = Field(None, max_length=30)
    geboortejaar: int | None = Field(None, ge=1900)
    migratieachtergrond: str | None = Field(None, max_length=60)

    @field_validator("geboortejaar")
    @classmethod
    def _not_in_future(cls, value: int | None) -> int | None:
        if value is not None and value > date.today().year:
            raise ValueError(f"geboortejaar {value} ligt in de toekomst; vul een geboortejaar in als 1985")
        return value


@dataclass(frozen=True)
class RejectedRecord:
    """A record that was not imported, with its line and the Dutch reasons."""

    line: int
    external_id: str | None
    reasons: list[str]


@dataclass(frozen=True)
class ValidRecord:
    """A validated record, with the personalia and audit values taken out of it (clients only)."""

    line: int
    data: ClientIn | VacancyIn
    personalia: dict[str, Any] = field(default_factory=dict)
    audit: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_records` wrote: counts and the database ids of the rows touched."""

    created: int
    updated: int
    ids: list[int]


@dataclass(frozen=True)
class ImportReport:
    """The outcome of importing one file."""

    created: int
    updated: int
    rejected: list[RejectedRecord]
    ids: list[int]

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready camelCase data, e.g. for ``werkmatch import clients --json``."""
        return {
            "created": self.created,
            "updated": self.updated,
            "rejected": [
                {"line": item.line, "externalId": item.external_id, "reasons": list(item.reasons)}
                for item in self.rejected
            ],
            "ids": list(self.ids),
        }


# ------------------------------------------------------------------------------------------ validating


def _without_nulls(record: dict[str, Any], kind: Kind) -> dict[str, Any]:
    """JSON ``null`` means "not given", like an empty CSV cell: the schema default applies. An old column
    name (:data:`OLD_COLUMNS`) is read as its new one, unless the record gives the new one too."""
    old = OLD_COLUMNS[kind]
    cleaned = {
        key if old.get(key) is None or old[key] in record else old[key]: value
        for key, value in record.items()
        if value is not None
    }
    if isinstance(cleaned.get("wensen"), dict):
        cleaned["wensen"] = {key: value for key, value in cleaned["wensen"].items() if value is not None}
    return cleaned


def _external_id(record: dict[str, Any], kind: Kind) -> str | None:
    """The record's client or vacancy number as given, for reports; ``None`` when absent or BSN-like."""
    alias, name, _ = ID_FIELDS[kind]
    value = record.get(alias, record.get(name))
    if value is None or not str(value).strip():
        return None
    text = printable(str(value).strip())[:80]  # a report is shown and sent: nothing unprintable, nothing huge
    return None if BSN_LIKE.match(text) else text  # never echo what may be a real BSN


def _check_kind(kind: str) -> None:
    if kind not in ID_FIELDS:
        raise InvalidInputError(f"onbekende soort import '{kind}'; kies 'clients' of 'vacancies'")


def validate_records(
    kind: Kind, records: list[tuple[int, dict[str, Any]]]
) -> tuple[list[ValidRecord], list[RejectedRecord]]:
    """Validate records against ``ClientIn`` or ``VacancyIn``, collecting Dutch reasons per record.

    Personalia and audit fields are taken out of client records before ``ClientIn`` sees them. A
    second record with an external id already used earlier in the same file is rejected.

    Args:
        kind: ``"clients"`` or ``"vacancies"``.
        records: ``(line, record)`` pairs, e.g. from :func:`read_records`.

    Returns:
        The valid records and the rejected ones, each in file order.

    Raises:
        InvalidInputError: ``kind`` is neither ``"clients"`` nor ``"vacancies"``.
    """
    _check_kind(kind)
    model: type[ClientIn] | type[VacancyIn] = ClientIn if kind == "clients" else VacancyIn
    label = ID_FIELDS[kind][2]
    first_line: dict[str, int] = {}
    valid: list[ValidRecord] = []
    rejected: list[RejectedRecord] = []
    for line, raw in records:
        record = _without_nulls(raw, kind)
        private: dict[str, dict[str, Any]] = {"personalia": {}, "audit": {}}
        if kind == "clients":
            private["personalia"] = {key: record.pop(key) for key in PERSONALIA_FIELDS if key in record}
            private["audit"] = {key: record.pop(key) for key in AUDIT_FIELDS if key in record}
        external_id = _external_id(record, kind)
        reasons: list[str] = []
        if external_id is not None:
            if external_id in first_line:
                reasons.append(
                    f"{label} {external_id} staat al op regel {first_line[external_id]}; "
                    f"geef elk {label} maar één keer op in een bestand"
                )
            else:
                first_line[external_id] = line
        data: ClientIn | VacancyIn | None = None
        try:
            data = model.model_validate(record)
        except ValidationError as error:
            reasons.extend(dutch_messages(error))
        for name, schema in (("personalia", _PersonaliaIn), ("audit", _AuditIn)):
            if private[name]:
                try:
                    private[name] = schema.model_validate(private[name]).model_dump(exclude_unset=True)
                except ValidationError as error:
                    reasons.extend(dutch_messages(error))
        if reasons or data is None:
            rejected.append(RejectedRecord(line, external_id, reasons))
        else:
            valid.append(ValidRecord(line, data, private["personalia"], private["audit"]))
    return valid, rejected


# ------------------------------------------------------------------------------------------- importing


def _store_private(session: Session, table: type[SQLModel], client_id: int, values: dict[str, Any]) -> None:
    """Insert or update the personalia or audit row of one client; fields not given stay as they are."""
    if not values:
        return
    row = session.get(table, client_id)
    if row is None:
        row = table(client_id=client_id, **values)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    session.add(row)


def _flushed_id(row_id: int | None) -> int:
    """The upserts flush, so a row always has its id here; anything else is a bug in the store."""
    if row_id is None:
        raise RuntimeError("upsert returned a row without id; the store must flush before returning")
    return row_id


def import_records(session: Session, kind: Kind, valid: list[ValidRecord]) -> ImportResult:
    """Upsert validated records by external id in the caller's session; commits nothing.

    Run it inside :func:`matching.store.session_scope` so that all records commit together or
    not at all.

    Args:
        session: An open session; the caller commits or rolls back.
        kind: ``"clients"`` or ``"vacancies"``.
        valid: Records from :func:`validate_records`.

    Returns:
        How many rows were created and updated, and their database ids in file order.

    Raises:
        InvalidInputError: ``kind`` is unknown, or a record does not belong to ``kind``.
    """
    _check_kind(kind)
    created = updated = 0
    ids: list[int] = []
    for record in valid:
        if kind == "clients" and isinstance(record.data, ClientIn):
            client, is_new = store.upsert_client(session, record.data)
            row_id = _flushed_id(client.id)
            _store_private(session, ClientPersonalia, row_id, record.personalia)
            _store_private(session, AuditKenmerken, row_id, record.audit)
        elif kind == "vacancies" and isinstance(record.data, VacancyIn):
            vacancy, is_new = store.upsert_vacancy(session, record.data)
            row_id = _flushed_id(vacancy.id)
        else:
            raise InvalidInputError(
                f"record op regel {record.line} is geen {'klant' if kind == 'clients' else 'vacature'}; "
                "importeer klanten en vacatures apart"
            )
        if is_new:
            created += 1
        else:
            updated += 1
        ids.append(row_id)
    session.flush()
    return ImportResult(created=created, updated=updated, ids=ids)


def import_file(engine: Engine, kind: Kind, path: Path) -> ImportReport:
    """Read, validate and import one file; all valid records commit in one transaction.

    Args:
        engine: The database engine.
        kind: ``"clients"`` or ``"vacancies"``.
        path: A CSV or JSON file (formats: :mod:`matching.import_formats`).

    Returns:
        Counts of created and updated rows, their ids, and the rejected records with Dutch reasons.

    Raises:
        ImportFileError: The file cannot be read as CSV or JSON records; nothing is stored.
        InvalidInputError: ``kind`` is unknown.
    """
    _check_kind(kind)
    records = read_records(path)
    valid, rejected = validate_records(kind, records)
    with store.session_scope(engine) as session:
        result = import_records(session, kind, valid)
    logger.info(
        "import %s from %s: %d created, %d updated, %d rejected",
        kind,
        path,
        result.created,
        result.updated,
        len(rejected),
    )
    return ImportReport(created=result.created, updated=result.updated, rejected=rejected, ids=result.ids)
