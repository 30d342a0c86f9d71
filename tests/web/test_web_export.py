"""Shortlist export: formula-like text is defused in CSV and XLSX, numbers stay numbers."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from api.web.export import safe_cell, shortlist_rows, to_csv, to_xlsx

LISTING = {
    "resultaten": [
        {
            "rang": 1,
            "klantId": '=HYPERLINK("http://evil")',
            "score": -0.5,
            "trede": 4,
            "route": "+werk",
            "afstandKm": 3.2,
            "redenen": ["@SUM(A1)", "woont dichtbij"],
            "aandachtspunten": ["-1+2"],
        }
    ]
}


def test_safe_cell_escapes_every_formula_start() -> None:
    for text in ("=1+1", "+1", "-1", "@A1", "\tx", "\rx"):
        assert safe_cell(text) == "'" + text
    assert safe_cell("woont dichtbij") == "woont dichtbij"
    assert safe_cell(-0.5) == -0.5  # a number is not text: it stays a number
    assert safe_cell(["=a", "b"]) == "'=a; b"


def test_csv_and_xlsx_hold_no_formula() -> None:
    header, rows = shortlist_rows(LISTING)
    assert "aandachtspunten beperkingen" not in header  # not in the list the role saw: not exported
    parsed = list(csv.reader(io.StringIO(to_csv(header, rows).decode("utf-8-sig")), delimiter=";"))
    assert parsed[1][1] == '\'=HYPERLINK("http://evil")' and parsed[1][4] == "'+werk"
    assert parsed[1][6] == "'@SUM(A1); woont dichtbij" and parsed[1][7] == "'-1+2"
    sheet = load_workbook(io.BytesIO(to_xlsx(header, rows, "V-1"))).active
    values = [cell for cell in sheet[2]]
    assert all(cell.data_type != "f" for cell in values)
    assert values[1].value.startswith("'=") and values[2].value == -0.5
