"""Fusions that count an exactly matched identifier as a fact (issue 19, item 3), chosen on the *tuning*
halves of data/eval only.

Session 36. The fusion in use, ``z(dense) + 0.375 · agreement(top 20) · z(lexical)`` (session 28), holds
hybrid ≥ best part on 15 of 18 halves (``bench/results/embeddings-eval-s28.json``). It loses on
``nl_sjablonen`` (both halves: template vacancies that differ only in a code, AZ-104/AZ-305, SAP EWM/WM,
welding process 135/136, NEN 2767/2580, rijbewijs C1E/D1E; BM25 1.000, dense 0.97) and, by one query's
rank, on ``nl_spreektaal`` held out. Session 28 showed that BM25's lead and its coverage of the query's
words do not tell a right BM25 first from a wrong one. The hypothesis here: what makes lexical right on
these sets is an **identifier**, a token that is a code and not a word, matched exactly by a document.
That is a structured fact (as a demanded certificate is), not a similarity.

An identifier (:func:`identifiers`) is a token that holds a digit, kept whole with the parts a hyphen
joins to it ("AZ-104" → ``az-104``, "C1E" → ``c1e``, "114"), or a word of 2–5 capitals ("DE", "EWM", "VCA",
"BHV"; "VCA-VOL" gives ``vca`` and ``vol``) in a text that is not written in capitals (a text with no
lower-case letter and at least three words of letters, "ZOEKT WERK IN DE BOUW", has no capital
identifiers: there DE is the article). Identifiers are lower-cased and accent-free, never dropped as stop
words and never stemmed; at least two characters, as every BM25 token.

Candidates (written down and committed before the first run on any half):

1. the served fusion, :func:`matching.scoring.fuse` as it stands (the reference);
2. **identifier tokens**: BM25 whose analyser adds, to the ordinary stemmed words, one token per identifier
   (:data:`MARK` + the identifier), on both sides, so "DE" is no longer the article and "EPT" no longer
   stems to "ep"; a lower-case "vca" still meets "VCA" through the ordinary word. Scored under the served
   fusion;
3. an **identifier-match term**: per document the idf-weighted share of the query's identifiers it holds
   (0 for every document when the query has none, so a query of words moves nothing), added as
   ``z(dense) + 0.375 · agreement(top 20) · z(lexical) + α · share``, α in :data:`ALPHAS` (dense z-units),
   the share over all the query's identifiers (``all``: one that no document holds has the largest idf)
   or over those some document holds (``known``); with ordinary or identifier-token BM25;
4. an **identifier gate**: lexical's weight becomes ``R`` (R in :data:`GATE_WEIGHTS`, 1.0 being "full
   weight", equal to dense's) for a query that has identifiers and whose BM25 first holds all of them,
   else the served ``0.375 · agreement``; with ordinary or identifier-token BM25.

The idf of an identifier is BM25's, over the documents of the file: ``log(1 + (n − df + 0.5) / (df + 0.5))``.

The bar: with two tokenisations there are two lexical parts. Each half's **best part** is the best of
dense, ordinary BM25 and identifier-token BM25, the same bar for every candidate (a tokenisation that
made BM25 worse must not make its own bar easier); ``marginOverOwnParts`` is also reported.

The rule (session 28's, written before the run): 1. most tuning halves with margin ≥ 0 (hybrid MRR minus
the best part's, rounded to 4 digits); 2. among those, the largest worst margin; 3. candidates within
``TIE`` (0.001) of that worst margin count as tied and the largest mean margin wins (the served fusion,
the first, on an exact tie): :func:`bench.fusion_confidence.pick`. Then ``--half heldout`` is run **once**,
every candidate's rows reported, none chosen by them. The pick replaces the served fusion only if it is not
the served fusion and holds on **more** held-out halves than the served fusion in that same run (dense MRR
drifts by up to 0.011 between sessions on this machine, so only numbers of one run are compared).

    nice -n 12 .venv/bin/python -m bench.fusion_identifiers > bench/results/fusion-identifiers-s36-tuning.json
    nice -n 12 .venv/bin/python -m bench.fusion_identifiers --half heldout \\
        > bench/results/fusion-identifiers-s36-heldout.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench import fusion_confidence, fusion_tuning
from matching import scoring
from matching.embedding import load_embedder
from matching.gendered import fold
from matching.lexical import DutchAnalyzer, LexicalIndex
from matching.settings import EmbeddingSettings, RetrievalSettings
from training.embedding_eval import _metrics, is_pairs_file, read_pairs, score_matrices

EVAL = Path(__file__).resolve().parents[1] / "data" / "eval"
COMMAND = "nice -n 12 .venv/bin/python -m bench.fusion_identifiers --half {half}"
ALPHAS = (0.25, 0.5, 1.0, 2.0)  # the identifier-match term's weight, in dense z-units
GATE_WEIGHTS = (0.5, 1.0, 2.0)  # lexical's weight (dense's is 1) when the identifier gate opens
MARK = "#"  # an identifier token's prefix: the ordinary tokens are [a-z0-9]+, so the two never meet
CODE = re.compile(r"[^\W_]+(?:-[^\W_]+)*")  # a word, or words a hyphen joins ("AZ-104", "VCA-VOL")
LETTER_WORD = re.compile(r"[^\W\d_]+")
CAPITALS_MIN_WORDS = 3  # a text of no lower-case letter and this many words is written in capitals
ALL_HELD = 1 - 1e-6  # a share this high: every identifier held (the share is a float32 ratio of sums)
TOKENS = ("ordinary", "identifier tokens")
LEXICAL_PART = {"ordinary": "lexical", "identifier tokens": "lexicalIdentifierTokens"}  # its key in the parts


def written_in_capitals(text: str) -> bool:
    """No lower-case letter and at least three words: "ZOEKT WERK IN DE BOUW", not "SAP EWM"."""
    return not any(character.islower() for character in text) and len(LETTER_WORD.findall(text)) >= CAPITALS_MIN_WORDS


def identifiers(text: str) -> list[str]:
    """The codes of ``text`` (module docstring), lower-cased and accent-free, in order of appearance."""
    capitals_are_codes = not written_in_capitals(text)
    found = []
    for code in CODE.findall(text):
        if any(character.isdigit() for character in code):
            found.append(fold(code))
        elif capitals_are_codes:
            found += [fold(part) for part in code.split("-") if 2 <= len(part) <= 5 and part.isupper()]
    return [code for code in found if len(code) >= 2]


class IdentifierAnalyzer(DutchAnalyzer):
    """:class:`DutchAnalyzer`'s tokens, then one :data:`MARK`-prefixed token per identifier."""

    def __call__(self, text: str) -> list[str]:
        return super().__call__(text) + [MARK + code for code in identifiers(text)]


def identifier_bm25(queries: list[str], documents: list[str]) -> np.ndarray:
    """BM25 (queries × documents) of :class:`LexicalIndex` with :class:`IdentifierAnalyzer` as its analyser."""
    return bm25_matrix(queries, documents, IdentifierAnalyzer())


def bm25_matrix(
    queries: list[str], documents: list[str], analyzer: Callable[[str], list[str]] | None = None
) -> np.ndarray:
    """BM25 (queries × documents) of a fresh :class:`LexicalIndex` over ``documents``, with its own analyser or
    ``analyzer``'s tokens."""
    index = LexicalIndex()
    if analyzer is not None:
        index._vectorizer.set_params(analyzer=analyzer)
    index.upsert(np.arange(len(documents)), documents)
    scores = np.zeros((len(queries), len(documents)), np.float32)
    for row, query in enumerate(queries):
        ids, values = index.scores(query)
        scores[row, ids] = values
    return scores


def identifier_shares(queries: list[str], documents: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(queries × documents) idf-weighted share of each query's identifiers a document holds, over all of
    them and over those some document holds; 0 for a query without identifiers."""
    held = [set(identifiers(document)) for document in documents]
    n = len(documents)
    share_all = np.zeros((len(queries), n), np.float32)
    share_known = np.zeros_like(share_all)
    for row, query in enumerate(queries):
        codes = sorted(set(identifiers(query)))
        if not codes:
            continue
        hits = np.array([[code in one for code in codes] for one in held], np.float32)  # documents × codes
        df = hits.sum(axis=0)
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        share_all[row] = hits @ idf / idf.sum()
        known = idf * (df > 0)
        if known.sum() > 0:
            share_known[row] = hits @ known / known.sum()
    return share_all, share_known


@dataclass
class Query(fusion_confidence.Query):
    """:class:`bench.fusion_confidence.Query` (``lexical``: ordinary BM25) with the identifier parts."""

    lexical_identifiers: np.ndarray  # BM25 with identifier tokens, per document
    share_all: np.ndarray  # the identifier share per document (:func:`identifier_shares`)
    share_known: np.ndarray
    has_identifiers: bool


Fusion = Callable[[Query], np.ndarray]


def _lexical(query: Query, tokens: str) -> np.ndarray:
    return query.lexical if tokens == "ordinary" else query.lexical_identifiers


def _served_z(dense: np.ndarray, lexical: np.ndarray, weights: RetrievalSettings) -> np.ndarray:
    """The served fusion's order in z-units: ``z(dense) + 0.375 · agreement(top 20) · z(lexical)``."""
    ratio = weights.weight_lexical / weights.weight_dense * scoring.LEXICAL_DAMPING
    return fusion_tuning._z(dense) + ratio * scoring.agreement(dense, lexical) * fusion_tuning._z(lexical)


def _with_share(alpha: float, which: str, tokens: str, weights: RetrievalSettings) -> Fusion:
    def fused(query: Query) -> np.ndarray:
        share = query.share_all if which == "all" else query.share_known
        return _served_z(query.dense, _lexical(query, tokens), weights) + alpha * share

    return fused


def _gated(weight: float, tokens: str, weights: RetrievalSettings) -> Fusion:
    def fused(query: Query) -> np.ndarray:
        lexical = _lexical(query, tokens)
        first = int(np.argmax(lexical))
        if query.has_identifiers and lexical[first] > 0 and query.share_all[first] >= ALL_HELD:
            return fusion_tuning._z(query.dense) + weight * fusion_tuning._z(lexical)
        return _served_z(query.dense, lexical, weights)

    return fused


SERVED = "served: matching.scoring.fuse"


def candidates(weights: RetrievalSettings) -> dict[str, tuple[str, Fusion]]:
    """Candidates 1–4 of the module docstring, each with the BM25 it reads (:data:`TOKENS`), the served first."""
    out: dict[str, tuple[str, Fusion]] = {
        SERVED: ("ordinary", lambda q: scoring.fuse(q.dense, q.lexical, weights)),
        "served fusion, identifier tokens": (
            "identifier tokens",
            lambda q: scoring.fuse(q.dense, q.lexical_identifiers, weights),
        ),
    }
    for tokens in TOKENS:
        for which in ("all", "known"):
            for alpha in ALPHAS:
                name = f"served + {alpha} · identifier share ({which}), {tokens}"
                out[name] = (tokens, _with_share(alpha, which, tokens, weights))
        for weight in GATE_WEIGHTS:
            name = f"identifier gate: lexical × {weight} when BM25's first holds them all, {tokens}"
            out[name] = (tokens, _gated(weight, tokens, weights))
    return out


def load(embedder, half: str) -> tuple[dict[str, tuple[list[Query], np.ndarray]], dict[str, dict]]:
    """Per file of the half: its queries and answers, and the parts' metrics (dense, both BM25s)."""
    sets, parts = {}, {}
    for path in [path for path in sorted(EVAL.glob(f"*_{half}.tsv")) if is_pairs_file(path)]:
        queries, documents = read_pairs(path)
        dense, lexical, answer, _ = score_matrices(embedder, queries, documents)
        unique = list(dict.fromkeys(documents))
        coverage_all, coverage_known = fusion_confidence.coverages(queries, unique)
        lexical_identifiers = identifier_bm25(queries, unique)
        share_all, share_known = identifier_shares(queries, unique)
        rows = [
            Query(
                dense[i],
                lexical[i],
                coverage_all[i],
                coverage_known[i],
                lexical_identifiers[i],
                share_all[i],
                share_known[i],
                bool(identifiers(queries[i])),
            )
            for i in range(len(queries))
        ]
        sets[path.name] = (rows, answer)
        parts[path.name] = {
            "dense": _metrics(dense, answer),
            "lexical": _metrics(lexical, answer),
            "lexicalIdentifierTokens": _metrics(lexical_identifiers, answer),
            "identifiers": _identifier_counts(rows, answer),
        }
    return sets, parts


def _identifier_counts(rows: list[Query], answer: np.ndarray) -> dict[str, int]:
    """How many queries have identifiers, how many answers hold them all, and whether BM25's first (ordinary)
    holds them all when it is right and when it is wrong: does the gate tell the two apart?"""
    counts = {"queries": len(rows), "withIdentifiers": 0, "answerHoldsAll": 0, "bm25FirstHoldsAll": {}}
    right_wrong = {"right": 0, "wrong": 0}
    for query, right in zip(rows, answer, strict=True):
        if not query.has_identifiers:
            continue
        counts["withIdentifiers"] += 1
        counts["answerHoldsAll"] += int(query.share_all[right] >= ALL_HELD)
        first = int(np.argmax(query.lexical))
        if query.lexical[first] > 0 and query.share_all[first] >= ALL_HELD:
            right_wrong["right" if first == right else "wrong"] += 1
    counts["bm25FirstHoldsAll"] = right_wrong
    return counts


def against_bar(result: dict, bars: dict[str, float], own: dict[str, float]) -> dict:
    """:func:`bench.fusion_confidence.row`'s result with its margins over ``bars`` (the best of dense and both
    BM25s per half), the margin over the candidate's own parts (``own``: dense and its BM25) kept beside them."""
    per_set = {
        file: {
            **metrics,
            "marginOverBestPart": round(metrics["mrr"] - bars[file], 4),
            "marginOverOwnParts": round(metrics["mrr"] - own[file], 4),
        }
        for file, metrics in result["sets"].items()
    }
    margins = [one["marginOverBestPart"] for one in per_set.values()]
    return {
        "sets": per_set,
        "held": sum(margin >= 0 for margin in margins),
        "worstMargin": min(margins),
        "meanMargin": round(float(np.mean(margins)), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=("tuning", "heldout"), default="tuning")
    half = parser.parse_args().half
    weights = RetrievalSettings()
    embedder = load_embedder(EmbeddingSettings())
    sets, parts = load(embedder, half)
    own = {
        tokens: {file: max(part["dense"]["mrr"], part[LEXICAL_PART[tokens]]["mrr"]) for file, part in parts.items()}
        for tokens in TOKENS
    }
    bars = {file: max(own[tokens][file] for tokens in TOKENS) for file in parts}
    rows = {
        name: against_bar(fusion_confidence.row(fusion, sets), bars, own[tokens])
        for name, (tokens, fusion) in candidates(weights).items()
    }
    result = {
        "command": COMMAND.format(half=half),
        "half": half,
        "sets": sorted(sets),
        "model": embedder.model_id,
        "loadAverage": [round(value, 2) for value in os.getloadavg()],
        "rule": __doc__.split("The rule (")[1].split("    nice")[0].strip(),
        "picked": fusion_confidence.pick(rows) if half == "tuning" else None,
        "bars": bars,
        "parts": parts,
        "candidates": rows,
    }
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)


if __name__ == "__main__":
    main()
