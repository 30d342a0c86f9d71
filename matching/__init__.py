"""werkmatch's domain core: profiles, vacancies, embeddings, FAISS, retrieval and scoring.

Knows nothing of HTTP or MLflow; the API, the CLI and the benchmarks call :mod:`matching.matcher`.
"""

import os

# OpenMP threads (LightGBM) spin while idle by default; on a small shared machine that starves the
# web server and the embedding thread (a 20k-row fit took 3.0 s instead of 0.27 s beside another
# busy process). Set before any OpenMP library loads; an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
