"""Emptying a night's slot (:mod:`matching.batch_lists`): the end of a night holds the slot's lock only for the emptying
and its commit, with the old run removed after it; a night killed at any point of its end leaves a database the next
start continues from, one night's rows to a slot; a start leaves an empty slot alone and, on PostgreSQL, tries a
bounded number of times to empty a full one another transaction holds, then refuses with nothing changed.

SQLite (on the driver's storing engine, as a night runs) and the real PostgreSQL; the locks on PostgreSQL alone, with a
second connection holding the slot as a ``pg_dump`` or an open transaction would. No sleeps: a hook on an engine runs
its work just before a given statement, and a start's pauses are a function the test passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from api.services import schema
from matching import batch_lists
from matching.batch_lists import (
    LIST_TABLES,
    START_EMPTY_PAUSE_S,
    START_EMPTY_TRIES,
    BatchOwner,
    BatchPartition,
    BatchRun,
    latest_finished,
    served_list,
    start_run,
)
from matching.errors import ConflictError
from matching.store import make_engine
from tests.factories import slot_world, stored_night
from tests.postgres import PostgresServer
from training.batch_match import _finish, storing_engine

FULL = 3 * 6  # a night's rows per list table in the slot world (three vacancies, six clients)


class Killed(Exception):
    """The batch process dying at a statement (its transaction rolled back, as a lost connection's is)."""


@contextmanager
def _before_statement(engine: Engine, marker: str, work: Callable[[], Any]) -> Iterator[list[str]]:
    """Run ``work`` just before the first statement on ``engine`` that starts with ``marker``; yields it once run."""
    fired: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not fired and statement.startswith(marker):
            fired.append(statement)
            work()

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield fired
    finally:
        event.remove(engine, "before_cursor_execute", before)


@contextmanager
def _storing(engine: Engine) -> Iterator[Engine]:
    storing = storing_engine(engine)
    try:
        yield storing
    finally:
        if storing is not engine:
            storing.dispose()


def _state(engine: Engine) -> dict[str, Any]:
    """Rows per list table and run; the runs with their slots and whether finished; the runs with marks, owners."""
    with Session(engine) as session:
        lists = {}
        for table in LIST_TABLES:
            found = session.exec(select(table.run_id, func.count()).group_by(table.run_id))  # type: ignore[attr-defined]
            lists[table.__tablename__] = dict(found.all())  # type: ignore[attr-defined]
        return {
            "lists": lists,
            "runs": {run.id: (run.slot, run.finished_at is not None) for run in session.exec(select(BatchRun))},
            "marked": set(session.exec(select(BatchPartition.run_id).distinct())),
            "owned": set(session.exec(select(BatchOwner.run_id).distinct())),
        }


def _slots(a: int | None, b: int | None) -> dict[str, dict[int, int]]:
    """The list tables holding night ``a``'s rows in slot a and night ``b``'s in slot b (None: empty)."""
    return {
        "nacht_kandidaat": {} if a is None else {a: FULL},
        "nacht_vacature": {} if a is None else {a: FULL},
        "nacht_kandidaat_b": {} if b is None else {b: FULL},
        "nacht_vacature_b": {} if b is None else {b: FULL},
    }


def _emptying(engine: Engine) -> str:
    """The first words of the statement that empties slot a."""
    return "TRUNCATE" if engine.dialect.name == "postgresql" else "DELETE FROM nacht_kandidaat"


def test_the_old_run_is_removed_after_the_emptying_is_committed(engine: Engine) -> None:
    """The end of a night: the emptying of the night before's slot, a commit, then the old run's removal (whose cascade
    scans the served slot on PostgreSQL) in a transaction of its own; afterwards one night in the database."""
    vacancies, clients = slot_world(engine)
    with _storing(engine) as storing:
        first = stored_night(storing, vacancies, clients)
        second = stored_night(storing, vacancies, clients, finish=False)
        order: list[str] = []

        def statement(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
            order.append(sql)

        def commit(_conn: Any) -> None:
            order.append("COMMIT")

        event.listen(storing, "before_cursor_execute", statement)
        event.listen(storing, "commit", commit)
        try:
            _finish(storing, second.id)  # type: ignore[arg-type]
        finally:
            event.remove(storing, "before_cursor_execute", statement)
            event.remove(storing, "commit", commit)
    emptied = next(at for at, step in enumerate(order) if step.startswith(_emptying(engine)))
    removed = next(at for at, step in enumerate(order) if step.startswith("DELETE FROM batch_run"))
    assert "COMMIT" in order[emptied:removed]  # the slot's lock released before the removal
    assert order[-1] == "COMMIT"
    assert _state(engine) == {
        "lists": _slots(None, second.id),
        "runs": {second.id: ("b", True)},
        "marked": {second.id},
        "owned": {second.id},
    }
    assert first.id not in _state(engine)["runs"]


@pytest.mark.parametrize("killed_at", ["emptying", "removal"])
def test_a_night_killed_during_its_end_is_served_and_the_next_start_goes_on_from_it(engine: Engine, killed_at) -> None:
    """Killed before the emptying, the night before's rows stay in their slot; before the old run's removal, its empty
    run stays. Either way the night is served, whole, and the next night's start empties and removes what was left:
    each slot holds one night's rows, none lost, none twice."""
    vacancies, clients = slot_world(engine)
    with _storing(engine) as storing:
        first = stored_night(storing, vacancies, clients)
        second = stored_night(storing, vacancies, clients, finish=False)
        marker = _emptying(engine) if killed_at == "emptying" else "DELETE FROM batch_run"

        def die() -> None:
            raise Killed(marker)

        with _before_statement(storing, marker, die) as fired, pytest.raises(Killed):
            _finish(storing, second.id)  # type: ignore[arg-type]
        assert len(fired) == 1
        left = _state(engine)
        assert left["runs"] == {first.id: ("a", True), second.id: ("b", True)}
        assert left["marked"] == left["owned"] == {second.id}
        assert left["lists"] == _slots(first.id if killed_at == "emptying" else None, second.id)
        with Session(engine) as session:
            assert latest_finished(session).id == second.id  # type: ignore[union-attr]
            found = served_list(session, "vacatures", vacancies[0])
            assert found is not None and [row.run_id for row, _ in found.rows] == [second.id] * len(clients)
        third = stored_night(storing, vacancies, clients, finish=False)
    assert third.slot == "a"
    assert _state(engine) == {
        "lists": _slots(third.id, second.id),
        "runs": {second.id: ("b", True), third.id: ("a", False)},
        "marked": {second.id, third.id},
        "owned": {second.id, third.id},
    }


def test_a_start_finds_the_slot_empty_and_leaves_it_alone(engine: Engine) -> None:
    """After a finish the next night's slot is empty: the start empties nothing (no lock taken), removes nothing."""
    vacancies, clients = slot_world(engine)
    with _storing(engine) as storing:
        stored_night(storing, vacancies, clients)
        second = stored_night(storing, vacancies, clients)
        statements: list[str] = []

        def statement(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
            statements.append(sql)

        event.listen(storing, "before_cursor_execute", statement)
        try:
            third = stored_night(storing, vacancies, clients, finish=False)
        finally:
            event.remove(storing, "before_cursor_execute", statement)
    assert not [sql for sql in statements if sql.startswith(("TRUNCATE", "DELETE FROM nacht_"))]
    assert _state(engine)["lists"] == _slots(third.id, second.id)


@pytest.fixture
def pg_engine(postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A database on the real PostgreSQL with every table; the emptying's ``lock_timeout`` 50 ms (the test's pace)."""
    monkeypatch.setattr(batch_lists, "EMPTY_LOCK_TIMEOUT", "50ms")
    with postgres.fresh_database() as url:
        engine = make_engine(url)
        schema.create_all(engine)
        yield engine
        engine.dispose()


def _lock_free(engine: Engine, table: str) -> bool:
    """Whether another connection takes a read lock on ``table`` at once (within 10 ms)."""
    with engine.connect() as other:
        other.exec_driver_sql("SET LOCAL lock_timeout = '10ms'")
        try:
            other.exec_driver_sql(f"LOCK TABLE {table} IN ACCESS SHARE MODE")  # noqa: S608 (the test's own names)
        except OperationalError:
            return False
        finally:
            other.rollback()
    return True


@pytest.mark.slow
def test_the_slot_is_free_while_the_old_run_is_removed_on_postgresql(pg_engine: Engine) -> None:
    """When the old run's removal begins, a reader of the emptied slot gets its lock at once; during the emptying
    (before its commit) it would not."""
    vacancies, clients = slot_world(pg_engine)
    stored_night(pg_engine, vacancies, clients)
    second = stored_night(pg_engine, vacancies, clients, finish=False)
    free: dict[str, bool] = {}

    def after_truncate(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("TRUNCATE"):
            free["during the emptying"] = _lock_free(pg_engine, "nacht_kandidaat")

    event.listen(pg_engine, "after_cursor_execute", after_truncate)
    try:
        with _before_statement(
            pg_engine, "DELETE FROM batch_run", lambda: free.update(removal=_lock_free(pg_engine, "nacht_kandidaat"))
        ) as fired:
            _finish(pg_engine, second.id)  # type: ignore[arg-type]
    finally:
        event.remove(pg_engine, "after_cursor_execute", after_truncate)
    assert len(fired) == 1
    assert free == {"during the emptying": False, "removal": True}
    assert _state(pg_engine)["runs"] == {second.id: ("b", True)}


@contextmanager
def _slot_a_left_full(engine: Engine) -> Iterator[tuple[Any, BatchRun, BatchRun, list[int], list[int]]]:
    """Night one served, night two finished while a transaction held slot a (one's rows left there): that transaction,
    still holding slot a (yielded with both nights and the world's vacancies and clients)."""
    vacancies, clients = slot_world(engine)
    first = stored_night(engine, vacancies, clients)
    second = stored_night(engine, vacancies, clients, finish=False)
    with engine.connect() as holder:
        assert holder.exec_driver_sql("SELECT count(*) FROM nacht_kandidaat").scalar_one() == FULL
        _finish(engine, second.id)  # type: ignore[arg-type]
        assert _state(engine)["lists"] == _slots(first.id, second.id)
        yield holder, first, second, vacancies, clients
        holder.rollback()


@pytest.mark.slow
def test_a_start_behind_a_held_full_slot_refuses_after_its_tries_with_nothing_changed_on_postgresql(
    pg_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with _slot_a_left_full(pg_engine) as (holder, first, second, vacancies, _):
        before = _state(pg_engine)
        pauses: list[float] = []
        with Session(pg_engine) as session, pytest.raises(ConflictError) as refused:
            start_run(session, 100, pause=pauses.append)
        assert pauses == [START_EMPTY_PAUSE_S] * (START_EMPTY_TRIES - 1)
        assert caplog.text.count("slot a not emptied") == START_EMPTY_TRIES
        assert "nachtlijsten van slot a" in str(refused.value) and "start de batch opnieuw" in str(refused.value)
        assert _state(pg_engine) == before  # no run added, none removed, slot a's rows kept
        assert holder.exec_driver_sql("SELECT count(*) FROM nacht_kandidaat").scalar_one() == FULL
        with Session(pg_engine) as session:
            found = served_list(session, "vacatures", vacancies[0])
            assert found is not None and found.run.id == second.id
    assert first.id in before["runs"]


@pytest.mark.slow
def test_a_start_empties_a_held_full_slot_once_its_holder_ends_within_the_tries_on_postgresql(
    pg_engine: Engine,
) -> None:
    with _slot_a_left_full(pg_engine) as (holder, _, second, _, _):
        pauses: list[float] = []

        def pause(seconds: float) -> None:  # the holder's transaction ends during the first pause
            pauses.append(seconds)
            holder.rollback()

        with Session(pg_engine) as session:
            third = start_run(session, 100, pause=pause)
            assert third.slot == "a"
        assert pauses == [START_EMPTY_PAUSE_S]
        assert _state(pg_engine) == {
            "lists": _slots(None, second.id),
            "runs": {second.id: ("b", True), third.id: ("a", False)},
            "marked": {second.id},
            "owned": {second.id},
        }


@pytest.mark.slow
def test_a_start_with_its_slot_empty_does_not_wait_for_a_transaction_holding_it_on_postgresql(
    pg_engine: Engine,
) -> None:
    """A ``pg_dump`` or an open transaction holding the next night's (empty) slot does not hold up the start."""
    vacancies, clients = slot_world(pg_engine)
    stored_night(pg_engine, vacancies, clients)
    second = stored_night(pg_engine, vacancies, clients)
    with pg_engine.connect() as holder:
        assert holder.exec_driver_sql("SELECT count(*) FROM nacht_kandidaat").scalar_one() == 0
        pauses: list[float] = []
        with Session(pg_engine) as session:
            session.connection().exec_driver_sql("SET LOCAL lock_timeout = '1s'")  # a wait fails the test, never hangs
            third = start_run(session, 100, pause=pauses.append)
        assert pauses == [] and third.slot == "a"
        holder.rollback()
    assert _state(pg_engine)["runs"] == {second.id: ("b", True), third.id: ("a", False)}
