"""The served lists' floor in evaluation: which floor a model is served with, and its serving groups per pool row.

Serving (:mod:`matching.floor_state`) orders a model's shown lists with the amortised floor by expected merit when
the model carries Platt parameters (:func:`matching.exposure_amortised.setting_of`), else with the merit floor per
trede. :func:`training.exposure_eval.served_fairness` replays the lists the same way: :func:`amortised_of` gives the
setting (from a :class:`matching.ranker.LearnedRanker`'s spec, or from ``werkmatch train``'s fit before the model is
saved) and :func:`serving_labels` the groups the floor reads per row, labelled as serving labels them: the trede, the
route (:func:`training.fairness.group_labels`'s) and whether the client was proposed for another vacancy before the
row's moment (``geschiedenis``, as ``training.client_history`` column 2 counts it). The replayed floor's state decays
between the pools by their moments with the served state's half life (:data:`matching.floor_state.HALF_LIFE_DAYS`,
:func:`training.exposure_eval.kept_between_pools`), so the gate judges what is served (session 32).
:func:`served_as_served` is the served lists' audit with them, for evaluate, the promotion gate and the training audit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy.engine import Engine

from matching.exposure_amortised import setting_of
from matching.floor_state import EVER, HALF_LIFE_DAYS, NEVER
from matching.matcher import Matcher
from training.client_history import History, load_history
from training.dataset import RankingData
from training.exposure_eval import served_fairness, served_method


def amortised_of(ranker: Any) -> dict[str, Any] | None:
    """The amortised setting a ranker (anything with a ``spec``) is served with; None: the merit floor."""
    spec = getattr(ranker, "spec", None)
    return setting_of(spec) if isinstance(spec, dict) else None


def ever_proposed_before(
    history: History, client_ids: np.ndarray, vacancy_ids: np.ndarray, moments: np.ndarray
) -> np.ndarray:
    """Per row: was the client proposed for a vacancy other than the row's strictly before the row's moment."""
    client_ids, vacancy_ids = np.asarray(client_ids, np.int64), np.asarray(vacancy_ids, np.int64)
    moments = np.asarray(moments, np.float64)
    if not len(history.proposal_client):
        return np.zeros(len(client_ids), bool)
    order = np.lexsort((history.proposal_at, history.proposal_client))
    client, vacancy, at = history.proposal_client[order], history.proposal_vacancy[order], history.proposal_at[order]
    clients, first, counts = np.unique(client, return_index=True, return_counts=True)
    first_at, first_vacancy = at[first], vacancy[first]
    # the earliest proposal for another vacancy than the client's first one
    segment = np.repeat(np.arange(len(clients)), counts)
    other = vacancy != first_vacancy[segment]
    other_at = np.full(len(clients), np.inf)
    np.minimum.at(other_at, segment[other], at[other])
    at_ = np.minimum(np.searchsorted(clients, client_ids), len(clients) - 1)
    known = clients[at_] == client_ids
    earliest = np.where(vacancy_ids == first_vacancy[at_], other_at[at_], first_at[at_])
    return known & (earliest < moments)


def serving_labels(engine: Engine, data: RankingData, groups: dict[str, np.ndarray], wanted: list[str]) -> dict:
    """The ``wanted`` serving groups per row of ``data``: ``trede`` and ``route`` from the audit's ``groups``
    (:func:`training.fairness.group_labels`), ``geschiedenis`` from the voorstellen in the database."""
    out: dict[str, np.ndarray] = {name: groups[name] for name in ("trede", "route") if name in wanted}
    if "geschiedenis" in wanted:
        ever = ever_proposed_before(load_history(engine), data.client_ids, data.vacancy_ids, data.moments)
        out["geschiedenis"] = np.where(ever, EVER, NEVER).astype(object)
    return out


def served_as_served(
    matcher: Matcher,
    pool: RankingData,
    scores: np.ndarray,
    groups: dict[str, np.ndarray],
    merit: np.ndarray | None,
    amortised: dict[str, Any] | None,
    half_life_days: float | None = HALF_LIFE_DAYS,
) -> dict[str, Any]:
    """:func:`training.exposure_eval.served_fairness` with the floor the model is served with: the amortised floor
    over its serving groups when ``amortised`` is given, its state decaying between the pools by their moments as
    the served state does (``half_life_days``; None only to compare with session 31's replay), else the merit
    floor."""
    serving = serving_labels(matcher.engine, pool, groups, amortised["groups"]) if amortised else None
    method = served_method(matcher.settings.ranker)
    return served_fairness(
        pool, scores, groups, merit, **method, amortised=amortised, serving=serving, half_life_days=half_life_days
    )
