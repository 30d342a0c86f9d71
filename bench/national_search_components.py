"""Per-search costs at 400,000 records, before and after, each query timed both ways in turn in one process.

Run: ``WERKMATCH_DATA_DIR=<demo copy> PYTHONPATH=. nice -n 10 .venv/bin/python bench/national_search_components.py
[pipeline|text]``

``pipeline`` (default): the array part of the three searches (step 1, the text query, the pool, the
ranker's features and score; no database, no explanations) on the demo world's records repeated to
400,000 clients and 300,000 vacancies, spread over every Dutch PC4, with random unit vectors (latency
only) and BM25 on the demo texts repeated. Before: ``matching/pipeline.py`` and ``matching/structured.py``
as at :data:`BEFORE` (read from git), on the same arrays; after: the current code. Step 1 is asserted
equal both ways (mask, hard, counts), and the top 50 of every list compared.

``text``: the two text-side costs of f0f5117. The vector search among eligible rows through FAISS's
id selector (as before) and through ``VectorIndex.nearest`` (now), same rows asserted; BM25 of a query
as before (the previous ``matching/lexical.py``, read from git at f0f5117^: its weights matrix, then an
id lookup per record) and now (ids kept in the arrays' order: no lookup), same scores asserted bit for
bit. Random unit vectors; BM25 on the demo world's client texts, their term frequencies repeated to
400,000 rows, and 60 of its vacancies as queries.
"""

import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from types import SimpleNamespace

import faiss
import numpy as np
from scipy import sparse
from sqlmodel import Session, select

from matching import geo, hard_filters, pipeline
from matching import lexical as new_lex
from matching.domain import Client, Vacancy
from matching.features import pair_matrix
from matching.index import VectorIndex
from matching.matcher import Matcher
from matching.settings import Settings
from matching.store import make_engine
from matching.taxonomy import load_taxonomy
from matching.text import render_client, render_vacancy

BEFORE = "92f081d"  # main before this session's per-search changes
N, M, D, POOL = 400_000, 300_000, 384, 150
QUERIES = 60


def from_git(commit: str, path: str, name: str, replace: dict[str, str] | None = None):
    """A module as it was at ``commit``, loaded under ``name`` (its imports rewritten by ``replace``)."""
    source = subprocess.run(["git", "show", f"{commit}:{path}"], capture_output=True, text=True, check=True).stdout
    for old, new in (replace or {}).items():
        source = source.replace(old, new)
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(source)
    spec = importlib.util.spec_from_file_location(name, handle.name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    os.unlink(handle.name)
    return module


def p(samples):
    a = np.asarray(samples) * 1000
    return {"p50Ms": round(float(np.percentile(a, 50)), 2), "p95Ms": round(float(np.percentile(a, 95)), 2)}


def tiled(arrays, n: int, rng: np.random.Generator):
    """``arrays``' records repeated to ``n`` rows (ids 1…n), each moved to a random Dutch PC4."""
    take = np.arange(n) % len(arrays.ids)
    values = {}
    for item in dataclasses.fields(arrays):
        old = getattr(arrays, item.name)
        if item.name == "position":
            continue
        if sparse.issparse(old):
            values[item.name] = old[take]
        elif isinstance(old, list):
            values[item.name] = [old[row] for row in take]
        else:
            values[item.name] = old[take]
    table = geo.load_pc4()
    picked = table.coords[rng.integers(0, len(table.codes), n)]
    values["ids"] = np.arange(1, n + 1, dtype=np.int64)
    values["lat"], values["lon"] = picked[:, 0].copy(), picked[:, 1].copy()
    out = type(arrays)(position={}, **values)
    out.position = {int(key): row for row, key in enumerate(out.ids)}
    return out


def side(ids: np.ndarray, texts: list[str], rng: np.random.Generator):
    """Random unit vectors and BM25 on ``texts`` repeated, for ``ids``."""
    vectors = VectorIndex(D, "m")
    for start in range(0, len(ids), 50_000):  # in parts: the float64 draw of all at once is 1 GB
        part = rng.standard_normal((min(50_000, len(ids) - start), D), dtype=np.float32)
        part /= np.linalg.norm(part, axis=1, keepdims=True)
        vectors.upsert(ids[start : start + len(part)], part, ["h"] * len(part))
    lexical = new_lex.LexicalIndex()
    base = lexical._vectorizer.transform(texts).tocsr()
    lexical._tf = sparse.vstack([base] * (len(ids) // base.shape[0] + 1), format="csr")[: len(ids)]
    lexical._ids = ids.copy()
    lexical._build()
    return vectors, lexical


# the pipeline now: step 1 in its own module. Since session 32 its step 1 here is the plain pass over every record
# (the reach spread over every record is gone; a list reads step 1 from the reach, bench/live_listing.py)
NOW = SimpleNamespace(
    **{**vars(hard_filters), **vars(pipeline)},
    build_pool=lambda step1, text, size: pipeline.listed_pool(hard_filters.Listing.of(step1), text, size),
)


def search(module, arrays, query: dict, kind: str, ranker, pool_size: int) -> tuple[np.ndarray, dict[str, float]]:
    """One search's array part with ``module`` (the pipeline before or after): the top 50 rows and step times."""
    clients, vacancies = arrays
    marks = [time.perf_counter()]
    if kind == "vacancies":
        step1 = module.vacancy_eligibility(clients, query["row"], vacancies)
    else:
        filters = module.CandidateFilters(whole_bestand=kind == "heleBestand")
        step1 = module.candidate_eligibility(clients, vacancies, query["row"], filters, query["view"])
    marks.append(time.perf_counter())
    vectors, lexical, ids = query["searched"]
    text = module.TextQuery(
        dense_top=lambda rows, k: vectors.nearest(query["vector"], k, ids, rows),
        dense_raw=lambda rows: vectors.cosines(query["vector"], ids, rows),
        lexical=lexical.scores_for(query["text"], ids),
    )
    pool = module.build_pool(step1, text, pool_size)
    marks.append(time.perf_counter())
    if kind == "vacancies":
        score = module.weighted_score(pool, Settings().retrieval)
    else:
        v_rows = np.full(len(pool.rows), query["row"])
        pairs = pair_matrix(clients, pool.rows, vacancies, v_rows, pool.dense_raw, pool.lexical_raw, query["now"])
        score = ranker.score(pairs)
    top = pool.rows[module.order(score, 50)]
    marks.append(time.perf_counter())
    steps = np.diff(marks)
    return top, {"step1": steps[0], "textAndPool": steps[1], "rank": steps[2], "total": marks[-1] - marks[0]}, step1


def pipeline_side() -> dict:
    old_structured = from_git(BEFORE, "matching/structured.py", "structured_before")
    rewrite = {"from matching.structured import": "from structured_before import"}
    old_pipeline = from_git(BEFORE, "matching/pipeline.py", "pipeline_before", rewrite)
    settings = Settings()
    matcher = Matcher(settings, may_write=False)
    demo_clients, demo_vacancies = matcher.index.arrays()
    taxonomy = load_taxonomy()
    with Session(matcher.engine) as session:
        client_texts = {row.id: render_client(row, taxonomy, True) for row in session.exec(select(Client))}
        vacancy_texts = {row.id: render_vacancy(row, taxonomy, True) for row in session.exec(select(Vacancy))}
    rng = np.random.default_rng(0)
    clients, vacancies = tiled(demo_clients, N, rng), tiled(demo_vacancies, M, rng)
    c_texts = [client_texts[int(key)] for key in demo_clients.ids]
    v_texts = [vacancy_texts[int(key)] for key in demo_vacancies.ids]
    client_side, vacancy_side = side(clients.ids, c_texts, rng), side(vacancies.ids, v_texts, rng)
    before = tuple(
        getattr(old_structured, type(a).__name__)(**{f.name: getattr(a, f.name) for f in dataclasses.fields(a)})
        for a in (clients, vacancies)
    )
    now, everyone = datetime.now(UTC), np.ones(N, bool)
    pool_size = settings.retrieval.pool_size
    out = {"clients": N, "vacancies": M, "dimension": D, "poolSize": pool_size, "before": BEFORE}
    for kind in ("withinReach", "heleBestand", "vacancies"):
        asking, searched = (clients, vacancy_side) if kind == "vacancies" else (vacancies, client_side)
        rows = rng.choice(np.flatnonzero(asking.open) if kind != "vacancies" else len(asking.ids), QUERIES)
        texts = v_texts if kind != "vacancies" else c_texts
        times = {"before": [], "after": []}
        same_top, eligible = 0, []
        for row in rows.tolist():
            vector = rng.standard_normal(D).astype(np.float32)
            query = {
                "row": row,
                "view": everyone,
                "vector": vector / np.linalg.norm(vector),
                "text": texts[row % len(texts)],
                "searched": (*searched, (vacancies if kind == "vacancies" else clients).ids),
                "now": now,
            }
            found = {}
            for label, module, arrays in (("before", old_pipeline, before), ("after", NOW, (clients, vacancies))):
                found[label] = search(module, arrays, query, kind, matcher.ranker, pool_size)
                times[label].append(found[label][1])
            one, two = found["before"][2], found["after"][2]
            np.testing.assert_array_equal(one.mask, two.mask)
            np.testing.assert_array_equal(one.hard, two.hard)
            assert one.counts == two.counts and one.hard_counts == two.hard_counts
            same_top += int(np.array_equal(found["before"][0], found["after"][0]))
            eligible.append(int(two.mask.sum()))
        out[kind] = {
            "queries": len(rows),
            "eligibleMedian": int(np.median(eligible)),
            "sameTop50": same_top,
            **{
                label: {step: p([t[step] for t in samples]) for step in ("step1", "textAndPool", "rank", "total")}
                for label, samples in times.items()
            },
        }
    return out


def text_side() -> dict:
    previous = subprocess.run(
        ["git", "show", "f0f5117^:matching/lexical.py"], capture_output=True, text=True, check=True
    )
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(previous.stdout)
    spec = importlib.util.spec_from_file_location("lexold", handle.name)
    old_lex = importlib.util.module_from_spec(spec)
    sys.modules["lexold"] = old_lex
    spec.loader.exec_module(old_lex)
    os.unlink(handle.name)
    rng = np.random.default_rng(0)
    ids = np.arange(N, dtype=np.int64) * 2 + 1
    vec = rng.normal(size=(N, D)).astype(np.float32)
    vec /= np.linalg.norm(vec, axis=1, keepdims=True)
    index = VectorIndex(D, "m")
    index.upsert(ids, vec, ["h"] * N)
    del vec

    out = {"records": N, "dimension": D, "pool": POOL}
    for label, share in (("withinReach3pct", 0.03), ("heleBestand85pct", 0.85)):
        old_t, new_t = [], []
        for _ in range(30):
            rows = np.flatnonzero(rng.random(N) < share)
            q = rng.normal(size=D).astype(np.float32)
            q /= np.linalg.norm(q)
            t = time.perf_counter()
            sel = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.ascontiguousarray(ids[rows])))
            _, labels = index._index.search(q.reshape(1, -1), POOL, params=sel)
            a = np.searchsorted(ids, labels[0][labels[0] >= 0])
            old_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            b = index.nearest(q, POOL, ids, rows)
            new_t.append(time.perf_counter() - t)
            assert set(a.tolist()) == set(b.tolist()), "same rows"
        out[f"dense_{label}"] = {"faissIdSelector": p(old_t), "nearest": p(new_t)}
    del index
    # BM25 on real texts: the demo world's clients (WERKMATCH_DATA_DIR), their term frequencies repeated to 400,000
    settings = Settings()
    taxonomy = load_taxonomy()
    with Session(make_engine(settings.resolved_database_url)) as session:
        client_texts = [render_client(row, taxonomy, True) for row in session.exec(select(Client))]
        queries = [render_vacancy(row, taxonomy, True) for row in session.exec(select(Vacancy).limit(60))]
    now = new_lex.LexicalIndex()
    base = now._vectorizer.transform(client_texts).tocsr()
    tf = sparse.vstack([base] * (N // base.shape[0] + 1), format="csr")[:N]
    now._tf, now._ids = tf, ids.copy()
    now._build()
    before = old_lex.LexicalIndex()
    before._ids = ids.copy()
    before._weights, before._idf = now._weights, now._idf
    old_t, new_t = [], []
    for query in queries:
        t = time.perf_counter()
        found, scores = before.scores(query)  # as before: then a lookup of every id in the arrays' order
        lexical = np.zeros(N, np.float32)
        lexical[np.searchsorted(ids, found)] = scores
        old_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        aligned = now.scores_for(query, ids)
        new_t.append(time.perf_counter() - t)
        assert np.array_equal(lexical, aligned), "same scores"
    out["bm25RealTexts"] = {
        "queries": len(queries),
        "before (weights matrix + id lookup)": p(old_t),
        "after (ids in the arrays' order)": p(new_t),
    }
    return out


if __name__ == "__main__":
    part = sys.argv[1] if len(sys.argv) > 1 else "pipeline"
    result = pipeline_side() if part == "pipeline" else text_side()
    result["command"] = (
        "WERKMATCH_DATA_DIR=<copy of /tmp/wm-demo> PYTHONPATH=. nice -n 10 .venv/bin/python "
        f"bench/national_search_components.py {part}"
    )
    result["load"] = open("/proc/loadavg").read().split()[:3]
    result["machine"] = "2 shared cores (other helpers' work running); each query timed before and after in turn"
    print(json.dumps(result, indent=2))
