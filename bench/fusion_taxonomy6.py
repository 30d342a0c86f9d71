"""The negation-free BM25 under a bound, and no rare gate opened by a language level alone (issue 19, item 3), chosen
on the *tuning* halves of data/eval by session 37's rule, and decided on a set written apart after this module was
committed.

Session 42, second round (helper F8r). Session 42's first round (``bench/fusion_taxonomy5.py``,
``bench/results/fusion-taxonomy-s42-*.json``): no candidate of 126 holds every half. The served fusion loses
``nl_voorwaarden``'s held-out half to dense by 0.008. The rule's pick (session 39's rare gate × 2.0 with session 42's
extractor; when closed, (p) dense first with BM25 a tie-break within 0.25 z) mends ``nl_belnotities`` but loses both
halves of ``nl_voorwaarden``. (s), the served fusion over BM25 of the query with its negated spans removed
(:func:`bench.fusion_taxonomy5.negation_free`), holds every held-out half but loses three tuning halves
(``nl_belnotities`` −0.026, ``nl_bemiddeling`` −0.007, ``nl_werkzoekende`` −0.004) where the bounded fusions hold or
come closer (the pick: +0.003, +0.014, −0.002; (o) × 0: −0.001, +0.010, 0.000), while both of those lose
``nl_voorwaarden``'s tuning half (−0.008, −0.006) that (s) wins (+0.009). The rare gate opened on a wrong BM25 first
for a language level ("B1") once per half. Written down here before any run and before a seventeenth set existed:

**The negation-free BM25 under a bound.** When the gate stays closed, (s)'s BM25 (``NF``, negated spans removed
from the query; ordinary BM25 for a query without negation) with the bound of (o) or (p) (:data:`CLOSED`; ``r`` = the
served lexical/dense ratio, 0.375; ``agrees`` = NF's first is dense's first, or NF scores nothing):

(t) **(s) shrunk where NF disagrees**: ``z(dense) + λ · r · agreement · z(NF)``, ``λ`` = 1 when ``agrees``, else
    :data:`FREE_SHRINKS` (0: dense alone; 0.5: session 42's (o) × 0.5);
(u) **dense first, NF a tie-break**: ``z(dense) + δ · NF / max(NF)``, ``δ`` in :data:`FREE_MARGINS` (0.25, 0.5 of
    dense's standard deviation): session 42's (p) over NF;
(w) **(s) where the firsts agree, a tie-break where they do not**: the served fusion over NF when ``agrees``, else
    ``z(dense) + δ · NF / max(NF)`` with ``δ`` = :data:`AGREED_MARGIN` (0.25). Where NF and dense name one first,
    NF's served weight reorders the rest as (s) does; where they point apart and no rare identifier backs NF
    (the gate is closed), dense leads and NF only breaks near ties, as (p) does.

**A language level never opens the gate on its own** (:func:`rare_gate_opens`, :data:`LANGUAGE`): the gate's
conditions are session 39's (BM25's first holds every held identifier and none of the negated ones, one held
identifier at most 10 % of the searched documents hold), but that rare identifier must not be a language level
(``taal:…``: A1–C2, NT2, 1F–4F, as "taal b1", "NT2-niveau", "schrijft NL op B1" give). A language level says how
well someone speaks or writes, which many vacancies of one kind share; it stays among the identifiers BM25's first
must hold.

Candidates (a small grid, fixed here):

1. session 42's 126, unchanged (:func:`bench.fusion_taxonomy5.candidates`, the served fusion first);
2. session 39's rare gate × 2.0 with session 42's extractor (:data:`bench.fusion_taxonomy5.S42_KIND`) and the
   language rule, closed: the served fusion, session 42's (p) tie-break 0.25 (its pick), (s): 3;
3. the closed-gate fusions (t) × 2, (u) × 2, (w) behind session 39's rare gate × 2.0 with session 42's extractor,
   without and with the language rule: 5 × 2 = 10. 126 + 3 + 10 = 139 candidates.

The pair sets hold text only: the structured part of serving is not in them, so (t)–(w) act on BM25 alone here. The
bar per half is session 37's: the best of dense and its three BM25s (ordinary, identifier tokens,
negation-stripped), the same for every candidate (:func:`bench.fusion_identifiers.against_bar`); NF is reported
beside the parts (``lexicalNegationFree``), not in the bar.

The rule (session 37's, unchanged, written before any run and before the seventeenth set existed; now over the
fifteen tuning halves of the sets before it, sixteen with its own):

1. **most tuning halves held**, a half counting as held when hybrid MRR ≥ bar − :data:`TOLERANCE` (0.002, dense
   drift); the strict count (margin ≥ 0) reported beside it, not chosen by;
2. among those, the largest worst margin; 3. worst margins within 0.001 count as tied, the largest mean margin
   wins, the earlier candidate (the served fusion first) on an exact tie (:func:`bench.fusion_taxonomy.pick`).

Then ``--half heldout`` is run **once**; every candidate's rows are reported, none chosen by them. Nothing served
changes. ``--misses`` (read after both runs) lists, for every set, the queries whose answer's place differs between
the served fusion, session 42's first pick and this run's pick. Run it from a clean ``git archive`` of a commit when
the working tree holds uncommitted ``matching/`` files (BM25 reads ``matching/gendered_rules.py``).

    flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python -m bench.fusion_taxonomy6 \\
        --half tuning > bench/results/fusion-taxonomy-s42b-tuning.json
    (the same with ``--half heldout`` > bench/results/fusion-taxonomy-s42b-heldout.json)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bench import fusion_taxonomy, fusion_taxonomy5, fusion_tuning
from bench.fusion_taxonomy import BM25S, SERVED, _rank
from bench.fusion_taxonomy3 import OPEN_BM25
from bench.fusion_taxonomy5 import OPEN_RARITY, OPEN_WEIGHT, S42_KIND, Closed, Fusion, Query, _served_terms
from matching import scoring
from matching.settings import RetrievalSettings

COMMAND = "nice -n 12 .venv/bin/python -m bench.fusion_taxonomy6 --half {half}"
RESULTS = Path(__file__).resolve().parent / "results"
TUNING_RESULT = RESULTS / "fusion-taxonomy-s42b-tuning.json"  # --misses reads the tuning run's pick from it
S42_TUNING_RESULT = RESULTS / "fusion-taxonomy-s42-tuning.json"  # session 42's first pick
LANGUAGE = "taal:"  # a language level's identifiers (bench.fusion_taxonomy._single): never the rare one alone
FREE_SHRINKS = (0.0, 0.5)  # (t)
FREE_MARGINS = (0.25, 0.5)  # (u), in dense z-units
AGREED_MARGIN = 0.25  # (w), session 42's (p) pick's margin
S42_TIE_BREAK = "(p) dense first, BM25 a tie-break within 0.25 z"  # session 42's pick when closed
S42_FREE = "(s) the served fusion over negation-free BM25"
LANGUAGE_RULE = "a language level never the rare identifier on its own"


def rare_gate_opens(query: Query, kind: str, lexical: np.ndarray, language_opens: bool = True) -> bool:
    """Session 39's rare gate (:data:`OPEN_RARITY` of the searched documents) with ``kind``'s identifiers; with
    ``language_opens`` False the rare identifier it opens for must be no language level (:data:`LANGUAGE`)."""
    opens = query.opens_at(kind, lexical, OPEN_RARITY)
    if not opens or language_opens:
        return opens
    documents = len(query.documents_held[kind])
    return any(
        not found.startswith(LANGUAGE) and query.holding[kind][found] <= OPEN_RARITY * documents
        for found in query.held[kind]
    )


def _agrees(query: Query) -> bool:
    """NF's first is dense's first, or NF scores no document."""
    free = query.lexical_free
    return free.max() <= 0 or int(np.argmax(free)) == int(np.argmax(query.dense))


def _tie_break(query: Query, margin: float) -> np.ndarray:
    """``z(dense) + margin · NF / max(NF)``: NF reorders only documents within ``margin`` of dense's z-scores."""
    top = float(query.lexical_free.max())
    scaled = query.lexical_free / top if top > 0 else np.zeros_like(query.lexical_free)
    return fusion_tuning._z(query.dense) + margin * scaled


def _free_shrunk(shrink: float) -> Closed:  # (t)
    def fused(query: Query, ratio: float) -> np.ndarray:
        dense, lexical = _served_terms(query, query.lexical_free, ratio)
        return dense + (1.0 if _agrees(query) else shrink) * lexical

    return fused


def _free_tie_break(margin: float) -> Closed:  # (u)
    def fused(query: Query, ratio: float) -> np.ndarray:
        return _tie_break(query, margin)

    return fused


def _free_agreed(query: Query, ratio: float) -> np.ndarray:  # (w)
    if _agrees(query):
        dense, lexical = _served_terms(query, query.lexical_free, ratio)
        return dense + lexical
    return _tie_break(query, AGREED_MARGIN)


CLOSED: dict[str, Closed] = {
    **{
        f"(t) negation-free BM25 × {shrink} where its first is not dense's": _free_shrunk(shrink)
        for shrink in FREE_SHRINKS
    },
    **{
        f"(u) dense first, negation-free BM25 a tie-break within {margin} z": _free_tie_break(margin)
        for margin in FREE_MARGINS
    },
    f"(w) (s) where negation-free BM25's first is dense's, else its tie-break within {AGREED_MARGIN} z": _free_agreed,
}


def _gated(closed: Closed | None, language_opens: bool, weights: RetrievalSettings) -> Fusion:
    """Session 39's rare gate × :data:`OPEN_WEIGHT` over the identifier-token BM25 with session 42's extractor
    (:func:`rare_gate_opens`); ``closed`` (the served fusion when None) when it stays closed."""
    ratio = weights.weight_lexical / weights.weight_dense * scoring.LEXICAL_DAMPING

    def fused(query: Query) -> np.ndarray:
        lexical = getattr(query.base, BM25S[OPEN_BM25])
        if rare_gate_opens(query, S42_KIND, lexical, language_opens):
            return fusion_tuning._z(query.dense) + OPEN_WEIGHT * fusion_tuning._z(lexical)
        if closed is None:
            return scoring.fuse(query.dense, query.lexical, weights)
        return closed(query, ratio)

    return fused


def name(closed: str | None = None, language_opens: bool = True) -> str:
    rule = "" if language_opens else f", {LANGUAGE_RULE}"
    return (
        f"s42b: s39's rare gate, lexical × {OPEN_WEIGHT} when open (at most 10% of documents, {S42_KIND}, "
        f"{OPEN_BM25}{rule}); closed: {closed or 'the served fusion'}"
    )


def candidates(weights: RetrievalSettings) -> dict[str, tuple[str, Fusion]]:
    """The module docstring's candidates, each with the BM25 it reads when the gate opens, the served first."""
    out: dict[str, tuple[str, Fusion]] = dict(fusion_taxonomy5.candidates(weights))
    earlier = fusion_taxonomy5.CLOSED
    for closed in (None, S42_TIE_BREAK, S42_FREE):
        out[name(closed, language_opens=False)] = (
            OPEN_BM25,
            _gated(earlier[closed] if closed else None, False, weights),
        )
    for language_opens in (True, False):
        for closed, fusion in CLOSED.items():
            out[name(closed, language_opens)] = (OPEN_BM25, _gated(fusion, language_opens, weights))
    return out


def load(embedder, half: str) -> tuple[dict[str, tuple[list[Query], np.ndarray]], dict[str, dict]]:
    """Session 42's :func:`bench.fusion_taxonomy5.load`, with how often the gate opens under the language rule."""
    sets, parts = fusion_taxonomy5.load(embedder, half)
    for file, (rows, answer) in sets.items():
        parts[file]["s42bGate"] = {
            "language levels open it": _gate_counts(rows, answer, True),
            LANGUAGE_RULE: _gate_counts(rows, answer, False),
        }
    return sets, parts


def _gate_counts(rows: list[Query], answer: np.ndarray, language_opens: bool) -> dict[str, int]:
    """How often the gate opens on a right or a wrong BM25 first, and how many queries it leaves closed."""
    counts = {"right": 0, "wrong": 0, "closed": 0}
    for query, right in zip(rows, answer, strict=True):
        lexical = query.base.lexical_identifiers
        if rare_gate_opens(query, S42_KIND, lexical, language_opens):
            counts["right" if int(np.argmax(lexical)) == right else "wrong"] += 1
        else:
            counts["closed"] += 1
    return counts


def misses(embedder, weights: RetrievalSettings) -> dict:
    """Per query of every set (both halves) whose answer's place differs between the served fusion, session 42's
    first pick (:data:`S42_TUNING_RESULT`) and this run's (:data:`TUNING_RESULT`): the query, its identifiers under
    :data:`S42_KIND`, whether the gate opens with and without the language rule, and the answer's place under each
    part and fusion. Read after both runs; nothing is chosen by it."""
    s42 = json.loads(S42_TUNING_RESULT.read_text(encoding="utf-8"))
    tuning = json.loads(TUNING_RESULT.read_text(encoding="utf-8"))
    compared = {"served": SERVED, "s42": s42["picked"], "s42b": tuning["picked"]}

    def described(query: Query, right: int) -> dict:
        parts = {
            "dense": query.dense,
            "bm25": query.lexical,
            "bm25Identifiers": query.base.lexical_identifiers,
            "bm25NegationFree": query.lexical_free,
        }
        lexical = query.base.lexical_identifiers
        return {
            "held": sorted(query.held[S42_KIND]),
            "negated": sorted(query.negated[S42_KIND]),
            "gateOpens": rare_gate_opens(query, S42_KIND, lexical),
            "gateOpensUnderLanguageRule": rare_gate_opens(query, S42_KIND, lexical, False),
            **{key: _rank(values, right) for key, values in parts.items()},
        }

    return {
        "s42Pick": compared["s42"],
        "s42bPick": compared["s42b"],
        **fusion_taxonomy.places_that_differ(embedder, load, candidates(weights), compared, ("",), described),
    }


def main() -> None:
    fusion_taxonomy.run(__doc__, COMMAND, load, candidates, misses)


if __name__ == "__main__":
    main()
