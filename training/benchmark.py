"""Search benchmarks, measured in-process after warm-up (``werkmatch bench search``).

Not a test: it measures and reports, it asserts nothing about time.
"""

from __future__ import annotations

import cProfile
import itertools
import os
import pstats
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from matching import geo
from matching.domain import Client, Vacancy, utcnow
from matching.features import pair_matrix
from matching.hard_filters import CandidateFilters
from matching.index import VectorIndex
from matching.index_sync import digest
from matching.lexical import LexicalIndex
from matching.matcher import Matcher
from matching.settings import Settings
from matching.side_state import read_chunks
from training.synthetic import write_streaming


def _percentiles(samples: list[float]) -> dict[str, float]:
    values = np.asarray(samples) * 1000.0
    return {
        "p50Ms": round(float(np.percentile(values, 50)), 2),
        "p95Ms": round(float(np.percentile(values, 95)), 2),
        "maxMs": round(float(values.max()), 2),
    }


def benchmark_search(matcher: Matcher, queries: int = 200, top: int = 50, seed: int = 0) -> dict[str, Any]:
    """Latency of candidate search (one vacancy → top 50 of all clients) and vacancy search, and more.

    Each search is timed with the geographic prefilter (``matcher.prefilter``, what serves) and
    without it (the plain pass over every record, as before), the two taking turns per query so
    that the load of the machine falls on both alike.
    """
    matcher.sync()
    rng = np.random.default_rng(seed)
    with Session(matcher.engine) as session:
        open_vacancies = [v.vacature_nummer for v in session.exec(select(Vacancy).where(Vacancy.status == "open"))]
        clients = list(session.exec(select(Client.client_nummer)))
    vacancy_sample = list(rng.choice(open_vacancies, size=queries))
    client_sample = list(rng.choice(clients, size=queries))
    whole = CandidateFilters(whole_bestand=True)
    for prefilter in (False, True):  # warm-up: arrays built, query vectors cached, code paths hot
        matcher.prefilter = prefilter
        for ref in vacancy_sample[:5]:
            matcher.search_candidates(ref, top)
        for ref in client_sample[:5]:
            matcher.search_vacancies(ref, top)
    load_before = _load_average()
    candidate = _before_after(matcher, matcher.search_candidates, vacancy_sample, top)
    whole_bestand = _before_after(
        matcher, lambda ref, n: matcher.search_candidates(ref, n, filters=whole), vacancy_sample, top
    )
    weighted = _timed(
        lambda ref, n: matcher.search_candidates(ref, n, weights=matcher.settings.retrieval), vacancy_sample, top
    )
    vacancy = _before_after(matcher, matcher.search_vacancies, client_sample, top)
    load = {"beforeTimings": load_before, "afterTimings": _load_average()}  # the machine is shared
    rss_mb = _rss_mb()
    profiles = {
        "candidateSearch": _profile(matcher.search_candidates, vacancy_sample[:20], top),
        "candidateSearchHeleBestand": _profile(
            lambda ref, n: matcher.search_candidates(ref, n, filters=whole), vacancy_sample[:20], top
        ),
        "vacancySearch": _profile(matcher.search_vacancies, client_sample[:20], top),
    }
    holders = _memory_holders(matcher)
    texts_per_second = _embedding_speed(matcher, seed)
    build_seconds = _index_build_seconds(matcher)
    update_seconds = _update_to_searchable_seconds(
        matcher, client_sample[0], lambda: matcher.search_vacancies(client_sample[0], top)
    )
    # a changed client makes new client arrays, whose buckets and per-aspect rows the next candidate search builds
    candidate_after_change = _update_to_searchable_seconds(
        matcher, client_sample[1], lambda: matcher.search_candidates(vacancy_sample[0], top)
    )
    return {
        "clients": len(clients),
        "ranker": matcher.ranker_status(),
        "rankerCost500": _ranker_cost(matcher, rng),
        "vacancies": len(matcher.sides["vacancies"].texts),
        "openVacancies": len(open_vacancies),
        "queries": queries,
        "top": top,
        "candidateSearch": candidate["after"],
        "candidateSearchHeleBestand": whole_bestand["after"],
        "candidateSearchWeightedOnly": _percentiles(weighted),
        "vacancySearch": vacancy["after"],
        "withoutPrefilter": {
            "candidateSearch": candidate["before"],
            "candidateSearchHeleBestand": whole_bestand["before"],
            "vacancySearch": vacancy["before"],
        },
        "loadAverage": load,
        "annIndex": None,  # exact search (FAISS IndexFlatIP): no recall to measure
        "embeddingTextsPerSecond": round(texts_per_second, 1),
        "indexBuildSeconds": round(build_seconds, 2),
        "updateToSearchableMs": round(update_seconds * 1000, 1),
        "candidateSearchAfterClientChangeMs": round(candidate_after_change * 1000, 1),
        "rssMb": rss_mb,
        "memoryHoldersMb": holders,
        "profile": profiles,
        "peakRssMb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "modelId": matcher.embedder.model_id,
    }


def _before_after(matcher: Matcher, call: Callable[[str, int], Any], refs: list[str], top: int) -> dict[str, dict]:
    """Percentiles of ``call`` without (before) and with (after) the prefilter, taking turns per ref."""
    samples: dict[bool, list[float]] = {False: [], True: []}
    for ref in refs:
        for prefilter in (False, True):
            matcher.prefilter = prefilter
            samples[prefilter] += _timed(call, [ref], top)
    matcher.prefilter = True
    return {"before": _percentiles(samples[False]), "after": _percentiles(samples[True])}


def _profile(call: Callable[[str, int], Any], refs: list[str], top: int, lines: int = 12) -> list[dict[str, Any]]:
    """Where the time of ``call`` goes (cProfile, with the prefilter): the functions with the most own time."""
    profile = cProfile.Profile()
    profile.enable()
    for ref in refs:
        call(ref, top)
    profile.disable()
    found = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    ranked = sorted(found.items(), key=lambda item: -item[1][2])[:lines]
    return [
        {
            "function": f"{Path(file).name}:{line} {name}",
            "ownMsPerSearch": round(own * 1000 / len(refs), 2),
            "cumulativeMsPerSearch": round(cumulative * 1000 / len(refs), 2),
        }
        for (file, line, name), (_, _, own, cumulative, _) in ranked
    ]


def _nbytes(value: Any) -> int:
    """Bytes of a numpy array's or a scipy sparse matrix's buffers (0 for anything else)."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if sparse.issparse(value):
        return sum(part.nbytes for part in (value.data, value.indices, value.indptr))  # type: ignore[union-attr]
    return 0


def _deep_size(value: Any) -> int:
    """Bytes of a small Python value with what it holds (dicts, lists, strings), for sampling."""
    size = sys.getsizeof(value)
    if isinstance(value, dict):
        size += sum(_deep_size(key) + _deep_size(item) for key, item in value.items())
    elif isinstance(value, list | tuple):
        size += sum(_deep_size(item) for item in value)
    return size


def _memory_holders(matcher: Matcher, sample: int = 500) -> dict[str, int]:
    """MB held per part of the serving state: array buffers exactly, per-record Python values by a sample."""
    clients, vacancies = matcher.index.arrays()
    mb: dict[str, int] = {}
    for side, arrays in (("clients", clients), ("vacancies", vacancies)):
        state = matcher.sides[side]
        assert state.vectors is not None
        mb[f"{side}Vectors"] = len(state.vectors) * state.vectors.dimension * 4
        mb[f"{side}Arrays"] = sum(_nbytes(getattr(arrays, item.name)) for item in fields(arrays))  # type: ignore[arg-type]
        mb[f"{side}Lexical"] = state.lexical.nbytes
        for name, held in (("Digests", state.digests), ("Hashes", state.vectors.hashes)):
            keys = list(itertools.islice(held, sample))
            per = sum(_deep_size(key) + _deep_size(held[key]) for key in keys) / max(len(keys), 1)
            mb[f"{side}{name}"] = round(per * len(held) + sys.getsizeof(held))
    return {name: round(value / 2**20) for name, value in mb.items()}


def _load_average() -> list[float]:
    """The machine's 1, 5 and 15 minute load averages (others' work shares the CPUs)."""
    return [round(value, 2) for value in os.getloadavg()]


def _rss_mb() -> int:
    """This process's resident memory now (MB), from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024)
    return -1


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
    """Building both client indexes (FAISS + BM25) from vectors in hand: a rebuild without the model.

    The texts BM25 reads are rendered from the database a chunk at a time, outside the clock (the
    matcher keeps no texts): the seconds are the indexes' own work, as before.
    """
    state = matcher.sides["clients"]
    assert state.vectors is not None
    ids = np.array(sorted(state.digests), np.int64)
    vectors = state.vectors.vectors(ids)
    lexical, parts, seconds = LexicalIndex(), [], 0.0
    with Session(matcher.engine) as session:
        for rows in read_chunks(session, Client):
            texts = [matcher.index.render("clients", row, lexical=True) for row in rows]
            start = time.perf_counter()
            parts.append(lexical.term_frequencies(texts))
            seconds += time.perf_counter() - start
    start = time.perf_counter()
    index = VectorIndex(matcher.embedder.dimension, matcher.embedder.model_id)
    index.upsert(ids, vectors, ["-"] * len(ids))
    lexical.fill(ids, parts)
    lexical.scores("warm")
    return seconds + time.perf_counter() - start


def _update_to_searchable_seconds(matcher: Matcher, client_ref: str, search: Callable[[], Any]) -> float:
    """A saved change is searchable on the next search: time from commit to a ``search`` that reflects it.

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
    search()
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
        matcher.ranker.score(
            pair_matrix(clients, c_rows, vacancies, v_rows, dense, lexical, utcnow()),
            clients.ids[c_rows],
            clients.updated_at[c_rows],
        )
        samples.append(time.perf_counter() - start)
    return {"pairs": pairs, **_percentiles(samples)}


def prepare_scale_data(source: Matcher, settings: Settings, n_clients: int, n_vacancies: int, seed: int) -> Matcher:
    """A separate database of ``n_clients`` synthetic clients for latency at scale, with *borrowed* vectors.

    Embedding 100,000 profiles takes over an hour on 2 CPU cores, and search latency does not depend
    on what the vectors contain (an exact FAISS scan costs n × d either way), so each new record gets
    the vector of a record already embedded in ``source`` (cycled, with a little noise), written
    straight into the index under the record's own digest. Quality at this size is *not* measured
    this way; latency is. The generator draws one region; the records are spread over every Dutch
    PC4 first (:func:`spread_nationally`), as at national scale. A database already there (written
    by ``werkmatch demo-data`` into that folder) is used as it is; the indexes are written once.
    """
    target = Matcher(settings, embedder=source.embedder)
    with Session(target.engine) as session:
        empty = session.exec(select(Client.id).limit(1)).first() is None
    if empty:
        write_streaming(target.engine, n_clients, n_vacancies, seed, progress=True)
    if not (settings.index_dir / "clients.faiss").exists():
        spread_nationally(target.engine, seed)
        # Write the indexes as a finished sync would, with borrowed vectors: sync then finds every
        # record's digest in place and embeds nothing.
        rng = np.random.default_rng(seed)
        for side in ("clients", "vacancies"):
            donor = source.sides[side].vectors
            assert donor is not None
            borrowed = donor.vectors(donor.ids())
            ids: list[int] = []
            digests: list[str] = []
            with Session(target.engine) as session:
                for rows in read_chunks(session, Client if side == "clients" else Vacancy):
                    ids += [row.id for row in rows]
                    digests += [digest(target.index._dense_input(side, row)) for row in rows]
            noise = rng.normal(scale=0.02, size=(len(ids), borrowed.shape[1])).astype(np.float32)
            vectors = borrowed[np.arange(len(ids)) % len(borrowed)] + noise
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            index = VectorIndex(target.embedder.dimension, target.embedder.model_id)
            index.upsert(np.array(ids, np.int64), vectors, digests)
            index.save(settings.index_dir, side)
            del ids, digests, vectors, noise, index
    target.sync(progress=True)
    return target


def spread_nationally(engine: Engine, seed: int) -> None:
    """Move every client and vacancy to a PC4 drawn (seeded, uniformly) from all Dutch PC4 areas.

    PC4 areas hold roughly equal numbers of addresses, so a uniform draw approximates where people
    live; the rest of the postcode is kept. Only for a benchmark's own database.
    """
    codes = np.asarray(geo.load_pc4().codes)
    rng = np.random.default_rng(seed)
    with engine.begin() as connection:
        for table in ("client", "vacancy"):
            ids = [row[0] for row in connection.exec_driver_sql(f"SELECT id FROM {table} ORDER BY id")]
            drawn = rng.choice(codes, size=len(ids)).tolist()
            connection.exec_driver_sql(
                f"UPDATE {table} SET postcode = ? || substr(postcode, 5) WHERE id = ?",
                list(zip(drawn, ids, strict=True)),
            )
