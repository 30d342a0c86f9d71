"""The served amortised floor's state as a process reads it (issue 19 item 1, session 32), on SQLite and on a real
PostgreSQL: it decays (a state fed long ago has no pull today), a search reads one marker row instead of the state
and still sees every write (its own, another process's, none of a rolled-back one), each vacancy feeds a model's
state once whoever shows it (on PostgreSQL also from two gemeenten, whose ledger rows stay hidden from each
other). Who was ever proposed: tests/matching/test_ever_proposed.py."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from matching import floor_state, oversight_state, tenancy
from matching.domain import utcnow
from matching.exposure_amortised import AmortisedFloor, Plan
from matching.floor_state import AmortisedFloorState, ServedFloor
from matching.store import make_engine
from tests.factories import make_client, make_vacancy
from tests.postgres import PostgresServer

KEYS = [("trede", "0"), ("trede", "1")]


def behind() -> Plan:
    """A list in which trede 0, half of the pool's expected merit, held none of the ten places."""
    return Plan(np.arange(20), np.zeros(0, np.int64), KEYS, np.array([0.0, 10.0]), np.array([10.0, 10.0]), 10, 20)


def today_pool() -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """A pool of 20 whose trede-0 candidates (positions 15-19) are unlikely today: the list alone owes them nothing."""
    order = np.arange(20)
    probs = np.where(order >= 15, 0.01, 0.5)
    groups = {"trede": np.where(order >= 15, "0", "1").astype(object)}
    return order, -order.astype(np.float64), probs, groups


def stored(engine: Engine, ranker: str) -> dict[tuple[str, str], tuple[float, float]]:
    with Session(engine) as session:
        rows = session.exec(select(AmortisedFloorState).where(AmortisedFloorState.ranker == ranker)).all()
        return {(row.attribute, row.grp): (row.places, row.merit) for row in rows}


def feed(engine: Engine, ranker: str, lists: int, at: datetime) -> None:
    with Session(engine) as session:
        for _ in range(lists):
            floor_state.record(session, ranker, behind(), at=at)
        session.commit()


def test_a_state_fed_long_ago_has_no_pull_today(engine: Engine) -> None:
    now = utcnow()
    feed(engine, "vers:1", 40, now)
    feed(engine, "oud:1", 40, now - timedelta(days=730))
    order, scores, probs, groups = today_pool()
    with Session(engine) as session:
        fresh = floor_state.load(session, "vers:1", AmortisedFloor(0.8, 1.0, 3, top_k=20), at=now)
        old = floor_state.load(session, "oud:1", AmortisedFloor(0.8, 1.0, 3, top_k=20), at=now)
    assert fresh.plan(order, scores, probs, groups).swaps == 3  # 40 lists behind, fed today: it pulls
    assert old.plan(order, scores, probs, groups).swaps == 0  # the same, two years ago: weighs 2^(-730/62)
    assert old.places_[("trede", "1")] == pytest.approx(400 * 2 ** (-730 / floor_state.HALF_LIFE_DAYS), rel=1e-9)


def test_a_list_shown_one_half_life_ago_counts_half(engine: Engine) -> None:
    now = utcnow()
    feed(engine, "half:1", 1, now - timedelta(days=floor_state.HALF_LIFE_DAYS))
    feed(engine, "half:1", 1, now)
    with Session(engine) as session:
        loaded = floor_state.load(session, "half:1", AmortisedFloor(), at=now)
    assert loaded.total_places_ == pytest.approx(15.0, rel=1e-12) and loaded.total_merit_ == pytest.approx(30.0)
    assert loaded.merit_[("trede", "0")] == pytest.approx(15.0, rel=1e-12)


def test_a_replay_decays_as_the_served_state_does(engine: Engine) -> None:
    """AmortisedFloor.decay between two lists gives what the database's weighted sums give at the later moment."""
    now = utcnow()
    feed(engine, "replay:1", 3, now - timedelta(days=40))
    feed(engine, "replay:1", 1, now)
    replayed = AmortisedFloor()
    for _ in range(3):
        replayed.add(behind())
    replayed.decay(2 ** (-40 / floor_state.HALF_LIFE_DAYS))
    replayed.add(behind())
    with Session(engine) as session:
        served = floor_state.load(session, "replay:1", AmortisedFloor(), at=now)
    assert served.places_ == pytest.approx(replayed.places_, rel=1e-9)
    assert served.merit_ == pytest.approx(replayed.merit_, rel=1e-9)
    assert (served.total_places_, served.total_merit_) == pytest.approx(
        (replayed.total_places_, replayed.total_merit_), rel=1e-9
    )
    with pytest.raises(ValueError):
        replayed.decay(0.0)


class Statements:
    """The SQL an engine runs on the state table while the block is open."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.seen = engine, []

    def __enter__(self) -> list[str]:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self.seen

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, _connection, _cursor, statement: str, *_: object) -> None:
        if "amortised_floor_state" in statement:
            self.seen.append(" ".join(statement.lower().split()))


def loaded(engine: Engine, ranker: str, at: datetime) -> tuple[dict, dict, float, float]:
    with Session(engine) as session:
        floor = floor_state.load(session, ranker, AmortisedFloor(), at=at)
    return floor.places_, floor.merit_, floor.total_places_, floor.total_merit_


def as_read_afresh(engine: Engine, ranker: str, at: datetime) -> tuple[dict, dict, float, float]:
    """What :func:`floor_state.load` gave before session 32: every row read, weighed as of ``at``."""
    now = 1.0 / floor_state.weight(at)
    rows = stored(engine, ranker)
    groups = {key: value for key, value in rows.items() if key != ("", "")}
    total = rows.get(("", ""), (0.0, 0.0))
    return (
        {key: places * now for key, (places, _) in groups.items()},
        {key: merit * now for key, (_, merit) in groups.items()},
        total[0] * now,
        total[1] * now,
    )


def test_a_search_reads_one_marker_row_and_still_sees_every_write(engine: Engine) -> None:
    now = utcnow()
    with Session(engine) as session:
        cache = floor_state.state_cache(session)
    feed(engine, "m:1", 2, now)
    assert loaded(engine, "m:1", now) == as_read_afresh(engine, "m:1", now)
    reads, expected = cache.reads, as_read_afresh(engine, "m:1", now)
    with Statements(engine) as seen:
        assert loaded(engine, "m:1", now) == expected
    assert len(seen) == 1 and "select amortised_floor_state.lists, amortised_floor_state.mark" in seen[0]
    assert cache.reads == reads  # the totals row's marker alone
    feed(engine, "m:1", 2, now)  # this process's own writes, two in a row: taken up without reading the rows
    assert loaded(engine, "m:1", now) == as_read_afresh(engine, "m:1", now) and cache.reads == reads
    other = make_engine(engine.url.render_as_string(hide_password=False))  # another process: its own cache
    feed(other, "m:1", 1, now)
    assert loaded(engine, "m:1", now) == as_read_afresh(engine, "m:1", now) and cache.reads == reads + 1
    feed(engine, "m:1", 1, now)  # ours, another's, ours: read again
    feed(other, "m:1", 1, now)
    feed(engine, "m:1", 1, now)
    other.dispose()
    assert loaded(engine, "m:1", now) == as_read_afresh(engine, "m:1", now) and cache.reads == reads + 2
    with Session(engine) as session:  # a write rolled back is never taken up
        floor_state.record(session, "m:1", behind(), at=now)
        session.rollback()
    assert loaded(engine, "m:1", now) == as_read_afresh(engine, "m:1", now)
    assert loaded(engine, "m:1", now)[2] == pytest.approx(80.0)  # eight lists of ten places


@pytest.fixture
def shown_world(engine: Engine) -> tuple[Engine, int, list[int]]:
    with Session(engine) as session:
        vacancy = make_vacancy(session, vacature_nummer="V-REGIO").id
        clients = [make_client(session, client_nummer=f"K-{n}").id for n in range(3)]
    return engine, vacancy, clients  # type: ignore[return-value]


def served(ranker: str = "r:1") -> ServedFloor:
    groups = {"trede": np.array(["0"] * 5 + ["1"] * 15, dtype=object)}
    return ServedFloor(ranker, AmortisedFloor(), np.full(20, 0.1), groups, behind())


def test_each_vacancy_feeds_a_models_state_once_whoever_shows_it(shown_world: tuple[Engine, int, list[int]]) -> None:
    engine, vacancy, clients = shown_world
    with Session(engine) as session:
        assert floor_state.record_served(session, vacancy, served())
        oversight_state.record_shown(session, vacancy, clients)
        session.commit()
    with Session(engine) as session:  # reopened, or shown by another consulent: fed already
        assert not floor_state.record_served(session, vacancy, served())
        assert floor_state.record_served(session, vacancy, served("r:2"))  # another model's state: its first
        session.commit()
    assert stored(engine, "r:1")[("", "")][1] == pytest.approx(20 * floor_state.weight(utcnow()), rel=1e-6)


# ---------------------------------------------------------------------- PostgreSQL alone


@pytest.mark.slow
def test_a_regional_vacancy_shown_in_two_gemeenten_feeds_once_and_hides_their_rows(postgres: PostgresServer) -> None:
    with postgres.service_database() as (_owner_url, service_url):
        service = make_engine(service_url)
        with Session(service) as session:
            vacancy = make_vacancy(session, vacature_nummer="V-WSP").id  # a WSP vacancy: the region's
            duiven = make_client(session, client_nummer="K-D", gemeente="Duiven").id
            arnhem = make_client(session, client_nummer="K-A", gemeente="Arnhem").id
        fed = []
        for gemeente, client in (("Duiven", duiven), ("Arnhem", arnhem)):
            with tenancy.scope(gemeente), Session(service) as session:
                fed.append(floor_state.record_served(session, vacancy, served()))  # type: ignore[arg-type]
                oversight_state.record_shown(session, vacancy, [client])  # type: ignore[arg-type, list-item]
                session.commit()
        assert fed == [True, False]
        with tenancy.scope("Arnhem"), Session(service) as session:  # Duiven's ledger row stays hidden
            ledger = session.execute(text("SELECT client_id FROM exposure_entry WHERE vacancy_id = :v"), {"v": vacancy})
            assert [row[0] for row in ledger] == [arnhem]
        assert stored(service, "r:1")[("", "")][0] == pytest.approx(10 * floor_state.weight(utcnow()), rel=1e-6)
        service.dispose()
