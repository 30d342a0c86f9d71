"""How readable a group's exposure against merit is: the client bootstrap, the placebo false-alarm rate and the Dutch
verdict per group in the audit (``training/fairness_readability.py``, issue 19 item 1)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.factories import buried_b_audit
from tests.factories import fairness_pools as pools
from training.fairness import audit_ranking, top_k_mask
from training.fairness_readability import (
    ONDER,
    ONLEESBAAR,
    VERDICT_RULE,
    VOLDOET,
    ClientTotals,
    client_bootstrap,
    false_alarm_rate,
    verdict,
)

FIELDS = {"effectiveMeritClients", "exposureVsMeritClientCI", "placeboBelow", "meritVerdict"}


def test_every_group_row_carries_the_readability_fields_and_the_rule_in_dutch() -> None:
    audit = buried_b_audit()
    section = audit["attributes"]["groep"]
    assert section["readabilityRule"] == VERDICT_RULE
    assert "onleesbaar" in VERDICT_RULE and "voldoet" in VERDICT_RULE and "onder" in VERDICT_RULE
    for row in section["groups"].values():
        assert FIELDS <= set(row)
        assert row["meritVerdict"] in {"voldoet", "onder", "onleesbaar"}


def test_a_group_with_a_clear_deficit_reads_onder_and_the_others_voldoet() -> None:
    groups = buried_b_audit()["attributes"]["groep"]["groups"]  # "b" gets almost no top-10 places
    assert groups["b"]["exposureVsMerit"] < 0.2
    assert groups["b"]["exposureVsMeritClientCI"][1] < 0.8
    assert groups["b"]["meritVerdict"] == ONDER
    assert groups["a"]["meritVerdict"] == VOLDOET
    assert groups["b"]["placeboBelow"] < 0.05  # ~200 random clients almost never read that low by chance


def _unlucky_noise_group(data: object, merit: np.ndarray, top: np.ndarray, size: int = 6) -> np.ndarray:
    """The first ``size`` consecutive client ids whose ratio reads below 0.8 by chance (scores are pure noise)."""
    client_ids = data.client_ids  # type: ignore[attr-defined]
    for start in range(5, 400, size):
        member = (client_ids >= start) & (client_ids < start + size)
        merit_share, top_share = np.sum(member & merit) / np.sum(merit), np.sum(member & top) / np.sum(top)
        if merit_share > 0 and top_share / merit_share < 0.8:
            return member
    raise AssertionError("no unlucky group")


def test_a_tiny_group_of_noise_below_08_reads_onleesbaar_not_onder() -> None:
    data, _ = pools()
    scores = np.random.default_rng(7).random(len(data))  # no group effect at all
    merit = data.labels > 0
    member = _unlucky_noise_group(data, merit, top_k_mask(scores, data.vacancy_ids))
    groups = {"ruis": np.where(member, "klein", "rest").astype(object)}
    row = audit_ranking(data, scores, groups, merit=merit)["attributes"]["ruis"]["groups"]["klein"]
    assert row["exposureVsMerit"] < 0.8 and row["clients"] <= 6
    assert row["exposureVsMeritClientCI"][1] >= 0.8
    assert row["meritVerdict"] == ONLEESBAAR
    assert row["placeboBelow"] > 0.2  # random groups of six read below 0.8 often


def test_the_readability_is_reproducible_for_a_seed_and_moves_with_it() -> None:
    data, groups = pools()
    scores = np.random.default_rng(3).random(len(data))

    def rows(seed: int) -> dict[str, tuple]:
        found = audit_ranking(data, scores, groups, seed=seed)["attributes"]["groep"]["groups"]
        return {g: (r["exposureVsMeritClientCI"], r["placeboBelow"]) for g, r in found.items()}

    assert rows(1) == rows(1)
    assert rows(1) != rows(2)


def test_the_client_bootstrap_is_exact_when_every_client_of_the_group_is_alike() -> None:
    client_ids = np.repeat(np.arange(40), 4)  # 40 clients, 4 rows each
    merit = np.tile([True, True, False, False], 40)
    top = np.tile([True, False, False, False], 40)
    top[client_ids >= 20] = np.tile([True, True, True, False], 20)  # the others get more places
    member = client_ids < 20
    point = (np.sum(member & top) / np.sum(top)) / (np.sum(member & merit) / np.sum(merit))
    interval = client_bootstrap(member, merit, top, client_ids, np.random.default_rng(0))
    assert interval == pytest.approx([point, point], abs=1e-4)
    assert verdict(round(point, 4), interval) == ONDER


def test_random_groups_of_everyone_never_alarm_and_tiny_ones_often_do() -> None:
    rng = np.random.default_rng(0)
    client_ids = rng.integers(0, 300, 6000)
    merit, top = rng.random(6000) < 0.2, rng.random(6000) < 0.25
    totals = ClientTotals.of(client_ids, merit, top)
    assert false_alarm_rate(totals, len(np.unique(client_ids)), rng, draws=50) == 0.0
    assert false_alarm_rate(totals, 3, rng) > 0.2
    assert false_alarm_rate(totals, 3, np.random.default_rng(5)) == false_alarm_rate(
        totals, 3, np.random.default_rng(5)
    )


@pytest.mark.parametrize(
    ("point", "interval", "expected"),
    [
        (0.8, [0.5, 1.1], VOLDOET),
        (1.3, None, VOLDOET),
        (0.6, [0.4, 0.79], ONDER),
        (0.6, [0.4, 0.8], ONLEESBAAR),
        (0.6, None, ONLEESBAAR),
        (None, None, ONLEESBAAR),
    ],
)
def test_the_verdict_rule(point: float | None, interval: list[float] | None, expected: str) -> None:
    assert verdict(point, interval) == expected


def test_the_gate_refuses_as_before_and_shows_how_readable_the_failing_group_is() -> None:
    from training.fairness_report import describe_breach, merit_breaches
    from training.promotion import fairness_gate

    row = {
        "clients": 52,
        "exposureVsMerit": 0.7,
        "exposureVsMeritCI": [0.5, 0.9],
        "exposureVsMeritClientCI": [0.32, 1.4],
        "effectiveMeritClients": 5.4,
        "placeboBelow": 0.16,
        "meritVerdict": ONLEESBAAR,
        "ratio": 1.0,
        "ratioCI": [0.9, 1.1],
    }
    served = {"minGroup": 30, "attributes": {"geslacht": {"groups": {"x": row}}}, "goal": {"groupsBelow": []}}
    refused = fairness_gate({**buried_b_audit(), "served": served})
    assert not refused["passed"]  # the point estimate still decides: the goal is not loosened
    (breach,) = merit_breaches(served)
    line = describe_breach(breach)
    assert "geslacht=x: blootstelling ÷ verdienste 0.70" in line
    assert "oordeel onleesbaar, klantinterval [0.32, 1.40], 5.4 effectieve klanten met verdienste" in line
    assert "16 % van willekeurige groepen even groot leest onder 0.8" in line
