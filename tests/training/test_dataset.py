"""Labelled pairs for the ranker: decided outcomes only, grouped per vacancy, split by time."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlmodel import Session, select

from matching.domain import Client, Vacancy, utcnow
from matching.features import FEATURE_NAMES
from matching.matcher import Matcher
from matching.outcomes import relevance_labels
from training.dataset import CENSORED_DAYS, build_dataset
from training.outcome_sim import SimulationSettings, simulate, write_history
from training.synthetic import generate, write_to_db

pytestmark = pytest.mark.slow  # a simulated world of two years of voorstellen: ≈ 17 s


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory, embedder):
    from matching.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("dataset") / "var")
    matcher = Matcher(settings, embedder=embedder)
    write_to_db(matcher.engine, generate(250, 40, seed=5), progress=False)
    write_history(matcher.engine, simulate(matcher.engine, SimulationSettings(years=2), seed=5))
    matcher.sync()
    with Session(matcher.engine) as session:
        decided = [row for row in relevance_labels(session) if row.label != 1]
    now = utcnow()
    return build_dataset(matcher, now=now), decided, matcher, now


def test_rows_are_the_decided_pairs_with_their_labels(data) -> None:
    dataset, decided, _, _ = data
    assert len(dataset) == len(decided) > 0
    assert dataset.features.shape == (len(dataset), len(FEATURE_NAMES))
    assert np.isfinite(dataset.features).all()
    expected = {(row.client_id, row.vacancy_id): row.label for row in decided}
    got = {
        (int(c), int(v)): int(y)
        for c, v, y in zip(dataset.client_ids, dataset.vacancy_ids, dataset.labels, strict=True)
    }
    assert got == expected
    assert 1 not in set(dataset.labels.tolist())  # open proposals carry no verdict yet


def test_groups_are_contiguous_and_the_split_is_by_time(data) -> None:
    dataset = data[0]
    sizes = dataset.group_sizes()
    assert sizes.sum() == len(dataset)
    changes = np.flatnonzero(np.diff(dataset.vacancy_ids)) + 1
    assert len(changes) + 1 == len(sizes)  # each vacancy appears as one block
    train, test = dataset.time_split(0.25)
    assert len(train) + len(test) == len(dataset)
    assert not set(train.vacancy_ids.tolist()) & set(test.vacancy_ids.tolist())
    assert train.moments.max() <= test.moments.min()


def test_rows_carry_the_vacancys_source_and_the_clients_trede(data) -> None:
    dataset, _, matcher, _ = data
    with Session(matcher.engine) as session:
        source_of = dict(session.exec(select(Vacancy.id, Vacancy.bron)).all())
        trede_of = dict(session.exec(select(Client.id, Client.trede)).all())
    assert dataset.bron.tolist() == [source_of[int(v)] for v in dataset.vacancy_ids]
    assert set(dataset.bron.tolist()) == {"WSP", "Scalabor"}
    assert dataset.trede.tolist() == [int(trede_of[int(c)]) for c in dataset.client_ids]
    _, test = dataset.time_split(0.25)
    assert test.bron.tolist() == [source_of[int(v)] for v in test.vacancy_ids]  # split keeps them aligned


def test_recent_placements_are_censored(data) -> None:
    dataset, decided, matcher, now = data
    cutoff = now - timedelta(days=CENSORED_DAYS)
    recent = {(row.client_id, row.vacancy_id) for row in decided if row.label == 3 and row.decided_at > cutoff}
    flagged = dataset.take(np.flatnonzero(dataset.censored))
    got = {(int(c), int(v)) for c, v in zip(flagged.client_ids, flagged.vacancy_ids, strict=True)}
    assert got == recent and len(recent) > 0
    assert (flagged.labels == 3).all() and flagged.censored.all()  # the label itself is kept
    # A year on, every one of today's placements has had its six months: nothing is censored.
    later = build_dataset(matcher, now=now + timedelta(days=365))
    assert len(later) == len(dataset) and not later.censored.any()
