"""The gendered-word fold before and after its memo: every record rendered and analysed; a batch worker's start.

Run: WERKMATCH_DATA_DIR=<a migrated copy of the demo world> nice -n 10 .venv/bin/python bench/gendered_memo.py
    --before <matching/gendered.py of the commit before> [--rounds 3] [--starts 3]
    [--out bench/results/gendered-memo.json]

1. In this process, every client and vacancy of the database (read once) goes through what an index start
   does per record (:meth:`matching.index_sync.IndexSync._prepare_side`): the embedder's input (fields or
   text, per ``embedding.compose``), the lexical text, and the BM25 analyser's tokens of it. Once with the
   earlier ``gendered.py`` (``--before``, loaded from its file and patched into ``matching.text``,
   ``matching.lexical``) and once with this one, alternating (before, after, before, after, …), each
   round with every fold cache emptied first (as in a fresh process). Process CPU seconds per round; the
   outputs of both are compared (they must be identical).
2. A batch worker's start (:class:`training.batch_match.ListWorker`, what ``bench/batch_match_slice.py``
   times as ``worker_start``) in a fresh subprocess each, the earlier module installed as
   ``matching.gendered`` before anything imports it, alternating with this code: CPU and wall seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _load_before(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("gendered_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _clear(module: ModuleType) -> None:
    for name in ("neutral_form", "neutral_word", "_neutral_piece"):
        if hasattr(module, name):
            getattr(module, name).cache_clear()


def _records() -> tuple[Any, list[Any], list[Any]]:
    from sqlmodel import Session, select

    from matching.domain import Client, Vacancy
    from matching.settings import Settings
    from matching.store import make_engine

    settings = Settings()
    with Session(make_engine(settings.resolved_database_url)) as session:
        clients = list(session.exec(select(Client)))
        vacancies = list(session.exec(select(Vacancy)))
        session.expunge_all()
    return settings, clients, vacancies


def _one_round(settings: Any, clients: list[Any], vacancies: list[Any]) -> tuple[float, str]:
    """Process CPU seconds of every record's three texts (as an index start makes them) and a digest of them."""
    from matching import text
    from matching.lexical import DutchAnalyzer
    from matching.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    analyse = DutchAnalyzer()
    fields = settings.embedding.compose == "fields"
    out = hashlib.sha256()
    start = time.process_time()
    for rows, render, make_fields in (
        (clients, text.render_client, text.client_fields),
        (vacancies, text.render_vacancy, text.vacancy_fields),
    ):
        for row in rows:
            dense = make_fields(row, taxonomy) if fields else render(row, taxonomy)
            lexical = render(row, taxonomy, True)
            tokens = analyse(lexical)
            out.update(repr((dense, lexical, tokens)).encode())
    return time.process_time() - start, out.hexdigest()


def render_and_analyse(before_path: Path, rounds: int) -> dict[str, Any]:
    from matching import gendered, lexical, text

    before = _load_before(before_path)
    settings, clients, vacancies = _records()
    variants = {
        "before": {"neutral_text": before.neutral_text, "fold": before.fold, "neutral_form": before.neutral_form},
        "after": {"neutral_text": gendered.neutral_text, "fold": gendered.fold, "neutral_form": gendered.neutral_form},
    }
    spent: dict[str, list[float]] = {"before": [], "after": []}
    digests: dict[str, set[str]] = {"before": set(), "after": set()}
    for _ in range(rounds):
        for name, functions in variants.items():
            text.neutral_text = functions["neutral_text"]
            lexical.fold, lexical.neutral_form = functions["fold"], functions["neutral_form"]
            _clear(before)
            _clear(gendered)
            cpu, digest = _one_round(settings, clients, vacancies)
            spent[name].append(round(cpu, 3))
            digests[name].add(digest)
            print(f"render+analyse {name}: {cpu:.2f} s CPU", flush=True)
    text.neutral_text = gendered.neutral_text
    lexical.fold, lexical.neutral_form = gendered.fold, gendered.neutral_form
    info = gendered.neutral_word.cache_info()
    return {
        "records": {"clients": len(clients), "vacancies": len(vacancies)},
        "compose": settings.embedding.compose,
        "cpu_s": spent,
        "cpu_s_min": {name: min(values) for name, values in spent.items()},
        "identical_outputs": digests["before"] == digests["after"] and len(digests["after"]) == 1,
        "distinct_words_after_one_round": info.currsize,
        "word_cache_maxsize": info.maxsize,
    }


def worker_start(before_path: Path | None) -> dict[str, float]:
    """(In a fresh process.) A batch worker's start, the earlier fold installed first when ``before_path``."""
    if before_path is not None:
        spec = importlib.util.spec_from_file_location("matching.gendered", before_path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["matching.gendered"] = module
        spec.loader.exec_module(module)
    from matching.settings import Settings
    from training.batch_match import ListWorker

    started, wall = time.process_time(), time.perf_counter()
    worker = ListWorker(Settings())
    found = {"cpu_s": round(time.process_time() - started, 2), "wall_s": round(time.perf_counter() - wall, 2)}
    found["module"] = sys.modules["matching.gendered"].__file__
    del worker
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the earlier matching/gendered.py")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--starts", type=int, default=3, help="worker starts of each version (alternating)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/gendered-memo.json")
    parser.add_argument("--worker-start", choices=("before", "after"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_start:
        print(json.dumps(worker_start(args.before if args.worker_start == "before" else None)))
        return
    load_before = os.getloadavg()
    result: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_dir": os.environ.get("WERKMATCH_DATA_DIR"),
        "commit": subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip(),
        "before_module": str(args.before),
        "render_and_analyse": render_and_analyse(args.before, args.rounds),
    }
    starts: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for _ in range(args.starts):
        for name in ("before", "after"):
            command = [sys.executable, __file__, "--before", str(args.before), "--worker-start", name]
            done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True)
            starts[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"worker start {name}: {starts[name][-1]}", flush=True)
    result["worker_start"] = starts | {
        "cpu_s_min": {name: min(item["cpu_s"] for item in items) for name, items in starts.items()}
    }
    result["loadavg"] = {"before": load_before, "after": os.getloadavg()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
