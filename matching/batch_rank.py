"""The nightly batch's ranking-only path: many lists at once, the live search's order and scores, nothing else.

The nightly batch (:mod:`training.batch_match`) stores per list only who is on it, in which order,
with the ranking score and the shown score. The live search (:class:`matching.matcher.Matcher`)
computes those the same way and then builds what a person reads: explanations, kansen, near
misses, data quality, the "niet getoond" counts, a result object per row read from the database.
This module runs the same steps (:mod:`matching.pipeline`: the same eligibility, pool and ranker,
the list unserved: no exposure re-ranking) for a partition of owners at once and skips the rest:

* one catch-up of the indexes and one read of the kill switch per partition, one read of the
  owners' texts and one of their query vectors per partition, not per list;
* step 1 on the records within reach only (:func:`matching.batch_steps.candidates_eligible`,
  :func:`~matching.batch_steps.vacancies_eligible`, all the partition's owners at a place together: what
  :func:`~matching.hard_filters.candidate_reach` and :func:`~matching.hard_filters.vacancy_reach` find eligible,
  without the counts a person reads, each bucket's distance measured once and the records kept before they are
  sorted; the part that depends on the owner's place alone, once per place of the partition,
  :class:`~matching.batch_steps.PlaceReach`: partitions are cut by place) and step 2 among the eligible ones
  (:func:`_pool_among`: the live search's step 2, :func:`matching.pipeline.pool_among`, bit for bit);
* BM25 per owner bit for bit as the live search computes it, without copying the asked columns first
  (:class:`matching.lexical.Bm25Buffer`: :meth:`matching.lexical.LexicalIndex.scores_by_term`'s
  additions into one buffer per partition; the owner's terms from its own row of its side's index): the
  eligible rows read from the weights by record, and the best over every record (it scales the ranker's
  lexical feature) by MaxScore, which adds only the rarer terms' columns over every record and scores
  the few records that can still beat the best eligible one, the same bits as the full scatter; the exact
  scores of the rows in reach of a place for all its owners' queries in one sparse product
  (:class:`matching.batch_bm25.SharedBm25`, whose MaxScore starts from the best of those);
* each eligible row's cosine with the owner's query vector computed once, the vectors that the owners of a place
  ask gathered from the index once for all of them (:func:`_place_cosines`);
* the ranker's features of every pool of the partition built in one :func:`~matching.features.pair_matrix`
  call and scored in one LightGBM call (a row's features and score depend on its own pair alone);
* the shown score (:func:`matching.display_score.scores`) only for the listed rows, the partition's in one call.

Candidates are ranked as for a viewer without a caseload (:data:`matching.disclosure.OUTSIDER`):
nobody's beperkingen shape the list and the ranking score is rounded as the live list rounds it for
that viewer; a client's vacancies as the live search ranks them. ``tests/matching/test_batch_rank.py``
holds both sides equal to the live search.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlmodel import Session, col, select

from matching import (
    batch_steps,
    disclosure,
    display_score,
    hard_filters,
    identifier_query,
    oversight_state,
    pipeline,
    scoring,
)
from matching.batch_bm25 import SharedBm25
from matching.domain import utcnow
from matching.features import FEATURES, pair_matrix
from matching.identifier_query import GateQuery
from matching.index import VectorIndex, best
from matching.index_sync import TABLES, Side
from matching.lexical import Bm25Buffer, Seen
from matching.matcher import Matcher
from matching.pipeline import Pool
from matching.ranker import WEIGHTED
from matching.settings import RetrievalSettings

RANKING_DECIMALS = 4  # the live lists' ranking score (a viewer's own clients, a client's vacancies)
Query = tuple[np.ndarray, np.ndarray, str]  # an owner's query vector, BM25 terms and BM25 text (NightlyRanking._texts)
# Owners at one place share one product of their exact BM25 over the whole reach only from this many: fewer (most
# client places: about 3 clients per place and travel limit) score their eligible rows alone, and MaxScore starts
# from those and the terms' tops (bench/batch_match_place.py, bench/results/national-batch-place-s35-w1*.json)
SHARED_OWNERS = 8


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

    def _texts(self, side: Side, owners: list[int], searched: Side) -> Iterator[Query]:
        """Each owner's query vector, BM25 terms over ``searched`` and BM25 text (its identifiers are read from it,
        :func:`matching.identifier_query.gate_query`): one read of the owners' records and one of their query vectors
        (the embedding cache) for the whole partition.

        The terms are those of the owner's own row in its side's BM25 index, which holds the same text the live
        search asks with (:meth:`matching.lexical.LexicalIndex.terms_of`)."""
        index = self.matcher.index
        terms = index.sides[side].lexical.terms_of(owners)
        table = TABLES[side]
        with Session(index.engine) as session:
            rows = {row.id: row for row in session.exec(select(table).where(col(table.id).in_(owners)))}
        dense = (
            index.vectors_for([index._dense_input(side, rows[owner]) for owner in owners], "query") if owners else []
        )
        unindexed = [owner for owner, found in zip(owners, terms, strict=True) if found is None]
        if unindexed:  # not in its side's index (not expected after the catch-up): its text, as before
            texts = index.sides[side].source.many(unindexed)
            asked = dict(
                zip(unindexed, index.sides[searched].lexical.asked([texts[o][1] for o in unindexed]), strict=True)
            )
            terms = [asked[owner] if found is None else found for owner, found in zip(owners, terms, strict=True)]
        texts = [index.render(side, rows[owner], lexical=True) for owner in owners]
        yield from zip(dense, terms, texts, strict=True)  # type: ignore[misc]

    def _pool(
        self,
        reach: hard_filters.Eligible,
        bm25: SharedBm25,
        terms: np.ndarray,
        shared: Seen,
        text: _Dense,
        gate: GateQuery | None,
    ) -> Pool:
        """Step 2 among the eligible rows of ``reach`` alone; ``shared``: the rows in reach of the owner's place
        and its query's exact BM25 at them (:func:`_shared_exact`); ``text``: its cosines (:func:`_place_cosines`);
        ``gate``: its identifiers (:meth:`_gates`; None where a learned ranker orders the list)."""
        # the best over every record scales the feature
        lexical, highest = bm25.scores(terms, reach.eligible, shared)
        retrieval = self.matcher.settings.retrieval
        text = dataclasses.replace(text, gate=gate)
        return _pool_among(reach.eligible, reach.structured, text, lexical, highest, retrieval.pool_size, retrieval)

    def _gates(
        self, side: Side, owners: list[int], searched: Side, ids: np.ndarray, bm25: SharedBm25, queries: list[Query]
    ) -> list[GateQuery]:
        """Per owner, its query's part of the rare-identifier gate over ``searched`` (``ids``: its arrays' ids), as
        the live search makes it (:func:`matching.identifier_query.gate_query`): its held and negated identifiers and
        identifier-token terms from its own row on its ``side`` (:meth:`~matching.identifier_side.IdentifierSide.known`,
        the same as its text gives: not read again), the identifier-token BM25 read by one buffer for the partition."""
        state = self.matcher.index.sides[searched]
        buffer = Bm25Buffer(state.identifiers.bm25, ids)
        known = self.matcher.index.sides[side].identifiers.known(owners)
        texts, asked = [text for _, _, text in queries], [terms for _, terms, _ in queries]
        free = identifier_query.free_terms_of(texts, asked, state.lexical)
        return [
            identifier_query.gate_query(text, terms, free_terms, state.identifiers, ids, bm25, buffer, own)
            for (_, terms, text), free_terms, own in zip(queries, free, known, strict=True)
        ]

    def _texts_at_places(
        self,
        searched: Side,
        ids: np.ndarray,
        reaches: list[np.ndarray],
        eligible: list[hard_filters.Eligible],
        queries: list[Query],
    ) -> list[_Dense]:
        """Per owner, its query's cosines at its eligible rows (``ids``: the searched side's arrays' ids): per place
        (``reaches``, as :func:`_shared_exact` takes them), the vectors in reach gathered once for all the owners
        there (:func:`_place_cosines`)."""
        vectors = self.matcher.index.sides[searched].vectors
        assert vectors is not None
        texts: dict[int, _Dense] = {}
        for members in _by_place(reaches).values():
            found = _place_cosines(
                vectors,
                ids,
                reaches[members[0]],
                [eligible[at].eligible for at in members],
                [queries[at][0] for at in members],
            )
            texts.update(zip(members, found, strict=True))
        return [texts[at] for at in range(len(reaches))]

    def candidate_lists(self, vacancy_ids: list[int], top: int) -> list[RankedList]:
        """The top ``top`` candidates of each open vacancy of ``vacancy_ids`` (others are left out)."""
        matcher = self.matcher
        with matcher.index.lock:
            matcher.index.catch_up()
            clients, vacancies = matcher.index.arrays()
            ranker = self._ranker()
            owners = [v for v in vacancy_ids if v in vacancies.position and vacancies.open[vacancies.position[v]]]
            now = utcnow()
            bm25 = SharedBm25(matcher.index.sides["clients"].lexical, clients.ids)
            places = batch_steps.PlaceReach()  # the partition's owners at one place share their reach
            queries = list(self._texts("vacancies", owners, "clients"))
            rows = [vacancies.position[owner] for owner in owners]
            reaches = [places.candidates(clients, vacancies, v_row)[0] for v_row in rows]
            shared = _shared_exact(bm25, reaches, queries)
            # no caseload, no filters
            eligible = batch_steps.candidates_eligible(clients, vacancies, rows, places)
            texts = self._texts_at_places("clients", clients.ids, reaches, eligible, queries)
            # a learned ranker orders the lists from the raw text features: the weighted score's fused text signals
            # are not read then, so no owner's gate is made (its pool's text signals are the closed branch's)
            gates = (
                self._gates("vacancies", owners, "clients", clients.ids, bm25, queries)
                if ranker is None
                else [None] * len(owners)
            )
            pools = [
                self._pool(reach, bm25, query[1], place, text, gate)
                for reach, query, place, text, gate in zip(eligible, queries, shared, texts, gates, strict=True)
            ]
            v_rows = [np.full(len(pool.rows), v_row) for pool, v_row in zip(pools, rows, strict=True)]
            # every pool row's features in one call: a row's features depend on its own pair alone
            pairs = self._pairs(pools, [pool.rows for pool in pools], v_rows, now, [slice(None)] * len(pools))
            pooled = [_Pooled(owner, pool, found) for owner, pool, found in zip(owners, pools, pairs, strict=True)]
            scores = self._scores(pooled, ranker)
        ranked_by = ranker.describe() if ranker is not None else dict(WEIGHTED)
        orders = [pipeline.order(score, top) for score in scores]
        shown = _shown([item.pairs[order] for item, order in zip(pooled, orders, strict=True)])  # type: ignore[index]
        decimals = disclosure.OUTSIDER_SCORE_DECIMALS  # rounded as the live list rounds it without a caseload
        return [
            _ranked(item.owner, ranked_by, clients.ids[item.pool.rows[order]], score[order], listed, decimals)
            for item, score, order, listed in zip(pooled, scores, orders, shown, strict=True)
        ]

    def vacancy_lists(self, client_ids: list[int], top: int) -> list[RankedList]:
        """The top ``top`` open vacancies of each client of ``client_ids`` (by the weighted score, as live)."""
        matcher = self.matcher
        with matcher.index.lock:
            matcher.index.catch_up()
            clients, vacancies = matcher.index.arrays()
            owners = [c for c in client_ids if c in clients.position]
            now, pools, c_rows, orders, scores = utcnow(), [], [], [], []
            bm25 = SharedBm25(matcher.index.sides["vacancies"].lexical, vacancies.ids)
            places = batch_steps.PlaceReach()
            queries = list(self._texts("clients", owners, "vacancies"))
            rows = [clients.position[owner] for owner in owners]
            places.plan_limits(clients, rows)  # each place's vacancies in reach found once, at its widest limit
            reaches = [places.vacancies(clients, c_row, vacancies)[0] for c_row in rows]
            shared = _shared_exact(bm25, reaches, queries)
            eligible = batch_steps.vacancies_eligible(clients, rows, vacancies, places)
            texts = self._texts_at_places("vacancies", vacancies.ids, reaches, eligible, queries)
            gates = self._gates("clients", owners, "vacancies", vacancies.ids, bm25, queries)
            for c_row, reach, query, place, text, gate in zip(
                rows, eligible, queries, shared, texts, gates, strict=True
            ):
                pool = self._pool(reach, bm25, query[1], place, text, gate)
                score = pipeline.weighted_score(pool, matcher.settings.retrieval)
                order = pipeline.order(score, top)
                pools.append(pool)
                c_rows.append(np.full(len(order), c_row))
                orders.append(order)
                scores.append(score[order])
            pairs = self._pairs(
                pools, c_rows, [pool.rows[order] for pool, order in zip(pools, orders, strict=True)], now, orders
            )
        shown = _shown(pairs)
        return [
            _ranked(owner, dict(WEIGHTED), vacancies.ids[pool.rows[order]], score, listed, RANKING_DECIMALS)
            for owner, pool, order, score, listed in zip(owners, pools, orders, scores, shown, strict=True)
        ]

    def _pairs(
        self,
        pools: list[Pool],
        c_rows: list[np.ndarray],
        v_rows: list[np.ndarray],
        now: datetime,
        positions: list[np.ndarray] | list[slice],
    ) -> list[np.ndarray]:
        """Per pool, the features of its pairs at ``positions`` (as the live search builds them), all pools'
        pairs in one :func:`~matching.features.pair_matrix` call: each row depends on its own pair alone."""
        clients, vacancies = self.matcher.index.arrays()
        sizes = [len(rows) for rows in c_rows]
        if not sum(sizes):
            return [np.zeros((0, len(FEATURES)), np.float32) for _ in pools]
        dense = [pool.dense_raw[at] for pool, at in zip(pools, positions, strict=True)]
        lexical = [pool.lexical_raw[at] for pool, at in zip(pools, positions, strict=True)]
        together = pair_matrix(
            clients,
            np.concatenate(c_rows),
            vacancies,
            np.concatenate(v_rows),
            np.concatenate(dense),
            np.concatenate(lexical),
            now,
        )
        return np.split(together, np.cumsum(sizes)[:-1])

    def _scores(self, pooled: list[_Pooled], ranker: Any) -> list[np.ndarray]:
        """Each pool's scores: the learned ranker over every pool in one call, or each pool's weighted score."""
        if ranker is None:
            return [pipeline.weighted_score(item.pool, self.matcher.settings.retrieval) for item in pooled]
        sizes = [len(item.pool.rows) for item in pooled]
        if not sum(sizes):
            return [np.zeros(0) for _ in pooled]
        clients, _ = self.matcher.index.arrays()
        rows = np.concatenate([item.pool.rows for item in pooled])  # the notes column's clients, as live
        pairs = np.concatenate([item.pairs for item in pooled])
        together = ranker.score(pairs, clients.ids[rows], clients.updated_at[rows])
        return np.split(together, np.cumsum(sizes)[:-1])


def _by_place(reaches: list[np.ndarray]) -> dict[int, list[int]]:
    """The owners (positions) per place: ``reaches`` holds one array per place, the same object for the owners that
    share it (:class:`~matching.batch_steps.PlaceReach`)."""
    at_place: dict[int, list[int]] = {}
    for position, rows in enumerate(reaches):
        at_place.setdefault(id(rows), []).append(position)
    return at_place


def _shared_exact(bm25: SharedBm25, reaches: list[np.ndarray], queries: list[Query]) -> list[Seen]:
    """Per owner, the rows in reach of its place (``reaches``, :func:`_by_place`), its query's exact BM25 at them
    (per place of at least :data:`SHARED_OWNERS` owners, every owner's in one product:
    :meth:`~matching.batch_bm25.SharedBm25.shared_exact`; else None: each owner's eligible rows scored alone) and the
    terms' tops: MaxScore's start (:data:`matching.lexical.Seen`)."""
    shared: list[Seen] = [(rows, None, bm25.tops) for rows in reaches]
    for members in _by_place(reaches).values():
        if len(members) < SHARED_OWNERS:
            continue
        found = bm25.shared_exact(reaches[members[0]], [queries[at][1] for at in members])
        if found is not None:
            columns = np.ascontiguousarray(found.T)
            for column, at in zip(columns, members, strict=True):
                shared[at] = (reaches[at], column, bm25.tops)
    return shared


def _shown(pairs: list[np.ndarray]) -> list[list[int]]:
    """The shown score of each listed row, every list's rows in one call (a row's score is its own)."""
    sizes = [len(found) for found in pairs]
    if not sum(sizes):
        return [[] for _ in pairs]
    together = display_score.scores(np.concatenate(pairs)).tolist()
    ends = np.cumsum(sizes).tolist()
    return [together[end - size : end] for size, end in zip(sizes, ends, strict=True)]


def _ranked(
    owner: int, ranked_by: dict[str, Any], ids: np.ndarray, score: np.ndarray, shown: list[int], decimals: int
) -> RankedList:
    return RankedList(owner, ranked_by, ids.tolist(), [round(float(value), decimals) for value in score], shown)


# vectors gathered at a time (768 KB of 384-dim float32): multiplied while still in the core's L2 cache (2 MB here).
# 2048 rows (3 MB) left it before the product read them back: on a busy machine (load 9) 512 took 21-23 % less CPU
# for the cosines (median of 5 passes; the best pass 1-3 % less), 256 and 1024 no better
# (bench/batch_dense_gather.py, bench/results/national-batch-dense-gather-bg.json)
CHUNK_ROWS = 512
# an owner that asks at least this share of a gathered chunk has the whole chunk multiplied (a row's cosine is its own
# einsum, whichever rows are beside it) instead of its rows copied out first: session 40's probe, 0.25 and 0.5 each
# 0.11-0.12 ms less a list (bench/results/national-batch-place-s40-parts.json, "cos")
WHOLE_CHUNK_SHARE = 0.25


@dataclass(frozen=True)
class _Dense:
    """One owner's cosines at its ``eligible`` rows (0 where a record has no vector, as live), ``embedded``: the
    positions of those with a vector. Read as the live search's text query (:class:`matching.pipeline.TextQuery`'s
    ``dense_top`` and ``dense_raw``), and by position in :func:`_pool_among`."""

    eligible: np.ndarray
    cosines: np.ndarray
    embedded: np.ndarray
    gate: GateQuery | None = None  # the query's identifiers (the live text query's ``gate``), set per owner

    def top_at(self, k: int) -> np.ndarray:
        """The positions in ``eligible`` of :meth:`dense_top`'s rows, as a set (ascending)."""
        return self.embedded[scoring.top_positions(self.cosines[self.embedded], k)]

    def dense_top(self, rows: np.ndarray, k: int) -> np.ndarray:
        assert rows is self.eligible  # asked among the eligible rows it was made for
        return self.eligible[self.embedded[best(self.cosines[self.embedded], k)]]

    def dense_raw(self, rows: np.ndarray) -> np.ndarray:
        return self.cosines[np.searchsorted(self.eligible, rows)]


def _place_cosines(
    vectors: VectorIndex, ids: np.ndarray, reach: np.ndarray, eligible: list[np.ndarray], queries: list[np.ndarray]
) -> list[_Dense]:
    """Per owner at one place, as the live search's text query (:meth:`matching.matcher.Matcher._text_query`)
    from a vector made before (``queries``), for its ``eligible`` rows (ascending, within ``reach``, the rows in
    reach of the place: ascending) alone; no BM25 per record (:func:`_pool_among` takes it for the eligible rows).

    Each eligible row's cosine is computed once (the live search's :meth:`VectorIndex.nearest` computes them and
    then the pool's again), with the same ``einsum`` per row as :meth:`VectorIndex.cosines` (a row's value depends
    on its own vector alone). The vectors some owner of the place asks are gathered from the index once for all of
    them, :data:`CHUNK_ROWS` at a time, and each owner's among them multiplied while the chunk is still in cache
    (the whole chunk where the owner asks :data:`WHOLE_CHUNK_SHARE` of it or more): gathering every owner's eligible
    vectors from memory again was most of the cosines' CPU, and the owners of a candidate list's place (about 50 at
    national size) ask mostly the same clients."""
    at = vectors.positions(ids)[reach]
    asked = np.zeros(len(reach), bool)  # per row in reach: has a vector and some owner asks it
    embedded = []  # per owner: its eligible rows with a vector (records not yet embedded are left out of the top)
    for rows in eligible:
        among = np.searchsorted(reach, rows)
        found = np.flatnonzero(at[among] >= 0)
        asked[among[found]] = True
        embedded.append((found, among[found]))
    union = np.flatnonzero(asked)
    number = np.cumsum(asked) - 1  # a row's place in ``union``
    edges = np.append(np.arange(0, len(union), CHUNK_ROWS), len(union))
    wanted = []  # per owner: (positions in eligible, places in ``union``, where each chunk of ``union`` begins)
    for found, among in embedded:
        chunked = number[among]
        wanted.append((found, chunked, np.searchsorted(chunked, edges).tolist()))
    cosines = [np.zeros(len(rows), np.float32) for rows in eligible]  # 0 for a record not (yet) embedded, as live
    if len(union):
        stored, vectors_asked = vectors._stored(), [np.asarray(vector, np.float32) for vector in queries]
        for chunk, start in enumerate(edges[:-1].tolist()):
            gathered = stored[at[union[start : start + CHUNK_ROWS]]]
            whole = WHOLE_CHUNK_SHARE * len(gathered)
            for (found, chunked, bounds), out, query in zip(wanted, cosines, vectors_asked, strict=True):
                low, high = bounds[chunk], bounds[chunk + 1]
                if low == high:
                    continue
                if high - low == len(gathered):
                    out[found[low:high]] = np.einsum("ij,j->i", gathered, query)
                elif high - low >= whole:
                    out[found[low:high]] = np.einsum("ij,j->i", gathered, query)[chunked[low:high] - start]
                else:
                    out[found[low:high]] = np.einsum("ij,j->i", gathered[chunked[low:high] - start], query)
    return [
        _Dense(rows, found, positions) for rows, found, (positions, _, _) in zip(eligible, cosines, wanted, strict=True)
    ]


def _pool_among(
    eligible: np.ndarray,
    structured: dict[str, np.ndarray],
    text: _Dense,
    lexical: np.ndarray,
    highest: float,
    pool_size: int,
    weights: RetrievalSettings | None = None,
) -> Pool:
    """:func:`matching.pipeline.pool_among` (the live search's step 2) for one owner's ``eligible`` rows
    (ascending, no repeats) and their cosines, the same pool bit for bit with less work on a few hundred rows: the
    three tops as sets of positions (:func:`matching.scoring.top_positions`: their order is not read) marked on one
    mask over the eligible rows, whose marked positions are the pool in row order (no ``np.unique``, no
    ``searchsorted``), and the text signals as the live search fuses them
    (:func:`matching.identifier_query.text_signals` over ``text.gate``, for ``weights``; None: the defaults).
    ``tests/matching/test_batch_pool_among.py`` holds it equal to ``pool_among``."""
    if len(eligible) <= pool_size:  # every eligible row is in BM25's top, so in the pool
        at = np.arange(len(eligible))
    else:
        chosen = np.zeros(len(eligible), bool)
        chosen[text.top_at(pool_size)] = True
        chosen[scoring.top_positions(lexical, pool_size)] = True
        chosen[scoring.top_positions(structured["competences"] + structured["occupation"], pool_size)] = True
        at = np.flatnonzero(chosen)
    rows = eligible[at].astype(np.int64)
    dense_raw = text.cosines[at]
    lexical_raw = lexical[at] / highest if highest > 0 else np.zeros(len(rows), np.float32)
    weights = RetrievalSettings() if weights is None else weights
    dense, lexical_signal = identifier_query.text_signals(text.gate, rows, dense_raw, lexical[at], weights)
    signals = {"dense": dense, "lexical": lexical_signal, **{name: values[at] for name, values in structured.items()}}
    return Pool(rows, dense_raw, np.asarray(lexical_raw, np.float32), signals)
