"""The streamed ranking data (chunked features through shards on disk) equals the whole-array build.

The oracle is the build as it was before streaming (``_in_memory``: every pair's vectors, BM25
scores and features computed in one go), kept here verbatim in its logic.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import func
from sqlmodel import Session, select
from typer.testing import CliRunner

from matching import outcomes
from matching.domain import Vacancy, utcnow
from matching.features import pair_matrix
from matching.matcher import Matcher
from matching.outcomes import Voorstel, relevance_labels
from matching.store import init_db, make_engine
from training import outcome_sim, ranking_store
from training import train as train_module
from training.dataset import CENSORED_DAYS, PLACED_LABEL, RankingData, build_dataset
from training.outcome_sim import SimulationSettings, simulate, write_history
from training.rankers import GRID_SIZE, fit_lgbm, tune_lgbm
from training.synthetic import generate, write_to_db
from training.train import HOLDOUT_SHARE, data_hash
from training.train import train as train_model

pytestmark = pytest.mark.slow  # a simulated world of two years of voorstellen: ≈ 17 s


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, embedder):
    from matching.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("streaming") / "var")
    matcher = Matcher(settings, embedder=embedder)
    write_to_db(matcher.engine, generate(250, 40, seed=7), progress=False)
    write_history(matcher.engine, simulate(matcher.engine, SimulationSettings(years=2), seed=7))
    matcher.sync()
    return matcher, utcnow()


def _in_memory(matcher: Matcher, now) -> RankingData:
    """The pre-streaming build_dataset: Python rows sorted, then all features at once."""
    matcher.index.catch_up()
    clients, vacancies = matcher.index.arrays()
    with Session(matcher.engine) as session:
        labelled = [row for row in relevance_labels(session, None) if row.label != 1]
        first_seen = dict(
            session.exec(select(Voorstel.vacancy_id, func.min(Voorstel.created_at)).group_by(Voorstel.vacancy_id)).all()
        )
        source_of = dict(session.exec(select(Vacancy.id, Vacancy.bron)).all())
    labelled = [row for row in labelled if row.client_id in clients.position and row.vacancy_id in vacancies.position]
    moment = {key: value.timestamp() for key, value in first_seen.items()}
    for row in labelled:
        moment[row.vacancy_id] = min(moment.get(row.vacancy_id, float("inf")), row.decided_at.timestamp())
    labelled.sort(key=lambda row: (moment[row.vacancy_id], row.vacancy_id, row.client_id))
    client_ids = np.array([row.client_id for row in labelled], np.int64)
    vacancy_ids = np.array([row.vacancy_id for row in labelled], np.int64)
    client_side, vacancy_side = matcher.sides["clients"], matcher.sides["vacancies"]
    dense = np.einsum(
        "ij,ij->i", client_side.vectors.vectors(client_ids), vacancy_side.vectors.vectors(vacancy_ids)
    ).astype(np.float32)
    lexical = np.zeros(len(labelled), np.float32)
    for vacancy_id in np.unique(vacancy_ids):
        ids, scores = client_side.lexical.scores(vacancy_side.lexical_texts[int(vacancy_id)])
        best = float(scores.max()) if len(scores) else 0.0
        if best > 0:
            by_id = dict(zip(ids.tolist(), (scores / best).tolist(), strict=True))
            rows = np.flatnonzero(vacancy_ids == vacancy_id)
            lexical[rows] = [by_id.get(int(client_ids[row]), 0.0) for row in rows]
    c_rows = np.array([clients.position[int(i)] for i in client_ids], np.int64)
    v_rows = np.array([vacancies.position[int(i)] for i in vacancy_ids], np.int64)
    labels = np.array([row.label for row in labelled], np.int64)
    censored_after = now - timedelta(days=CENSORED_DAYS)
    return RankingData(
        features=pair_matrix(clients, c_rows, vacancies, v_rows, dense, lexical, now),
        labels=labels,
        vacancy_ids=vacancy_ids,
        client_ids=client_ids,
        moments=np.array([moment[int(v)] for v in vacancy_ids], np.float64),
        bron=np.array([source_of[int(v)] for v in vacancy_ids], dtype=str),
        trede=clients.trede[c_rows].astype(np.int64),
        censored=(labels == PLACED_LABEL) & np.array([row.decided_at > censored_after for row in labelled], bool),
    )


ARRAYS = ("features", "labels", "vacancy_ids", "client_ids", "moments", "bron", "trede", "censored")


def _assert_identical(got: RankingData, expected: RankingData) -> None:
    for name in ARRAYS:
        left, right = getattr(got, name), getattr(expected, name)
        assert left.dtype == right.dtype and left.shape == right.shape, name
        assert np.array_equal(left, right), name


def test_streamed_equals_the_whole_array_build_and_trains_the_same_model(world) -> None:
    matcher, now = world
    expected = _in_memory(matcher, now)
    streamed = build_dataset(matcher, now=now, chunk_vacancies=3)
    assert len(expected) > 100 and len(np.unique(expected.vacancy_ids)) > 3 * 3  # several chunks
    assert expected.censored.any() and (expected.features[:, 1] > 0).any()  # censoring and BM25 both exercised
    _assert_identical(streamed, expected)
    params = {"n_estimators": 30, "num_leaves": 7}
    left, right = fit_lgbm(streamed, 3, params), fit_lgbm(expected, 3, params)
    assert left.booster_.model_to_string() == right.booster_.model_to_string()


@pytest.mark.parametrize("chunk_vacancies", [1, 7, 100_000])
def test_the_chunk_size_does_not_change_the_result(world, chunk_vacancies: int) -> None:
    matcher, now = world
    _assert_identical(build_dataset(matcher, now=now, chunk_vacancies=chunk_vacancies), build_dataset(matcher, now=now))
    assert not any((matcher.settings.data_dir / ranking_store.STORE_FOLDER).iterdir())  # a finished build cleans up


def test_a_crash_mid_build_leaves_only_whole_shards_and_a_rerun_computes_the_rest(world, monkeypatch) -> None:
    matcher, now = world
    expected = build_dataset(matcher, now=now, chunk_vacancies=4)
    real = ranking_store.chunk_features
    calls: list[int] = []

    def crashing(*args, **kwargs):
        calls.append(args[4][0])
        if len(calls) == 3:
            raise MemoryError("simulated crash in the third chunk")
        return real(*args, **kwargs)

    monkeypatch.setattr(ranking_store, "chunk_features", crashing)
    with pytest.raises(MemoryError):
        build_dataset(matcher, now=now, chunk_vacancies=4)
    (folder,) = (matcher.settings.data_dir / ranking_store.STORE_FOLDER).iterdir()
    assert sorted(path.name for path in folder.glob("*.npy")) == ["shard-00000.npy", "shard-00001.npy"]
    # what a crash inside a write leaves: a partial temporary file, and (a disk fault) a shard cut short
    (folder / "shard-00002.npy.tmp").write_bytes(b"\x93NUMPY half")
    whole = (folder / "shard-00001.npy").read_bytes()
    (folder / "shard-00001.npy").write_bytes(whole[: len(whole) // 2])
    calls.clear()
    monkeypatch.setattr(ranking_store, "chunk_features", lambda *a, **k: calls.append(a[4][0]) or real(*a, **k))
    _assert_identical(build_dataset(matcher, now=now, chunk_vacancies=4), expected)
    group_starts = np.flatnonzero(np.r_[True, expected.vacancy_ids[1:] != expected.vacancy_ids[:-1]])
    assert calls == group_starts[::4][1:].tolist()  # shard 0 trusted; the cut one and the rest computed
    assert not folder.exists()


def _copied_split(data: RankingData, test_share: float) -> tuple[RankingData, RankingData]:
    """The time split as it was before views: both parts copied by row index."""
    vacancies, first = np.unique(data.vacancy_ids, return_index=True)
    order = vacancies[np.argsort(data.moments[first], kind="stable")]
    test = np.isin(data.vacancy_ids, order[int(round(len(order) * (1 - test_share))) :])
    return data.take(np.flatnonzero(~test)), data.take(np.flatnonzero(test))


def test_the_time_split_is_views_equal_to_the_copied_split_and_tunes_and_fits_the_same(world) -> None:
    matcher, now = world
    data = build_dataset(matcher, now=now)
    train, test = data.time_split(0.2)
    assert np.shares_memory(train.features, data.features) and np.shares_memory(test.features, data.features)
    old_train, old_test = _copied_split(data, 0.2)
    _assert_identical(train, old_train)
    _assert_identical(test, old_test)
    assert len(train) and len(test)
    tuned, old_tuned = tune_lgbm(train, 3), tune_lgbm(old_train, 3)
    assert tuned == old_tuned and tuned[1]["tried"] == GRID_SIZE
    left, right = fit_lgbm(train, 3, tuned[0]), fit_lgbm(old_train, 3, old_tuned[0])
    assert left.booster_.model_to_string() == right.booster_.model_to_string()
    shuffled = data.take(np.random.default_rng(0).permutation(len(data)))  # rows not in time order: copies
    part, _ = shuffled.time_split(0.2)
    assert not np.shares_memory(part.features, shuffled.features)
    assert sorted(map(tuple, part.features.tolist())) == sorted(map(tuple, train.features.tolist()))


def test_training_says_what_it_does_and_reports_the_split(world, monkeypatch) -> None:
    matcher, now = world
    monkeypatch.setattr(train_module, "MIN_TEST_VACANCIES", 5)  # this world has 40 vacancies, 8 of them held out
    said: list[str] = []
    result = train_model(matcher.settings, matcher, seed=3, say=said.append)
    data = build_dataset(matcher)
    old_train, old_test = _copied_split(data, HOLDOUT_SHARE)
    assert result["trainPairs"] == len(old_train) and result["holdout"]["pairs"] == len(old_test)
    copied = hashlib.sha256()
    for array in (data.features, data.labels, data.vacancy_ids, data.client_ids, data.moments):
        copied.update(np.ascontiguousarray(array).tobytes())  # the fingerprint as it was: every array copied
    assert data_hash(data) == copied.hexdigest()[:16]
    expected = [
        f"{len(data):_} besliste paren".replace("_", "."),
        "kenmerken: deel 1/1",
        f"afstemmen: {GRID_SIZE}/{GRID_SIZE}",
        f"fitten op {len(old_train):_} paren".replace("_", "."),
        "fairness-audit",
        "vastleggen in MLflow",
    ]
    for part in expected:
        assert any(part in line for line in said), part
    assert said.index(next(line for line in said if "afstemmen: 1/" in line)) > said.index(
        next(line for line in said if "kenmerken: deel 1/1" in line)
    )


def test_the_train_command_says_its_steps_on_stderr_and_keeps_stdout_json(tmp_path, monkeypatch) -> None:
    from api.cli import app
    from api.cli import models as cli_models
    from api.services import voorstellen
    from matching.settings import Settings

    result = {"registeredModel": "werkmatch-ranker", "version": "1", "trainPairs": 10}

    def fake_train(config, found, moment, seed, say=None):
        say("kenmerken: deel 1/2, 5 van 10 paren, 0 s")
        say("afstemmen: 1/18 op 10 paren, NDCG@10 0.5000")
        return result

    monkeypatch.setattr(cli_models, "settings", lambda: Settings(data_dir=tmp_path / "var"))
    monkeypatch.setattr(cli_models, "matcher", lambda config: None)
    monkeypatch.setattr(voorstellen, "train_ranker", fake_train)
    done = CliRunner().invoke(app, ["train", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == result
    assert "kenmerken: deel 1/2" in done.stderr and "afstemmen: 1/18" in done.stderr


def _through_the_api(engine, proposals) -> None:
    """The oracle writer: every step through matching.outcomes, one commit each."""
    for proposal in proposals:
        with Session(engine) as writer:
            voorstel = outcomes.propose(
                writer,
                proposal.client_id,
                proposal.vacancy_id,
                proposal.consulent,
                "consulent",
                at=proposal.steps[0].at,
            )
            for step in proposal.steps[1:]:
                note = "gesimuleerd" if step.reason == "anders" else None
                outcomes.transition(writer, voorstel.id, step.status, proposal.consulent, step.reason, note, step.at)


def test_the_history_writer_stores_what_the_outcomes_api_stores(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(outcome_sim, "TRANSACTION_PROPOSALS", 7)  # several transactions and a partial last one
    tables = []
    for name, write in (("bulk", write_history), ("api", _through_the_api)):
        engine = make_engine(f"sqlite:///{tmp_path / name}.db")
        init_db(engine)
        write_to_db(engine, generate(300, 30, seed=9), progress=False)
        proposals = list(simulate(engine, SimulationSettings(years=2), seed=9))
        write(engine, iter(proposals))
        with engine.connect() as connection:
            tables.append(
                [
                    [tuple(row) for row in connection.exec_driver_sql(f"SELECT * FROM {table} ORDER BY id")]
                    for table in ("voorstel", "voorstel_event")
                ]
            )
    assert len(tables[0][0]) == len(proposals) > 50 and len(tables[0][1]) > len(proposals)
    assert tables[0] == tables[1]


def test_a_simulated_step_the_state_machine_forbids_is_refused(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'bad.db'}")
    init_db(engine)
    write_to_db(engine, generate(60, 6, seed=2), progress=False)
    proposal = next(iter(simulate(engine, SimulationSettings(years=2), seed=2)))
    proposal.steps.append(outcome_sim.Step("duurzaam", proposal.steps[-1].at))  # never straight after any step
    proposal.steps.insert(1, outcome_sim.Step("voorgesteld", proposal.steps[0].at))
    with pytest.raises(ValueError, match="ongeldig"):
        write_history(engine, [proposal])
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Voorstel)).one() == 0  # nothing of the batch written
