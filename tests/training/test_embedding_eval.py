"""``werkmatch embeddings eval``'s scoring (training/embedding_eval.py): one BM25 per set, read by both the lexical row
and the hybrid."""

from __future__ import annotations

import numpy as np
import pytest

from matching.embedding import Embedder
from matching.lexical import LexicalIndex
from matching.settings import RetrievalSettings
from training import embedding_eval
from training.embedding_eval import _metrics, bm25_index, evaluate_pairs, hybrid_scores, score_matrices

DOCUMENTS = [
    "Heftruckchauffeur in het magazijn, heftruckcertificaat verplicht",
    "Lasser TIG en MIG/MAG in de metaal, lasproces 141",
    "Schoonmaker kantoren in de avond, geen ervaring nodig",
    "Magazijnmedewerker orderpicken, VCA basis een pre",
    "Vrachtwagenchauffeur met rijbewijs C en code 95",
    "Kassamedewerker supermarkt, weekenddiensten",
    "Zorghulp thuiszorg, diploma niveau 2",
    "Productiemedewerker voedingsindustrie in ploegendienst",
    "Hovenier groenonderhoud, rijbewijs B",
    "Beveiliger evenementen met diploma Beveiliger 2",
    "Bezorger pakketten met eigen fiets",
    "Callcentermedewerker klantenservice, Nederlands B1",
]
QUERIES = [
    "heftruck rijden met certificaat",
    "lassen TIG 141",
    "schoonmaakwerk 's avonds zonder ervaring",
    "orderpicker met VCA",
    "chauffeur C met code 95",
    "kassa werk in het weekend",
    "thuiszorg helpen niveau 2",
    "fabriekswerk in ploegen",
    "tuinwerk, heb rijbewijs B",
    "beveiliging bij evenementen",
    "pakketjes bezorgen op de fiets",
    "telefoon klantenservice taalniveau B1",
]


def test_a_set_builds_one_bm25_that_the_lexical_row_and_the_hybrid_read(
    embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[LexicalIndex] = []

    class Counted(LexicalIndex):
        def __init__(self) -> None:
            super().__init__()
            built.append(self)

    monkeypatch.setattr(embedding_eval, "LexicalIndex", Counted)
    result = evaluate_pairs(embedder, QUERIES, DOCUMENTS, RetrievalSettings())
    assert len(built) == 1  # no second ordinary BM25 for the hybrid

    # The same rows as the hybrid over a BM25 of its own (built apart, as before the one-BM25 change).
    monkeypatch.undo()
    dense, lexical, answer, _ = score_matrices(embedder, QUERIES, DOCUMENTS)
    apart, opened = hybrid_scores(dense, QUERIES, DOCUMENTS, RetrievalSettings(), bm25_index(DOCUMENTS))
    assert result["results"] == {
        "dense": _metrics(dense, answer),
        "lexical": _metrics(lexical, answer),
        "hybrid": _metrics(apart, answer),
    }
    assert result["fusion"]["gateOpened"] == opened


def test_the_built_index_ranks_as_one_built_inside(embedder: Embedder) -> None:
    unique = list(dict.fromkeys(DOCUMENTS))
    given = score_matrices(embedder, QUERIES, DOCUMENTS, bm25_index(unique))
    inside = score_matrices(embedder, QUERIES, DOCUMENTS)
    np.testing.assert_array_equal(given[0], inside[0])
    np.testing.assert_array_equal(given[1], inside[1])
    np.testing.assert_array_equal(given[2], inside[2])
    assert given[1].any()  # BM25 found something: the comparison is not of two empty matrices
