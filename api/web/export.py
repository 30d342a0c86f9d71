"""A shortlist as CSV or XLSX, safe to open in a spreadsheet.

Text cells that start with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return, which some
programs strip before reading a formula) get a leading apostrophe, the OWASP advice against CSV
injection: the cell then shows as text and never runs. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet may hold it: lists joined, formula-like text defused."""
    if isinstance(value, list | tuple):
        value = "; ".join(str(item) for item in value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def shortlist_rows(listing: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of a candidate list as the role saw it (only the fields present are exported)."""
    header = ["rang", "kandidaat", "kans op aanname (%)", "trede", "route", "afstand", "redenen", "aandachtspunten"]
    with_beperkingen = any("aandachtspuntenBeperkingen" in item for item in listing["resultaten"])
    if with_beperkingen:
        header.append("aandachtspunten beperkingen")
    rows = []
    for item in listing["resultaten"]:
        row = [
            item["rang"],
            item["klantId"],
            item["score"],
            item["trede"],
            item["route"],
            # kilometres for the own caseload, a band for everyone else (matching.disclosure)
            item["afstandKm"] if item.get("afstandKm") is not None else item.get("afstandsklasse", ""),
            item.get("redenen", []),
            item.get("aandachtspunten", []),
        ]
        if with_beperkingen:
            row.append(item.get("aandachtspuntenBeperkingen", []))
        rows.append([safe_cell(cell) for cell in row])
    return header, rows


def to_csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """UTF-8 with BOM (Excel reads the accents right), semicolons (the Dutch Excel list separator)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(header: Sequence[str], rows: Sequence[Sequence[Any]], title: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31] or "kandidaten"
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever openpyxl guessed
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
