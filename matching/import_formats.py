"""The file formats of an import: CSV and JSON read into records, each with the line it starts on.

:func:`read_records` gives ``(line, record)`` pairs in the nested camelCase structure of
:class:`~matching.domain.ClientIn` / :class:`~matching.domain.VacancyIn`, whatever the format;
:mod:`matching.importer` validates and stores them. A file that cannot be read at all (not UTF-8,
broken JSON, a CSV row with the wrong number of columns) raises
:class:`~matching.errors.ImportFileError`.

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

Personalia (``voornaam``, ``achternaam``, ``email``, ``telefoon``) and protected attributes
(``geslacht``, ``geboortejaar``, ``migratieachtergrond``) are read like any other column; the
importer takes them out of client records before validation.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from matching.domain import ClientIn, VacancyIn
from matching.errors import ImportFileError

PERSONALIA_FIELDS = ("voornaam", "achternaam", "email", "telefoon")
AUDIT_FIELDS = ("geslacht", "geboortejaar", "migratieachtergrond")
# Column names of before API 2.0.0 that import files may still use, read as the new name, until
# API 4.0.0 (README, "Changelog", 3.0.0). The API's own bodies (POST/PUT /klanten) take only the new name.
OLD_COLUMNS: dict[str, dict[str, str]] = {"clients": {"clientNummer": "klantNummer"}, "vacancies": {}}

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


def _known_columns() -> dict[str, str]:
    """Lower-cased column name -> canonical camelCase name, for every column a CSV may have."""
    names = {
        (info.alias or name)
        for model in (ClientIn, VacancyIn)
        for name, info in model.model_fields.items()
        if name != "wensen"
    }
    names |= set(WENS_COLUMNS) | set(PERSONALIA_FIELDS) | set(AUDIT_FIELDS)
    names |= {name for renamed in OLD_COLUMNS.values() for name in renamed}
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
            example = ",".join(["klantNummer", "consulent", "trede", "route", "postcode"])
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
