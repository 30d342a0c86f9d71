"""Readiness read from what the client and the consulent wrote: a challenger-only experiment (issue 19, item 2).

Run: nice -n 10 .venv/bin/python bench/ranker_variants_notes.py --data-dir <copy of the demo with its
3-year history> [--held-out VARIANT] [--out FILE]

The ranker's 25 features see the profile; the hidden motivation, reliability and ability that the
truth also rewards show only in free text (``zelfbeschrijving``, ``notities``). This script adds one
learned column, ``notes_readiness``, and judges it the way ``werkmatch evaluate`` judges rankers:

1. **Text to vectors.** Both texts are cut into fragments (sentences and the comma, semicolon and
   slash clauses of consulent shorthand), each embedded with the service's own model through the
   embedding cache, and averaged per text (own words and notes side by side, 2 x 384 numbers).
2. **Health out.** Before a fragment counts, two detectors drop health and beperking content:
   Dutch health stems at a word start (:data:`matching.notes_readiness.HEALTH_STEMS`, general vocabulary,
   not the generator's templates), and a logistic model on the fragment vectors that learns from the bestand which
   fragments are written about people with a recorded beperking, so wordings the stems miss go too.
   What is left is then projected off every direction along which a linear model still separates
   clients with and without a recorded beperking (iterative null-space projection, Ravfogel et al.
   2020).
3. **Outcomes to a score.** A ridge regression from the client's vector to the outcome of its
   decided voorstellen (label minus its vacancy's mean; with ``residual``, minus what an out-of-fold
   model of the 25 profile features already predicts), fitted on the training period only; the rows
   the ranker is fitted on get out-of-fold values (5 folds of clients), never their own.
4. **Judged.** Variants are chosen on validation pools inside the training period (fit on the older
   80 % of training vacancies, 150 pools of the newest 20 %); ``--held-out`` then scores the chosen one
   once on the 200 held-out pools ``werkmatch evaluate`` samples, with the shipped fairness replay.

The pieces are the saved artefact's (:mod:`matching.notes_readiness` applies and stores it,
:mod:`training.notes_fit` fits it); the chosen variant is fitted and applied through that artefact in
``--held-out``, and its largest difference from this script's own matrix path is reported.

Every variant also reports how well its scores separate clients *with* a beperking that nobody
recorded from clients without any (ROC AUC among clients with none recorded; 0.5 = not at all),
for the column itself and for the ranker's pool scores beside the ranker without it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score
from sqlmodel import Session, select

import training.rankers as rankers
from matching import notes_readiness
from matching.domain import AuditKenmerken, Client
from matching.embedding import embed_cached
from matching.features import FEATURE_NAMES
from matching.matcher import Matcher
from matching.notes_readiness import (
    EXPLANATION,
    LEARNED_THRESHOLD,
    NotesReadiness,
    client_matrix,
    fragments,
    health_stem,
    remove_directions,
)
from matching.settings import Settings
from training import latent
from training.dataset import RankingData, build_dataset
from training.exposure_eval import served_fairness, served_method
from training.fairness import group_labels, suitable_in_pool
from training.metrics import paired, per_group, summarise
from training.notes_fit import (
    client_folds,
    fit_detector,
    fit_notes_readiness,
    null_space_directions,
    outcome_target,
    ridge_column,
)
from training.pool_eval import pool_holdout

VALIDATION_POOLS, HELD_OUT_POOLS = 150, 200  # as bench/results/ranker-variants-3y.json and werkmatch evaluate


@dataclass
class World:
    """What every variant is judged on: the decided pairs, validation and held-out pools, the texts."""

    data: RankingData
    val_pool: tuple[RankingData, np.ndarray]
    test_pool: tuple[RankingData, np.ndarray]
    clients: list[int]
    texts: dict[int, tuple[str, str]]
    recorded: np.ndarray  # per client: a recorded beperking
    unrecorded: np.ndarray  # per client: a true beperking that is not recorded
    protected: dict[str, np.ndarray]  # per client, audit only: vrouw, niet-westerse migratieachtergrond, 50+
    groups: dict[str, np.ndarray]  # of the held-out pool rows (training.fairness.group_labels)
    merit: np.ndarray


def load_world(matcher: Matcher) -> World:
    data = build_dataset(matcher)
    train, test = data.time_split(0.2)
    _, val = train.time_split(0.2)
    val_pool, test_pool = _pools(matcher, val, VALIDATION_POOLS), _pools(matcher, test, HELD_OUT_POOLS)
    with Session(matcher.engine) as session:
        rows = session.exec(select(Client.id, Client.zelfbeschrijving, Client.notities, Client.beperkingen)).all()
        truth = session.exec(select(latent.SyntheticLatent).where(latent.SyntheticLatent.kind == "client"))
        true_aspects = {row.entity_id: set(row.factors.get("beperkingen") or {}) for row in truth}
        audit = {row.client_id: row for row in session.exec(select(AuditKenmerken))}
    clients = sorted(int(row[0]) for row in rows)
    texts = {int(cid): (own or "", notes or "") for cid, own, notes, _ in rows}
    recorded_aspects = {int(cid): {item["aspect"] for item in items or []} for cid, _, _, items in rows}
    return World(
        data=data,
        val_pool=val_pool,
        test_pool=test_pool,
        clients=clients,
        texts=texts,
        recorded=np.array([bool(recorded_aspects[c]) for c in clients]),
        unrecorded=np.array([bool(true_aspects.get(c, set()) - recorded_aspects[c]) for c in clients]),
        protected=_protected(clients, audit),
        groups=group_labels(matcher.engine, test_pool[0]),
        merit=suitable_in_pool(test_pool[1], test_pool[0].vacancy_ids),
    )


def _protected(clients: list[int], audit: dict[int, AuditKenmerken]) -> dict[str, np.ndarray]:
    rows = [audit.get(client) for client in clients]
    return {
        "geslacht vrouw": np.array([bool(row and row.geslacht == "vrouw") for row in rows]),
        "migratieachtergrond niet-westers": np.array(
            [bool(row and row.migratieachtergrond == "niet-westers") for row in rows]
        ),
        "geslacht x": np.array([bool(row and row.geslacht == "x") for row in rows]),
        "geboren voor 1975": np.array([bool(row and row.geboortejaar and row.geboortejaar < 1975) for row in rows]),
    }


def _pools(matcher: Matcher, part: RankingData, size: int) -> tuple[RankingData, np.ndarray]:
    """Whole pools of ``size`` of ``part``'s vacancies, sampled with seed 0 as ``werkmatch evaluate`` does."""
    moments = dict(zip(part.vacancy_ids.tolist(), part.moments.tolist(), strict=True))
    vacancies = np.unique(part.vacancy_ids)
    sample = np.random.default_rng(0).choice(vacancies, size=min(size, len(vacancies)), replace=False)
    built = pool_holdout(matcher, sample, moments)
    if built is None:
        raise SystemExit("geen verborgen waarheid in deze gegevens: dit experiment werkt alleen op synthetische data")
    return built


@dataclass
class TextVectors:
    pieces: list[str]
    vectors: np.ndarray
    stem: np.ndarray  # per piece: a health stem
    learned: np.ndarray  # per piece: the learned detector's probability


def text_vectors(matcher: Matcher, world: World) -> TextVectors:
    """Every fragment embedded (as a document, through the cache) and scored by both health detectors."""
    pieces = sorted({piece for own, notes in world.texts.values() for piece in fragments(own) + fragments(notes)})
    vectors = embed_cached(matcher.engine, matcher.index.embedder, pieces, "document")
    stem = np.array([health_stem(piece) for piece in pieces])
    detector = fit_detector(pieces, vectors, _texts(world), world.recorded)
    return TextVectors(pieces, vectors, stem, detector.predict_proba(vectors)[:, 1])


def _texts(world: World) -> list[tuple[str, str]]:
    return [world.texts[client] for client in world.clients]


def _positions(world: World, part: RankingData) -> np.ndarray:
    position = {client: row for row, client in enumerate(world.clients)}
    return np.array([position[int(c)] for c in part.client_ids], np.int64)


def readiness(
    world: World, matrix: np.ndarray, fit: RankingData, alpha: float, residual: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The column for ``fit``'s own rows (out-of-fold over client folds) and for every client (fit on all of it).

    ``residual``: the target is what the profile features do not already explain (the label minus an
    out-of-fold pointwise model of the 25 features, centred per vacancy), so the text learns the rest.
    """
    rows = _positions(world, fit)
    fold = client_folds(len(world.clients))[rows]
    own, ridge = ridge_column(matrix, rows, outcome_target(fit, fold, residual), fold, alpha)
    return own, ridge.predict(matrix)


def columns(
    world: World, matrix: np.ndarray, fit: RankingData, variant: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`readiness` as one column, or with ``split`` one for the client's own words and one for the notes."""
    halves = np.split(matrix, 2, axis=1) if variant.get("split") else [matrix]
    made = [readiness(world, half, fit, variant["alpha"], variant.get("residual", False)) for half in halves]
    return np.column_stack([own for own, _ in made]), np.column_stack([everyone for _, everyone in made])


def _with(part: RankingData, column: np.ndarray) -> RankingData:
    return replace(part, features=np.column_stack([part.features, column]).astype(np.float32))


def fit_ranker(fit: RankingData, extra: int) -> tuple[Any, dict[str, Any]]:
    """Tuned and fitted exactly as ``werkmatch train`` does, with ``extra`` more columns constrained upwards."""
    fit = replace(fit, feature_names=FEATURE_NAMES + (notes_readiness.FEATURE,) * extra)  # each constrained upwards
    params, _ = rankers.tune_lgbm(fit, 0)
    return rankers.fit_lgbm(fit, 0, params), params


def _auc(scores: np.ndarray, positive: np.ndarray) -> float:
    return round(float(roc_auc_score(positive, scores)), 3)


def _ndcg(part: RankingData, scores: np.ndarray) -> float:
    return float(np.nanmean(per_group(part.labels, scores, part.vacancy_ids)["ndcg@10"]))


VARIANTS: dict[str, dict[str, Any]] = {
    "stems, no projection, alpha 30": {"learned": False, "project": False, "alpha": 30.0},
    "stems, projected, alpha 30": {"learned": False, "project": True, "alpha": 30.0},
    "stems + learned detector, projected, alpha 10": {"learned": True, "project": True, "alpha": 10.0},
    "stems + learned detector, projected, alpha 30": {"learned": True, "project": True, "alpha": 30.0},
    "stems + learned detector, projected, alpha 10, residual target": {
        "learned": True,
        "project": True,
        "alpha": 10.0,
        "residual": True,
    },
    "stems + learned detector, projected, alpha 3, residual target": {
        "learned": True,
        "project": True,
        "alpha": 3.0,
        "residual": True,
    },
    "stems + learned detector, projected, alpha 10, residual target, own words and notes apart": {
        "learned": True,
        "project": True,
        "alpha": 10.0,
        "residual": True,
        "split": True,
    },
    "stems + learned detector, projected, alpha 30, residual target": {
        "learned": True,
        "project": True,
        "alpha": 30.0,
        "residual": True,
    },
}


def matrix_for(world: World, text: TextVectors, variant: dict[str, Any]) -> np.ndarray:
    drop = text.stem | (text.learned >= LEARNED_THRESHOLD) if variant["learned"] else text.stem
    matrix = client_matrix(_texts(world), text.pieces, text.vectors, drop)
    return remove_directions(matrix, null_space_directions(matrix, world.recorded)) if variant["project"] else matrix


def separation(world: World, pool: RankingData, column: np.ndarray, scores: dict[str, np.ndarray]) -> dict[str, Any]:
    """AUCs for an unrecorded beperking among clients with none recorded: the column, and each ranker's pool scores."""
    column = column.mean(axis=1) if column.ndim == 2 else column
    none_recorded = ~world.recorded
    rows = _positions(world, pool)
    pool_rows = none_recorded[rows]
    return {
        "columnUnrecordedBeperking": _auc(column[none_recorded], world.unrecorded[none_recorded]),
        "columnRecordedBeperking": _auc(column, world.recorded),
        **{f"column[{name}]": _auc(column, flags) for name, flags in world.protected.items()},
        **{
            f"poolScores[{name}]": _auc(value[pool_rows], world.unrecorded[rows][pool_rows])
            for name, value in scores.items()
        },
    }


def tune(world: World, text: TextVectors) -> dict[str, Any]:
    """Every variant fitted on the older 80 % of the training vacancies and judged on validation pools."""
    train, _ = world.data.time_split(0.2)
    inner, _ = train.time_split(0.2)
    pool, truth = world.val_pool
    oracle = _ndcg(pool, truth)
    model, params = fit_ranker(inner, 0)
    plain = model.predict(pool.features)
    out: dict[str, Any] = {
        "pools": int(len(np.unique(pool.vacancy_ids))),
        "oracleNdcg@10": round(oracle, 4),
        "variants": {"25 features (what ships)": _entry(_ndcg(pool, plain), oracle, params)},
    }
    for name, variant in VARIANTS.items():
        matrix = matrix_for(world, text, variant)
        own, everyone = columns(world, matrix, inner, variant)
        model, params = fit_ranker(_with(inner, own), own.shape[1])
        scores = model.predict(_with(pool, everyone[_positions(world, pool)]).features)
        entry = _entry(_ndcg(pool, scores), oracle, params)
        entry["separation"] = separation(world, pool, everyone, {"with column": scores, "25 features": plain})
        out["variants"][name] = entry
        print(name, json.dumps(entry), flush=True)
    return out


def _entry(ndcg: float, oracle: float, params: dict[str, Any]) -> dict[str, Any]:
    return {"ndcg@10": round(ndcg, 4), "oracleFraction": round(ndcg / oracle, 4), "params": params}


def artefact_columns(
    world: World, text: TextVectors, train: RankingData, variant: dict[str, Any], model_id: str
) -> tuple[np.ndarray, np.ndarray, NotesReadiness]:
    """The variant fitted as the saved artefact (training.notes_fit), every client scored through its apply path."""
    artefact, own = fit_notes_readiness(
        model_id,
        _texts(world),
        world.recorded,
        text.pieces,
        text.vectors,
        (train, _positions(world, train)),
        variant["alpha"],
    )
    vector_of = dict(zip(text.pieces, text.vectors, strict=True))
    everyone = artefact.scores(_texts(world), lambda pieces: np.stack([vector_of[piece] for piece in pieces]))
    return own[:, None], everyone[:, None], artefact


def _servable(variant: dict[str, Any]) -> bool:
    """The variant the artefact implements: both detectors, projected, residual target, one column."""
    return bool(variant["learned"] and variant["project"] and variant.get("residual") and not variant.get("split"))


def held_out(world: World, text: TextVectors, name: str, settings: Settings, model_id: str) -> dict[str, Any]:
    """The chosen variant, fitted on the whole training period, once on the 200 held-out pools.

    A variant the artefact implements is fitted and applied through it (:mod:`matching.notes_readiness`),
    and compared with the experiment's own matrix path (``artefactMaxAbsDifference``).
    """
    train, _ = world.data.time_split(0.2)
    pool, truth = world.test_pool
    matrix = matrix_for(world, text, VARIANTS[name])
    own, everyone = columns(world, matrix, train, VARIANTS[name])
    difference = None
    if _servable(VARIANTS[name]):
        reference = everyone
        own, everyone, _ = artefact_columns(world, text, train, VARIANTS[name], model_id)
        difference = float(np.max(np.abs(everyone - reference)))
    plain_model, plain_params = fit_ranker(train, 0)
    notes_model, notes_params = fit_ranker(_with(train, own), own.shape[1])
    scores = {
        "oracle": truth,
        "challenger with notes_readiness": notes_model.predict(_with(pool, everyone[_positions(world, pool)]).features),
        "challenger (25 features, as werkmatch evaluate fits it)": plain_model.predict(pool.features),
        "baseline:weighted": rankers.weighted_baseline(pool, settings.retrieval),
    }
    oracle = summarise(pool.labels, truth, pool.vacancy_ids)["ndcg@10"]
    weighted = scores["baseline:weighted"]
    out: dict[str, Any] = {"variant": name, "pools": int(len(np.unique(pool.vacancy_ids))), "models": {}}
    out["artefactMaxAbsDifference"] = difference
    for label, value in scores.items():
        summary = summarise(pool.labels, value, pool.vacancy_ids)
        vs = paired(pool.labels, value, weighted, pool.vacancy_ids)
        out["models"][label] = {
            "ndcg@10": summary["ndcg@10"],
            "ndcg@10CI": summary["ndcg@10CI"],
            "oracleFraction": round(summary["ndcg@10"] / oracle, 4),
            "vsWeighted": vs,
        }
    out["models"]["challenger with notes_readiness"]["params"] = notes_params
    out["models"]["challenger (25 features, as werkmatch evaluate fits it)"]["params"] = plain_params
    out["gainFromColumn"] = paired(
        pool.labels,
        scores["challenger with notes_readiness"],
        scores["challenger (25 features, as werkmatch evaluate fits it)"],
        pool.vacancy_ids,
    )
    ranked = {key: scores[key] for key in list(scores)[1:3]}
    out["separation"] = separation(world, pool, everyone, ranked)
    out["served"] = {key: _served_geslacht(world, pool, value, settings) for key, value in ranked.items()}
    return out


def _served_geslacht(world: World, pool: RankingData, scores: np.ndarray, settings: Settings) -> dict[str, Any]:
    """The served lists' audit (the exposure replay serving uses), compact: every group's exposureVsMerit."""
    audit = served_fairness(pool, scores, world.groups, world.merit, **served_method(settings.ranker))
    groups = {
        f"{attribute} {group}": {key: row.get(key) for key in ("clients", "exposureVsMerit", "exposureVsMeritCI")}
        for attribute, section in audit["attributes"].items()
        for group, row in section["groups"].items()
    }
    return {"ndcg@10Cost": audit.get("ndcg@10Cost"), "goal": audit.get("goal"), "groups": groups}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--held-out", default=None, help="the variant chosen on the validation pools")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "ranker-notes-3y.json")
    args = parser.parse_args()
    start = time.perf_counter()
    settings = Settings(data_dir=args.data_dir)
    matcher = Matcher(settings)
    world = load_world(matcher)
    text = text_vectors(matcher, world)
    previous = json.loads(args.out.read_text(encoding="utf-8")) if args.out.is_file() else {}
    result = {**previous, "commands": {**previous.get("commands", {})}}
    stage = "heldOut" if args.held_out else "tuning"
    result["commands"][stage] = "nice -n 10 .venv/bin/python " + " ".join(sys.argv)
    result["fragments"] = {
        "pieces": len(text.pieces),
        "droppedByStems": int(text.stem.sum()),
        "droppedByLearnedDetector": int(((text.learned >= LEARNED_THRESHOLD) & ~text.stem).sum()),
    }
    result["explanation"] = EXPLANATION
    result[stage] = (
        held_out(world, text, args.held_out, settings, matcher.embedder.model_id)
        if args.held_out
        else tune(world, text)
    )
    result[stage]["seconds"] = round(time.perf_counter() - start, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    print(json.dumps(result[stage], default=str)[:4000])


if __name__ == "__main__":
    main()
