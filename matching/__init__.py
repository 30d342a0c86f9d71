"""werkmatch's domain core: profiles, vacancies, embeddings, FAISS, retrieval and scoring.

Knows nothing of HTTP or MLflow; the API, the CLI and the benchmarks call :mod:`matching.matcher`.
"""
