"""``werkmatch promote``: move the ``champion`` alias to the challenger only when it is measurably better.

The rule (margin from ``Settings.ranker.promotion_margin``, default 0.01):

* both models are scored on the *same* holdout: the vacancies from the challenger's ``holdout_from``
  on, which the challenger never trained on (when no champion is registered, the ranker that serves
  instead — the shipped baseline, or the weighted score — is the one to beat);
* per vacancy, NDCG@10 of challenger minus champion; the mean gain must be at least the margin *and*
  the lower end of its paired 95 % bootstrap interval (vacancies resampled) above zero.

A refused promotion changes nothing. ``--force`` promotes anyway but only with ``--reason``; who
promoted, when, why, forced or not and the measured gain are written on the model version as tags,
so the registry answers "who put this model in front of consulenten, and on what evidence".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

from matching.errors import InvalidInputError
from matching.matcher import Matcher
from matching.ranker import LearnedRanker
from matching.settings import Settings
from training import registry
from training.dataset import RankingData, build_dataset
from training.metrics import per_group, summarise
from training.rankers import weighted_baseline

RESAMPLES = 2000


class PromotionRefused(InvalidInputError):
    """The challenger did not pass the gates; nothing was changed."""

    def __init__(self, message: str, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.result = result


def scores(ranker: LearnedRanker | None, data: RankingData, settings: Settings) -> np.ndarray:
    return ranker.score(data.features) if ranker is not None else weighted_baseline(data, settings.retrieval)


def paired_gain(data: RankingData, new: np.ndarray, old: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """Mean per-vacancy NDCG@10 gain of ``new`` over ``old`` with a paired bootstrap interval."""
    a = per_group(data.labels, new, data.vacancy_ids)["ndcg@10"]
    b = per_group(data.labels, old, data.vacancy_ids)["ndcg@10"]
    keep = ~(np.isnan(a) | np.isnan(b))
    diff = a[keep] - b[keep]
    if not len(diff):
        return {"gain": 0.0, "gainCI": [0.0, 0.0], "vacancies": 0}
    draws = np.random.default_rng(seed).integers(0, len(diff), size=(RESAMPLES, len(diff)))
    means = diff[draws].mean(axis=1)
    return {
        "gain": round(float(diff.mean()), 4),
        "gainCI": [round(float(np.percentile(means, 2.5)), 4), round(float(np.percentile(means, 97.5)), 4)],
        "vacancies": int(len(diff)),
    }


def compare_on_holdout(
    settings: Settings,
    data: RankingData,
    challenger: LearnedRanker,
    champion: LearnedRanker | None,
    holdout_from: str,
) -> dict[str, Any]:
    """Both rankers' metrics on the vacancies from ``holdout_from`` on, and the gates' verdict."""
    start = datetime.fromisoformat(holdout_from).timestamp()
    holdout = data.take(np.flatnonzero(data.moments >= start))
    if not len(holdout):
        raise InvalidInputError(
            f"geen besliste voorstellen voor vacatures vanaf {holdout_from}: niets om op te toetsen"
        )
    new, old = scores(challenger, holdout, settings), scores(champion, holdout, settings)
    gain = paired_gain(holdout, new, old)
    margin = settings.ranker.promotion_margin
    gates = [
        {
            "name": "ndcg@10-marge",
            "rule": f"gemiddelde winst in NDCG@10 ≥ {margin} en ondergrens van het 95%-interval > 0",
            "passed": bool(gain["gain"] >= margin and gain["gainCI"][0] > 0),
        }
    ]
    return {
        "holdout": {"from": holdout_from, "pairs": len(holdout), "vacancies": int(len(np.unique(holdout.vacancy_ids)))},
        "challenger": {**challenger.describe(), **summarise(holdout.labels, new, holdout.vacancy_ids)},
        "champion": {
            **(champion.describe() if champion is not None else {"name": "baseline:weighted", "version": None}),
            **summarise(holdout.labels, old, holdout.vacancy_ids),
        },
        "ndcg@10Gain": gain,
        "margin": margin,
        "gates": gates,
        "passed": all(gate["passed"] for gate in gates),
    }


def promote(
    settings: Settings, matcher: Matcher, force: bool = False, reason: str | None = None, user: str | None = None
) -> dict[str, Any]:
    """Compare challenger and champion and move the alias when the gates pass (or when forced, with a reason)."""
    if force and not (reason and reason.strip()):
        raise InvalidInputError("--force vraagt om een --reason: leg vast waarom dit model toch champion wordt")
    challenger_info = registry.by_alias(settings, registry.CHALLENGER)
    if challenger_info is None:
        raise InvalidInputError("er is geen challenger om te promoveren; train eerst een model (werkmatch train)")
    champion_info = registry.by_alias(settings, registry.CHAMPION)
    challenger = registry.load_version(settings, challenger_info)
    champion = registry.load_version(settings, champion_info) if champion_info is not None else matcher.baseline
    holdout_from = challenger_info.tags.get("holdout_from") or challenger.spec.get("holdoutFrom")
    if not holdout_from:
        raise InvalidInputError(f"versie {challenger_info.version} vermeldt geen toetsperiode (holdout_from)")
    result = compare_on_holdout(settings, build_dataset(matcher), challenger, champion, holdout_from)
    if not result["passed"] and not force:
        failed = ", ".join(gate["name"] for gate in result["gates"] if not gate["passed"])
        gain = result["ndcg@10Gain"]
        raise PromotionRefused(
            f"versie {challenger_info.version} wordt geen champion: niet gehaald: {failed} "
            f"(winst {gain['gain']:+.4f}, 95%-interval [{gain['gainCI'][0]:+.4f}, {gain['gainCI'][1]:+.4f}], "
            f"marge {result['margin']}); gebruik --force --reason om dit bewust te overrulen",
            result,
        )
    tracking = registry.client(settings)
    name, version = settings.ranker.registered_model, challenger_info.version
    record = {
        "promoted_by": user or registry.current_user(),
        "promoted_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "promotion_forced": str(bool(force and not result["passed"])).lower(),
        "promotion_reason": (reason or "").strip() or "gates gehaald",
        "promotion_gain_ndcg_at_10": str(result["ndcg@10Gain"]["gain"]),
        "previous_champion": champion_info.version
        if champion_info is not None
        else (champion.name if champion else "baseline:weighted"),
    }
    for key, value in record.items():
        tracking.set_model_version_tag(name, version, key, value)
    tracking.set_registered_model_alias(name, registry.CHAMPION, version)
    tracking.delete_registered_model_alias(name, registry.CHALLENGER)
    return {**result, "promoted": {"version": version, **record}}
