"""A night that finishes while a request reads the served one (:func:`matching.batch_lists.served_list`), and the end of
a night that cannot empty the night before's slot (:func:`matching.batch_lists.finish_run`).

The served night's run, its mark and its rows are read in separate statements; the next night's finish (on the
driver's storing engine, another connection) removes the served night's marks, then empties its slot. Here that finish
runs at an exact point of the read: a hook on the reader's engine runs it just before the reader's first statement that
names a given table (no sleeps, no threads). The answer must be the newer night's list, whole: never "no list" while
one exists, never one night's mark with another's rows. SQLite and the real PostgreSQL (the ``engine`` fixture); the
same answer on both, as neither reader holds a snapshot across statements (READ COMMITTED; pysqlite opens no
transaction for a read). On PostgreSQL alone: a transaction holding the night before's slot makes the emptying give up
after its ``lock_timeout``; the night is served, the next start empties the slot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.services import schema
from api.services.batch_lists import nightly_candidates, nightly_vacancies
from api.services.matches import Trace
from api.services.users import Rol, User
from matching import batch_lists
from matching.batch_lists import READ_ATTEMPTS, BatchRun, NachtKandidaat, latest_finished, mark_of, served_list
from matching.errors import ConflictError
from matching.store import make_engine
from tests.factories import app_settings, slot_world, stored_night
from tests.postgres import PostgresServer
from training.batch_match import _finish, storing_engine

ITEM_TABLE = {"vacatures": "JOIN client", "klanten": "JOIN vacancy"}  # the rows statement of each side


@contextmanager
def _before_statement(engine: Engine, marker: str, work: Callable[[], Any], times: int = 1) -> Iterator[list[str]]:
    """Run ``work`` (on connections of its own) just before each of the first ``times`` statements on ``engine`` whose
    SQL contains ``marker``; statements of ``work`` itself (on PostgreSQL the storing engine is ``engine``) never
    trigger it. Yields the statements it ran before."""
    fired: list[str] = []
    busy: list[bool] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if busy or len(fired) >= times or marker not in statement:
            return
        fired.append(statement)
        busy.append(True)
        try:
            work()
        finally:
            busy.clear()

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield fired
    finally:
        event.remove(engine, "before_cursor_execute", before)


@pytest.fixture
def two_nights(engine: Engine) -> Iterator[tuple[Engine, list[int], list[int], BatchRun, BatchRun]]:
    """A served night (slot a) and the next one stored in full but not finished (slot b): the storing engine, the
    vacancies, the clients, the served run and the next."""
    vacancies, clients = slot_world(engine)
    storing = storing_engine(engine)
    try:
        served = stored_night(storing, vacancies, clients)
        following = stored_night(storing, vacancies, clients, finish=False)
        yield storing, vacancies, clients, served, following
    finally:
        if storing is not engine:
            storing.dispose()


def _assert_whole_list_of(found: Any, run: BatchRun, items: list[int]) -> None:
    """``found`` is ``run``'s list (as :func:`_night` stores it: every item, scores by run), mark and rows alike."""
    assert found is not None
    assert found.run.id == run.id and found.mark.run_id == run.id
    assert found.mark.ranked_by == {"naam": "test", "versie": str(run.id)}
    assert [row.run_id for row, _ in found.rows] == [run.id] * len(items)
    assert [row.rank for row, _ in found.rows] == list(range(1, len(items) + 1))
    assert [record.id for _, record in found.rows] == items
    assert [row.ranking_score for row, _ in found.rows] == [run.id + 1 / rank for rank in range(1, len(items) + 1)]


def test_the_served_nights_list_is_read_as_before(engine: Engine, two_nights) -> None:
    _, vacancies, clients, served, _ = two_nights
    with Session(engine) as session:
        _assert_whole_list_of(served_list(session, "vacatures", vacancies[0]), served, clients)
        _assert_whole_list_of(served_list(session, "klanten", clients[0]), served, vacancies)
        assert served_list(session, "vacatures", clients[-1] + 1000) is None  # an owner the night did not compute


def test_no_finished_night_is_no_list(engine: Engine) -> None:
    vacancies, clients = slot_world(engine)
    storing = storing_engine(engine)
    try:
        stored_night(storing, vacancies, clients, finish=False)
    finally:
        if storing is not engine:
            storing.dispose()
    with Session(engine) as session:
        assert served_list(session, "vacatures", vacancies[0]) is None


@pytest.mark.parametrize("side", ["vacatures", "klanten"])
@pytest.mark.parametrize("before", ["mark", "rows"])
def test_a_night_finishing_between_the_reads_gives_the_new_nights_list(engine: Engine, two_nights, side, before):
    """Finished before the mark is read, the served night's mark is gone; before its rows, its slot is empty. Read
    again from the new night, whole."""
    storing, vacancies, clients, served, following = two_nights
    owner, items = (vacancies[0], clients) if side == "vacatures" else (clients[0], vacancies)
    marker = "FROM batch_owner" if before == "mark" else ITEM_TABLE[side]
    with Session(engine) as session:
        with _before_statement(engine, marker, lambda: _finish(storing, following.id)) as fired:  # type: ignore[arg-type]
            found = served_list(session, side, owner)
        assert len(fired) == 1
    _assert_whole_list_of(found, following, items)
    with Session(engine) as session:  # what the request's first read would have found: its night gone, no mark
        assert session.get(BatchRun, served.id) is None
        assert mark_of(session, served.id, side, owner) is None  # type: ignore[arg-type]


def test_a_night_finishing_without_the_owners_list_is_no_list(engine: Engine) -> None:
    """The new night computed no list for the owner (it never stored the owner's partition): no list, read once more."""
    vacancies, clients = slot_world(engine)
    storing = storing_engine(engine)
    try:
        stored_night(storing, vacancies, clients)
        following = stored_night(storing, vacancies[1:], clients, finish=False)  # without vacancy 0
        with Session(engine) as session:
            with _before_statement(engine, "FROM batch_owner", lambda: _finish(storing, following.id)) as fired:  # type: ignore[arg-type]
                assert served_list(session, "vacatures", vacancies[0]) is None
            assert len(fired) == 1
            _assert_whole_list_of(served_list(session, "vacatures", vacancies[1]), following, clients)
    finally:
        if storing is not engine:
            storing.dispose()


def test_a_newer_night_at_every_read_is_an_error_to_try_again_not_no_list(engine: Engine, two_nights) -> None:
    """Each read finds its night replaced (a whole night stored and finished between its statements): after
    :data:`READ_ATTEMPTS` reads an error, then the list of the night served."""
    storing, vacancies, clients, _, following = two_nights
    nights: list[BatchRun] = []

    def next_night() -> None:
        if not nights:
            _finish(storing, following.id)  # type: ignore[arg-type]
            nights.append(following)
        else:
            nights.append(stored_night(storing, vacancies, clients))

    with Session(engine) as session:
        with _before_statement(engine, "FROM batch_owner", next_night, times=READ_ATTEMPTS) as fired:
            with pytest.raises(ConflictError, match="probeer het opnieuw"):
                served_list(session, "vacatures", vacancies[0])
        assert len(fired) == READ_ATTEMPTS
        assert latest_finished(session).id == nights[-1].id  # type: ignore[union-attr]
        _assert_whole_list_of(served_list(session, "vacatures", vacancies[0]), nights[-1], clients)


def _users() -> dict[str, User]:
    return {
        "vacatures": User(username="am", password_hash="", rol=Rol.ACCOUNTMANAGER),
        "klanten": User(username="wc", password_hash="", rol=Rol.WERKCONSULENT, consulent="consulent-a"),
    }


@pytest.mark.parametrize("side", ["vacatures", "klanten"])
def test_a_request_racing_the_finish_answers_the_new_nights_list(engine: Engine, two_nights, tmp_path: Path, side):
    """Through the API's functions: the list of the night that finished during the request, not a 404."""
    storing, vacancies, clients, _, following = two_nights
    settings = app_settings(tmp_path / "var", database_url=engine.url.render_as_string(hide_password=False))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    read, number = (nightly_candidates, "V-SLOT-0") if side == "vacatures" else (nightly_vacancies, "K-SLOT-0")

    def finish() -> None:
        _finish(storing, following.id)  # type: ignore[arg-type]

    with Session(engine) as session, _before_statement(engine, ITEM_TABLE[side], finish) as fired:
        listing = read(settings, session, _users()[side], number, Trace(request_id="race"))
    assert len(fired) == 1
    assert listing["gerangschiktDoor"]["versie"] == str(following.id)
    assert [item["rangschikkingsscore"] for item in listing["resultaten"]] == [
        following.id + 1 / rank  # type: ignore[operator]
        for rank in range(1, 1 + len(clients if side == "vacatures" else vacancies))
    ]


@pytest.mark.slow
def test_a_slot_another_transaction_holds_is_left_for_the_next_start_on_postgresql(
    postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The end of a night waits :data:`EMPTY_LOCK_TIMEOUT` for the night before's slot, then serves its night with
    that slot still full; the next start empties it."""
    monkeypatch.setattr(batch_lists, "EMPTY_LOCK_TIMEOUT", "50ms")
    with postgres.fresh_database() as url:
        engine = make_engine(url)
        schema.create_all(engine)
        vacancies, clients = slot_world(engine)
        served = stored_night(engine, vacancies, clients)
        following = stored_night(engine, vacancies, clients, finish=False)
        with engine.connect() as holder:  # a transaction that read slot a and goes on (a dump, an analyst)
            assert holder.exec_driver_sql("SELECT count(*) FROM nacht_kandidaat").scalar_one() == 3 * 6
            _finish(engine, following.id)  # type: ignore[arg-type]
            assert "not emptied" in caplog.text
            with Session(engine) as session:
                _assert_whole_list_of(served_list(session, "vacatures", vacancies[0]), following, clients)
                assert session.get(BatchRun, served.id) is not None  # removed by the next start
                assert mark_of(session, served.id, "vacatures", vacancies[0]) is None  # type: ignore[arg-type]
            assert holder.exec_driver_sql("SELECT count(*) FROM nacht_kandidaat").scalar_one() == 3 * 6
            holder.rollback()
        third = stored_night(engine, vacancies, clients, finish=False)
        assert third.slot == "a"
        with Session(engine) as session:
            assert session.get(BatchRun, served.id) is None
            assert session.exec(select(func.count()).select_from(NachtKandidaat)).one() == 3 * 6  # the third's only
            assert set(session.exec(select(NachtKandidaat.run_id).distinct())) == {third.id}
        engine.dispose()
