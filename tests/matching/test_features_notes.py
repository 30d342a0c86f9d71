"""The notes-readiness artefact: fragments, health out, projection, and storage that refuses another model."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from matching.errors import ModelError
from matching.notes_readiness import (
    ARRAYS_FILE,
    CONFIG_FILE,
    NotesReadiness,
    client_matrix,
    fragments,
    health_stem,
    remove_directions,
)

DIMENSION = 8


def artefact(seed: int = 0, model_id: str = "model-a") -> NotesReadiness:
    rng = np.random.default_rng(seed)
    directions = rng.normal(size=(3, 2 * DIMENSION))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    return NotesReadiness(
        model_id=model_id,
        detector_coef=rng.normal(size=DIMENSION),
        detector_intercept=-1.0,
        directions=directions.astype(np.float32),
        ridge_coef=rng.normal(size=2 * DIMENSION),
        ridge_intercept=0.25,
    )


def embedder(seed: int = 1):
    """Fragments to fixed pseudo-random unit vectors (the same text, the same vector)."""

    def embed(pieces: list[str]) -> np.ndarray:
        rows = [np.random.default_rng([seed, zlib.crc32(piece.encode())]).normal(size=DIMENSION) for piece in pieces]
        matrix = np.array(rows, np.float32).reshape(-1, DIMENSION)
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)

    return embed


TEXTS = [
    ("Ik werk graag met mijn handen. Kom altijd op tijd", "Komt afspraken na, gemotiveerd"),
    ("Ik zoek werk in de zorg", ""),
    ("", ""),
    ("Ik wil graag aan de slag", "Lastig bereikbaar / belt zelden terug"),
]


def test_fragments_split_sentences_and_shorthand_and_fold_feminine_forms():
    assert fragments("Ik werkte als kassière. Wil graag werken, heeft rijbewijs / komt afspraken na; klaar") == [
        "Ik werkte als kassier",
        "Wil graag werken",
        "heeft rijbewijs",
        "komt afspraken na",
        "klaar",
    ]
    assert fragments(None) == [] and fragments(" . ") == []


def test_health_stems_match_at_a_word_start_only():
    assert health_stem("Heeft last van zijn rug") and health_stem("Burn-out gehad") and health_stem("Ziekmelding")
    assert not health_stem("Ontvangst van gasten") and not health_stem("Werkt graag buiten")


def test_removed_directions_leave_nothing_along_them():
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(50, 2 * DIMENSION)).astype(np.float32)
    directions = artefact().directions
    projected = remove_directions(matrix, directions)
    # Removed in order: the last direction is gone entirely; with orthonormal directions all are.
    assert np.allclose(projected @ directions[-1], 0.0, atol=1e-5)
    basis, _ = np.linalg.qr(rng.normal(size=(2 * DIMENSION, 3)))
    orthonormal = remove_directions(matrix, basis.T)
    assert np.allclose(orthonormal @ basis, 0.0, atol=1e-5)
    assert np.allclose(orthonormal, matrix - matrix @ basis @ basis.T, atol=1e-5)


def test_client_matrix_is_unit_per_side_and_zero_without_kept_text():
    pieces = sorted({piece for written in TEXTS for text in written for piece in fragments(text)})
    vectors = embedder()(pieces)
    matrix = client_matrix(TEXTS, pieces, vectors, np.zeros(len(pieces), bool))
    norms = np.linalg.norm(matrix.reshape(len(TEXTS), 2, DIMENSION), axis=2)
    assert np.allclose(norms, [[1, 1], [1, 0], [0, 0], [1, 1]], atol=1e-5)
    everything_dropped = client_matrix(TEXTS, pieces, vectors, np.ones(len(pieces), bool))
    assert not everything_dropped.any()


def test_a_health_fragment_never_moves_the_column():
    model, embed = artefact(), embedder()
    with_health = [(own + ". Heeft last van zijn rug", notes + ", psychische klachten") for own, notes in TEXTS]
    assert np.allclose(model.scores(with_health, embed), model.scores(TEXTS, embed))


def test_the_detector_drops_what_it_flags():
    model = artefact()
    pieces = ["een", "twee", "Last van rug"]
    vectors = embedder()(pieces)
    logits = vectors @ model.detector_coef + model.detector_intercept
    flagged = 1 / (1 + np.exp(-logits)) >= model.threshold
    assert (model.dropped(pieces, vectors) == (flagged | [False, False, True])).all()


def test_saved_and_loaded_scores_identically(tmp_path):
    model, embed = artefact(), embedder()
    model.save(tmp_path / "notes")
    loaded = NotesReadiness.load(tmp_path / "notes", "model-a")
    assert np.array_equal(loaded.scores(TEXTS, embed), model.scores(TEXTS, embed))
    assert sorted(p.name for p in (tmp_path / "notes").iterdir()) == sorted([ARRAYS_FILE, CONFIG_FILE])


def test_another_embedding_model_is_refused_by_name(tmp_path):
    artefact().save(tmp_path)
    with pytest.raises(ModelError, match="embeddingmodel 'model-a'.*'model-b'"):
        NotesReadiness.load(tmp_path, "model-b")


def test_a_missing_or_damaged_artefact_is_refused_in_dutch(tmp_path):
    with pytest.raises(ModelError, match="niet leesbaar"):
        NotesReadiness.load(tmp_path, "model-a")
    artefact().save(tmp_path)
    (tmp_path / ARRAYS_FILE).write_bytes(b"geen npz")
    with pytest.raises(ModelError, match="niet leesbaar"):
        NotesReadiness.load(tmp_path, "model-a")


def test_vectors_of_another_width_are_refused():
    with pytest.raises(ModelError, match="8 getallen"):
        artefact().scores(TEXTS, lambda pieces: np.zeros((len(pieces), 4), np.float32))
