"""How near each other the owners of one nightly-batch partition are, for ways to cut partitions by place.

Run: WERKMATCH_DATA_DIR=<a copy of the national world> nice -n 10 .venv/bin/python bench/batch_match_cells.py
    [--out bench/results/national-batch-cells-s30-p.json]
Per side (the open vacancies, the clients) and per way of cutting (id ranges of 100 as before session 30; a
cell, then within the cell by PC4 and id in near-equal chunks of at most 100, as
:func:`matching.batch_lists.plan`, with the cell a PC2 or PC3 prefix, the woonplaats, or a grid of 0.05° or
0.1° latitude): the partitions, their owners (mean, 10th percentile), and over 400 partitions drawn at random
the largest distance between two owners (median, 90th percentile), the share of owner pairs within 5 km
(a cyclist's half hour: 15 km/h × 0.5 h / 1.3 detour) and at the same PC4 (what their reach shares exactly).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlmodel import Session, select

from matching import geo
from matching.batch_lists import plan
from matching.domain import Client, Vacancy, VacancyStatus
from matching.settings import Settings
from matching.store import make_engine

ROOT = Path(__file__).resolve().parents[1]


def _grid(step: float) -> Callable[[str], str]:
    table = geo.load_pc4()

    def cell(postcode: str) -> str:
        lat, lon = table.coordinates(postcode[:4])
        return f"{int(lat // step)}:{int(lon // (step * 1.6))}"  # 1.6: about square at 52° N

    return cell


CELLS: dict[str, Callable[[str], str]] = {
    "pc2": lambda postcode: postcode[:2],
    "pc3": lambda postcode: postcode[:3],
    "woonplaats": lambda postcode: geo.place_of(postcode) or postcode[:4],
    "grid 0.05": _grid(0.05),
    "grid 0.1": _grid(0.1),
}


def _partitions(owners: list[tuple[int, str]], way: str) -> list[list[str]]:
    """Each partition's owners' PC4s."""
    if way == "ids":
        chunks: dict[int, list[str]] = collections.defaultdict(list)
        for owner, postcode in owners:
            chunks[owner // 100].append(postcode[:4])
        return list(chunks.values())
    if way != "woonplaats":
        return _plan_by(owners, CELLS[way])
    place = dict(owners)
    return [[place[owner][:4] for owner in part.owners] for part in plan("x", owners, 100)]  # the batch's own


def _plan_by(owners: list[tuple[int, str]], cell: Callable[[str], str]) -> list[list[str]]:
    """As :func:`matching.batch_lists.plan` with another cell: within a cell by PC4 then id, near-equal chunks."""
    by_cell: dict[str, list[tuple[str, int]]] = collections.defaultdict(list)
    for owner, postcode in owners:
        by_cell[cell(postcode)].append((postcode[:4], owner))
    found = []
    for members in by_cell.values():
        codes = [code for code, _ in sorted(members)]
        found += [list(chunk) for chunk in np.array_split(np.array(codes), -(-len(codes) // 100))]
    return found


def _measure(parts: list[list[str]], rng: np.random.Generator) -> dict[str, float]:
    table = geo.load_pc4()
    sizes = np.array([len(part) for part in parts])
    widest, near, same = [], [], []
    for at in rng.choice(len(parts), min(400, len(parts)), replace=False):
        codes = parts[at]
        places = table.coords[[table.position[code] for code in codes]]
        km = geo.haversine_km(places[:, None, 0], places[:, None, 1], places[None, :, 0], places[None, :, 1])
        widest.append(float(km.max()))
        near.append(float((km <= 5).mean()))
        counts = collections.Counter(codes)
        same.append(sum(n * n for n in counts.values()) / len(codes) ** 2)
    return {
        "partitions": len(parts),
        "owners_mean": round(float(sizes.mean()), 1),
        "owners_p10": float(np.percentile(sizes, 10)),
        "widest_km_p50": round(float(np.median(widest)), 1),
        "widest_km_p90": round(float(np.percentile(widest, 90)), 1),
        "pairs_within_5_km": round(float(np.mean(near)), 3),
        "pairs_at_one_pc4": round(float(np.mean(same)), 3),
        "pc4s_per_partition": round(float(np.mean([len(set(part)) for part in parts])), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "national-batch-cells-s30-p.json")
    args = parser.parse_args()
    engine = make_engine(Settings().resolved_database_url)
    with Session(engine) as session:
        sides = {
            "vacatures": session.exec(
                select(Vacancy.id, Vacancy.postcode).where(Vacancy.status == VacancyStatus.OPEN.value)
            ).all(),
            "klanten": session.exec(select(Client.id, Client.postcode)).all(),
        }
    engine.dispose()
    result: dict[str, object] = {
        "command": " ".join(["nice -n 10 .venv/bin/python", *sys.argv]),
        "load_average": os.getloadavg(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    for side, owners in sides.items():
        rng = np.random.default_rng(0)
        result[side] = {
            way: _measure(_partitions(list(owners), way), rng)  # type: ignore[arg-type]
            for way in ("ids", *CELLS)
        }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
