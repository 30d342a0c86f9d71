"""The rare-identifier gate and the fusion decided behind it: dense and BM25 combined so that an exactly matched rare
identifier counts as a fact, and BM25 otherwise only reorders what dense also finds.

Decided in the README ("Fusing dense and lexical, on sets we did not tune on", the paragraphs "a gate only for rare
identifiers", "Session 42, second round: candidates fixed before a seventeenth set", "Session 43: candidates fixed
before an eighteenth set" and "Session 46: the rule for (L)+(N) against (w)", the last one's decision), as candidate
(L)+(N) of ``bench/fusion_taxonomy8.py``: session 43's (w) with a language level never the rare identifier on its own
(L) and no closed lift for a document holding an identifier the query negates (N); then, on a twentieth set, (H) of
``bench/fusion_taxonomy9.py``: the closed tie-break half as wide (README "Session 46: the twentieth set, and (H)
served"). Per query, over the searched documents (:func:`fused_scores`):

* **open** (:func:`rare_gate_opens`): the query holds identifiers (:func:`matching.identifiers.identifiers`), the
  first document of the identifier-token BM25 (:class:`IdentifierAnalyzer`) holds every one of them and none of the
  query's negated ones, and one of them that is no language level ``taal:`` (:data:`LANGUAGE_OPENS`, (L)) is held by
  at most :data:`OPEN_RARITY` of the searched documents: then ``z(dense) + 2.0 · z(identifier BM25)``;
* **closed**, with the BM25 of the query's :func:`matching.identifiers.negation_free` text (``NF``), 0 on documents
  holding an identifier the query negates (:func:`no_negated_lift`, (N)): where NF's first is dense's first (or NF
  scores nothing) the served fusion over NF (``z(dense) + 0.375 · agreement · z(NF)``, as
  :func:`matching.scoring.fuse` ranks); where they point apart, dense leads and NF only breaks near ties:
  ``z(dense) + 0.125 · NF / max(NF)`` (:data:`TIE_MARGIN`).

The functions take numpy arrays (one query's scores over its searched documents) and identifier sets; the
identifier-token index (:class:`IdentifierIndex`) is a :class:`matching.lexical.LexicalIndex` over other tokens. In
serving (:mod:`matching.identifier_query`) the searched documents are a search's pool rows.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import numpy as np

from matching import scoring
from matching.gendered import fold
from matching.identifiers import LANGUAGE
from matching.lexical import DutchAnalyzer, LexicalIndex
from matching.settings import RetrievalSettings

OPEN_RARITY = 0.1  # the gate's rare identifier: held by at most this share of the searched documents
LANGUAGE_OPENS = False  # (L): a language level alone never opens the gate (True: session 43's (w))
OPEN_WEIGHT = 2.0  # the identifier BM25's weight (dense's being 1) when the gate opens
TIE_MARGIN = 0.125  # closed, NF's first not dense's: NF reorders only documents this close in dense's z-units ((H))
MARK = "#"  # an identifier token's prefix: the ordinary tokens are [a-z0-9]+, so the two never meet
CODE = re.compile(r"[^\W_]+(?:-[^\W_]+)*")  # a word, or words a hyphen joins ("AZ-104", "VCA-VOL")
LETTER_WORD = re.compile(r"[^\W\d_]+")
CAPITALS_MIN_WORDS = 3  # a text of no lower-case letter and this many words is written in capitals


def written_in_capitals(text: str) -> bool:
    """No lower-case letter and at least three words: "ZOEKT WERK IN DE BOUW", not "SAP EWM"."""
    return not any(character.islower() for character in text) and len(LETTER_WORD.findall(text)) >= CAPITALS_MIN_WORDS


def code_tokens(text: str) -> list[str]:
    """The codes of ``text``, lower-cased and accent-free, in order: a token holding a digit, kept whole with what a
    hyphen joins to it ("AZ-104", "C1E", "114"), or a word of 2–5 capitals ("EWM", "VCA"; "VCA-VOL" gives both) in
    a text not written in capitals; at least two characters (README, "Session 36: an exactly matched identifier")."""
    capitals_are_codes = not written_in_capitals(text)
    found = []
    for code in CODE.findall(text):
        if any(character.isdigit() for character in code):
            found.append(fold(code))
        elif capitals_are_codes:
            found += [fold(part) for part in code.split("-") if 2 <= len(part) <= 5 and part.isupper()]
    return [code for code in found if len(code) >= 2]


class IdentifierAnalyzer(DutchAnalyzer):
    """:class:`matching.lexical.DutchAnalyzer`'s tokens, then one :data:`MARK`-prefixed token per code
    (:func:`code_tokens`): "DE" no longer the article, "EPT" no longer stemmed."""

    def __call__(self, text: str) -> list[str]:
        return super().__call__(text) + [MARK + code for code in code_tokens(text)]


@dataclass
class IdentifierIndex(LexicalIndex):
    """BM25 over :class:`IdentifierAnalyzer`'s tokens: the index the open gate reads."""

    analyzer: Callable[[str], list[str]] = field(default_factory=IdentifierAnalyzer, repr=False)


def bm25_over(index: LexicalIndex, query: str, count: int) -> np.ndarray:
    """``index``'s BM25 scores of ``query`` as a float32 array over ids ``0 .. count - 1`` (0 where not scored)."""
    scores = np.zeros(count, np.float32)
    ids, values = index.scores(query)
    scores[ids] = values
    return scores


def holders(documents_held: Iterable[AbstractSet[str]]) -> Counter[str]:
    """Per identifier, how many of the documents hold it (the gate's rarity is counted over the searched ones)."""
    return Counter(found for held in documents_held for found in held)


def rare_gate_opens(
    held: AbstractSet[str],
    negated: AbstractSet[str],
    documents_held: Sequence[AbstractSet[str]],
    identifier_bm25: np.ndarray,
    holding: Mapping[str, int] | None = None,
    language_opens: bool = LANGUAGE_OPENS,
) -> bool:
    """Whether the gate opens for a query holding ``held`` and saying ``negated`` is not held, over the searched
    documents holding ``documents_held`` (``holding``: :func:`holders` of them, counted here when None):
    ``identifier_bm25``'s first document scores, holds every held identifier and no negated one, and one held
    identifier is held by at most :data:`OPEN_RARITY` of the documents. ``language_opens`` True: a language level
    opens it as any identifier does (session 43's (w)); False (:data:`LANGUAGE_OPENS`, decided in session 46): a
    language level not on its own."""
    if not held or not len(identifier_bm25):
        return False
    first = int(np.argmax(identifier_bm25))
    holds = documents_held[first]
    if identifier_bm25[first] <= 0 or not held <= holds or negated & holds:
        return False
    holding = holders(documents_held) if holding is None else holding
    return could_open(held, holding, len(documents_held), language_opens)


def could_open(
    held: AbstractSet[str], holding: Mapping[str, int], documents: int, language_opens: bool = LANGUAGE_OPENS
) -> bool:
    """What :func:`rare_gate_opens` asks of the counts alone (``holding`` over ``documents`` searched documents):
    every held identifier is held by some document and one of them by at most :data:`OPEN_RARITY` of them. False:
    the gate stays shut whatever the identifier BM25 says, so a search need not compute it (at national scale most
    clients hold an identifier, a licence or a language level, that most vacancies hold too)."""
    limit = OPEN_RARITY * documents
    return all(holding.get(found, 0) > 0 for found in held) and any(
        holding.get(found, 0) <= limit and (language_opens or not found.startswith(LANGUAGE)) for found in held
    )


def no_negated_lift(free_bm25: np.ndarray, holds_negated: np.ndarray) -> np.ndarray:
    """(N): the negation-free BM25 the closed gate reads, 0 on the documents that hold an identifier the query negates
    (``holds_negated``, a bool per document): the query said it is not that, so words shared with it are no evidence
    for it."""
    return np.where(holds_negated, 0, free_bm25).astype(free_bm25.dtype)


def _z(values: np.ndarray) -> np.ndarray:
    spread = values.std()
    return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)


def agrees(dense: np.ndarray, free_bm25: np.ndarray) -> bool:
    """The negation-free BM25's first is dense's first, or it scores no document."""
    return free_bm25.max() <= 0 or int(np.argmax(free_bm25)) == int(np.argmax(dense))


def closed_scores(
    dense: np.ndarray, free_bm25: np.ndarray, weights: RetrievalSettings, tie_margin: float = TIE_MARGIN
) -> np.ndarray:
    """The closed gate's scores (module docstring): the served fusion over the negation-free BM25 where it
    :func:`agrees` with dense, else dense with it a tie-break within ``tie_margin`` (the served :data:`TIE_MARGIN`;
    0.25 before session 46's (H), as the benches that measured (w) and (L)+(N) pass it)."""
    if agrees(dense, free_bm25):
        ratio = weights.weight_lexical / weights.weight_dense * scoring.LEXICAL_DAMPING
        return _z(dense) + ratio * scoring.agreement(dense, free_bm25) * _z(free_bm25)
    top = float(free_bm25.max())
    scaled = free_bm25 / top if top > 0 else np.zeros_like(free_bm25)
    return _z(dense) + tie_margin * scaled


def fused_scores(
    dense: np.ndarray,
    identifier_bm25: np.ndarray,
    free_bm25: np.ndarray,
    gate_open: bool,
    weights: RetrievalSettings,
) -> np.ndarray:
    """One query's fused scores over its searched documents (module docstring): ``dense`` cosines, the
    identifier-token BM25 and the negation-free BM25, and whether :func:`rare_gate_opens`. Only the order counts."""
    if gate_open:
        return _z(dense) + OPEN_WEIGHT * _z(identifier_bm25)
    return closed_scores(dense, free_bm25, weights)


def text_signals(
    dense: np.ndarray,
    identifier_bm25: np.ndarray,
    free_bm25: np.ndarray,
    gate_open: bool,
    weights: RetrievalSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`fused_scores` as the two [0, 1] signals :func:`matching.scoring.combine` weighs (``weight_dense`` ·
    dense + ``weight_lexical`` · lexical ranks as :func:`fused_scores`): z(dense) and the lexical term divided by
    ``weight_lexical / weight_dense``, both shifted to start at 0 and divided by the larger maximum, as
    :func:`matching.scoring.text_signals` brings the served fusion's. With no lexical weight, dense alone; with no
    dense weight (words alone), the BM25 the gate reads: the identifier-token BM25 when open, else the negation-free
    one."""
    dense = np.asarray(dense, np.float32)
    z_dense = _z(dense)
    if len(dense) == 0 or weights.weight_lexical <= 0:
        return _shifted(z_dense, np.zeros_like(z_dense))
    if weights.weight_dense <= 0:
        return _shifted(z_dense, _z(np.asarray(identifier_bm25 if gate_open else free_bm25, np.float32)))
    lexical_term = fused_scores(dense, identifier_bm25, free_bm25, gate_open, weights) - z_dense
    return _shifted(z_dense, lexical_term * (weights.weight_dense / weights.weight_lexical))


def _shifted(z_dense: np.ndarray, z_lexical: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both shifted to start at 0 and divided by the larger maximum (zeros when both are flat)."""
    z_dense = z_dense - z_dense.min()
    z_lexical = z_lexical - z_lexical.min()
    scale = max(float(z_dense.max()), float(z_lexical.max()))
    if scale <= 0:
        return np.zeros_like(z_dense), np.zeros_like(z_lexical)
    return z_dense / scale, z_lexical / scale
