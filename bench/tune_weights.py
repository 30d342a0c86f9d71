"""Choose the core's signal weights on a *tuning* sample of vacancies (seed 1), by coordinate search.

Run: WERKMATCH_DATA_DIR=var .venv/bin/python bench/tune_weights.py  (after `werkmatch demo-data`).
`werkmatch eval retrieval` then reports recall on the default sample (seed 0), which tuning never saw.
"""

from __future__ import annotations

import json
import sys

import numpy as np
from sqlmodel import Session, select

from matching.domain import Client, Vacancy
from matching.matcher import Matcher
from matching.settings import Settings
from training.latent import load_client_arrays, true_top_clients

NAMES = ("weight_dense", "weight_lexical", "weight_competences", "weight_occupation", "weight_distance")


def main(n_vacancies: int = 120, k: int = 50, start: dict[str, float] | None = None) -> None:
    settings = Settings()
    matcher = Matcher(settings)
    matcher.sync()
    with Session(matcher.engine) as session:
        open_ids = [v.id for v in session.exec(select(Vacancy).where(Vacancy.status == "open").order_by(Vacancy.id))]
        number_of = dict(session.exec(select(Client.id, Client.client_nummer)).all())
    sample = sorted(np.random.default_rng(1).choice(open_ids, size=n_vacancies, replace=False).tolist())
    clients = load_client_arrays(matcher.engine)
    truths = {v: {number_of[i] for i in true_top_clients(matcher.engine, v, k, clients=clients)} for v in sample}

    def recall(weights: dict[str, float]) -> float:
        variant = settings.retrieval.model_copy(update=weights)
        values = []
        for vacancy_id, truth in truths.items():
            if truth:
                found = {r.client_id for r in matcher.search_candidates(vacancy_id, k, weights=variant).results}
                values.append(len(found & truth) / len(truth))
        return float(np.mean(values))

    current = start or {name: getattr(settings.retrieval, name) for name in NAMES}
    best = recall(current)
    print(json.dumps({"start": current, "recall": round(best, 4)}), file=sys.stderr)
    for _ in range(2):
        for name in NAMES:
            for factor in (0.0, 0.5, 2.0):
                trial = {**current, name: current[name] * factor if current[name] else 0.1 * factor}
                value = recall(trial)
                if value > best + 0.002:
                    best, current = value, trial
                    print(json.dumps({"better": current, "recall": round(best, 4)}), file=sys.stderr)
    total = sum(current.values())
    print(json.dumps({"weights": {n: round(v / total, 3) for n, v in current.items()}, "tuningRecall": round(best, 4)}))


if __name__ == "__main__":
    # Optional start point: five weights in NAMES order, e.g. `python bench/tune_weights.py .4 .15 .25 .1 .1`.
    main(start=dict(zip(NAMES, map(float, sys.argv[1:]), strict=True)) if len(sys.argv) > 1 else None)
