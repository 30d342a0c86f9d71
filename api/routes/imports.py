"""Imports of klanten and vacatures over HTTP: the uploaded file, the caseload rule for klant rows, the report.

An import takes a multipart upload (field ``bestand``), CSV or JSON exactly as for ``werkmatch import``
(see :mod:`matching.importer`). A file that cannot be read at all is a 400 and stores nothing;
otherwise the valid rows are stored in one transaction and the answer (200) reports every stored and
every rejected row with its line number (and Dutch reasons). Bodies over the limit are refused with
413 problem+json by :mod:`api.ops` before anything is read: 5 MiB on ``*/import`` by default
(``WERKMATCH_OPS__BODY_LIMITS``).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path, PurePath
from typing import Any

from fastapi import File, UploadFile
from pydantic import Field
from sqlmodel import Session, select

from api.routes.common import Uitvoer
from matching import importer
from matching.domain import Client, ClientIn
from matching.errors import ImportFileError
from matching.lookup import in_chunks

_OWNER_CHUNK = 500  # klantnummers per IN (...) query; SQLite allows 32,766 parameters, stay well below
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")  # the upload's name becomes a file name: nothing else gets through
_UPLOAD_TYPES = {"text/csv": ".csv", "application/json": ".json", "application/x-ndjson": ".ndjson"}

BESTAND = File(description="CSV of JSON in het formaat van 'werkmatch import' (zie matching/importer.py); max. 5 MB")


class ImportRegel(Uitvoer):
    """A stored row of an import file."""

    regel: int = Field(description="regelnummer in het bestand (kopregel = 1)")
    nummer: str = Field(description="klantnummer of vacaturenummer")


class AfgewezenRegel(Uitvoer):
    """A rejected row of an import file, with why."""

    regel: int
    nummer: str | None = Field(description="het nummer uit de regel, als dat te lezen was (nooit een BSN)")
    redenen: list[str]


class ImportRapport(Uitvoer):
    """What an import stored (in one transaction) and what it rejected."""

    aangemaakt: int
    bijgewerkt: int
    opgeslagen: list[ImportRegel]
    afgewezen: list[AfgewezenRegel]


def upload_records(bestand: UploadFile) -> list[tuple[int, dict[str, Any]]]:
    """The records of an uploaded CSV or JSON file, read by :func:`matching.importer.read_records`.

    The importer reads from a path, so the upload goes to a private temporary directory under its
    own (base) name; messages show that name, never the temporary path.
    """
    name = _SAFE_NAME.sub("_", PurePath(bestand.filename or "").name)[-100:].lstrip(".") or "bestand"
    if not PurePath(name).suffix and (bestand.content_type or "") in _UPLOAD_TYPES:
        name += _UPLOAD_TYPES[bestand.content_type or ""]
    with tempfile.TemporaryDirectory(prefix="werkmatch-import-") as folder:
        path = Path(folder) / name
        path.write_bytes(bestand.file.read())
        try:
            return importer.read_records(path)
        except ImportFileError as error:
            raise ImportFileError(str(error).replace(str(path), name)) from None


def with_consulent(record: dict[str, Any], own: str, gemeente: str | None) -> dict[str, Any]:
    """A row without a consulent (or gemeente) belongs to the caller's caseload (and gemeente); empty is "not given"."""
    defaults = {"consulent": own, "gemeente": gemeente}
    return {**record, **{key: value for key, value in defaults.items() if value and not record.get(key)}}


def _owners(session: Session, numbers: list[str]) -> dict[str, str]:
    """Klantnummer → consulent code of the klanten among ``numbers`` that exist."""
    owners: dict[str, str] = {}
    for chunk in in_chunks(numbers, _OWNER_CHUNK):
        query = select(Client.client_nummer, Client.consulent).where(Client.client_nummer.in_(chunk))  # type: ignore[attr-defined]
        owners.update(dict(session.exec(query).all()))
    return owners


def outside_caseload(
    session: Session, valid: list[importer.ValidRecord], own: str, gemeente: str | None
) -> tuple[list[importer.ValidRecord], list[importer.RejectedRecord]]:
    """Split off the rows a werkconsulent may not store: another caseload or gemeente, a klantnummer taken elsewhere."""
    owners = _owners(session, [record.data.client_nummer for record in valid if isinstance(record.data, ClientIn)])
    kept: list[importer.ValidRecord] = []
    rejected: list[importer.RejectedRecord] = []
    for record in valid:
        data = record.data
        assert isinstance(data, ClientIn)
        if data.consulent != own:
            reason = (
                f"consulent '{data.consulent}' is niet uw consulentcode '{own}'; u kunt alleen klanten in uw eigen "
                "caseload importeren (laat de kolom consulent leeg voor uw eigen code)"
            )
        elif data.gemeente != gemeente:
            reason = (
                f"gemeente '{data.gemeente}' is niet uw gemeente '{gemeente}'; u kunt alleen klanten van uw eigen "
                "gemeente importeren (laat de kolom gemeente leeg)"
            )
        elif owners.get(data.client_nummer, own) != own:
            reason = (
                f"klantnummer {data.client_nummer} is al in gebruik buiten uw caseload; "
                "controleer het klantnummer of vraag de consulent van deze klant"
            )
        else:
            kept.append(record)
            continue
        rejected.append(importer.RejectedRecord(record.line, data.client_nummer, [reason]))
    return kept, rejected


def report(
    valid: list[importer.ValidRecord], rejected: list[importer.RejectedRecord], result: importer.ImportResult
) -> ImportRapport:
    def number(record: importer.ValidRecord) -> str:
        return record.data.client_nummer if isinstance(record.data, ClientIn) else record.data.vacature_nummer

    return ImportRapport(
        aangemaakt=result.created,
        bijgewerkt=result.updated,
        opgeslagen=[ImportRegel(regel=record.line, nummer=number(record)) for record in valid],
        afgewezen=[
            AfgewezenRegel(regel=item.line, nummer=item.external_id, redenen=list(item.reasons))
            for item in sorted(rejected, key=lambda item: item.line)
        ],
    )
