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

from matching.domain import Vacancy
from matching.matcher import Matcher
from matching.taxonomy import load_taxonomy
from training import latent
from training.dataset import RankingData
from training.latent import CLIENT, SyntheticLatent
from training.outcome_sim import SimulationSettings, audit_columns, counterfactual_labels, protected_bias
from training.truth_arrays import ClientArrays, Codebook

TRUTH_CHUNK = 5_000


def evaluated_pools(
    matcher: Matcher, data: RankingData, test_share: float, pool_vacancies: int
) -> tuple[RankingData, np.ndarray] | None:
    """The pools ``werkmatch evaluate --pool-vacancies`` judges: :func:`pool_holdout` of a seeded sample (seed 0) of
    up to ``pool_vacancies`` of the held-out vacancies of ``data``'s time split; None on real data."""
    _, test = data.time_split(test_share)
    moments = dict(zip(test.vacancy_ids.tolist(), test.moments.tolist(), strict=True))
    held_out = np.unique(test.vacancy_ids)
    sample = np.random.default_rng(0).choice(held_out, size=min(pool_vacancies, len(held_out)), replace=False)
    return pool_holdout(matcher, sample, moments)


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
    with Session(matcher.engine) as session:
        synthetic = session.exec(select(SyntheticLatent.entity_id).where(SyntheticLatent.kind == CLIENT)).first()
    if synthetic is None:
        return None
    pools = []  # (vacancy id, client ids, features): the whole pools first, then only their clients are read
    for vacancy_id in np.unique(vacancy_ids).tolist():
        client_ids, features = matcher.pool_features(int(vacancy_id))
        if len(client_ids):
            pools.append((int(vacancy_id), client_ids.astype(np.int64), features))
    if not pools:
        return None
    wanted = np.unique(np.concatenate([ids for _, ids, _ in pools]))
    codebook = Codebook.from_taxonomy(load_taxonomy())
    truth = _truth_of(matcher, wanted, codebook)
    with Session(matcher.engine) as session:
        audit = audit_columns(session, wanted)
        asked = [vacancy_id for vacancy_id, _, _ in pools]
        source_of = dict(session.exec(select(Vacancy.id, Vacancy.bron).where(Vacancy.id.in_(asked))).all())  # type: ignore[union-attr]
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {key: [] for key in ("features", "labels", "vacancy", "client", "truth")}
    for vacancy_id, client_ids, features in pools:
        rows = np.minimum(np.searchsorted(truth.ids, client_ids), max(len(truth.ids) - 1, 0))
        if not len(truth.ids) or not np.array_equal(truth.ids[rows], client_ids):
            return None  # a client without a hidden truth
        try:
            profile = latent.load_vacancy_profile(matcher.engine, vacancy_id, codebook)
        except LookupError:
            return None
        true_s, truly = latent.evaluate(truth.take(rows), profile)
        on = datetime.fromtimestamp(moments[vacancy_id], UTC).date()
        bias = protected_bias(audit, client_ids, on, settings)
        parts["features"].append(features)
        parts["labels"].append(counterfactual_labels(true_s, truly, bias, rng, settings))
        parts["vacancy"].append(np.full(len(client_ids), vacancy_id, np.int64))
        parts["client"].append(client_ids)
        parts["truth"].append(np.asarray(true_s, np.float64))
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


def _truth_of(matcher: Matcher, ids: np.ndarray, codebook: Codebook) -> ClientArrays:
    """The hidden truth of the clients ``ids`` (ascending) only, read :data:`TRUTH_CHUNK` at a time: of all
    400,000 clients its occupation columns alone take gigabytes."""
    parts = [
        latent.load_client_arrays(matcher.engine, codebook, ids=ids[start : start + TRUTH_CHUNK].tolist())
        for start in range(0, len(ids), TRUTH_CHUNK)
    ]
    if len(parts) == 1:
        return parts[0]
    joined = {name: np.concatenate([vars(part)[name] for part in parts]) for name in vars(parts[0])}
    return ClientArrays(**{name: np.asfortranarray(v) if v.ndim == 2 else v for name, v in joined.items()})
