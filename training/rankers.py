"""Rankers compared on one time split: a LambdaMART ranker, a scikit-learn model and the baselines.

* ``lgbm``: LightGBM ``LGBMRanker`` (LambdaMART on the graded labels, groups = vacancies), with the
  monotone directions of :data:`matching.features.FEATURES` as constraints, its hyper-parameters
  chosen by :func:`tune_lgbm` on the newest part of the training vacancies (never on the test);
* ``sklearn``: ``HistGradientBoostingRegressor`` on the labels (pointwise), same constraints;
* ``baseline:dense`` / ``baseline:bm25``: one text signal alone;
* ``baseline:weighted``: the core's transparent score (:func:`matching.scoring.combine`) rebuilt
  from the features with the configured weights, scaled per vacancy as search scaled it before the rare-identifier
  gate; on whole pools of a world with an index, the score as search serves it (``compare``'s ``pool_weighted``:
  :mod:`training.served_weighted`).

Rankers from elsewhere (a registered champion, a challenger) join the comparison as scorers: functions
from pairs (:class:`RankingData`: features and each pair's client) to scores (:func:`scorer_of`).
Given the bestand's texts, both learned rankers also read the notes column (:mod:`training.notes_fit`),
fitted on the training vacancies only, as ``werkmatch train`` fits it. Everything is evaluated on the newest vacancies
(:meth:`RankingData.time_split`), per vacancy, with bootstrap intervals, overall and per source and
trede (:mod:`training.metrics`).
"""

from __future__ import annotations

import inspect
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import lightgbm
import numpy as np
from lightgbm import LGBMRanker
from sklearn.ensemble import HistGradientBoostingRegressor

from matching import scoring
from matching.errors import InvalidInputError
from matching.features import EXPERIENCE_COLUMN, FEATURE_NAMES
from matching.ranker import LearnedRanker, input_monotone
from matching.settings import RetrievalSettings
from training.dataset import RankingData
from training.metrics import grouped_rows, paired, per_group, summarise, summarise_slices
from training.notes_fit import NotesFit, NotesSource, NotesUnfit

MIN_TEST_VACANCIES = 20
LGBM_DEFAULTS: dict[str, Any] = {"n_estimators": 300, "learning_rate": 0.05, "num_leaves": 31, "min_child_samples": 20}
# Small trees on purpose: the training pairs are the few candidates consulenten proposed, the lists
# it ranks are whole pools; on a validation split of the training period (pools of its newest
# vacancies) 7-15 leaves transferred better than 63 (README, "How good it is").
TUNING_GRID: dict[str, tuple[Any, ...]] = {
    "num_leaves": (7, 15, 31),
    "learning_rate": (0.05, 0.1),
    "min_child_samples": (20, 50, 100),
}
TUNING_MAX_TREES = 600
TUNING_PATIENCE = 30  # rounds without a better validation NDCG@10 before a candidate stops
VALIDATION_SHARE = 0.2
TUNING_MAX_PAIRS = 100_000
"""Above this many training pairs the grid is tried on a seeded sample of whole vacancies of this size:
18 candidates of up to 600 trees on 4 million national pairs would take hours on 2 cores; the final
fit still uses every pair. The demo's 13,000 training pairs are far below it and tune on all."""
GRID_SIZE = int(np.prod([len(values) for values in TUNING_GRID.values()]))
MONOTONE = input_monotone(FEATURE_NAMES)
"""The pair features' monotone directions (a model's own columns: :func:`matching.ranker.input_monotone`)."""
_COLUMN = {name: position for position, name in enumerate(FEATURE_NAMES)}
Scorer = Callable[[RankingData], np.ndarray]
"""One score per pair of a :class:`RankingData` (higher: a better fit)."""


def scorer_of(ranker: LearnedRanker) -> Scorer:
    """``ranker`` as a :data:`Scorer`: a ranker that reads the notes column reads it for each pair's client (bound
    to the database first, :meth:`LearnedRanker.bind`), with the data's own ``texts`` where it carries them."""
    return lambda data: ranker.score(data.features, data.client_ids, texts=data.texts)


def column(data: RankingData, name: str) -> np.ndarray:
    return data.features[:, _COLUMN[name]]


def weighted_baseline(
    data: RankingData, weights: RetrievalSettings, text: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """The core's weighted score per row: signals as in :func:`scoring.structured_signals`, text per vacancy.

    ``text``: the dense and lexical signals per row where the caller has them as the search computes them (the
    rare-identifier gate over whole pools: :func:`training.served_weighted.pool_text_signals`); None, from the
    features alone: the fusion before the gate (:func:`matching.scoring.text_signals` per vacancy), which reads no
    text, for pairs that are not whole pools or come without an index."""
    if text is None:
        text = _feature_text_signals(data)
    dense, lexical = text
    signals = {
        "dense": dense,
        "lexical": lexical,
        **scoring.signals_from(
            column(data, "required_coverage"),
            column(data, "optional_coverage"),
            column(data, EXPERIENCE_COLUMN),  # capped at 3: the signal saturates at 2 years
            column(data, "wishes_occupation"),
            column(data, "travel_ratio"),
        ),
    }
    return scoring.combine(signals, weights)


def _feature_text_signals(data: RankingData) -> tuple[np.ndarray, np.ndarray]:
    """The pre-gate fusion of each vacancy's raw cosine and scaled BM25 columns (:func:`scoring.text_signals`)."""
    dense = np.zeros(len(data), np.float32)
    lexical = np.zeros(len(data), np.float32)
    for rows in grouped_rows(data.vacancy_ids):
        dense[rows], lexical[rows] = scoring.text_signals(
            column(data, "dense_similarity")[rows], column(data, "lexical_similarity")[rows]
        )
    return dense, lexical


def _lgbm(seed: int, params: dict[str, Any] | None, names: tuple[str, ...] = FEATURE_NAMES) -> LGBMRanker:
    """An unfitted ranker of the input columns ``names``: the defaults, overridden by ``params``; the monotone
    constraints of those columns always apply."""
    chosen = {**LGBM_DEFAULTS, **(params or {})}
    chosen.update(monotone_constraints=input_monotone(names), random_state=seed, n_jobs=2, verbose=-1)
    return LGBMRanker(**chosen)


def fit_lgbm(train: RankingData, seed: int = 0, params: dict[str, Any] | None = None) -> LGBMRanker:
    """LambdaMART on ``train``, grouped per vacancy.

    Args:
        train: The training pairs.
        seed: LightGBM's ``random_state``.
        params: ``LGBMRanker`` arguments over :data:`LGBM_DEFAULTS` (e.g. the first value of
            :func:`tune_lgbm`); None for the defaults. ``monotone_constraints``, ``random_state``,
            ``n_jobs`` and ``verbose`` are always set here.
    """
    return _lgbm(seed, params, train.feature_names).fit(train.features, train.labels, group=train.group_sizes())


def _with_something_to_find(data: RankingData) -> RankingData:
    """Only the vacancies with a positive label: LightGBM's NDCG counts a group without one as 1.0."""
    hits = np.unique(data.vacancy_ids[data.labels > 0])
    return data.take(np.flatnonzero(np.isin(data.vacancy_ids, hits)))


def _eval_data(validation: RankingData) -> dict[str, Any]:
    """The validation set as ``fit`` wants it: LightGBM 4.7 deprecates ``eval_set`` for ``eval_X``/``eval_y``,
    and pyproject still allows 4.5, which has only ``eval_set``."""
    if "eval_X" in inspect.signature(LGBMRanker.fit).parameters:
        return {"eval_X": (validation.features,), "eval_y": (validation.labels,)}
    return {"eval_set": [(validation.features, validation.labels)]}


@dataclass(frozen=True)
class Candidate:
    """One point of :data:`TUNING_GRID`, grown on the tuning split's older vacancies and judged on its newest."""

    params: dict[str, Any]  # the grid values and ``n_estimators`` = the best round
    model: LGBMRanker  # fitted on the older vacancies; ``predict`` stops at the best round
    validation_ndcg: float  # per-vacancy NDCG@10 (training.metrics) on the validation vacancies


@dataclass(frozen=True)
class TuningSplit:
    """What :func:`tune_lgbm` tunes on: the (sampled) training pairs, split by time into fit and validation."""

    sampled: RankingData
    inner: RankingData
    validation: RankingData  # only vacancies with a positive label

    @property
    def validation_vacancies(self) -> int:
        return len(np.unique(self.validation.vacancy_ids))


def tuning_split(train: RankingData, seed: int = 0) -> TuningSplit:
    """``train`` (up to :data:`TUNING_MAX_PAIRS`), its newest :data:`VALIDATION_SHARE` of vacancies validating."""
    sampled = _tuning_sample(train, seed)
    inner, validation = sampled.time_split(VALIDATION_SHARE)
    return TuningSplit(sampled, inner, _with_something_to_find(validation))


def grid_candidates(split: TuningSplit, seed: int = 0) -> Iterator[Candidate]:
    """Every combination of :data:`TUNING_GRID`, in grid order: up to :data:`TUNING_MAX_TREES` trees, stopped
    when LightGBM's validation NDCG@10 has not improved for :data:`TUNING_PATIENCE` rounds, then scored on the
    per-vacancy NDCG@10 of :mod:`training.metrics` at its best round (LightGBM breaks score ties in input
    order, ours against the candidate, and a model of a few coarse trees ties a lot)."""
    inner, validation = split.inner, split.validation
    for values in itertools.product(*TUNING_GRID.values()):
        candidate = dict(zip(TUNING_GRID, values, strict=True))
        model = _lgbm(seed, {**candidate, "n_estimators": TUNING_MAX_TREES}, inner.feature_names)
        model.fit(
            inner.features,
            inner.labels,
            group=inner.group_sizes(),
            **_eval_data(validation),
            eval_group=[validation.group_sizes()],
            eval_at=[10],
            callbacks=[lightgbm.early_stopping(TUNING_PATIENCE, first_metric_only=True, verbose=False)],
        )
        predicted = model.predict(validation.features)  # at the best round
        score = float(np.nanmean(per_group(validation.labels, predicted, validation.vacancy_ids)["ndcg@10"]))
        yield Candidate({**candidate, "n_estimators": max(int(model.best_iteration_), 1)}, model, score)


def tune_lgbm(
    train: RankingData, seed: int = 0, say: Callable[[str], None] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Choose LightGBM's hyper-parameters on a validation split of ``train`` itself, by time.

    The newest :data:`VALIDATION_SHARE` of ``train``'s vacancies validate, the older ones fit
    (:func:`tuning_split`); the test split of :func:`compare` is never seen. Every combination of
    :data:`TUNING_GRID` is tried (:func:`grid_candidates`); the highest validation NDCG@10 wins, of equals the
    first in grid order. About 2 s on 1,200 pairs and 2 idle cores.

    Args:
        train: The training pairs (time-ordered, as :meth:`RankingData.time_split` returns them).
        seed: LightGBM's ``random_state``.
        say: Told one line per combination tried; None: silent.

    Returns:
        ``(params, report)``: ``params`` for :func:`fit_lgbm`, ``n_estimators`` the best round's; and
        ``{"validationNdcg@10": its score, "tried": combinations, "validationVacancies": scored,
        "tuningPairs": pairs tuned on}`` (all of ``train`` up to :data:`TUNING_MAX_PAIRS`).
        When no validation vacancy has a positive label there is nothing to compare: the defaults
        come back with ``validationNdcg@10`` None and ``tried`` 0.
    """
    split = tuning_split(train, seed)
    if not split.validation_vacancies or not len(split.inner):
        return dict(LGBM_DEFAULTS), {
            "validationNdcg@10": None,
            "tried": 0,
            "validationVacancies": 0,
            "tuningPairs": len(split.sampled),
        }
    best_params, best_score, tried = dict(LGBM_DEFAULTS), -1.0, 0
    for candidate in grid_candidates(split, seed):
        tried += 1
        if say is not None:
            say(
                f"afstemmen: {tried}/{GRID_SIZE} op {len(split.sampled):_} paren, "
                f"NDCG@10 {candidate.validation_ndcg:.4f}".replace("_", ".")
            )
        if candidate.validation_ndcg > best_score:  # strictly better: of equals, the first in grid order wins
            best_score, best_params = candidate.validation_ndcg, candidate.params
    report = {
        "validationNdcg@10": round(best_score, 4),
        "tried": tried,
        "validationVacancies": split.validation_vacancies,
        "tuningPairs": len(split.sampled),
    }
    return best_params, report


def _tuning_sample(train: RankingData, seed: int) -> RankingData:
    """``train`` itself, or above :data:`TUNING_MAX_PAIRS` a seeded sample of its vacancies (whole groups)."""
    if len(train) <= TUNING_MAX_PAIRS:
        return train
    vacancies = np.unique(train.vacancy_ids)
    size = max(1, int(len(vacancies) * TUNING_MAX_PAIRS / len(train)))
    chosen = np.random.default_rng(seed).choice(vacancies, size=size, replace=False)
    return train.take(np.flatnonzero(np.isin(train.vacancy_ids, chosen)))


def fit_sklearn(train: RankingData, seed: int = 0) -> HistGradientBoostingRegressor:
    monotone = input_monotone(train.feature_names)
    model = HistGradientBoostingRegressor(max_iter=300, learning_rate=0.05, monotonic_cst=monotone, random_state=seed)
    return model.fit(train.features, train.labels)


def judge(
    scorers: dict[str, Callable[[RankingData], np.ndarray]],
    test: RankingData,
    oracle: np.ndarray | None,
    seed: int,
    extra: dict[str, Any],
) -> dict[str, Any]:
    """Every scorer's metrics and slices on ``test``; with an oracle, also ``oracleFraction``."""
    scorers = {**scorers, **({"oracle": lambda _: oracle} if oracle is not None else {})}
    models: dict[str, Any] = {}
    scores_of: dict[str, np.ndarray] = {}
    for name, score in scorers.items():
        scores = scores_of[name] = np.asarray(score(test), np.float64).reshape(-1)
        if len(scores) != len(test):
            raise InvalidInputError(f"ranker '{name}' gaf {len(scores)} scores voor {len(test)} paren; één per paar")
        metrics = summarise(test.labels, scores, test.vacancy_ids, seed=seed)
        slices = summarise_slices(test.labels, scores, test.vacancy_ids, test.bron, test.trede, seed=seed)
        models[name] = {**metrics, **extra.get(name, {}), "slices": slices}
    if oracle is not None:
        best = models["oracle"]["ndcg@10"]
        for metrics in models.values():
            metrics["oracleFraction"] = round(metrics["ndcg@10"] / best, 4) if best else None
    baselines = [name for name in models if name.startswith("baseline:")]
    strongest = max(baselines, key=lambda name: models[name]["ndcg@10"])
    for name in models:
        if not name.startswith("baseline:"):
            vs = paired(test.labels, scores_of[name], scores_of[strongest], test.vacancy_ids, seed=seed)
            models[name]["vsBestBaseline"] = {"baseline": strongest, **vs}
    return models


BUILT_IN = {"baseline:dense", "baseline:bm25", "baseline:weighted", "lgbm", "sklearn", "oracle"}


def compare(
    data: RankingData,
    weights: RetrievalSettings,
    test_share: float = 0.2,
    seed: int = 0,
    oracle: np.ndarray | None = None,
    rankers: dict[str, Scorer] | None = None,
    pool: tuple[RankingData, np.ndarray | None] | None = None,
    notes: NotesSource | None = None,
    pool_weighted: Scorer | None = None,
) -> dict[str, Any]:
    """Train both learned rankers on the older vacancies and score every ranker on the newest ones.

    Args:
        data: All labelled pairs; the newest ``test_share`` of vacancies is the test.
        weights: The core's signal weights, for ``baseline:weighted``.
        test_share: Share of vacancies (the newest) held out.
        seed: For the learned models and the bootstrap.
        oracle: per row of ``data``, the hidden true suitability (synthetic data only): ranking by it
            is the ``oracle`` entry, and every model gets ``oracleFraction`` = its NDCG@10 / the oracle's.
        rankers: Rankers trained elsewhere, by name (e.g. ``champion``, ``challenger``): each a
            :data:`Scorer` of the test pairs (:func:`scorer_of`), judged exactly like the built-in ones.
        pool: A second test of the same vacancies (:func:`training.pool_eval.pool_holdout`: every
            candidate the search ranks, with counterfactual outcomes) and its oracle scores; every
            ranker is judged on it too, under ``"pool"``.
        notes: The bestand's texts (:meth:`NotesSource.of`): ``lgbm`` and ``sklearn`` then read the notes column
            too, fitted on the training vacancies; where it cannot be fitted they go without it and
            ``lgbm``'s ``notesColumn`` says why.
        pool_weighted: ``baseline:weighted`` on the pool where its pairs are whole pools of a world with an index:
            the weighted score as the search serves it (:func:`training.served_weighted.served_weighted`, the
            rare-identifier gate read from the index). None, and always on the test pairs (the voorstellen: a
            vacancy's few proposed, not a pool): from the features (:func:`weighted_baseline`).

    Returns:
        ``{"holdout": {...}, "models": {name: metrics}}``. Every model's metrics are those of
        :func:`summarise` plus ``slices`` (:func:`summarise_slices`, where ``data`` has ``bron`` and
        ``trede``); ``lgbm`` adds its tuned ``params`` and ``tuning`` report. ``holdout`` counts the
        test rows whose label 3 is right-censored (``censoredTestPairs``; None when ``data`` does not
        say): they may still become duurzaam, so the test under-rates rankers that find them.

    Raises:
        InvalidInputError: Fewer than :data:`MIN_TEST_VACANCIES` vacancies on either side of the split,
            an external ranker named like a built-in one, or one that does not give one score per row.
    """
    external = dict(rankers or {})
    train, test = data.time_split(test_share)
    test_rows = np.flatnonzero(np.isin(data.vacancy_ids, test.vacancy_ids))
    test_vacancies = len(np.unique(test.vacancy_ids))
    if test_vacancies < MIN_TEST_VACANCIES or len(np.unique(train.vacancy_ids)) < MIN_TEST_VACANCIES:
        raise InvalidInputError(
            f"te weinig besliste voorstellen om te vergelijken ({len(data)} paren, {test_vacancies} vacatures "
            f"in de toets; minstens {MIN_TEST_VACANCIES} nodig); simuleer of verzamel eerst uitkomsten "
            "(werkmatch simulate outcomes)"
        )
    clashes = sorted(set(external) & BUILT_IN)
    if clashes:
        raise InvalidInputError(
            f"rankernaam {', '.join(clashes)} is al in gebruik voor een ingebouwde ranker; kies een andere naam"
        )
    scorers, fitted = _built_in_scorers(train, weights, seed, notes)
    scorers.update(external)
    models = judge(scorers, test, oracle[test_rows] if oracle is not None else None, seed, fitted)
    return {
        "holdout": {
            "split": "time",
            "testShare": test_share,
            "trainPairs": len(train),
            "testPairs": len(test),
            "testVacancies": test_vacancies,
            "testFrom": datetime.fromtimestamp(float(test.moments.min()), UTC).date().isoformat(),
            "labels": {str(label): int(count) for label, count in enumerate(np.bincount(test.labels, minlength=5))},
            # label 3 placed under CENSORED_DAYS before the data was built: may still become 4
            "censoredTestPairs": int(test.censored.sum()) if test.censored is not None else None,
        },
        "models": models,
        **({"pool": _judge_pool(_on_pool(scorers, pool_weighted), *pool, seed)} if pool is not None else {}),
    }


def _on_pool(scorers: dict[str, Scorer], pool_weighted: Scorer | None) -> dict[str, Scorer]:
    """The scorers of the pool: ``baseline:weighted`` replaced by the served score where it is given."""
    return scorers if pool_weighted is None else {**scorers, "baseline:weighted": pool_weighted}


def _built_in_scorers(
    train: RankingData, weights: RetrievalSettings, seed: int, notes: NotesSource | None
) -> tuple[dict[str, Scorer], dict[str, Any]]:
    """The baselines and the two learned rankers fitted on ``train`` (with the notes column fitted there when
    ``notes`` is given and it can be), with the fits' timings and lgbm's tuning."""
    scorers: dict[str, Scorer] = {
        "baseline:dense": lambda part: column(part, "dense_similarity"),
        "baseline:bm25": lambda part: column(part, "lexical_similarity"),
        "baseline:weighted": lambda part: weighted_baseline(part, weights),
    }
    fitted: dict[str, Any] = {}
    extend = notes_column(train, notes)
    train = extend.fit.train if extend.fit is not None else train
    start = time.perf_counter()
    params, tuning = tune_lgbm(train, seed)
    tune_seconds = round(time.perf_counter() - start, 2)
    fits: tuple[tuple[str, Callable[[], Any]], ...] = (
        ("lgbm", lambda: fit_lgbm(train, seed, params)),
        ("sklearn", lambda: fit_sklearn(train, seed)),
    )
    for name, fit in fits:
        start = time.perf_counter()
        model = fit()
        fitted[name] = {"trainSeconds": round(time.perf_counter() - start, 2)}
        scorers[name] = lambda part, model=model: model.predict(extend(part).features)
    fitted["lgbm"].update(params=params, tuning={**tuning, "seconds": tune_seconds}, notesColumn=extend.report)
    return scorers, fitted


@dataclass(frozen=True)
class NotesUse:
    """Pairs as a model fitted with (``fit``) or without the notes column reads them, and what to report of it."""

    fit: NotesFit | None
    report: dict[str, Any] | None

    def __call__(self, data: RankingData) -> RankingData:
        return self.fit.extend(data) if self.fit is not None else data


def notes_column(train: RankingData, notes: NotesSource | None) -> NotesUse:
    """The notes column fitted on ``train`` (``fit`` None where not asked or not possible) and how scored pairs
    read it; the report is None when not asked, else ``{"fitted": …}`` with the fit's provenance or the Dutch
    reason."""
    if notes is None:
        return NotesUse(None, None)
    try:
        fit = notes.fit(train)
    except NotesUnfit as error:
        return NotesUse(None, {"fitted": False, "reason": str(error)})
    return NotesUse(fit, {"fitted": True, **(fit.artefact.provenance or {})})


def _judge_pool(
    scorers: dict[str, Callable[[RankingData], np.ndarray]],
    pool_data: RankingData,
    pool_oracle: np.ndarray | None,
    seed: int,
) -> dict[str, Any]:
    """Every ranker on the whole candidate pools of the test vacancies (synthetic data only)."""
    vacancies = int(len(np.unique(pool_data.vacancy_ids)))
    return {
        "holdout": {
            "what": "hele kandidatenpool per toetsvacature, contrafeitelijke uitkomsten (alleen synthetisch)",
            "pairs": len(pool_data),
            "vacancies": vacancies,
            "meanPoolSize": round(len(pool_data) / max(vacancies, 1), 1),
            "labels": {str(k): int(v) for k, v in enumerate(np.bincount(pool_data.labels, minlength=5))},
        },
        "models": judge(scorers, pool_data, pool_oracle, seed, {}),
    }
