"""The fairness audit groups clients by ``geschiedenis`` (afromen): proposed for another vacancy before or not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session

from matching import outcomes
from matching.floor_state import EVER, NEVER
from tests.factories import make_client, make_vacancy
from training.dataset import RankingData
from training.fairness import audit_ranking, group_labels
from training.fairness_report import ATTRIBUTE_LABELS

PROPOSED_AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _rows(engine: Engine) -> tuple[RankingData, dict[str, int], dict[str, int]]:
    """Three clients and two vacancies; A was proposed for V-EEN on PROPOSED_AT, nobody else ever."""
    with Session(engine) as session:
        clients = {name: make_client(session, client_nummer=f"K-{name}").id for name in ("A", "B", "C")}
        vacancies = {name: make_vacancy(session, vacature_nummer=f"V-{name}").id for name in ("EEN", "TWEE")}
        outcomes.propose(session, "K-A", "V-EEN", "consulent-a", "consulent", at=PROPOSED_AT)
    day = timedelta(days=1)
    rows = [  # (client, vacancy, moment of the pool)
        ("A", "TWEE", PROPOSED_AT + day),  # proposed for another vacancy before: eerder voorgesteld
        ("A", "TWEE", PROPOSED_AT - day),  # the pool came before the proposal
        ("A", "EEN", PROPOSED_AT + day),  # only for this vacancy itself
        ("B", "TWEE", PROPOSED_AT + day),  # never proposed
    ]
    data = RankingData(
        features=np.zeros((len(rows), 0), np.float32),
        labels=np.zeros(len(rows), np.int64),
        vacancy_ids=np.array([vacancies[v] for _, v, _ in rows], np.int64),
        client_ids=np.array([clients[c] for c, _, _ in rows], np.int64),
        moments=np.array([moment.timestamp() for _, _, moment in rows], np.float64),
        feature_names=(),
        trede=np.full(len(rows), 3, np.int64),
    )
    return data, clients, vacancies


def test_geschiedenis_is_a_proposal_for_another_vacancy_before_the_pool(engine: Engine) -> None:
    data, _, _ = _rows(engine)
    assert group_labels(engine, data)["geschiedenis"].tolist() == [EVER, NEVER, NEVER, NEVER]


def test_the_audit_reports_geschiedenis_with_a_dutch_label(engine: Engine) -> None:
    data, _, _ = _rows(engine)
    groups = group_labels(engine, data)
    audit = audit_ranking(data, np.arange(len(data), dtype=np.float64), groups, np.ones(len(data), bool))
    assert set(audit["attributes"]["geschiedenis"]["groups"]) == {EVER, NEVER}
    assert "afromen" in ATTRIBUTE_LABELS["geschiedenis"]
