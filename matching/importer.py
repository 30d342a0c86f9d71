"""Import of clients and vacancies from CSV and JSON: read, validate per record, upsert all-or-nothing.

An import never stops at the first bad row: every record is validated, valid records are stored
and each rejected record is reported with its line number and Dutch reasons. A file that cannot be
read at all (not UTF-8, broken JSON, a CSV row with the wrong number of columns) raises
:class:`~matching.errors.ImportFileError` and stores nothing. All valid records of one file are
written in one transaction: a process killed halfway leaves the database as it was.

JSON (``.json``)
    A list of objects in the nested camelCase structure of :class:`~matching.domain.ClientIn` or
    :class:`~matching.domain.VacancyIn`. Line numbers are the lines where each object starts.
    ``.jsonl`` / ``.ndjson`` hold one object per line. ``null`` means "not given", like an empty cell.

CSV (``.csv``, UTF-8, with or without BOM)
    The first row holds the column names: the camelCase field names of ``ClientIn`` / ``VacancyIn``
    (matched case-insensitively). The separator is ``,`` or ``;`` (Dutch Excel), read from the
    header. The line number of a row is its physical line in the file (header = line 1). An empty
    cell means "not given", so the schema default applies: an incomplete profile is not invalid.
    Nested fields are flattened:

    ==================================================  ==========================================
    column                                              cell
    ==================================================  ==========================================
    ``certificaten``, ``rijbewijs``, ``vervoermiddel``,  codes separated by ``;``: ``fiets;ov``
    ``werktijden``
    ``competenties``, ``competentiesVereist``,          ``code:niveau;code:niveau``; niveau (1–3)
    ``competentiesGewenst``                             is optional, default 2:
                                                        ``orderpicken:3;samenwerken``
    ``werkervaring``                                    ``beroepCode:jaren;…``: ``orderpicker:2.5``
    ``beperkingen``                                     ``aspect:ernst;…``: ``tillen:3;prikkels:2``
    ``belasting``                                       ``aspect:niveau;…``: ``tillen:2;staan:3``
    ``wensBeroepen``, ``wensSectoren``,                 ``;``-lists, stored in ``wensen``
    ``wensWerktijdenUitgesloten``,
    ``wensPlaatsingsvormen``
    ``wensMaxReisafstandKm``, ``wensMaxReistijdMin``    numbers, stored in ``wensen``
    ``jobcoach``, ``jobcarving``                        ``ja``/``nee``/``true``/``false``/``1``/``0``
    ``beschikbaarPer``, ``sluitingsdatum``              ``2025-03-01`` or ``01-03-2025``
    ==================================================  ==========================================

    Decimal numbers (``jaren``, ``wensMaxReisafstandKm``) may use a decimal comma: ``2,5``.

Personalia and protected attributes (clients only, CSV columns or top-level JSON keys)
    ``voornaam``, ``achternaam``, ``email``, ``telefoon`` go to
    :class:`~matching.domain.ClientPersonalia`; ``geslacht``, ``geboortejaar``,
    ``migratieachtergrond`` go to :class:`~matching.domain.AuditKenmerken`. They are taken out of the
    record *before* ``ClientIn`` is validated and never reach the ``Client`` row. Left out, an
    earlier stored value stays.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from matching import store
from matching.domain import BSN_LIKE, AuditKenmerken, ClientIn, ClientPersonalia, Schema, VacancyIn
from matching.errors import ImportFileError, InvalidInputError, dutch_messages, printable

logger = logging.getLogger(__name__)

Kind = Literal["clients", "vacancies"]

PERSONALIA_FIELDS = ("voornaam", "achternaam", "email", "telefoon")
AUDIT_FIELDS = ("geslacht", "geboortejaar", "migratieachtergrond")

CODE_LIST_COLUMNS = ("certificaten", "rijbewijs", "vervoermiddel", "werktijden")
COMPETENCE_COLUMNS = ("competenties", "competentiesVereist", "competentiesGewenst")
# column -> (key of the code, key of the number) in each ``code:number`` item
PAIR_COLUMNS = {
    "competenties": ("code", "niveau"),
    "competentiesVereist": ("code", "niveau"),
    "competentiesGewenst": ("code", "niveau"),
    "werkervaring": ("beroepCode", "jaren"),
    "beperkingen": ("aspect", "ernst"),
    "belasting": ("aspect", "niveau"),
}
# CSV column -> (key in ``wensen``, is a ``;``-list)
WENS_COLUMNS = {
    "wensBeroepen": ("beroepen", True),
    "wensSectoren": ("sectoren", True),
    "wensMaxReisafstandKm": ("maxReisafstandKm", False),
    "wensMaxReistijdMin": ("maxReistijdMin", False),
    "wensWerktijdenUitgesloten": ("werktijdenUitgesloten", True),
    "wensPlaatsingsvormen": ("plaatsingsvormen", True),
}
BOOL_COLUMNS = ("jobcoach", "jobcarving")
DATE_COLUMNS = ("beschikbaarPer", "sluitingsdatum")
BOOLEANS = {"ja": True, "true": True, "1": True, "nee": False, "false": False, "0": False}

DUTCH_DATE = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")
DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")
ID_FIELDS: dict[str, tuple[str, str, str]] = {
    "clients": ("clientNummer", "client_nummer", "klantnummer"),
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


# --------------------------------------------------------------------------------------------- reading


def _known_columns() -> dict[str, str]:
    """Lower-cased column name -> canonical camelCase name, for every column a CSV may have."""
    names = {
        (info.alias or name)
        for model in (ClientIn, VacancyIn)
        for name, info in model.model_fields.items()
        if name != "wensen"
    }
    names |= set(WENS_COLUMNS) | set(PERSONALIA_FIELDS) | set(AUDIT_FIELDS)
    return {name.lower(): name for name in names}


def _decode(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ImportFileError(f"bestand '{path}' bestaat niet; controleer het pad") from None
    except IsADirectoryError:
        raise ImportFileError(f"'{path}' is een map, geen bestand; geef het pad van een CSV- of JSON-bestand") from None
    except PermissionError:
        raise ImportFileError(f"bestand '{path}' mag niet worden gelezen; controleer de rechten") from None
    except OSError:
        raise ImportFileError(f"bestand '{path}' kan niet worden gelezen; controleer het pad en de schijf") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"bestand '{path}' is geen UTF-8-tekst (ongeldige byte op positie {error.start}); "
            "sla het op als UTF-8 (in Excel: 'CSV UTF-8')"
        ) from None
    if not text.strip():
        raise ImportFileError(f"bestand '{path}' is leeg; vul het met een kopregel en records")
    return text


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def _decimal(value: str) -> str:
    """``"2,5"`` → ``"2.5"``: Dutch Excel writes a decimal comma."""
    return value.replace(",", ".") if DECIMAL_COMMA.match(value) else value


def _pairs(cell: str, code_key: str, number_key: str) -> list[dict[str, str]]:
    items = []
    for part in _split(cell):
        code, _, number = part.partition(":")
        item = {code_key: code.strip()}
        if number.strip():
            item[number_key] = _decimal(number.strip())
        items.append(item)
    return items


def _unflatten(flat: dict[str, str]) -> dict[str, Any]:
    """One CSV row (non-empty cells only) → the nested camelCase structure of ClientIn / VacancyIn."""
    record: dict[str, Any] = {}
    wensen: dict[str, Any] = {}
    for column, cell in flat.items():
        if column in WENS_COLUMNS:
            key, is_list = WENS_COLUMNS[column]
            wensen[key] = _split(cell) if is_list else _decimal(cell)
        elif column in PAIR_COLUMNS:
            record[column] = _pairs(cell, *PAIR_COLUMNS[column])
        elif column in CODE_LIST_COLUMNS:
            record[column] = _split(cell)
        elif column in BOOL_COLUMNS:
            record[column] = BOOLEANS.get(cell.lower(), cell)
        elif column in DATE_COLUMNS and (match := DUTCH_DATE.match(cell)):
            day, month, year = match.groups()
            record[column] = f"{year}-{int(month):02d}-{int(day):02d}"
        else:
            record[column] = cell
    if wensen:
        record["wensen"] = wensen
    return record


def _sniff_delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", ";", "\t")}
    return max(counts, key=lambda delimiter: counts[delimiter])


def _read_csv(path: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    delimiter = _sniff_delimiter(text.splitlines()[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    known = _known_columns()
    records: list[tuple[int, dict[str, Any]]] = []
    try:
        header = [known.get(name.strip().lower(), name.strip()) for name in next(reader)]
        if not any(name in known.values() for name in header):
            example = ",".join(["clientNummer", "consulent", "trede", "route", "postcode"])
            raise ImportFileError(
                f"bestand '{path}' heeft geen kopregel: geen enkele kolomnaam in regel 1 is bekend; "
                f"zet de kolomnamen op de eerste regel, bijv. {example}"
            )
        doubles = sorted({name for name in header if name and header.count(name) > 1})
        if doubles:
            raise ImportFileError(
                f"bestand '{path}': kolom {', '.join(doubles)} staat meer dan eens in de kopregel; "
                "laat elke kolom één keer voorkomen"
            )
        previous_end = reader.line_num
        for row in reader:
            line, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue  # blank lines and Excel's ';;;;' rows
            if len(row) != len(header):
                raise ImportFileError(
                    f"bestand '{path}' regel {line}: {len(row)} kolommen, maar de kopregel heeft er "
                    f"{len(header)}; controleer scheidingstekens ('{delimiter}') en aanhalingstekens"
                )
            flat: dict[str, str] = {}
            for name, cell in zip(header, row, strict=True):
                if not cell.strip():
                    continue
                if not name:
                    raise ImportFileError(
                        f"bestand '{path}' regel {line}: waarde '{cell.strip()[:40]}' staat in een kolom "
                        "zonder naam; geef de kolom een naam in de kopregel of maak de cel leeg"
                    )
                flat[name] = cell.strip()
            records.append((line, _unflatten(flat)))
    except csv.Error:
        raise ImportFileError(
            f"bestand '{path}' regel {reader.line_num}: ongeldige CSV; controleer de aanhalingstekens "
            "(een cel met een scheidingsteken of regelovergang staat tussen dubbele aanhalingstekens)"
        ) from None
    return records


def _skip_whitespace(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\n\r":
        position += 1
    return position


def _element_lines(text: str) -> list[int]:
    """The line where each element of a (valid) top-level JSON list starts."""
    decoder = json.JSONDecoder()
    lines: list[int] = []
    line, counted = 1, 0
    position = _skip_whitespace(text, 0) + 1  # just after '['
    while True:
        position = _skip_whitespace(text, position)
        if text[position] == "]":
            return lines
        line += text.count("\n", counted, position)
        counted = position
        lines.append(line)
        _, position = decoder.raw_decode(text, position)
        position = _skip_whitespace(text, position)
        if text[position] == ",":
            position += 1


def _not_an_object(path: Path, where: str, value: Any) -> ImportFileError:
    kind = {list: "een lijst", str: "tekst", int: "een getal", float: "een getal", bool: "ja/nee"}.get(
        type(value), "leeg (null)"
    )
    return ImportFileError(f"bestand '{path}': {where} is {kind}, geen object; elk record moet een object {{…}} zijn")


def _too_deep(path: Path, where: str = "") -> ImportFileError:
    """JSON nested deeper than the parser's recursion limit (the audit sent 2,000 levels: a 500)."""
    return ImportFileError(
        f"bestand '{path}'{where} is te diep genest (honderden lagen [ of {{ in elkaar); "
        "een record is één object met hoogstens een paar lagen, zie het voorbeeld in data/samples/"
    )


def _read_json(path: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        data = json.loads(text)
    except RecursionError:
        raise _too_deep(path) from None
    except json.JSONDecodeError as error:
        raise ImportFileError(
            f"bestand '{path}' is geen geldige JSON (regel {error.lineno}, kolom {error.colno}: "
            f"{_json_problem(error.msg)}); controleer komma's, haakjes en aanhalingstekens"
        ) from None
    if not isinstance(data, list):
        raise ImportFileError(
            f"bestand '{path}' moet een JSON-lijst van objecten zijn ([{{…}}, {{…}}]), geen "
            f"{'object' if isinstance(data, dict) else 'losse waarde'}"
        )
    lines = _element_lines(text)
    for number, (line, value) in enumerate(zip(lines, data, strict=True), start=1):
        if not isinstance(value, dict):
            raise _not_an_object(path, f"record {number} (regel {line})", value)
    return list(zip(lines, data, strict=True))


def _read_json_lines(path: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    records: list[tuple[int, dict[str, Any]]] = []
    for line, content in enumerate(text.splitlines(), start=1):
        if not content.strip():
            continue
        try:
            value = json.loads(content)
        except RecursionError:
            raise _too_deep(path, f" regel {line}") from None
        except json.JSONDecodeError as error:
            raise ImportFileError(
                f"bestand '{path}' regel {line} is geen geldige JSON (kolom {error.colno}: "
                f"{_json_problem(error.msg)}); zet op elke regel één object"
            ) from None
        if not isinstance(value, dict):
            raise _not_an_object(path, f"regel {line}", value)
        records.append((line, value))
    return records


_JSON_PROBLEMS = {
    "Expecting value": "waarde verwacht",
    "Expecting ',' delimiter": "komma verwacht",
    "Expecting ':' delimiter": "dubbele punt verwacht",
    "Expecting property name enclosed in double quotes": "veldnaam tussen dubbele aanhalingstekens verwacht",
    "Extra data": "extra tekst na het einde",
    "Unterminated string starting at": "tekst zonder afsluitend aanhalingsteken",
    "Invalid control character at": "ongeldig teken",
    "Invalid \\escape": "ongeldige escape met \\",
}


def _json_problem(message: str) -> str:
    return _JSON_PROBLEMS.get(message, "ongeldige opbouw")


_READERS = {".csv": _read_csv, ".json": _read_json, ".jsonl": _read_json_lines, ".ndjson": _read_json_lines}


def read_records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Read the records of a CSV or JSON file, each with the line it starts on.

    CSV rows are unflattened into the nested camelCase structure of ``ClientIn`` / ``VacancyIn``
    (see the module docstring), so both formats give the same records.

    Args:
        path: A ``.csv``, ``.json``, ``.jsonl`` or ``.ndjson`` file, UTF-8.

    Returns:
        ``(line, record)`` pairs in file order; empty cells are left out of CSV records.

    Raises:
        ImportFileError: The file is missing, not UTF-8, empty, or not valid CSV/JSON of records.
    """
    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise ImportFileError(
            f"bestand '{path}' heeft een onbekend type '{path.suffix or '(geen extensie)'}'; "
            "gebruik .csv, .json, .jsonl of .ndjson"
        )
    return reader(path, _decode(path))


# ------------------------------------------------------------------------------------------ validating


def _without_nulls(record: dict[str, Any]) -> dict[str, Any]:
    """JSON ``null`` means "not given", like an empty CSV cell: the schema default applies."""
    cleaned = {key: value for key, value in record.items() if value is not None}
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
        record = _without_nulls(raw)
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
        path: A CSV or JSON file (see the module docstring for the format).

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
