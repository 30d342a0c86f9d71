"""Retrieval quality against the hidden truth of the synthetic data (``werkmatch eval retrieval``).

For a sample of open vacancies, the *true* top-k clients come from :func:`training.latent.true_top_clients`
(hidden suitability over truly eligible clients). Each retrieval signal then ranks the clients that
pass werkmatch's hard filters, and recall@k is the share of the true top-k it puts in its own top-k:

* ``dense``: embedding cosine only;
* ``lexical``: BM25 only;
* ``structured``: competence, occupation and distance signals only;
* ``hybrid``: the configured weighted score of all five signals;
* ``ranker``: the learned ranker that serves (the champion, or the shipped baseline) over the same
  pool — what users get. Unlike ``werkmatch evaluate``, which can only rank the voorstellen that were
  made, this judges the order of *everyone* retrieved, against the hidden truth.

A signal is isolated by giving it all the weight; the candidate pool always contains each signal's
own top ``pool_size``, so the single-signal rankings are exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlmodel import Session, select

from matching.domain import Client, Vacancy
from matching.matcher import Matcher
from matching.settings import RetrievalSettings
from training.latent import load_client_arrays, true_top_clients

ZERO = {
    "weight_dense": 0.0,
    "weight_lexical": 0.0,
    "weight_competences": 0.0,
    "weight_occupation": 0.0,
    "weight_distance": 0.0,
}


def signal_weights(base: RetrievalSettings) -> dict[str, RetrievalSettings]:
    return {
        "dense": base.model_copy(update={**ZERO, "weight_dense": 1.0}),
        "lexical": base.model_copy(update={**ZERO, "weight_lexical": 1.0}),
        "structured": base.model_copy(
            update={
                **ZERO,
                "weight_competences": base.weight_competences,
                "weight_occupation": base.weight_occupation,
                "weight_distance": base.weight_distance,
            }
        ),
        "hybrid": base,
    }


def evaluate_retrieval(matcher: Matcher, n_vacancies: int = 200, k: int = 50, seed: int = 0) -> dict[str, Any]:
    """Mean recall@k of each signal against the true top-k, over a seeded sample of open vacancies."""
    matcher.sync()
    with Session(matcher.engine) as session:
        open_ids = [v.id for v in session.exec(select(Vacancy).where(Vacancy.status == "open").order_by(Vacancy.id))]
        number_of = dict(session.exec(select(Client.id, Client.client_nummer)).all())
    rng = np.random.default_rng(seed)
    sample = sorted(rng.choice(open_ids, size=min(n_vacancies, len(open_ids)), replace=False).tolist())
    truth_clients = load_client_arrays(matcher.engine)
    variants = signal_weights(matcher.settings.retrieval)
    recalls: dict[str, list[float]] = {name: [] for name in variants}
    evaluated = 0
    for vacancy_id in sample:
        truth = {number_of[i] for i in true_top_clients(matcher.engine, vacancy_id, k, clients=truth_clients)}
        if not truth:
            continue
        evaluated += 1
        for name, weights in variants.items():
            found = {item.client_id for item in matcher.search_candidates(vacancy_id, k, weights=weights).results}
            recalls[name].append(len(found & truth) / len(truth))
        if matcher.ranker is not None:
            found = {item.client_id for item in matcher.search_candidates(vacancy_id, k).results}
            recalls.setdefault("ranker", []).append(len(found & truth) / len(truth))
    return {
        "clients": len(number_of),
        "vacancies": evaluated,
        "k": k,
        "ranker": matcher.ranker_status(),
        "recall": {name: round(float(np.mean(values)), 4) if values else None for name, values in recalls.items()},
    }
