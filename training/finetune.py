"""Fine-tune the converted e5 model on Dutch job pairs (``werkmatch embeddings finetune``).

The loss is MultipleNegativesRankingLoss as sentence-transformers defines it: per batch of
(query, document) pairs, the cross-entropy of each query's scaled cosines (scale 20) against all the
batch's documents, its own document being the right class (in-batch negatives). It is written out
here in plain torch so that the loop is short, single-threaded by choice and reproducible: a fixed
seed, the pairs in file order (batches are consecutive rows, :mod:`training.finetune_pairs` writes
them so an occupation does not repeat inside a batch), a fixed thread count.

Only the top encoder layers learn (:attr:`FinetuneSettings.trainable_layers`); the embeddings,
among them the 250,037-row word table (96 M of the 118 M weights), and the lower layers are frozen:
every language's vocabulary stays as it was (ESCO is English), and the lower layers need no backward
pass, which keeps a step affordable on two shared cores. The result is a sentence-transformers directory under the data
directory, named by a hash of the base model, the pairs, the settings and :data:`FINETUNE_VERSION`,
written to a temporary sibling and renamed; a second run with the same inputs reuses it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file
from tqdm import tqdm
from transformers import AutoModel, AutoTokenizer

from matching.converted_model import build_converted
from training.embedding_eval import write_pairs
from training.finetune_pairs import build_pairs, read_training_pairs

logger = logging.getLogger(__name__)

FINETUNE_VERSION = 1
WEIGHTS = "model.safetensors"


@dataclass(frozen=True)
class FinetuneSettings:
    """What a fine-tuning run depends on besides the base model and the pairs (all in the identity)."""

    seed: int = 0
    epochs: int = 1
    batch_size: int = 32
    # 2e-5 and the top 3 layers won on the tuning halves; 5e-5 with 6 layers lost on nl_pairs (README).
    learning_rate: float = 2e-5
    warmup_share: float = 0.1
    max_seq_length: int = 64
    # Only the top layers learn; the lower ones then need no backward pass (a quarter of the step's cost).
    trainable_layers: int = 3
    scale: float = 20.0  # sentence-transformers' MultipleNegativesRankingLoss default
    prefix: str = "query: "  # both sides: werkmatch embeds symmetrically (EmbeddingSettings.symmetric)
    threads: int = 2


def mnrl_loss(queries: torch.Tensor, documents: torch.Tensor, scale: float) -> torch.Tensor:
    """MultipleNegativesRankingLoss of unit vectors: row i's right document is row i."""
    scores = scale * queries @ documents.T
    return torch.nn.functional.cross_entropy(scores, torch.arange(len(queries)))


def encode(model: Any, tokenizer: Any, texts: list[str], max_seq_length: int) -> torch.Tensor:
    """Mean-pooled, L2-normalised sentence vectors (as the sentence-transformers directory pools)."""
    batch = tokenizer(texts, padding=True, truncation=True, max_length=max_seq_length, return_tensors="pt")
    hidden = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1)


def run_identity(base_dir: Path, pairs: list[tuple[str, str]], settings: FinetuneSettings) -> str:
    """12 hex digits naming a run: base model files, pairs, settings and the code version."""
    digest = hashlib.sha256(f"finetune-v{FINETUNE_VERSION}|{base_dir.name}".encode())
    for name in ("config.json", "tokenizer.json"):
        digest.update((base_dir / name).read_bytes())
    with (base_dir / WEIGHTS).open("rb") as handle:
        digest.update(handle.read(1 << 20))
    digest.update(json.dumps(pairs, ensure_ascii=False).encode())
    digest.update(json.dumps(asdict(settings), sort_keys=True).encode())
    return digest.hexdigest()[:12]


def finetuned_dir(data_dir: Path, base_dir: Path, pairs: list[tuple[str, str]], settings: FinetuneSettings) -> Path:
    """Where the run for these inputs lives under ``data_dir``."""
    return Path(data_dir) / "models" / f"e5-small-finetuned-{run_identity(base_dir, pairs, settings)}"


def load_for_training(base_dir: Path, settings: FinetuneSettings) -> tuple[Any, Any]:
    """The model and tokenizer of ``base_dir``, seeded, with all but the top layers frozen."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    torch.set_num_threads(settings.threads)
    torch.manual_seed(settings.seed)
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir), local_files_only=True)
    model = AutoModel.from_pretrained(str(base_dir), local_files_only=True)
    frozen = model.encoder.layer[: len(model.encoder.layer) - settings.trainable_layers]
    for part in (model.embeddings, *frozen):
        part.requires_grad_(False)
    return model, tokenizer


def train(
    model: Any, tokenizer: Any, pairs: list[tuple[str, str]], settings: FinetuneSettings, progress: bool = False
) -> tuple[list[float], int]:
    """The training loop; the mean loss per epoch and the number of steps."""
    batches = [pairs[i : i + settings.batch_size] for i in range(0, len(pairs), settings.batch_size)]
    batches = [batch for batch in batches if len(batch) > 1]  # one pair has no negative
    steps = len(batches) * settings.epochs
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=settings.learning_rate)
    warmup = max(1, int(steps * settings.warmup_share))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (steps - step) / max(1, steps - warmup)))
    )
    model.train()
    losses: list[float] = []
    with tqdm(total=steps, desc="fijnafstemmen", unit="stap", disable=not progress) as bar:
        for _ in range(settings.epochs):
            epoch: list[float] = []
            for batch in batches:
                queries = encode(model, tokenizer, [settings.prefix + q for q, _ in batch], settings.max_seq_length)
                documents = encode(model, tokenizer, [settings.prefix + d for _, d in batch], settings.max_seq_length)
                loss = mnrl_loss(queries, documents, settings.scale)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                schedule.step()
                epoch.append(float(loss.detach()))
                bar.update(1)
            losses.append(round(float(np.mean(epoch)), 4))
    model.eval()
    return losses, steps


def save_model(model: Any, base_dir: Path, target: Path, report: dict[str, Any]) -> None:
    """``base_dir`` with ``model``'s weights and ``report`` as ``finetune.json``, written whole or not at all."""
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        shutil.copytree(base_dir, partial, ignore=shutil.ignore_patterns(WEIGHTS, "finetune.json"))
        state = {name: tensor.detach().contiguous() for name, tensor in model.state_dict().items()}
        save_file(state, str(partial / WEIGHTS), metadata={"format": "pt"})
        (partial / "finetune.json").write_text(
            json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        shutil.rmtree(target, ignore_errors=True)
        os.replace(partial, target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def finetune(
    base_dir: Path,
    pairs: list[tuple[str, str]],
    target: Path,
    settings: FinetuneSettings | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Fine-tune the sentence-transformers directory ``base_dir`` on ``pairs`` into ``target``.

    Returns a report (pairs, steps, loss per epoch, seconds, the settings). ``target`` is written
    whole or not at all; an existing ``target`` is replaced.
    """
    settings = settings or FinetuneSettings()
    start = time.perf_counter()
    model, tokenizer = load_for_training(base_dir, settings)
    losses, steps = train(model, tokenizer, pairs, settings, progress)
    report = {
        "base": base_dir.name,
        "pairs": len(pairs),
        "steps": steps,
        "lossPerEpoch": losses,
        "seconds": round(time.perf_counter() - start, 1),
        "settings": asdict(settings),
        "version": FINETUNE_VERSION,
    }
    save_model(model, base_dir, target, report)
    return report


def run_finetune(
    data_dir: Path,
    pairs_file: Path | None = None,
    max_pairs: int = 640,
    settings: FinetuneSettings | None = None,
    progress: bool = False,
    detail_vacancies: int = 0,
) -> dict[str, Any]:
    """Convert (or reuse) the engine's model, check the pairs, fine-tune (or reuse the same run).

    Without ``pairs_file`` the pairs are generated (:func:`training.finetune_pairs.build_pairs` with
    ``detail_vacancies``, the first ``max_pairs`` rows) and written to
    ``<data_dir>/finetune/pairs-seed<seed>-detail<n>.tsv``; either way
    the file is read back through :func:`read_training_pairs`, which refuses duplicates, empty rows
    and leaks into ``data/eval``. Returns the report with ``model`` (the directory) and ``cached``.
    """
    settings = settings or FinetuneSettings()
    if pairs_file is None:
        pairs_file = Path(data_dir) / "finetune" / f"pairs-seed{settings.seed}-detail{detail_vacancies}.tsv"
        pairs_file.parent.mkdir(parents=True, exist_ok=True)
        generated = build_pairs(seed=settings.seed, detail_vacancies=detail_vacancies)[:max_pairs]
        write_pairs(pairs_file, [(pair.query, pair.document) for pair in generated])
    pairs = read_training_pairs(pairs_file)  # refused before anything slow happens
    start = time.perf_counter()
    base_dir = build_converted(data_dir)
    converted_seconds = round(time.perf_counter() - start, 1)
    target = finetuned_dir(data_dir, base_dir, pairs, settings)
    cached = (target / WEIGHTS).is_file()
    if cached:
        report = json.loads((target / "finetune.json").read_text(encoding="utf-8"))
    else:
        report = finetune(base_dir, pairs, target, settings, progress)
    return {
        **report,
        "model": str(target),
        "pairsFile": str(pairs_file),
        "cached": cached,
        "convertSeconds": converted_seconds,
        "totalSeconds": round(time.perf_counter() - start, 1),
    }


def adoption(
    engine: dict[str, float], candidate: dict[str, float], first_start_seconds: float, limit_seconds: float = 300.0
) -> dict[str, Any]:
    """Whether a fine-tuned model may become the default, from dense MRR per evaluation file.

    ``engine`` and ``candidate`` map a file name (``nl_pairs_heldout.tsv`` …) to dense MRR. Adopt only
    if the candidate beats the engine on the mean of the Dutch held-out halves, is not below it on any
    ESCO file, and the first start (convert + fine-tune, or load) fits ``limit_seconds``.
    """
    dutch = sorted(name for name in engine if name.endswith("_heldout.tsv") and not name.startswith("esco"))
    esco = sorted(name for name in engine if name.startswith("esco"))
    if not dutch or not esco or any(name not in candidate for name in engine):
        return {"adopt": False, "reasons": ["niet op alle evaluatiesets gemeten"]}
    dutch_engine = float(np.mean([engine[name] for name in dutch]))
    dutch_candidate = float(np.mean([candidate[name] for name in dutch]))
    reasons = []
    if dutch_candidate <= dutch_engine:
        reasons.append(f"Nederlands (achtergehouden): {dutch_candidate:.3f} is niet beter dan {dutch_engine:.3f}")
    reasons += [
        f"{name}: {candidate[name]:.3f} onder {engine[name]:.3f}" for name in esco if candidate[name] < engine[name]
    ]
    if first_start_seconds > limit_seconds:
        reasons.append(f"eerste start {first_start_seconds:.0f} s is langer dan {limit_seconds:.0f} s")
    return {
        "adopt": not reasons,
        "reasons": reasons,
        "dutchHeldout": {"engine": round(dutch_engine, 4), "candidate": round(dutch_candidate, 4)},
    }
