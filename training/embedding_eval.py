"""Retrieval quality of an embedder on pairs files (``werkmatch embeddings eval``).

A pairs file is tab-separated with the header ``query<TAB>document``; row i's document is the one right
answer for row i's query among all documents in the file (data/eval/README.md, "Format contract").
Every query ranks all documents three ways:

* ``dense``: cosine of the embedder's vectors (queries in the ``query`` role, documents ``document``);
* ``lexical``: werkmatch's own BM25 (:class:`matching.lexical.LexicalIndex`, Dutch stemming);
* ``hybrid``: werkmatch's own fusion of the two (:mod:`matching.identifier_gate`: the rare-identifier gate, else
  the negation-free BM25 where its first is dense's and a tie-break otherwise), over the set's distinct documents as
  the searched documents, as search fuses over a pool.

Reported per signal: MRR and recall@10, plus the embedder's throughput on the documents. Several
files are evaluated one by one (each against its own documents) after one check that no pair leaks
from one into another; a ``*_heldout.tsv`` is always checked against its ``*_tuning.tsv`` sibling.
"""

from __future__ import annotations

import csv
import hashlib
import time
from pathlib import Path
from typing import Any

import numpy as np

from matching import identifier_gate, identifiers
from matching.embedding import Embedder
from matching.errors import ImportFileError
from matching.lexical import LexicalIndex
from matching.settings import RetrievalSettings

HEADER = ["query", "document"]
HALVES = ("tuning", "heldout")


def _text(path: Path) -> str:
    if not path.is_file():
        raise ImportFileError(f"bestand '{path}' bestaat niet")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(f"bestand '{path}' is geen UTF-8-tekst (byte {error.start})") from None


def _key(text: str) -> str:
    """What counts as the same text: case and runs of white space do not matter."""
    return " ".join(text.lower().split())


def numbered_pairs(path: Path) -> list[tuple[int, str, str]]:
    """(line number, query, document) per row; a Dutch :class:`ImportFileError` naming the line otherwise.

    Refused: a missing header, an empty row, a row without exactly two non-empty columns, and a query
    or document that an earlier row already has (the same pair twice, or one query with two answers:
    a file with duplicates has no single right answer per row).
    """
    rows = list(csv.reader(_text(path).splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows:
        raise ImportFileError(f"bestand '{path}' is leeg; verwacht een kopregel 'query<TAB>document' en paren")
    if [cell.strip().lower() for cell in rows[0]] != HEADER:
        raise ImportFileError(
            f"bestand '{path}': de eerste regel moet 'query<TAB>document' zijn, niet '{' | '.join(rows[0])[:60]}'"
        )
    pairs: list[tuple[int, str, str]] = []
    first_line: dict[tuple[int, str], int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            raise ImportFileError(f"bestand '{path}', regel {line}: lege regel; haal lege regels weg")
        if len(row) != 2:
            raise ImportFileError(
                f"bestand '{path}', regel {line}: verwacht 2 kolommen gescheiden door een tab, niet {len(row)}"
            )
        query, document = (cell.strip() for cell in row)
        if not query or not document:
            raise ImportFileError(f"bestand '{path}', regel {line}: query en document mogen niet leeg zijn")
        for column, (same, value) in enumerate((("dezelfde query", query), ("hetzelfde document", document))):
            earlier = first_line.setdefault((column, _key(value)), line)
            if earlier != line:
                raise ImportFileError(
                    f"bestand '{path}', regel {line}: {same} staat al op regel {earlier}; "
                    "elke query en elk document mag maar één keer voorkomen"
                )
        pairs.append((line, query, document))
    if not pairs:
        raise ImportFileError(f"bestand '{path}' bevat geen paren onder de kopregel")
    return pairs


def read_pairs(path: Path) -> tuple[list[str], list[str]]:
    """Queries and their documents of one file (:func:`numbered_pairs`)."""
    pairs = numbered_pairs(path)
    return [query for _, query, _ in pairs], [document for _, _, document in pairs]


def is_pairs_file(path: Path) -> bool:
    """A ``.tsv`` whose first line is the ``query<TAB>document`` header (a folder may hold other lists)."""
    with path.open(encoding="utf-8-sig", errors="replace") as file:
        return file.readline().rstrip("\r\n").lower().split("\t") == HEADER


def pair_files(paths: list[Path]) -> list[Path]:
    """The files named, a folder standing for its pairs files (:func:`is_pairs_file`, sorted); each once.

    A file named on its own is always read, so a wrong header there is refused, not skipped.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = [file for file in sorted(path.glob("*.tsv")) if is_pairs_file(file)]
            if not found:
                raise ImportFileError(f"map '{path}' bevat geen .tsv-bestanden met de kopregel 'query<TAB>document'")
            files.extend(found)
        else:
            files.append(path)
    return list(dict.fromkeys(files))


def tuning_sibling(path: Path) -> Path | None:
    """``x_tuning.tsv`` beside ``x_heldout.tsv``, if it exists."""
    if not path.name.endswith("_heldout.tsv"):
        return None
    sibling = path.with_name(path.name.removesuffix("_heldout.tsv") + "_tuning.tsv")
    return sibling if sibling.is_file() else None


def check_leaks(files: dict[Path, list[tuple[int, str, str]]]) -> None:
    """Refuse a query or document of one file that another file also holds (a pair leaking between sets)."""
    seen: dict[tuple[str, str], tuple[Path, int]] = {}
    for path, pairs in files.items():
        for line, query, document in pairs:
            for this, value in (("deze query", query), ("dit document", document)):
                other = seen.setdefault((this, _key(value)), (path, line))
                if other[0] != path:
                    raise ImportFileError(
                        f"bestand '{path}', regel {line}: {this} staat ook in '{other[0]}', regel {other[1]}; "
                        "een paar mag in maar één evaluatieset staan (afstemmen en toetsen op hetzelfde paar telt niet)"
                    )


def read_sets(paths: list[Path]) -> dict[Path, tuple[list[str], list[str]]]:
    """Queries and documents per file of ``paths`` (folders expanded), after :func:`check_leaks`.

    A held-out file's tuning sibling is read for the leak check even when it is not evaluated.
    """
    files = pair_files(paths)
    read = {path: numbered_pairs(path) for path in files}
    for path in files:
        sibling = tuning_sibling(path)
        if sibling is not None and sibling not in read:
            read[sibling] = numbered_pairs(sibling)
    check_leaks(read)
    return {path: ([q for _, q, _ in read[path]], [d for _, _, d in read[path]]) for path in files}


def split_half(query: str) -> str:
    """ "tuning" or "heldout" for a pair, by the first byte of the SHA-256 of its query (even: tuning).

    Deterministic and independent of row order, so a pair added later never moves another.
    """
    return HALVES[hashlib.sha256(query.encode("utf-8")).digest()[0] % 2]


def write_pairs(path: Path, pairs: list[tuple[str, str]]) -> None:
    """A pairs file in the format contract: header, one tab-separated pair per line, LF, UTF-8."""
    path.write_text("".join(f"{q}\t{d}\n" for q, d in [tuple(HEADER), *pairs]), encoding="utf-8")


def _metrics(scores: np.ndarray, answer: np.ndarray) -> dict[str, float]:
    """MRR and recall@10 of a (queries × documents) score matrix; ties count against the answer."""
    right = scores[np.arange(len(answer)), answer]
    rank = (scores >= right[:, None]).sum(axis=1)  # 1 = first
    return {"mrr": round(float(np.mean(1.0 / rank)), 4), "recall@10": round(float(np.mean(rank <= 10)), 4)}


def bm25_index(unique: list[str]) -> LexicalIndex:
    """werkmatch's BM25 over a set's distinct documents, document i under id i: the one BM25 of a set, which both
    :func:`score_matrices` and :func:`hybrid_scores` read."""
    lexical_index = LexicalIndex()
    lexical_index.upsert(np.arange(len(unique)), unique)
    return lexical_index


def score_matrices(
    embedder: Embedder, queries: list[str], documents: list[str], lexical_index: LexicalIndex | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Raw dense and BM25 (queries × distinct documents), each query's answer column, and texts/s. ``lexical_index``:
    :func:`bm25_index` of the distinct documents where the caller has built it (else built here)."""
    unique = list(dict.fromkeys(documents))
    column = {document: i for i, document in enumerate(unique)}
    answer = np.array([column[document] for document in documents])
    start = time.perf_counter()
    doc_vectors = embedder.embed(unique, "document")
    texts_per_second = len(unique) / (time.perf_counter() - start)
    dense = embedder.embed(queries, "query") @ doc_vectors.T
    if lexical_index is None:
        lexical_index = bm25_index(unique)
    lexical = np.zeros_like(dense)
    for row, query in enumerate(queries):
        ids, values = lexical_index.scores(query)
        lexical[row, ids] = values
    return dense, lexical, answer, texts_per_second


def hybrid_scores(
    dense: np.ndarray,
    queries: list[str],
    documents: list[str],
    weights: RetrievalSettings,
    ordinary: LexicalIndex,
    language_opens: bool = identifier_gate.LANGUAGE_OPENS,
) -> tuple[np.ndarray, int]:
    """werkmatch's fusion (:mod:`matching.identifier_gate`) per query over the distinct ``documents`` (the searched
    documents: rarity is counted over them), and how many queries opened the rare-identifier gate. ``ordinary``: the
    set's BM25 over ``documents`` (:func:`bm25_index`, the one :func:`score_matrices` ranked with), read for the
    negation-free query. ``language_opens`` True: session 43's (w) without the language rule, which the bench
    compares (``bench/identifiers_port.py``)."""
    documents_held = [identifiers.identifiers(text)[0] for text in documents]
    holding = identifier_gate.holders(documents_held)
    by_identifier = identifier_gate.IdentifierIndex()
    by_identifier.upsert(np.arange(len(documents)), documents)
    rows, opened = [], 0
    for query, cosines in zip(queries, dense, strict=True):
        held, negated = identifiers.identifiers(query)
        identifier_bm25 = identifier_gate.bm25_over(by_identifier, query, len(documents))
        free_bm25 = identifier_gate.bm25_over(ordinary, identifiers.negation_free(query), len(documents))
        if negated:
            holds_negated = np.array([bool(negated & held_there) for held_there in documents_held])
            free_bm25 = identifier_gate.no_negated_lift(free_bm25, holds_negated)
        gate_open = identifier_gate.rare_gate_opens(
            held, negated, documents_held, identifier_bm25, holding, language_opens
        )
        opened += gate_open
        rows.append(identifier_gate.fused_scores(cosines, identifier_bm25, free_bm25, gate_open, weights))
    return np.stack(rows) if rows else np.zeros_like(dense), opened


def evaluate_pairs(
    embedder: Embedder, queries: list[str], documents: list[str], weights: RetrievalSettings
) -> dict[str, Any]:
    """Dense, lexical and hybrid MRR / recall@10 of ``queries`` against the distinct ``documents``."""
    unique = list(dict.fromkeys(documents))
    lexical_index = bm25_index(unique)  # one BM25 per set: the lexical row's and the hybrid's
    dense, lexical, answer, texts_per_second = score_matrices(embedder, queries, documents, lexical_index)
    hybrid, opened = hybrid_scores(dense, queries, unique, weights, lexical_index)
    return {
        "model": embedder.model_id,
        "pairs": len(queries),
        "documents": dense.shape[1],
        "results": {
            "dense": _metrics(dense, answer),
            "lexical": _metrics(lexical, answer),
            "hybrid": _metrics(hybrid, answer),
        },
        "textsPerSecond": round(texts_per_second, 1),
        "fusion": {
            "method": "zeldzame-code-poort (een taalniveau opent haar niet alleen), anders BM25 zonder ontkende delen "
            "(eens met dense, of als tiebreak; geen steun voor een document met een ontkende code)",
            "gateOpened": opened,
        },
    }


def evaluate_sets(
    embedder: Embedder, sets: dict[Path, tuple[list[str], list[str]]], weights: RetrievalSettings
) -> dict[str, Any]:
    """:func:`evaluate_pairs` per file; one file answers in its own shape, several add ``sets``.

    With several files the top-level ``pairs``/``documents`` are totals and ``results`` the mean over
    the files (each file weighs the same), and ``hybridAtLeastBestPart`` says per file whether the
    hybrid's MRR is at or above the better of dense and lexical.
    """
    results = [{"file": str(path), **evaluate_pairs(embedder, q, d, weights)} for path, (q, d) in sets.items()]
    if len(results) == 1:
        return results[0]
    signals = results[0]["results"].keys()
    return {
        "model": embedder.model_id,
        "pairs": sum(result["pairs"] for result in results),
        "documents": sum(result["documents"] for result in results),
        "results": {
            signal: {
                metric: round(float(np.mean([result["results"][signal][metric] for result in results])), 4)
                for metric in ("mrr", "recall@10")
            }
            for signal in signals
        },
        "textsPerSecond": round(float(np.mean([result["textsPerSecond"] for result in results])), 1),
        "fusion": results[0]["fusion"],
        "hybridAtLeastBestPart": {
            result["file"]: result["results"]["hybrid"]["mrr"]
            >= max(result["results"]["dense"]["mrr"], result["results"]["lexical"]["mrr"])
            for result in results
        },
        "sets": results,
    }
