"""The notes column in training: read from the bestand, fitted on the training vacancies only, read by the models
``werkmatch evaluate`` fits, and by the counterfactual test with the swapped texts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import Session

from matching import notes_readiness
from matching.domain import Client
from matching.features import FEATURE_NAMES
from matching.matcher import Matcher
from matching.notes_readiness import NotesColumn
from matching.settings import RetrievalSettings, Settings
from tests.factories import copied_world
from training.counterfactual import counterfactual_rankings
from training.dataset import RankingData, build_dataset
from training.notes_fit import NotesSource, NotesUnfit
from training.rankers import compare


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, simulated_template: Path, embedder) -> tuple[Settings, Matcher]:
    return copied_world(simulated_template, tmp_path_factory.mktemp("notes-train") / "var", embedder)


@pytest.fixture(scope="module")
def source(world) -> NotesSource:
    return NotesSource.of(world[1])


@pytest.fixture(scope="module")
def data(world) -> RankingData:
    return build_dataset(world[1])


def test_the_source_holds_every_client_once_with_each_fragment_embedded(world, source: NotesSource) -> None:
    _, matcher = world
    assert np.array_equal(source.client_ids, np.sort(np.fromiter(matcher.sides["clients"].texts, np.int64)))
    assert len(source.texts) == len(source.recorded) == len(source.client_ids)
    assert 0 < source.recorded.sum() < len(source.recorded)  # both kinds, or nothing could be removed
    assert len(set(source.pieces)) == len(source.pieces)
    assert source.vectors.shape == (len(source.pieces), matcher.embedder.dimension)
    assert source.model_id == matcher.embedder.model_id
    assert np.array_equal(source.positions(source.client_ids[[2, 0]]), [2, 0])
    assert source.positions(np.array([10**9]))[0] == -1


def test_the_column_is_fitted_on_the_training_pairs_and_read_as_serving_reads_it(
    world, source: NotesSource, data: RankingData
) -> None:
    _, matcher = world
    train, test = data.time_split(0.2)
    fit = source.fit(train)
    assert fit.train.feature_names == (*FEATURE_NAMES, notes_readiness.FEATURE)
    assert np.array_equal(fit.train.features[:, :-1], train.features)
    extended = fit.extend(test)
    assert extended.features.shape == (len(test), len(FEATURE_NAMES) + 1)
    column = NotesColumn(fit.artefact)  # what a served ranker with this artefact reads for the same clients
    column.bind(matcher.engine, matcher.embedder.model_id, lambda pieces: source.vectors[_rows(source, pieces)])
    np.testing.assert_allclose(column.values(test.client_ids), extended.features[:, -1], rtol=1e-5, atol=1e-6)
    # the training rows read out-of-fold values, not the fitted ridge's own: they differ from the applied column
    applied = fit.extend(train).features[:, -1]
    assert not np.allclose(applied, fit.train.features[:, -1])


def _rows(source: NotesSource, pieces: list[str]) -> np.ndarray:
    where = {piece: row for row, piece in enumerate(source.pieces)}
    return np.array([where[piece] for piece in pieces], np.int64)


def test_a_bestand_without_recorded_beperkingen_cannot_carry_the_column(source: NotesSource, data) -> None:
    train, _ = data.time_split(0.2)
    with pytest.raises(NotesUnfit, match="vastgelegde beperking"):
        replace(source, recorded=np.zeros(len(source.recorded), bool)).fit(train)
    with pytest.raises(NotesUnfit, match="niet meer in het bestand"):
        replace(source, client_ids=source.client_ids + 10**6).fit(train)


@pytest.mark.slow
def test_evaluate_fits_its_models_with_the_column_and_says_when_it_cannot(source: NotesSource, data) -> None:
    seen: list[tuple[str, ...]] = []

    def outside(part: RankingData) -> np.ndarray:
        seen.append(part.feature_names)
        return part.features[:, 0]

    models = compare(data, RetrievalSettings(), notes=source, rankers={"buiten": outside})["models"]
    report = models["lgbm"]["notesColumn"]
    assert report["fitted"] and report["rounds"] == 8 and report["fragments"] == len(source.pieces)
    assert seen == [FEATURE_NAMES]  # a ranker from elsewhere gets the pairs as they are
    without = replace(source, recorded=np.zeros(len(source.recorded), bool))
    unfit = compare(data, RetrievalSettings(), notes=without)["models"]["lgbm"]["notesColumn"]
    assert unfit["fitted"] is False and "vastgelegde beperking" in unfit["reason"]
    assert compare(data, RetrievalSettings())["models"]["lgbm"]["notesColumn"] is None  # not asked


def test_the_counterfactual_hands_the_swapped_texts_to_the_ranker(world, data: RankingData) -> None:
    _, matcher = world
    _, test = data.time_split(0.2)
    asked: list[RankingData] = []

    def ranker(part: RankingData) -> np.ndarray:
        asked.append(part)
        return part.features[:, 0]

    result = counterfactual_rankings(matcher, test, ranker)
    original, swapped = asked
    assert original.texts is None and swapped.texts
    with Session(matcher.engine) as session:
        for cid, written in swapped.texts.items():  # only clients whose texts the swap changed
            client = session.get(Client, cid)
            assert written != (client.zelfbeschrijving or "", client.notities or "")
    assert result["swappedProfiles"] >= len(swapped.texts)
