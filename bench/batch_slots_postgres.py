"""A night's slot emptied at national size on PostgreSQL: the end of a night, the next start, and a request meanwhile.

Run (the tests' throw-away server, :class:`tests.postgres.PostgresServer`)::

    flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python -m bench.batch_slots_postgres \\
        --rows 2000000,20000000 --left-full --out bench/results/batch-slots-postgres-s38.json

Per size (``--rows``, comma-separated: a fresh database each) a database set up as in production (the owner ran the
migrations and granted the service role), filled as the superuser: ``client`` and ``vacancy`` of 400,000 and 300,000
minimal records (``bench/proposals_first_read.py``'s SQL), and nights of ``--rows`` list rows shaped as
``bench/batch_match_store_design.py``'s ``_prefill`` shapes them (62 % candidate rows, 38 % vacancy rows, owners in id
order, items random, every index maintained row by row), each with its 700,000 owners (``batch_owner``, as
``bench/batch_match_finish_night.py``'s ``_owners``) and a mark per partition of :data:`OWNERS`. Then, on the service
role's connections, as the batch and the API run:

1. **finish**: night A served in slot a, night B stored in full in slot b; :func:`matching.batch_lists.finish_run`
   of B, each statement's wall and the server backend's CPU (``/proc/<pid>/stat``), the lock's hold (from the
   ``TRUNCATE`` to the end of the commit after it; up to session 37 that was the finish's end, since session 38 the
   old run's removal follows in a transaction of its own). Meanwhile two requests
   (:func:`api.services.batch_lists.nightly_candidates`, an accountmanager): one that read A's mark before the finish
   and reads its rows once the ``TRUNCATE`` holds the lock (it waits for the commit, then reads B's list), one that
   begins then (B served: no wait). Before and after, the same request alone.
2. **start after a finish**: :func:`matching.batch_lists.start_run` of night C (slot a, emptied by the finish).
3. **a slot left full** (``--left-full``): C stored in full, finished while another transaction holds slot b (as a
   ``pg_dump`` would): the emptying gives up after ``EMPTY_LOCK_TIMEOUT``, C is served; a request meanwhile; a start
   while slot b, full, is still held (its tries without the pauses between them): refused, nothing changed. Then
   the start of night D empties slot b (a whole night) and removes night B: its wall, backend CPU and lock's hold.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.services.batch_lists import nightly_candidates
from api.services.matches import Trace
from api.services.users import Rol, User
from bench._result import load_average, provenance, write_json
from bench.batch_match_store_design import CLIENTS, OWNERS, VACANCIES
from bench.proposals_first_read import _PG_CLIENTS, _PG_VACANCIES
from matching import batch_lists
from matching.batch_lists import SLOT_TABLES, finish_run, start_run
from matching.errors import ConflictError
from matching.settings import Settings
from matching.store import make_engine
from tests.postgres import PostgresServer
from training.batch_match import CANDIDATES_TOP, VACANCIES_TOP

ROOT = Path(__file__).resolve().parents[1]
SHARES = {"vacatures": 0.62, "klanten": 0.38}  # of a night's rows (as batch_match_store_design._prefill)
TICK = 100  # clock ticks per second of /proc/<pid>/stat (Linux's USER_HZ)
READER = User(username="accountmanager", password_hash="", rol=Rol.ACCOUNTMANAGER)


def _owners_with_lists(rows: int) -> dict[str, int]:
    """Per side, how many owners have a list in a night of ``rows`` rows (at most all of them)."""
    return {
        "vacatures": min(VACANCIES, int(rows * SHARES["vacatures"]) // CANDIDATES_TOP),
        "klanten": min(CLIENTS, int(rows * SHARES["klanten"]) // VACANCIES_TOP),
    }


def _fill_night(superuser: Engine, rows: int, slot: str, finished: bool) -> int:
    """A run of about ``rows`` list rows in ``slot`` with every owner and a mark per partition; its id."""
    listed = _owners_with_lists(rows)
    candidates, options = (table.__tablename__ for table in SLOT_TABLES[slot])  # type: ignore[attr-defined]
    with superuser.begin() as connection:
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")  # no foreign key triggers
        run = connection.execute(
            text(
                "INSERT INTO batch_run (kind, partition_ids, started_at, finished_at, slot) "
                "VALUES ('match', 100, now(), CASE WHEN :finished THEN now() END, :slot) RETURNING id"
            ),
            {"finished": finished, "slot": slot},
        ).scalar_one()
        for table, owner, item, top, items, side in (
            (candidates, "vacancy_id", "client_id", CANDIDATES_TOP, CLIENTS, "vacatures"),
            (options, "client_id", "vacancy_id", VACANCIES_TOP, VACANCIES, "klanten"),
        ):
            connection.execute(
                text(
                    f"INSERT INTO {table} (run_id, {owner}, {item}, rank, ranking_score, score) "  # noqa: S608
                    f"SELECT :run, o, 1 + floor(random() * {items})::int, r, 0.5, 50 "
                    f"FROM generate_series(1, :owners) o, generate_series(1, {top}) r"
                ),
                {"run": run, "owners": listed[side]},
            )
            everyone = VACANCIES if side == "vacatures" else CLIENTS
            connection.execute(
                text(
                    "INSERT INTO batch_owner (run_id, side, owner_id, first_id) "
                    f"SELECT :run, :side, x, x - (x - 1) % {OWNERS} FROM generate_series(1, :n) x"
                ),
                {"run": run, "side": side, "n": everyone},
            )
            connection.execute(
                text(
                    "INSERT INTO batch_partition (run_id, side, first_id, cell, lists, ranked_by, committed_at) "
                    f"SELECT :run, :side, x, 'bench', {OWNERS}, "
                    """'{"naam": "bench", "versie": "1"}', now() """
                    f"FROM generate_series(1, :n, {OWNERS}) x"
                ),
                {"run": run, "side": side, "n": everyone},
            )
    with superuser.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            f"VACUUM ANALYZE {candidates}, {options}, batch_owner, batch_partition"
        )
    return int(run)


def _backend_cpu(pid: int) -> float:
    """CPU seconds (user + system) of the server process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _traced(engine: Engine) -> tuple[list[dict[str, Any]], dict[str, threading.Event]]:
    """Each statement on ``engine``: its first words, wall and the backend's CPU; an event set once a ``TRUNCATE``
    ran (its lock held to the commit)."""
    steps: list[dict[str, Any]] = []
    signals = {"truncated": threading.Event()}

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        pid = conn.connection.dbapi_connection.info.backend_pid
        conn.info["bench_step"] = (time.perf_counter(), _backend_cpu(pid), pid)

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        began, cpu, pid = conn.info.pop("bench_step")
        wall, spent = time.perf_counter() - began, round(_backend_cpu(pid) - cpu, 3)
        steps.append({"sql": " ".join(statement.split()[:4]), "at": began, "wallS": wall, "serverCpuS": spent})
        if statement.startswith("TRUNCATE"):
            signals["truncated"].set()

    return steps, signals


def _request(settings: Settings, engine: Engine, number: str) -> dict[str, Any]:
    """One API read of a vacancy's list "van vannacht" (a pooled connection): its wall, the rows it showed and when
    their night was computed."""
    began = time.perf_counter()
    with Session(engine) as session:
        listing = nightly_candidates(settings, session, READER, number, Trace(request_id="bench"))
    wall = round(1000 * (time.perf_counter() - began), 1)
    return {"wallMs": wall, "rows": len(listing["resultaten"]), "computed": listing["berekendOp"]}


def _requests(settings: Settings, engine: Engine, number: str, times: int = 5) -> dict[str, Any]:
    walls = [_request(settings, engine, number)["wallMs"] for _ in range(times)]
    return {"medianMs": statistics.median(walls), "maxMs": max(walls), "n": times}


def _commits(session: Session) -> list[float]:
    """The moments (``perf_counter``) each commit of ``session`` returned, as they come."""
    ended: list[float] = []
    event.listen(session, "after_commit", lambda _session: ended.append(time.perf_counter()))
    return ended


def _lock_held(steps: list[dict[str, Any]], ended: list[float]) -> float | None:
    """From the (first) ``TRUNCATE`` among ``steps`` to the end of the commit after it (its lock's hold), or None."""
    truncate = next((step for step in steps if step["sql"].startswith("TRUNCATE")), None)
    if truncate is None:
        return None
    return round(next(moment for moment in ended if moment > truncate["at"]) - truncate["at"], 3)


def _timed(work: Callable[[], Any], steps: list[dict[str, Any]]) -> dict[str, Any]:
    """``work``'s wall and this process's CPU, with the statements it ran on the traced engine."""
    first, cpu, wall = len(steps), time.process_time(), time.perf_counter()
    work()
    done = steps[first:]
    return {
        "wallS": round(time.perf_counter() - wall, 3),
        "clientCpuS": round(time.process_time() - cpu, 3),
        "serverCpuS": round(sum(step["serverCpuS"] for step in done), 3),
        "statements": [
            {"sql": step["sql"], "wallS": round(step["wallS"], 3), "serverCpuS": step["serverCpuS"]} for step in done
        ],
    }


def _finish_with_requests(settings: Settings, urls: dict[str, str], service: Engine, run: int) -> dict[str, Any]:
    """Phase 1: ``run`` finished while one request is in flight across it and another (on ``service``, warm) begins
    during the emptying; a third connection asks for a read lock on the emptied slot once the ``TRUNCATE`` ran and
    notes when it gets it: the lock's release as a waiting reader sees it (PostgreSQL releases the locks before it
    deletes the truncated files, which the commit's return waits for)."""
    finisher, reader, prober = (make_engine(urls[role]) for role in ("service", "service", "superuser"))
    steps, signals = _traced(finisher)
    out: dict[str, Any] = {}
    during: dict[str, Any] = {}
    probe = prober.connect()
    probe.exec_driver_sql("SELECT 1").all()  # connected beforehand: the probe's wait is the lock's alone
    probe.rollback()

    def finish() -> None:
        with Session(finisher) as session:
            ended = _commits(session)
            out["finish"] = _timed(lambda: finish_run(session, run), steps)
        out["lockHeldS"] = _lock_held(steps, ended)  # from the TRUNCATE to the end of its commit

    def fresh() -> None:
        during["begunWhileEmptying"] = _request(settings, service, "V-2")

    def wait_for_lock() -> None:  # slot a: night A's, emptied by B's finish
        during["lockAskedAt"] = time.perf_counter()
        probe.exec_driver_sql("LOCK TABLE nacht_kandidaat IN ACCESS SHARE MODE")
        during["lockGrantedAt"] = time.perf_counter()
        probe.rollback()

    def at_rows(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "JOIN client" not in statement or "stragglerFrom" in during:
            return
        threads = [threading.Thread(target=finish)]
        threads[0].start()
        if not signals["truncated"].wait(timeout=3600):
            raise RuntimeError("the finish never reached its TRUNCATE")
        during["stragglerFrom"] = time.perf_counter()
        threads += [threading.Thread(target=fresh), threading.Thread(target=wait_for_lock)]
        threads[1].start()
        threads[2].start()
        during["threads"] = threads

    event.listen(reader, "before_cursor_execute", at_rows)
    with Session(reader) as session:
        listing = nightly_candidates(settings, session, READER, "V-1", Trace(request_id="bench"))
    during["stragglerShowed"] = {"rows": len(listing["resultaten"]), "computed": listing["berekendOp"]}
    during["stragglerWaitMs"] = round(1000 * (time.perf_counter() - during.pop("stragglerFrom")), 1)
    for thread in during.pop("threads"):
        thread.join()
    truncate = next(step for step in steps if step["sql"].startswith("TRUNCATE"))
    asked, granted = (during.pop(moment) - truncate["at"] for moment in ("lockAskedAt", "lockGrantedAt"))
    out["lockReleasedS"] = round(granted, 3)  # as a reader that asked for it after the TRUNCATE got it
    out["lockAskedS"] = round(asked, 3)  # when that reader asked (lockReleasedS is the later of the two)
    out["requests"] = during
    probe.close()
    for engine in (finisher, reader, prober):
        engine.dispose()
    return out


def _start(urls: dict[str, str]) -> dict[str, Any]:
    """A night's start (:func:`~matching.batch_lists.start_run`) on the service role, traced: its statements and the
    hold of its ``TRUNCATE``'s lock (None: it found its slot empty and truncated nothing)."""
    engine = make_engine(urls["service"])
    steps, _ = _traced(engine)
    with Session(engine) as session:
        ended = _commits(session)
        found = _timed(lambda: start_run(session, 100), steps)
    found["lockHeldS"] = _lock_held(steps[-len(found["statements"]) :], ended)
    engine.dispose()
    return found


def _start_refused(urls: dict[str, str]) -> dict[str, Any]:
    """A start while its slot, full, is held by another transaction: its tries (without the pauses between them, which
    are recorded), the error and the runs before and after (the same: nothing changed)."""
    engine = make_engine(urls["service"])
    pauses: list[float] = []
    with engine.connect() as connection:
        runs = connection.exec_driver_sql("SELECT id, slot, finished_at IS NOT NULL FROM batch_run ORDER BY id").all()
    began = time.perf_counter()
    with Session(engine) as session:
        try:
            start_run(session, 100, pause=pauses.append)
            refusal = None
        except ConflictError as error:
            refusal = str(error)
    wall = round(time.perf_counter() - began, 3)
    with engine.connect() as connection:
        after = connection.exec_driver_sql("SELECT id, slot, finished_at IS NOT NULL FROM batch_run ORDER BY id").all()
    engine.dispose()
    return {
        "wallS": wall,
        "pausesS": pauses,
        "refusal": refusal,
        "runsBefore": [list(row) for row in runs],
        "runsUnchanged": after == runs,
    }


def _left_full(
    settings: Settings, urls: dict[str, str], service: Engine, superuser: Engine, rows: int, night_c: int
) -> dict[str, Any]:
    """Phase 3: night C stored in full and finished while slot b is held; then night D's start empties slot b."""
    with superuser.begin() as connection:  # C's lists in slot a (the start above made the run, empty)
        connection.exec_driver_sql(f"DELETE FROM batch_run WHERE id = {night_c}")  # noqa: S608
    _fill_night(superuser, rows, "a", finished=False)
    out: dict[str, Any] = {}
    holder = make_engine(urls["service"])
    with holder.connect() as held:
        held.exec_driver_sql("SELECT 1 FROM nacht_kandidaat_b LIMIT 1").all()  # holds slot b to its end
        engine = make_engine(urls["service"])
        steps, _ = _traced(engine)
        latest = int(held.exec_driver_sql("SELECT max(id) FROM batch_run").scalar_one())
        with Session(engine) as session:
            out["finishHeld"] = _timed(lambda: finish_run(session, latest), steps)
        out["requestWhileHeld"] = _request(settings, service, "V-3")
        out["startWhileHeld"] = _start_refused(urls)
        held.rollback()
    holder.dispose()
    engine.dispose()
    out["startEmptyingAFullSlot"] = _start(urls)
    return out


def one_size(server: PostgresServer, rows: int, left_full: bool) -> dict[str, Any]:
    with server.service_database() as (owner_url, service_url), tempfile.TemporaryDirectory() as data:
        name = owner_url.rsplit("/", 1)[1]
        urls = {"service": service_url, "superuser": server.url(name)}
        superuser = make_engine(urls["superuser"])
        began = time.perf_counter()
        with superuser.begin() as connection:
            connection.execute(text(_PG_CLIENTS), {"n": CLIENTS})
            connection.execute(text(_PG_VACANCIES), {"n": VACANCIES})
        _fill_night(superuser, rows, "a", finished=True)
        night_b = _fill_night(superuser, rows, "b", finished=False)
        result: dict[str, Any] = {"rows": rows, "owners": _owners_with_lists(rows)}
        result |= {"fillS": round(time.perf_counter() - began, 1), "sizeMb": _sizes(superuser)}
        settings = Settings(data_dir=Path(data), database_url=service_url)
        result["load"] = [load_average()]
        service = make_engine(service_url)  # the API's engine
        result["requestBefore"] = _requests(settings, service, "V-1")
        result |= _finish_with_requests(settings, urls, service, night_b)
        result["requestAfter"] = _requests(settings, service, "V-1")
        result["startAfterAFinish"] = _start(urls)
        result["load"].append(load_average())
        if left_full:
            with superuser.connect() as connection:
                night_c = int(connection.exec_driver_sql("SELECT max(id) FROM batch_run").scalar_one())
            result["leftFull"] = _left_full(settings, urls, service, superuser, rows, night_c)
            result["load"].append(load_average())
        service.dispose()
        superuser.dispose()
    return result


def _sizes(engine: Engine) -> dict[str, int]:
    """Each list table's and ``batch_owner``'s size with its indexes (MB)."""
    names = [table.__tablename__ for pair in SLOT_TABLES.values() for table in pair]  # type: ignore[attr-defined]
    sizes = {}
    with engine.connect() as connection:
        for name in [*names, "batch_owner"]:
            found = connection.exec_driver_sql(f"SELECT pg_total_relation_size('{name}')").scalar_one()
            sizes[name] = round(int(found) / 2**20)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="20000000", help="list rows of a night, comma-separated sizes")
    parser.add_argument("--left-full", action="store_true", help="also phase 3 (a third night's fill)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "batch-slots-postgres-s38.json")
    args = parser.parse_args()
    result: dict[str, Any] = {
        "command": " ".join([".venv/bin/python -m bench.batch_slots_postgres", *sys.argv[1:]]),
        "emptyLockTimeout": batch_lists.EMPTY_LOCK_TIMEOUT,
        "startEmptyTries": batch_lists.START_EMPTY_TRIES,
        "sizes": [],
    }
    server = PostgresServer.start()
    try:
        for rows in (int(size) for size in args.rows.split(",")):
            result["sizes"].append(one_size(server, rows, args.left_full))
            print(json.dumps(result["sizes"][-1]), flush=True)  # noqa: T201
            write_json(args.out, result | provenance())
    finally:
        server.stop()
    write_json(args.out, result | provenance())


if __name__ == "__main__":
    main()
