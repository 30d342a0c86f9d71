"""The experience column capped at 3 years under a name that says so (issue 19 item 1, session 45).

A ranker trained on the old column (``experience_years``, capped at 10) is refused, never fed the new one: at
start-up the shipped baseline serves and the status says why, and promotion compares the challenger with what
serves instead. The core's weighted score reads experience through ``clip(years / 2, 0, 1)``, so the cap leaves
every number of the weighted baseline as it was.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import numpy as np
import pytest
from sqlmodel import Session

from matching import scoring
from matching.domain import Client, Vacancy, client_from_input, vacancy_from_input
from matching.features import EXPERIENCE_CAP_YEARS, EXPERIENCE_COLUMN, FEATURE_NAMES, pair_matrix
from matching.matcher import Matcher
from matching.ranker import SPEC_FILE, RankerError, load_ranker
from matching.settings import RetrievalSettings
from matching.structured import ClientArrays, VacancyArrays, Vocabularies
from tests.factories import (
    app_settings,
    client_in,
    make_client,
    make_vacancy,
    notes_ranker_dir,
    running_app,
    vacancy_in,
)
from training import promotion, registry
from training.dataset import RankingData
from training.rankers import weighted_baseline

OLD_COLUMN = "experience_years"
SHIPPED = Path(__file__).resolve().parents[2] / "models" / "baseline-ranker"


def test_the_column_says_its_cap_and_the_pairs_are_clipped_there() -> None:
    assert EXPERIENCE_CAP_YEARS == 3.0 and EXPERIENCE_COLUMN in FEATURE_NAMES and OLD_COLUMN not in FEATURE_NAMES
    assert EXPERIENCE_COLUMN.endswith(f"cap{EXPERIENCE_CAP_YEARS:g}")
    assert json.loads((SHIPPED / SPEC_FILE).read_text())["features"][: len(FEATURE_NAMES)] == list(FEATURE_NAMES)


def test_pair_matrix_caps_experience_at_three_years() -> None:
    vocab = Vocabularies()
    clients = [
        Client(id=i + 1, **client_from_input(client_in(werkervaring=[{"beroep_code": "orderpicker", "jaren": years}])))
        for i, years in enumerate((1, 3, 8))
    ]
    vacancy = Vacancy(id=1, **vacancy_from_input(vacancy_in(beroep_code="orderpicker")))
    c, v = ClientArrays.build(clients, vocab), VacancyArrays.build([vacancy], vocab)
    c.widen(vocab)
    v.widen(vocab)
    now = datetime(2025, 6, 1, tzinfo=UTC)
    x = pair_matrix(c, np.arange(3), v, np.zeros(3, np.int64), np.zeros(3), np.zeros(3), now)
    assert x[:, FEATURE_NAMES.index(EXPERIENCE_COLUMN)].tolist() == [1.0, 3.0, 3.0]


def _old_column_ranker(directory: Path) -> Path:
    """A ranker saved as training saved it before the rename: its spec names the old column."""
    notes_ranker_dir(directory, None)
    spec = json.loads((directory / SPEC_FILE).read_text())
    spec["features"] = [OLD_COLUMN if name == EXPERIENCE_COLUMN else name for name in spec["features"]]
    (directory / SPEC_FILE).write_text(json.dumps(spec))
    return directory


def test_a_ranker_on_the_old_column_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RankerError, match="andere kenmerken"):
        load_ranker(_old_column_ranker(tmp_path / "oud"), "oud")


def _register(settings, directory: Path, alias: str, **tags: str) -> str:  # noqa: ANN001 - Settings
    """Register ``directory`` as training does (a pyfunc whose artifact is the ranker directory, which MLflow keeps
    under its own name: training names it :data:`registry.RANKER_ARTIFACT`), with ``alias``."""
    tracking = registry.client(settings)
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(
            name="ranker",
            python_model=str(registry.PYFUNC_CODE),
            artifacts={registry.RANKER_ARTIFACT: str(directory)},
            registered_model_name=settings.ranker.registered_model,
            pip_requirements=["lightgbm"],
        )
    version = str(info.registered_model_version)
    for key, value in tags.items():
        tracking.set_model_version_tag(settings.ranker.registered_model, version, key, value)
    tracking.set_registered_model_alias(settings.ranker.registered_model, alias, version)
    return version


def _records(session: Session) -> None:
    make_client(session)
    make_vacancy(session)


@pytest.mark.slow  # registers MLflow versions and starts the app
def test_a_champion_on_the_old_column_leaves_the_shipped_baseline_serving(
    tmp_path: Path, embedder, caplog: pytest.LogCaptureFixture
) -> None:
    settings = app_settings(tmp_path / "var")
    old = _register(settings, _old_column_ranker(tmp_path / "oud" / registry.RANKER_ARTIFACT), registry.CHAMPION)
    caplog.set_level(logging.ERROR, logger="training.registry")
    with running_app(settings, embedder, _records) as http:  # start-up serves the champion, or says why not
        health = http.get("/api/v1/health")
        matcher = http.app.state.matcher
        listed = matcher.search_candidates(matcher_vacancy(matcher), top=5).to_json()
    assert health.status_code == 200
    assert matcher.ranker is matcher.baseline is not None and matcher.ranker.name == "baseline"
    assert "andere kenmerken" in matcher.ranker_status()["error"]
    assert any(
        "the last good one keeps serving" in r.getMessage() and "andere kenmerken" in r.getMessage()
        for r in caplog.records
    )
    assert listed["gerangschiktDoor"]["naam"] == "baseline"

    # promotion: the challenger is judged against what serves instead of the unusable champion
    challenger = _register(
        settings,
        notes_ranker_dir(tmp_path / "nieuw" / registry.RANKER_ARTIFACT, None),
        registry.CHALLENGER,
        holdout_from="2026-01-01",
    )
    contenders = promotion._contenders(settings, Matcher(settings, embedder=embedder))
    assert contenders.challenger_info.version == challenger and contenders.champion.name == "baseline"
    assert f"champion versie {old} is onbruikbaar" in contenders.unusable and "andere kenmerken" in contenders.unusable


def matcher_vacancy(matcher: Matcher) -> str:
    from sqlmodel import select

    from matching.domain import Vacancy

    with Session(matcher.engine) as session:
        return session.exec(select(Vacancy)).first().vacature_nummer


def test_the_weighted_baseline_reads_capped_experience_as_the_served_score_does() -> None:
    """``occupation = clip(years / 2, 0, 1)`` saturates at 2 years: capping at 3 (or 10) changes no number."""
    rng = np.random.default_rng(45)
    n, column = 240, FEATURE_NAMES.index(EXPERIENCE_COLUMN)
    raw = np.concatenate([rng.uniform(0, 15, n - 6), [0.0, 1.0, 2.0, 2.5, 3.0, 12.0]]).astype(np.float32)
    features = rng.random((n, len(FEATURE_NAMES))).astype(np.float32)
    vacancy_ids = np.repeat(np.arange(n // 8), 8).astype(np.int64)

    def weighted(years: np.ndarray) -> np.ndarray:
        x = features.copy()
        x[:, column] = years
        data = RankingData(x, np.zeros(n, np.int64), vacancy_ids, np.arange(n, dtype=np.int64), vacancy_ids * 1.0)
        return weighted_baseline(data, RetrievalSettings())

    served = scoring.signals_from(
        *(features[:, FEATURE_NAMES.index(name)] for name in ("required_coverage", "optional_coverage")),
        raw,
        features[:, FEATURE_NAMES.index("wishes_occupation")],
        features[:, FEATURE_NAMES.index("travel_ratio")],
    )
    capped = weighted(np.minimum(raw, EXPERIENCE_CAP_YEARS))
    np.testing.assert_array_equal(capped, weighted(np.minimum(raw, 10.0)))
    np.testing.assert_array_equal(capped, weighted(raw))
    signals = scoring.signals_from(
        features[:, FEATURE_NAMES.index("required_coverage")],
        features[:, FEATURE_NAMES.index("optional_coverage")],
        np.minimum(raw, EXPERIENCE_CAP_YEARS),
        features[:, FEATURE_NAMES.index("wishes_occupation")],
        features[:, FEATURE_NAMES.index("travel_ratio")],
    )
    np.testing.assert_array_equal(signals["occupation"], served["occupation"])
