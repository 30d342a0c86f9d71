"""Train → MLflow → promote → serve, on a real SQLite tracking store and a small simulated history."""

from __future__ import annotations

import shutil
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.app import create_app
from matching.domain import Vacancy
from matching.errors import InvalidInputError
from matching.features import FEATURE_NAMES
from matching.matcher import Matcher
from matching.ranker import SPEC_FILE, load_ranker
from matching.settings import RankerSettings, Settings
from training import registry
from training.outcome_sim import SimulationSettings, simulate, write_history
from training.promotion import PromotionRefused, promote
from training.synthetic import generate, write_to_db
from training.train import train


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, embedder) -> tuple[Settings, Matcher]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("registry") / "var", ranker=RankerSettings(poll_seconds=0))
    matcher = Matcher(settings, embedder=embedder)
    write_to_db(matcher.engine, generate(500, 200, seed=11), progress=False)
    write_history(matcher.engine, simulate(matcher.engine, SimulationSettings(years=2), seed=11))
    matcher.sync()
    return settings, matcher


@pytest.fixture(scope="module")
def first(world) -> dict:
    settings, matcher = world
    return train(settings, matcher, user="ds-test")


def test_a_fresh_install_has_no_store_and_serves_the_shipped_baseline(tmp_path: Path, embedder) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    assert registry.versions(settings) == [] and registry.load_champion(settings) is None
    assert not (tmp_path / "var" / "mlflow.db").exists()  # looking does not create a store
    matcher = Matcher(settings, embedder=embedder)
    assert registry.serve_champion(settings, matcher)["name"] == "baseline"


def test_training_logs_a_complete_run_and_registers_a_challenger(world, first) -> None:
    settings, _ = world
    assert first["version"] == "1" and first["alias"] == "challenger"
    assert first["trainPairs"] > 0 and first["holdout"]["vacancies"] >= 20
    run = mlflow.MlflowClient(settings.tracking_uri).get_run(first["runId"])
    assert run.data.tags["git_sha"] and run.data.tags["data_hash"] == first["dataHash"]
    assert run.data.tags["trained_by"] == "ds-test"
    assert run.data.params["features"] == str(len(FEATURE_NAMES))
    assert 0 < run.data.metrics["holdout_ndcg_at_10"] <= 1
    assert "holdout_weighted_ndcg_at_10" in run.data.metrics
    [version] = registry.versions(settings)
    assert version.aliases == ("challenger",) and version.tags["holdout_from"] == first["holdout"]["from"]


def test_the_registered_model_loads_as_pyfunc_and_as_a_serving_ranker_alike(world, first) -> None:
    settings, matcher = world
    info = registry.by_alias(settings, "challenger")
    ranker = registry.load_version(settings, info)
    assert ranker.describe()["version"] == "1" and ranker.spec["holdoutFrom"] == first["holdout"]["from"]
    features = np.random.default_rng(0).random((7, len(FEATURE_NAMES))).astype(np.float32)
    mlflow.set_tracking_uri(settings.tracking_uri)
    pyfunc = mlflow.pyfunc.load_model(f"models:/{settings.ranker.registered_model}@challenger")
    assert pyfunc.metadata.signature is not None
    predicted = pyfunc.predict(pd.DataFrame(features, columns=list(FEATURE_NAMES)))
    np.testing.assert_allclose(np.asarray(predicted), ranker.score(features), rtol=1e-6)


def test_force_without_a_reason_is_refused(world, first) -> None:
    settings, matcher = world
    with pytest.raises(InvalidInputError, match="--reason"):
        promote(settings, matcher, force=True)


def test_promotion_records_who_and_why_and_serving_follows(world, first) -> None:
    settings, matcher = world
    try:
        result = promote(settings, matcher, user="ds-test")
    except PromotionRefused as refused:  # no better than the shipped baseline on this small world
        assert not refused.result["passed"]
        result = promote(settings, matcher, force=True, reason="eerste eigen model", user="ds-test")
        assert result["promoted"]["promotion_forced"] == "true"
    assert result["challenger"]["vacancies"] == result["champion"]["vacancies"] > 0
    [version] = registry.versions(settings)
    assert version.aliases == ("champion",)
    assert version.tags["promoted_by"] == "ds-test" and version.tags["previous_champion"] == "baseline"
    status = registry.serve_champion(settings, matcher)
    assert (status["name"], status["version"]) == (settings.ranker.registered_model, "1")
    with Session(matcher.engine) as session:
        vacancy = session.exec(select(Vacancy).where(Vacancy.status == "open")).first()
    listed = matcher.candidates(vacancy.vacature_nummer, top=10)
    assert listed["rankedBy"]["version"] == "1"
    scores = [row["score"] for row in listed["results"]]
    assert scores == sorted(scores, reverse=True)


def test_an_equal_challenger_is_refused_and_changes_nothing(world, first) -> None:
    settings, matcher = world
    if registry.by_alias(settings, "champion") is None:
        promote(settings, matcher, force=True, reason="opzet van deze test", user="ds-test")
    again = train(settings, matcher, user="ds-test")  # same data, same seed: the same model
    with pytest.raises(PromotionRefused, match="wordt geen champion") as refused:
        promote(settings, matcher, user="ds-test")
    assert refused.value.result["ndcg@10Gain"]["gain"] == pytest.approx(0, abs=1e-9)
    aliases = {v.version: v.aliases for v in registry.versions(settings)}
    assert aliases[again["version"]] == ("challenger",) and aliases["1"] == ("champion",)


def test_a_broken_registry_keeps_the_last_good_ranker_and_says_so(world, first, tmp_path: Path) -> None:
    settings, matcher = world
    if registry.by_alias(settings, "champion") is None:
        promote(settings, matcher, force=True, reason="opzet van deze test", user="ds-test")
    registry.serve_champion(settings, matcher)
    serving = matcher.ranker.describe()
    away = [shutil.move(settings.data_dir / name, tmp_path / name) for name in ("models", "mlartifacts")]
    try:
        status = registry.serve_champion(settings, matcher)  # the alias is there, its files are not
    finally:
        for name, moved in zip(("models", "mlartifacts"), away, strict=True):
            shutil.move(moved, settings.data_dir / name)
    assert {k: status[k] for k in ("name", "version")} == {k: serving[k] for k in ("name", "version")}
    assert "kon niet worden geladen" in status["error"]
    with TestClient(create_app(settings, matcher)) as http:
        health = http.get("/api/v1/health").json()
        assert health["index"]["ranker"]["version"] == serving["version"]
        reloaded = http.post("/api/v1/modellen/herladen")
        assert reloaded.status_code == 200 and "error" not in reloaded.json()


def test_export_writes_a_ranker_directory_that_loads(world, first, tmp_path: Path) -> None:
    settings, _ = world
    target = registry.export(settings, "1", tmp_path / "export", trainedOn="test", version="v1-test")
    ranker = load_ranker(target, "baseline")
    assert ranker.version == "v1-test" and ranker.spec["trainedOn"] == "test"
    assert (target / SPEC_FILE).is_file()
