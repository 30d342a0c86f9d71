"""The contract of every pairs file in data/eval (no model is loaded), and how bad pair files are refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from matching.errors import ImportFileError
from training.embedding_eval import HALVES, is_pairs_file, numbered_pairs, read_pairs, read_sets, split_half

EVAL = Path(__file__).resolve().parents[2] / "data" / "eval"
FILES = [path for path in sorted(EVAL.glob("*.tsv")) if is_pairs_file(path)]
# Not query/document pairs: the held-out word pairs of the gender counterfactual (training/counterfactual.py).
OTHER_LISTS = {path.name for path in EVAL.glob("gendered_heldout*.tsv")}  # word-pair lists, not query pairs
HEADER = "query\tdocument"
MIN_PAIRS = 500  # all files together (issue 19)
MIN_ROWS = 40  # per half: fewer and one pair moves MRR by more than 0.02
# Nine digits in a row, optionally grouped with dots or spaces (123456789, 1234.56.789, 123 456 789).
BSN_LIKE = re.compile(r"(?<!\d)\d(?:[ .]?\d){8}(?!\d)")


def test_the_sets_are_there_in_halves_and_large_enough() -> None:
    names = {path.name for path in FILES}
    assert {path.name for path in EVAL.glob("*.tsv")} - names <= OTHER_LISTS, "a .tsv without the pairs header"
    stems = {name.rsplit("_", 1)[0] for name in names}
    assert {"nl_pairs", "nl_spreektaal", "nl_titels", "esco_en"} <= stems
    assert names == {f"{stem}_{half}.tsv" for stem in stems for half in HALVES}, "every set has both halves"
    assert sum(len(numbered_pairs(path)) for path in FILES) >= MIN_PAIRS


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_file_keeps_the_format_contract(path: Path) -> None:
    text = path.read_bytes().decode("utf-8")  # strict: fails on invalid UTF-8
    assert "\r" not in text, "use LF line endings"
    lines = text.rstrip("\n").split("\n")
    assert lines[0] == HEADER
    rows = [line.split("\t") for line in lines[1:]]
    assert len(rows) >= MIN_ROWS
    bad = [(number, row) for number, row in enumerate(rows, start=2) if len(row) != 2 or not all(row)]
    assert not bad, f"lines without exactly two non-empty columns: {bad[:5]}"
    padded = [number for number, row in enumerate(rows, start=2) if any(c != c.strip() for c in row)]
    assert not padded, f"lines with leading or trailing whitespace in a field: {padded[:10]}"
    hits = [(number, m.group()) for number, line in enumerate(lines, start=1) for m in BSN_LIKE.finditer(line)]
    assert not hits, f"BSN-like nine-digit numbers: {hits[:5]}"
    numbered_pairs(path)  # no duplicate query or document, no empty row


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_every_pair_is_in_the_half_its_query_hashes_to(path: Path) -> None:
    half = path.name.removesuffix(".tsv").rsplit("_", 1)[1]
    misplaced = [line for line, query, _ in numbered_pairs(path) if split_half(query) != half]
    assert not misplaced, f"lines in the wrong half: {misplaced[:10]}"


def test_no_pair_leaks_between_files() -> None:
    assert set(read_sets([EVAL])) == set(FILES)  # read_sets refuses a query or document held by two files


def _write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "lines,line,words",
    [
        ((HEADER, "a\tb", "", "c\td"), 3, "lege regel"),
        ((HEADER, "a\tb", "   \t ", "c\td"), 3, "lege regel"),
        ((HEADER, "a\tb", "c\td", "a\te"), 4, "dezelfde query staat al op regel 2"),
        ((HEADER, "a\tb", "c\td", "A \tb"), 4, "dezelfde query staat al op regel 2"),
        ((HEADER, "a\tb", "c\tB"), 3, "hetzelfde document staat al op regel 2"),
        ((HEADER, "a\tb\tc"), 2, "verwacht 2 kolommen"),
        ((HEADER, "a\t "), 2, "mogen niet leeg zijn"),
    ],
)
def test_bad_rows_are_refused_naming_file_and_line(
    tmp_path: Path, lines: tuple[str, ...], line: int, words: str
) -> None:
    path = _write(tmp_path / "paren.tsv", *lines)
    with pytest.raises(ImportFileError, match=f"'{re.escape(str(path))}', regel {line}: .*{words}"):
        read_pairs(path)


def test_a_held_out_pair_in_a_tuning_file_is_refused(tmp_path: Path) -> None:
    tuning = _write(tmp_path / "x_tuning.tsv", HEADER, "a\tb", "c\td")
    heldout = _write(tmp_path / "x_heldout.tsv", HEADER, "e\tf", "c\tg")
    with pytest.raises(ImportFileError, match=f"'{re.escape(str(heldout))}', regel 3: deze query staat ook in"):
        read_sets([tuning, heldout])
    with pytest.raises(ImportFileError, match="regel 3: deze query staat ook in"):
        read_sets([heldout])  # the tuning sibling is checked even when only the held-out half is evaluated
    (tmp_path / "map").mkdir()
    _write(tmp_path / "map" / "x.tsv", HEADER, "a\tb")
    _write(tmp_path / "map" / "y.tsv", HEADER, "h\tb")
    with pytest.raises(ImportFileError, match="y.tsv', regel 2: dit document staat ook in"):
        read_sets([tmp_path / "map"])  # a folder: every .tsv in it, documents too


def test_a_folder_stands_for_its_files_and_the_split_is_deterministic(tmp_path: Path) -> None:
    one = _write(tmp_path / "a.tsv", HEADER, "a\tb")
    two = _write(tmp_path / "b.tsv", HEADER, "c\td")
    assert list(read_sets([tmp_path, one])) == [one, two]
    (tmp_path / "leeg").mkdir()
    with pytest.raises(ImportFileError, match="bevat geen .tsv-bestanden met de kopregel"):
        read_sets([tmp_path / "leeg"])
    assert split_half("ik wil buiten werken") == split_half("ik wil buiten werken")
    assert {split_half(f"query {i}") for i in range(20)} == set(HALVES)
