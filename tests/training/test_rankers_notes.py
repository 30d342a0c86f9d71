"""Fitting the notes-readiness column: it reads what was written about effort, not about health.

A small synthetic bestand: motivated clients write (and are written about) in wordings along one
direction of the vector space, clients with a recorded beperking in wordings along another, some of
which no health stem catches ("Bukken gaat moeizaam"), and the outcomes punish both, as a
discriminating history would. The fitted column must find the motivation and must not separate the
clients with a beperking.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.metrics import roc_auc_score

from matching.features import FEATURE_NAMES
from matching.notes_readiness import NotesReadiness, client_matrix, fragments, health_stem, remove_directions
from training.dataset import RankingData
from training.notes_fit import FOLDS, client_folds, fit_notes_readiness, null_space_directions

DIMENSION = 24
NEUTRAL = [f"Zoekt werk in regio {i}" for i in range(12)]
MOTIVATED = [f"Pakt alles aan bij taak {i}" for i in range(6)]
HEALTH = [f"Bukken gaat moeizaam bij taak {i}" for i in range(4)] + ["Heeft last van zijn rug"]


def bestand(clients: int = 900, seed: int = 0):
    rng = np.random.default_rng(seed)
    axes = np.linalg.qr(rng.normal(size=(DIMENSION, 2)))[0].T  # motivation, health: orthogonal unit axes
    pieces = sorted(NEUTRAL + MOTIVATED + HEALTH)
    vectors = rng.normal(0, 0.3, (len(pieces), DIMENSION))
    for row, piece in enumerate(pieces):
        vectors[row] += 2.0 * axes[0] * (piece in MOTIVATED) + 2.0 * axes[1] * (piece in HEALTH)
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    motivated, recorded = rng.random(clients) < 0.4, rng.random(clients) < 0.3
    texts = []
    for client in range(clients):
        own = [rng.choice(NEUTRAL)] + ([rng.choice(MOTIVATED)] if motivated[client] else [])
        notes = [rng.choice(NEUTRAL)] + ([rng.choice(HEALTH)] if recorded[client] else [])
        texts.append((". ".join(own), ", ".join(notes)))
    pairs = 4 * clients
    rows = rng.integers(0, clients, pairs)
    merit = 1.2 * motivated[rows] - 1.0 * recorded[rows] + rng.normal(0, 0.5, pairs)
    labels = np.digitize(merit, [-0.5, 0.3, 0.9, 1.5]).astype(np.int64)
    order = np.argsort(np.arange(pairs) // 8, kind="stable")
    data = RankingData(
        features=rng.random((pairs, len(FEATURE_NAMES))).astype(np.float32),
        labels=labels[order],
        vacancy_ids=(np.arange(pairs) // 8).astype(np.int64),
        client_ids=rows[order].astype(np.int64),
        moments=np.arange(pairs, dtype=np.float64) // 8,
    )
    return pieces, vectors, texts, motivated, recorded, (data, rows[order])


@pytest.fixture(scope="module")
def fitted():
    """One bestand and its fitted column, shared: the fit (5 out-of-fold models, 8 projection rounds) is slow."""
    world = bestand()
    pieces, vectors, texts, _, recorded, fit = world
    return world, *fit_notes_readiness("model-a", texts, recorded, pieces, vectors, fit)


def _auc(scores: np.ndarray, flags: np.ndarray) -> float:
    return float(roc_auc_score(flags, scores))


def test_the_column_reads_effort_and_not_the_beperking(fitted):
    (pieces, vectors, texts, motivated, recorded, fit), artefact, own = fitted
    everyone = artefact.scores(texts, lambda asked: vectors[[pieces.index(p) for p in asked]])
    assert _auc(everyone, motivated) > 0.9
    assert abs(_auc(everyone, recorded) - 0.5) < 0.05
    data, rows = fit
    assert _auc(own, motivated[rows]) > 0.85 and abs(_auc(own, recorded[rows]) - 0.5) < 0.06
    # The check is not empty: the same ridge on the raw vectors, health text kept, does separate them.
    raw = client_matrix(texts, pieces, vectors, np.zeros(len(pieces), bool))
    leaky = Ridge(alpha=3.0).fit(raw[rows], data.labels - data.labels.mean()).predict(raw)
    assert _auc(leaky, recorded) < 0.3


def test_every_health_wording_of_the_bestand_is_dropped_stems_and_learned(fitted):
    (pieces, vectors, _, _, _, _), artefact, _ = fitted
    dropped = dict(zip(pieces, artefact.dropped(pieces, vectors), strict=True))
    assert all(dropped[piece] for piece in HEALTH)
    assert not any(dropped[piece] for piece in NEUTRAL + MOTIVATED)
    assert health_stem("Heeft last van zijn rug") and not health_stem(HEALTH[0])  # the detector found that one


def test_projection_leaves_no_linear_trace_of_the_target():
    rng = np.random.default_rng(1)
    target = rng.random(3000) < 0.3
    matrix = rng.normal(size=(3000, 2 * DIMENSION)).astype(np.float32)
    matrix[:, :3] += 1.5 * target[:, None]
    fit, held = slice(0, 1500), slice(1500, None)  # directions and probes fitted on one half, judged on the other
    directions = null_space_directions(matrix[fit], target[fit])
    projected = remove_directions(matrix, directions)
    before = Ridge(alpha=1.0).fit(matrix[fit], target[fit]).predict(matrix[held])
    after = Ridge(alpha=1.0).fit(projected[fit], target[fit]).predict(projected[held])
    assert _auc(before, target[held]) > 0.95 and abs(_auc(after, target[held]) - 0.5) < 0.06
    assert np.allclose(np.linalg.norm(directions, axis=1), 1.0, atol=1e-5)


def test_training_rows_get_out_of_fold_values_and_survive_a_save(fitted, tmp_path):
    (pieces, vectors, texts, _, _, (_, rows)), artefact, own = fitted
    assert len(own) == len(rows) and set(client_folds(len(texts))[rows]) == set(range(FOLDS))
    embed = lambda asked: vectors[[pieces.index(p) for p in asked]]  # noqa: E731
    everyone = artefact.scores(texts, embed)
    # Out of fold: close to, but not, the full fit's value for the same client.
    assert 0.9 < np.corrcoef(own, everyone[rows])[0, 1] < 1.0
    artefact.save(tmp_path)
    assert np.array_equal(NotesReadiness.load(tmp_path, "model-a").scores(texts, embed), everyone)
    assert artefact.provenance["fragments"] == len(pieces) == len({p for t in texts for s in t for p in fragments(s)})
