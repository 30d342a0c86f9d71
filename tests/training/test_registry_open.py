"""Processes that open a new MLflow store at the same moment all get it (``training.registry.client``): MLflow
makes its tables on a store's first open, and without one process at a time two of them both tried ("table …
already exists": a trainer beside serving processes that poll the registry, on a fresh data directory)."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from matching.settings import Settings
from training import registry

pytestmark = pytest.mark.slow  # four spawned processes that import MLflow: 80 s of a loaded quick run

PROCESSES = 4


def _open(data_dir: str, barrier: Any) -> str:
    barrier.wait()  # every process has imported and starts opening the store together
    return registry.client(Settings(data_dir=Path(data_dir))).get_experiment_by_name(registry.EXPERIMENT).name


def test_processes_opening_a_new_store_at_once_all_get_it(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(PROCESSES, mp_context=context) as pool:
        barrier = manager.Barrier(PROCESSES)
        names = list(pool.map(_open, [str(tmp_path)] * PROCESSES, [barrier] * PROCESSES))
    assert names == [registry.EXPERIMENT] * PROCESSES
    assert len(registry.client(Settings(data_dir=tmp_path)).search_experiments()) == 2  # Default and ours, once
