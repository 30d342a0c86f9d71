"""The decided pairs' features, built in bounded chunks and spilled to disk (``<data dir>/ranking``).

:func:`training.dataset.build_dataset` first *plans* every decided pair as five numpy columns
(:class:`PairPlan`: about 36 bytes a pair, so 5 million pairs take 180 MB), then computes the
feature matrix chunk by chunk, each chunk :data:`CHUNK_VACANCIES` whole vacancy groups, and writes
every chunk as one ``.npy`` shard. Only one chunk's vectors, BM25 scores and features are in memory
at a time; the shards are read back (memory-mapped) into the one float32 matrix LightGBM trains on
(25 columns × 4 bytes: 500 MB at 5 million pairs).

A shard is written to ``<name>.tmp``, flushed, fsynced and renamed, so a crash leaves the old state
or a whole shard, never half of one under the name a rerun reads. Shards live in a folder named
after everything the features depend on (:func:`build_key`: the planned pairs, ``now``, the feature
list, the chunking): a rerun of the very same build (same ``now``) reuses the shards already
complete and computes only the rest; any other build never reads them. A finished build deletes its
folder; folders of builds that crashed are deleted by a later build once :data:`STALE_AFTER_S` old.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from matching.features import FEATURE_NAMES, pair_matrix
from matching.matcher import Matcher
from matching.outcomes import RelevanceLabel
from matching.structured import ClientArrays, VacancyArrays

OPEN_LABEL = 1
CHUNK_VACANCIES = 2_000
"""Vacancy groups per shard: at the demo's 5.5 decided pairs a vacancy about 11,000 rows (1.1 MB of
features); the national history's 17 pairs a vacancy make 34,000 rows (3.4 MB)."""
STALE_AFTER_S = 6 * 3600
STORE_FOLDER = "ranking"


@dataclass(frozen=True)
class PairPlan:
    """Every decided pair as columns, sorted by (vacancy moment, vacancy id, client id)."""

    client_ids: np.ndarray  # (n,) int64
    vacancy_ids: np.ndarray  # (n,) int64, contiguous groups
    labels: np.ndarray  # (n,) int64
    decided: np.ndarray  # (n,) float64 epoch seconds: when the pair reached its state
    moments: np.ndarray  # (n,) float64 epoch seconds: the vacancy's first voorstel (or judgement)

    def __len__(self) -> int:
        return len(self.labels)

    def chunks(self, chunk_vacancies: int) -> list[tuple[int, int]]:
        """Row ranges ``[start, stop)`` of ``chunk_vacancies`` whole vacancy groups each."""
        if not len(self):
            return []
        starts = np.flatnonzero(np.r_[True, self.vacancy_ids[1:] != self.vacancy_ids[:-1]])
        bounds = [*starts[::chunk_vacancies].tolist(), len(self)]
        return list(zip(bounds[:-1], bounds[1:], strict=True))


def plan_pairs(
    labelled: Sequence[RelevanceLabel], first_seen: dict[int, float], client_ids: np.ndarray, vacancy_ids: np.ndarray
) -> PairPlan:
    """The decided labels (not the open label 1) of known clients and vacancies, as sorted columns.

    Args:
        labelled: The label source's rows (one per pair).
        first_seen: Epoch seconds of each vacancy's first voorstel; a vacancy judged only in the inbox
            gets its first judgement's moment.
        client_ids: The ids the matcher has arrays (and vectors) for; others are left out.
        vacancy_ids: Likewise for vacancies.
    """
    count = len(labelled)
    clients = np.fromiter((row.client_id for row in labelled), np.int64, count)
    vacancies = np.fromiter((row.vacancy_id for row in labelled), np.int64, count)
    labels = np.fromiter((row.label for row in labelled), np.int64, count)
    decided = np.fromiter((row.decided_at.timestamp() for row in labelled), np.float64, count)
    keep = (labels != OPEN_LABEL) & np.isin(clients, client_ids) & np.isin(vacancies, vacancy_ids)
    clients, vacancies, labels, decided = clients[keep], vacancies[keep], labels[keep], decided[keep]
    unique, inverse = np.unique(vacancies, return_inverse=True)
    earliest = np.full(len(unique), np.inf)
    np.minimum.at(earliest, inverse, decided)
    seen = np.fromiter((first_seen.get(int(v), np.inf) for v in unique), np.float64, len(unique))
    moments = np.minimum(seen, earliest)[inverse]
    order = np.lexsort((clients, vacancies, moments))
    return PairPlan(clients[order], vacancies[order], labels[order], decided[order], moments[order])


def build_key(plan: PairPlan, now: datetime, chunk_vacancies: int) -> str:
    """What a shard's content depends on, as 16 hex digits: the pairs, ``now``, the features, the chunking."""
    digest = hashlib.sha256()
    for array in (plan.client_ids, plan.vacancy_ids):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update(f"{now.isoformat()}|{','.join(FEATURE_NAMES)}|{chunk_vacancies}".encode())
    return digest.hexdigest()[:16]


def save_atomic(path: Path, array: np.ndarray) -> None:
    """Write ``array`` as ``path`` (.npy) via a temporary file, fsync and rename: whole or absent."""
    partial = path.with_name(path.name + ".tmp")
    with open(partial, "wb") as handle:
        np.save(handle, array)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def trusted_shard(path: Path, rows: int) -> np.ndarray | None:
    """The shard at ``path`` memory-mapped when it is whole and has ``rows`` feature rows; else None."""
    try:
        shard = np.load(path, mmap_mode="r")
    except (OSError, ValueError):  # absent, or cut short (a header or data shorter than it says)
        return None
    if shard.dtype != np.float32 or shard.shape != (rows, len(FEATURE_NAMES)):
        return None
    return shard


class _LexicalLookup:
    """Each vacancy's BM25 of its text against every client, divided by the best, read for given clients."""

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher
        ids, _ = matcher.sides["clients"].lexical.scores("")
        self.order = np.argsort(ids, kind="stable")
        self.sorted_ids = ids[self.order]

    def normalised(self, vacancy_id: int, client_ids: np.ndarray) -> np.ndarray:
        ids, scores = self.matcher.sides["clients"].lexical.scores(
            self.matcher.sides["vacancies"].lexical_texts[vacancy_id]
        )
        out = np.zeros(len(client_ids), np.float32)
        best = float(scores.max()) if len(scores) else 0.0
        if best <= 0 or not len(ids):
            return out
        if len(ids) != len(self.sorted_ids):  # the index changed under us: look it up afresh
            self.order = np.argsort(ids, kind="stable")
            self.sorted_ids = ids[self.order]
        where = np.minimum(np.searchsorted(self.sorted_ids, client_ids), len(ids) - 1)
        found = self.sorted_ids[where] == client_ids
        out[found] = (scores / best)[self.order[where[found]]]
        return out


def chunk_features(
    matcher: Matcher,
    clients: ClientArrays,
    vacancies: VacancyArrays,
    plan: PairPlan,
    rows: tuple[int, int],
    now: datetime,
    lexical: _LexicalLookup,
) -> np.ndarray:
    """The feature rows ``[start, stop)`` of ``plan`` (whole vacancy groups), as search computes them."""
    start, stop = rows
    client_ids, vacancy_ids = plan.client_ids[start:stop], plan.vacancy_ids[start:stop]
    client_side, vacancy_side = matcher.sides["clients"], matcher.sides["vacancies"]
    assert client_side.vectors is not None and vacancy_side.vectors is not None
    dense = np.einsum(
        "ij,ij->i", client_side.vectors.vectors(client_ids), vacancy_side.vectors.vectors(vacancy_ids)
    ).astype(np.float32)
    text = np.zeros(len(client_ids), np.float32)
    bounds = np.flatnonzero(np.r_[True, vacancy_ids[1:] != vacancy_ids[:-1], True])
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        text[lo:hi] = lexical.normalised(int(vacancy_ids[lo]), client_ids[lo:hi])
    c_rows = np.fromiter((clients.position[int(i)] for i in client_ids), np.int64, len(client_ids))
    v_rows = np.fromiter((vacancies.position[int(i)] for i in vacancy_ids), np.int64, len(vacancy_ids))
    return pair_matrix(clients, c_rows, vacancies, v_rows, dense, text, now)


def _shards(folder: Path, plan: PairPlan, chunk_vacancies: int) -> Iterator[tuple[Path, tuple[int, int]]]:
    for number, rows in enumerate(plan.chunks(chunk_vacancies)):
        yield folder / f"shard-{number:05d}.npy", rows


def _forget_stale(store: Path, keep: Path) -> None:
    """Delete the folders of builds that crashed long ago (a live build touches its folder every shard)."""
    for folder in store.iterdir() if store.is_dir() else []:
        if folder != keep and folder.is_dir() and time.time() - folder.stat().st_mtime > STALE_AFTER_S:
            shutil.rmtree(folder, ignore_errors=True)


def build_features(
    matcher: Matcher,
    plan: PairPlan,
    now: datetime,
    store: Path,
    chunk_vacancies: int = CHUNK_VACANCIES,
    say: Callable[[str], None] | None = None,
) -> np.ndarray:
    """The (n, features) float32 matrix of ``plan``, computed a chunk at a time through shards under ``store``.

    Args:
        matcher: A synced matcher (its vectors, BM25 index and structured arrays are read).
        plan: The pairs (:func:`plan_pairs`).
        now: The moment features are computed at.
        store: The folder the shards go to (a subfolder per build); made when missing.
        chunk_vacancies: Vacancy groups per shard; the result does not depend on it.
        say: Told one line per shard (shard k/n, pairs so far, seconds); None: silent.
    """
    clients, vacancies = matcher.index.arrays()
    folder = store / build_key(plan, now, chunk_vacancies)
    folder.mkdir(parents=True, exist_ok=True)
    _forget_stale(store, folder)
    lexical = _LexicalLookup(matcher)
    features = np.empty((len(plan), len(FEATURE_NAMES)), np.float32)
    shards = list(_shards(folder, plan, chunk_vacancies))
    began = time.perf_counter()
    for number, (path, (start, stop)) in enumerate(shards, 1):
        shard = trusted_shard(path, stop - start)
        reused = shard is not None
        if shard is None:
            save_atomic(path, chunk_features(matcher, clients, vacancies, plan, (start, stop), now, lexical))
            shard = trusted_shard(path, stop - start)
            assert shard is not None, f"{path} is just written"
        features[start:stop] = shard
        del shard
        if say is not None:
            say(
                f"kenmerken: deel {number}/{len(shards)}{' (hergebruikt)' if reused else ''}, "
                f"{stop:_} van {len(plan):_} paren, {time.perf_counter() - began:.0f} s".replace("_", ".")
            )
    shutil.rmtree(folder, ignore_errors=True)
    return features
