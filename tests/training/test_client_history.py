"""The client's outcome history as columns: only what was known before the moment, shrunk toward the prior."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from training.client_history import (
    COLUMNS,
    NO_SUCCESS_DAYS,
    PRIOR,
    columns,
    expected_from_profile,
    history_from,
    only_stages,
    stage_rates,
    steps_of,
)

DAY = 86_400.0


def test_steps_are_decided_by_the_event_that_settles_them() -> None:
    hired_and_lasting = [
        (None, "voorgesteld", None, 0.0),
        ("voorgesteld", "uitgenodigd", None, 1.0),
        ("uitgenodigd", "aangenomen", None, 2.0),
        ("aangenomen", "geplaatst", None, 3.0),
        ("geplaatst", "duurzaam", None, 4.0),
    ]
    assert steps_of(hired_and_lasting) == [(0, 1.0, True), (1, 2.0, True), (2, 4.0, True)]
    turned_down = [(None, "voorgesteld", None, 0.0), ("voorgesteld", "afgewezen", "vaardigheden", 5.0)]
    assert steps_of(turned_down) == [(0, 5.0, False)]
    after_invitation = [
        (None, "voorgesteld", None, 0.0),
        ("voorgesteld", "uitgenodigd", None, 1.0),
        ("uitgenodigd", "afgewezen", "motivatie", 2.0),
    ]
    assert steps_of(after_invitation) == [(0, 1.0, True), (1, 2.0, False)]


def test_situational_declines_and_a_withdrawn_hire_are_no_step() -> None:
    filled = [(None, "voorgesteld", None, 0.0), ("voorgesteld", "afgewezen", "vacature_vervuld_door_ander", 3.0)]
    assert steps_of(filled) == []
    withdrawn = [
        (None, "voorgesteld", None, 0.0),
        ("voorgesteld", "uitgenodigd", None, 1.0),
        ("uitgenodigd", "aangenomen", None, 2.0),
        ("aangenomen", "uitgevallen", "past_niet_bij_wensen", 3.0),
    ]
    assert steps_of(withdrawn) == [(0, 1.0, True), (1, 2.0, True)]
    dropped = [*withdrawn[:3], ("aangenomen", "geplaatst", None, 3.0), ("geplaatst", "uitgevallen", "motivatie", 9.0)]
    assert steps_of(dropped)[-1] == (2, 9.0, False)


def _one_client_history():
    """Client 7: invited for vacancy 1 (day 10), turned down for vacancy 2 (day 20), invited for vacancy 3
    (day 30, the vacancy the row asks about); client 8 has nothing."""
    proposals = {1: (7, 1, 5 * DAY), 2: (7, 2, 15 * DAY), 3: (7, 3, 25 * DAY)}
    events = {
        1: [(None, "voorgesteld", None, 5 * DAY), ("voorgesteld", "uitgenodigd", None, 10 * DAY)],
        2: [(None, "voorgesteld", None, 15 * DAY), ("voorgesteld", "afgewezen", "vaardigheden", 20 * DAY)],
        3: [(None, "voorgesteld", None, 25 * DAY), ("voorgesteld", "uitgenodigd", None, 30 * DAY)],
    }
    return history_from(proposals, events)


def test_only_steps_before_the_moment_and_never_the_own_vacancy_count() -> None:
    history = _one_client_history()
    expected = np.full(len(history), 0.5)
    rows = columns(
        history,
        expected,
        client_ids=np.array([7, 7, 7, 7, 8]),
        vacancy_ids=np.array([9, 9, 9, 3, 9]),
        moments=np.array([10 * DAY, 12 * DAY, 40 * DAY, 40 * DAY, 40 * DAY]),
    )
    assert rows.shape == (5, len(COLUMNS))
    # at day 10 exactly the invitation of day 10 is not yet known: nothing before the moment, strictly
    assert rows[0].tolist() == [0.0, 0.0, 1.0, NO_SUCCESS_DAYS]
    # day 12: one success expected at 0.5, shrunk by PRIOR pseudo-steps; two days since it
    assert np.allclose(rows[1], [0.5 / (1 + PRIOR), 1, 1, 2])
    # day 40, another vacancy: three steps, two successes (+0.5 +0.5 -0.5); the last success on day 30
    assert np.allclose(rows[2], [0.5 / (3 + PRIOR), 3, 3, 10])
    # day 40, asking about vacancy 3 itself: its own invitation and voorstel never count
    assert np.allclose(rows[3], [0.0, 2, 2, 30])
    # a client without any voorstel: the prior
    assert rows[4].tolist() == [0.0, 0.0, 0.0, NO_SUCCESS_DAYS]


def test_the_columns_do_not_depend_on_row_order() -> None:
    history = _one_client_history()
    expected = np.linspace(0.2, 0.8, len(history))
    clients, vacancies = np.array([7, 8, 7, 7]), np.array([9, 9, 3, 9])
    moments = np.array([40 * DAY, 40 * DAY, 40 * DAY, 12 * DAY])
    forward = columns(history, expected, clients, vacancies, moments)
    order = np.array([3, 1, 0, 2])
    assert np.array_equal(columns(history, expected, clients[order], vacancies[order], moments[order]), forward[order])


def _simulated(clients: int = 600, proposals: int = 5, seed: int = 0):
    """Each client a hidden readiness and a visible profile value; every step succeeds with a chance of both."""
    rng = np.random.default_rng(seed)
    hidden, visible = rng.normal(size=clients), rng.normal(size=clients)
    made, events, features = {}, {}, []
    voorstel = 0
    for client in range(clients):
        for k in range(proposals):
            voorstel += 1
            start = float(rng.integers(0, 300)) * DAY
            made[voorstel] = (client, 1000 + voorstel, start)
            invited = rng.random() < 1 / (1 + np.exp(-(hidden[client] + 1.5 * visible[client])))
            end = ("uitgenodigd", None) if invited else ("afgewezen", "vaardigheden")
            events[voorstel] = [(None, "voorgesteld", None, start), ("voorgesteld", end[0], end[1], start + DAY)]
            features.append([visible[client], rng.normal()])
            del k
    history = history_from(made, events)
    return history, np.array(features), hidden, visible


def test_the_excess_reads_the_hidden_readiness_and_the_residual_leaves_the_profile_out() -> None:
    history, features, hidden, visible = _simulated()
    fit = np.ones(len(history), bool)
    rates = stage_rates(history, fit)[history.step_stage]
    profile = expected_from_profile(history, features, fit)
    clients = np.arange(len(hidden))
    later = np.full(len(clients), 400 * DAY)
    raw = columns(history, rates, clients, np.zeros(len(clients), np.int64), later)[:, 0]
    residual = columns(history, profile, clients, np.zeros(len(clients), np.int64), later)[:, 0]
    above = hidden > np.median(hidden)
    assert roc_auc_score(above, raw) > 0.6
    assert roc_auc_score(above, residual) > 0.7  # the profile's share taken out, the hidden one stands out
    # the base-rate column mostly repeats the visible profile; the residual one does not
    assert abs(np.corrcoef(raw, visible)[0, 1]) > 0.6
    assert abs(np.corrcoef(residual, visible)[0, 1]) < 0.2


def test_the_own_history_holds_only_what_the_client_decides() -> None:
    hired_and_lasting = [
        (None, "voorgesteld", None, 0.0),
        ("voorgesteld", "uitgenodigd", None, 1.0),
        ("uitgenodigd", "aangenomen", None, 2.0),
        ("aangenomen", "geplaatst", None, 3.0),
        ("geplaatst", "duurzaam", None, 4.0),
    ]
    # the invitation and the hire are the employer's: only accepting (stage 3) and staying (stage 2) count
    assert steps_of(hired_and_lasting, own=True) == [(3, 3.0, True), (2, 4.0, True)]
    # an employer's no, at either stage, is no step of the client's own
    turned_down = [(None, "voorgesteld", None, 0.0), ("voorgesteld", "afgewezen", "motivatie", 5.0)]
    assert steps_of(turned_down, own=True) == []
    assert steps_of([*hired_and_lasting[:2], ("uitgenodigd", "afgewezen", "vaardigheden", 2.0)], own=True) == []
    withdrawn = [*hired_and_lasting[:3], ("aangenomen", "uitgevallen", "past_niet_bij_wensen", 3.0)]
    assert steps_of(withdrawn, own=True) == [(3, 3.0, False)]
    left = [*hired_and_lasting[:4], ("geplaatst", "uitgevallen", "motivatie", 9.0)]
    assert steps_of(left, own=True) == [(3, 3.0, True), (2, 9.0, False)]
    # ended for the job's demands (beperkingen), by the employer or for the employer's judgement: no failure
    for reason in ("belastbaarheid", "werkgever_ziet_af", "vaardigheden", "anders"):
        ended = [*hired_and_lasting[:4], ("geplaatst", "uitgevallen", reason, 9.0)]
        assert steps_of(ended, own=True) == [(3, 3.0, True)]


def test_a_client_never_hired_gets_the_prior_in_the_own_history() -> None:
    proposals = {1: (7, 1, 0.0), 2: (7, 2, 0.0), 3: (8, 3, 0.0)}
    rejected = [(None, "voorgesteld", None, 0.0), ("voorgesteld", "afgewezen", "vaardigheden", DAY)]
    hired = [
        (None, "voorgesteld", None, 0.0),
        ("voorgesteld", "uitgenodigd", None, DAY),
        ("uitgenodigd", "aangenomen", None, 2 * DAY),
        ("aangenomen", "geplaatst", None, 3 * DAY),
        ("geplaatst", "uitgevallen", "motivatie", 9 * DAY),
    ]
    own = history_from(proposals, {1: rejected, 2: rejected, 3: hired}, own=True)
    lasting = only_stages(own, (2,))
    assert len(own) == 2 and len(lasting) == 1 and lasting.step_stage.tolist() == [2]
    rows = columns(lasting, np.full(len(lasting), 0.75), np.array([7, 8]), np.array([9, 9]), np.full(2, 20 * DAY))
    # client 7, turned down twice by employers: no own step, the prior (0); client 8 left the job: below it
    assert rows[0, 0] == 0.0 and rows[0, 1] == 0
    assert np.isclose(rows[1, 0], -0.75 / (1 + PRIOR))
