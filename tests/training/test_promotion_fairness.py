"""The fairness gate of promotion, the saved report and card, and how the CLI and the API show them.

One small simulated world with a real SQLite MLflow store. Training runs the real audit; for the
gate's three branches (breach refused, breach justified, no breach) the audit the gate reads is
fixed to known figures, so each branch is exercised whatever the small world's model happens to do.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from matching.errors import InvalidInputError, NotFoundError
from matching.matcher import Matcher
from matching.ranker import RankerError
from matching.settings import Settings
from tests.factories import copied_world
from training import promotion, registry
from training.dataset import RankingData
from training.fairness_report import breaches, merit_breaches
from training.model_card import CARD, card_for_version
from training.promotion import FAIRNESS_GATE, PromotionRefused, promote
from training.train import train

pytestmark = pytest.mark.slow  # trains rankers on a simulated world with the fairness audit: ≈ 2.5 min

JUSTIFICATION = "Trede 0 en 1 staan op de route Meedoen; deze vacatures vragen regulier werk (getoetst met FG)."


def audit_with(ratio: float, rbo: float = 0.97) -> dict:
    """A fixed audit: trede 0 (80 clients) at ``ratio``, a too-small group far under, and the counterfactual."""
    group = {"clients": 80, "ratio": ratio, "ratioCI": [ratio - 0.1, ratio + 0.1], "tooSmall": False}
    return {
        "k": 10,
        "tripwire": 0.8,
        "minGroup": 30,
        "vacancies": 40,
        "attributes": {
            "trede": {
                "groups": {"0": group, "5": {"clients": 10, "ratio": 0.1, "ratioCI": [0.0, 0.3], "tooSmall": True}},
                "equalizedOddsDifference": 0.2,
            }
        },
        "counterfactual": {"rbo": rbo, "min": 0.8, "vacancies": 30, "swappedProfiles": 50},
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, simulated_template: Path, embedder) -> tuple[Settings, Matcher]:
    return copied_world(simulated_template, tmp_path_factory.mktemp("gate") / "var", embedder)


@pytest.fixture(scope="module")
def first(world) -> dict:
    settings, matcher = world
    return train(settings, matcher, user="ds-test")


def _challenger(settings: Settings, matcher: Matcher) -> str:
    found = registry.by_alias(settings, registry.CHALLENGER)
    return found.version if found is not None else train(settings, matcher, user="ds-test")["version"]


def test_training_saves_the_fairness_report_metrics_and_card_with_the_run(world, first) -> None:
    settings, _ = world
    tracking = mlflow.MlflowClient(settings.tracking_uri)
    saved = {item.path for item in tracking.list_artifacts(first["runId"], "fairness")}
    assert {"fairness/rapport.html", "fairness/fairness.json", "fairness/ratio-trede.png"} <= saved
    assert CARD in {item.path for item in tracking.list_artifacts(first["runId"])}
    metrics = tracking.get_run(first["runId"]).data.metrics
    assert "fairness_ratio_trede_0" in metrics and "fairness_ratio_leeftijd_55plus" in metrics
    assert metrics["fairness_breaches"] == len(first["fairness"]["breaches"])
    assert first["fairness"]["available"] and first["fairness"]["counterfactual"]["swappedProfiles"] > 0
    assert metrics["counterfactual_rbo"] == first["fairness"]["counterfactual"]["rbo"]
    card = card_for_version(settings, first["version"])
    assert "## Verantwoord gebruik" in card and "### Menselijke tussenkomst" in card
    assert "## Fairness-resultaten" in card and "| trede | 0 |" in card


def test_a_breach_is_refused_without_a_justification_even_when_forced(world, first, monkeypatch) -> None:
    settings, matcher = world
    version = _challenger(settings, matcher)
    monkeypatch.setattr(promotion, "fairness_audit", lambda *args, **kwargs: audit_with(0.4))
    with pytest.raises(PromotionRefused, match=FAIRNESS_GATE) as refused:
        promote(settings, matcher, force=True, reason="prestatie bewust overrulen", user="ds-test")
    gate = next(g for g in refused.value.result["gates"] if g["name"] == FAIRNESS_GATE)
    assert not gate["passed"] and [(b["attribute"], b["group"]) for b in gate["breaches"]] == [("trede", "0")]
    assert "--verantwoording" in str(refused.value)
    assert registry.by_alias(settings, registry.CHALLENGER).version == version  # nothing changed
    with pytest.raises(InvalidInputError, match="minstens 20 tekens"):
        promote(settings, matcher, force=True, reason="x y z", justification="oké", user="ds-test")


def test_a_counterfactual_rbo_under_the_floor_is_a_breach_too(world, first, monkeypatch) -> None:
    settings, matcher = world
    _challenger(settings, matcher)
    monkeypatch.setattr(promotion, "fairness_audit", lambda *args, **kwargs: audit_with(1.0, rbo=0.85))
    with pytest.raises(PromotionRefused, match="contrafeitelijk"):
        promote(settings, matcher, force=True, reason="prestatie bewust overrulen", user="ds-test")


def test_a_justified_breach_is_promoted_and_the_justification_recorded(world, first, monkeypatch) -> None:
    settings, matcher = world
    version = _challenger(settings, matcher)
    monkeypatch.setattr(promotion, "fairness_audit", lambda *args, **kwargs: audit_with(0.4))
    result = promote(
        settings, matcher, force=True, reason="prestatie bewust overrulen", user="ds-b", justification=JUSTIFICATION
    )
    assert result["promoted"]["version"] == version and result["promoted"]["fairness_gate"] == "verantwoord"
    tags = {v.version: v for v in registry.versions(settings)}[version].tags
    assert tags["fairness_justification"] == JUSTIFICATION and tags["fairness_justified_by"] == "ds-b"
    assert "trede=0: 0.40" in tags["fairness_breaches"] and tags["fairness_justified_at"]
    card = card_for_version(settings, version)
    assert JUSTIFICATION in card and "vastgelegd door ds-b" in card
    run_id = registry.by_alias(settings, registry.CHAMPION).run_id
    relogged = mlflow.MlflowClient(settings.tracking_uri).download_artifacts(run_id, CARD)
    assert JUSTIFICATION in Path(relogged).read_text(encoding="utf-8")  # the run's card follows the promotion


def test_no_breach_is_promoted_without_a_justification(world, first, monkeypatch) -> None:
    settings, matcher = world
    version = _challenger(settings, matcher)
    monkeypatch.setattr(promotion, "fairness_audit", lambda *args, **kwargs: audit_with(0.95))
    result = promote(settings, matcher, force=True, reason="prestatie bewust overrulen", user="ds-test")
    gate = next(g for g in result["gates"] if g["name"] == FAIRNESS_GATE)
    assert gate["passed"] and gate["breaches"] == []  # the too-small group far under 0.8 is only reported
    tags = {v.version: v for v in registry.versions(settings)}[version].tags
    assert tags["fairness_gate"] == "gehaald" and "fairness_justification" not in tags


def test_an_unusable_champion_is_compared_as_what_serves_instead(world, first, monkeypatch) -> None:
    """A champion trained on an older feature list cannot rank; the challenger is judged against the baseline."""
    settings, matcher = world
    _challenger(settings, matcher)
    promote(settings, matcher, force=True, reason="eerst een champion", user="ds-test", justification=JUSTIFICATION)
    old = registry.by_alias(settings, registry.CHAMPION).version
    challenger = train(settings, matcher, user="ds-test")["version"]
    real = registry.load_version

    def load(settings_, info):  # noqa: ANN001, ANN202 - the registry's own signature
        if info.version == old:
            raise RankerError("getraind op andere kenmerken")
        return real(settings_, info)

    monkeypatch.setattr(registry, "load_version", load)
    monkeypatch.setattr(promotion, "fairness_audit", lambda *args, **kwargs: audit_with(0.95))
    result = promote(settings, matcher, force=True, reason="nieuwe kenmerkenlijst", user="ds-test")
    assert f"champion versie {old} is onbruikbaar" in result["championUnusable"]
    assert result["promoted"]["version"] == challenger


def test_the_real_audit_decides_the_gate(world, first) -> None:
    """Without fixed figures: the gate's breaches are exactly the audit's, and a justification covers them."""
    settings, matcher = world
    version = _challenger(settings, matcher)
    result = promote(
        settings, matcher, force=True, reason="prestatie bewust overrulen", user="ds-test", justification=JUSTIFICATION
    )
    gate = next(g for g in result["gates"] if g["name"] == FAIRNESS_GATE)
    served = result["fairness"]["served"]  # the gate reads the lists as served, against merit
    assert [b["group"] for b in gate["breaches"] if b["attribute"] != "contrafeitelijk"] == [
        b["group"] for b in merit_breaches(served)
    ]
    assert "ndcg@10Cost" in served
    # a trained challenger carries Platt parameters: the gate reads its lists as the amortised floor serves them
    assert served["method"]["groupedBy"] == "trede+geschiedenis+route" and served["method"]["floor"] is None
    assert served["method"]["amortisedFloor"]["platt"]["rows"] > 0
    assert result["fairness"]["counterfactual"]["vacancies"] > 0
    tags = {v.version: v for v in registry.versions(settings)}[version].tags
    assert tags["fairness_gate"] == ("gehaald" if gate["passed"] else "verantwoord")


def test_on_real_data_the_served_exposure_against_the_pool_still_runs(world, first, monkeypatch) -> None:
    """No hidden truth (real data: no pool holdout): the served lists' exposure-vs-pool audit runs, the gate
    reports its breaches and asks a justification, because merit and the counterfactual test could not run."""
    settings, matcher = world
    version = _challenger(settings, matcher)
    monkeypatch.setattr(promotion, "holdout_pools", lambda *args, **kwargs: None)
    with pytest.raises(PromotionRefused, match=FAIRNESS_GATE):
        promote(settings, matcher, force=True, reason="prestatie bewust overrulen", user="ds-test")
    result = promote(
        settings, matcher, force=True, reason="prestatie bewust overrulen", user="ds-test", justification=JUSTIFICATION
    )
    served = result["fairness"]["served"]
    assert served["vacancies"] > 0 and "ndcg@10Cost" not in served and "goal" not in served
    assert served["method"]["groupedBy"] == "trede+geschiedenis+route"  # the amortised floor runs without truth
    for attribute in ("trede", "route", "geslacht", "leeftijd", "migratieachtergrond", "beperking"):
        rows = served["attributes"][attribute]["groups"].values()
        assert all(row["ratio"] is None or row["ratioCI"] for row in rows) and any(row["ratio"] for row in rows)
    gate = next(g for g in result["gates"] if g["name"] == FAIRNESS_GATE)
    assert "echte gegevens" in gate["basis"] and gate["breaches"] == breaches(served)
    assert result["promoted"]["version"] == version and result["promoted"]["fairness_gate"] == "verantwoord"


def test_the_cli_prints_the_card_and_downloads_the_report(world, first, monkeypatch, tmp_path: Path) -> None:
    settings, _ = world
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()
    card = runner.invoke(cli, ["models", "card", first["version"]])
    assert card.exit_code == 0, card.output
    assert f"# Modelkaart: werkmatch-ranker versie {first['version']}" in card.output
    report = runner.invoke(cli, ["models", "report", first["version"], str(tmp_path / "rapport")])
    assert report.exit_code == 0, report.output
    assert (tmp_path / "rapport" / "fairness" / "rapport.html").is_file()
    assert json.loads((tmp_path / "rapport" / "fairness" / "fairness.json").read_text(encoding="utf-8"))["attributes"]
    missing = runner.invoke(cli, ["models", "card", "999"])
    assert missing.exit_code == 1 and "bestaat niet" in missing.output and "Traceback" not in missing.output


def test_the_api_serves_card_and_fairness_to_model_readers_only(world, first) -> None:
    settings, matcher = world
    with TestClient(create_app(settings, matcher)) as http:

        def login(name: str) -> dict[str, str]:
            form = {"username": name, "password": f"{name}-demo-wachtwoord"}
            return {"Authorization": f"Bearer {http.post('/api/v1/token', data=form).json()['access_token']}"}

        scientist, consulent = login("datascientist"), login("consulent1")
        card = http.get(f"/api/v1/modellen/{first['version']}/modelkaart", headers=scientist)
        assert card.status_code == 200 and card.headers["content-type"].startswith("text/markdown")
        assert "## Algemene informatie" in card.text
        fairness = http.get(f"/api/v1/modellen/{first['version']}/fairness", headers=login("beheerder"))
        assert fairness.status_code == 200, fairness.text
        body = fairness.json()
        assert body["beschikbaar"] and "trede" in body["audit"]["attributes"]
        assert [o["groep"] for o in body["overschrijdingen"]] == [b["group"] for b in first["fairness"]["breaches"]]
        for path, headers, status in (
            (f"/api/v1/modellen/{first['version']}/fairness", consulent, 403),
            (f"/api/v1/modellen/{first['version']}/modelkaart", {}, 401),
            ("/api/v1/modellen/999/fairness", scientist, 404),
            ("/api/v1/modellen/abc/modelkaart", scientist, 400),
        ):
            answer = http.get(path, headers=headers)
            assert answer.status_code == status, (path, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"


def test_an_unknown_version_is_not_found(world, first) -> None:
    settings, _ = world
    with pytest.raises(NotFoundError, match="bestaat niet"):
        card_for_version(settings, "999")


def test_the_counterfactual_reads_whole_pools_up_to_its_client_cap() -> None:
    # Three pools: vacancy 1 with clients 0-5, vacancy 2 with 4-9 (overlapping), vacancy 3 with 10-15.
    vacancy_ids = np.repeat([1, 2, 3], 6)
    client_ids = np.concatenate([np.arange(0, 6), np.arange(4, 10), np.arange(10, 16)])
    pool = RankingData(
        features=np.zeros((18, 2), np.float32),
        labels=np.zeros(18, int),
        vacancy_ids=vacancy_ids,
        client_ids=client_ids,
        moments=np.zeros(18),
    )
    assert np.unique(promotion.counterfactual_pools(pool, 200, 16).vacancy_ids).tolist() == [1, 2, 3]
    # Pools 1 and 2 hold 10 distinct clients: the third would make 16, over a cap of 12; never half a pool.
    capped = promotion.counterfactual_pools(pool, 200, 12)
    assert np.unique(capped.vacancy_ids).tolist() == [1, 2]
    assert len(capped) == 12
    assert np.unique(promotion.counterfactual_pools(pool, 1, 100).vacancy_ids).tolist() == [1]
    # A first pool larger than the cap is still read: the test needs at least one list.
    assert np.unique(promotion.counterfactual_pools(pool, 200, 3).vacancy_ids).tolist() == [1]
