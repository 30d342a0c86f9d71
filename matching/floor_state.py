"""The served amortised floor's lasting state, and what it reads of a live candidate pool (issue 19, item 1).

:class:`matching.exposure_amortised.AmortisedFloor` keeps every serving group's *running* top-10 places and
expected-merit places. Evaluation replays them in memory; serving keeps them here, one row per (model, attribute,
group) in ``amortised_floor_state``, plus one row per model with the totals (attribute and group ``""``). They are
fed from the lists actually shown, as the exposure ledger (:mod:`matching.oversight_state`) is: a served list's
:class:`~matching.exposure_amortised.Plan` is added (:func:`record`) in the transaction that records its shown
clients, only the first time a vacancy's list is shown (reopening a list adds nothing, as in the ledger).

The state belongs to one model (``name:version``): its expected merit is read from that model's calibrated
probabilities, so a newly served model starts from an empty state. The rows hold counts per group only, never a
client; the groups are :data:`matching.exposure_amortised.SERVING_GROUPS` (trede, ever proposed, route).

:func:`served_floor` builds what a served list needs from the pool: the model's setting, the candidates'
calibrated probabilities and their serving groups, and the floor with the state loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel, select

from matching.domain import utcnow
from matching.exposure import LIST_SIZE
from matching.exposure_amortised import AmortisedFloor, Plan, probabilities, setting_of
from matching.lookup import in_chunks
from matching.outcomes import Voorstel
from matching.oversight_state import ExposureEntry
from matching.structured import ROUTES

TOTAL = ""  # attribute and group of a model's totals row
EVER = "eerder voorgesteld"
NEVER = "nooit voorgesteld"
UNKNOWN_ROUTE = "onbekend"
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
    places: float = 0.0
    merit: float = 0.0
    updated_at: datetime = Field(default_factory=utcnow)


TABLES: tuple[type[SQLModel], ...] = (AmortisedFloorState,)


def ranker_key(described: dict[str, Any]) -> str:
    """The state's model key: ``name:version`` of :meth:`matching.ranker.LearnedRanker.describe`."""
    return f"{described.get('name')}:{described.get('version') or '-'}"[:200]


def load(session: Session, ranker: str, floor: AmortisedFloor) -> AmortisedFloor:
    """``floor`` with the running state of ``ranker`` (empty when none was served yet)."""
    rows = session.exec(select(AmortisedFloorState).where(AmortisedFloorState.ranker == ranker)).all()
    for row in rows:
        if row.attribute == TOTAL:
            floor.total_places_, floor.total_merit_ = row.places, row.merit
        else:
            floor.places_[(row.attribute, row.grp)] = row.places
            floor.merit_[(row.attribute, row.grp)] = row.merit
    return floor


def record(session: Session, ranker: str, plan: Plan) -> None:
    """Add one shown list's places and expected merit to ``ranker``'s state (atomic increments: two processes
    serving at once both count). The caller commits."""
    now = utcnow()
    rows = [
        {"ranker": ranker, "attribute": str(a), "grp": str(g), "places": float(p), "merit": float(m), "updated_at": now}
        for (a, g), p, m in zip(plan.keys, plan.held, plan.merit, strict=True)
    ]
    rows.append(
        {"ranker": ranker, "attribute": TOTAL, "grp": TOTAL, "places": float(plan.places), "merit": float(plan.n)}
        | {"updated_at": now}
    )
    table = AmortisedFloorState.__table__  # type: ignore[attr-defined]
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgres_insert
    statement = insert(table).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["ranker", "attribute", "grp"],
        set_={
            "places": table.c.places + statement.excluded.places,
            "merit": table.c.merit + statement.excluded.merit,
            "updated_at": statement.excluded.updated_at,
        },
    )
    session.execute(statement)


def record_served(session: Session, vacancy_id: int, served: ServedFloor | None) -> bool:
    """:func:`record` a served list's plan, the first time a list of ``vacancy_id`` is shown (call it before
    :func:`matching.oversight_state.record_shown`); returns whether it was recorded."""
    if served is None or served.plan is None:
        return False
    shown_before = session.exec(select(ExposureEntry.client_id).where(ExposureEntry.vacancy_id == vacancy_id).limit(1))
    if shown_before.first() is not None:
        return False
    record(session, served.ranker, served.plan)
    return True


def ever_proposed(session: Session, client_ids: np.ndarray, vacancy_id: int) -> np.ndarray:
    """Per client: was the client ever proposed for another vacancy (``training.client_history``'s count > 0)."""
    wanted = [int(value) for value in client_ids]
    found: set[int] = set()
    for chunk in in_chunks(wanted):
        statement = (
            select(Voorstel.client_id)
            .where(Voorstel.client_id.in_(chunk))  # type: ignore[attr-defined]
            .where(Voorstel.vacancy_id != vacancy_id)
            .distinct()
        )
        found.update(int(client) for client in session.exec(statement))
    return np.array([client in found for client in wanted], bool)


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
    floor = load(
        session,
        key,
        AmortisedFloor(setting["target"], setting["slack"], setting["maxSwaps"], length=min(top, LIST_SIZE)),
    )
    probs = probabilities(score, setting["platt"]["a"], setting["platt"]["b"])
    groups = serving_groups(session, *pool, vacancy_id, setting["groups"])
    return ServedFloor(key, floor, probs, groups)
