"""Train → MLflow → promote → serve, on a real SQLite tracking store and a small simulated history."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from api.lifespan import watch_champion
from matching import notes_readiness
from matching.domain import Vacancy
from matching.errors import InvalidInputError
from matching.exposure_amortised import SERVED, SPEC_KEY, setting_of
from matching.features import FEATURE_NAMES
from matching.matcher import Matcher
from matching.ranker import SPEC_FILE, load_ranker
from matching.settings import RankerSettings, Settings
from tests.factories import copied_world, plausible_pairs
from tests.oracles import BEHAVIOURS, more_notes_readiness_never_lowers, pair_scorer
from training import registry
from training.dataset import build_dataset
from training.outcome_sim import SimulationSettings, counterfactual_labels
from training.pool_eval import pool_holdout
from training.promotion import PromotionRefused, promote
from training.train import train

# the small world's model breaches the fairness tripwire (trede 0-2): promoting it needs this on record
# a version in GET /api/v1/modellen (ModelVersie), camelCase
API_VERSION_KEYS = ("versie", "aliassen", "trainingsrun", "aangemaakt", "toetsperiodeVanaf", "dataHash", "gitSha")
API_VERSION_KEYS += ("promotie", "tags")
JUSTIFIED = "Testopzet: een klein synthetisch model, nooit in gebruik; overschrijdingen zijn bekend."


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, simulated_template: Path, embedder) -> tuple[Settings, Matcher]:
    return copied_world(simulated_template, tmp_path_factory.mktemp("registry") / "var", embedder)


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


@pytest.mark.slow
def test_training_logs_a_complete_run_and_registers_a_challenger(world, first) -> None:
    settings, _ = world
    assert first["version"] == "1" and first["alias"] == "challenger"
    assert first["trainPairs"] > 0 and first["holdout"]["vacancies"] >= 20
    run = mlflow.MlflowClient(settings.tracking_uri).get_run(first["runId"])
    assert run.data.tags["git_sha"] and run.data.tags["data_hash"] == first["dataHash"]
    assert run.data.tags["trained_by"] == "ds-test"
    assert first["notesColumn"]["fitted"] and first["features"] == [*FEATURE_NAMES, notes_readiness.FEATURE]
    assert run.data.params["features"] == str(len(FEATURE_NAMES) + 1) and run.data.params["notes_column"] == "True"
    assert 0 < run.data.metrics["holdout_ndcg_at_10"] <= 1
    assert "holdout_weighted_ndcg_at_10" in run.data.metrics
    [version] = registry.versions(settings)
    assert version.aliases == ("challenger",) and version.tags["holdout_from"] == first["holdout"]["from"]


@pytest.mark.slow
def test_the_registered_model_loads_as_pyfunc_and_as_a_serving_ranker_alike(world, first) -> None:
    settings, matcher = world
    info = registry.by_alias(settings, "challenger")
    ranker = registry.load_version(settings, info)
    assert ranker.describe()["version"] == "1" and ranker.spec["holdoutFrom"] == first["holdout"]["from"]
    assert ranker.feature_names == (*FEATURE_NAMES, notes_readiness.FEATURE)  # the column's artefact came along
    rows = np.random.default_rng(0).random((7, len(ranker.feature_names))).astype(np.float32)
    mlflow.set_tracking_uri(settings.tracking_uri)
    pyfunc = mlflow.pyfunc.load_model(f"models:/{settings.ranker.registered_model}@challenger")
    assert pyfunc.metadata.signature is not None
    predicted = pyfunc.predict(pd.DataFrame(rows, columns=list(ranker.feature_names)))
    np.testing.assert_allclose(np.asarray(predicted), ranker.score_inputs(rows), rtol=1e-6)
    ranker.bind(matcher.engine, matcher.embedder)  # as serving binds it: the column read from the clients' texts
    clients = np.array(sorted(matcher.sides["clients"].texts)[:7], np.int64)
    read = ranker.notes.values(clients)
    np.testing.assert_allclose(
        ranker.score(rows[:, :-1], clients), ranker.score_inputs(np.hstack([rows[:, :-1], read[:, None]]))
    )


@pytest.mark.slow
def test_training_stores_the_platt_parameters_with_the_model(world, first) -> None:
    settings, _ = world
    [info] = [v for v in registry.versions(settings) if v.version == first["version"]]
    ranker = registry.load_version(settings, info)
    setting = setting_of(ranker.spec)  # what serving reads: the amortised floor replaces the merit floor
    assert setting is not None and setting == {**SERVED, **first["amortisedFloor"]}
    assert setting["platt"]["a"] > 0 and setting["platt"]["rows"] > 0  # a higher score is a likelier good outcome
    run = mlflow.MlflowClient(settings.tracking_uri).get_run(first["runId"])
    assert float(run.data.params["floor_platt_a"]) == setting["platt"]["a"]
    assert run.data.params["floor_groups"] == "trede+geschiedenis+route"


@pytest.mark.slow
@pytest.mark.parametrize("behaviour", BEHAVIOURS, ids=lambda check: check.__name__)
def test_a_freshly_trained_ranker_behaves(world, first, behaviour) -> None:
    settings, _ = world
    behaviour(pair_scorer(registry.load_version(settings, registry.versions(settings)[-1])), plausible_pairs())


@pytest.mark.slow
def test_a_freshly_trained_ranker_never_ranks_lower_for_more_notes_readiness(world, first) -> None:
    settings, _ = world
    more_notes_readiness_never_lowers(
        registry.load_version(settings, registry.versions(settings)[-1]), plausible_pairs()
    )


@pytest.mark.slow
def test_force_without_a_reason_is_refused(world, first) -> None:
    settings, matcher = world
    with pytest.raises(InvalidInputError, match="--reason"):
        promote(settings, matcher, force=True)


@pytest.mark.slow
def test_promotion_records_who_and_why_and_serving_follows(world, first) -> None:
    settings, matcher = world
    try:
        result = promote(settings, matcher, user="ds-test")
    except PromotionRefused as refused:  # no better than the baseline, or a fairness breach, on this small world
        assert not refused.result["passed"]
        result = promote(
            settings, matcher, force=True, reason="eerste eigen model", user="ds-test", justification=JUSTIFIED
        )
        performance = next(gate for gate in result["gates"] if gate["name"] == "ndcg@10-marge")
        assert result["promoted"]["promotion_forced"] == str(not performance["passed"]).lower()
    assert result["challenger"]["vacancies"] == result["champion"]["vacancies"] > 0
    [version] = registry.versions(settings)
    assert version.aliases == ("champion",)
    assert version.tags["promoted_by"] == "ds-test" and version.tags["previous_champion"] == "baseline"
    status = registry.serve_champion(settings, matcher)
    assert (status["name"], status["version"]) == (settings.ranker.registered_model, "1")
    with Session(matcher.engine) as session:
        vacancy = session.exec(select(Vacancy).where(Vacancy.status == "open")).first()
    listed = matcher.search_candidates(vacancy.vacature_nummer, top=10).to_json()
    assert listed["gerangschiktDoor"]["versie"] == "1"
    scores = [row["rangschikkingsscore"] for row in listed["resultaten"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.slow
def test_models_list_speaks_the_apis_words(world, first, monkeypatch: pytest.MonkeyPatch) -> None:
    """``werkmatch models list --json`` is ``GET /api/v1/modellen``'s ``versies``; the plain list reads them too."""
    settings, _matcher = world
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(settings.data_dir))
    listed = CliRunner().invoke(cli, ["models", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    [version] = json.loads(listed.stdout)
    assert set(version) == set(API_VERSION_KEYS)
    assert version["versie"] == "1" and version["toetsperiodeVanaf"] == version["tags"]["holdout_from"]
    plain = CliRunner().invoke(cli, ["models", "list"])
    assert plain.exit_code == 0 and f"toets vanaf {version['toetsperiodeVanaf']}" in plain.output


@pytest.mark.slow
def test_an_equal_challenger_is_refused_and_changes_nothing(world, first) -> None:
    settings, matcher = world
    if registry.by_alias(settings, "champion") is None:
        promote(settings, matcher, force=True, reason="opzet van deze test", user="ds-test", justification=JUSTIFIED)
    again = train(settings, matcher, user="ds-test")  # same data, same seed: the same model
    with pytest.raises(PromotionRefused, match="wordt geen champion") as refused:
        promote(settings, matcher, user="ds-test")
    assert refused.value.result["ndcg@10Gain"]["gain"] == pytest.approx(0, abs=1e-9)
    aliases = {v.version: v.aliases for v in registry.versions(settings)}
    assert aliases[again["version"]] == ("challenger",) and aliases["1"] == ("champion",)


@pytest.mark.slow
def test_a_broken_registry_keeps_the_last_good_ranker_and_says_so(world, first, tmp_path: Path) -> None:
    settings, matcher = world
    if registry.by_alias(settings, "champion") is None:
        promote(settings, matcher, force=True, reason="opzet van deze test", user="ds-test", justification=JUSTIFIED)
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
        assert health["index"]["rangschikker"]["versie"] == serving["version"]
        login = {"username": "datascientist", "password": "datascientist-demo-wachtwoord"}
        token = http.post("/api/v1/token", data=login).json()["access_token"]
        reloaded = http.post("/api/v1/modellen/herladen", headers={"Authorization": f"Bearer {token}"})
        assert reloaded.status_code == 200 and "fout" not in reloaded.json() and reloaded.json()["versie"]


@pytest.mark.slow
def test_export_writes_a_ranker_directory_that_loads(world, first, tmp_path: Path) -> None:
    settings, _ = world
    target = registry.export(settings, "1", tmp_path / "export", trainedOn="test", version="v1-test")
    ranker = load_ranker(target, "baseline")
    assert ranker.version == "v1-test" and ranker.spec["trainedOn"] == "test"
    assert (target / SPEC_FILE).is_file() and ranker.spec[SPEC_KEY] == first[SPEC_KEY]  # the amortised floor kept
    merit = load_ranker(registry.export(settings, "1", tmp_path / "merit", merit_floor=True, version="v1"), "baseline")
    assert SPEC_KEY not in merit.spec and setting_of(merit.spec) is None  # served with the merit floor, as the baseline
    assert merit.spec["features"] == ranker.spec["features"]


@pytest.mark.slow
def test_a_running_service_follows_the_champion_alias(world, first) -> None:
    settings, matcher = world
    if registry.by_alias(settings, "champion") is None:
        promote(settings, matcher, force=True, reason="opzet van deze test", user="ds-test", justification=JUSTIFIED)
    champion = registry.by_alias(settings, "champion").version
    matcher.use_ranker(None)  # serving the shipped baseline, as before a promotion
    fast = settings.model_copy(update={"ranker": settings.ranker.model_copy(update={"poll_seconds": 0.05})})
    stop = threading.Event()
    watcher = threading.Thread(target=watch_champion, args=(fast, matcher, stop), daemon=True)
    watcher.start()
    try:
        for _ in range(600):  # wait for the watcher's next check, without asserting on time
            if matcher.ranker.version == champion:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        watcher.join()
    assert matcher.ranker_status()["version"] == champion


def test_counterfactual_outcomes_follow_suitability_and_never_reward_the_ineligible() -> None:
    rng = np.random.default_rng(0)
    n = 20_000
    true_s = rng.normal(0, 1, n)
    truly = rng.random(n) < 0.8
    labels = counterfactual_labels(true_s, truly, np.zeros(n), rng, SimulationSettings())
    assert set(np.unique(labels).tolist()) <= {0, 2, 4}
    assert (labels[~truly] == 0).mean() > 0.9  # hardly ever invited when not truly eligible
    high, low = truly & (true_s > 1), truly & (true_s < -1)
    assert (labels[high] == 4).mean() > 2 * (labels[low] == 4).mean()
    biased = counterfactual_labels(true_s, truly, np.full(n, -0.6), np.random.default_rng(0), SimulationSettings())
    assert (biased > 0).mean() < (labels > 0).mean()  # the simulated discrimination lowers chances


@pytest.mark.slow
def test_the_pool_holdout_is_what_a_search_ranks_with_outcomes_for_everyone(world) -> None:
    settings, matcher = world
    data = build_dataset(matcher)
    _, test = data.time_split(0.2)
    moments = dict(zip(test.vacancy_ids.tolist(), test.moments.tolist(), strict=True))
    vacancies = np.unique(test.vacancy_ids)[:5]
    pool, truth = pool_holdout(matcher, vacancies, moments)
    assert set(np.unique(pool.vacancy_ids).tolist()) <= set(vacancies.tolist())
    first = int(pool.vacancy_ids[0])
    ids, features = matcher.pool_features(first)
    rows = pool.vacancy_ids == first
    np.testing.assert_array_equal(pool.client_ids[rows], ids)
    assert features.shape == (len(ids), len(FEATURE_NAMES)) and len(truth) == len(pool)
    assert rows.sum() > 20  # whole candidate lists, not the handful of proposals made
    assert set(np.unique(pool.labels).tolist()) <= {0, 2, 4} and pool.bron is not None and pool.trede is not None


@pytest.mark.slow
def test_evaluate_reports_every_model_on_proposals_and_on_whole_pools(world, first, monkeypatch) -> None:
    settings, _ = world
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(settings.data_dir))
    result = CliRunner().invoke(cli, ["evaluate", "--json", "--pool-vacancies", "15"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    expected = {"champion", "challenger", "baseline:dense", "baseline:bm25", "baseline:weighted", "oracle"}
    for section in (report, report["pool"]):
        assert expected <= set(section["models"])
        for name in expected:
            metrics = section["models"][name]
            assert {"ndcg@10", "ndcg@10CI", "recall@20", "mrr", "oracleFraction", "slices"} <= set(metrics)
        assert section["models"]["oracle"]["oracleFraction"] == 1.0
        assert "ratioCI" in section["models"]["champion"]["vsBestBaseline"]
    assert report["models"]["champion"]["rankedBy"]["name"] in {"baseline", settings.ranker.registered_model}
    assert report["pool"]["holdout"]["vacancies"] == 15
    assert report["models"]["lgbm"]["notesColumn"]["fitted"]  # the fresh models read the notes column, as trained
    assert {"bron:WSP", "trede:2"} <= set(report["models"]["champion"]["slices"])
    for ordering in ("relevanceOnly", "exposureAware"):
        assert {"gini", "ndcg@10", "lowTredeShareTop10"} <= set(report["exposure"][ordering])
    audit = report["fairness"]["champion"]
    assert {"geslacht", "leeftijd", "migratieachtergrond", "trede", "beperking", "route", "geschiedenis"} == set(
        audit["attributes"]
    )
    assert "equalizedOddsDifference" in audit["attributes"]["trede"]
    served = report["fairness"]["served"]  # the lists as served, against merit, with the NDCG@10 cost
    assert set(served["attributes"]) == set(audit["attributes"]) and served["vacancies"] == 15
    assert {"exposureVsMerit", "exposureVsMeritCI"} <= set(served["attributes"]["trede"]["groups"]["2"])
    assert "ndcg@10Cost" in served
    if report["models"]["champion"]["rankedBy"]["name"] == settings.ranker.registered_model:
        # a champion trained here carries Platt parameters: its lists are served with the amortised floor
        assert served["method"]["groupedBy"] == "trede+geschiedenis+route" and served["method"]["floor"] is None
        assert served["method"]["amortisedFloor"]["platt"]["a"] > 0
    else:  # the shipped baseline keeps the merit floor
        assert served["method"]["floor"] == settings.ranker.exposure_floor


def test_a_damaged_tracking_store_never_stops_the_service(tmp_path: Path, embedder) -> None:
    settings = Settings(data_dir=tmp_path / "var", ranker=RankerSettings(poll_seconds=0))
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / "mlflow.db").write_bytes(b"dit is geen sqlite-database" * 100)
    matcher = Matcher(settings, embedder=embedder)
    status = registry.serve_champion(settings, matcher)
    assert status["name"] == "baseline" and "kon niet worden geladen" in status["error"]
    with TestClient(create_app(settings, matcher)) as http:
        assert http.get("/api/v1/health").json()["index"]["rangschikker"]["naam"] == "baseline"
