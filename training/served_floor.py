"""The served lists' floor in evaluation: which floor a model is served with, and its serving groups per pool row.

Serving (:mod:`matching.floor_state`) orders a model's shown lists with the amortised floor by expected merit when
the model carries Platt parameters (:func:`matching.exposure_amortised.setting_of`), else with the merit floor per
trede. :func:`training.exposure_eval.served_fairness` replays the lists the same way: :func:`amortised_of` gives the
setting (from a :class:`matching.ranker.LearnedRanker`'s spec, or from ``werkmatch train``'s fit before the model is
saved) and :func:`serving_labels` the groups the floor reads per row, labelled as serving labels them: the trede, the
route and whether the client was proposed for another vacancy before the row's moment (``geschiedenis``, as
``training.client_history`` column 2 counts it), all three as the audit groups them
(:func:`training.fairness.group_labels`). The replayed floor's state decays between the pools by their moments with
the served state's half life (:data:`matching.floor_state.HALF_LIFE_DAYS`,
:func:`training.exposure_eval.kept_between_pools`), so the gate judges what is served (session 32).
:func:`served_as_served` is the served lists' audit with them, for evaluate, the promotion gate and the training audit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from matching.exposure_amortised import SERVING_GROUPS, setting_of
from matching.floor_state import HALF_LIFE_DAYS
from matching.matcher import Matcher
from training.dataset import RankingData
from training.exposure_eval import served_fairness, served_method


def amortised_of(ranker: Any) -> dict[str, Any] | None:
    """The amortised setting a ranker (anything with a ``spec``) is served with; None: the merit floor."""
    spec = getattr(ranker, "spec", None)
    return setting_of(spec) if isinstance(spec, dict) else None


def serving_labels(groups: dict[str, np.ndarray], wanted: list[str]) -> dict[str, np.ndarray]:
    """The ``wanted`` serving groups per row of ``data``, as the audit labels them (``groups``:
    :func:`training.fairness.group_labels`, which audits ``geschiedenis`` too), and as serving labels them."""
    return {name: groups[name] for name in SERVING_GROUPS if name in wanted}


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
    serving = serving_labels(groups, amortised["groups"]) if amortised else None
    method = served_method(matcher.settings.ranker)
    return served_fairness(
        pool, scores, groups, merit, **method, amortised=amortised, serving=serving, half_life_days=half_life_days
    )
