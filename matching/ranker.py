"""The ranker that orders a candidate pool: a learned model saved with its feature spec.

A ranker is a directory with two files, the same whether it is the baseline shipped in ``models/``
or a version downloaded from the MLflow registry (``training/registry.py`` logs it that way):

* ``model.txt`` — a LightGBM booster in its text format (no pickle: loading runs no code);
* ``feature_spec.json`` — the feature names in column order, their monotone directions, and what
  the model was trained on.

A directory whose spec names other features than :data:`matching.features.FEATURE_NAMES` is refused:
a model silently fed shifted columns would rank nonsense. When no learned ranker can be loaded the
matcher orders by the core's weighted score (:func:`matching.scoring.combine`), and says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np

from matching.errors import WerkmatchError
from matching.features import FEATURE_NAMES, MONOTONE
from matching.tree_shap import ShapTables, tables_for

BOOSTER_FILE = "model.txt"
SPEC_FILE = "feature_spec.json"
WEIGHTED = {"name": "baseline:weighted", "version": None, "source": "gewogen score van de kern (matching.scoring)"}


class RankerError(WerkmatchError):
    """A ranker directory that cannot be used."""


@dataclass(frozen=True)
class LearnedRanker:
    """A LightGBM booster and the spec it was trained with; ``describe()`` is what results carry."""

    booster: lightgbm.Booster
    spec: dict[str, Any]
    name: str
    version: str | None = None
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # the booster's SHAP values tabulated per leaf (matching.tree_shap); None: LightGBM's pred_contrib computes them
    shap: ShapTables | None = field(default=None, compare=False, repr=False)

    def score(self, features: np.ndarray) -> np.ndarray:
        """One score per row of a :func:`matching.features.pair_matrix`; higher is a better fit."""
        features = np.asarray(features, np.float32)
        if features.ndim != 2 or features.shape[1] != len(FEATURE_NAMES):
            raise RankerError(f"de ranker verwacht {len(FEATURE_NAMES)} kenmerken per paar, niet {features.shape}")
        if not len(features):
            return np.zeros(0, np.float64)
        return np.asarray(self.booster.predict(features, num_threads=1), np.float64)

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """Per row and feature, how much it moved the score from the model's average (SHAP values of the trees).

        Shape (n, len(FEATURE_NAMES)); each row plus the model's expected value sums to :meth:`score`. From the
        tables made at load (:mod:`matching.tree_shap`: 50 shown rows in ≈ 2.4 ms, LightGBM's ``pred_contrib``
        ≈ 13.6 ms), or from LightGBM for a model the tables do not cover; the two agree to rounding.
        """
        features = np.asarray(features, np.float32)
        if not len(features):
            return np.zeros((0, len(FEATURE_NAMES)), np.float64)
        if self.shap is not None:
            return self.shap.contributions(features)
        raw = np.asarray(self.booster.predict(features, pred_contrib=True, num_threads=1), np.float64)
        return raw[:, : len(FEATURE_NAMES)]

    def describe(self) -> dict[str, Any]:
        """What every ranked list carries as ``rankedBy``: name, version and provenance, never ``source``.

        ``source`` is the directory the ranker was loaded from, a server path that no list should
        show (the registry version or the baseline's name says which model it is).
        """
        return {"name": self.name, "version": self.version, **self.extra}


def feature_spec(**trained_on: Any) -> dict[str, Any]:
    """The spec saved next to a booster: the feature contract plus free-form provenance."""
    return {
        "features": list(FEATURE_NAMES),
        "monotone": list(MONOTONE),
        "kind": "lightgbm-lambdamart",
        **trained_on,
    }


def save_ranker(directory: Path, booster: lightgbm.Booster, spec: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(directory / BOOSTER_FILE))
    (directory / SPEC_FILE).write_text(json.dumps(spec, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return directory


def load_ranker(directory: Path, name: str, version: str | None = None, **extra: Any) -> LearnedRanker:
    """Load and check a ranker directory; a Dutch :class:`RankerError` says what is wrong with it."""
    directory = Path(directory)
    spec_path, booster_path = directory / SPEC_FILE, directory / BOOSTER_FILE
    if not spec_path.is_file() or not booster_path.is_file():
        raise RankerError(f"geen ranker in {directory}: {SPEC_FILE} en {BOOSTER_FILE} zijn nodig")
    try:
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RankerError(f"{spec_path} is geen leesbare JSON: {error}") from error
    if not isinstance(spec, dict) or spec.get("features") != list(FEATURE_NAMES):
        raise RankerError(
            f"de ranker in {directory} is getraind op andere kenmerken dan deze versie van werkmatch berekent; "
            "train hem opnieuw (werkmatch train)"
        )
    try:
        booster = lightgbm.Booster(model_file=str(booster_path))
    except lightgbm.basic.LightGBMError as error:
        raise RankerError(f"{booster_path} is geen geldig LightGBM-model: {error}") from error
    if booster.num_feature() != len(FEATURE_NAMES):
        raise RankerError(f"{booster_path} verwacht {booster.num_feature()} kenmerken, niet {len(FEATURE_NAMES)}")
    shap = tables_for(booster)
    return LearnedRanker(booster, spec, name, version or spec.get("version"), str(directory), dict(extra), shap)
