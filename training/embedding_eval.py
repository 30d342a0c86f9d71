"""Retrieval quality of an embedder on a pairs file (``werkmatch embeddings eval``).

The file is tab-separated with the header ``query<TAB>document``; row i's document is the one right
answer for row i's query among all documents in the file. Every query ranks all documents three ways:

* ``dense``: cosine of the embedder's vectors (queries in the ``query`` role, documents ``document``);
* ``lexical``: werkmatch's own BM25 (:class:`matching.lexical.LexicalIndex`, Dutch stemming);
* ``hybrid``: werkmatch's own fusion of the two (:func:`matching.scoring.fuse`), as used in search.

Reported per signal: MRR and recall@10, plus the embedder's throughput on the documents.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

import numpy as np

from matching.embedding import Embedder
from matching.errors import ImportFileError
from matching.lexical import LexicalIndex
from matching.scoring import fuse
from matching.settings import RetrievalSettings

HEADER = ["query", "document"]


def read_pairs(path: Path) -> tuple[list[str], list[str]]:
    """Queries and their documents; a Dutch :class:`ImportFileError` for anything malformed."""
    if not path.is_file():
        raise ImportFileError(f"bestand '{path}' bestaat niet")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(f"bestand '{path}' is geen UTF-8-tekst (byte {error.start})") from None
    rows = list(csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows:
        raise ImportFileError(f"bestand '{path}' is leeg; verwacht een kopregel 'query<TAB>document' en paren")
    if [cell.strip().lower() for cell in rows[0]] != HEADER:
        raise ImportFileError(
            f"bestand '{path}': de eerste regel moet 'query<TAB>document' zijn, niet '{' | '.join(rows[0])[:60]}'"
        )
    queries, documents = [], []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 2:
            raise ImportFileError(
                f"bestand '{path}', regel {line}: verwacht 2 kolommen gescheiden door een tab, niet {len(row)}"
            )
        query, document = (cell.strip() for cell in row)
        if not query or not document:
            raise ImportFileError(f"bestand '{path}', regel {line}: query en document mogen niet leeg zijn")
        queries.append(query)
        documents.append(document)
    if not queries:
        raise ImportFileError(f"bestand '{path}' bevat geen paren onder de kopregel")
    return queries, documents


def _metrics(scores: np.ndarray, answer: np.ndarray) -> dict[str, float]:
    """MRR and recall@10 of a (queries × documents) score matrix; ties count against the answer."""
    right = scores[np.arange(len(answer)), answer]
    rank = (scores >= right[:, None]).sum(axis=1)  # 1 = first
    return {"mrr": round(float(np.mean(1.0 / rank)), 4), "recall@10": round(float(np.mean(rank <= 10)), 4)}


def evaluate_pairs(
    embedder: Embedder, queries: list[str], documents: list[str], weights: RetrievalSettings
) -> dict[str, Any]:
    """Dense, lexical and hybrid MRR / recall@10 of ``queries`` against the distinct ``documents``."""
    unique = list(dict.fromkeys(documents))
    answer = np.array([unique.index(document) for document in documents])
    start = time.perf_counter()
    doc_vectors = embedder.embed(unique, "document")
    texts_per_second = len(unique) / (time.perf_counter() - start)
    dense = embedder.embed(queries, "query") @ doc_vectors.T

    lexical_index = LexicalIndex()
    lexical_index.upsert(np.arange(len(unique)), unique)
    lexical = np.zeros_like(dense)
    for row, query in enumerate(queries):
        ids, values = lexical_index.scores(query)
        lexical[row, ids] = values
    hybrid = np.stack([fuse(dense[row], lexical[row], weights) for row in range(len(queries))])
    return {
        "model": embedder.model_id,
        "pairs": len(queries),
        "documents": len(unique),
        "results": {
            "dense": _metrics(dense, answer),
            "lexical": _metrics(lexical, answer),
            "hybrid": _metrics(hybrid, answer),
        },
        "textsPerSecond": round(texts_per_second, 1),
    }
