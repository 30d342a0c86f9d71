"""The closed-gate fusion and five extractor gaps (issue 19, item 3), chosen on the *tuning* halves of data/eval by
session 37's rule, and decided on a set written apart after this module was committed.

Session 42. Session 41 (``bench/fusion_taxonomy4.py``, ``bench/results/fusion-taxonomy-s41-*.json``): the served
fusion loses ``nl_belnotities``' tuning half to dense by 0.029 (0.863 against 0.892) and every one of its 107
candidates loses it too. Session 39's rare gate is not the cause: it opens on a right BM25 first 13–21 times there and
on a wrong one 1–2 times. The loss is in queries where the gate stays **closed**, where the served fusion
(:func:`matching.scoring.fuse`: ``z(dense) + 0.375 · agreement in top 20 · z(BM25)``) falls below dense: conditions
such as shifts and hours, which dense reads and BM25 does not, and terms the note says are *not* needed ("CE hoeft
niet", "geen nacht"), which BM25 counts as asked for. Written down here before any run and before the sixteenth set
existed:

**The closed-gate fusion.** Every new candidate keeps session 39's pick when its gate opens (lexical × 2.0 over the
identifier-token BM25, when BM25's first holds every held identifier of the query, none of its negated ones, and one
that at most 10 % of the searched documents hold; :func:`bench.fusion_taxonomy3.rare_gate_opens`) and changes only
what a closed gate gives (:data:`CLOSED`; ``r`` = the served lexical/dense ratio, 0.375):

(o) **shrunk where BM25 disagrees**: ``z(dense) + λ · r · agreement · z(BM25)``, ``λ`` = 1 when BM25's first is
    dense's first, else :data:`DISAGREE_SHRINKS` (0: dense alone; 0.5). A closed gate means BM25's first carries no
    rare identifier that backs it, so where it points elsewhere than dense, dense leads.
(p) **dense first, BM25 a tie-break within a margin**: ``z(dense) + δ · BM25 / max(BM25)``: BM25 lifts a document
    past others only where their dense z-scores lie within ``δ`` (:data:`TIE_MARGINS`, 0.25 and 0.5 of dense's
    standard deviation) of each other.
(q) **a per-query weight from how peaked each part is** (no constant): the served fusion's lexical term times
    ``min(1, gap_BM25 / gap_dense)``, a part's gap being its first's lead over its second in its own z-units
    (session 27's :func:`bench.fusion_tuning._gap`): BM25 keeps its served weight only where it is at least as sure
    of its first as dense is.
(r) **rank fusion**: ``1 / (k + rank_dense) + r · agreement / (k + rank_BM25)`` (BM25 > 0 only), the served weights
    in rank space, ``k`` in :data:`RRF_KS` (10, 60).
(s) **BM25 without what the query says is not needed**: the served fusion over BM25 of the query with every negated
    span removed (:func:`matching.identifiers.negation_free`), not only negated identifiers as session 37's
    negation-stripped BM25 does: the words a negation before them reaches (*geen*, *zonder*, *niet*, *nooit*; session
    37's window, up to *wel*/*maar*), and up to :data:`matching.identifiers.BACK_WINDOW` words of the clause before a
    negation after them (:data:`matching.identifiers.NOT_NEEDED`: *hoeft niet*/*niet* at a clause's end, *niet
    nodig*, *niet genoeg*, *nvt*, *= nee*, *valt af*, *telt niet*, *te weinig*/*laag*/*licht*, *geen eis*), with the
    negation words. A query with no negation keeps ordinary BM25.

The pair sets hold text only: the structured part of serving (competences, occupation, distance) is not in them, so
(o)–(s) act on BM25 alone here.

**The extractor** :data:`S42_KIND`: session 41's (:func:`bench.fusion_taxonomy4.identifiers`) with

(j) a bare licence category in capitals right after *moet*/*heeft* (optionally *wel*/*ook*/*al*/*echt* between):
    "moet C hebben", "heeft wel B" (not the language levels A1/A2/B1/B2/C1/C2);
(k) negations after the term (session 38's walk, :func:`matching.identifiers._negated_behind`): *nvt*/*n.v.t.*,
    *= nee*, *valt af*, *telt niet*, and *te weinig*/*te laag*/*te licht* (a term that does not suffice: "EPT alleen
    is te weinig", "C1 is te licht"), with *alleen* between as a filler ("B-VCA alleen = nee");
(l) *-cert.*/*-certif.* after a certificate word ("heftruck-cert.");
(m) "certificaat X": *certificaat*/*certificaten*/*cert*/*diploma*/*papiertje*/*pasje* right before a certificate
    word ("certificaat heftruck", "Certificaat orderpickertruck");
(n) **OPT**: the order-picker truck certificate, absent from ``data/certificaten.csv``: *OPT* in capitals, and
    *orderpickertruck* joined to or followed by a certificate word (``cert:orderpickertruck``).

**Since session 45 this extractor is served and imported**: :data:`S42_KIND`'s :func:`identifiers` and the
negation-free text of (s) are :func:`matching.identifiers.identifiers` and :func:`matching.identifiers.negation_free`,
the exact port (session 44, ``bench/identifiers_port.py``): on all 4,670 texts of the 17 sets the held and negated
identifiers, the negation-free text and the normalised text equal this module's copy, which stood here until 30eaa17
(``bench/results/identifiers-port-texts-s45-W.json``). A later change to the served extractor changes this bench's
:data:`S42_KIND` rows with it; the extractors before it (sessions 37–41, ``bench/fusion_taxonomy.py`` to
``fusion_taxonomy4.py``) stay copies, the record of what those runs read.

Candidates (a small grid, fixed here):

1. session 41's 107, unchanged (:func:`bench.fusion_taxonomy4.candidates`, the served fusion first);
2. session 39's rare gate (10 % of the searched documents, identifier tokens) with :data:`S42_KIND`, lexical × R
   in :data:`GATE_WEIGHTS`, the served fusion when closed: 3;
3. the closed-gate fusions (o)–(s), 8 of them, behind session 39's rare gate × 2.0 with session 39's identifiers
   (:data:`WELDING_KIND`) or :data:`S42_KIND`: 16. 107 + 3 + 16 = 126 candidates.

The bar per half is session 37's: the best of dense and its three BM25s (ordinary, identifier tokens,
negation-stripped), the same for every candidate (:func:`bench.fusion_identifiers.against_bar`); the negation-free
BM25 of (s) is reported beside the parts (``lexicalNegationFree``), not in the bar.

The rule (session 37's, unchanged, written before any run and before the sixteenth set existed; now over the
fifteen or sixteen tuning halves):

1. **most tuning halves held**, a half counting as held when hybrid MRR ≥ bar − :data:`TOLERANCE` (0.002, dense
   drift); the strict count (margin ≥ 0) reported beside it, not chosen by;
2. among those, the largest worst margin; 3. worst margins within 0.001 count as tied, the largest mean margin
   wins, the earlier candidate (the served fusion first) on an exact tie (:func:`bench.fusion_taxonomy.pick`).

Then ``--half heldout`` is run **once**; every candidate's rows are reported, none chosen by them. Nothing served
changes in this session. ``--misses`` (read after both runs) lists, for every set, the queries whose answer's place
differs between the served fusion, session 41's pick and this run's pick.

    flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python -m bench.fusion_taxonomy5 \\
        --half tuning > bench/results/fusion-taxonomy-s42-tuning.json
    (the same with ``--half heldout`` > bench/results/fusion-taxonomy-s42-heldout.json)
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench import fusion_identifiers, fusion_taxonomy, fusion_taxonomy4, fusion_tuning
from bench.fusion_taxonomy import (
    BM25S,
    SERVED,
    _bm25,
    _rank,
)
from bench.fusion_taxonomy3 import GATE_WEIGHTS, OPEN_BM25, WELDING_KIND
from bench.fusion_taxonomy4 import bestand_documents
from matching import scoring
from matching.identifiers import identifiers, negation_free
from matching.settings import RetrievalSettings
from training.embedding_eval import _metrics, read_pairs

COMMAND = "nice -n 12 .venv/bin/python -m bench.fusion_taxonomy5 --half {half}"
RESULTS = Path(__file__).resolve().parent / "results"
TUNING_RESULT = RESULTS / "fusion-taxonomy-s42-tuning.json"  # --misses reads the tuning run's pick from it
S41_TUNING_RESULT = RESULTS / "fusion-taxonomy-s41-tuning.json"  # session 41's pick
S42_KIND = "taxonomy + codes + welding numbers + s41 + s42 extractor"  # (j)–(n)
KINDS = (*fusion_taxonomy4.KINDS, S42_KIND)
OPEN_RARITY = 0.1  # session 39's pick: an identifier at most 10 % of the searched documents hold
OPEN_WEIGHT = 2.0  # session 39's pick: lexical × 2.0 when its gate opens
DISAGREE_SHRINKS = (0.0, 0.5)  # (o)
TIE_MARGINS = (0.25, 0.5)  # (p), in dense z-units
RRF_KS = (10, 60)  # (r)


def _identifiers(text: str, kind: str) -> tuple[set[str], set[str]]:
    return identifiers(text) if kind == S42_KIND else fusion_taxonomy4._identifiers(text, kind)


def _gap(values: np.ndarray) -> float:
    """A part's confidence in its first: its lead over the second in its own z-units (0 when flat)."""
    if len(values) < 2:
        return 0.0
    spread = float(values.std())
    if spread <= 0:
        return 0.0
    top_two = np.partition(values, len(values) - 2)[-2:]
    return float(top_two[1] - top_two[0]) / spread


@dataclass
class Query(fusion_taxonomy4.Query):
    """Session 41's query with :data:`S42_KIND` among its kinds and the negation-free BM25 of (s)."""

    lexical_free: np.ndarray


Closed = Callable[[Query, float], np.ndarray]  # a query and the served lexical/dense ratio -> scores


def _served_terms(query: Query, lexical: np.ndarray, ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """z(dense) and the served fusion's lexical term, ``ratio · agreement · z(BM25)`` (ranks as scoring.fuse)."""
    z = fusion_tuning._z
    return z(query.dense), ratio * scoring.agreement(query.dense, lexical) * z(lexical)


def _disagree(shrink: float) -> Closed:  # (o)
    def fused(query: Query, ratio: float) -> np.ndarray:
        dense, lexical = _served_terms(query, query.lexical, ratio)
        agrees = int(np.argmax(query.lexical)) == int(np.argmax(query.dense)) or query.lexical.max() <= 0
        return dense + (1.0 if agrees else shrink) * lexical

    return fused


def _tie_break(margin: float) -> Closed:  # (p)
    def fused(query: Query, ratio: float) -> np.ndarray:
        top = float(query.lexical.max())
        scaled = query.lexical / top if top > 0 else np.zeros_like(query.lexical)
        return fusion_tuning._z(query.dense) + margin * scaled

    return fused


def _peaked(query: Query, ratio: float) -> np.ndarray:  # (q)
    dense, lexical = _served_terms(query, query.lexical, ratio)
    gap_dense, gap_lexical = _gap(query.dense), _gap(query.lexical)
    return dense + (min(1.0, gap_lexical / gap_dense) if gap_dense > 0 else 1.0) * lexical


def _ranks(values: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(-values, kind="stable"), kind="stable") + 1


def _rrf(k: int) -> Closed:  # (r)
    def fused(query: Query, ratio: float) -> np.ndarray:
        lexical_weight = ratio * scoring.agreement(query.dense, query.lexical)
        lexical = np.where(query.lexical > 0, lexical_weight / (k + _ranks(query.lexical)), 0.0)
        return 1.0 / (k + _ranks(query.dense)) + lexical

    return fused


def _negation_free(query: Query, ratio: float) -> np.ndarray:  # (s)
    dense, lexical = _served_terms(query, query.lexical_free, ratio)
    return dense + lexical


CLOSED: dict[str, Closed] = {
    **{f"(o) BM25 × {shrink} where its first is not dense's": _disagree(shrink) for shrink in DISAGREE_SHRINKS},
    **{f"(p) dense first, BM25 a tie-break within {margin} z": _tie_break(margin) for margin in TIE_MARGINS},
    "(q) BM25 × min(1, its gap / dense's gap)": _peaked,
    **{f"(r) rank fusion, k {k}, BM25 × served ratio · agreement": _rrf(k) for k in RRF_KS},
    "(s) the served fusion over negation-free BM25": _negation_free,
}

Fusion = Callable[[Query], np.ndarray]


def _gated(kind: str, weight: float, closed: Closed | None, weights: RetrievalSettings) -> Fusion:
    """Session 39's rare gate (:data:`OPEN_RARITY` of the searched documents, identifier-token BM25) with ``kind``'s
    identifiers, lexical × ``weight`` when open; ``closed`` (the served fusion when None) when closed."""
    ratio = weights.weight_lexical / weights.weight_dense * scoring.LEXICAL_DAMPING

    def fused(query: Query) -> np.ndarray:
        lexical = getattr(query.base, BM25S[OPEN_BM25])
        if query.opens_at(kind, lexical, OPEN_RARITY):
            return fusion_tuning._z(query.dense) + weight * fusion_tuning._z(lexical)
        if closed is None:
            return scoring.fuse(query.dense, query.lexical, weights)
        return closed(query, ratio)

    return fused


def name(kind: str, weight: float = OPEN_WEIGHT, closed: str | None = None) -> str:
    when_closed = closed or "the served fusion"
    return (
        f"s42: s39's rare gate, lexical × {weight} when open (at most 10% of documents, {kind}, {OPEN_BM25}); "
        f"closed: {when_closed}"
    )


def candidates(weights: RetrievalSettings) -> dict[str, tuple[str, Fusion]]:
    """The module docstring's candidates, each with the BM25 it reads when the gate opens, the served first."""
    out: dict[str, tuple[str, Fusion]] = dict(fusion_taxonomy4.candidates(weights))
    for weight in GATE_WEIGHTS:
        out[name(S42_KIND, weight)] = (OPEN_BM25, _gated(S42_KIND, weight, None, weights))
    for kind in (WELDING_KIND, S42_KIND):
        for closed, fusion in CLOSED.items():
            out[name(kind, closed=closed)] = (OPEN_BM25, _gated(kind, OPEN_WEIGHT, fusion, weights))
    return out


def load(embedder, half: str) -> tuple[dict[str, tuple[list[Query], np.ndarray]], dict[str, dict]]:
    """Session 41's :func:`bench.fusion_taxonomy4.load`, each query with :data:`S42_KIND` and (s)'s BM25."""
    earlier, parts = fusion_taxonomy4.load(embedder, half)
    sets = {}
    for file, (rows, answer) in earlier.items():
        queries, documents = read_pairs(fusion_identifiers.EVAL / file)
        unique = list(dict.fromkeys(documents))
        documents_held = {**rows[0].documents_held, S42_KIND: [identifiers(text)[0] for text in unique]}
        holding = {**rows[0].holding, S42_KIND: Counter(found for held in documents_held[S42_KIND] for found in held)}
        in_bestand = {
            **rows[0].in_bestand,
            S42_KIND: Counter(found for text in bestand_documents(file) for found in identifiers(text)[0]),
        }
        free = [negation_free(text) for text in queries]
        lexical_free = _bm25(free, unique)
        out = []
        for text, row, lexical in zip(queries, rows, lexical_free, strict=True):
            held, negated = identifiers(text)
            out.append(
                Query(
                    row.base,
                    {**row.held, S42_KIND: frozenset(held)},
                    {**row.negated, S42_KIND: frozenset(negated)},
                    documents_held,
                    holding,
                    in_bestand,
                    row.bestand,
                    lexical,
                )
            )
        sets[file] = (out, answer)
        parts[file]["lexicalNegationFree"] = {
            **_metrics(lexical_free, answer),
            "queriesChanged": sum(one != text for one, text in zip(free, queries, strict=True)),
        }
        parts[file]["s42Gate"] = {kind: _gate_counts(out, answer, kind) for kind in (WELDING_KIND, S42_KIND)}
        parts[file]["s42Identifiers"] = {
            "withIdentifiers": sum(bool(query.held[S42_KIND]) for query in out),
            "withNegated": sum(bool(query.negated[S42_KIND]) for query in out),
            "answerHoldsAll": sum(
                bool(query.held[S42_KIND]) and query.held[S42_KIND] <= documents_held[S42_KIND][right]
                for query, right in zip(out, answer, strict=True)
            ),
        }
    return sets, parts


def _gate_counts(rows: list[Query], answer: np.ndarray, kind: str) -> dict[str, int]:
    """How often the gate opens on a right or a wrong BM25 first, and how many queries it leaves closed."""
    counts = {"right": 0, "wrong": 0, "closed": 0}
    for query, right in zip(rows, answer, strict=True):
        lexical = query.base.lexical_identifiers
        if query.opens_at(kind, lexical, OPEN_RARITY):
            counts["right" if int(np.argmax(lexical)) == right else "wrong"] += 1
        else:
            counts["closed"] += 1
    return counts


def misses(embedder, weights: RetrievalSettings) -> dict:
    """Per query of every set (both halves) whose answer's place differs between the served fusion, session 41's
    pick (:data:`S41_TUNING_RESULT`) and this run's (:data:`TUNING_RESULT`): the query, its identifiers under
    :data:`S42_KIND`, whether session 39's gate opens, and the answer's place under each part and fusion. Read after
    both runs; nothing is chosen by it."""
    s41 = json.loads(S41_TUNING_RESULT.read_text(encoding="utf-8"))
    tuning = json.loads(TUNING_RESULT.read_text(encoding="utf-8"))
    compared = {"served": SERVED, "s41": s41["picked"], "s42": tuning["picked"]}

    def described(query: Query, right: int) -> dict:
        parts = {
            "dense": query.dense,
            "bm25": query.lexical,
            "bm25Identifiers": query.base.lexical_identifiers,
            "bm25NegationFree": query.lexical_free,
        }
        return {
            "held": sorted(query.held[S42_KIND]),
            "negated": sorted(query.negated[S42_KIND]),
            "s39GateOpens": query.opens_at(WELDING_KIND, query.base.lexical_identifiers, OPEN_RARITY),
            **{key: _rank(values, right) for key, values in parts.items()},
        }

    return {
        "s41Pick": compared["s41"],
        "s42Pick": compared["s42"],
        **fusion_taxonomy.places_that_differ(embedder, load, candidates(weights), compared, ("",), described),
    }


def main() -> None:
    fusion_taxonomy.run(__doc__, COMMAND, load, candidates, misses)


if __name__ == "__main__":
    main()
