"""``werkmatch train``: fit the LambdaMART ranker on recorded outcomes and register it as challenger.

One run:

1. the decided voorstellen (since ``--since``) become a :class:`training.dataset.RankingData`;
2. the newest vacancies (``test_share``) are held out by time: they are never trained on, so a
   later ``werkmatch promote`` can compare this model with the champion on them;
3. with ``ranker.notes_column`` on, the notes column (:mod:`training.notes_fit`) is fitted on the
   training part (its own pairs read it out of fold, the held-out pairs as serving will) and saved with
   the model; where the bestand cannot carry it the model goes without and the run says why;
4. hyper-parameters are chosen on a second time split inside the training part
   (:func:`training.rankers.tune_lgbm`), then the ranker is fitted on the whole training part;
5. MLflow gets the parameters, the feature list, holdout metrics (with the weighted baseline's for
   scale), the data hash, the git SHA, a signature and input example, and the model: a pyfunc whose
   artifact is the ranker directory serving loads. The version is registered and gets ``challenger``;
6. on synthetic data with the audit-only table, the fairness audit of the new model on whole
   candidate pools of its held-out vacancies (with the counterfactual gender-swap test) goes with
   the run as ``fairness/`` (rapport.html, plots, fairness.json; :mod:`training.fairness_report`)
   and its main ratios as metrics (``fairness_ratio_<kenmerk>_<groep>``, ``fairness_breaches``,
   ``counterfactual_rbo``). Elsewhere the report says why the audit could not run. The model card
   (:mod:`training.model_card`) is logged as ``model_card.md``.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlmodel import Session, func, select

from matching.domain import AuditKenmerken
from matching.errors import InvalidInputError
from matching.exposure_amortised import SPEC_KEY, served_setting
from matching.features import FEATURES
from matching.matcher import Matcher
from matching.notes_readiness import FEATURE as NOTES_FEATURE
from matching.notes_readiness import MONOTONE as NOTES_MONOTONE
from matching.notes_readiness import NotesColumn
from matching.outcomes import relevance_labels
from matching.ranker import LearnedRanker, feature_spec, save_ranker
from matching.settings import Settings
from training import model_card, registry
from training.dataset import LabelSource, RankingData, build_dataset
from training.fairness_report import breaches, render_report
from training.metrics import summarise
from training.notes_fit import NotesFit, NotesSource
from training.promotion import fairness_audit, holdout_pools
from training.rankers import (
    MIN_TEST_VACANCIES,
    Scorer,
    fit_lgbm,
    notes_column,
    scorer_of,
    tune_lgbm,
    weighted_baseline,
)

if TYPE_CHECKING:
    from lightgbm import LGBMRanker

HOLDOUT_SHARE = 0.2
CALIBRATION_SHARE = 0.2  # the amortised floor's Platt: the latest fifth of the training vacancies
REPO = Path(__file__).resolve().parents[1]


def git_sha() -> str:
    """The commit the code runs from (``unknown`` outside a git checkout)."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=5, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True, text=True
        )
        return done.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def data_hash(data: RankingData) -> str:
    """A fingerprint of exactly what was trained and held out on (features, labels, pairs)."""
    digest = hashlib.sha256()
    for array in (data.features, data.labels, data.vacancy_ids, data.client_ids, data.moments):
        digest.update(np.ascontiguousarray(array))  # the array's bytes, read in place (no copy)
    return digest.hexdigest()[:16]


def holdout_from(data: RankingData, test_share: float = HOLDOUT_SHARE) -> tuple[RankingData, RankingData, str]:
    """The time split and the moment (ISO, UTC) of its first held-out vacancy."""
    train, holdout = data.time_split(test_share)
    vacancies = len(np.unique(holdout.vacancy_ids))
    if vacancies < MIN_TEST_VACANCIES or len(np.unique(train.vacancy_ids)) < MIN_TEST_VACANCIES:
        raise InvalidInputError(
            f"te weinig besliste voorstellen om te trainen ({len(data)} paren, {vacancies} vacatures om op te toetsen; "
            f"minstens {MIN_TEST_VACANCIES} nodig); simuleer of verzamel eerst uitkomsten (werkmatch simulate outcomes)"
        )
    start = datetime.fromtimestamp(float(holdout.moments.min()), UTC).isoformat(timespec="seconds")
    return train, holdout, start


def _flat(metrics: dict[str, Any], prefix: str) -> dict[str, float]:
    """MLflow metric names (no '@'): ``holdout_ndcg_at_10`` and its interval ends."""
    out: dict[str, float] = {}
    for name, value in metrics.items():
        key = f"{prefix}_{name}".replace("@", "_at_")
        if isinstance(value, list):
            out[f"{key}_low"], out[f"{key}_high"] = float(value[0]), float(value[1])
        elif isinstance(value, int | float) and np.isfinite(value):
            out[key] = float(value)
    return out


def _metric_name(text: str) -> str:
    """MLflow metric names allow letters, digits, ``_ - . /`` and spaces: "55+" becomes "55plus"."""
    return re.sub(r"[^A-Za-z0-9_]+", "_", text.replace("+", "plus")).strip("_")


def fairness_metrics(audit: dict[str, Any] | None) -> dict[str, float]:
    """The audit's main figures as MLflow metrics: every group's ratio, the breaches, the counterfactual RBO."""
    if audit is None:
        return {}
    out = {
        f"fairness_ratio_{_metric_name(attribute)}_{_metric_name(group)}": float(row["ratio"])
        for attribute, section in audit["attributes"].items()
        for group, row in section["groups"].items()
        if row.get("ratio") is not None
    }
    out["fairness_breaches"] = float(len(breaches(audit)))
    counterfactual = audit.get("counterfactual") or {}
    if counterfactual.get("rbo") is not None:
        out["counterfactual_rbo"] = float(counterfactual["rbo"])
    return out


def holdout_fairness(
    matcher: Matcher, data: RankingData, holdout_from: str, score: Scorer, amortised: dict[str, Any] | None = None
) -> tuple[dict | None, str]:
    """The fairness audit of ``score`` on whole pools of the held-out vacancies, or (None, why it cannot run); its
    served lists with the amortised floor the model will be served with (``amortised``), else the merit floor."""
    with Session(matcher.engine) as session:
        audited = session.exec(select(func.count()).select_from(AuditKenmerken)).one()
    if not audited:
        return None, (
            "er is geen audittabel (audit_kenmerken) met geslacht, leeftijd en migratieachtergrond, dus de groepen "
            "zijn niet te bepalen; vul die tabel (apart beheerd, nooit een kenmerk) om de audit te laten draaien"
        )
    built = holdout_pools(matcher, data, holdout_from)
    if built is None:
        return None, (
            "echte gegevens: zonder verborgen geschiktheid zijn geen hele kandidatenpools met uitkomsten te maken; "
            "de audit draait op synthetische gegevens (werkmatch demo-data, werkmatch simulate outcomes)"
        )
    return fairness_audit(matcher, score, *built, amortised=amortised), ""


@dataclass(frozen=True)
class Fitted:
    """One fitted ranker with what is reported of the data it saw and its holdout figures, before anything is
    logged. The feature matrix itself is gone by then (the fairness audit may load the whole matcher)."""

    pairs: RankingData  # every pair's ids, labels and moments; features with no columns
    train_pairs: int
    holdout_pairs: int
    holdout_vacancies: int
    example: np.ndarray  # the first held-out feature rows: MLflow's input example and signature
    start: str  # ISO moment of the first held-out vacancy
    params: dict[str, Any]
    tuning: dict[str, Any]
    model: LGBMRanker
    fit_seconds: float
    holdout_metrics: dict[str, Any]
    weighted_metrics: dict[str, Any]
    fingerprint: str
    sha: str
    trained_at: str
    floor: dict[str, Any] | None = None  # Platt parameters and the amortised floor's setting, None: the merit floor
    notes: NotesFit | None = None  # the notes column the model reads, None: the pair features alone
    notes_report: dict[str, Any] | None = None  # {"fitted": …} with provenance or the reason; None: not asked

    @property
    def feature_names(self) -> tuple[str, ...]:
        return feature_spec(notes=self.notes is not None)["features"]

    def ranker(self, matcher: Matcher) -> LearnedRanker:
        """The fitted model as serving would load it, its notes column bound to ``matcher``'s database."""
        column = NotesColumn(self.notes.artefact) if self.notes is not None else None
        spec = feature_spec(notes=column is not None, params=self.params)
        ranker = LearnedRanker(self.model.booster_, spec, "challenger", notes=column)
        ranker.bind(matcher.engine, matcher.embedder)
        return ranker


def floor_setting(model: LGBMRanker, train_part: RankingData) -> dict[str, Any] | None:
    """The amortised floor a model is served with (:func:`matching.exposure_amortised.served_setting`): Platt fitted
    on its own scores of the decided voorstellen of the latest 20 % of its training vacancies (as
    ``bench/amortised_served.py`` measured it); None when those are all good or all bad (nothing to calibrate on:
    the model keeps the merit floor)."""
    _, recent = train_part.time_split(CALIBRATION_SHARE)
    try:
        return served_setting(model.predict(recent.features), recent.labels)
    except ValueError:
        return None


def train(
    settings: Settings,
    matcher: Matcher,
    since: datetime | None = None,
    seed: int = 0,
    user: str | None = None,
    labels: LabelSource = relevance_labels,
    say: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train, log and register one challenger; returns what ``werkmatch train --json`` prints.

    ``labels``: the judgements to learn from (the CLI adds the consulenten's inbox declines).
    ``say``: told what happens (building features shard by shard, tuning, fitting, the audit); None: silent.
    The feature matrix is freed before the fairness audit (which searches whole pools).
    """
    fitted = _fit(settings, matcher, since, seed, labels, say)
    if say is not None:
        say("fairness-audit op de toetsvacatures")
    score = scorer_of(fitted.ranker(matcher))
    audit, missing = holdout_fairness(matcher, fitted.pairs, fitted.start, score, fitted.floor)
    if say is not None:
        say("vastleggen in MLflow")
    run_id, version = _log_and_register(settings, fitted, since, seed, user, audit, missing)
    return {
        "registeredModel": settings.ranker.registered_model,
        "version": version,
        "alias": registry.CHALLENGER,
        "runId": run_id,
        "trainPairs": fitted.train_pairs,
        "holdout": {"from": fitted.start, "pairs": fitted.holdout_pairs, "vacancies": fitted.holdout_vacancies},
        "params": fitted.params,
        "tuning": fitted.tuning,
        "fitSeconds": fitted.fit_seconds,
        "metrics": fitted.holdout_metrics,
        "baseline:weighted": fitted.weighted_metrics,
        "dataHash": fitted.fingerprint,
        "gitSha": fitted.sha,
        "amortisedFloor": fitted.floor,
        "features": list(fitted.feature_names),
        "notesColumn": fitted.notes_report,
        "fairness": {
            "available": audit is not None,
            "reason": missing or None,
            "breaches": breaches(audit),
            "counterfactual": audit.get("counterfactual") if audit else None,
        },
    }


def _fit(
    settings: Settings,
    matcher: Matcher,
    since: datetime | None,
    seed: int,
    labels: LabelSource,
    say: Callable[[str], None] | None,
) -> Fitted:
    """Build the data (and with ``ranker.notes_column`` the bestand's texts), then :func:`fit_on` it."""
    data = build_dataset(matcher, since, labels=labels, say=say)
    notes = None
    if settings.ranker.notes_column:
        if say is not None:
            say("notities van het bestand lezen en embedden")
        notes = NotesSource.of(matcher)
    return fit_on(settings, data, seed, say, notes)


def fit_on(
    settings: Settings,
    data: RankingData,
    seed: int = 0,
    say: Callable[[str], None] | None = None,
    notes: NotesSource | None = None,
) -> Fitted:
    """Split off the holdout by time, fit the notes column on the training part (``notes``: the bestand's texts;
    None: without it), tune and fit, and measure on the holdout.

    The splits are views of the one feature matrix (rows are in time order), the tuning sample its
    only copy; nothing of the matrix is kept but the few rows of MLflow's input example. With the notes
    column the two parts are copies with the column appended.
    """
    train_part, holdout, start = holdout_from(data)
    column = notes_column(train_part, notes)
    if column.fit is not None:
        if say is not None:
            say("notities-kolom gefit op de trainingsperiode")
        train_part, holdout = column.fit.train, column(holdout)
    began = time.perf_counter()
    params, tuning = tune_lgbm(train_part, seed, say=say)
    if say is not None:
        say(f"fitten op {len(train_part):_} paren ({params.get('n_estimators')} bomen)".replace("_", "."))
    model = fit_lgbm(train_part, seed, params)
    fit_seconds = round(time.perf_counter() - began, 2)
    if say is not None:
        say(f"toetsen op {len(holdout):_} paren".replace("_", "."))
    holdout_metrics = summarise(holdout.labels, model.predict(holdout.features), holdout.vacancy_ids, seed=seed)
    weighted_metrics = summarise(
        holdout.labels, weighted_baseline(holdout, settings.retrieval), holdout.vacancy_ids, seed=seed
    )
    fingerprint, sha, trained_at = data_hash(data), git_sha(), datetime.now(UTC).isoformat(timespec="seconds")
    floor = floor_setting(model, train_part)
    return Fitted(
        pairs=replace(data, features=np.empty((len(data), 0), np.float32)),
        train_pairs=len(train_part),
        holdout_pairs=len(holdout),
        holdout_vacancies=int(len(np.unique(holdout.vacancy_ids))),
        example=np.array(holdout.features[:5]),
        start=start,
        params=params,
        tuning=tuning,
        model=model,
        fit_seconds=fit_seconds,
        holdout_metrics=holdout_metrics,
        weighted_metrics=weighted_metrics,
        fingerprint=fingerprint,
        sha=sha,
        trained_at=trained_at,
        floor=floor,
        notes=column.fit,
        notes_report=column.report,
    )


def _log_and_register(
    settings: Settings,
    fitted: Fitted,
    since: datetime | None,
    seed: int,
    user: str | None,
    audit: dict[str, Any] | None,
    missing: str,
) -> tuple[str, str]:
    """One MLflow run (parameters, tags, metrics, fairness report, pyfunc model), registered as challenger
    with its model card; returns (run id, version)."""
    import mlflow  # heavy (≈ 1.5 s to import): only training and the registry commands pay for it
    import pandas as pd
    from mlflow.models import infer_signature

    spec = feature_spec(
        notes=fitted.notes is not None,
        trainedAt=fitted.trained_at,
        holdoutFrom=fitted.start,
        dataHash=fitted.fingerprint,
        gitSha=fitted.sha,
        since=since.isoformat() if since else None,
        params=fitted.params,
        **({SPEC_KEY: fitted.floor} if fitted.floor else {}),
    )
    tracking = registry.client(settings)
    example = pd.DataFrame(fitted.example, columns=list(fitted.feature_names))
    with tempfile.TemporaryDirectory() as scratch, mlflow.start_run(run_name=f"train-{fitted.trained_at}") as run:
        ranker_dir = save_ranker(Path(scratch) / registry.RANKER_ARTIFACT, fitted.model.booster_, spec)
        if fitted.notes is not None:
            fitted.notes.artefact.save(ranker_dir)
        _log_facts(fitted, since, seed, user, audit)
        report_dir = Path(scratch) / model_card.FAIRNESS_DIR
        render_report(audit, report_dir, title=f"training van {fitted.trained_at}", missing_reason=missing or None)
        mlflow.log_artifacts(str(report_dir), model_card.FAIRNESS_DIR)
        info = mlflow.pyfunc.log_model(
            name="ranker",
            python_model=str(registry.PYFUNC_CODE),
            artifacts={registry.RANKER_ARTIFACT: str(ranker_dir)},
            signature=infer_signature(example, fitted.model.predict(fitted.example)),
            input_example=example,
            registered_model_name=settings.ranker.registered_model,
            pip_requirements=["lightgbm", "pandas", "numpy", "mlflow"],
        )
    version = str(info.registered_model_version)
    tags = {"holdout_from": fitted.start, "data_hash": fitted.fingerprint, "git_sha": fitted.sha}
    for key, value in tags.items():
        tracking.set_model_version_tag(settings.ranker.registered_model, version, key, value)
    tracking.set_registered_model_alias(settings.ranker.registered_model, registry.CHALLENGER, version)
    tracking.log_text(run.info.run_id, model_card.card_for_version(settings, version), model_card.CARD)
    return run.info.run_id, version


def floor_params(floor: dict[str, Any] | None) -> dict[str, Any]:
    """The amortised floor as MLflow parameters (``floor_*``; the model card reads them); none without it."""
    if not floor:
        return {}
    return {
        "floor_platt_a": floor["platt"]["a"],
        "floor_platt_b": floor["platt"]["b"],
        "floor_platt_rows": floor["platt"]["rows"],
        "floor_target": floor["target"],
        "floor_slack": floor["slack"],
        "floor_max_swaps": floor["maxSwaps"],
        "floor_groups": "+".join(floor["groups"]),
    }


def _log_facts(
    fitted: Fitted, since: datetime | None, seed: int, user: str | None, audit: dict[str, Any] | None
) -> None:
    """Parameters, provenance tags, the feature list and the metrics of the active run."""
    import mlflow  # heavy: see _log_and_register

    mlflow.log_params(
        {
            **{f"lgbm_{key}": value for key, value in fitted.params.items()},
            "seed": seed,
            "since": since.isoformat() if since else "alles",
            "holdout_share": HOLDOUT_SHARE,
            "features": len(fitted.feature_names),
            "notes_column": fitted.notes is not None,
            **floor_params(fitted.floor),
        }
    )
    mlflow.set_tags(
        {
            "git_sha": fitted.sha,
            "data_hash": fitted.fingerprint,
            "holdout_from": fitted.start,
            "trained_by": user or registry.current_user(),
        }
    )
    listed = [f.__dict__ for f in FEATURES]
    if fitted.notes is not None:
        listed.append(
            {
                "name": NOTES_FEATURE,
                "description": "Readiness read from the client's and consulent's texts, health removed.",
                "monotone": NOTES_MONOTONE,
            }
        )
    mlflow.log_dict({"features": listed, "notesColumn": fitted.notes_report}, "feature_list.json")
    tuned = {key.replace("@", "_at_"): value for key, value in fitted.tuning.items() if isinstance(value, int | float)}
    mlflow.log_metrics(
        {
            **_flat(fitted.holdout_metrics, "holdout"),
            **_flat(fitted.weighted_metrics, "holdout_weighted"),
            "train_pairs": fitted.train_pairs,
            "holdout_pairs": fitted.holdout_pairs,
            "fit_seconds": fitted.fit_seconds,
            **tuned,
            **fairness_metrics(audit),
        }
    )
