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

**The fairness gate** (:data:`FAIRNESS_GATE`) reads the challenger's fairness audit on the same
whole pools (synthetic data: :func:`training.fairness.audit_ranking` plus the counterfactual
gender-swap test of :mod:`training.counterfactual`), and in it the lists *as served*
(:func:`training.exposure_eval.served_fairness`: the exposure re-ordering and merit floor replayed
in time order). A breach — a group of at least 30 clients whose served top-10 share ÷ merit share is
under 0.8 (:func:`training.fairness_report.merit_breaches`), or a mean
rank-biased overlap under 0.9 when gendered job words are swapped — refuses the promotion unless a
data scientist records a ``justification`` (``werkmatch promote --verantwoording "…"``; API field
``verantwoording``): the Algoritmekader's justification test, in writing. ``--force`` does not
replace it: forcing answers "not measurably better", a justification answers "disadvantages a group".
On real data (no hidden suitability) only the served lists' exposure against the pool runs
(:func:`served_audit`); merit and the counterfactual test cannot be judged, so the gate cannot say
the model is fair and promoting needs a justification too. The justification, the breaches it covers and
who recorded it become version tags (``fairness_justification``, ``fairness_breaches``,
``fairness_justified_by``, ``fairness_justified_at``, ``fairness_gate``), and the model card
(:mod:`training.model_card`) is re-logged with the run so it shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from matching.errors import InvalidInputError
from matching.matcher import Matcher
from matching.ranker import LearnedRanker, RankerError
from matching.settings import Settings
from training import registry
from training.counterfactual import counterfactual_rankings
from training.dataset import RankingData, build_dataset
from training.exposure_eval import MIN_EXPOSURE_VS_MERIT, served_pools
from training.fairness import audit_ranking, group_labels, route_suited, suitable_in_pool
from training.fairness_report import breaches, describe_breach, merit_breaches
from training.metrics import paired, summarise
from training.model_card import CARD, card_for_version
from training.pool_eval import pool_holdout
from training.rankers import Scorer, scorer_of, weighted_baseline
from training.served_floor import amortised_of, served_as_served
from training.served_weighted import served_weighted

RESAMPLES = 2000
FAIRNESS_GATE = "fairness-struikeldraad"
RBO_FLOOR = 0.9  # counterfactual: mean rank-biased overlap of top-10s with gendered words swapped
# The counterfactual's cost is re-embedding the swapped profiles, not the pools: on the demo bestand
# (5,340 swapped profiles) 81 s for all 200 pools against 95 s for 100, so every pool is used.
COUNTERFACTUAL_VACANCIES = 200
# ... and at most this many distinct pool clients: whole pools, in the sample's order, until the next pool
# would pass it (at least one). A gemeente's bestand (≤ 9,000 on the demo) never reaches it, so every pool
# is used; at national size a reach pool holds thousands of clients and 200 of them would re-embed most
# of the bestand's profile pieces (a world embedded by `werkmatch batch embed` has them in its cache; the
# national benchmark world, with borrowed vectors, has not).
COUNTERFACTUAL_CLIENTS = 10_000
MIN_JUSTIFICATION = 20  # characters: a sentence, not "ok"


class PromotionRefused(InvalidInputError):
    """The challenger did not pass the gates; nothing was changed."""

    def __init__(self, message: str, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.result = result


def scores(
    ranker: LearnedRanker | None, data: RankingData, settings: Settings, weighted: Scorer | None = None
) -> np.ndarray:
    """``ranker``'s scores of ``data``; no ranker: the weighted score, ``weighted`` where given (the served one on
    whole pools: :func:`training.served_weighted.served_weighted`), else from the features."""
    if ranker is not None:
        return scorer_of(ranker)(data)
    return weighted(data) if weighted is not None else weighted_baseline(data, settings.retrieval)


def _evidence(
    settings: Settings,
    holdout: RankingData,
    challenger: LearnedRanker,
    champion: LearnedRanker | None,
    weighted: Scorer | None = None,
) -> dict[str, Any]:
    new, old = scores(challenger, holdout, settings), scores(champion, holdout, settings, weighted)
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
    pool_weighted: Scorer | None = None,
) -> dict[str, Any]:
    """Both rankers on the vacancies from ``holdout_from`` on, and the gates' verdict.

    ``pool`` (synthetic data only, :func:`training.pool_eval.pool_holdout` of those vacancies): whole
    candidate lists with counterfactual outcomes. When given, the gate reads it — it judges what
    consulenten would see; the proposals that were made are still reported. On real data the gate
    reads the proposals. ``pool_weighted``: with no champion, the weighted score on the pool as the search serves it
    (the rare-identifier gate read from the index: :func:`training.served_weighted.served_weighted`); the
    proposals, no pools, always read it from the features.
    """
    start = datetime.fromisoformat(holdout_from).timestamp()
    holdout = data.take(np.flatnonzero(data.moments >= start))
    if not len(holdout):
        raise InvalidInputError(
            f"geen besliste voorstellen voor vacatures vanaf {holdout_from}: niets om op te toetsen"
        )
    logged = _evidence(settings, holdout, challenger, champion)
    judged = None
    if pool is not None and len(pool):
        judged = _evidence(settings, pool, challenger, champion, pool_weighted)
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


def _holdout_sample(data: RankingData, holdout_from: str, vacancies: int) -> tuple[np.ndarray, dict[int, float]]:
    """A seeded sample of the vacancies from ``holdout_from`` on, and the moment of each held-out vacancy."""
    held_out = data.take(np.flatnonzero(data.moments >= datetime.fromisoformat(holdout_from).timestamp()))
    moments = dict(zip(held_out.vacancy_ids.tolist(), held_out.moments.tolist(), strict=True))
    ids = np.unique(held_out.vacancy_ids)
    return np.random.default_rng(0).choice(ids, size=min(vacancies, len(ids)), replace=False), moments


def holdout_pools(
    matcher: Matcher, data: RankingData, holdout_from: str, vacancies: int = 200
) -> tuple[RankingData, np.ndarray] | None:
    """The pool holdout of (a seeded sample of) the held-out vacancies and the hidden suitability, on
    synthetic data; else None."""
    sample, moments = _holdout_sample(data, holdout_from, vacancies)
    return pool_holdout(matcher, sample, moments) if len(sample) else None


def served_audit(
    matcher: Matcher,
    score: Scorer,
    data: RankingData,
    holdout_from: str,
    amortised: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Real data (no hidden truth): the exposure-vs-pool part of the served lists' audit
    (:func:`training.exposure_eval.served_fairness` without merit) on the held-out vacancies' pools; ``amortised``:
    the model's amortised floor (:func:`training.served_floor.amortised_of`), None: the merit floor."""
    sample, moments = _holdout_sample(data, holdout_from, COUNTERFACTUAL_VACANCIES)
    pools = served_pools(matcher, sample, moments) if len(sample) else None
    if pools is None:
        return None
    groups = group_labels(matcher.engine, pools)
    return served_as_served(matcher, pools, score(pools), groups, None, amortised)


def fairness_audit(
    matcher: Matcher,
    score: Scorer,
    pool: RankingData,
    truth: np.ndarray,
    counterfactual_vacancies: int = COUNTERFACTUAL_VACANCIES,
    amortised: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One ranker's (``score``: pairs -> scores, :func:`training.rankers.scorer_of`) fairness audit on whole pools,
    with the counterfactual test on (up to) ``counterfactual_vacancies`` of them; its served lists with the floor it
    is served with (``amortised``: :func:`training.served_floor.served_as_served`)."""
    groups, merit = group_labels(matcher.engine, pool), suitable_in_pool(truth, pool.vacancy_ids)
    scores = score(pool)
    audit = audit_ranking(pool, scores, groups, merit, suited=route_suited(pool))
    audit["served"] = served_as_served(matcher, pool, scores, groups, merit, amortised)
    read = counterfactual_pools(pool, counterfactual_vacancies)
    audit["counterfactual"] = counterfactual_rankings(matcher, read, score)
    return audit


def counterfactual_pools(
    pool: RankingData, vacancies: int = COUNTERFACTUAL_VACANCIES, clients: int = COUNTERFACTUAL_CLIENTS
) -> RankingData:
    """The whole pools the counterfactual test reads: the first ``vacancies`` (by id), fewer where their
    distinct clients would pass ``clients`` (never fewer than one pool)."""
    chosen: list[int] = []
    seen: set[int] = set()
    for vacancy_id in np.unique(pool.vacancy_ids)[:vacancies].tolist():
        members = set(pool.client_ids[pool.vacancy_ids == vacancy_id].tolist())
        if chosen and len(seen | members) > clients:
            break
        chosen.append(vacancy_id)
        seen |= members
    return pool.take(np.isin(pool.vacancy_ids, chosen))


def fairness_gate(audit: dict[str, Any] | None, missing_reason: str | None = None) -> dict[str, Any]:
    """The gate's verdict on one audit: ``breaches`` and ``passed``.

    It reads the lists *as served* (``audit["served"]``, after the exposure re-ordering): on synthetic
    data every group of ≥ 30 clients must get ≥ 0.8 of the top-10 share it merits, and the mean RBO
    of the counterfactual test must be ≥ :data:`RBO_FLOOR`. Without the served audit (an audit saved
    before it existed) the pool tripwire of the ranking itself. Without merit (real data: only the
    served exposure-vs-pool part, ``{"served": …}``) the pool tripwire on the served lists is reported
    and promoting still needs a justification: merit and the counterfactual test could not be judged.
    """
    rule = (
        "geen groep (≥ 30 klanten) in de getoonde lijsten met aandeel top-10 ÷ aandeel onder wie een plaats "
        f"verdiende onder {MIN_EXPOSURE_VS_MERIT}, en gemiddelde RBO van de top-10 na het omwisselen van "
        f"gegenderde beroepswoorden ≥ {RBO_FLOOR}; anders een verantwoording"
    )
    served = (audit or {}).get("served")
    if audit is None or (served is not None and "goal" not in served):
        return {
            "name": FAIRNESS_GATE,
            "basis": f"geen volledige audit mogelijk: {missing_reason or 'onbekend waarom'}"
            + (" (alleen blootstelling tegen de pool van de getoonde lijsten gemeten)" if served else ""),
            "rule": rule,
            "passed": False,
            "breaches": breaches(served),
        }
    found = merit_breaches(served) if served is not None else breaches(audit)
    counterfactual = audit.get("counterfactual") or {}
    if counterfactual.get("rbo") is not None and counterfactual["rbo"] < RBO_FLOOR:
        found.append(
            {
                "attribute": "contrafeitelijk",
                "group": "gegenderde beroepswoorden",
                "ratio": counterfactual["rbo"],
                "ratioCI": None,
                "clients": counterfactual.get("swappedProfiles"),
                "certain": True,
            }
        )
    return {
        "name": FAIRNESS_GATE,
        "basis": "getoonde lijsten op de kandidatenpool (synthetisch)"
        if served is not None
        else "kandidatenpool (synthetisch)",
        "rule": rule,
        "passed": not found,
        "breaches": found,
    }


def _breach_text(found: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"{b['attribute']}: RBO {b['ratio']:.3f} (onder {RBO_FLOOR})"
        if b["attribute"] == "contrafeitelijk"
        else describe_breach(b)
        for b in found
    )


def promote(
    settings: Settings,
    matcher: Matcher,
    force: bool = False,
    reason: str | None = None,
    user: str | None = None,
    justification: str | None = None,
) -> dict[str, Any]:
    """Compare challenger and champion and move the alias when the gates pass (or when forced, with a reason).

    Args:
        force: promote although the performance gate fails (needs ``reason``); not the fairness gate.
        justification: why a fairness breach (or a missing audit) is acceptable; needed then, recorded.
    """
    justification = _checked_request(force, reason, justification)
    contenders = _contenders(settings, matcher)
    result, gate, performance_passed = _judge(settings, matcher, contenders)
    version = contenders.challenger_info.version
    _refuse_unless_allowed(version, result, gate, performance_passed, force, justification)
    who = user or registry.current_user()
    record = _promotion_record(contenders, result, gate, who, force and not performance_passed, reason, justification)
    tracking = registry.client(settings)
    name = settings.ranker.registered_model
    for key, value in record.items():
        tracking.set_model_version_tag(name, version, key, value[:5000])
    tracking.set_registered_model_alias(name, registry.CHAMPION, version)
    tracking.delete_registered_model_alias(name, registry.CHALLENGER)
    _relog_card(settings, version)
    return {**result, "promoted": {"version": version, **record}}


@dataclass(frozen=True)
class _Contenders:
    """The registered challenger and champion, loaded, and the period the challenger never trained on."""

    challenger_info: registry.VersionInfo
    champion_info: registry.VersionInfo | None
    challenger: LearnedRanker
    champion: LearnedRanker | None  # what ranks now when the champion cannot be loaded
    unusable: str | None  # why the registered champion could not be loaded
    holdout_from: str


def _checked_request(force: bool, reason: str | None, justification: str | None) -> str | None:
    """The stripped justification; refuses a force without a reason and a justification of a few words."""
    if force and not (reason and reason.strip()):
        raise InvalidInputError("--force vraagt om een --reason: leg vast waarom dit model toch champion wordt")
    justification = (justification or "").strip() or None
    if justification is not None and len(justification) < MIN_JUSTIFICATION:
        raise InvalidInputError(
            f"een verantwoording is minstens {MIN_JUSTIFICATION} tekens: leg in een zin vast waarom de "
            "overschrijding aanvaardbaar is"
        )
    return justification


def _contenders(settings: Settings, matcher: Matcher) -> _Contenders:
    challenger_info = registry.by_alias(settings, registry.CHALLENGER)
    if challenger_info is None:
        raise InvalidInputError("er is geen challenger om te promoveren; train eerst een model (werkmatch train)")
    champion_info = registry.by_alias(settings, registry.CHAMPION)
    challenger = registry.load_version(settings, challenger_info)
    challenger.bind(matcher.engine, matcher.embedder)  # its notes column reads this bestand, if it has one
    champion, unusable = matcher.baseline, None
    if champion_info is not None:
        try:
            champion = registry.load_version(settings, champion_info)
            champion.bind(matcher.engine, matcher.embedder)
        except RankerError as error:  # e.g. trained on an older feature list: the service serves the baseline
            unusable = (
                f"champion versie {champion_info.version} is onbruikbaar ({error}); vergeleken met wat nu rangschikt"
            )
    holdout_from = challenger_info.tags.get("holdout_from") or challenger.spec.get("holdoutFrom")
    if not holdout_from:
        raise InvalidInputError(f"versie {challenger_info.version} vermeldt geen toetsperiode (holdout_from)")
    return _Contenders(challenger_info, champion_info, challenger, champion, unusable, holdout_from)


def _judge(
    settings: Settings, matcher: Matcher, contenders: _Contenders
) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """Both gates: (the comparison with the fairness gate and audit added, the fairness gate, performance passed)."""
    data = build_dataset(matcher)
    built = holdout_pools(matcher, data, contenders.holdout_from)
    result = compare_on_holdout(
        settings,
        data,
        contenders.challenger,
        contenders.champion,
        contenders.holdout_from,
        built[0] if built is not None else None,
        served_weighted(matcher, settings.retrieval),
    )
    if contenders.unusable is not None:
        result["championUnusable"] = contenders.unusable
    performance_passed = result["passed"]
    floor = amortised_of(contenders.challenger)  # its lists as they would be served: the amortised floor or not
    if built is not None:
        audit = fairness_audit(matcher, scorer_of(contenders.challenger), *built, amortised=floor)
        gate = fairness_gate(audit)
    else:  # real data: the exposure-vs-pool part of the served lists still runs
        served = served_audit(matcher, scorer_of(contenders.challenger), data, contenders.holdout_from, floor)
        audit = {"served": served} if served is not None else None
        gate = fairness_gate(audit, "echte gegevens: geen verborgen geschiktheid, dus geen verdienste")
    result["gates"].append(gate)
    result["passed"] = performance_passed and gate["passed"]
    result["fairness"] = audit
    return result, gate, performance_passed


def _refuse_unless_allowed(
    version: str,
    result: dict[str, Any],
    gate: dict[str, Any],
    performance_passed: bool,
    force: bool,
    justification: str | None,
) -> None:
    """Raise :class:`PromotionRefused` unless the performance gate passed (or was forced) and the fairness
    gate passed (or is justified)."""
    if not performance_passed and not force:
        failed = ", ".join(g["name"] for g in result["gates"] if not g["passed"])
        gain = result["ndcg@10Gain"]
        raise PromotionRefused(
            f"versie {version} wordt geen champion: niet gehaald: {failed} "
            f"(winst {gain['gain']:+.4f}, 95%-interval [{gain['gainCI'][0]:+.4f}, {gain['gainCI'][1]:+.4f}], "
            f"marge {result['margin']}); gebruik --force --reason om dit bewust te overrulen",
            result,
        )
    if not gate["passed"] and justification is None:
        what = _breach_text(gate["breaches"]) if gate["breaches"] else gate["basis"]
        raise PromotionRefused(
            f"versie {version} wordt geen champion: {FAIRNESS_GATE} niet gehaald: {what}. Bekijk het "
            f"fairnessrapport (werkmatch models report {version} MAP) en leg, als dit aanvaardbaar is, een "
            '--verantwoording "…" vast (--force vervangt die niet)',
            result,
        )


def _promotion_record(
    contenders: _Contenders,
    result: dict[str, Any],
    gate: dict[str, Any],
    who: str,
    forced: bool,
    reason: str | None,
    justification: str | None,
) -> dict[str, str]:
    """The version tags of a promotion: who, when, why, the gain, and any fairness justification."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    champion_info, champion = contenders.champion_info, contenders.champion
    record = {
        "promoted_by": who,
        "promoted_at": now,
        "promotion_forced": str(bool(forced)).lower(),
        "promotion_reason": (reason or "").strip() or "gates gehaald",
        "promotion_gain_ndcg_at_10": str(result["ndcg@10Gain"]["gain"]),
        "previous_champion": champion_info.version
        if champion_info is not None
        else (champion.name if champion else "baseline:weighted"),
        "fairness_gate": "gehaald" if gate["passed"] else "verantwoord",
    }
    if not gate["passed"]:
        record |= {
            "fairness_justification": justification or "",
            "fairness_breaches": _breach_text(gate["breaches"]) or gate["basis"],
            "fairness_justified_by": who,
            "fairness_justified_at": now,
        }
    return record


def _relog_card(settings: Settings, version: str) -> None:
    """The run's ``model_card.md`` again, now with the promotion and any justification on it."""
    info = registry.client(settings).get_model_version(settings.ranker.registered_model, version)
    if info.run_id:
        registry.client(settings).log_text(info.run_id, card_for_version(settings, version), CARD)
