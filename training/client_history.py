"""A client's own outcome history as a readiness signal, point in time (issue 19, item 2; research, not served).

What happened to a client's earlier voorstellen is an observed consequence of what the profile does not
show (motivation, reliability, the true readiness and competences). This module turns the voorstel
history into a few numbers per (client, vacancy, moment), reading **only steps decided strictly before
the moment** and never a step of the same vacancy, so the pair's own outcome and anything later stay out:

* every voorstel is up to three *steps*, each decided by one event: the invitation (``uitgenodigd``
  against ``afgewezen`` straight from ``voorgesteld``), the hire (``aangenomen`` against ``afgewezen``
  after an invitation) and the lasting placement (``duurzaam`` against ``uitgevallen`` after
  ``geplaatst``). A decline for a situational reason (:data:`matching.reasons.SITUATIONAL` and the retired
  codes that meant the same) says nothing about the client and is no step, as it is no training label;
* ``history_excess``: the client's successes minus what was expected of those steps, over the number of
  steps plus :data:`PRIOR` pseudo-steps that met the expectation, so a client with few steps stays near 0
  (the population prior). The expectation is the stage's base rate (:func:`stage_rates`), or, for the
  residual reading, an out-of-fold model of the pair's profile features (:func:`expected_from_profile`):
  then the column holds only what the profile did not already predict;
* the client's own history (``own=True``, :func:`own_steps_of`): only the steps the client decides after an
  employer said yes (accepting the hire, staying in the job), so neither the employers' decisions nor the
  consulenten's choice of whom to propose enter it; a client never hired has no step and gets the prior;
* ``history_steps``: how many steps were decided (how much the excess can be trusted);
* ``history_proposals``: how many voorstellen were made (what the consulenten chose: afromen, shown to
  see whether a ranker learns it);
* ``history_days_since_success``: days since the last successful step (:data:`NO_SUCCESS_DAYS` without one).

No beperking and no protected attribute is read; the outcomes themselves carry the employers'
discrimination of the simulated history, so any use must measure what the columns separate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sqlalchemy import text as sql
from sqlalchemy.engine import Engine

from matching.reasons import SITUATIONAL

PRIOR = 2.0
"""Pseudo-steps at the expected rate added to every client's steps (shrinkage toward the population)."""
NO_SUCCESS_DAYS = 3 * 365.0
FOLDS = 5
STAGES = ("uitnodiging", "aanname", "duurzaam", "acceptatie")
"""The last stage, accepting the hire (``geplaatst`` against withdrawing), counts only in the client's own history."""
RETIRED_SITUATIONAL = frozenset(
    {"vacature_vervuld_door_ander", "niet_verschenen", "werkgever_trekt_in", "klant_trekt_in"}
)
SITUATIONAL_CODES = frozenset(str(code) for code in SITUATIONAL) | RETIRED_SITUATIONAL
CLIENT_REASONS = frozenset({"past_niet_bij_wensen", "motivatie"})
"""The reasons that say the *client* ended a voorstel after the hire: the client does not want the work or
withdraws, or lacks the motivation. Not ``belastbaarheid`` (the job's demands against the client's beperkingen: a
mismatch of the job, and counting it would teach the ranker to put people with a beperking lower), not
``vaardigheden`` nor ``werkgever_ziet_af`` (the employer's judgement, which can carry the same bias as hiring)."""
COLUMNS = ("history_excess", "history_steps", "history_proposals", "history_days_since_success")
MONOTONE = (1, 0, 0, 0)
"""The excess is constrained upwards; counts and recency are left free (their direction is not known)."""


@dataclass
class History:
    """Every decided step and every voorstel, as aligned columns (epoch seconds)."""

    step_client: np.ndarray  # int64
    step_vacancy: np.ndarray  # int64
    step_stage: np.ndarray  # int8: index into STAGES
    step_at: np.ndarray  # float64: when the deciding event happened
    step_success: np.ndarray  # bool
    proposal_client: np.ndarray  # int64
    proposal_vacancy: np.ndarray  # int64
    proposal_at: np.ndarray  # float64: created_at

    def __len__(self) -> int:
        return len(self.step_client)


def _epoch(value: Any) -> float:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def steps_of(
    events: list[tuple[str | None, str, str | None, float]], own: bool = False
) -> list[tuple[int, float, bool]]:
    """The decided steps of one voorstel from its events ``(from, to, reason, at)`` in time order.

    ``own``: only the client's own steps (:func:`own_steps_of`)."""
    if own:
        return own_steps_of(events)
    out: list[tuple[int, float, bool]] = []
    for before, after, reason, at in events:
        situational = reason is not None and str(reason) in SITUATIONAL_CODES
        if after == "uitgenodigd":
            out.append((0, at, True))
        elif after == "aangenomen":
            out.append((1, at, True))
        elif after == "duurzaam":
            out.append((2, at, True))
        elif after == "afgewezen" and not situational and before in ("voorgesteld", "uitgenodigd"):
            out.append((0 if before == "voorgesteld" else 1, at, False))
        elif after == "uitgevallen" and not situational and before == "geplaatst":
            out.append((2, at, False))
    return out


def own_steps_of(events: list[tuple[str | None, str, str | None, float]]) -> list[tuple[int, float, bool]]:
    """The steps of one voorstel that the client decides, not an employer nor a consulent.

    The invitation and the hire are the employer's decisions: the callback gaps of the Dutch field experiments
    are measured exactly there, and who is proposed at all is the consulent's choice (afromen). Neither is
    the client's readiness. What the client decides after an employer said yes: accepting the hire
    (``geplaatst`` against withdrawing for a reason of :data:`CLIENT_REASONS`, stage ``acceptatie``) and
    staying in the job (``duurzaam`` against leaving for such a reason, stage ``duurzaam``). An ending for any
    other reason is no step: no success, no failure.
    """
    out: list[tuple[int, float, bool]] = []
    for before, after, reason, at in events:
        own_reason = reason is not None and str(reason) in CLIENT_REASONS
        if after == "geplaatst" and before == "aangenomen":
            out.append((3, at, True))
        elif after == "duurzaam":
            out.append((2, at, True))
        elif after == "uitgevallen" and own_reason and before in ("aangenomen", "geplaatst"):
            out.append((3 if before == "aangenomen" else 2, at, False))
    return out


def load_history(engine: Engine, own: bool = False) -> History:
    """The voorstellen and their decided steps, read from ``voorstel`` and ``voorstel_event`` (``own``: only the
    client's own steps, :func:`own_steps_of`)."""
    query = sql(
        "SELECT v.id, v.client_id, v.vacancy_id, v.created_at, e.from_status, e.to_status, e.reason_code, e.at "
        "FROM voorstel v JOIN voorstel_event e ON e.voorstel_id = v.id ORDER BY v.id, e.at, e.id"
    )
    proposals: dict[int, tuple[int, int, float]] = {}
    events: dict[int, list[tuple[str | None, str, str | None, float]]] = {}
    with engine.connect() as connection:
        for voorstel, client, vacancy, created, before, after, reason, at in connection.execute(query):
            proposals.setdefault(int(voorstel), (int(client), int(vacancy), _epoch(created)))
            events.setdefault(int(voorstel), []).append((before, after, reason, _epoch(at)))
    return history_from(proposals, events, own)


def history_from(
    proposals: dict[int, tuple[int, int, float]],
    events: dict[int, list[tuple[str | None, str, str | None, float]]],
    own: bool = False,
) -> History:
    """:class:`History` from voorstellen ``id -> (client, vacancy, created)`` and their events."""
    rows: list[tuple[int, int, int, float, bool]] = []
    for voorstel, (client, vacancy, _) in proposals.items():
        steps = steps_of(events.get(voorstel, []), own)
        rows.extend((client, vacancy, stage, at, ok) for stage, at, ok in steps)
    made = list(proposals.values())
    return History(
        step_client=np.array([r[0] for r in rows], np.int64),
        step_vacancy=np.array([r[1] for r in rows], np.int64),
        step_stage=np.array([r[2] for r in rows], np.int8),
        step_at=np.array([r[3] for r in rows], np.float64),
        step_success=np.array([r[4] for r in rows], bool),
        proposal_client=np.array([p[0] for p in made], np.int64),
        proposal_vacancy=np.array([p[1] for p in made], np.int64),
        proposal_at=np.array([p[2] for p in made], np.float64),
    )


def only_stages(history: History, stages: tuple[int, ...]) -> History:
    """The same voorstellen with only the steps of ``stages`` (indexes into :data:`STAGES`)."""
    keep = np.isin(history.step_stage, np.asarray(stages, np.int8))
    return replace(
        history,
        step_client=history.step_client[keep],
        step_vacancy=history.step_vacancy[keep],
        step_stage=history.step_stage[keep],
        step_at=history.step_at[keep],
        step_success=history.step_success[keep],
    )


def stage_rates(history: History, fit: np.ndarray) -> np.ndarray:
    """Per stage the share of successes among the steps ``fit`` (a mask) selects: the population prior."""
    rates = np.zeros(len(STAGES))
    for stage in range(len(STAGES)):
        chosen = fit & (history.step_stage == stage)
        rates[stage] = history.step_success[chosen].mean() if chosen.any() else 0.5
    return rates


def client_fold(clients: np.ndarray) -> np.ndarray:
    """A fold per client id, stable and independent of which clients are present."""
    return (np.asarray(clients, np.uint64) * np.uint64(0x9E3779B97F4A7C15) >> np.uint64(59)).astype(np.int64) % FOLDS


def expected_from_profile(history: History, features: np.ndarray, fit: np.ndarray) -> np.ndarray:
    """Per step the chance of success a model of the pair's profile features gives, out of fold by client.

    ``features``: per step, the features of its (client, vacancy) pair; ``fit``: the steps the models may
    learn from (the training period). One classifier per stage and fold; a step is always scored by the
    model that never saw its client, so a client's residual is never its own outcome fitted back.
    """
    expected = np.zeros(len(history))
    fold = client_fold(history.step_client)
    base = stage_rates(history, fit)
    for stage in range(len(STAGES)):
        of_stage = history.step_stage == stage
        for k in range(FOLDS):
            learn = fit & of_stage & (fold != k)
            target = of_stage & (fold == k)
            if not target.any():
                continue
            if learn.sum() < 50 or len(np.unique(history.step_success[learn])) < 2:
                expected[target] = base[stage]
                continue
            model = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.05, random_state=0)
            model.fit(features[learn], history.step_success[learn])
            expected[target] = model.predict_proba(features[target])[:, 1]
    return expected


def columns(
    history: History,
    expected: np.ndarray,
    client_ids: np.ndarray,
    vacancy_ids: np.ndarray,
    moments: np.ndarray,
    prior: float = PRIOR,
) -> np.ndarray:
    """The :data:`COLUMNS` for each (client, vacancy, moment) row, from steps strictly before the moment.

    ``expected``: per step what a success was expected to be (a stage rate or :func:`expected_from_profile`).
    Steps and voorstellen of the row's own vacancy never count, whenever they happened.
    """
    client_ids, vacancy_ids = np.asarray(client_ids, np.int64), np.asarray(vacancy_ids, np.int64)
    moments = np.asarray(moments, np.float64)
    out = np.zeros((len(client_ids), len(COLUMNS)), np.float64)
    out[:, 3] = NO_SUCCESS_DAYS
    surprise = history.step_success.astype(np.float64) - expected
    step_order = np.argsort(history.step_client, kind="stable")
    step_clients, step_starts = np.unique(history.step_client[step_order], return_index=True)
    made_order = np.argsort(history.proposal_client, kind="stable")
    made_clients, made_starts = np.unique(history.proposal_client[made_order], return_index=True)
    row_order = np.argsort(client_ids, kind="stable")
    row_clients, row_starts = np.unique(client_ids[row_order], return_index=True)
    for client, rows in zip(row_clients.tolist(), np.split(row_order, row_starts[1:]), strict=True):
        moment, vacancy = moments[rows][:, None], vacancy_ids[rows][:, None]
        steps = _slice(step_order, step_clients, step_starts, client)
        if len(steps):
            seen = (history.step_at[steps][None, :] < moment) & (history.step_vacancy[steps][None, :] != vacancy)
            count = seen.sum(axis=1)
            out[rows, 0] = (seen * surprise[steps][None, :]).sum(axis=1) / (count + prior)
            out[rows, 1] = count
            won = seen & history.step_success[steps][None, :]
            last = np.where(won, history.step_at[steps][None, :], -np.inf).max(axis=1)
            out[rows, 3] = np.where(
                np.isfinite(last), np.minimum((moments[rows] - last) / 86_400.0, NO_SUCCESS_DAYS), NO_SUCCESS_DAYS
            )
        made = _slice(made_order, made_clients, made_starts, client)
        if len(made):
            before = (history.proposal_at[made][None, :] < moment) & (
                history.proposal_vacancy[made][None, :] != vacancy
            )
            out[rows, 2] = before.sum(axis=1)
    return out


def _slice(order: np.ndarray, keys: np.ndarray, starts: np.ndarray, key: int) -> np.ndarray:
    """The positions in ``order`` of ``key``'s block (empty when absent)."""
    at = int(np.searchsorted(keys, key))
    if at >= len(keys) or keys[at] != key:
        return order[:0]
    stop = starts[at + 1] if at + 1 < len(starts) else len(order)
    return order[starts[at] : stop]


def ever_proposed_before(
    history: History, client_ids: np.ndarray, vacancy_ids: np.ndarray, moments: np.ndarray
) -> np.ndarray:
    """Per row: was the client proposed for a vacancy other than the row's strictly before the row's moment."""
    client_ids, vacancy_ids = np.asarray(client_ids, np.int64), np.asarray(vacancy_ids, np.int64)
    moments = np.asarray(moments, np.float64)
    if not len(history.proposal_client):
        return np.zeros(len(client_ids), bool)
    order = np.lexsort((history.proposal_at, history.proposal_client))
    client, vacancy, at = history.proposal_client[order], history.proposal_vacancy[order], history.proposal_at[order]
    clients, first, counts = np.unique(client, return_index=True, return_counts=True)
    first_at, first_vacancy = at[first], vacancy[first]
    # the earliest proposal for another vacancy than the client's first one
    segment = np.repeat(np.arange(len(clients)), counts)
    other = vacancy != first_vacancy[segment]
    other_at = np.full(len(clients), np.inf)
    np.minimum.at(other_at, segment[other], at[other])
    at_ = np.minimum(np.searchsorted(clients, client_ids), len(clients) - 1)
    known = clients[at_] == client_ids
    earliest = np.where(vacancy_ids == first_vacancy[at_], other_at[at_], first_at[at_])
    return known & (earliest < moments)
