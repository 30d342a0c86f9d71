"""The nightly batch's ranking-only path: many lists at once, the live search's order and scores, nothing else.

The nightly batch (:mod:`training.batch_match`) stores per list only who is on it, in which order,
with the ranking score and the shown score. The live search (:class:`matching.matcher.Matcher`)
computes those the same way and then builds what a person reads: explanations, kansen, near
misses, data quality, the "niet getoond" counts, a result object per row read from the database.
This module runs the same steps (:mod:`matching.pipeline`: the same eligibility, pool and ranker,
the list unserved: no exposure re-ranking) for a partition of owners at once and skips the rest:

* one catch-up of the indexes and one read of the kill switch per partition, one read of the
  owners' texts and one of their query vectors per partition, not per list;
* step 1 on the records that can be within reach only (:func:`matching.pipeline.candidate_reach`,
  :func:`~matching.pipeline.vacancy_reach`: nothing spread over every record) and step 2 among the
  eligible ones (:func:`matching.pipeline.pool_among`, the live search's step 2);
* BM25 per owner as the live search computes it (:meth:`matching.lexical.LexicalIndex.scores_for_terms`,
  the query's terms read for the whole partition at once): its best over every record scales the
  ranker's lexical feature, so every record is scored (a bound on each term's best weight pruned
  almost nothing: ``bench/batch_match_bm25_bound.py``);
* the ranker's features of every pool of the partition scored in one LightGBM call (a row's score
  does not depend on the other rows);
* the shown score (:func:`matching.display_score.scores`) only for the listed rows.

Candidates are ranked as for a viewer without a caseload (:data:`matching.disclosure.OUTSIDER`):
nobody's beperkingen shape the list and the ranking score is rounded as the live list rounds it for
that viewer; a client's vacancies as the live search ranks them. ``tests/matching/test_batch_rank.py``
holds both sides equal to the live search.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlmodel import Session

from matching import disclosure, display_score, oversight_state, pipeline
from matching.domain import utcnow
from matching.features import pair_matrix
from matching.index import VectorIndex
from matching.index_sync import Side
from matching.matcher import Matcher
from matching.pipeline import NO_FILTERS, Pool
from matching.ranker import WEIGHTED

RANKING_DECIMALS = 4  # the live lists' ranking score (a viewer's own clients, a client's vacancies)


@dataclass(frozen=True)
class RankedList:
    """One owner's list: database ids of the listed records, best first, with both scores."""

    owner: int  # the vacancy's (candidates) or client's (vacancies) database id
    ranked_by: dict[str, Any]  # the ranker's name and version, as the live list's ``rankedBy``
    ids: list[int]
    ranking_scores: list[float]  # as the live list shows ``rangschikkingsscore``
    scores: list[int]  # the shown score, 0–100


@dataclass(frozen=True)
class _Pooled:
    owner: int
    pool: Pool
    pairs: np.ndarray | None  # the ranker's features of every pool row (candidates under a learned ranker)


class NightlyRanking:
    """Ranking-only lists over a matcher's indexes (read-only: it writes nothing but cached query vectors)."""

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher

    def _ranker(self) -> Any:
        """The learned ranker that orders candidate lists now, or None (the kill switch says ``transparant``)."""
        with Session(self.matcher.engine) as session:
            mode = oversight_state.ranking_mode(session, self.matcher.settings.ranker.mode)["modus"]
        return self.matcher.ranker if mode == "model" else None

    def _texts(self, side: Side, owners: list[int], searched: Side) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Each owner's query vector and BM25 terms over ``searched``: one read of the owners' texts and one of
        their query vectors (the embedding cache) for the whole partition."""
        index = self.matcher.index
        texts = index.sides[side].source.many(owners)  # both texts of every owner, one read
        dense = index.vectors_for([texts[owner][0] for owner in owners], "query") if owners else []
        terms = index.sides[searched].lexical.asked([texts[owner][1] for owner in owners]) if owners else []
        yield from zip(dense, terms, strict=True)

    def _pool(
        self, reach: pipeline.Reach, searched: Side, ids: np.ndarray, query: tuple[np.ndarray, np.ndarray]
    ) -> Pool:
        """Step 2 among the eligible rows of ``reach`` alone."""
        side = self.matcher.index.sides[searched]
        vector, terms = query
        assert side.vectors is not None
        lexical = side.lexical.scores_for_terms(terms, ids)  # its best over every record scales the ranker's feature
        highest = float(lexical.max()) if len(lexical) else 0.0
        text = _text_query(side.vectors, ids, vector)
        return pipeline.pool_among(
            reach.eligible,
            reach.structured,
            text,
            lexical[reach.eligible],
            highest,
            self.matcher.settings.retrieval.pool_size,
        )

    def candidate_lists(self, vacancy_ids: list[int], top: int) -> list[RankedList]:
        """The top ``top`` candidates of each open vacancy of ``vacancy_ids`` (others are left out)."""
        matcher = self.matcher
        with matcher.index.lock:
            matcher.index.catch_up()
            clients, vacancies = matcher.index.arrays()
            ranker = self._ranker()
            owners = [v for v in vacancy_ids if v in vacancies.position and vacancies.open[vacancies.position[v]]]
            nobody = np.zeros(len(clients.ids), bool)  # OUTSIDER: no client is seen in full
            now, pooled = utcnow(), []
            for owner, query in zip(owners, self._texts("vacancies", owners, "clients"), strict=True):
                v_row = vacancies.position[owner]
                reach = pipeline.candidate_reach(clients, vacancies, v_row, NO_FILTERS, nobody)
                pool = self._pool(reach, "clients", clients.ids, query)
                pairs = self._pairs(pool, pool.rows, np.full(len(pool.rows), v_row), now, slice(None))
                pooled.append(_Pooled(owner, pool, pairs))
            scores = self._scores(pooled, ranker)
        ranked_by = ranker.describe() if ranker is not None else dict(WEIGHTED)
        return [
            self._listed(item, score, top, ranked_by, clients.ids) for item, score in zip(pooled, scores, strict=True)
        ]

    def vacancy_lists(self, client_ids: list[int], top: int) -> list[RankedList]:
        """The top ``top`` open vacancies of each client of ``client_ids`` (by the weighted score, as live)."""
        matcher = self.matcher
        with matcher.index.lock:
            matcher.index.catch_up()
            clients, vacancies = matcher.index.arrays()
            owners = [c for c in client_ids if c in clients.position]
            now, lists = utcnow(), []
            for owner, query in zip(owners, self._texts("clients", owners, "vacancies"), strict=True):
                c_row = clients.position[owner]
                reach = pipeline.vacancy_reach(clients, c_row, vacancies)
                pool = self._pool(reach, "vacancies", vacancies.ids, query)
                score = pipeline.weighted_score(pool, matcher.settings.retrieval)
                order = pipeline.order(score, top)
                rows = pool.rows[order]
                pairs = self._pairs(pool, np.full(len(rows), c_row), rows, now, order)
                listed = _ranked(owner, dict(WEIGHTED), vacancies.ids[rows], score[order], pairs, RANKING_DECIMALS)
                lists.append(listed)
        return lists

    def _pairs(
        self, pool: Pool, c_rows: np.ndarray, v_rows: np.ndarray, now: datetime, positions: np.ndarray | slice
    ) -> np.ndarray:
        """The features of the pool's pairs at ``positions`` (as the live search builds them)."""
        clients, vacancies = self.matcher.index.arrays()
        return pair_matrix(
            clients, c_rows, vacancies, v_rows, pool.dense_raw[positions], pool.lexical_raw[positions], now
        )

    def _scores(self, pooled: list[_Pooled], ranker: Any) -> list[np.ndarray]:
        """Each pool's scores: the learned ranker over every pool in one call, or each pool's weighted score."""
        if ranker is None:
            return [pipeline.weighted_score(item.pool, self.matcher.settings.retrieval) for item in pooled]
        sizes = [len(item.pool.rows) for item in pooled]
        if not sum(sizes):
            return [np.zeros(0) for _ in pooled]
        together = ranker.score(np.concatenate([item.pairs for item in pooled]))
        return np.split(together, np.cumsum(sizes)[:-1])

    @staticmethod
    def _listed(item: _Pooled, score: np.ndarray, top: int, ranked_by: dict[str, Any], ids: np.ndarray) -> RankedList:
        """A candidate list: ranking scores rounded as the live list rounds them for a viewer without a caseload."""
        order = pipeline.order(score, top)
        assert item.pairs is not None
        rows, decimals = item.pool.rows[order], disclosure.OUTSIDER_SCORE_DECIMALS
        return _ranked(item.owner, ranked_by, ids[rows], score[order], item.pairs[order], decimals)


def _ranked(
    owner: int, ranked_by: dict[str, Any], ids: np.ndarray, score: np.ndarray, pairs: np.ndarray, decimals: int
) -> RankedList:
    shown = display_score.scores(pairs).tolist() if len(pairs) else []
    return RankedList(owner, ranked_by, ids.tolist(), [round(float(value), decimals) for value in score], shown)


def _text_query(vectors: VectorIndex, ids: np.ndarray, vector: np.ndarray) -> pipeline.TextQuery:
    """As the live search's (:meth:`matching.matcher.Matcher._text_query`) from a vector made before; no BM25 per
    record (:func:`matching.pipeline.pool_among` takes it for the eligible rows)."""
    return pipeline.TextQuery(
        dense_top=lambda rows, k: vectors.nearest(vector, k, ids, rows),
        dense_raw=lambda rows: vectors.cosines(vector, ids, rows),
        lexical=np.zeros(0, np.float32),
    )
