"""Is the port of the decided gated fusion exact? (issue 19, item 3.)

README, "Session 43: candidates fixed before an eighteenth set": the served fusion is to be replaced by candidate (w)
of ``bench/fusion_taxonomy6.py`` (session 39's rare gate × 2.0 with session 42's extractor; closed: the served
fusion over the negation-free BM25 where its first is dense's, else a 0.25 z tie-break). The port is
:mod:`matching.identifiers` (the extractor, the negation-free text) and :mod:`matching.identifier_gate` (the
identifier-token analyzer, the gate, the fused score), with no bench import. This script compares, on every text
(queries and documents, both halves) of the 17 sets the s43b run read (``bench.fusion_taxonomy7.SETS`` and
``nl_nt2``):

* the port's (held, negated) identifiers with :func:`bench.fusion_taxonomy5.identifiers` (``S42_KIND``), its
  negation-free text with :func:`bench.fusion_taxonomy5.negation_free`, and its identifier tokens with
  :class:`bench.fusion_identifiers.IdentifierAnalyzer`'s;
* (w)'s MRR and recall@10 per half, computed through the port alone as ``werkmatch embeddings eval`` computes its
  hybrid (:func:`training.embedding_eval.hybrid_scores`; dense from :func:`training.embedding_eval.score_matrices`
  as the bench embeds), with the s43b result files' rows of (w) with
  and without the language rule (a language level never the rare identifier on its own), and dense's with the
  files' dense part.

It also times the extractor per text (the cost serving pays per query and per record at index time).

**Since session 45 the texts part compares the port with itself**: ``bench.fusion_taxonomy5`` imports
:func:`matching.identifiers.identifiers` and :func:`~matching.identifiers.negation_free` instead of keeping a copy. Its
last comparison with the copy (``--texts``: the texts alone, no embedding; run on a clean export of 30eaa17, the last
commit with the copy, and comparing the normalised text with the copy's ``normalised`` too, removed with it) found 0 of
4,670 texts differing →
``bench/results/identifiers-port-texts-s45-W.json``; the rows part still compares the port's (w) with the s43b files.

    flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python -m bench.identifiers_port \\
        > bench/results/identifiers-port-s44.json
    (the same with ``--texts`` > bench/results/identifiers-port-texts-s45-W.json, on 30eaa17's export)
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from bench import fusion_identifiers, fusion_taxonomy5, fusion_taxonomy6, fusion_taxonomy7
from matching import identifier_gate, identifiers
from matching.embedding import load_embedder
from matching.settings import EmbeddingSettings, RetrievalSettings
from training.embedding_eval import _metrics, bm25_index, hybrid_scores, read_pairs, score_matrices

COMMAND = "nice -n 12 .venv/bin/python -m bench.identifiers_port"
RESULTS = Path(__file__).resolve().parent / "results"
S43B = {half: RESULTS / f"fusion-taxonomy-s43b-{half}.json" for half in ("tuning", "heldout")}
SETS = (*fusion_taxonomy7.SETS, "nl_nt2")  # the s43b run's: fusion_taxonomy7's 16 and the set written after it
W = "(w) (s) where negation-free BM25's first is dense's, else its tie-break within 0.25 z"
KEYS = {  # language_opens -> the s43b key of (w)
    False: fusion_taxonomy6.name(W, language_opens=False),
    True: fusion_taxonomy6.name(W, language_opens=True),
}


def text_differences(texts: list[str]) -> dict:
    """Per text, whether the port's identifiers, negation-free text and identifier tokens equal the bench's."""
    bench_tokens, port_tokens = fusion_identifiers.IdentifierAnalyzer(), identifier_gate.IdentifierAnalyzer()
    differ: dict[str, list] = {"identifiers": [], "negationFree": [], "identifierTokens": []}
    for text in texts:
        ours, theirs = identifiers.identifiers(text), fusion_taxonomy5.identifiers(text)
        if ours != theirs:
            differ["identifiers"].append({"text": text, "port": _sorted(ours), "bench": _sorted(theirs)})
        if identifiers.negation_free(text) != fusion_taxonomy5.negation_free(text):
            differ["negationFree"].append(text)
        if port_tokens(text) != bench_tokens(text):
            differ["identifierTokens"].append(text)
    return {"texts": len(texts), **{key: {"differ": len(found), "cases": found[:20]} for key, found in differ.items()}}


def _sorted(found: tuple[set[str], set[str]]) -> list[list[str]]:
    return [sorted(found[0]), sorted(found[1])]


def extractor_cost(texts: list[str]) -> dict[str, float]:
    """Milliseconds per text of :func:`matching.identifiers.identifiers` (after one warm call), median of 3."""
    identifiers.identifiers(texts[0])
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        for text in texts:
            identifiers.identifiers(text)
        runs.append((time.perf_counter() - start) / len(texts) * 1000)
    return {
        "msPerText": round(float(np.median(runs)), 3),
        "meanCharacters": round(float(np.mean([len(t) for t in texts]))),
    }


def half_rows(embedder, stem: str, half: str, weights: RetrievalSettings, s43b: dict) -> dict:
    """One half: the port's (w) MRR with and without the language rule against the s43b rows, and dense's."""
    file = f"{stem}_{half}.tsv"
    queries, documents = read_pairs(fusion_identifiers.EVAL / file)
    unique = list(dict.fromkeys(documents))
    lexical_index = bm25_index(unique)
    dense, _, answer, _ = score_matrices(embedder, queries, documents, lexical_index)
    out = {"dense": {"port": _metrics(dense, answer)["mrr"], "s43b": s43b["parts"][file]["dense"]["mrr"]}}
    for language_opens, key in KEYS.items():
        scores, opened = hybrid_scores(dense, queries, unique, weights, lexical_index, language_opens)
        metrics = _metrics(scores, answer)
        row = s43b["candidates"][key]["sets"][file]
        label = "languageLevelsOpen" if language_opens else "languageRule"
        out[label] = {
            "port": metrics,
            "s43b": {"mrr": row["mrr"], "recall@10": row["recall@10"]},
            "gateOpened": opened,
            "equal": metrics["mrr"] == row["mrr"] and metrics["recall@10"] == row["recall@10"],
        }
    return out


def all_texts() -> list[str]:
    """Every distinct text (queries and documents, both halves) of :data:`SETS`."""
    texts: list[str] = []
    for stem in SETS:
        for half in ("tuning", "heldout"):
            queries, documents = read_pairs(fusion_identifiers.EVAL / f"{stem}_{half}.tsv")
            texts += queries + documents
    return list(dict.fromkeys(texts))


def main() -> None:
    if sys.argv[1:] == ["--texts"]:  # the texts alone: no embedding, no rows
        json.dump({"command": f"{COMMAND} --texts", **text_differences(all_texts())}, sys.stdout, indent=2)
        return
    weights = RetrievalSettings()
    texts = all_texts()
    embedder = load_embedder(EmbeddingSettings())
    s43b = {half: json.loads(path.read_text(encoding="utf-8")) for half, path in S43B.items()}
    halves = {
        f"{stem}_{half}": half_rows(embedder, stem, half, weights, s43b[half])
        for stem in SETS
        for half in ("tuning", "heldout")
    }
    equal = {
        label: sum(row[label]["equal"] for row in halves.values()) for label in ("languageRule", "languageLevelsOpen")
    }
    result = {
        "command": COMMAND,
        "model": embedder.model_id,
        "loadAverage": [round(value, 2) for value in os.getloadavg()],
        "s43bKeys": {"languageRule": KEYS[False], "languageLevelsOpen": KEYS[True]},
        "halves": len(halves),
        "halvesEqual": equal,
        "denseEqual": sum(row["dense"]["port"] == row["dense"]["s43b"] for row in halves.values()),
        "texts": text_differences(texts),
        "extractorCost": extractor_cost(texts),
        "perHalf": halves,
    }
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)


if __name__ == "__main__":
    main()
