"""The search pipeline on arrays, shared by both directions: filter → pool → score → order.

Nothing here reads the database or runs a model: the façade (:class:`matching.matcher.Matcher`) builds
the arrays, encodes the query and explains the result; these functions take numpy arrays and are
tested on seeded ones (``tests/matching/test_pipeline.py``).

1. **filter**: hard filters over *all* records of the searched side (hours overlap, within the
   client's travel wish, workable working times, vacancy open, no hard beperking conflict where the
   viewer sees beperkingen, and a consulent's own filters): :mod:`matching.hard_filters`;
2. **pool**: the top ``pool_size`` eligible records by each of dense similarity, BM25 and structured
   fit — so a profile with an empty text is still found by its structured fields, and one with no
   coded fields by its text;
3. **score**: the transparent weighted score (:mod:`matching.scoring`) over the pool, its text signals fused by the
   rare-identifier gate over the pool rows (:mod:`matching.identifier_query`), or a learned ranker's;
4. **order**: best first, re-ranked for exposure when the list is shown to a person
   (:mod:`matching.exposure`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from matching import exposure, identifier_query, scoring
from matching.hard_filters import Listing
from matching.identifier_query import GateQuery
from matching.index import best
from matching.settings import RetrievalSettings


@dataclass(frozen=True)
class TextQuery:
    """The text side of one query, over every record (row) of the searched side.

    Attributes:
        dense_top: ``(eligible rows, k)`` → the ``k`` eligible rows nearest the query (the vector index).
        dense_raw: rows → their raw cosine with the query.
        lexical: raw BM25 of the query per row, every row (0 where no word matches), unless ``lexical_among``:
        lexical_among: eligible rows → (their raw BM25, its best over every row): the same numbers, read alone.
        gate: the query's identifiers and negation-free BM25 (:class:`matching.identifier_query.GateQuery`); None:
            the gate stays closed, over the ordinary BM25.
    """

    dense_top: Callable[[np.ndarray, int], np.ndarray]
    dense_raw: Callable[[np.ndarray], np.ndarray]
    lexical: np.ndarray
    lexical_among: Callable[[np.ndarray], tuple[np.ndarray, float]] | None = None
    gate: GateQuery | None = None

    @classmethod
    def exact(cls, vectors: np.ndarray, query: np.ndarray, lexical: np.ndarray) -> TextQuery:
        """By brute force over ``vectors`` (one unit vector per row): the oracle the index must equal."""
        cosine = (vectors @ query).astype(np.float32)
        return cls(
            dense_top=lambda rows, k: rows[np.argsort(-cosine[rows], kind="stable")[:k]],
            dense_raw=lambda rows: cosine[rows],
            lexical=np.asarray(lexical, np.float32),
        )


@dataclass(frozen=True)
class Pool:
    """Step 2: the rows that are scored, with their raw text scores and the weighted score's signals."""

    rows: np.ndarray
    dense_raw: np.ndarray  # raw cosine per pool row (a ranker feature)
    lexical_raw: np.ndarray  # BM25 per pool row divided by the best of *all* records (a ranker feature)
    signals: dict[str, np.ndarray]  # per pool row, each in [0, 1]


def listed_pool(listing: Listing, text: TextQuery, pool_size: int, weights: RetrievalSettings | None = None) -> Pool:
    """Step 2 from step 1 as a list reads it (:class:`matching.hard_filters.Listing`): the union of the top
    ``pool_size`` eligible rows by dense, by BM25 and by structured fit (:func:`pool_among`)."""
    found = _lexical_among(text, listing.eligible)
    return pool_among(listing.eligible, listing.structured, text, *found, pool_size, weights)


def _lexical_among(text: TextQuery, eligible: np.ndarray) -> tuple[np.ndarray, float]:
    """The raw BM25 of the ``eligible`` rows and its best over every row."""
    if text.lexical_among is not None:
        return text.lexical_among(eligible)
    return text.lexical[eligible], float(text.lexical.max(initial=0.0))


def pool_among(
    eligible: np.ndarray,
    structured: dict[str, np.ndarray],
    text: TextQuery,
    lexical: np.ndarray,
    highest: float,
    pool_size: int,
    weights: RetrievalSettings | None = None,
) -> Pool:
    """Step 2 among the ``eligible`` rows (ascending): the union of the top ``pool_size`` by dense, by BM25 and by fit.

    ``structured`` and ``lexical`` (raw BM25) are per eligible row; ``highest`` is the best BM25 of
    the query over every record (``text.lexical`` is not read). The raw text values are the ranker's
    features (as :mod:`training.dataset` computes them); the weighted score's text signals are the
    rare-identifier gate's fusion over the pool rows (:func:`matching.identifier_query.text_signals`,
    ``text.gate``), for the weights it is weighed with (``weights``; None: the defaults).
    """
    fit = structured["competences"] + structured["occupation"]
    top_dense = text.dense_top(eligible, pool_size) if len(eligible) else eligible
    top_lexical = eligible[best(lexical, pool_size)]
    top_structured = eligible[best(fit, pool_size)]
    rows = np.unique(np.concatenate([top_dense, top_lexical, top_structured])).astype(np.int64)
    at = np.searchsorted(eligible, rows)
    dense_raw = np.asarray(text.dense_raw(rows), np.float32) if len(rows) else np.zeros(0, np.float32)
    lexical_raw = lexical[at] / highest if highest > 0 else np.zeros(len(rows), np.float32)
    weights = RetrievalSettings() if weights is None else weights
    dense, lexical_signal = identifier_query.text_signals(text.gate, rows, dense_raw, lexical[at], weights)
    signals = {"dense": dense, "lexical": lexical_signal, **{name: values[at] for name, values in structured.items()}}
    return Pool(rows, dense_raw, np.asarray(lexical_raw, np.float32), signals)


def weighted_score(pool: Pool, weights: RetrievalSettings) -> np.ndarray:
    """Step 3 without a learned ranker: the transparent weighted score of every pool row."""
    return scoring.combine(pool.signals, weights)


@dataclass(frozen=True)
class Exposure:
    """What re-orders a shown list (:mod:`matching.exposure`), per pool row: the exposure so far
    (:func:`~matching.exposure.rerank` at ``strength``), and the trede whose merit share of the top
    10 is held to at least ``floor`` (:func:`~matching.exposure.merit_floor`; 0: off). ``amortised``: for a
    model that carries Platt parameters, the amortised floor by expected merit
    (:class:`matching.floor_state.ServedFloor`) takes the merit floor's place."""

    shown_before: np.ndarray
    trede: np.ndarray
    strength: float
    mean: float
    floor: float = 0.0
    amortised: Any = None


def order(score: np.ndarray, top: int, exposed: Exposure | None = None) -> np.ndarray:
    """Step 4: positions into the pool, best first, at most ``top``."""
    if exposed is None or (exposed.strength <= 0 and exposed.floor <= 0):
        return np.argsort(-score, kind="stable")[:top]
    ranked = exposure.rerank(
        score, exposed.shown_before, exposed.trede, strength=exposed.strength, mean_exposure=exposed.mean
    )
    if exposed.amortised is not None:
        return exposed.amortised.order(ranked, score)[:top]
    return exposure.merit_floor(ranked, score, exposed.trede, floor=exposed.floor)[:top]
