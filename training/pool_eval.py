"""The holdout as consulenten see it: every candidate the search would rank, with counterfactual outcomes.

``werkmatch evaluate`` first judges rankers on the voorstellen that were made — the only test real
data allows, but a narrow one: about five proposals per vacancy, chosen by consulenten who skim the
obvious candidates (afromen), so even random order scores well and a ranker is never asked to find
the suitable person nobody proposed.

On synthetic data more is known. For each held-out vacancy this module takes the whole candidate
pool the service would rank (:meth:`matching.matcher.Matcher.pool_features`: hard filters, then the
top of each signal) and gives every candidate the outcome the simulator's story says they would have
had if proposed (:func:`training.outcome_sim.counterfactual_labels`, with the same discrimination).
Rankers are then judged on what they put in a list of hundreds, against outcomes, not against the
hidden suitability itself (that is the oracle).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from sqlmodel import Session, select

from matching.domain import AuditKenmerken, Vacancy
from matching.matcher import Matcher
from matching.taxonomy import load_taxonomy
from training import latent
from training.dataset import RankingData
from training.outcome_sim import SimulationSettings, counterfactual_labels, protected_bias
from training.truth_arrays import Codebook


def pool_holdout(
    matcher: Matcher,
    vacancy_ids: np.ndarray,
    moments: dict[int, float],
    seed: int = 0,
    settings: SimulationSettings = SimulationSettings(),  # noqa: B008
) -> tuple[RankingData, np.ndarray] | None:
    """Pool rows for ``vacancy_ids`` with counterfactual labels, and the hidden suitability per row.

    Args:
        matcher: A synced matcher on synthetic data.
        vacancy_ids: The held-out vacancies.
        moments: Epoch seconds per vacancy (its first voorstel), kept as the rows' moments.
        seed: For the outcome draws.
        settings: The simulation's story (its discrimination and noise).

    Returns:
        ``(data, true suitability per row)``, or None on data without a hidden truth (real data).
    """
    truth = latent.load_client_arrays(matcher.engine)
    if len(truth.ids) == 0:
        return None
    codebook = Codebook.from_taxonomy(load_taxonomy())
    row_of = {int(key): row for row, key in enumerate(truth.ids)}
    with Session(matcher.engine) as session:
        audit = {row.client_id: row for row in session.exec(select(AuditKenmerken))}
        source_of = dict(session.exec(select(Vacancy.id, Vacancy.bron)).all())
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {key: [] for key in ("features", "labels", "vacancy", "client", "truth")}
    for vacancy_id in np.unique(vacancy_ids).tolist():
        client_ids, features = matcher.pool_features(int(vacancy_id))
        if not len(client_ids):
            continue
        try:
            profile = latent.load_vacancy_profile(matcher.engine, int(vacancy_id), codebook)
            rows = np.array([row_of[int(c)] for c in client_ids], np.int64)
        except (LookupError, KeyError):
            return None
        true_s, truly = latent.evaluate(truth.take(rows), profile)
        on = datetime.fromtimestamp(moments[int(vacancy_id)], UTC).date()
        bias = protected_bias(audit, client_ids, on, settings)
        parts["features"].append(features)
        parts["labels"].append(counterfactual_labels(true_s, truly, bias, rng, settings))
        parts["vacancy"].append(np.full(len(client_ids), vacancy_id, np.int64))
        parts["client"].append(client_ids.astype(np.int64))
        parts["truth"].append(np.asarray(true_s, np.float64))
    if not parts["labels"]:
        return None
    vacancy = np.concatenate(parts["vacancy"])
    clients, _ = matcher.index.arrays()
    client_ids = np.concatenate(parts["client"])
    data = RankingData(
        features=np.concatenate(parts["features"]),
        labels=np.concatenate(parts["labels"]),
        vacancy_ids=vacancy,
        client_ids=client_ids,
        moments=np.array([moments[int(v)] for v in vacancy], np.float64),
        bron=np.array([source_of[int(v)] for v in vacancy], dtype=str),
        trede=clients.trede[[clients.position[int(c)] for c in client_ids]].astype(np.int64),
    )
    return data, np.concatenate(parts["truth"])
