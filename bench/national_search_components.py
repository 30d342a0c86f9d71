"""Before/after of the two text-side costs of a search at 400,000 records, in one process.

Run: ``WERKMATCH_DATA_DIR=<demo copy> PYTHONPATH=. nice -n 10 .venv/bin/python bench/national_search_components.py``

Per query, in turn: the vector search among eligible rows through FAISS's id selector (as before) and
through ``VectorIndex.nearest`` (now), same rows asserted; BM25 of a query as before (the previous
``matching/lexical.py``, read from git at f0f5117^: its weights matrix, then an id lookup per record)
and now (ids kept in the arrays' order: no lookup), same scores asserted bit for bit. Random unit
vectors (latency only: no recall is measured on random vectors); BM25 on the demo world's client
texts, their term frequencies repeated to 400,000 rows, and 60 of its vacancies as queries.
"""

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

import faiss
import numpy as np
from scipy import sparse
from sqlmodel import Session, select

from matching import lexical as new_lex
from matching.domain import Client, Vacancy
from matching.index import VectorIndex
from matching.settings import Settings
from matching.store import make_engine
from matching.taxonomy import load_taxonomy
from matching.text import render_client, render_vacancy

previous = subprocess.run(["git", "show", "f0f5117^:matching/lexical.py"], capture_output=True, text=True, check=True)
with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
    handle.write(previous.stdout)
spec = importlib.util.spec_from_file_location("lexold", handle.name)
old_lex = importlib.util.module_from_spec(spec)
sys.modules["lexold"] = old_lex
spec.loader.exec_module(old_lex)
os.unlink(handle.name)
rng = np.random.default_rng(0)
N, D, POOL = 400_000, 384, 150
ids = np.arange(N, dtype=np.int64) * 2 + 1
vec = rng.normal(size=(N, D)).astype(np.float32)
vec /= np.linalg.norm(vec, axis=1, keepdims=True)
index = VectorIndex(D, "m")
index.upsert(ids, vec, ["h"] * N)
del vec


def p(samples):
    a = np.asarray(samples) * 1000
    return {"p50Ms": round(float(np.percentile(a, 50)), 2), "p95Ms": round(float(np.percentile(a, 95)), 2)}


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
out["command"] = (
    "WERKMATCH_DATA_DIR=<copy of /tmp/wm-demo> PYTHONPATH=. nice -n 10 .venv/bin/python "
    "bench/national_search_components.py"
)
out["load"] = open("/proc/loadavg").read().split()[:3]
out["machine"] = "2 shared cores (other helpers' work running); each query timed before and after in turn"
print(json.dumps(out, indent=2))
