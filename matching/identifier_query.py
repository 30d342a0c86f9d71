"""The rare-identifier gate in a search: the fusion decided in session 46 (:mod:`matching.identifier_gate`, (L)+(N)
with (H)'s narrower closed tie-break) over a search's pool rows, in place of :func:`matching.scoring.text_signals`.

Per query (:func:`gate_query`): the identifiers its BM25 text holds and negates
(:func:`matching.identifiers.identifiers`), the BM25 of its :func:`~matching.identifiers.negation_free` text (the
ordinary BM25 where that asks the same terms), and, where it holds identifiers, the identifier-token BM25 and the pool
rows' held identifiers (:class:`matching.identifier_side.IdentifierSide` of the searched side). Over the pool rows
(:func:`text_signals`): the gate (:func:`~matching.identifier_gate.rare_gate_opens`: the searched documents are the
pool rows, so an identifier is rare among them and the gate's "first document" is the first pool row by identifier
BM25; closed, a pool row holding an identifier the query negates gets no lift from the negation-free BM25), then
:func:`matching.identifier_gate.text_signals`: the two [0, 1] signals :func:`matching.scoring.combine`
weighs. The pool's membership and the ranker's features (``dense_raw``, ``lexical_raw``) do not read any of this.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from matching import identifier_gate
from matching.identifier_side import HeldRows, IdentifierSide
from matching.identifiers import identifiers, negation_free
from matching.lexical import Bm25Buffer, LexicalIndex
from matching.settings import RetrievalSettings
from matching.side_state import SideState

RowScores = Callable[[np.ndarray], np.ndarray]  # rows (ascending) → a query's BM25 at them, float32


@dataclass(frozen=True)
class GateQuery:
    """One query's part of the gate, over the searched side's rows.

    Attributes:
        held, negated: the identifiers the query's text holds and says are not held.
        identifier_bm25: rows → the identifier-token BM25 of the query's text at them (read only where ``held``).
        held_by: rows → their held identifiers.
        free_bm25: rows → the BM25 of the query's negation-free text; None: the same terms as the query's own.
    """

    held: frozenset[str]
    negated: frozenset[str]
    identifier_bm25: RowScores
    held_by: Callable[[np.ndarray], HeldRows]
    free_bm25: RowScores | None = None


Known = tuple[frozenset[str], frozenset[str], np.ndarray]  # a query record's held, negated, identifier-token terms


def free_terms_of(texts: Sequence[str], terms: Sequence[np.ndarray], lexical: LexicalIndex) -> list[np.ndarray | None]:
    """Per query, the BM25 terms of its negation-free text, None where they are ``terms`` (its text's own): the
    changed texts read by ``lexical`` in one call (the night asks a partition's at once)."""
    free = [negation_free(text) for text in texts]
    changed = [at for at, (one, text) in enumerate(zip(free, texts, strict=True)) if one != text]
    asked = dict(zip(changed, lexical.asked([free[at] for at in changed]) if changed else [], strict=True))
    return [None if at not in asked or np.array_equal(asked[at], own) else asked[at] for at, own in enumerate(terms)]


def gate_query(
    text: str,
    terms: np.ndarray,
    free_terms: np.ndarray | None,
    side: IdentifierSide,
    ids: np.ndarray,
    bm25: Bm25Buffer,
    identifier_buffer: Bm25Buffer | None = None,
    known: Known | None = None,
) -> GateQuery:
    """The :class:`GateQuery` of a query whose BM25 text is ``text`` (``terms``: its BM25 terms; ``free_terms``: its
    negation-free text's, :func:`free_terms_of`) over the searched side's records ``ids`` (the arrays' ids,
    ascending), whose ordinary BM25 ``bm25`` reads. The identifier-token BM25
    is read as ``bm25`` reads the ordinary one: by ``identifier_buffer`` (a :class:`matching.lexical.Bm25Buffer` of
    ``side.bm25``, the nightly batch's, one per partition), or one made when read (the live search: only for a query
    that holds identifiers). The same bits either way (:meth:`Bm25Buffer.scores`). ``known``: the query record's
    held and negated identifiers and identifier-token terms as its own side holds them
    (:meth:`matching.identifier_side.IdentifierSide.known`: what ``text`` gives, not read again)."""
    if known is None:
        found = identifiers(text)
        held, negated = frozenset(found[0]), frozenset(found[1])
        identifier_terms = side.bm25.asked([text])[0] if held else terms[:0]
    else:
        held, negated, identifier_terms = known

    def identifier_bm25(rows: np.ndarray) -> np.ndarray:
        buffer = Bm25Buffer(side.bm25, ids) if identifier_buffer is None else identifier_buffer
        return buffer.at(identifier_terms, rows)

    return GateQuery(
        held,
        negated,
        identifier_bm25,
        lambda rows: side.held.among(ids[rows]),
        None if free_terms is None else lambda rows: bm25.at(free_terms, rows),
    )


def record_query(
    asking: SideState, searched: SideState, query_id: int, ids: np.ndarray
) -> tuple[Bm25Buffer, np.ndarray, GateQuery]:
    """A query record of side ``asking`` against the records ``ids`` of side ``searched`` (its arrays' ids, ascending),
    as a live search reads it: the searched side's BM25 (:class:`matching.lexical.Bm25Buffer` over ``ids``), the query
    text's BM25 terms, and its :class:`GateQuery` with its identifiers as its own row holds them (as the night reads
    them)."""
    bm25, text = Bm25Buffer(searched.lexical, ids), asking.lexical_texts[query_id]
    terms = searched.lexical.asked([text])[0]
    own = asking.identifiers.known([query_id])[0]
    free_terms = free_terms_of([text], [terms], searched.lexical)[0]
    return bm25, terms, gate_query(text, terms, free_terms, searched.identifiers, ids, bm25, None, own)


def text_signals(
    gate: GateQuery | None,
    rows: np.ndarray,
    dense_raw: np.ndarray,
    bm25: np.ndarray,
    weights: RetrievalSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """The pool ``rows``' dense and lexical signals by the gate's fusion: ``dense_raw`` their cosines, ``bm25`` their
    ordinary BM25 (raw or scaled: the fusion reads z-scores, its order and ratios). ``gate`` None (a query with no
    identifier side, as :meth:`matching.pipeline.TextQuery.exact`): the closed gate over the ordinary BM25."""
    dense_raw = np.asarray(dense_raw, np.float32)
    if not len(rows):
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    free, identifier, opened = np.asarray(bm25, np.float32), np.zeros(len(rows), np.float32), False
    if gate is not None:
        free = free if gate.free_bm25 is None else gate.free_bm25(rows)
        held = gate.held_by(rows) if gate.held or gate.negated else None
        if held is not None and gate.negated:
            free = identifier_gate.no_negated_lift(free, held.holds_any(gate.negated))
        if held is not None and gate.held and identifier_gate.could_open(gate.held, held.holding, len(rows)):
            identifier = gate.identifier_bm25(rows)  # read only where the counts leave the gate a chance
            opened = identifier_gate.rare_gate_opens(gate.held, gate.negated, held, identifier, held.holding)
    return identifier_gate.text_signals(dense_raw, identifier, free, opened, weights)
