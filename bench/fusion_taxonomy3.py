"""Session 38's fixed taxonomy gate, opened only for an identifier few documents hold (issue 19, item 3), chosen
on the *tuning* halves of data/eval by session 37's rule, and decided on a set written apart after this module was
committed.

Session 39. Session 38's fixed gates (``bench/fusion_taxonomy2.py``: negation after the term, the served fusion over
ordinary BM25 when closed, hyphenated codes) held 10 of 11 held-out halves within the tolerance, as the served fusion
does, with a smaller worst margin; but they were not the rule's pick, and choosing one by those numbers would be
choosing by held-out numbers. Their misses (``bench/results/fusion-taxonomy-s38-misses.json``) name two fixes, written
down here before any run and before the thirteenth set existed:

(d) **Only for a rare identifier**: the gate opens only when at least one of the query's held identifiers, all of
    which BM25's first document holds (session 38's condition, unchanged), is held by few of the searched documents
    (the documents of the file, as held after negation): by its document share ``df / n ≤ s`` (an idf
    ``log(n / df) ≥ log(1 / s)``), ``s`` in :data:`RARE_SHARES`; or, with no threshold, when BM25's first document
    is the **only** one that holds it (:data:`ONLY_FIRST`). "rbw B" alone, where many vacancies hold licence B,
    opens no gate; "rbw B, EPT" does when few hold EPT (:func:`rare_gate_opens`).
(e) **A welding number as a certificate**: a welding process number (ISO 4063: 111, 114, 121, 131, 135, 136, 138,
    141, 15, 311; session 37's list) is an identifier also in a text with no welding word when a certificate word
    follows it (*certificaat*, *certificaten*, *cert*, *certificering*, *gecertificeerd*, *diploma*, *papiertje*:
    "kl. heeft 114 certificaat", "135 cert. verlopen") or a process or welding-certificate word stands right before
    it (*proces*, *procesnummer*, *lasproces*, *lascertificaat*, *lasdiploma*: "lascertificaat 141")
    (:func:`welding_numbers`); negated by session 37's and 38's rules, the certificate word counted as part of it
    ("114 certificaat nog niet"). A kind of identifier on top of session 38's taxonomy + codes
    (:data:`WELDING_KIND`).

Candidates (a small grid, fixed here):

1. session 38's twenty-three, unchanged (:func:`bench.fusion_taxonomy2.candidates`: the served fusion first, session
   36's pick, session 37's nine taxonomy gates, session 38's twelve fixed gates);
2. the **rare gate**: session 38's fixed gate (lexical's weight ``R``, dense's being 1, when it opens; the served
   fusion over ordinary BM25 when closed) reading the identifier-token BM25 when open (on session 38's tuning halves
   every gate over it held 10 of 11, over ordinary BM25 8–9), with identifiers of :data:`KINDS` (session 38's
   taxonomy + codes, or with (e) too) × rarity in :data:`RARITIES` (none, the shares of (d), or :data:`ONLY_FIRST`)
   × R in :data:`GATE_WEIGHTS`, less the nine with codes and no rarity that are session 38's own (3 of them) and
   would be counted twice: (2 × 5 − 1) × 3 = 27. 23 + 27 = 50 candidates.

The bar per half is session 37's: the best of dense and its three BM25s (ordinary, identifier tokens,
negation-stripped), the same for every candidate (:func:`bench.fusion_identifiers.against_bar`).

The rule (session 37's, unchanged, written before any run and before the thirteenth set existed; now over twelve
tuning halves):

1. **most tuning halves held**, a half counting as held when hybrid MRR ≥ bar − :data:`TOLERANCE` (0.002, dense
   drift); the strict count (margin ≥ 0) reported beside it, not chosen by;
2. among those, the largest worst margin; 3. worst margins within 0.001 count as tied, the largest mean margin
   wins, the earlier candidate (the served fusion first) on an exact tie (:func:`bench.fusion_taxonomy.pick`).

Then ``--half heldout`` is run **once**; every candidate's rows are reported, none chosen by them. Nothing served
changes in this session: the report says whether the pick holds every held-out half within the tolerance, and more
than the served fusion in the same run; the lead decides. ``--misses`` (read after both runs) lists the queries whose
answer's place differs between the served fusion, session 38's pick, session 38's fixed gate with codes that the
rule ranks first among its six, and this run's pick.

**The extractor here is session 39's (:func:`identifiers`, with the welding numbers of fix (e)), an earlier version
than the served one**, kept as a copy: the record of what this run read. The served extractor is session 42's,
:mod:`matching.identifiers`, which :mod:`bench.fusion_taxonomy5` imports since session 45.

    flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python -m bench.fusion_taxonomy3 \\
        --half tuning > bench/results/fusion-taxonomy-s39-tuning.json
    (the same with ``--half heldout`` > bench/results/fusion-taxonomy-s39-heldout.json)
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench import fusion_identifiers, fusion_taxonomy, fusion_taxonomy2, fusion_tuning
from bench.fusion_taxonomy import (
    BM25S,
    SERVED,
    WELDING_PROCESSES,
    _negated_after,
    _negated_positions,
    _rank,
    pick,
    tokens,
)
from bench.fusion_taxonomy2 import GATE_WEIGHTS, _negated_behind, gate_opens
from matching import scoring
from matching.settings import RetrievalSettings
from training.embedding_eval import read_pairs

COMMAND = "nice -n 12 .venv/bin/python -m bench.fusion_taxonomy3 --half {half}"
RESULTS = Path(__file__).resolve().parent / "results"
TUNING_RESULT = RESULTS / "fusion-taxonomy-s39-tuning.json"  # --misses reads the tuning run's pick from it
S38_TUNING_RESULT = RESULTS / "fusion-taxonomy-s38-tuning.json"  # session 38's pick and its fixed gates' rows
CODES_KIND = fusion_taxonomy2.KINDS[1]  # session 38's taxonomy + codes
WELDING_KIND = "taxonomy + codes + welding numbers"  # with fix (e)
KINDS = (CODES_KIND, WELDING_KIND)
ONLY_FIRST = "only BM25's first holds it"
RARE_SHARES = (0.05, 0.1, 0.2)  # (d): df / n at most this; idf log(n / df) at least 3.0, 2.3, 1.6
RARITIES: tuple[float | str | None, ...] = (None, *RARE_SHARES, ONLY_FIRST)
OPEN_BM25 = "identifier tokens"
CERTIFICATE_WORDS = frozenset(
    {"certificaat", "certificaten", "cert", "certificering", "gecertificeerd", "diploma", "papiertje"}
)
PROCESS_WORDS = frozenset({"proces", "procesnummer", "lasproces", "lascertificaat", "lasdiploma"})
MISSES_SETS = ("nl_bemiddeling", "nl_eisen", "nl_notities", "nl_sjablonen", "nl_spreektaal", "nl_register")


def welding_numbers(text: str) -> list[tuple[int, int, str]]:
    """(first token, end token, ``las:…``) of every welding process number that fix (e) makes an identifier."""
    folded = [token.folded for token in tokens(text)]
    found = []
    for at, word in enumerate(folded):
        if word not in WELDING_PROCESSES:
            continue
        after = folded[at + 1] if at + 1 < len(folded) else ""
        before = folded[at - 1] if at > 0 else ""
        if after in CERTIFICATE_WORDS:  # "cert." with its full stop, so that "135 cert. verlopen" reads as one
            end = at + 3 if after == "cert" and folded[at + 2 : at + 3] == ["."] else at + 2
            found.append((at, end, f"las:{word}"))
        elif before in PROCESS_WORDS:
            found.append((at - 1, at + 1, f"las:{word}"))
    return found


def identifiers(text: str, kind: str) -> tuple[set[str], set[str]]:
    """(held, negated) identifiers of ``text``: session 38's taxonomy + codes (:func:`bench.fusion_taxonomy2.
    identifiers`), and for :data:`WELDING_KIND` fix (e)'s welding numbers, negated by the same rules; one both held
    and negated counts as held."""
    held, negated = fusion_taxonomy2.identifiers(text, with_codes=True)
    if kind == WELDING_KIND:
        folded = [token.folded for token in tokens(text)]
        negated_at = _negated_positions(folded)
        for start, end, number in welding_numbers(text):
            covered = set(range(start, end))
            is_negated = start in negated_at or _negated_after(folded, end) or _negated_behind(folded, end, covered)
            (negated if is_negated else held).add(number)
    return held, negated - held


def rare_gate_opens(
    held: frozenset[str],
    negated: frozenset[str],
    documents_held: list[set[str]],
    holding: Counter,
    lexical: np.ndarray,
    rarity: float | str | None,
) -> bool:
    """Session 38's gate (BM25's first holds every held identifier of the query and none of its negated ones), and
    with a ``rarity`` at least one held identifier few documents hold (fix (d)): by share, or held by BM25's first
    alone. ``holding``: per identifier, how many of ``documents_held`` hold it."""
    if not gate_opens(held, negated, documents_held, lexical):
        return False
    if rarity is None:
        return True
    if rarity == ONLY_FIRST:
        return any(holding[found] == 1 for found in held)
    return any(holding[found] <= rarity * len(documents_held) for found in held)


@dataclass
class Query(fusion_taxonomy2.Query):
    """Session 38's query with :data:`WELDING_KIND` among its kinds, and per kind how many documents of its file hold
    each identifier."""

    holding: dict[str, Counter]

    def opens_rare(self, kind: str, lexical: np.ndarray, rarity: float | str | None) -> bool:
        return rare_gate_opens(
            self.held[kind], self.negated[kind], self.documents_held[kind], self.holding[kind], lexical, rarity
        )


Fusion = Callable[[Query], np.ndarray]


def _rare_gate(weight: float, kind: str, rarity: float | str | None, weights: RetrievalSettings) -> Fusion:
    def fused(query: Query) -> np.ndarray:
        lexical = getattr(query.base, BM25S[OPEN_BM25])
        if query.opens_rare(kind, lexical, rarity):
            return fusion_tuning._z(query.dense) + weight * fusion_tuning._z(lexical)
        return scoring.fuse(query.dense, query.lexical, weights)  # session 38's fix (b)

    return fused


def rarity_name(rarity: float | str | None) -> str:
    if rarity is None:
        return "any identifier"
    if rarity == ONLY_FIRST:
        return ONLY_FIRST
    return f"an identifier at most {rarity:.0%} of documents hold"


def name(weight: float, kind: str, rarity: float | str | None) -> str:
    return f"s39 gate: lexical × {weight} when BM25's first holds them all, {rarity_name(rarity)} ({kind}), {OPEN_BM25}"


def candidates(weights: RetrievalSettings) -> dict[str, tuple[str, Fusion]]:
    """The module docstring's candidates, each with the BM25 it reads when the gate opens, the served first."""
    out: dict[str, tuple[str, Fusion]] = dict(fusion_taxonomy2.candidates(weights))
    for kind in KINDS:
        for rarity in RARITIES:
            if kind == CODES_KIND and rarity is None:
                continue  # session 38's fixed gates with codes, already among the 23
            for weight in GATE_WEIGHTS:
                out[name(weight, kind, rarity)] = (OPEN_BM25, _rare_gate(weight, kind, rarity, weights))
    return out


def load(embedder, half: str) -> tuple[dict[str, tuple[list[Query], np.ndarray]], dict[str, dict]]:
    """Session 38's :func:`bench.fusion_taxonomy2.load`, each query with :data:`WELDING_KIND` and the counts."""
    earlier, parts = fusion_taxonomy2.load(embedder, half)
    sets = {}
    for file, (rows, answer) in earlier.items():
        queries, documents = read_pairs(fusion_identifiers.EVAL / file)
        unique = list(dict.fromkeys(documents))
        documents_held = {
            **rows[0].documents_held,
            WELDING_KIND: [identifiers(text, WELDING_KIND)[0] for text in unique],
        }
        holding = {kind: Counter(found for held in documents_held[kind] for found in held) for kind in KINDS}
        out = []
        for text, row in zip(queries, rows, strict=True):
            held, negated = identifiers(text, WELDING_KIND)
            out.append(
                Query(
                    row.base,
                    {**row.held, WELDING_KIND: frozenset(held)},
                    {**row.negated, WELDING_KIND: frozenset(negated)},
                    documents_held,
                    holding,
                )
            )
        sets[file] = (out, answer)
        parts[file]["s39Gate"] = {
            kind: {rarity_name(rarity): _gate_counts(out, answer, kind, rarity) for rarity in RARITIES}
            for kind in KINDS
        }
    return sets, parts


def _gate_counts(rows: list[Query], answer: np.ndarray, kind: str, rarity: float | str | None) -> dict[str, int]:
    """Whether the gate (identifier-token BM25, the BM25 it reads when open) opens on a right or a wrong BM25 first."""
    opens = {"right": 0, "wrong": 0}
    for query, right in zip(rows, answer, strict=True):
        lexical = query.base.lexical_identifiers
        if query.opens_rare(kind, lexical, rarity):
            opens["right" if int(np.argmax(lexical)) == right else "wrong"] += 1
    return opens


def misses(embedder, weights: RetrievalSettings) -> dict:
    """Per query of :data:`MISSES_SETS` (both halves) whose answer's place differs between the served fusion, session
    38's pick, session 38's fixed gate with codes that the rule ranks first among its six (both from
    :data:`S38_TUNING_RESULT`) and this run's pick (:data:`TUNING_RESULT`): the query, its identifiers (with (e)) and
    the answer's place under each part and fusion. Read after both runs; nothing is chosen by it."""
    s38 = json.loads(S38_TUNING_RESULT.read_text(encoding="utf-8"))
    tuning = json.loads(TUNING_RESULT.read_text(encoding="utf-8"))
    with_codes = {key: one for key, one in s38["candidates"].items() if key.startswith("s38") and CODES_KIND in key}
    compared = {
        "served": SERVED,
        "s38": s38["picked"],
        "s38FixedWithCodes": pick(with_codes),
        "s39": tuning["picked"],
    }

    def described(query: Query, right: int) -> dict:
        parts = {"dense": query.dense, "bm25": query.lexical, "bm25Identifiers": query.base.lexical_identifiers}
        return {
            "held": sorted(query.held[WELDING_KIND]),
            "negated": sorted(query.negated[WELDING_KIND]),
            "heldBy": {found: query.holding[WELDING_KIND][found] for found in sorted(query.held[WELDING_KIND])},
            **{key: _rank(values, right) for key, values in parts.items()},
        }

    return {
        "s39Pick": compared["s39"],
        "s38FixedWithCodes": compared["s38FixedWithCodes"],
        **fusion_taxonomy.places_that_differ(embedder, load, candidates(weights), compared, MISSES_SETS, described),
    }


def main() -> None:
    fusion_taxonomy.run(__doc__, COMMAND, load, candidates, misses)


if __name__ == "__main__":
    main()
