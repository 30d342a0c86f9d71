"""Search benchmarks, measured in-process after warm-up (``werkmatch bench search``).

Not a test: it measures and reports, it asserts nothing about time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from sqlmodel import Session, select

from matching.domain import Client, Vacancy, utcnow
from matching.features import pair_matrix
from matching.index import VectorIndex
from matching.lexical import LexicalIndex
from matching.matcher import Matcher
from matching.settings import Settings
from training.synthetic import generate, write_to_db


def _percentiles(samples: list[float]) -> dict[str, float]:
    values = np.asarray(samples) * 1000.0
    return {
        "p50Ms": round(float(np.percentile(values, 50)), 2),
        "p95Ms": round(float(np.percentile(values, 95)), 2),
        "maxMs": round(float(values.max()), 2),
    }


def benchmark_search(matcher: Matcher, queries: int = 200, top: int = 50, seed: int = 0) -> dict[str, Any]:
    """Latency of candidate search (one vacancy → top 50 of all clients) and vacancy search, and more."""
    matcher.sync()
    rng = np.random.default_rng(seed)
    with Session(matcher.engine) as session:
        open_vacancies = [v.vacature_nummer for v in session.exec(select(Vacancy).where(Vacancy.status == "open"))]
        clients = [c.client_nummer for c in session.exec(select(Client))]
    vacancy_sample = list(rng.choice(open_vacancies, size=queries))
    client_sample = list(rng.choice(clients, size=queries))
    for ref in vacancy_sample[:5]:  # warm-up: arrays built, query vectors cached, code paths hot
        matcher.search_candidates(ref, top)
    for ref in client_sample[:5]:
        matcher.search_vacancies(ref, top)
    candidate = _timed(matcher.search_candidates, vacancy_sample, top)
    weighted = _timed(
        lambda ref, n: matcher.search_candidates(ref, n, weights=matcher.settings.retrieval), vacancy_sample, top
    )
    vacancy = _timed(matcher.search_vacancies, client_sample, top)
    texts_per_second = _embedding_speed(matcher, seed)
    build_seconds = _index_build_seconds(matcher)
    update_seconds = _update_to_searchable_seconds(matcher, client_sample[0], top)
    return {
        "clients": len(clients),
        "ranker": matcher.ranker_status(),
        "rankerCost500": _ranker_cost(matcher, rng),
        "vacancies": len(matcher.sides["vacancies"].texts),
        "openVacancies": len(open_vacancies),
        "queries": queries,
        "top": top,
        "candidateSearch": _percentiles(candidate),
        "candidateSearchWeightedOnly": _percentiles(weighted),
        "vacancySearch": _percentiles(vacancy),
        "embeddingTextsPerSecond": round(texts_per_second, 1),
        "indexBuildSeconds": round(build_seconds, 2),
        "updateToSearchableMs": round(update_seconds * 1000, 1),
        "modelId": matcher.embedder.model_id,
    }


def _timed(call: Callable[[str, int], Any], refs: list[str], top: int) -> list[float]:
    """Seconds per ``call(ref, top)``, one sample per ref."""
    samples = []
    for ref in refs:
        start = time.perf_counter()
        call(ref, top)
        samples.append(time.perf_counter() - start)
    return samples


def _embedding_speed(matcher: Matcher, seed: int) -> float:
    """Texts per second on texts the cache has never seen (profile texts with a unique suffix)."""
    with Session(matcher.engine) as session:
        rows = list(session.exec(select(Client).limit(128)))
    texts = [matcher.index.render("clients", row) + f" (meting {seed}-{i})" for i, row in enumerate(rows)]
    start = time.perf_counter()
    matcher.embedder.embed(texts, "document")
    return len(texts) / (time.perf_counter() - start)


def _index_build_seconds(matcher: Matcher) -> float:
    """Building both client indexes (FAISS + BM25) from vectors in hand: a rebuild without the model."""
    state = matcher.sides["clients"]
    assert state.vectors is not None
    ids = np.array(sorted(state.texts), np.int64)
    vectors = state.vectors.vectors(ids)
    start = time.perf_counter()
    index = VectorIndex(matcher.embedder.dimension, matcher.embedder.model_id)
    index.upsert(ids, vectors, ["-"] * len(ids))
    lexical = LexicalIndex()
    lexical.upsert(ids, [state.lexical_texts[int(i)] for i in ids])
    lexical.scores("warm")
    return time.perf_counter() - start


def _update_to_searchable_seconds(matcher: Matcher, client_ref: str, top: int) -> float:
    """A saved change is searchable on the next search: time from commit to a search that reflects it.

    The benchmark's own edit is undone afterwards.
    """
    with Session(matcher.engine) as session:
        row = session.exec(select(Client).where(Client.client_nummer == client_ref)).one()
        original = row.notities
        row.notities = (row.notities or "") + f" Update benchmark {time.time_ns()}."
        row.updated_at = utcnow()
        session.add(row)
        session.commit()
    start = time.perf_counter()
    matcher.search_vacancies(client_ref, top)
    seconds = time.perf_counter() - start
    with Session(matcher.engine) as session:
        row = session.exec(select(Client).where(Client.client_nummer == client_ref)).one()
        row.notities = original
        row.updated_at = utcnow()
        session.add(row)
        session.commit()
    matcher.refresh("clients")
    return seconds


def _ranker_cost(matcher: Matcher, rng: np.random.Generator, pairs: int = 500, repeats: int = 200) -> dict:
    """What the learned ranker adds to one search: features and scores for ``pairs`` retrieved candidates."""
    if matcher.ranker is None:
        return {"skipped": "geen geleerde ranker geladen"}
    clients, vacancies = matcher.index.arrays()
    samples = []
    for _ in range(repeats):
        c_rows = rng.choice(len(clients.ids), size=min(pairs, len(clients.ids)), replace=False)
        v_rows = np.full(len(c_rows), int(rng.integers(len(vacancies.ids))))
        dense, lexical = rng.random(len(c_rows)).astype(np.float32), rng.random(len(c_rows)).astype(np.float32)
        start = time.perf_counter()
        matcher.ranker.score(pair_matrix(clients, c_rows, vacancies, v_rows, dense, lexical, utcnow()))
        samples.append(time.perf_counter() - start)
    return {"pairs": pairs, **_percentiles(samples)}


def prepare_scale_data(source: Matcher, settings: Settings, n_clients: int, n_vacancies: int, seed: int) -> Matcher:
    """A separate database of ``n_clients`` synthetic clients for latency at scale, with *borrowed* vectors.

    Embedding 100,000 profiles takes over an hour on 2 CPU cores, and search latency does not depend
    on what the vectors contain (an exact FAISS scan costs n × d either way), so each new record gets
    the vector of a record already embedded in ``source`` (cycled, with a little noise), written
    straight into the index under the record's own digest. Quality at this size is *not* measured
    this way; latency is.
    """
    target = Matcher(settings, embedder=source.embedder)
    with Session(target.engine) as session:
        empty = session.exec(select(Client.id).limit(1)).first() is None
    if empty:
        write_to_db(target.engine, generate(n_clients, n_vacancies, seed), progress=True)
        # Write the indexes as a finished sync would, with borrowed vectors: sync then finds every
        # record's digest in place and embeds nothing.
        rng = np.random.default_rng(seed)
        for side in ("clients", "vacancies"):
            donor = source.sides[side].vectors
            assert donor is not None
            borrowed = donor.vectors(donor.ids())
            with Session(target.engine) as session:
                rows = target._rows(session, side)
            noise = rng.normal(scale=0.02, size=(len(rows), borrowed.shape[1])).astype(np.float32)
            vectors = borrowed[np.arange(len(rows)) % len(borrowed)] + noise
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            index = VectorIndex(target.embedder.dimension, target.embedder.model_id)
            digests = [target._digest(target._dense_input(side, row)) for row in rows]
            index.upsert(np.array([row.id for row in rows], np.int64), vectors, digests)
            index.save(settings.index_dir, side)
    target.sync(progress=True)
    return target
