"""The ranker's feature matrix: no protected attribute or proxy, and each feature moves the right way."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from matching import features, structured
from matching.domain import Client, Vacancy, client_from_input, vacancy_from_input
from matching.features import FEATURE_NAMES, FEATURES, pair_matrix
from matching.structured import ClientArrays, VacancyArrays, Vocabularies
from tests.factories import client_in, vacancy_in

NOW = datetime(2025, 6, 1, tzinfo=UTC)
# Name parts that reveal a protected attribute or a proxy for one.
PROTECTED_TOKENS = {"gender", "sex", "age", "birth", "born", "origin", "name", "bsn", "pc4", "postcode", "zip"}
PROTECTED_FRAGMENTS = (
    "geslacht",
    "geboorte",
    "leeftijd",
    "migratie",
    "nationalit",
    "ethnic",
    "etnic",
    "herkomst",
    "naam",
    "birth",
    "gender",
    "postcode",
)
PROTECTED_SOURCES = (
    "AuditKenmerken",
    "ClientPersonalia",
    "geslacht",
    "geboortejaar",
    "migratieachtergrond",
    "voornaam",
    "achternaam",
    "telefoon",
)


def build(clients: list[dict], vacancies: list[dict]) -> tuple[ClientArrays, VacancyArrays]:
    vocab = Vocabularies()
    client_rows = [Client(id=i + 1, **client_from_input(client_in(**extra))) for i, extra in enumerate(clients)]
    vacancy_rows = [Vacancy(id=i + 1, **vacancy_from_input(vacancy_in(**extra))) for i, extra in enumerate(vacancies)]
    c, v = ClientArrays.build(client_rows, vocab), VacancyArrays.build(vacancy_rows, vocab)
    c.widen(vocab)
    v.widen(vocab)
    return c, v


def matrix(c: ClientArrays, v: VacancyArrays, c_rows: list[int], v_rows: list[int]) -> np.ndarray:
    n = len(c_rows)
    return pair_matrix(c, np.array(c_rows), v, np.array(v_rows), np.zeros(n), np.zeros(n), NOW)


def column(values: np.ndarray, name: str) -> np.ndarray:
    return values[:, FEATURE_NAMES.index(name)]


def each_client(clients: list[dict], vacancy: dict, name: str) -> np.ndarray:
    c, v = build(clients, [vacancy])
    return column(matrix(c, v, list(range(len(clients))), [0] * len(clients)), name)


def each_vacancy(client: dict, vacancies: list[dict], name: str) -> np.ndarray:
    c, v = build([client], vacancies)
    return column(matrix(c, v, [0] * len(vacancies), list(range(len(vacancies)))), name)


def _protected(name: str) -> bool:
    lowered = name.lower()
    return bool(set(re.split(r"[_\W]+", lowered)) & PROTECTED_TOKENS) or any(f in lowered for f in PROTECTED_FRAGMENTS)


@pytest.mark.parametrize("name", ["geslacht", "birth_year", "client_age", "pc4", "voornaam", "migratie_code"])
def test_the_proxy_check_catches_protected_names(name: str) -> None:
    assert _protected(name)


def test_no_protected_attribute_or_proxy_is_a_feature_or_an_array_field() -> None:
    names = list(FEATURE_NAMES)
    names += [f.name for f in dataclasses.fields(ClientArrays)] + [f.name for f in dataclasses.fields(VacancyArrays)]
    assert [name for name in names if _protected(name)] == []


@pytest.mark.parametrize("module", [features, structured])
def test_feature_modules_never_read_personalia_or_audit_attributes(module) -> None:
    source = Path(module.__file__).read_text(encoding="utf-8")
    assert [word for word in PROTECTED_SOURCES if word.lower() in source.lower()] == []


def test_features_are_named_documented_and_directed() -> None:
    assert len(set(FEATURE_NAMES)) == len(FEATURES)
    for feature in FEATURES:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", feature.name), feature.name
        assert feature.description and "\n" not in feature.description
        assert feature.monotone in (-1, 0, 1)


def test_matrix_shape_dtype_and_column_order() -> None:
    c, v = build([{}, {}], [{}])
    dense, lexical = np.array([0.8, 0.7]), np.array([1.0, 0.25])
    values = pair_matrix(c, np.array([0, 1]), v, np.array([0, 0]), dense, lexical, NOW)
    assert values.shape == (2, len(FEATURES))
    assert values.dtype == np.float32
    np.testing.assert_allclose(column(values, "dense_similarity"), dense, rtol=1e-6)
    np.testing.assert_allclose(column(values, "lexical_similarity"), lexical)
    assert pair_matrix(c, np.array([], np.int64), v, np.array([], np.int64), [], [], NOW).shape == (0, len(FEATURES))


def test_mismatched_pair_lengths_are_refused() -> None:
    c, v = build([{}], [{}])
    with pytest.raises(ValueError, match="precies één"):
        pair_matrix(c, np.array([0]), v, np.array([0]), np.zeros(2), np.zeros(1), NOW)


def test_an_empty_profile_gives_no_nan() -> None:
    empty = {
        "competenties": [],
        "werkervaring": [],
        "opleidingsniveau": None,
        "taalniveau": None,
        "vervoermiddel": [],
        "wensen": {},
    }
    c, v = build([empty], [{"taalniveau": "B1", "certificaten": ["vca_basis"], "beroep_code": None}])
    assert np.isfinite(matrix(c, v, [0], [0])).all()


def test_one_more_required_competence_raises_required_coverage() -> None:
    coverage = each_client(
        [
            {"competenties": []},
            {"competenties": [{"code": "orderpicken"}]},
            {"competenties": [{"code": "orderpicken"}, {"code": "samenwerken"}]},
        ],
        {"competenties_vereist": [{"code": "orderpicken"}, {"code": "samenwerken"}]},
        "required_coverage",
    )
    np.testing.assert_allclose(coverage, [0.0, 0.5, 1.0])


def test_travel_beyond_the_wish_overshoots() -> None:
    c, v = build(
        [
            {"postcode": "6827", "wensen": {"max_reisafstand_km": 10}},
            {"postcode": "9711", "wensen": {"max_reisafstand_km": 10}},
        ],
        [{"postcode": "6827"}],
    )
    values = matrix(c, v, [0, 1], [0, 0])
    assert column(values, "travel_overshoot")[0] == 0
    assert column(values, "travel_overshoot")[1] > 0
    assert column(values, "travel_ratio")[1] > 1
    assert column(values, "travel_minutes")[1] > column(values, "travel_minutes")[0]


def test_a_jobcoach_lowers_the_readiness_gap() -> None:
    gap = each_vacancy({"trede": 2}, [{"jobcoach": False}, {"jobcoach": True}], "readiness_gap")
    np.testing.assert_allclose(gap, [2.5, 2.0])  # regulier asks 4.5


def test_route_fit_follows_the_plaatsingsvorm_ladder() -> None:
    forms = [{"plaatsingsvorm": "regulier"}, {"plaatsingsvorm": "sociale_activering"}]
    np.testing.assert_allclose(each_vacancy({"route": "werk"}, forms, "route_fit"), [1.0, 0.0])
    np.testing.assert_allclose(each_vacancy({"route": "meedoen"}, forms, "route_fit"), [0.0, 1.0])


def test_coaching_need_meets_a_jobcoach() -> None:
    c, v = build([{"trede": 2}, {"trede": 5}], [{"jobcoach": True}, {"jobcoach": False}])
    values = matrix(c, v, [0, 0, 1], [0, 1, 0])
    assert column(values, "coaching_need_met").tolist() == [1, 0, 0]
    assert column(values, "coaching_need_unmet").tolist() == [0, 1, 0]


def test_language_certificate_and_licence_gaps() -> None:
    c, v = build(
        [
            {"taalniveau": "A2"},
            {"taalniveau": None},
            {"taalniveau": "C1", "certificaten": ["vca_basis"], "rijbewijs": ["B"]},
        ],
        [{"taalniveau": "B2", "certificaten": ["vca_basis"], "rijbewijs": ["B"]}],
    )
    values = matrix(c, v, [0, 1, 2], [0, 0, 0])
    assert column(values, "language_gap").tolist() == [2, 0, 0]  # unknown counts 0 and is flagged instead
    assert column(values, "language_unknown").tolist() == [0, 1, 0]
    assert column(values, "certificate_gap").tolist() == [1, 1, 0]
    assert column(values, "licence_missing").tolist() == [1, 1, 0]


def test_wishes_sector_uses_the_occupation_s_sector() -> None:
    wished = each_client(
        [{"wensen": {"sectoren": ["logistiek"]}}, {"wensen": {"sectoren": ["zorg_welzijn"]}}],
        {"beroep_code": "orderpicker"},
        "wishes_sector",
    )
    assert wished.tolist() == [1, 0]


def test_missing_education_and_competences_raise_missing_fields() -> None:
    missing = each_client(
        [{}, {"opleidingsniveau": None}, {"opleidingsniveau": None, "competenties": []}], {}, "missing_fields"
    )
    assert missing[0] < missing[1] < missing[2]


def test_profile_freshness_counts_days() -> None:
    vocab = Vocabularies()
    row = Client(id=1, **client_from_input(client_in()))
    row.updated_at = (NOW - timedelta(days=30)).replace(tzinfo=None)  # SQLite hands back naive UTC
    c = ClientArrays.build([row], vocab)
    v = VacancyArrays.build([Vacancy(id=1, **vacancy_from_input(vacancy_in()))], vocab)
    c.widen(vocab)
    v.widen(vocab)
    assert column(matrix(c, v, [0], [0]), "days_since_update")[0] == pytest.approx(30.0)


def test_merging_keeps_the_new_columns_equal_to_a_rebuild() -> None:
    vocab = Vocabularies()
    before = [Client(id=i, **client_from_input(client_in(client_nummer=f"F{i}"))) for i in (1, 3, 5)]
    changed = [
        Client(
            id=3,
            **client_from_input(
                client_in(client_nummer="F3", route="meedoen", beperkingen=[{"aspect": "prikkels", "ernst": 2}])
            ),
        )
    ]
    merged = ClientArrays.build(before, vocab).merged(ClientArrays.build(changed, vocab))
    rebuilt = ClientArrays.build([before[0], changed[0], before[2]], vocab)
    for arrays in (merged, rebuilt):
        arrays.widen(vocab)
    np.testing.assert_array_equal(merged.beperking_ernst, rebuilt.beperking_ernst)
    np.testing.assert_array_equal(merged.route, rebuilt.route)
    np.testing.assert_array_equal(merged.needs_coaching, rebuilt.needs_coaching)
    np.testing.assert_array_equal(merged.missing_fields, rebuilt.missing_fields)
    assert (merged.wished_sectors != rebuilt.wished_sectors).nnz == 0
    assert merged.beperking_ernst[1].sum() == 2


def test_features_rebuild_the_cores_structured_signals_exactly() -> None:
    """The weighted baseline of the ranker comparison reads features; they must give search's signals."""
    from matching import scoring
    from training.dataset import RankingData
    from training.rankers import weighted_baseline

    c, v = build(
        [{}, {"competenties": []}, {"postcode": "6511AB", "werkervaring": []}],
        [{}, {"competenties_gewenst": [], "competenties_vereist": []}],
    )
    c_rows, v_rows = np.array([0, 1, 2, 0, 1, 2]), np.array([0, 0, 0, 1, 1, 1])
    x = matrix(c, v, c_rows.tolist(), v_rows.tolist())
    expected = scoring.structured_signals(scoring.pair_features(c, c_rows, v, v_rows), c.max_km[c_rows])
    weights = scoring.RetrievalSettings(weight_dense=0, weight_lexical=0)
    data = RankingData(x, np.zeros(6, np.int64), v_rows, c_rows, v_rows.astype(np.float64))
    np.testing.assert_allclose(
        weighted_baseline(data, weights),
        scoring.combine({"dense": np.zeros(6), "lexical": np.zeros(6), **expected}, weights),
        rtol=1e-5,
    )
