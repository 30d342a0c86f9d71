"""Issue 19 item 4: what limits the fine-tuned e5, measured on the TUNING halves only.

One variant per call: generate pairs (:func:`training.finetune_pairs.build_pairs`), fine-tune the
converted model in memory (:func:`training.finetune.train`, the trainer ``werkmatch embeddings
finetune`` runs) and report dense MRR on every ``data/eval/*_tuning.tsv`` file; ``--steps 0`` reports
the converted model itself. Embedding for the evaluation is the sentence-transformers directory's
(mean pooling, normalised, ``query: `` on both sides as werkmatch embeds, 128 tokens). A trained
variant is kept under ``<data-dir>/models/sweep-<name>``; only the one chosen on the tuning halves
is then read back once with ``--model-dir … --half heldout``.
→ ``bench/results/finetune-sweep-<name>.json``

    nice -n 15 .venv/bin/python bench/finetune_sweep.py --name base --steps 0
    nice -n 15 .venv/bin/python bench/finetune_sweep.py --name detail --detail-vacancies 2400 --steps 20
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from matching.converted_model import build_converted
from training.embedding_eval import pair_files, read_sets
from training.finetune import FinetuneSettings, encode, load_for_training, save_model, train
from training.finetune_pairs import build_pairs

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
EVAL_SEQ = 128


def dense_mrr(model: object, tokenizer: object, queries: list[str], documents: list[str], prefix: str) -> float:
    """MRR of each query's own document (row i) among all the file's documents."""
    with torch.no_grad():
        vectors = [
            torch.cat(
                [
                    encode(model, tokenizer, [prefix + t for t in texts[i : i + 64]], EVAL_SEQ)
                    for i in range(0, len(texts), 64)
                ]
            )
            for texts in (queries, documents)
        ]
    scores = (vectors[0] @ vectors[1].T).numpy()
    right = scores[np.arange(len(queries)), np.arange(len(queries))]
    ranks = 1 + (scores > right[:, None]).sum(axis=1)
    return round(float(np.mean(1.0 / ranks)), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/wm-g-ft"))
    parser.add_argument("--steps", type=int, default=20, help="batches of training (0: the converted model)")
    parser.add_argument("--vacancies", type=int, default=1200)
    parser.add_argument("--detail-vacancies", type=int, default=0)
    parser.add_argument("--learning-rate", type=float, default=FinetuneSettings.learning_rate)
    parser.add_argument("--layers", type=int, default=FinetuneSettings.trainable_layers)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max-seq-length", type=int, default=FinetuneSettings.max_seq_length)
    parser.add_argument("--model-dir", type=Path, help="evaluate this saved model instead of training one")
    parser.add_argument(
        "--half", choices=("tuning", "heldout"), default="tuning", help="heldout: the chosen model, once"
    )
    args = parser.parse_args()
    settings = FinetuneSettings(
        learning_rate=args.learning_rate,
        trainable_layers=args.layers,
        epochs=args.epochs,
        max_seq_length=args.max_seq_length,
    )
    base_dir = build_converted(args.data_dir)
    model, tokenizer = load_for_training(args.model_dir or base_dir, settings)
    out: dict = {"name": args.name, "settings": asdict(settings), "steps": args.steps}
    if args.steps and not args.model_dir:
        pairs = build_pairs(args.vacancies, settings.seed, detail_vacancies=args.detail_vacancies)
        chosen = [(p.query, p.document) for p in pairs[: args.steps * settings.batch_size]]
        start = time.perf_counter()
        losses, steps = train(model, tokenizer, chosen, settings, progress=True)
        out |= {
            "pairs": len(chosen),
            "available": len(pairs),
            "lossPerEpoch": losses,
            "trainSeconds": round(time.perf_counter() - start, 1),
        }
        # Kept so that the variant chosen on the tuning halves is evaluated once on the held-out ones.
        out["model"] = str(args.data_dir / "models" / f"sweep-{args.name}")
        save_model(model, base_dir, Path(out["model"]), {"settings": asdict(settings), "steps": steps})
    model.eval()
    files = [f for f in pair_files([ROOT / "data" / "eval"]) if f.name.endswith(f"_{args.half}.tsv")]
    out["dense"] = {f.name: dense_mrr(model, tokenizer, *sets, settings.prefix) for f, sets in read_sets(files).items()}
    dutch = [v for k, v in out["dense"].items() if not k.startswith("esco")]
    out["half"], out["dutchMean"] = args.half, round(float(np.mean(dutch)), 4)
    with open("/proc/loadavg", encoding="utf-8") as handle:
        out["loadavg"] = handle.read().split()[:3]
    out["command"] = "nice -n 15 .venv/bin/python " + " ".join(["bench/finetune_sweep.py", *sys.argv[1:]])
    (RESULTS / f"finetune-sweep-{args.name}.json").write_text(
        json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(json.dumps(out, indent=2, ensure_ascii=False))  # noqa: T201


if __name__ == "__main__":
    main()
