"""The contract of the Dutch retrieval evaluation set data/eval/nl_pairs.tsv (no model is loaded)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAIRS = Path(__file__).resolve().parents[2] / "data" / "eval" / "nl_pairs.tsv"
HEADER = "query\tdocument"
MIN_ROWS = 200
# Nine digits in a row, optionally grouped with dots or spaces (123456789, 1234.56.789, 123 456 789).
BSN_LIKE = re.compile(r"(?<!\d)\d(?:[ .]?\d){8}(?!\d)")


@pytest.fixture(scope="module")
def lines() -> list[str]:
    text = PAIRS.read_bytes().decode("utf-8")  # strict: fails on invalid UTF-8
    assert "\r" not in text, "use LF line endings"
    return text.rstrip("\n").split("\n")


@pytest.fixture(scope="module")
def rows(lines: list[str]) -> list[list[str]]:
    return [line.split("\t") for line in lines[1:]]


def test_header_is_exact(lines: list[str]) -> None:
    assert lines[0] == HEADER


def test_enough_rows(rows: list[list[str]]) -> None:
    assert len(rows) >= MIN_ROWS


def test_every_row_has_two_non_empty_columns(rows: list[list[str]]) -> None:
    bad = [
        (number, row) for number, row in enumerate(rows, start=2) if len(row) != 2 or not all(c.strip() for c in row)
    ]
    assert not bad, f"rows (line, fields) without exactly two non-empty columns: {bad[:5]}"


def test_fields_have_no_surrounding_whitespace(rows: list[list[str]]) -> None:
    bad = [number for number, row in enumerate(rows, start=2) if any(c != c.strip() for c in row)]
    assert not bad, f"lines with leading or trailing whitespace in a field: {bad[:10]}"


@pytest.mark.parametrize("column,name", [(0, "query"), (1, "document")])
def test_column_values_are_distinct(rows: list[list[str]], column: int, name: str) -> None:
    seen: dict[str, int] = {}
    duplicates = []
    for number, row in enumerate(rows, start=2):
        if len(row) != 2:
            continue  # reported by test_every_row_has_two_non_empty_columns
        value = row[column]
        if value in seen:
            duplicates.append((seen[value], number))
        seen.setdefault(value, number)
    assert not duplicates, f"duplicate {name} values at lines: {duplicates[:5]}"


def test_no_bsn_like_numbers(lines: list[str]) -> None:
    hits = [(number, match.group()) for number, line in enumerate(lines, start=1) for match in BSN_LIKE.finditer(line)]
    assert not hits, f"BSN-like nine-digit numbers: {hits[:5]}"
