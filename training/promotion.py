"""``werkmatch promote``: move the ``champion`` alias to the challenger only when it is measurably better.

The rule (margin from ``Settings.ranker.promotion_margin``, default 0.01):

* both models are scored on the *same* holdout: the vacancies from the challenger's ``holdout_from``
  on, which the challenger never trained on (when no champion is registered, the ranker that serves
  instead — the shipped baseline, or the weighted score — is the one to beat). On real data that is
  the voorstellen made for them; on synthetic data the gate reads the whole candidate pools with
  counterfactual outcomes (:mod:`training.pool_eval`), the proposals are reported beside it;
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
from training.metrics import paired, summarise
from training.rankers import weighted_baseline

RESAMPLES = 2000


class PromotionRefused(InvalidInputError):
    """The challenger did not pass the gates; nothing was changed."""

    def __init__(self, message: str, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.result = result


def scores(ranker: LearnedRanker | None, data: RankingData, settings: Settings) -> np.ndarray:
    return ranker.score(data.features) if ranker is not None else weighted_baseline(data, settings.retrieval)


def _evidence(
    settings: Settings, holdout: RankingData, challenger: LearnedRanker, champion: LearnedRanker | None
) -> dict[str, Any]:
    new, old = scores(challenger, holdout, settings), scores(champion, holdout, settings)
    return {
        "pairs": len(holdout),
        "vacancies": int(len(np.unique(holdout.vacancy_ids))),
        "challenger": summarise(holdout.labels, new, holdout.vacancy_ids),
        "champion": summarise(holdout.labels, old, holdout.vacancy_ids),
        "ndcg@10Gain": paired(holdout.labels, new, old, holdout.vacancy_ids, resamples=RESAMPLES),
    }


def compare_on_holdout(
    settings: Settings,
    data: RankingData,
    challenger: LearnedRanker,
    champion: LearnedRanker | None,
    holdout_from: str,
    pool: RankingData | None = None,
) -> dict[str, Any]:
    """Both rankers on the vacancies from ``holdout_from`` on, and the gates' verdict.

    ``pool`` (synthetic data only, :func:`training.pool_eval.pool_holdout` of those vacancies): whole
    candidate lists with counterfactual outcomes. When given, the gate reads it — it judges what
    consulenten would see; the proposals that were made are still reported. On real data the gate
    reads the proposals.
    """
    start = datetime.fromisoformat(holdout_from).timestamp()
    holdout = data.take(np.flatnonzero(data.moments >= start))
    if not len(holdout):
        raise InvalidInputError(
            f"geen besliste voorstellen voor vacatures vanaf {holdout_from}: niets om op te toetsen"
        )
    logged = _evidence(settings, holdout, challenger, champion)
    judged = _evidence(settings, pool, challenger, champion) if pool is not None and len(pool) else None
    basis = judged or logged
    gain, margin = basis["ndcg@10Gain"], settings.ranker.promotion_margin
    gates = [
        {
            "name": "ndcg@10-marge",
            "basis": "kandidatenpool (synthetisch)" if judged else "gedane voorstellen",
            "rule": f"gemiddelde winst in NDCG@10 ≥ {margin} en ondergrens van het 95%-interval > 0",
            "passed": bool(gain["gain"] >= margin and gain["gainCI"][0] > 0),
        }
    ]
    champion_name = champion.describe() if champion is not None else {"name": "baseline:weighted", "version": None}
    return {
        "holdout": {"from": holdout_from, "pairs": len(holdout), "vacancies": logged["vacancies"]},
        "challenger": {**challenger.describe(), **basis["challenger"]},
        "champion": {**champion_name, **basis["champion"]},
        "ndcg@10Gain": gain,
        "evidence": {"voorstellen": logged, **({"pool": judged} if judged else {})},
        "margin": margin,
        "gates": gates,
        "passed": all(gate["passed"] for gate in gates),
    }


def _pool(matcher: Matcher, data: RankingData, holdout_from: str, vacancies: int = 200) -> RankingData | None:
    """The pool holdout of (a seeded sample of) the held-out vacancies, on synthetic data; else None."""
    from training.pool_eval import pool_holdout

    held_out = data.take(np.flatnonzero(data.moments >= datetime.fromisoformat(holdout_from).timestamp()))
    if not len(held_out):
        return None
    moments = dict(zip(held_out.vacancy_ids.tolist(), held_out.moments.tolist(), strict=True))
    ids = np.unique(held_out.vacancy_ids)
    sample = np.random.default_rng(0).choice(ids, size=min(vacancies, len(ids)), replace=False)
    built = pool_holdout(matcher, sample, moments)
    return built[0] if built is not None else None


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
    data = build_dataset(matcher)
    result = compare_on_holdout(settings, data, challenger, champion, holdout_from, _pool(matcher, data, holdout_from))
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
