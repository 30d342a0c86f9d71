"""The live searches at national size before and after issue 16 item 3's two levers, alternating in one process.

Run: ``WERKMATCH_DATA_DIR=<copy of the demo world, its bench-400000 a copy of the national one>
PYTHONPATH=. nice -n 10 .venv/bin/python bench/live_bm25_shap.py [--queries 60] > result.json``

Before: BM25 of the query over every record (``LexicalIndex.scores_for``, the previous
``Matcher._text_query``) and the shown rows' SHAP values on one thread. After: BM25 as the nightly batch
reads it (:class:`matching.lexical.Bm25Buffer`) and SHAP on two threads from
``2 × ranker.CONTRIB_ROWS_PER_THREAD`` rows. Per query each variant runs once, the first of the two
alternating; every list (candidates within reach, heleBestand, a client's vacancies) is asserted the same
JSON both ways. Per-search milliseconds, their percentiles and the load average are written as JSON.
"""

from __future__ import annotations

import numpy as np

from bench.live_alternating import compare
from matching import pipeline, ranker
from matching.matcher import Matcher

NEW_TEXT_QUERY = Matcher._text_query


def _old_text_query(self: Matcher, query_side, query_id: int, searched, ids: np.ndarray) -> pipeline.TextQuery:
    """``Matcher._text_query`` before: BM25 over every record of ``searched``."""
    asking, state = self.index.sides[query_side], self.index.sides[searched]
    vector = self.index.query_vector(asking.texts[query_id])
    vectors = state.vectors
    assert vectors is not None
    return pipeline.TextQuery(
        dense_top=lambda rows, k: vectors.nearest(vector, k, ids, rows),
        dense_raw=lambda rows: vectors.cosines(vector, ids, rows),
        lexical=state.lexical.scores_for(asking.lexical_texts[query_id], ids),
    )


def _variant(new: bool) -> None:
    Matcher._text_query = NEW_TEXT_QUERY if new else _old_text_query  # type: ignore[method-assign]
    ranker.CONTRIB_ROWS_PER_THREAD = 8 if new else 10**9


def main() -> None:
    compare(_variant, default_queries=60)


if __name__ == "__main__":
    main()
