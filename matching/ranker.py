"""The ranker that orders a candidate pool: a learned model saved with its feature spec.

A ranker is a directory with two files, the same whether it is the baseline shipped in ``models/``
or a version downloaded from the MLflow registry (``training/registry.py`` logs it that way):

* ``model.txt`` — a LightGBM booster in its text format (no pickle: loading runs no code);
* ``feature_spec.json`` — the feature names in column order, their monotone directions, and what
  the model was trained on;
* with ``notes_readiness`` after the pair features in its spec, the notes column's artefact
  (:mod:`matching.notes_readiness`): the model reads :func:`matching.features.pair_matrix`'s columns and then
  that column per client (:class:`matching.notes_readiness.NotesColumn`, bound by the matcher).

A directory whose spec names other features than :data:`matching.features.FEATURE_NAMES` (optionally followed
by ``notes_readiness``) is refused: a model silently fed shifted columns would rank nonsense. When no learned
ranker can be loaded the matcher orders by the core's weighted score (:func:`matching.scoring.combine`), and says so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
from sqlalchemy.engine import Engine

from matching import notes_readiness
from matching.embedding import Embedder, embed_cached
from matching.errors import ModelError, WerkmatchError
from matching.features import FEATURE_NAMES, MONOTONE
from matching.notes_readiness import NotesColumn, NotesReadiness
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
    # the notes column the model reads after the pair features; None: the pair features alone
    notes: NotesColumn | None = field(default=None, compare=False, repr=False)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The model's input columns: the pair features, then ``notes_readiness`` where it reads that."""
        return input_names(self.notes is not None)

    def bind(self, engine: Engine, embedder: Embedder, saved: Path | None = None, live: bool = False) -> None:
        """Let the notes column read this database's texts, its fragments embedded by ``embedder`` through the cache
        (``saved``: the index directory, whose values of this column are read, :meth:`NotesColumn.bind`; ``live``: a
        serving matcher's searches, which compute at most a few clients' values themselves and leave the rest to
        the index writer's fill; otherwise every value a call needs is computed).

        Raises:
            RankerError: The column was made with another embedding model (its vectors would be noise).
        """
        if self.notes is None:
            return
        embed = partial(embed_cached, engine, embedder, role="document")
        searching = partial(embed, limit=notes_readiness.SEARCH_EMBED_MAX) if live else embed
        clients_max = notes_readiness.SEARCH_CLIENTS_MAX if live else None
        try:
            self.notes.bind(engine, embedder.model_id, searching, embed, saved, clients_max)
        except ModelError as error:
            raise RankerError(str(error)) from error

    def inputs(
        self,
        features: np.ndarray,
        client_ids: np.ndarray | None = None,
        updated_at: np.ndarray | None = None,
        texts: Mapping[int, tuple[str, str]] | None = None,
    ) -> np.ndarray:
        """The model's input rows: ``features`` (a :func:`matching.features.pair_matrix`), and for a model that reads
        the notes column, that column of each pair's client (``client_ids``; ``updated_at`` as the client arrays
        hold it, None: read from the database; ``texts``: (zelfbeschrijving, notities) read instead of the stored
        ones for the clients it holds, as a counterfactual test asks)."""
        features = np.asarray(features, np.float32)
        if features.ndim != 2 or features.shape[1] != len(FEATURE_NAMES):
            raise RankerError(f"de ranker verwacht {len(FEATURE_NAMES)} kenmerken per paar, niet {features.shape}")
        if self.notes is None:
            return features
        if client_ids is None or len(client_ids) != len(features):
            raise RankerError("deze ranker leest ook de notities-kolom: geef per paar de klant mee")
        column = self.notes.values(client_ids, updated_at, texts) if len(features) else np.zeros(0, np.float32)
        return np.hstack([features, column[:, None]])

    def score(
        self,
        features: np.ndarray,
        client_ids: np.ndarray | None = None,
        updated_at: np.ndarray | None = None,
        texts: Mapping[int, tuple[str, str]] | None = None,
    ) -> np.ndarray:
        """One score per row of a :func:`matching.features.pair_matrix` (with each row's client for a model that
        reads the notes column, :meth:`inputs`); higher is a better fit."""
        return self.score_inputs(self.inputs(features, client_ids, updated_at, texts))

    def score_inputs(self, rows: np.ndarray) -> np.ndarray:
        """One score per row of the model's own inputs (:attr:`feature_names` columns, e.g. :meth:`inputs`)."""
        rows = self._own_inputs(rows)
        if not len(rows):
            return np.zeros(0, np.float64)
        return np.asarray(self.booster.predict(rows, num_threads=1), np.float64)

    def _own_inputs(self, rows: np.ndarray) -> np.ndarray:
        """``rows`` as float32, refused unless they have the model's own input columns (:attr:`feature_names`)."""
        rows = np.asarray(rows, np.float32)
        if rows.ndim != 2 or rows.shape[1] != len(self.feature_names):
            raise RankerError(f"de ranker verwacht {len(self.feature_names)} invoerkolommen, niet {rows.shape}")
        return rows

    def contributions(
        self, features: np.ndarray, client_ids: np.ndarray | None = None, updated_at: np.ndarray | None = None
    ) -> np.ndarray:
        """Per row and input (:attr:`feature_names`), how much it moved the score from the model's average (SHAP
        values of the trees).

        Shape (n, len(feature_names)); each row plus the model's expected value sums to :meth:`score`. From the
        tables made at load (:mod:`matching.tree_shap`: 50 shown rows in ≈ 2.4 ms, LightGBM's ``pred_contrib``
        ≈ 13.6 ms), or from LightGBM for a model the tables do not cover; the two agree to rounding.
        """
        return self.contributions_of_inputs(self.inputs(features, client_ids, updated_at))

    def contributions_of_inputs(self, rows: np.ndarray) -> np.ndarray:
        """:meth:`contributions` of rows of the model's own inputs (:attr:`feature_names` columns, :meth:`inputs`)."""
        rows = self._own_inputs(rows)
        if not len(rows):
            return np.zeros((0, len(self.feature_names)), np.float64)
        if self.shap is not None:
            return self.shap.contributions(rows)
        raw = np.asarray(self.booster.predict(rows, pred_contrib=True, num_threads=1), np.float64)
        return raw[:, : len(self.feature_names)]

    def describe(self) -> dict[str, Any]:
        """What every ranked list carries as ``rankedBy``: name, version and provenance, never ``source``.

        ``source`` is the directory the ranker was loaded from, a server path that no list should
        show (the registry version or the baseline's name says which model it is).
        """
        return {"name": self.name, "version": self.version, **self.extra}


def input_names(notes: bool = False) -> tuple[str, ...]:
    """A ranker's input columns: the pair features, then (``notes``) the notes column."""
    return FEATURE_NAMES + ((notes_readiness.FEATURE,) if notes else ())


def input_monotone(names: Sequence[str]) -> list[int]:
    """The monotone direction of each input column of ``names`` (:func:`input_names`): the training constraint."""
    direction = dict(zip(FEATURE_NAMES, MONOTONE, strict=True)) | {notes_readiness.FEATURE: notes_readiness.MONOTONE}
    return [direction[name] for name in names]


def feature_spec(notes: bool = False, **trained_on: Any) -> dict[str, Any]:
    """The spec saved next to a booster: the input contract (``notes``: the notes column after the pair features)
    plus free-form provenance."""
    names = input_names(notes)
    return {"features": list(names), "monotone": input_monotone(names), "kind": "lightgbm-lambdamart", **trained_on}


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
    with_notes = list(input_names(notes=True))
    if not isinstance(spec, dict) or spec.get("features") not in (list(FEATURE_NAMES), with_notes):
        raise RankerError(
            f"de ranker in {directory} is getraind op andere kenmerken dan deze versie van werkmatch berekent; "
            "train hem opnieuw (werkmatch train)"
        )
    try:
        booster = lightgbm.Booster(model_file=str(booster_path))
    except lightgbm.basic.LightGBMError as error:
        raise RankerError(f"{booster_path} is geen geldig LightGBM-model: {error}") from error
    width = len(spec["features"])
    if booster.num_feature() != width:
        raise RankerError(f"{booster_path} verwacht {booster.num_feature()} kenmerken, niet {width}")
    notes = None
    if spec["features"] == with_notes:
        try:
            notes = NotesColumn(NotesReadiness.load(directory))
        except ModelError as error:
            raise RankerError(str(error)) from error
    shap = tables_for(booster)
    version = version or spec.get("version")
    return LearnedRanker(booster, spec, name, version, str(directory), dict(extra), shap, notes)
