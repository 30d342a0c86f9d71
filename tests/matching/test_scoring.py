"""The array core: hard filters and the weighted score on small hand-made profiles."""

from __future__ import annotations

import numpy as np
import pytest

from matching import scoring
from matching.domain import Client, Vacancy, client_from_input, vacancy_from_input
from matching.settings import RetrievalSettings
from matching.structured import ClientArrays, VacancyArrays, Vocabularies
from tests.factories import client_in, vacancy_in


def build(clients: list[dict], vacancy: dict) -> tuple[ClientArrays, VacancyArrays]:
    vocab = Vocabularies()
    rows = [Client(id=i + 1, **client_from_input(client_in(**overrides))) for i, overrides in enumerate(clients)]
    vac = Vacancy(id=1, **vacancy_from_input(vacancy_in(**vacancy)))
    c, v = ClientArrays.build(rows, vocab), VacancyArrays.build([vac], vocab)
    c.widen(vocab)
    v.widen(vocab)
    return c, v


def features_for(c: ClientArrays, v: VacancyArrays) -> scoring.PairFeatures:
    n = len(c.ids)
    return scoring.pair_features(c, np.arange(n), v, np.zeros(n, np.int64))


def test_hard_filters_hours_distance_and_working_times() -> None:
    c, v = build(
        [
            {},  # fits
            {"uren_min": 4, "uren_max": 12},  # hours do not overlap 24–38
            {"postcode": "9711", "wensen": {"max_reisafstand_km": 10}},  # Groningen: far away
            {"wensen": {"werktijden_uitgesloten": ["dag"]}},  # cannot work days, the job is days only
        ],
        {"postcode": "6827", "werktijden": ["dag"]},
    )
    features = features_for(c, v)
    assert scoring.eligible(features, np.ones(4, bool)).tolist() == [True, False, False, False]
    assert not scoring.eligible(features, np.zeros(4, bool)).any()  # a closed vacancy admits nobody


def test_more_matching_competences_never_lower_the_score() -> None:
    c, v = build(
        [
            {"competenties": []},
            {"competenties": [{"code": "orderpicken"}]},
            {"competenties": [{"code": "orderpicken"}, {"code": "heftruck_rijden"}]},
        ],
        {"competenties_vereist": [{"code": "orderpicken"}], "competenties_gewenst": [{"code": "heftruck_rijden"}]},
    )
    features = features_for(c, v)
    signals = scoring.structured_signals(features, c.max_km)
    assert features.required_matched.tolist() == [0, 1, 1]
    assert features.optional_matched.tolist() == [0, 0, 1]
    assert signals["competences"][0] < signals["competences"][1] < signals["competences"][2]


def test_occupation_experience_and_wish() -> None:
    c, v = build(
        [
            {"werkervaring": [{"beroep_code": "orderpicker", "jaren": 4}], "wensen": {}},
            {"werkervaring": [{"beroep_code": "orderpicker", "jaren": 0.5}], "wensen": {}},
            {"werkervaring": [], "wensen": {"beroepen": ["orderpicker"]}},
            {"werkervaring": [{"beroep_code": "kok", "jaren": 9}], "wensen": {}},
        ],
        {"beroep_code": "orderpicker"},
    )
    occupation = scoring.structured_signals(features_for(c, v), c.max_km)["occupation"]
    np.testing.assert_allclose(occupation, [1.0, 0.25, 0.7, 0.0])


def test_distance_signal_falls_with_distance() -> None:
    c, v = build([{"postcode": "6827"}, {"postcode": "6811"}, {"postcode": "6882"}], {"postcode": "6827"})
    distance = scoring.structured_signals(features_for(c, v), c.max_km)["distance"]
    assert distance[0] > distance[1] > distance[2]


def test_combine_is_a_weighted_mean_in_unit_range() -> None:
    ones = {name: np.ones(3) for name in scoring.SIGNALS}
    zeros = {name: np.zeros(3) for name in scoring.SIGNALS}
    weights = RetrievalSettings()
    np.testing.assert_allclose(scoring.combine(ones, weights), 1.0)
    np.testing.assert_allclose(scoring.combine(zeros, weights), 0.0)
    only_dense = dict(zeros, dense=np.ones(3))
    total = sum(getattr(weights, f"weight_{n}") for n in scoring.SIGNALS)
    np.testing.assert_allclose(scoring.combine(only_dense, weights), weights.weight_dense / total)


def test_merging_changed_records_equals_a_full_rebuild() -> None:
    """A saved profile is merged into the arrays; the result is what rebuilding everything gives."""
    vocab = Vocabularies()
    before = [
        Client(id=i, **client_from_input(client_in(client_nummer=f"K{i}", postcode=pc)))
        for i, pc in ((1, "6811"), (3, "6821"), (5, "6832"))
    ]
    changed = [
        Client(id=3, **client_from_input(client_in(client_nummer="K3", postcode="6511", uren_min=4, uren_max=12))),
        Client(
            id=4,
            **client_from_input(
                client_in(client_nummer="K4", competenties=[{"code": "kamers_schoonmaken", "label": "Iets nieuws"}])
            ),
        ),
    ]
    merged = ClientArrays.build(before, vocab).merged(ClientArrays.build(changed, vocab))
    rebuilt = ClientArrays.build([before[0], changed[0], changed[1], before[2]], vocab)
    for arrays in (merged, rebuilt):
        arrays.widen(vocab)
    assert merged.ids.tolist() == [1, 3, 4, 5]
    assert merged.position == rebuilt.position
    np.testing.assert_array_equal(merged.uren_max, rebuilt.uren_max)
    np.testing.assert_array_equal(merged.lat, rebuilt.lat)
    assert merged.mode == rebuilt.mode
    assert (merged.competences != rebuilt.competences).nnz == 0
    assert (merged.experience != rebuilt.experience).nnz == 0


def _z(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / values.std()


def test_text_signals_rank_as_z_scores_with_lexical_scaled_by_agreement() -> None:
    rng = np.random.default_rng(7)
    dense = rng.uniform(0.75, 0.9, 200)
    lexical = np.where(rng.random(200) < 0.3, rng.exponential(4.0, 200), 0.0)
    weights = RetrievalSettings()
    dense_signal, lexical_signal = scoring.text_signals(dense, lexical)
    assert dense_signal.min() >= 0 and lexical_signal.min() >= 0
    assert max(dense_signal.max(), lexical_signal.max()) == 1.0
    ratio = weights.weight_lexical / weights.weight_dense
    assert ratio * scoring.LEXICAL_DAMPING == pytest.approx(0.375)  # the fusion picked on the tuning halves
    assert scoring.AGREEMENT_TOP == 20
    by_hand = _z(dense) + 0.375 * scoring.agreement(dense, lexical, top=20) * _z(lexical)
    fused = scoring.fuse(dense, lexical, weights)
    np.testing.assert_array_equal(np.argsort(-fused, kind="stable")[:50], np.argsort(-by_hand, kind="stable")[:50])


def test_lexical_counts_only_as_far_as_it_agrees_with_dense() -> None:
    dense = np.linspace(1.0, 0.5, 60)  # candidate 0 best, 59 worst
    agreeing = np.linspace(10.0, 0.0, 60)
    opposed = agreeing[::-1].copy()
    assert scoring.agreement(dense, agreeing) == 1.0
    assert scoring.agreement(dense, opposed) == 0.0
    assert scoring.agreement(dense, np.zeros(60)) == 0.0  # no word matched: no say
    _, lexical_signal = scoring.text_signals(dense, opposed)
    np.testing.assert_array_equal(lexical_signal, 0.0)
    fused = scoring.fuse(dense, opposed, RetrievalSettings())
    np.testing.assert_array_equal(np.argsort(-fused, kind="stable"), np.arange(60))  # dense alone decides


def test_text_signals_do_not_depend_on_candidate_order_and_handle_degenerate_pools() -> None:
    rng = np.random.default_rng(3)
    dense, lexical = rng.random(40), rng.exponential(2.0, 40)
    order = rng.permutation(40)
    before = scoring.fuse(dense, lexical, RetrievalSettings())
    after = scoring.fuse(dense[order], lexical[order], RetrievalSettings())
    np.testing.assert_allclose(after, before[order], rtol=1e-6)
    empty_dense, empty_lexical = scoring.text_signals(np.zeros(0), np.zeros(0))
    assert len(empty_dense) == len(empty_lexical) == 0
    flat_dense, flat_lexical = scoring.text_signals(np.full(5, 0.8), np.zeros(5))
    np.testing.assert_array_equal(flat_dense, 0.0)
    np.testing.assert_array_equal(flat_lexical, 0.0)


def test_agreeing_bm25_lifts_its_confident_first_when_dense_has_it_close() -> None:
    # dense and BM25 agree on their top 20, and BM25 is sure of candidate 1 (3 z-units ahead): the fusion of
    # session 28 (0.375 × agreement in top 20) puts it first where dense has it eleventh but close (0.6 dense
    # z-units behind); the session-26 one (0.1 × agreement in top 10) did not; far behind, dense keeps its first.
    lexical = np.linspace(6.0, 0.0, 60)
    lexical[[0, 1]] = lexical[[1, 0]]
    lexical[1] += 6.0
    close = np.linspace(0.90, 0.70, 60)
    close[1] = close[10]
    assert scoring.agreement(close, lexical) == 1.0
    assert np.argmax(scoring.fuse(close, lexical, RetrievalSettings())) == 1
    assert np.argmax(_z(close) + 0.1 * scoring.agreement(close, lexical, top=10) * _z(lexical)) == 0
    far = np.linspace(0.90, 0.70, 60)
    far[1] = far[40]
    assert np.argmax(scoring.fuse(far, lexical, RetrievalSettings())) == 0
