"""Before/after of the two text-side costs of a search at 400,000 records, on synthetic arrays, in one process.

Run: ``PYTHONPATH=. nice -n 10 .venv/bin/python bench/national_search_components.py``

Per query, in turn: the vector search among eligible rows through FAISS's id selector (as before) and
through ``VectorIndex.nearest`` (now), same rows asserted; BM25 of a query as before (the previous
``matching/lexical.py``, read from git at f0f5117^: a weights matrix, then an id lookup per record) and
now (the query's columns weighed per search), same scores asserted bit for bit. Random unit vectors
and a Zipf-like term matrix: latency only (no recall is measured on random vectors).
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

from matching import lexical as new_lex
from matching.index import VectorIndex

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
# BM25: a synthetic term-frequency matrix (Zipf-like term use, ~60 terms per record)
nnz_per = 60
V = 20000
cols = np.minimum((rng.zipf(1.3, size=N * nnz_per) - 1), V - 1).astype(np.int32)
rws = np.repeat(np.arange(N), nnz_per)
tf = sparse.csr_matrix((np.ones(len(cols), np.float32), (rws, cols)), shape=(N, new_lex.N_FEATURES))
tf.sum_duplicates()
perm = rng.permutation(N)
o = old_lex.LexicalIndex()
o._rows = {int(ids[perm[i]]): tf[perm[i]] for i in range(N)}  # the old layout: a row object per record
n = new_lex.LexicalIndex()
n._tf, n._ids = tf.tocsc(), ids.copy()
o._build()
n._build()
old_t, new_t = [], []
for _ in range(30):
    terms = np.unique(np.minimum(rng.zipf(1.3, size=30) - 1, V - 1))
    t = time.perf_counter()
    found, scores = o._ids, np.asarray(o._weights[:, terms] @ o._idf[terms]).ravel()
    lex = np.zeros(N, np.float32)
    lex[np.searchsorted(ids, found)] = scores
    old_t.append(time.perf_counter() - t)
    t = time.perf_counter()
    tfc = n._tf
    begin, end = tfc.indptr[terms], tfc.indptr[terms + 1]
    sizes = end - begin
    entries = np.repeat(begin - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes) + np.arange(int(sizes.sum()))
    r, c = tfc.indices[entries], tfc.data[entries]
    w = c * (new_lex.K1 + 1) / (c + n._norm[r])
    f = np.zeros(N, np.float32)
    np.add.at(f, r, w * np.repeat(n._idf[terms], sizes))
    f2 = np.asarray(f, np.float32) if np.array_equal(n._ids, ids) else None
    new_t.append(time.perf_counter() - t)
    assert np.array_equal(lex, f2), "same scores"
out["bm25_30terms"] = {"before (weights matrix + id lookup)": p(old_t), "after (columns weighed per query)": p(new_t)}
out["command"] = "PYTHONPATH=. nice -n 10 .venv/bin/python bench/national_search_components.py"
out["load"] = open("/proc/loadavg").read().split()[:3]
out["machine"] = "2 shared cores (other helpers' work running); each query timed before and after in turn"
print(json.dumps(out, indent=2))
