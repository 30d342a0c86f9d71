"""The experience column's cap chosen by the rule fixed in the README before any run (issue 19 item 1, session 44).

Run from the repository root on a copy of the seed-7 world the shipped baseline is trained on (models/README.md;
``build_dataset`` writes its shards under the copy's ``ranking/``, nothing else is written):

    flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python -m \
        bench.experience_cap_choice --data-dir <copy of the seed-7 world> \
        --out bench/results/experience-cap-choice-s44.json

The rule, as the README fixed it in session 43 (applied exactly, :data:`RULE`): the experience column's cap C is
chosen among 10 (today's), 5, 3 and 2 years on the training world's own validation pools (the seed-7 world,
``werkmatch train``'s 150 validation pools of its training period, a baseline retrained per cap with the current
grid): first every leeftijd group at >= 0.8 of its merit relevance-only, then the highest validation NDCG@10, caps
within 0.005 of it counting as tied and the larger cap winning. Where no cap passes the screen the rule as written
has no pick: :func:`pick_of` then says so (``pick`` None) and reports the cap the NDCG part alone would take
(``ndcgOnly``), which is not a pick.

Per cap C (:data:`CAPS`), with ``matching.features.EXPERIENCE_CAP_YEARS`` set to C in this process for the whole
fit and every scoring (:func:`experience_cap`: :func:`matching.features.pair_matrix` reads it at each call, so the
training pairs, the notes column's fit on them, the tuning, the fit, the Platt parameters and the validation pools'
features all see the column capped at C):

* the pairs and model as ``werkmatch train --seed 0`` builds and fits them: :func:`training.dataset.build_dataset`
  with :func:`api.services.voorstellen.training_labels`, :func:`training.train.fit_on` with the notes column
  (:meth:`training.notes_fit.NotesSource.of`), the current grid chosen by :func:`training.rankers.tune_lgbm`, the
  amortised floor's Platt parameters on the latest fifth of the training part;
* the validation pools the grid chose on, as ``bench/fair_grid_choice.py`` takes them (its :class:`Screen`):
  whole candidate pools of a seeded sample of 150 of the tuning split's validation vacancies
  (:func:`training.rankers.tuning_split` of :func:`training.train.holdout_from`'s training part), judged by the
  hidden truth (synthetic data only); the sample is the same for every cap (checked);
* on them: pool NDCG@10 of the model's own ordering (relevance only: the rule's "validation NDCG@10") and
  exposure ÷ merit of every audited group of >= 30 clients relevance only (the screen reads the leeftijd groups),
  and beside them the lists as served with the amortised floor the model was trained with
  (:func:`training.served_floor.served_as_served`, the gate's call): every group with its interval, the NDCG@10
  cost and issue 19's goal. Also reported: the tuning's validation NDCG@10 on the voorstellen and the holdout's.

With ``--screen-dir <world>`` (session 44's rule, :data:`SCREEN_WORLD_RULE`) the baselines are still fitted on
``--data-dir`` but judged on the validation pools of that other world (its own training period's tuning split, the
same sampling), scored with its clients' notes:

    flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python -m \
        bench.experience_cap_choice --data-dir <copy of the seed-7 world> --screen-dir <copy of the seed-44 world> \
        --validation-vacancies 300 --out bench/results/experience-cap-choice-s44-w44.json

Note: ``fit_on`` fits the chosen grid point on the whole training part, the validation vacancies' decided voorstellen
included (as ``werkmatch train`` does); their pools are judged by the hidden truth of every pool client, not by
those few labels.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

import matching.features
from api.services.voorstellen import training_labels
from bench._result import load_average, provenance, write_json
from bench.fair_grid_choice import Screen, _moments
from matching.matcher import Matcher
from matching.settings import Settings
from training.dataset import build_dataset
from training.exposure_eval import MIN_EXPOSURE_VS_MERIT
from training.notes_fit import NotesSource
from training.rankers import scorer_of, tuning_split
from training.served_floor import served_as_served
from training.train import fit_on, holdout_from

ROOT = Path(__file__).resolve().parents[1]
CAPS = (10.0, 5.0, 3.0, 2.0)
TIE = 0.005  # validation NDCG@10 within this of the best counts as tied; the larger cap wins
SCREENED = "leeftijd"
RULE = (
    "Fixed in the README before any run (session 43): the experience column's cap C is chosen among 10 (today's), "
    "5, 3 and 2 years on the training world's own validation pools (the seed-7 world, werkmatch train's 150 "
    "validation pools of its training period, a baseline retrained per cap with the current grid): first every "
    "leeftijd group at >= 0.8 of its merit relevance-only, then the highest validation NDCG@10, caps within 0.005 of "
    "it counting as tied and the larger cap winning. If no cap passes the screen the rule as written has no pick; "
    "the cap the NDCG part alone would take is then reported as 'ndcgOnly', not as a pick."
)
SCREEN_WORLD_RULE = (
    "Fixed in the README before its world existed (session 44): the same four baselines (trained on the seed-7 world "
    "per cap, as above) are screened on a fresh world the size of the one that found it: 36,000 clients, 4,000 "
    "vacancies, seed 44, 3 simulated years, built for this screen only; 300 whole pools of a seeded sample of its "
    "training period's validation vacancies (as bench/fair_grid_choice.py's Screen takes them). First every leeftijd "
    "group at >= 0.8 of its merit relevance-only, then the highest NDCG@10 on those pools, caps within 0.005 counting "
    "as tied and the larger winning; no cap passing: no change."
)


@contextmanager
def experience_cap(years: float) -> Iterator[None]:
    """``matching.features.EXPERIENCE_CAP_YEARS`` set to ``years`` inside the block (this process only)."""
    before = matching.features.EXPERIENCE_CAP_YEARS
    matching.features.EXPERIENCE_CAP_YEARS = years
    try:
        yield
    finally:
        matching.features.EXPERIENCE_CAP_YEARS = before


def screen_passes(relevance_only: dict[str, float | None]) -> bool:
    """Whether every screened group with a ratio has exposure ÷ merit >= 0.8 (``None``: no merit rows, not read)."""
    return all(value >= MIN_EXPOSURE_VS_MERIT for value in relevance_only.values() if value is not None)


def by_ndcg(rows: list[dict[str, Any]]) -> float | None:
    """The cap of the highest ``validationNdcg@10`` among ``rows``, ties (within :data:`TIE`) to the larger cap."""
    if not rows:
        return None
    best = max(row["validationNdcg@10"] for row in rows)
    tied = [row["cap"] for row in rows if best - row["validationNdcg@10"] <= TIE + 1e-9]
    return max(tied)


def pick_of(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """:data:`RULE` over one row per cap (``cap``, ``validationNdcg@10``, ``screenPasses``).

    Returns ``pick`` (the cap, or None when no cap passes the screen: the rule then has no pick), ``passing`` (the
    caps through the screen) and ``ndcgOnly`` (the cap the NDCG part alone takes over every cap, for the report).
    """
    passing = [row for row in rows if row["screenPasses"]]
    return {
        "pick": by_ndcg(passing),
        "passing": [row["cap"] for row in passing],
        "ndcgOnly": by_ndcg(rows),
    }


def _relevance_only(served: dict[str, Any]) -> dict[str, float | None]:
    """Relevance-only exposure ÷ merit of every group the audit reads (of >= 30 clients)."""
    big = {
        f"{attribute}={group}"
        for attribute, section in served["attributes"].items()
        for group, row in section["groups"].items()
        if not row["tooSmall"]
    }
    return {
        f"{attribute}={group}": row["exposureVsMerit"]
        for attribute, groups in served["relevanceOnly"].items()
        for group, row in groups.items()
        if f"{attribute}={group}" in big
    }


def _served(served: dict[str, Any]) -> dict[str, Any]:
    """The served lists' cost, goal and every group of >= 30 clients with its interval."""
    return {
        "ndcg@10": served.get("ndcg@10"),
        "ndcg@10Cost": served.get("ndcg@10Cost"),
        "ndcg@10CostCI": served.get("ndcg@10CostCI"),
        "goal": served.get("goal"),
        "swaps": served["method"].get("swaps"),
        "exposureVsMerit": {
            f"{attribute}={group}": [row["exposureVsMerit"], row["exposureVsMeritCI"]]
            for attribute, section in served["attributes"].items()
            for group, row in section["groups"].items()
            if not row["tooSmall"]
        },
    }


def _validation_screen(matcher: Matcher, data: Any, vacancies: int, seed: int) -> tuple[Screen, np.ndarray]:
    """Whole pools of a seeded sample of ``vacancies`` of the training period's validation vacancies of ``data``."""
    train_part, _, _ = holdout_from(data)
    ids = np.unique(tuning_split(train_part, seed).validation.vacancy_ids)
    sample = np.sort(np.random.default_rng(seed).choice(ids, size=min(vacancies, len(ids)), replace=False))
    return Screen(matcher, sample, _moments(data)), sample


def measure(data_dir: Path, cap: float, vacancies: int, seed: int, screen_dir: Path | None = None) -> dict[str, Any]:
    """One cap: the baseline as ``werkmatch train --seed 0`` fits it on ``data_dir``, judged on the validation pools
    of ``screen_dir``'s world (``data_dir``'s own when None)."""
    began = time.perf_counter()
    with experience_cap(cap):
        settings = Settings(data_dir=data_dir)
        matcher = Matcher(settings)
        data = build_dataset(matcher, labels=training_labels)
        notes = NotesSource.of(matcher) if settings.ranker.notes_column else None
        fitted = fit_on(settings, data, seed, notes=notes)
        if screen_dir is None:
            screened_on, screened_data = matcher, data
        else:
            screened_on = Matcher(Settings(data_dir=screen_dir))
            screened_data = build_dataset(screened_on, labels=training_labels)
        screen, sample = _validation_screen(screened_on, screened_data, vacancies, seed)
        experience = screen.pool.features[:, matching.features.FEATURE_NAMES.index(matching.features.EXPERIENCE_COLUMN)]
        scores = scorer_of(fitted.ranker(screened_on))(screen.pool)
        served = served_as_served(screened_on, screen.pool, scores, screen.groups, screen.merit, fitted.floor)
    relevance_only = _relevance_only(served)
    screened = {key: value for key, value in relevance_only.items() if key.startswith(f"{SCREENED}=")}
    return {
        "cap": cap,
        "validationNdcg@10": served["ndcg@10RelevanceOnly"],
        "screened": screened,
        "screenPasses": screen_passes(screened),
        "relevanceOnlyExposureVsMerit": relevance_only,
        "served": _served(served),
        "tuningValidationNdcg@10": fitted.tuning.get("validationNdcg@10"),
        "holdoutNdcg@10": [fitted.holdout_metrics["ndcg@10"], fitted.holdout_metrics["ndcg@10CI"]],
        "params": fitted.params,
        "amortisedFloor": fitted.floor,
        "notesColumn": fitted.notes_report,
        "trainPairs": fitted.train_pairs,
        "dataHash": fitted.fingerprint,
        "validationPools": {
            **screen.describe(),
            "sampleSha": hashlib.sha256(sample.astype(np.int64).tobytes()).hexdigest()[:16],
            "experienceMax": round(float(experience.max()), 3),
        },
        "seconds": round(time.perf_counter() - began, 1),
        "loadavg": load_average(),
    }


def _line(row: dict[str, Any]) -> str:
    screened = ", ".join(f"{key.split('=', 1)[1]} {value}" for key, value in row["screened"].items())
    served = row["served"]
    return (
        f"cap {row['cap']:g}: NDCG@10 {row['validationNdcg@10']} | {screened} | door {row['screenPasses']} | "
        f"geserveerd kosten {served['ndcg@10Cost']}, onder 0,8 {served['goal']['groupsBelow']} | {row['seconds']} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "experience-cap-choice.json")
    parser.add_argument("--validation-vacancies", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--screen-dir", type=Path, help="screen on this world's validation pools (session 44's rule)")
    args = parser.parse_args()
    began = time.perf_counter()
    rows = []
    for cap in CAPS:
        rows.append(measure(args.data_dir, cap, args.validation_vacancies, args.seed, args.screen_dir))
        print(_line(rows[-1]), flush=True)
    samples = {row["validationPools"]["sampleSha"] for row in rows}
    assert len(samples) == 1, f"the validation sample differs between caps: {samples}"
    result = {
        "command": " ".join(sys.argv),
        "provenance": provenance(),
        "rule": RULE if args.screen_dir is None else SCREEN_WORLD_RULE,
        "caps": rows,
        **pick_of(rows),
        "seconds": round(time.perf_counter() - began, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result)
    print(f"keuze: {result['pick']} (door het scherm: {result['passing']}; NDCG alleen: {result['ndcgOnly']})")


if __name__ == "__main__":
    main()
