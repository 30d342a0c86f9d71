"""The shown score (matching.display_score): 0–100, one number per pair, parts that add up to it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from sqlmodel import Session

from matching import display_score
from matching.domain import Client, Vacancy, client_from_input, vacancy_from_input
from matching.explain import PairFacts, explain_pair
from matching.features import FEATURE_NAMES
from matching.matcher import Matcher
from matching.settings import RetrievalSettings
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

WEIGHTS = RetrievalSettings()
COLUMN = {name: position for position, name in enumerate(FEATURE_NAMES)}


def test_scores_lie_between_0_and_100_also_for_extreme_rows() -> None:
    rows = plausible_pairs()
    extreme = np.vstack([rows, np.full((1, len(FEATURE_NAMES)), -5.0), np.full((1, len(FEATURE_NAMES)), 50.0)])
    shown = display_score.scores(extreme, WEIGHTS)
    assert shown.dtype.kind == "i" and shown.min() >= 0 and shown.max() <= 100
    assert len(np.unique(shown)) > 20  # a scale that separates pairs, not a handful of steps


def test_a_perfect_pair_scores_100_and_a_hopeless_one_0() -> None:
    best, worst = np.zeros((1, len(FEATURE_NAMES))), np.zeros((1, len(FEATURE_NAMES)))
    best[0, [COLUMN["dense_similarity"], COLUMN["required_coverage"], COLUMN["optional_coverage"]]] = 1.0
    best[0, COLUMN["experience_years"]] = 5.0
    worst[0, COLUMN["travel_ratio"]] = 2.0
    assert display_score.scores(best, WEIGHTS).tolist() == [100]
    assert display_score.scores(worst, WEIGHTS).tolist() == [0]


def test_parts_are_whole_points_that_add_up_to_the_score_from_the_startpunt() -> None:
    rows = plausible_pairs()
    shown = display_score.scores(rows, WEIGHTS)
    for breakdown, score in zip(display_score.breakdowns(rows, WEIGHTS), shown, strict=True):
        assert breakdown.score == score
        assert display_score.STARTPUNT + sum(breakdown.punten.values()) == score
        assert all(0 <= breakdown.punten[g] <= breakdown.maximum[g] for g in display_score.GROUPS)
    assert sum(breakdown.maximum.values()) == 100
    opbouw = breakdown.to_json()
    assert [part["kenmerk"] for part in opbouw["onderdelen"]] == sorted(
        display_score.GROUPS, key=lambda group: (-breakdown.punten[group], display_score.GROUPS.index(group))
    )


def test_apportion_keeps_the_rounded_total() -> None:
    rng = np.random.default_rng(5)
    for _ in range(200):
        parts = rng.random(4) * 30
        whole = display_score.apportion(parts)
        assert whole.sum() == int(np.floor(parts.sum() + 0.5))
        assert np.all(np.abs(whole - parts) < 1)


@pytest.mark.parametrize(
    ("feature", "step"),
    [
        ("dense_similarity", 0.01),
        ("required_coverage", 0.1),
        ("optional_coverage", 0.1),
        ("experience_years", 0.5),
        ("wishes_occupation", 1.0),
        ("travel_ratio", -0.1),
    ],
)
def test_the_score_is_monotone_in_each_signal(feature: str, step: float) -> None:
    rows = plausible_pairs()
    better = rows.copy()
    better[:, COLUMN[feature]] += step
    if feature == "wishes_occupation":
        better[:, COLUMN[feature]] = np.minimum(better[:, COLUMN[feature]], 1.0)
    before = display_score.points(rows, WEIGHTS).sum(axis=1)
    after = display_score.points(better, WEIGHTS).sum(axis=1)
    assert np.all(after >= before - 1e-9)
    assert np.any(after > before)
    assert np.all(display_score.scores(better, WEIGHTS) >= display_score.scores(rows, WEIGHTS))


def test_hidden_parts_are_left_out_named_and_counted_together() -> None:
    [breakdown] = display_score.breakdowns(plausible_pairs()[:1], WEIGHTS)
    hidden = breakdown.hiding(display_score.OUTSIDER_HIDDEN)
    opbouw = hidden.to_json()
    assert hidden.score == breakdown.score
    assert [part["kenmerk"] for part in opbouw["onderdelen"]] == sorted(
        ["competenties", "ervaring"], key=lambda group: -breakdown.punten[group]
    )
    assert opbouw["nietGetoond"] == ["reis", "tekst"]
    assert opbouw["nietGetoondPunten"] == breakdown.punten["reis"] + breakdown.punten["tekst"]
    assert sum(part["punten"] for part in opbouw["onderdelen"]) + opbouw["nietGetoondPunten"] == hidden.score


@pytest.mark.parametrize(("cosine", "said"), [(0.95, False), (0.978, True), (0.99, True)])
def test_the_text_reason_never_contradicts_the_texts_part(cosine: float, said: bool) -> None:
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
