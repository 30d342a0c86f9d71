"""The served weighted score on whole candidate pools: the rare-identifier gate's text signals read from the index.

Search weighs its text signals by the gate's fusion (:func:`matching.identifier_query.text_signals`, session 44):
the vacancy's held and negated identifiers, its negation-free BM25 and the identifier-token BM25 over the pool rows,
the gate's rarity counted over the pool. None of that is in a pair's features (``dense_similarity`` and
``lexical_similarity`` are the raw cosine and the scaled BM25), so :func:`training.rankers.weighted_baseline` alone
fuses them the way search did before the gate (:func:`matching.scoring.text_signals`).

Where the pairs are whole pools of a world whose index holds the sides (``werkmatch evaluate``'s pool measurement and
``werkmatch promote``'s pool gate, both from :func:`training.pool_eval.pool_holdout`), :func:`pool_text_signals` reads
the gate's signals from the index as the search computes them: per vacancy its own identifiers as its row holds them
(:meth:`matching.identifier_side.IdentifierSide.known`), the clients' BM25 and identifier sides, the pool's rows. Where
only features exist (the logged voorstellen, a pairs file, a training set: a vacancy's rows are the few proposed, not
the pool the gate counts over), the feature path stays.
"""

from __future__ import annotations

import numpy as np

from matching import identifier_query
from matching.matcher import Matcher
from matching.settings import RetrievalSettings
from training.dataset import RankingData
from training.metrics import grouped_rows
from training.rankers import Scorer, column, weighted_baseline

Text = tuple[np.ndarray, np.ndarray]  # the dense and lexical signal per row, each in [0, 1]


def pool_text_signals(matcher: Matcher, data: RankingData, weights: RetrievalSettings) -> Text:
    """Per row of ``data``, whose rows per vacancy are that vacancy's whole candidate pool
    (:meth:`matching.matcher.Matcher.pool_features`): the dense and lexical signals the search weighs
    (:func:`matching.identifier_query.text_signals`), for ``weights``. The raw cosine is the pair's
    ``dense_similarity``; the raw BM25, the negation-free and identifier-token BM25 and the identifiers come from
    the index's sides, as :meth:`matching.matcher.Matcher.pool_features` reads them."""
    dense, lexical = np.zeros(len(data), np.float32), np.zeros(len(data), np.float32)
    cosines = column(data, "dense_similarity")
    for at in grouped_rows(data.vacancy_ids):
        vacancy_id = int(data.vacancy_ids[at[0]])
        with matcher.index.lock:  # one pool at a time, as pool_features reads it: a live search waits for one only
            matcher.index.catch_up()
            clients, _ = matcher.index.arrays()
            asking, searched = matcher.index.sides["vacancies"], matcher.index.sides["clients"]
            ids = clients.ids
            rows = np.searchsorted(ids, data.client_ids[at])
            if not np.array_equal(ids[np.minimum(rows, len(ids) - 1)], data.client_ids[at]):
                raise LookupError(f"vacature {vacancy_id}: niet elke kandidaat van de pool staat in de index")
            ascending = np.argsort(rows, kind="stable")
            at, rows = at[ascending], rows[ascending]
            bm25, terms, gate = identifier_query.record_query(asking, searched, vacancy_id, ids)  # as the search
            raw = bm25.scores(terms, rows)[0]
            dense[at], lexical[at] = identifier_query.text_signals(gate, rows, cosines[at], raw, weights)
    return dense, lexical


def served_weighted(matcher: Matcher, weights: RetrievalSettings) -> Scorer:
    """The weighted score as the search serves it, for pairs that are whole pools of ``matcher``'s world: the gated
    text signals (:func:`pool_text_signals`) with the structured signals from the features."""
    return lambda data: weighted_baseline(data, weights, text=pool_text_signals(matcher, data, weights))
