"""The fairness audit of a ranking: who gets the top-10 positions, against who was in the pool and who merited them.

Input is what a ranker did with whole candidate pools (:func:`training.pool_eval.pool_holdout`: every
candidate the search ranks per vacancy, each with the outcome they would have had). Per protected or
vulnerable group — geslacht, leeftijdsband and migratieachtergrond from the audit-only table
(``audit_kenmerken``, never a feature), trede, route, whether a beperking is recorded, and ``geschiedenis``:
whether the client was proposed for another vacancy before the pool's moment (``eerder voorgesteld`` /
``nooit voorgesteld``, from the voorstellen; afromen shows here first: the people nobody proposes) — the audit
reports:

* ``poolShare``: the group's share of all pool rows (who was eligible and retrieved);
* ``top10Share``: its share of all top-10 positions;
* ``ratio`` = top10Share / poolShare with a 95 % bootstrap interval (vacancies resampled). A ratio
  under :data:`TRIPWIRE` (0.8, the "four-fifths" rule of thumb) is a *breach*, unless the group has
  fewer than :data:`MIN_GROUP` distinct clients in the pools: then it is reported as too small;
* ``meritShare`` and ``exposureVsMerit`` = top10Share / meritShare (with ``exposureVsMeritCI``, the
  same bootstrap): exposure against the group's
  share of those who merited a place — a group can be rare in top-10s because it is rare among the
  suitable, or despite not being. Merit is the truly suitable (top fifth of the pool by hidden
  suitability) on synthetic data, else a positive outcome, which carries employers' bias;
* ``meritClients`` and ``effectiveMeritClients``: how many distinct clients carry the group's merit
  rows, and Kish's effective number of them, (sum of rows per client)² / sum of squares. A client
  who is suitable for many vacancies counts in many pools, so a group's merit can rest on a handful
  of people even when it has many clients: on the demo world with a 3-year history (592 held-out
  pools) geslacht x had 54 clients, 29 with merit rows, one of them carrying 39 % of those rows,
  effective 5.3; every other group had ≥ 39 (``bench/geslacht_x_probe.py``). The vacancy bootstrap
  of ``exposureVsMeritCI`` holds the clients fixed, so it does not show that uncertainty:
  ``exposureVsMeritClientCI`` (the group's clients resampled, pools kept), ``placeboBelow`` (the share of random
  client groups of the same size reading below 0.8) and the Dutch ``meritVerdict`` ("voldoet" / "onder" /
  "onleesbaar", rule in each attribute's ``readabilityRule``) do (:mod:`training.fairness_readability`);
* with ``suited`` (:func:`route_suited`), ``suitedPoolShare`` and ``suitedRatio``: the same ratio
  against only the clients whose route suits the vacancy's plaatsingsvorm (reported, not the tripwire;
  ``training/fairness_report.py`` says why the tripwire reads the whole retrieval pool);
* per attribute, fairlearn's ``equalized_odds_difference`` with "in the top 10" as the prediction
  and merit as the truth, and the per-group selection rate, true and
  false positive rates from a ``MetricFrame``.

Age is taken at the reference moment of the data (the vacancy's moment), in bands; an unknown value
is its own group ("onbekend"), never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from fairlearn.metrics import (
    MetricFrame,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from matching.domain import AuditKenmerken, Client
from matching.floor_state import EVER, NEVER
from training.client_history import ever_proposed_before, load_history
from training.dataset import RankingData
from training.fairness_readability import VERDICT_RULE, ClientTotals, group_seed, kish, readability

TOP_K = 10
TRIPWIRE = 0.8
MIN_GROUP = 30
RESAMPLES = 500
AGE_BANDS = ((0, 27, "tot 27"), (27, 45, "27-44"), (45, 55, "45-54"), (55, 200, "55+"))
UNKNOWN = "onbekend"
ID_CHUNK = 5_000  # client ids asked of the database at a time (SQLite takes at most 32,766 parameters)


def _age_band(birth_year: int | None, on_year: int) -> str:
    if birth_year is None:
        return UNKNOWN
    age = on_year - birth_year
    return next((label for low, high, label in AGE_BANDS if low <= age < high), UNKNOWN)


def group_labels(engine: Engine, data: RankingData) -> dict[str, np.ndarray]:
    """Per row of ``data``, the group of its client for every audited attribute (strings); only the rows'
    clients are read (and, for ``geschiedenis``, the voorstellen: :func:`training.client_history.ever_proposed_before`,
    the groups the amortised floor serves by)."""
    wanted = np.unique(data.client_ids).tolist()  # only the clients in the rows: not the whole bestand
    audit: dict[int, Any] = {}
    beperkt: dict[int, bool] = {}
    route: dict[int, Any] = {}
    with Session(engine) as session:
        for start in range(0, len(wanted), ID_CHUNK):
            chunk = wanted[start : start + ID_CHUNK]
            asked = select(AuditKenmerken).where(AuditKenmerken.client_id.in_(chunk))  # type: ignore[attr-defined]
            audit.update((row.client_id, row) for row in session.exec(asked))
            clients = select(Client.id, Client.beperkingen, Client.route).where(Client.id.in_(chunk))  # type: ignore[union-attr]
            for cid, items, path in session.exec(clients).all():
                beperkt[cid], route[cid] = bool(items), path
    years = np.array([datetime.fromtimestamp(m, UTC).year for m in data.moments], np.int64)
    rows = [audit.get(int(c)) for c in data.client_ids]
    return {
        "geslacht": np.array([(r.geslacht if r and r.geslacht else UNKNOWN) for r in rows], dtype=object),
        "leeftijd": np.array(
            [_age_band(r.geboortejaar if r else None, int(y)) for r, y in zip(rows, years, strict=True)], dtype=object
        ),
        "migratieachtergrond": np.array(
            [(r.migratieachtergrond if r and r.migratieachtergrond else UNKNOWN) for r in rows], dtype=object
        ),
        "trede": np.array([str(int(t)) for t in data.trede], dtype=object)
        if data.trede is not None
        else np.full(len(data), UNKNOWN, dtype=object),
        "beperking": np.array(["ja" if beperkt.get(int(c)) else "nee" for c in data.client_ids], dtype=object),
        "route": np.array([str(route.get(int(c)) or UNKNOWN) for c in data.client_ids], dtype=object),
        "geschiedenis": np.where(
            ever_proposed_before(load_history(engine), data.client_ids, data.vacancy_ids, data.moments), EVER, NEVER
        ).astype(object),
    }


def top_k_mask(scores: np.ndarray, groups: np.ndarray, k: int = TOP_K) -> np.ndarray:
    """True for the rows a ranker puts in the top ``k`` of their vacancy (ties: the first rows win)."""
    mask = np.zeros(len(scores), bool)
    for group in np.unique(groups):
        rows = np.flatnonzero(groups == group)
        mask[rows[np.argsort(-scores[rows], kind="stable")[:k]]] = True
    return mask


def _counts(vacancy_index: np.ndarray, n_vacancies: int, rows: np.ndarray) -> np.ndarray:
    """How many of ``rows`` (a boolean mask) fall in each vacancy."""
    return np.bincount(vacancy_index[rows], minlength=n_vacancies).astype(np.float64)


def suitable_in_pool(truth: np.ndarray, vacancy_ids: np.ndarray, share: float = 0.2) -> np.ndarray:
    """True for the rows whose hidden suitability is in the top ``share`` of their own pool."""
    out = np.zeros(len(truth), bool)
    for vacancy in np.unique(vacancy_ids):
        rows = np.flatnonzero(vacancy_ids == vacancy)
        out[rows] = truth[rows] >= np.quantile(truth[rows], 1 - share)
    return out


def route_suited(data: RankingData) -> np.ndarray | None:
    """True for the pool rows whose plaatsingsvorm lies inside the client's route band (``route_fit`` 1).

    A second reading of "eligible": the retrieval pool holds everyone who passes the hard filters
    (travel, hours, times), including clients on the Meedoen route for a regular job. None when the
    feature list has no ``route_fit``.
    """
    if "route_fit" not in data.feature_names:
        return None
    return data.features[:, data.feature_names.index("route_fit")] >= 1.0


def _suited(members: np.ndarray, suited: np.ndarray | None, total: int, top_share: float) -> dict[str, Any]:
    if suited is None:
        return {}
    share = float(np.sum(members & suited)) / total if total else 0.0
    return {
        "suitedPoolShare": round(share, 4),
        "suitedRatio": round(float(top_share / share), 4) if share else None,
    }


@dataclass(frozen=True)
class _Pools:
    """What every group's row of one audit reads: per-vacancy counts of the whole pools and the bootstrap draws."""

    client_ids: np.ndarray
    vacancy_index: np.ndarray  # per row, its vacancy's position
    n: int  # vacancies
    masks: tuple[tuple[str, np.ndarray], ...]  # ("pool", all rows), ("top", top-k rows), ("merit", deserving rows)
    totals: dict[str, np.ndarray]  # per mask, rows per vacancy
    draws: np.ndarray  # (RESAMPLES, n) vacancy positions
    suited: np.ndarray | None
    suited_rows: int
    by_client: ClientTotals  # per client, merit rows and top-k places (the placebo groups)
    seed: int


def _group_row(pools: _Pools, members: np.ndarray, name: str) -> dict[str, Any]:
    """One group's shares of pool, top-k and merit, the ratio with its bootstrap interval, its readability
    (:func:`training.fairness_readability.readability`, seeded by ``name``), and the verdict."""
    totals = pools.totals
    mine = {name: _counts(pools.vacancy_index, pools.n, members & mask) for name, mask in pools.masks}
    pool, top_share, merit_share = (
        mine[name].sum() / totals[name].sum() if totals[name].sum() else 0.0 for name in ("pool", "top", "merit")
    )
    # bootstrap over vacancies: resample whole candidate lists, recompute both shares
    draws = pools.draws
    boot_pool = mine["pool"][draws].sum(axis=1) / totals["pool"][draws].sum(axis=1)
    boot_top = mine["top"][draws].sum(axis=1) / np.maximum(totals["top"][draws].sum(axis=1), 1)
    valid = boot_pool > 0
    ratios = boot_top[valid] / boot_pool[valid]
    boot_merit = mine["merit"][draws].sum(axis=1) / np.maximum(totals["merit"][draws].sum(axis=1), 1)
    merited = boot_merit > 0
    against_merit = boot_top[merited] / boot_merit[merited]
    clients = len(np.unique(pools.client_ids[members]))
    merit_rows = members & dict(pools.masks)["merit"]
    _, per_client = np.unique(pools.client_ids[merit_rows], return_counts=True)
    effective = kish(per_client)
    against = float(top_share / merit_share) if merit_share else None
    masks = dict(pools.masks)
    readable = readability(
        members, masks["merit"], masks["top"], pools.client_ids, pools.by_client, against, group_seed(pools.seed, name)
    )
    ratio = top_share / pool if pool else None
    too_small = clients < MIN_GROUP
    breach = bool(ratio is not None and ratio < TRIPWIRE and not too_small)
    return {
        "clients": clients,
        "poolShare": round(float(pool), 4),
        "top10Share": round(float(top_share), 4),
        "ratio": round(float(ratio), 4) if ratio is not None else None,
        "ratioCI": [round(float(np.percentile(ratios, 2.5)), 4), round(float(np.percentile(ratios, 97.5)), 4)]
        if len(ratios)
        else None,
        "meritShare": round(float(merit_share), 4),
        "exposureVsMerit": round(against, 4) if against is not None else None,
        "exposureVsMeritCI": [
            round(float(np.percentile(against_merit, 2.5)), 4),
            round(float(np.percentile(against_merit, 97.5)), 4),
        ]
        if merit_share and len(against_merit)
        else None,
        "meritClients": int(len(per_client)),
        "effectiveMeritClients": round(effective, 1),
        **readable,
        **_suited(members, pools.suited, pools.suited_rows, top_share),
        "tooSmall": too_small,
        "breach": breach,
    }


def audit_ranking(
    data: RankingData,
    scores: np.ndarray,
    groups: dict[str, np.ndarray],
    merit: np.ndarray | None = None,
    k: int = TOP_K,
    seed: int = 0,
    suited: np.ndarray | None = None,
) -> dict[str, Any]:
    """The audit of one ranker's ``scores`` over the pools in ``data`` (see the module docstring).

    Args:
        merit: per row, who deserved a place. Default: a positive (counterfactual) outcome — but
            outcomes carry the employers' discrimination, so on synthetic data pass
            :func:`suitable_in_pool` of the hidden suitability instead, which does not.
        suited: per row, whether the plaatsingsvorm suits the client's route (:func:`route_suited`).
            When given, each group also gets ``suitedPoolShare`` and ``suitedRatio`` (top-10 share
            over that share): reported beside the tripwire, which reads the whole pool.
    """
    top = top_k_mask(np.asarray(scores, np.float64), data.vacancy_ids, k)
    merit = data.labels > 0 if merit is None else np.asarray(merit, bool)
    vacancies, vacancy_index = np.unique(data.vacancy_ids, return_inverse=True)
    n = len(vacancies)
    masks = (("pool", np.ones(len(top), bool)), ("top", top), ("merit", merit))
    pools = _Pools(
        client_ids=data.client_ids,
        vacancy_index=vacancy_index,
        n=n,
        masks=masks,
        totals={name: _counts(vacancy_index, n, mask) for name, mask in masks},
        draws=np.random.default_rng(seed).integers(0, n, size=(RESAMPLES, n)),
        suited=suited,
        suited_rows=int(np.sum(suited)) if suited is not None else 0,
        by_client=ClientTotals.of(data.client_ids, merit, top),
        seed=seed,
    )
    report: dict[str, Any] = {}
    breaches: list[str] = []
    for attribute, labels in groups.items():
        per_group: dict[str, Any] = {}
        for group in sorted(set(labels.tolist())):
            per_group[group] = _group_row(pools, labels == group, f"{attribute}={group}")
            if per_group[group]["breach"]:
                breaches.append(f"{attribute}={group}")
        frame = MetricFrame(
            metrics={
                "selectionRate": selection_rate,
                "truePositiveRate": true_positive_rate,
                "falsePositiveRate": false_positive_rate,
            },
            y_true=merit,
            y_pred=top,
            sensitive_features=labels,
        )
        for group, values in frame.by_group.to_dict("index").items():
            per_group[str(group)].update({name: round(float(value), 4) for name, value in values.items()})
        report[attribute] = {
            "groups": per_group,
            "readabilityRule": VERDICT_RULE,
            "equalizedOddsDifference": round(
                float(equalized_odds_difference(merit, top, sensitive_features=labels)), 4
            ),
        }
    return {
        "k": k,
        "tripwire": TRIPWIRE,
        "minGroup": MIN_GROUP,
        "vacancies": int(len(vacancies)),
        "attributes": report,
        "breaches": breaches,
        "passed": not breaches,
        "eligiblePool": "retrievalpool",
    }
