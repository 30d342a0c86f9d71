"""The served amortised floor's lasting state, and what it reads of a live candidate pool (issue 19, item 1).

:class:`matching.exposure_amortised.AmortisedFloor` keeps every serving group's *running* top-10 places and
expected-merit places. Evaluation replays them in memory; serving keeps them here, one row per (model, attribute,
group) in ``amortised_floor_state``, plus one row per model with the totals (attribute and group ``""``). They are
fed from the lists actually shown: a served list's :class:`~matching.exposure_amortised.Plan` is added
(:func:`record`) in the transaction that records its shown clients in the exposure ledger, once per (model,
vacancy) whoever shows it (:func:`record_served` claims the vacancy in ``amortised_floor_fed``, a table without
client data: on PostgreSQL the exposure ledger's row-level security would hide another gemeente's first showing of a
regional vacancy shown in a gemeente's scope, which then counted twice).

**Decay** (:data:`HALF_LIFE_DAYS`): a list shown ``d`` days ago weighs ``2^(-d / 62)``. The exposure ledger forgets
a showing after 180 days (:data:`matching.oversight_state.WINDOW_DAYS`); a 62-day half life gives the same mean age
of what counts (180 / 2 = 90 days = 62 / ln 2), so the exposure penalty and the floor look back equally far on
average, while a window would drop half a year's lists at once and swing the deficits with it. After 180 days a
list weighs 0.13, after a year 0.017: last year's shares no longer drive today's swaps. The rows hold each addition
times ``2^((t - EPOCH) / half life)`` (:func:`weight`), so adding stays one atomic increment and order free; reading
divides by the weight of now (float64 holds that until about 2190; a migration can move the epoch). Replayed on the
promotion gate's 200 held-out pools of the demo (206 days, about a list a day, so about 90 lists remembered), the
decay costs more swaps: 5.39 % NDCG@10 against 4.76 % without it, the groups' ratios within 0.03
(``bench/results/amortised-served-s32-pools.json``); with a region's many lists a day it remembers far more lists.
The gate's replay decays alike (:func:`training.exposure_eval.kept_between_pools`, session 32).

**Per search, no state load** (:class:`_StateCache`, :class:`_Proposals`): a process keeps the rows in memory,
keyed by engine and model, and the totals row's ``lists`` (lists added) and ``mark`` as change marker. A write sets
``mark`` to the token of the write before it and a random token of its own. A search reads that one row by its key
and uses its copy while the marker is the one it holds; its own writes (``RETURNING`` the rows they changed) become
its copy once the marker shows the last of them committed and each named the one before it (nobody else wrote
between); anything else reads the rows again. Who was ever proposed is kept alike, per gemeente scope, against the
database's count of inserted and deleted voorstellen: per search only the voorstellen with a higher id, the whole
read again (beside the searches) when the count says something else changed (:class:`_Proposals`).

**Shared by the region, per model** (issue 19 item 1, decided in session 32): the lists are the region's (a
vacancy's candidate search runs in the regional scope over every gemeente's clients, and the WSP's vacancies belong
to the region), the model and its fairness goal are judged regionally (the promotion gate, the model card), and
the groups are small (trede 0 holds about one expected place in 200 lists): a state per gemeente would split them
below the floor's slack, so it would act for them later or never. The rows hold counts per group only, never a
client; the groups are :data:`matching.exposure_amortised.SERVING_GROUPS` (trede, ever proposed, route).

:func:`served_floor` builds what a served list needs from the pool: the model's setting, the candidates'
calibrated probabilities and their serving groups, and the floor with the state loaded.
"""

from __future__ import annotations

import logging
import threading
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import String, func, text
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, select
from sqlmodel.sql.expression import Select

from matching import tenancy
from matching.domain import utcnow
from matching.exposure import LIST_SIZE
from matching.exposure_amortised import AmortisedFloor, Plan, floor_of, probabilities, setting_of
from matching.lookup import in_chunks
from matching.outcomes import Voorstel
from matching.structured import ROUTES

logger = logging.getLogger(__name__)
TOTAL = ""  # attribute and group of a model's totals row
EVER = "eerder voorgesteld"
NEVER = "nooit voorgesteld"
UNKNOWN_ROUTE = "onbekend"
HALF_LIFE_DAYS = 62.0  # the exposure ledger's 180-day window's mean age: 90 days = 62 / ln 2 (module docstring)
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # the stored sums' reference moment (weight 1)
NO_LOWEST = np.iinfo(np.int64).max  # the lowest vacancy id proposed for, of a client never proposed
FAIR_ATTENTION = (
    "Getoond voor eerlijke aandacht: klanten uit een groep als deze (trede, route of nog nooit voorgesteld) stonden "
    "tot nu toe minder in de getoonde lijsten dan hun verwachte kans op een goede uitkomst rechtvaardigt. Deze klant "
    "hoort bij de 50 best passende van de pool; de volgorde erboven is niet veranderd."
)


class AmortisedFloorState(SQLModel, table=True):
    __tablename__ = "amortised_floor_state"

    ranker: str = Field(primary_key=True, max_length=200)
    attribute: str = Field(primary_key=True, max_length=32)
    grp: str = Field(primary_key=True, max_length=64)
    places: float = 0.0  # stored weighted: sum of places x weight(moment shown); see weight()
    merit: float = 0.0
    lists: int = 0  # lists added to this row
    mark: str = Field(default="", max_length=32)  # the tokens of the write before and the last write (the marker)
    updated_at: datetime = Field(default_factory=utcnow)


class AmortisedFloorFed(SQLModel, table=True):
    """The vacancies whose list fed a model's state (its first showing, whoever showed it). No client data."""

    __tablename__ = "amortised_floor_fed"

    ranker: str = Field(primary_key=True, max_length=200)
    vacancy_id: int = Field(foreign_key="vacancy.id", primary_key=True, ondelete="CASCADE")
    fed_at: datetime = Field(default_factory=utcnow)


TABLES: tuple[type[SQLModel], ...] = (AmortisedFloorState, AmortisedFloorFed)
Rows = dict[tuple[str, str], tuple[float, float]]  # (attribute, group) -> stored (places, merit)


def ranker_key(described: dict[str, Any]) -> str:
    """The state's model key: ``name:version`` of :meth:`matching.ranker.LearnedRanker.describe`."""
    return f"{described.get('name')}:{described.get('version') or '-'}"[:200]


def weight(at: datetime) -> float:
    """What an addition at ``at`` is multiplied by in the stored sums: ``2^((at - EPOCH) / HALF_LIFE_DAYS)``."""
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return float(2.0 ** ((at - EPOCH).total_seconds() / (HALF_LIFE_DAYS * 86400.0)))


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine  # type: ignore[return-value]


MARK = 16  # hex digits of a write's token; a row's mark is its previous write's token and its last write's


def _tail(marker: tuple[int, str] | None) -> str:
    """The token of the write that left ``marker`` (no row yet: zeros, what the first write names as before it)."""
    return "0" * MARK if marker is None else marker[1][-MARK:]


@dataclass
class _Copy:
    """One model's rows as this process last read them (``read``), the totals row's marker then, and its own writes
    not yet seen committed: by the totals row's ``lists`` they returned, their mark and the rows they returned."""

    read: bool = False
    marker: tuple[int, str] | None = None
    rows: Rows = field(default_factory=dict)
    pending: dict[int, tuple[str, Rows]] = field(default_factory=dict)

    def take_up(self, marker: tuple[int, str]) -> None:
        """Our own writes up to ``marker``, when each followed the one before it (its mark names the token before
        it) from this copy's marker on: then nobody else wrote between, and their returned rows are the rows."""
        tail, chain = _tail(self.marker), []
        for lists in range((self.marker[0] if self.marker is not None else 0) + 1, marker[0] + 1):
            entry = self.pending.get(lists)
            if entry is None or entry[0][:MARK] != tail:
                return
            chain.append(entry[1])
            tail = entry[0][-MARK:]
        if chain and tail == marker[1][-MARK:]:
            self.marker, self.rows = marker, {key: value for rows in (self.rows, *chain) for key, value in rows.items()}
            self.pending = {lists: entry for lists, entry in self.pending.items() if lists > marker[0]}


class _StateCache:
    """The state per model of one engine, kept current by this process's writes and the totals row's marker."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.copies: dict[str, _Copy] = {}
        self.reads = 0  # full reads of a model's rows (tests, the bench)

    def rows(self, session: Session, ranker: str) -> Rows:
        """The stored rows of ``ranker`` (empty when none was served): one key lookup, the rows only when moved."""
        key = (AmortisedFloorState.ranker == ranker, AmortisedFloorState.attribute == TOTAL)
        found = session.exec(
            select(AmortisedFloorState.lists, AmortisedFloorState.mark).where(*key, AmortisedFloorState.grp == TOTAL)
        ).first()
        marker = (int(found[0]), str(found[1])) if found is not None else None
        with self.lock:
            copy = self.copies.setdefault(ranker, _Copy())
            if copy.read and marker is not None and marker != copy.marker:
                copy.take_up(marker)
            if copy.read and copy.marker == marker:
                return copy.rows
        read = session.exec(select(AmortisedFloorState).where(AmortisedFloorState.ranker == ranker)).all()
        rows = {(row.attribute, row.grp): (row.places, row.merit) for row in read}
        totals = [(row.lists, row.mark) for row in read if row.attribute == TOTAL and row.grp == TOTAL]
        with self.lock:
            self.reads += 1
            copy = self.copies[ranker]
            copy.read, copy.marker, copy.rows = True, totals[0] if totals else None, rows
            copy.pending = {lists: entry for lists, entry in copy.pending.items() if lists > (copy.marker or (0,))[0]}
        return rows

    def wrote(self, ranker: str, mark: str, lists: int, changed: Rows) -> None:
        """A write of this process, not yet committed: taken up when the marker shows it (:meth:`rows`)."""
        with self.lock:
            copy = self.copies.setdefault(ranker, _Copy())
            if len(copy.pending) > 64:  # writes rolled back are never taken up
                copy.pending.clear()
            copy.pending[lists] = (mark, changed)


_STATES: weakref.WeakKeyDictionary[Engine, _StateCache] = weakref.WeakKeyDictionary()
_PROPOSALS: weakref.WeakKeyDictionary[Engine, dict[str, _Proposals]] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def state_cache(session: Session) -> _StateCache:
    with _CACHES_LOCK:
        return _STATES.setdefault(_engine(session), _StateCache())


def load(session: Session, ranker: str, floor: AmortisedFloor, at: datetime | None = None) -> AmortisedFloor:
    """``floor`` with the running state of ``ranker`` as of ``at`` (default now; empty when none was served yet)."""
    now = 1.0 / weight(at or utcnow())
    for (attribute, group), (places, merit) in state_cache(session).rows(session, ranker).items():
        if attribute == TOTAL:
            floor.total_places_, floor.total_merit_ = places * now, merit * now
        else:
            floor.places_[(attribute, group)] = places * now
            floor.merit_[(attribute, group)] = merit * now
    return floor


def record(session: Session, ranker: str, plan: Plan, at: datetime | None = None) -> None:
    """Add one shown list's places and expected merit, weighted as of ``at`` (default now), to ``ranker``'s state
    (atomic increments: two processes serving at once both count). The caller commits."""
    now = at or utcnow()
    scale, mark = weight(now), "0" * MARK + uuid.uuid4().hex[:MARK]
    rows = [
        {"ranker": ranker, "attribute": str(a), "grp": str(g), "places": float(p) * scale, "merit": float(m) * scale}
        for (a, g), p, m in zip(plan.keys, plan.held, plan.merit, strict=True)
    ]
    rows.append(
        {"ranker": ranker, "attribute": TOTAL, "grp": TOTAL, "places": float(plan.places) * scale}
        | {"merit": float(plan.n) * scale}
    )
    rows = [row | {"lists": 1, "mark": mark, "updated_at": now} for row in rows]
    table = AmortisedFloorState.__table__  # type: ignore[attr-defined]
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgres_insert
    statement = insert(table)  # executed with the rows as parameters: compiled once (insertmanyvalues)
    statement = statement.on_conflict_do_update(
        index_elements=["ranker", "attribute", "grp"],
        set_={
            "places": table.c.places + statement.excluded.places,
            "merit": table.c.merit + statement.excluded.merit,
            "lists": table.c.lists + statement.excluded.lists,
            # the token before this write and this write's: who wrote last, and after whom
            "mark": func.substr(table.c.mark, MARK + 1, MARK, type_=String)
            + func.substr(statement.excluded.mark, MARK + 1, MARK, type_=String),
            "updated_at": statement.excluded.updated_at,
        },
    ).returning(table.c.attribute, table.c.grp, table.c.places, table.c.merit, table.c.lists, table.c.mark)
    changed: Rows = {}
    lists = 0
    for attribute, group, places, merit, count, written in session.execute(statement, rows):
        changed[(attribute, group)] = (places, merit)
        if attribute == TOTAL and group == TOTAL:
            lists, mark = count, written
    state_cache(session).wrote(ranker, mark, lists, changed)


def record_served(session: Session, vacancy_id: int, served: ServedFloor | None) -> bool:
    """:func:`record` a served list's plan the first time a list of ``vacancy_id`` is shown with this model, in any
    gemeente (``amortised_floor_fed``, not the ledger's rows, which row-level security filters); returns whether it
    was recorded. Two processes showing it at once: one claims it."""
    if served is None or served.plan is None:
        return False
    table = AmortisedFloorFed.__table__  # type: ignore[attr-defined]
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgres_insert
    claim = {"ranker": served.ranker, "vacancy_id": int(vacancy_id), "fed_at": utcnow()}
    statement = insert(table).on_conflict_do_nothing().returning(table.c.vacancy_id)  # compiled once
    if session.execute(statement, claim).first() is None:
        return False
    record(session, served.ranker, served.plan)
    return True


class _Proposals:
    """Who was ever proposed, in this process and gemeente scope: per client (arrays indexed by client id) the
    lowest and highest vacancy id of their voorstellen (highest 0: none). A client was proposed for another vacancy
    than ``v`` when it has a voorstel and not all of them are for ``v``.

    **Never a voorstel missed.** The database counts every committed insert and delete of a voorstel
    (:class:`matching.store.RecordChange`, side ``voorstellen``; on PostgreSQL under the client's gemeente, so a
    scope counts what it can read, and deletions and moved clients for every scope). The arrays hold what was
    committed as of one count ``mark``. A search reads, in one statement (one snapshot), the voorstellen with an id
    above the highest held and the count now: when the count grew by exactly the rows read, nothing else changed
    and the rows are added. Anything else (a voorstel committed after a higher id however long its transaction was
    open, one deleted with its client or vacancy, a client moved to another gemeente, a write rolled back) makes the
    count differ: the arrays are read again. Session 34 asked ids skipped below the highest again for a minute and
    then gave up, so a transaction open longer missed its voorstel for the process's life; asking every gap until it
    fills was no option (PostgreSQL sequences and rolled-back inserts leave gaps for good). A row count per id range
    is fooled by an insert and a deletion together, and re-reading a recent range only finds what is recent; a count
    of changes grows with both, and is one row to read (SQLite) or a few (PostgreSQL's log, folded now and then).

    **The whole read runs beside the searches** (:meth:`read_all`, a thread). At national size (400,000 clients,
    4 M voorstellen; ``bench/results/proposals-first-read-s36.json``) it takes 2.45-2.55 s on SQLite (5.1-5.2 s before
    the tuples below; session 34's read, which the first search waited for: 10.0-11.0 s and 1.09 GB at its peak; now
    78 MB) and 5.1-5.4 s on PostgreSQL
    under row-level security (19-22 s until session 36 turned the client index off for it, :data:`_WHOLE_READ_SETTINGS`,
    and made the arrays from tuples; ``bench/results/proposals-postgres-s36-tuples.json``). Until it is done, and while
    it runs again after a change the count shows, a search reads its pool's voorstellen (:func:`_pool`, the same
    aggregate for the pool's clients): 43-49 ms for 900 on SQLite, 0.29-0.47 s on PostgreSQL (it hashes every client
    id the scope sees, 400,000, for 7,554 voorstellen; 19-27 ms as the superuser), so the groups are right from the
    first search on. A search after it: 0.1-0.2 ms (p50; 0.9-1.3 ms on PostgreSQL, the statement itself 0.1 ms).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.mark: int | None = None  # the count the arrays are as of; None: not read, or out of step
        self.counted = True  # False: SQLite without its counter row (no mark to trust): the pool is read per search
        self.upto = 0  # the highest voorstel id held
        self.lo = np.zeros(0, np.int64)  # per client id: the lowest vacancy id of its voorstellen (NO_LOWEST: none)
        self.hi = np.zeros(0, np.int64)  # the highest (0: none)
        self.reader: threading.Thread | None = None
        self.reads = 0  # whole reads finished (tests, the bench)

    def flags(self, engine: Engine, client_ids: np.ndarray, vacancy_id: int) -> np.ndarray:
        with self.lock:
            if self.mark is not None and self._caught_up(engine):
                if not len(self.hi):
                    return np.zeros(len(client_ids), bool)
                inside = client_ids < len(self.hi)  # a client above every id held has no voorstel
                at = np.where(inside, client_ids, 0)
                return _other_vacancy(self.lo[at], np.where(inside, self.hi[at], 0), vacancy_id)
            if self.counted and self.reader is None:
                self.reader = threading.Thread(target=self.read_all, args=(engine, tenancy.current()), daemon=True)
                self.reader.start()
        return _other_vacancy(*_pool(engine, client_ids), vacancy_id)

    def _caught_up(self, engine: Engine) -> bool:
        """Add the voorstellen above :attr:`upto` when the count grew by exactly them; else mark the arrays stale."""
        with engine.connect() as connection:
            found = connection.execute(_NEWER, {"upto": self.upto}).all()
        rows = np.array([tuple(row) for row in found if row[0] is not None], np.int64).reshape(-1, 3)
        mark = _mark(engine, next(row[1:] for row in found if row[0] is None))
        if mark is None or self.mark is None or mark - self.mark != len(rows):
            self.mark = None
            return False
        if len(rows):
            self._add(rows[:, 1], rows[:, 2])
            self.upto = max(self.upto, int(rows[:, 0].max()))
        self.mark = mark
        return True

    def _add(self, clients: np.ndarray, vacancies: np.ndarray) -> None:
        if len(clients) and clients.max() >= len(self.hi):
            more = max(int(clients.max()) + 1, 2 * len(self.hi)) - len(self.hi)
            self.lo = np.concatenate([self.lo, np.full(more, NO_LOWEST, np.int64)])
            self.hi = np.concatenate([self.hi, np.zeros(more, np.int64)])
        np.minimum.at(self.lo, clients, vacancies)
        np.maximum.at(self.hi, clients, vacancies)

    def read_all(self, engine: Engine, scope: str) -> None:
        """Read every voorstel this scope sees, with the count, in one statement (a thread: see the class)."""
        try:
            with tenancy.scope(scope), engine.connect() as connection:
                every = _EVERY.format(" NOT INDEXED" if engine.dialect.name == "sqlite" else "")
                for setting in _WHOLE_READ_SETTINGS if engine.dialect.name == "postgresql" else ():
                    connection.exec_driver_sql(setting)  # this transaction only
                found = connection.execute(text(every)).all()
            # tuples: numpy reads SQLAlchemy's Row objects as sequences one item at a time, 5.5 s for 396,137 rows
            # against 0.15-0.25 s for their tuples (session 36; most of the whole read on either engine)
            rows = np.array([tuple(row) for row in found if row[0] is not None], np.int64).reshape(-1, 4)
            mark = _mark(engine, next(row[1:3] for row in found if row[0] is None))
            size = int(rows[:, 0].max()) + 1 if len(rows) else 0
            lo, hi = np.full(size, NO_LOWEST, np.int64), np.zeros(size, np.int64)
            lo[rows[:, 0]], hi[rows[:, 0]] = rows[:, 1], rows[:, 2]
            with self.lock:
                self.lo, self.hi, self.upto = lo, hi, int(rows[:, 3].max()) if len(rows) else 0
                self.mark, self.counted, self.reads = mark, mark is not None, self.reads + 1
        except Exception:  # a search goes on reading its pool; the next one starts a read again
            logger.exception("voorstellen niet gelezen voor de eerlijke-aandachtsvloer")
        finally:
            with self.lock:
                self.reader = None

    def wait(self) -> None:
        """Until a whole read under way is done (tests, the bench)."""
        reader = self.reader
        if reader is not None:
            reader.join()


_COUNT = "(SELECT {} FROM record_change WHERE side = 'voorstellen')"
_NEWER = text(
    "SELECT id, client_id, vacancy_id FROM voorstel WHERE id > :upto "
    f"UNION ALL SELECT NULL, {_COUNT.format('count(*)')}, {_COUNT.format('sum(n)')}"
)
# SQLite follows the client index for the GROUP BY, a table lookup per voorstel: 12.7-13.4 s at 4 M against 5.1-5.2 s
# scanning the table (bench/results/proposals-first-read-s35.json)
_EVERY = (
    "SELECT client_id, min(vacancy_id), max(vacancy_id), max(id) FROM voorstel{} GROUP BY client_id "
    f"UNION ALL SELECT NULL, {_COUNT.format('count(*)')}, {_COUNT.format('sum(n)')}, NULL"
)
# PostgreSQL: row-level security filters each voorstel by an EXISTS on its client (migration 0002). The planner costs
# that filter as an index probe per row on every path alike (it hashes the client ids only when it runs), so it took
# the client index for the GROUP BY's order: a heap fetch per voorstel in client order (2.7 M buffers read). A table
# scan, as SQLite's NOT INDEXED: at 4 M voorstellen the statement 12.0-12.5 -> 4.0-4.5 s, the whole read in its thread
# 17.9-19.6 -> 9.9-10.4 s, 5.1-5.4 s with read_all's tuples (bench/results/proposals-postgres-s36{,-tuples}.json;
# work_mem 128MB and jit off added nothing).
_WHOLE_READ_SETTINGS = ("SET LOCAL enable_indexscan = off",)  # this transaction only


def _mark(engine: Engine, counted: tuple[Any, Any]) -> int | None:
    """The voorstellen count from (counter rows, sum of n): None on SQLite without its counter row (nothing counts);
    PostgreSQL's log may hold no row this scope sees yet (0)."""
    rows, total = counted
    if engine.dialect.name == "sqlite" and not rows:
        return None
    return int(total or 0)


def _pool(engine: Engine, client_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per client of ``client_ids``, the lowest and highest vacancy id of its voorstellen (0, 0: none), read now."""
    wanted = [int(value) for value in client_ids]
    found: dict[int, tuple[int, int]] = {}
    with engine.connect() as connection:
        for chunk in in_chunks(wanted):
            found.update({int(c): (int(lo), int(hi)) for c, lo, hi in connection.execute(_pool_statement(chunk))})
    pairs = np.array([found.get(client, (0, 0)) for client in wanted], np.int64).reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1]


def _pool_statement(client_ids: Sequence[int]) -> Select:
    """The lowest and highest vacancy id of the voorstellen of ``client_ids`` (at most ``IN_CHUNK``), per client."""
    column = Voorstel.client_id
    return (
        select(column, func.min(Voorstel.vacancy_id), func.max(Voorstel.vacancy_id))
        .where(column.in_(client_ids))  # type: ignore[attr-defined]
        .group_by(column)
    )


def _other_vacancy(lo: np.ndarray, hi: np.ndarray, vacancy_id: int) -> np.ndarray:
    """Per client, from its lowest and highest vacancy id proposed for (highest 0: none): proposed for another."""
    return (hi != 0) & ((lo != vacancy_id) | (hi != vacancy_id))


def proposals(session: Session) -> _Proposals:
    """This process's copy of who was ever proposed, for the session's engine and gemeente scope (on PostgreSQL
    row-level security decides which voorstellen a scope reads)."""
    with _CACHES_LOCK:
        return _PROPOSALS.setdefault(_engine(session), {}).setdefault(tenancy.current(), _Proposals())


def ever_proposed(session: Session, client_ids: np.ndarray, vacancy_id: int) -> np.ndarray:
    """Per client: was the client ever proposed for another vacancy (``training.client_history``'s count > 0)."""
    ids = np.asarray(client_ids, np.int64)
    return proposals(session).flags(_engine(session), ids, int(vacancy_id))


def serving_groups(
    session: Session, client_ids: np.ndarray, trede: np.ndarray, route: np.ndarray, vacancy_id: int, wanted: list[str]
) -> dict[str, np.ndarray]:
    """The ``wanted`` serving groups of a pool's candidates, labelled as the evaluation labels them."""
    out: dict[str, np.ndarray] = {}
    if "trede" in wanted:
        out["trede"] = np.array([str(int(t)) for t in trede], dtype=object)
    if "geschiedenis" in wanted:
        out["geschiedenis"] = np.where(ever_proposed(session, client_ids, vacancy_id), EVER, NEVER).astype(object)
    if "route" in wanted:
        out["route"] = np.array([str(ROUTES[r]) if r >= 0 else UNKNOWN_ROUTE for r in route], dtype=object)
    return out


@dataclass
class ServedFloor:
    """The amortised floor of one served list: the floor with its state, the pool's probabilities and groups.

    :meth:`order` (the hook :func:`matching.pipeline.order` calls after :func:`matching.exposure.rerank`) plans the
    list and keeps the :attr:`plan`, which :func:`record` adds to the state once the list is shown.
    """

    ranker: str
    floor: AmortisedFloor
    probs: np.ndarray
    groups: dict[str, np.ndarray]
    plan: Plan | None = None

    def order(self, ranked: np.ndarray, score: np.ndarray) -> np.ndarray:
        self.plan = self.floor.plan(ranked, score, self.probs, self.groups)
        return self.plan.order


def served_floor(
    session: Session,
    described: dict[str, Any],
    spec: dict[str, Any],
    score: np.ndarray,
    pool: tuple[np.ndarray, np.ndarray, np.ndarray],
    vacancy_id: int,
    top: int = LIST_SIZE,
) -> ServedFloor | None:
    """The amortised floor for a served list of the model (``described``, ``spec``), or None: the model carries no
    Platt parameters (:func:`matching.exposure_amortised.setting_of`) and keeps the merit floor.

    Args:
        score: The model's score per pool candidate.
        pool: Per pool candidate, the client id, trede and route index (``ClientArrays``).
        top: The list's length: its shown places are the first ``min(top, LIST_SIZE)``.
    """
    setting = setting_of(spec)
    if setting is None:
        return None
    key = ranker_key(described)
    floor = load(session, key, floor_of(setting, length=min(top, LIST_SIZE)))
    probs = probabilities(score, setting["platt"]["a"], setting["platt"]["b"])
    groups = serving_groups(session, *pool, vacancy_id, setting["groups"])
    return ServedFloor(key, floor, probs, groups)
