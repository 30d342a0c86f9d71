"""Do the pair sets' rows stay the same after a change that should not move them? (issue 19, item 3, session 45.)

Two refactorings are checked with it: ``werkmatch embeddings eval``'s hybrid reading the one BM25 per set that
:func:`training.embedding_eval.score_matrices` ranks with (no second ordinary BM25), and the taxonomy benches
importing session 42's extractor from :mod:`matching.identifiers` (``bench/fusion_taxonomy5.py``). Each mode writes
the rows of a few sets as JSON; run it once on a clean export of the commit before the change and once on the
change, and compare the two files (``--compare``). Vectors are cached per embedder call (the call's role and texts,
in order), so the second run embeds nothing and both read the same dense scores to the last bit:

* ``eval``: :func:`training.embedding_eval.evaluate_pairs` per half of ``--sets`` (the rows of
  ``werkmatch embeddings eval --pairs data/eval --json``), also compared with a reference result
  (``--reference``, e.g. ``bench/results/embeddings-eval-s44.json``);
* ``taxonomy7``: every candidate's MRR and recall@10 of :mod:`bench.fusion_taxonomy7` (the s43b run's 149 with the
  served one first) and its parts, per half of ``--sets``.

    flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python -m bench.fusion_same_rows \\
        eval --sets nl_register nl_voorwaarden nl_sjablonen nl_eisen --cache /tmp/vectors > before.json
    .venv/bin/python -m bench.fusion_same_rows --compare before.json after.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from matching.embedding import Embedder, load_embedder
from matching.settings import EmbeddingSettings, RetrievalSettings

EVAL = Path(__file__).resolve().parent.parent / "data" / "eval"
HALVES = ("tuning", "heldout")


class CallCache(Embedder):
    """``embedder``'s vectors per call, kept in ``folder`` (one ``.npy`` per role and texts): a second run that makes
    the same calls reads them back instead of embedding."""

    def __init__(self, embedder: Embedder, folder: Path) -> None:
        super().__init__()
        self.embedder, self.folder = embedder, folder
        self.model_id, self.dimension, self.prefixes = embedder.model_id, embedder.dimension, embedder.prefixes
        self.calls = {"cached": 0, "embedded": 0}

    def embed(self, texts: Sequence[str], role: str, progress: bool = False) -> np.ndarray:
        digest = hashlib.sha256("\x1e".join([self.model_id, role, *texts]).encode("utf-8")).hexdigest()
        path = self.folder / f"{digest}.npy"
        if path.exists():
            self.calls["cached"] += 1
            return np.load(path)
        vectors = self.embedder.embed(texts, role, progress)
        self.folder.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
        self.calls["embedded"] += 1
        return vectors

    def _embed(self, texts: list[str], role: str, progress: bool) -> np.ndarray:  # embed is overridden
        raise NotImplementedError


def eval_rows(embedder: Embedder, sets: list[str], reference: Path | None) -> dict:
    """``evaluate_pairs``' rows per half, and per half whether they equal ``reference``'s."""
    from training.embedding_eval import evaluate_pairs, read_pairs

    weights = RetrievalSettings()
    known = {}
    if reference is not None:
        known = {Path(one["file"]).name: one for one in json.loads(reference.read_text(encoding="utf-8"))["sets"]}
    rows = {}
    for stem in sets:
        for half in HALVES:
            file = f"{stem}_{half}.tsv"
            result = evaluate_pairs(embedder, *read_pairs(EVAL / file), weights)
            row = {"results": result["results"], "gateOpened": result["fusion"]["gateOpened"]}
            if file in known:
                row["equalsReference"] = row["results"] == known[file]["results"]
            rows[file] = row
    return rows


def taxonomy7_rows(embedder: Embedder, sets: list[str]) -> dict:
    """Every :mod:`bench.fusion_taxonomy7` candidate's metrics per half of ``sets``, and the parts."""
    from bench import fusion_confidence, fusion_taxonomy7

    weights = RetrievalSettings()
    out = {}
    for half in HALVES:
        loaded, parts = fusion_taxonomy7.load(embedder, half, tuple(sets))
        out[half] = {
            "parts": parts,
            "candidates": {
                name: fusion_confidence.row(fusion, loaded)["sets"]
                for name, (_, fusion) in fusion_taxonomy7.candidates(weights).items()
            },
        }
    return out


def compare(before: Path, after: Path) -> dict:
    """Where two runs' files differ (every leaf), and how many leaves they hold."""
    differ: list[str] = []

    def walk(one, other, at: str) -> int:
        if isinstance(one, dict) and isinstance(other, dict):
            if one.keys() != other.keys():
                differ.append(f"{at}: keys")
            return sum(walk(one[key], other[key], f"{at}/{key}") for key in one.keys() & other.keys())
        if one != other:
            differ.append(f"{at}: {one!r} != {other!r}")
        return 1

    first, second = (json.loads(path.read_text(encoding="utf-8"))["rows"] for path in (before, after))
    leaves = walk(first, second, "")
    return {"before": str(before), "after": str(after), "leaves": leaves, "differ": len(differ), "cases": differ[:40]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", choices=("eval", "taxonomy7"))
    parser.add_argument("--sets", nargs="+", default=[])
    parser.add_argument("--cache", type=Path, help="folder of the vectors per embedder call")
    parser.add_argument("--reference", type=Path, help="eval: a werkmatch embeddings eval result to compare with")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    arguments = parser.parse_args()
    if arguments.compare:
        json.dump(compare(*arguments.compare), sys.stdout, indent=2, ensure_ascii=False)
        return
    if not arguments.mode or not arguments.sets or not arguments.cache:
        parser.error("a mode, --sets and --cache, or --compare")
    embedder = CallCache(load_embedder(EmbeddingSettings()), arguments.cache)
    if arguments.mode == "eval":
        rows = eval_rows(embedder, arguments.sets, arguments.reference)
    else:
        rows = taxonomy7_rows(embedder, arguments.sets)
    result = {"mode": arguments.mode, "sets": arguments.sets, "model": embedder.model_id, "rows": rows}
    json.dump({**result, "embedderCalls": embedder.calls}, sys.stdout, indent=2, ensure_ascii=False)


if __name__ == "__main__":
    main()
