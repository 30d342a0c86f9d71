"""Labelled (client, vacancy) pairs for the learned ranker, from recorded voorstellen.

One row per pair with a *decided* outcome (:func:`matching.outcomes.relevance_labels` without the
open label 1), grouped per vacancy, with the feature matrix of :mod:`matching.features`. Text
signals are what search computes: raw cosine of the stored vectors, and BM25 of the vacancy's text
against the client divided by the best BM25 among all clients for that vacancy.

Each vacancy has a moment: its first voorstel. The time split trains on older vacancies and tests
on newer ones, so a model is never judged on the past it learned from.

Beside the features every row carries what evaluation slices by (the vacancy's ``bron``, the
client's ``trede``) and whether its label is right-censored: a placement (``geplaatst``, label 3)
less than :data:`CENSORED_DAYS` before ``now`` cannot be ``duurzaam`` (label 4) yet, however well it
goes. Such rows keep label 3 and are marked ``censored``; the newest vacancies, which the time split
tests on, hold most of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from matching.domain import Vacancy, utcnow
from matching.features import FEATURE_NAMES
from matching.matcher import Matcher
from matching.outcomes import RelevanceLabel, Voorstel, relevance_labels
from matching.taxonomy import load_taxonomy
from training import latent
from training.ranking_store import CHUNK_VACANCIES, STORE_FOLDER, build_features, plan_pairs
from training.truth_arrays import Codebook

PLACED_LABEL = 3
CENSORED_DAYS = 183
"""A placement younger than this may still become duurzaam: the state machine allows ``duurzaam``
six calendar months (181–184 days) after ``geplaatst``; 183 days is that rule to within a day."""


@dataclass
class RankingData:
    """Rows sorted by (vacancy moment, vacancy id), so groups are contiguous and in time order."""

    features: np.ndarray  # (n, len(FEATURE_NAMES)) float32
    labels: np.ndarray  # (n,) int: 0 afgewezen … 4 duurzaam
    vacancy_ids: np.ndarray  # (n,) int64, the group of each row
    client_ids: np.ndarray  # (n,) int64
    moments: np.ndarray  # (n,) float64 epoch seconds of the vacancy's first voorstel
    feature_names: tuple[str, ...] = FEATURE_NAMES
    # Optional so hand-built data (tests, benchmarks) need not invent them; build_dataset fills all three.
    bron: np.ndarray | None = None  # (n,) str: the vacancy's source, "WSP" or "Scalabor" (matching.vocab.Bron)
    trede: np.ndarray | None = None  # (n,) int64: the client's trede 0–5
    censored: np.ndarray | None = None  # (n,) bool: label 3 whose placement may still become duurzaam
    # Per client id, (zelfbeschrijving, notities) a ranker reading the notes column reads instead of the stored
    # texts: a counterfactual test's swapped texts (training.counterfactual); None: the stored ones.
    texts: Mapping[int, tuple[str, str]] | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def group_sizes(self) -> np.ndarray:
        """Rows per vacancy, in row order (what LGBMRanker's ``group`` wants)."""
        _, first, counts = np.unique(self.vacancy_ids, return_index=True, return_counts=True)
        return counts[np.argsort(first)]

    def take(self, rows: np.ndarray) -> RankingData:
        """The given rows (indices or a boolean mask), every per-row array alike (copied)."""
        values = {field.name: getattr(self, field.name) for field in fields(self)}
        return RankingData(
            **{name: value[rows] if isinstance(value, np.ndarray) else value for name, value in values.items()}
        )

    def time_split(self, test_share: float = 0.2) -> tuple[RankingData, RankingData]:
        """Older vacancies for training, the newest ``test_share`` of vacancies for testing."""
        vacancies, first = np.unique(self.vacancy_ids, return_index=True)
        order = vacancies[np.argsort(self.moments[first], kind="stable")]
        cut = int(round(len(order) * (1 - test_share)))
        test = np.isin(self.vacancy_ids, order[cut:])
        first_test = int(np.argmax(test)) if test.any() else len(self)
        if not test[:first_test].any() and test[first_test:].all():  # rows in time order (build_dataset's)
            return self.rows(0, first_test), self.rows(first_test, len(self))
        return self.take(np.flatnonzero(~test)), self.take(np.flatnonzero(test))

    def rows(self, start: int, stop: int) -> RankingData:
        """Rows ``[start, stop)`` as views of these arrays: no copy (a time split of time-ordered rows)."""
        values = {field.name: getattr(self, field.name) for field in fields(self)}
        return RankingData(
            **{name: value[start:stop] if isinstance(value, np.ndarray) else value for name, value in values.items()}
        )


LabelSource = Callable[[Session, datetime | None], list[RelevanceLabel]]


def build_dataset(
    matcher: Matcher,
    since: datetime | None = None,
    now: datetime | None = None,
    labels: LabelSource = relevance_labels,
    chunk_vacancies: int = CHUNK_VACANCIES,
    say: Callable[[str], None] | None = None,
) -> RankingData:
    """The decided pairs and their features; the matcher must be synced (its vectors are read).

    The pairs become numpy columns first (:func:`training.ranking_store.plan_pairs`); the features
    are then computed ``chunk_vacancies`` vacancy groups at a time through shards in
    ``<data dir>/ranking`` (:func:`training.ranking_store.build_features`), so the memory a build
    needs beyond the matcher and the label source's rows is the result plus one chunk.

    Args:
        labels: where the judgements come from: the voorstellen (default; what evaluation and
            promotion compare on), or also the suggestions consulenten declined in their inbox
            (``api.services.voorstellen.training_labels``, what ``werkmatch train`` learns from).
        matcher: A synced matcher; its stored vectors, lexical index and structured arrays are read.
        since: Only pairs whose latest proposal changed at or after this aware moment; None for all.
        now: The moment features (profile age) and censoring are computed at; defaults to now.
            A pair still ``geplaatst`` (label 3) is ``censored`` when it was placed less than
            :data:`CENSORED_DAYS` before ``now``. The placement moment is the label's ``decided_at``:
            a proposal's ``updated_at`` changes only on a transition, so for a proposal that is still
            ``geplaatst`` it is the moment of the ``geplaatst`` event.
        chunk_vacancies: Vacancy groups per chunk; the result does not depend on it.
        say: Told what happens (a line per step and per shard); None: silent.
    """
    now = now or utcnow()
    if say is not None:
        say("indexen laden en bijwerken")
    matcher.index.catch_up()
    clients, vacancies = matcher.index.arrays()
    if say is not None:
        say("besliste paren lezen")
    with Session(matcher.engine) as session:
        labelled = labels(session, since)
        first_seen = session.exec(
            select(Voorstel.vacancy_id, func.min(Voorstel.created_at)).group_by(Voorstel.vacancy_id)
        ).all()
        source_of = dict(session.exec(select(Vacancy.id, Vacancy.bron)).all())
    plan = plan_pairs(
        labelled,
        {vacancy: moment.timestamp() for vacancy, moment in first_seen},
        np.fromiter(clients.position, np.int64, len(clients.position)),
        np.fromiter(vacancies.position, np.int64, len(vacancies.position)),
    )
    del labelled, first_seen  # the Python rows: from here on only columns
    if say is not None:
        say(f"{len(plan):_} besliste paren van {len(np.unique(plan.vacancy_ids)):_} vacatures".replace("_", "."))
    store = matcher.settings.data_dir / STORE_FOLDER
    features = build_features(matcher, plan, now, store, chunk_vacancies, say)
    unique, inverse = np.unique(plan.vacancy_ids, return_inverse=True)
    c_rows = np.fromiter((clients.position[int(i)] for i in plan.client_ids), np.int64, len(plan))
    return RankingData(
        features=features,
        labels=plan.labels,
        vacancy_ids=plan.vacancy_ids,
        client_ids=plan.client_ids,
        moments=plan.moments,
        bron=np.array([source_of[int(v)] for v in unique], dtype=str)[inverse],
        trede=clients.trede[c_rows].astype(np.int64),
        censored=(plan.labels == PLACED_LABEL) & (plan.decided > (now - timedelta(days=CENSORED_DAYS)).timestamp()),
    )


def true_scores(engine: Engine, data: RankingData) -> np.ndarray | None:
    """The hidden true suitability of every row's pair (the oracle), or None on data without a truth."""
    truth = latent.load_client_arrays(engine)
    if len(truth.ids) == 0:
        return None
    row_of = {int(key): row for row, key in enumerate(truth.ids)}
    out = np.zeros(len(data), np.float32)
    codebook = Codebook.from_taxonomy(load_taxonomy())
    for vacancy_id in np.unique(data.vacancy_ids):
        rows = np.flatnonzero(data.vacancy_ids == vacancy_id)
        try:
            profile = latent.load_vacancy_profile(engine, int(vacancy_id), codebook)
            truth_rows = np.array([row_of[int(c)] for c in data.client_ids[rows]], np.int64)
        except (LookupError, KeyError):
            return None
        out[rows] = latent.evaluate(truth.take(truth_rows), profile)[0]
    return out
