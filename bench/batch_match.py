"""Rows per second and wall of ``werkmatch batch match`` with 1 and 2 Ray Data workers, back to back in one run.

Run: nice -n 10 .venv/bin/python bench/batch_match.py [--source /tmp/wm-demo] [--workers 1 2]
Writes bench/results/national-batch-match.json (or --out). The world (default: the demo world, 9,000
clients and 3,000 vacancies) is copied to a temporary directory and migrated; each variant is a whole
new run (the one before it finished, so nothing is resumed), on one local Ray of this machine's CPUs
(1 GB object store, no dashboard), one CPU per worker. The projection for the national case scales
this run's cost per list by the live search's latency at 400,000 clients / 300,000 vacancies
(bench/results/national-search.json: the batch runs the live search), divided over the workers with
this run's measured gain from the second worker. The machine is shared: the load average before and
after each variant is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from matching.settings import Settings
from matching.store import make_engine
from training.batch_embed import RaySizing
from training.batch_match import match_bestand

ROOT = Path(__file__).resolve().parents[1]
NATIONAL = ROOT / "bench" / "results" / "national-search.json"
NATIONAL_CLIENTS = 400_000


def _variant(settings: Settings, workers: int) -> dict[str, object]:
    engine = make_engine(settings.resolved_database_url)
    load_before = os.getloadavg()
    report = match_bestand(settings, engine, workers=workers, sizing=RaySizing())
    engine.dispose()
    lists = report.vacancy_lists + report.client_lists
    return {
        **report.to_json(),
        "lists_per_s": round(lists / report.seconds, 2),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }


def _projection(variants: list[dict], national: dict) -> dict[str, object]:
    """National hours: the national lists at the national live search's p50, spread as this run spread them."""
    one = next(v for v in variants if v["workers"] == 1)
    widest = max(variants, key=lambda v: v["workers"])
    gain = widest["lists_per_s"] / one["lists_per_s"]  # what the extra workers bought here
    demo_seconds_per_list = 1 / one["lists_per_s"]
    national_cpu_s = (
        national["openVacancies"] * national["candidateSearch"]["p50Ms"]
        + NATIONAL_CLIENTS * national["vacancySearch"]["p50Ms"]
    ) / 1000
    return {
        "national_open_vacancies": national["openVacancies"],
        "national_clients": NATIONAL_CLIENTS,
        "live_p50_ms": {
            "candidates": national["candidateSearch"]["p50Ms"],
            "vacancies": national["vacancySearch"]["p50Ms"],
        },
        "demo_seconds_per_list_1_worker": round(demo_seconds_per_list, 4),
        "gain_from_workers": round(gain, 2),
        "hours_1_worker": round(national_cpu_s / 3600, 2),
        f"hours_{widest['workers']}_workers_this_machine": round(national_cpu_s / gain / 3600, 2),
        "hours_dedicated_machines_of_2_cpus": {
            str(machines): round(national_cpu_s / (2 * machines) / 3600, 2) for machines in (1, 4, 16, 64)
        },
        "note": "the search latency at national scale, not the batch's own per-list overhead, is assumed per list",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", type=Path, default=Path("/tmp/wm-demo"))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "national-batch-match.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wm-batch-match-") as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(args.source, data, ignore=shutil.ignore_patterns("index.lock", "batch.lock"))
        os.environ["WERKMATCH_DATA_DIR"] = str(data)
        werkmatch = str(Path(sys.executable).parent / "werkmatch")
        subprocess.run([werkmatch, "db", "upgrade", "--json"], check=True, capture_output=True)
        variants = [_variant(Settings(), workers) for workers in args.workers]
    result = {
        "command": " ".join(["nice -n 10 .venv/bin/python", *sys.argv]),
        "source": str(args.source),
        "variants": variants,
        "projection": _projection(variants, json.loads(NATIONAL.read_text())) if 1 in args.workers else None,
        "git": subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
