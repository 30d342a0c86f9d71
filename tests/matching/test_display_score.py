"""The shown score (matching.display_score): the chance of a hire, 0–100, one number per pair, parts that add up."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pytest
from sqlmodel import Session

from matching import display_score
from matching.domain import Client, Vacancy, client_from_input, vacancy_from_input
from matching.explain import PairFacts, explain_pair
from matching.features import EXPERIENCE_COLUMN, FEATURE_NAMES, MONOTONE
from matching.matcher import Matcher
from matching.taxonomy import load_taxonomy
from tests.factories import (
    SCHOONMAAKWERK,
    SCHOONMAKER,
    client_in,
    make_client,
    make_vacancy,
    plausible_pairs,
    vacancy_in,
)

COLUMN = {name: position for position, name in enumerate(FEATURE_NAMES)}
MODEL = display_score.model()
# What never enters the shown score: protected attributes and beperkingen (features.py has none of them),
# BM25 (pool-relative) and the features without a direction (profile bookkeeping).
NEVER = ("lexical_similarity", "days_since_update", "missing_fields", "readiness_surplus", "language_unknown")


def _realistic(n: int, seed: int) -> np.ndarray:
    """Plausible rows with cosines in the band real embeddings give (0.95–0.995)."""
    rows = np.resize(plausible_pairs(), (n, len(FEATURE_NAMES))).astype(np.float64)
    rng = np.random.default_rng(seed)
    rows[:, COLUMN["dense_similarity"]] = 0.95 + 0.045 * rng.random(n)
    for name in ("required_coverage", "optional_coverage", "wishes_occupation", "wishes_sector"):
        rows[:, COLUMN[name]] = rng.random(n) < 0.5 if name.startswith("wishes") else rng.random(n)
    rows[:, COLUMN["licence_missing"]] = rng.random(n) < 0.05
    rows[:, COLUMN["language_gap"]] = rng.choice([0, 0, 0, 0, 1, 2], n)
    rows[:, COLUMN["certificate_gap"]] = rng.choice([0, 0, 0, 1, 2], n)
    return rows


def test_the_model_file_uses_only_directed_pair_features_with_their_signs() -> None:
    data = json.loads(display_score.MODEL_PATH.read_text(encoding="utf-8"))
    assert (
        data["command"].startswith("nice -n 10 .venv/bin/python bench/display_score.py") and "--fit" in data["command"]
    )
    names = [row["kenmerk"] for row in data["kenmerken"]]
    assert sorted(names) == sorted(display_score.MODEL_FEATURES) and not set(names) & set(NEVER)
    for row in data["kenmerken"]:
        direction = MONOTONE[FEATURE_NAMES.index(row["kenmerk"])]
        assert direction != 0 and row["coef"] * direction >= 0, row
        assert row["groep"] in display_score.GROUPS and row["kenmerk"] in display_score.GROUP_FEATURES[row["groep"]]
    # The startpunt is the chance of the average pair: near the share hired it was fitted on.
    assert abs(display_score.startpunt() - 100 * data["gefitOp"]["aandeelAangenomen"]) < 5


def test_scores_lie_between_0_and_100_also_for_extreme_rows() -> None:
    rows = plausible_pairs()
    extreme = np.vstack([rows, np.full((1, len(FEATURE_NAMES)), -5.0), np.full((1, len(FEATURE_NAMES)), 50.0)])
    shown = display_score.scores(extreme)
    assert shown.dtype.kind == "i" and shown.min() >= 0 and shown.max() <= 100
    assert len(np.unique(display_score.scores(_realistic(2000, 1)))) > 20  # a scale that separates pairs


def test_a_strong_pair_scores_above_the_startpunt_and_a_weak_one_below() -> None:
    strong, weak = np.zeros((1, len(FEATURE_NAMES))), np.zeros((1, len(FEATURE_NAMES)))
    strong[0, [COLUMN["required_coverage"], COLUMN["optional_coverage"], COLUMN["wishes_occupation"]]] = 1.0
    strong[0, [COLUMN[EXPERIENCE_COLUMN], COLUMN["route_fit"], COLUMN["dense_similarity"]]] = (5.0, 1.0, 0.99)
    weak[0, [COLUMN["language_gap"], COLUMN["certificate_gap"], COLUMN["licence_missing"]]] = (3.0, 2.0, 1.0)
    weak[0, [COLUMN["travel_minutes"], COLUMN["readiness_gap"], COLUMN["dense_similarity"]]] = (90.0, 2.0, 0.96)
    [high], [low] = display_score.scores(strong), display_score.scores(weak)
    assert low < display_score.startpunt() < high
    assert high == round(100 * float(MODEL.chance(strong)[0]))


def test_parts_are_whole_points_that_add_up_to_the_score_from_the_startpunt() -> None:
    rows = _realistic(500, 2)
    shown = display_score.scores(rows)
    raw = display_score.points(rows)
    chance = MODEL.chance(rows)
    p0 = 1 / (1 + np.exp(-MODEL.intercept))
    assert np.allclose(raw.sum(axis=1), 100 * (chance - p0))  # exact before rounding
    for breakdown, score, unrounded in zip(display_score.breakdowns(rows), shown, raw, strict=True):
        assert breakdown.score == score and breakdown.startpunt == display_score.startpunt()
        assert breakdown.startpunt + sum(breakdown.punten.values()) == score
        assert all(abs(breakdown.punten[g] - unrounded[i]) < 2 for i, g in enumerate(display_score.GROUPS))
        opbouw = breakdown.to_json()
        assert opbouw["startpunt"] + sum(part["punten"] for part in opbouw["onderdelen"]) == score
    assert {part["kenmerk"] for part in opbouw["onderdelen"]} == display_score.moving_groups()
    assert [part["punten"] for part in opbouw["onderdelen"]] == sorted(
        (part["punten"] for part in opbouw["onderdelen"]), reverse=True
    )
    assert any(value < 0 for b in display_score.breakdowns(rows) for value in b.punten.values())


def test_apportion_reaches_the_given_total_with_negative_parts_too() -> None:
    rng = np.random.default_rng(5)
    for _ in range(300):
        parts = rng.random(7) * 30 - 15
        total = int(np.floor(parts.sum() + 0.5)) + int(rng.integers(-1, 2))
        whole = display_score.apportion(parts, total)
        assert whole.sum() == total and np.all(np.abs(whole - parts) < 2)


def test_apportioned_rows_are_each_rows_apportion() -> None:
    """The breakdowns of a list apportion every row at once: the same whole points as one row at a time, ties
    in the remainders (equal parts) and totals off by more than one included."""
    rng = np.random.default_rng(6)
    parts = rng.random((400, 7)) * 30 - 15
    parts[:50, 2] = parts[:50, 3]  # equal remainders: the stable order decides
    parts[50:60] = np.round(parts[50:60])  # whole parts: every remainder 0
    totals = np.floor(parts.sum(axis=1) + 0.5).astype(np.int64) + rng.integers(-3, 4, len(parts))
    expected = np.array([display_score.apportion(row, int(total)) for row, total in zip(parts, totals, strict=True)])
    assert np.array_equal(display_score.apportioned(parts, totals), expected)
    assert display_score.apportioned(parts[:0], totals[:0]).shape == (0, 7)
    rows = _realistic(300, 9)
    base, moving = display_score.startpunt(), [g in display_score.moving_groups() for g in display_score.GROUPS]
    for breakdown, row, score in zip(
        display_score.breakdowns(rows), display_score.points(rows), display_score.scores(rows), strict=True
    ):
        whole = np.zeros(len(display_score.GROUPS), np.int64)
        whole[moving] = display_score.apportion(row[moving], int(score) - base)
        assert breakdown.punten == dict(zip(display_score.GROUPS, whole.tolist(), strict=True))


@pytest.mark.parametrize("feature", [name for name in display_score.MODEL_FEATURES])
def test_the_score_follows_each_features_direction(feature: str) -> None:
    rows = _realistic(400, 3)
    direction = MONOTONE[FEATURE_NAMES.index(feature)]
    moved = rows.copy()
    moved[:, COLUMN[feature]] += direction * 0.5
    assert np.all(MODEL.chance(moved) >= MODEL.chance(rows) - 1e-12)
    assert np.all(display_score.scores(moved) >= display_score.scores(rows))


def test_hidden_parts_are_left_out_named_and_counted_together() -> None:
    [breakdown] = display_score.breakdowns(_realistic(1, 4))
    hidden = breakdown.hiding(display_score.OUTSIDER_HIDDEN)
    opbouw = hidden.to_json()
    assert hidden.score == breakdown.score
    assert {part["kenmerk"] for part in opbouw["onderdelen"]} == display_score.moving_groups() - {"reis", "tekst"}
    assert opbouw["nietGetoond"] == ["reis", "tekst"]
    assert opbouw["nietGetoondPunten"] == breakdown.punten["reis"] + breakdown.punten["tekst"]
    shown = sum(part["punten"] for part in opbouw["onderdelen"]) + opbouw["nietGetoondPunten"]
    assert opbouw["startpunt"] + shown == hidden.score


def test_fitting_a_seeded_world_gives_back_its_calibrated_chances() -> None:
    """Outcomes drawn from the shipped model's own chances: a fit on one half is calibrated on the other."""
    rng = np.random.default_rng(12)  # not the stream that made the rows
    rows = _realistic(40_000, 11)
    columns = [COLUMN[name] for name in display_score.MODEL_FEATURES]
    rows[:, columns] = np.clip(rows[:, columns], MODEL.low, MODEL.high)  # within the ranges the model saw
    hired = rng.random(len(rows)) < MODEL.chance(rows)
    labels = np.where(hired, display_score.HIRED_LABEL, 0)
    refit = display_score.Model.from_json(display_score.fit(rows[:20_000], labels[:20_000]))
    assert display_score.fit(rows[:20_000], labels[:20_000]) == display_score.fit(rows[:20_000], labels[:20_000])
    shown, outcome = display_score.scores(rows[20_000:], refit), hired[20_000:]
    band = np.minimum(shown // 10, 9)
    ece = sum((band == b).mean() * abs(outcome[band == b].mean() - shown[band == b].mean() / 100) for b in set(band))
    assert ece < 0.02
    gap = np.abs(refit.chance(rows) - MODEL.chance(rows))  # the same chances back
    assert gap.mean() < 0.01 and np.percentile(gap, 99) < 0.04  # within the sampling noise of 20,000 pairs


@pytest.mark.parametrize("offset", [-0.02, -0.001, 0.001, 0.01])
def test_the_text_reason_never_contradicts_the_texts_part(offset: float) -> None:
    cosine = MODEL.mean[display_score.MODEL_FEATURES.index("dense_similarity")] + offset
    row = _realistic(1, 6)
    row[0, COLUMN["dense_similarity"]] = cosine
    tekst = display_score.points(row)[0, display_score.GROUPS.index("tekst")]
    said = float(display_score.text_fit(cosine)) >= 0.5
    assert said == (tekst > 0) == (offset > 0)
    client, vacancy = Client(**client_from_input(client_in())), Vacancy(**vacancy_from_input(vacancy_in()))
    facts = PairFacts(distance_km=2.0, max_km=15.0, mode="fiets", values={"dense_similarity": cosine})
    for sign in (1.0, -1.0):  # the ranker weighed the text up, or down, against its pool
        found = explain_pair(client, vacancy, {"tekst": sign, "reis": 0.5}, facts, load_taxonomy())
        texts = found.reasons + found.aandachtspunten
        assert any("vergelijkbaar werk" in text for text in texts) == (said and sign > 0)
        assert any("lijkt weinig op" in text for text in texts) == (not said and sign < 0)


@pytest.fixture
def world(settings, embedder) -> Iterator[Matcher]:
    matcher = Matcher(settings, embedder=embedder)
    with Session(matcher.engine) as session:
        make_client(session, client_nummer="K-ORDER", zelfbeschrijving="Ik werkte jaren als orderpicker.")
        make_client(session, client_nummer="K-SCHOON", **SCHOONMAKER)
        make_vacancy(session, vacature_nummer="V-ORDER")
        make_vacancy(session, vacature_nummer="V-SCHOON", **SCHOONMAAKWERK)
    matcher.sync()
    yield matcher
    matcher.close()


def test_the_same_pair_shows_the_same_score_from_both_directions(world: Matcher) -> None:
    seen = 0
    for vacancy in ("V-ORDER", "V-SCHOON"):
        listing = world.search_candidates(vacancy, top=10).to_json()
        for candidate in listing["resultaten"]:
            options = world.search_vacancies(candidate["klantId"], top=10).to_json()
            [option] = [item for item in options["resultaten"] if item["vacatureId"] == vacancy]
            assert option["score"] == candidate["score"]
            assert option["scoreOpbouw"] == candidate["scoreOpbouw"]
            opbouw = candidate["scoreOpbouw"]
            assert opbouw["startpunt"] + sum(part["punten"] for part in opbouw["onderdelen"]) == candidate["score"]
            assert isinstance(candidate["score"], int) and 0 <= candidate["score"] <= 100
            assert isinstance(candidate["rangschikkingsscore"], float)
            seen += 1
    assert seen >= 3


def test_a_history_without_a_hire_cannot_be_fitted() -> None:
    with pytest.raises(ValueError, match="met en zonder aanname.*kreeg 0 van 500"):
        display_score.fit(plausible_pairs(), np.zeros(500, np.int64))
