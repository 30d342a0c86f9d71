"""The live searches at national size under two variants of the code, alternating per query in one process.

Shared by the benches that compare a change to the live search (``bench/live_listing.py``,
``bench/live_explained.py``, ``bench/live_tree_shap.py``): each passes ``variant(new)``, which switches the code
to the new (``True``) or the old variant (:func:`at_commit` loads a module as it was at a commit). Per query
each variant runs once, the first of the two alternating; every list (candidates within reach, heleBestand, a
client's vacancies, top 50) is asserted the same JSON both ways. Per-search milliseconds, their percentiles, how
often the new variant was faster and the load average are printed as JSON. ``WERKMATCH_DATA_DIR`` is a copy of
the demo world whose ``bench-400000`` is the national one.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import ModuleType

import numpy as np
from sqlmodel import Session, select

from api.cli.common import matcher, settings
from matching.domain import Client, Vacancy
from matching.hard_filters import CandidateFilters
from training.benchmark import prepare_scale_data

WARM_UP = 5  # queries per kind and variant before the timings: arrays, the weights by record, query vectors


def at_commit(module: ModuleType, commit: str) -> ModuleType:
    """``module`` as it was at ``commit``, loaded under a name of its own (the current one stays)."""
    path = module.__name__.replace(".", "/") + ".py"
    repo = os.environ.get("WERKMATCH_BEFORE_REPO", ".")  # a copy of the tree to run elsewhere names the checkout
    show = ["git", "-C", repo, "show", f"{commit}:{path}"]
    source = subprocess.run(show, check=True, capture_output=True, text=True).stdout
    name = f"{module.__name__}_before"
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    old = importlib.util.module_from_spec(spec)
    old.__file__ = module.__file__
    sys.modules[name] = old  # dataclasses and typing look their module up by name
    exec(compile(source, f"{commit}:{path}", "exec"), old.__dict__)  # noqa: S102 - our own code at a commit
    return old


def _percentiles(values: list[float]) -> dict[str, float]:
    array = np.asarray(values)
    return {"p50": round(float(np.percentile(array, 50)), 2), "p95": round(float(np.percentile(array, 95)), 2)}


def compare(variant: Callable[[bool], None], *, default_queries: int = 40) -> None:
    """Time the old and the new variant on the national world and print the result (see the module)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=default_queries)
    args = parser.parse_args()
    config = settings()
    found = matcher(config)
    found.sync()
    scale = config.model_copy(update={"data_dir": config.data_dir / "bench-400000"})
    # prepare_scale_data ends synced: a second sync would read every record again (minutes at this size)
    live = prepare_scale_data(found, scale, 400000, 300000, config.demo_seed)
    rng = np.random.default_rng(1)
    with Session(live.engine) as session:
        open_vacancies = [v.vacature_nummer for v in session.exec(select(Vacancy).where(Vacancy.status == "open"))]
        clients = list(session.exec(select(Client.client_nummer)))
    vacancy_sample = list(rng.choice(open_vacancies, size=args.queries + WARM_UP))
    client_sample = list(rng.choice(clients, size=args.queries + WARM_UP))
    whole = CandidateFilters(whole_bestand=True)
    kinds = {
        "candidateSearch": (vacancy_sample, lambda ref: live.search_candidates(ref, 50)),
        "candidateSearchHeleBestand": (vacancy_sample, lambda ref: live.search_candidates(ref, 50, filters=whole)),
        "vacancySearch": (client_sample, lambda ref: live.search_vacancies(ref, 50)),
    }
    for new in (False, True):
        variant(new)
        for refs, search in kinds.values():
            for ref in refs[:WARM_UP]:
                search(ref)
    times: dict[str, dict[str, list[float]]] = {kind: {"before": [], "after": []} for kind in kinds}
    faster = dict.fromkeys(kinds, 0)
    load_before = os.getloadavg()
    for at in range(WARM_UP, args.queries + WARM_UP):
        for kind, (refs, search) in kinds.items():
            search(refs[at])  # untimed: the query's vector embedded and cached for both
            answers, took = {}, {}
            for new in (at % 2 == 0, at % 2 != 0):
                variant(new)
                start = time.perf_counter()
                answers[new] = search(refs[at]).to_json()
                took[new] = (time.perf_counter() - start) * 1e3
                times[kind]["after" if new else "before"].append(took[new])
            assert answers[True] == answers[False], (kind, refs[at])
            faster[kind] += took[True] < took[False]
    variant(True)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "queries": args.queries,
        "clients": len(clients),
        "openVacancies": len(open_vacancies),
        "ranker": live.ranker_status(),
        "load": {"beforeTimings": load_before, "afterTimings": os.getloadavg()},
        "identicalLists": True,
        "afterFasterIn": faster,
        **{kind: {side: _percentiles(values) for side, values in both.items()} for kind, both in times.items()},
        "perSearchMs": times,
    }
    print(json.dumps(result, default=str))
