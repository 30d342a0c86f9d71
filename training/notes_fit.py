"""Fitting the notes-readiness column (:mod:`matching.notes_readiness`) on a training period.

Three learned parts, each fitted on what the training period may see:

* the **fragment detector**: a logistic model on fragment vectors whose examples are fragments written
  about at least :data:`DETECTOR_MIN_WRITERS` clients, nearly all with a recorded beperking (positive) or
  about as many as anyone (negative); the vectors carry it to wordings seen less often;
* the **null-space directions**: :data:`INLP_ROUNDS` times, the direction along which a logistic model
  tells clients with a recorded beperking from those without, removed before the next round;
* the **ridge**: from the projected vector to the outcome of the client's decided voorstellen, centred
  per vacancy and (``residual``) minus what an out-of-fold model of the profile features already
  predicts, so the text learns the rest. The rows the ranker is fitted on get out-of-fold values
  (:data:`FOLDS` folds of clients), never their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sqlmodel import Session, select

from matching.domain import Client
from matching.embedding import embed_cached
from matching.matcher import Matcher
from matching.notes_readiness import (
    FEATURE,
    LEARNED_THRESHOLD,
    NotesReadiness,
    client_matrix,
    fragments,
    health_stem,
    remove_directions,
)
from training.dataset import RankingData

FOLDS = 5
INLP_ROUNDS = 8
DETECTOR_MIN_WRITERS = 20
DETECTOR_POSITIVE_SHARE = 0.95  # of a fragment's writers with a recorded beperking
DETECTOR_NEGATIVE_MARGIN = 0.1  # at most this much above the bestand's share
ALPHA = 3.0  # ridge strength chosen on the training period's validation pools (ranker-notes-3y.json)


def fit_detector(
    pieces: Sequence[str], vectors: np.ndarray, texts: Sequence[tuple[str, str]], recorded: np.ndarray
) -> LogisticRegression:
    """The fragment detector: which wordings are written about people with a recorded beperking."""
    writers: dict[str, list[bool]] = {}
    for written, flag in zip(texts, recorded, strict=True):
        for piece in set(fragments(written[0]) + fragments(written[1])):
            writers.setdefault(piece, []).append(bool(flag))
    share = np.array([np.mean(writers[piece]) if piece in writers else 0.0 for piece in pieces])
    count = np.array([len(writers.get(piece, ())) for piece in pieces])
    base = float(np.mean(recorded))
    examples = np.flatnonzero(
        (count >= DETECTOR_MIN_WRITERS)
        & ((share >= DETECTOR_POSITIVE_SHARE) | (share <= base + DETECTOR_NEGATIVE_MARGIN))
    )
    detector = LogisticRegression(C=10.0, class_weight="balanced", max_iter=5000)
    return detector.fit(vectors[examples], share[examples] >= DETECTOR_POSITIVE_SHARE)


def null_space_directions(matrix: np.ndarray, target: np.ndarray, rounds: int = INLP_ROUNDS) -> np.ndarray:
    """The unit directions that linearly predict ``target``, one per round, each removed before the next."""
    current = np.asarray(matrix, np.float32).copy()
    directions = np.zeros((rounds, current.shape[1]), np.float32)
    for round_ in range(rounds):
        coef = LogisticRegression(C=0.5, max_iter=2000).fit(current, target).coef_[0]
        directions[round_] = coef / np.linalg.norm(coef)
        current = remove_directions(current, directions[round_ : round_ + 1])
    return directions


def client_folds(clients: int) -> np.ndarray:
    """The fold of every client (seeded): a client's pairs are never fitted and predicted in one fold."""
    return np.random.default_rng(0).integers(0, FOLDS, clients)


def _centred(part: RankingData) -> np.ndarray:
    labels = np.asarray(part.labels, np.float64)
    _, inverse, counts = np.unique(part.vacancy_ids, return_inverse=True, return_counts=True)
    return labels - (np.bincount(inverse, labels) / counts)[inverse]


def outcome_target(fit: RankingData, fold: np.ndarray, residual: bool = True) -> np.ndarray:
    """Per row of ``fit``: its label centred per vacancy, with ``residual`` minus an out-of-fold feature model."""
    if not residual:
        return _centred(fit)
    explained = np.zeros(len(fit))
    for k in range(FOLDS):
        model = HistGradientBoostingRegressor(max_iter=200, learning_rate=0.05, random_state=0)
        model.fit(fit.features[fold != k], fit.labels[fold != k])
        explained[fold == k] = model.predict(fit.features[fold == k])
    return _centred(replace(fit, labels=fit.labels - explained))


def ridge_column(
    matrix: np.ndarray, rows: np.ndarray, target: np.ndarray, fold: np.ndarray, alpha: float
) -> tuple[np.ndarray, Ridge]:
    """Out-of-fold values for the fitted rows, and the ridge fitted on all of them (for everyone else)."""
    own = np.zeros(len(rows))
    for k in range(FOLDS):
        model = Ridge(alpha=alpha).fit(matrix[rows[fold != k]], target[fold != k])
        own[fold == k] = model.predict(matrix[rows[fold == k]])
    return own, Ridge(alpha=alpha).fit(matrix[rows], target)


def fit_notes_readiness(
    model_id: str,
    texts: Sequence[tuple[str, str]],
    recorded: np.ndarray,
    pieces: Sequence[str],
    vectors: np.ndarray,
    fit: tuple[RankingData, np.ndarray],
    alpha: float = ALPHA,
    provenance: dict[str, Any] | None = None,
) -> tuple[NotesReadiness, np.ndarray]:
    """The fitted column and its out-of-fold values for the training rows.

    Args:
        model_id: The embedder's ``model_id`` that made ``vectors``.
        texts: Per client of the bestand, (zelfbeschrijving, notities).
        recorded: Per client, a recorded beperking (what the detector and the projection remove).
        pieces: Every fragment of ``texts``, each once; ``vectors`` their document vectors.
        fit: The training pairs and, per pair, the client's position in ``texts``.
        alpha: Ridge strength.
        provenance: What the artefact records about its fit.
    """
    data, rows = fit
    detector = fit_detector(pieces, vectors, texts, recorded)
    drop = np.array([health_stem(piece) for piece in pieces], bool) | (
        detector.predict_proba(vectors)[:, 1] >= LEARNED_THRESHOLD
    )
    matrix = client_matrix(texts, pieces, vectors, drop)
    directions = null_space_directions(matrix, recorded)
    projected = remove_directions(matrix, directions)
    fold = client_folds(len(texts))[rows]
    own, ridge = ridge_column(projected, rows, outcome_target(data, fold), fold, alpha)
    artefact = NotesReadiness(
        model_id=model_id,
        detector_coef=detector.coef_[0].astype(np.float64),
        detector_intercept=float(detector.intercept_[0]),
        directions=directions,
        ridge_coef=ridge.coef_.astype(np.float64),
        ridge_intercept=float(ridge.intercept_),
        provenance={"alpha": alpha, "rounds": len(directions), "fragments": len(pieces), **(provenance or {})},
    )
    return artefact, own


MIN_RECORDED = 2 * FOLDS  # clients with (and without) a recorded beperking the projection needs at least


class NotesUnfit(ValueError):
    """The bestand or the training pairs cannot carry a notes column (the reason is Dutch, for the report)."""


@dataclass(frozen=True)
class NotesSource:
    """What a notes column is fitted on: every client's two texts, whether a beperking is recorded for them, and
    every fragment of those texts embedded (as a document, through the embedding cache, as serving reads them).

    The recorded beperking is read as one flag per client, only here, to find and remove what tells it (the
    detector and the projection); it is stored nowhere and reaches no feature.
    """

    model_id: str
    client_ids: np.ndarray  # ascending
    texts: list[tuple[str, str]]  # per client: (zelfbeschrijving, notities)
    recorded: np.ndarray  # per client: a recorded beperking
    pieces: list[str]
    vectors: np.ndarray

    @classmethod
    def of(cls, matcher: Matcher) -> NotesSource:
        """Read the bestand of ``matcher``'s database and embed the fragments not in the cache yet."""
        with Session(matcher.engine) as session:
            rows = sorted(session.exec(select(Client.id, Client.zelfbeschrijving, Client.notities, Client.beperkingen)))
        texts = [(own or "", notes or "") for _, own, notes, _ in rows]
        pieces = sorted({piece for written in texts for text in written for piece in fragments(text)})
        embedder = matcher.embedder
        vectors = (
            embed_cached(matcher.engine, embedder, pieces, "document")
            if pieces
            else np.zeros((0, embedder.dimension), np.float32)
        )
        return cls(
            model_id=embedder.model_id,
            client_ids=np.array([row[0] for row in rows], np.int64),
            texts=texts,
            recorded=np.array([bool(row[3]) for row in rows], bool),
            pieces=pieces,
            vectors=vectors,
        )

    def positions(self, client_ids: np.ndarray) -> np.ndarray:
        """Each id's row in :attr:`texts`; -1 for a client no longer in the bestand."""
        at = np.searchsorted(self.client_ids, client_ids)
        inside = at < len(self.client_ids)
        found = np.zeros(len(at), bool)
        found[inside] = self.client_ids[at[inside]] == np.asarray(client_ids)[inside]
        return np.where(found, at, -1)

    def fit(self, train: RankingData, alpha: float = ALPHA) -> NotesFit:
        """The column fitted on ``train`` (only its pairs' outcomes; the bestand's texts and flags for the detector
        and the projection) and ``train`` with the column appended, out of fold.

        Raises:
            NotesUnfit: Too few clients with or without a recorded beperking, or no fragment the detector can
                learn from, or training pairs of clients no longer in the bestand.
        """
        rows = self.positions(train.client_ids)
        if (rows < 0).any():
            raise NotesUnfit("trainingsparen van klanten die niet meer in het bestand staan")
        flagged = int(self.recorded.sum())
        if min(flagged, len(self.recorded) - flagged) < MIN_RECORDED:
            raise NotesUnfit(
                f"te weinig klanten met en zonder vastgelegde beperking (minstens {MIN_RECORDED} van elk) om "
                "gezondheid uit de notities te kunnen halen"
            )
        try:
            artefact, own = fit_notes_readiness(
                self.model_id, self.texts, self.recorded, self.pieces, self.vectors, (train, rows), alpha
            )
        except ValueError as error:  # e.g. a detector with examples of one kind only
            raise NotesUnfit(f"de notities-kolom is niet te fitten op dit bestand: {error}") from error
        vector_of = dict(zip(self.pieces, self.vectors, strict=True))
        everyone = artefact.scores(self.texts, lambda pieces: np.stack([vector_of[piece] for piece in pieces]))
        return NotesFit(artefact, self, everyone.astype(np.float32), with_column(train, own))


@dataclass(frozen=True)
class NotesFit:
    """A fitted column, its value for every client of its source, and the training pairs with it (out of fold)."""

    artefact: NotesReadiness
    source: NotesSource
    values: np.ndarray  # per client of source.client_ids, the artefact applied to their texts
    train: RankingData

    def extend(self, data: RankingData) -> RankingData:
        """``data`` with each pair's client's value appended (0, the ridge's centre, for a client not in the
        source), as a ranker bound to the same database reads it."""
        rows = self.source.positions(data.client_ids)
        return with_column(data, np.where(rows >= 0, self.values[np.maximum(rows, 0)], 0.0))


def with_column(data: RankingData, column: np.ndarray) -> RankingData:
    """``data`` with the notes column after its pair features."""
    features = np.hstack([data.features, np.asarray(column, np.float32)[:, None]])
    return replace(data, features=features, feature_names=(*data.feature_names, FEATURE))
