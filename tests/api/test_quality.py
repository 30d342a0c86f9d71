"""Data quality of client profiles: the pure assessment, the profile and caseload API, the CLI report.

The contradictions that input validation refuses today are written as rows directly (as an import
from an older system would have left them), so the checks are tested on what really sits in the DB.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session
from typer.testing import CliRunner

from api.cli import app as cli_app
from matching.domain import Client, client_from_input
from matching.quality import (
    FIELD_WEIGHTS,
    OK,
    ONVOLLEDIG,
    STATUS_ORDER,
    TEGENSTRIJDIG,
    VEROUDERD,
    assess,
    freshness,
    summarise,
)
from tests.factories import app_settings, assert_problem, client_in, make_client, running_app

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def stored(days_old: float = 10, **overrides: Any) -> Client:
    """A complete, valid profile as a stored row, then changed the way an old import could have left it."""
    values = client_from_input(client_in(zelfbeschrijving="Ik werk graag met mijn handen."))
    row = Client(**values, updated_at=NOW - timedelta(days=days_old))
    for key, value in overrides.items():
        setattr(row, key, value)
    return row


# ------------------------------------------------------------------------------------------ pure


def test_a_complete_fresh_profile_is_ok_with_score_one() -> None:
    quality = assess(stored(), NOW)
    assert (quality.status, quality.score, quality.completeness, quality.freshness) == (OK, 1.0, 1.0, 1.0)
    assert quality.signalen == () and quality.days_since_update == 10
    assert quality.to_json() == {
        "score": 1.0,
        "status": "ok",
        "signalen": [],
        "volledigheid": 1.0,
        "versheid": 1.0,
        "dagenSindsWijziging": 10,
    }


def test_the_weights_sum_to_one_and_each_missing_field_costs_its_weight() -> None:
    assert sum(FIELD_WEIGHTS.values()) == pytest.approx(1.0)
    quality = assess(stored(taalniveau=None, vervoermiddel=[]), NOW)
    assert quality.completeness == pytest.approx(1.0 - FIELD_WEIGHTS["taalniveau"] - FIELD_WEIGHTS["vervoermiddel"])
    assert quality.status == OK  # 0.8 and nothing essential missing: hints, not a flag
    assert quality.signalen == (
        "Aan te vullen: vul het taalniveau in (A0 t/m C2).",
        "Aan te vullen: vul het vervoermiddel in.",
    )


def test_missing_competences_make_a_profile_onvolledig_with_the_fix_named() -> None:
    quality = assess(stored(competenties=[]), NOW)
    assert quality.status == ONVOLLEDIG
    assert quality.signalen == ("Profiel onvolledig: voeg competenties toe.",)
    assert quality.score == pytest.approx(1.0 - FIELD_WEIGHTS["competenties"])


def test_freshness_falls_after_half_a_year_and_a_year_makes_verouderd() -> None:
    assert freshness(0) == freshness(183) == 1.0
    assert freshness(365) == pytest.approx(0.7) and freshness(730) == pytest.approx(0.3)
    assert freshness(5000) == pytest.approx(0.3)
    assert freshness(274) == pytest.approx(0.85, abs=0.01)  # halfway between 183 and 365
    old = assess(stored(days_old=14 * 30.5), NOW)
    assert old.status == VEROUDERD and old.score == pytest.approx(old.freshness)
    assert old.signalen == (
        "Profiel verouderd: 14 maanden niet bijgewerkt; bespreek het profiel opnieuw met de klant.",
    )
    very_old = assess(stored(days_old=800), NOW)
    assert very_old.signalen[0].startswith("Profiel sterk verouderd: 26 maanden") and very_old.codes == (
        "zeer_verouderd",
    )


@pytest.mark.parametrize(
    ("overrides", "code", "text"),
    [
        (
            {"trede": 5, "route": "meedoen"},
            "tegenstrijdig:trede_route",
            "Tegenstrijdig: trede 5 (betaald werk) past niet bij route meedoen; controleer de trede of de route.",
        ),
        ({"trede": 4, "route": "meedoen"}, "tegenstrijdig:trede_route", "trede 4 (betaald werk met ondersteuning)"),
        (
            {"uren_min": 32, "uren_max": 24},
            "tegenstrijdig:uren",
            "Tegenstrijdig: minimaal 32 uur per week is meer dan maximaal 24 uur; corrigeer de uren.",
        ),
        ({"uren_min": 0, "uren_max": 0}, "tegenstrijdig:geen_uren", "maximaal 0 uur per week"),
        (
            {"competenties": [{"code": "orderpicken"}, {"niveau": 3}]},
            "tegenstrijdig:competentie",
            "Tegenstrijdig: competentie 2 heeft een niveau (3) maar geen naam; vul de competentie in",
        ),
        ({"competenties": [{"code": "lassen", "niveau": 7}]}, "tegenstrijdig:competentie", "'lassen' heeft niveau 7"),
        ({"werkervaring": [{"jaren": 4}]}, "tegenstrijdig:werkervaring", "werkervaring 1 noemt geen beroep"),
        (
            {"werkervaring": [{"beroepCode": "kok", "jaren": -2}]},
            "tegenstrijdig:werkervaring",
            "werkervaring 'kok' heeft -2 jaar",
        ),
        ({"wensen": {"beroepen": ["kok"], "maxReisafstandKm": 0}}, "tegenstrijdig:reisafstand", "reisafstand is 0 km"),
        (
            {
                "wensen": {
                    "beroepen": ["kok"],
                    "werktijdenUitgesloten": ["dag", "avond", "nacht", "weekend", "ploegendienst"],
                }
            },
            "tegenstrijdig:werktijden",
            "alle werktijden zijn uitgesloten",
        ),
        ({"trede": 9}, "tegenstrijdig:waarde", "trede 9 bestaat niet"),
        ({"route": "vrije_val"}, "tegenstrijdig:waarde", "route 'vrije_val' bestaat niet"),
        ({"taalniveau": "Z9"}, "tegenstrijdig:waarde", "taalniveau 'Z9' bestaat niet"),
    ],
)
def test_contradictions_in_stored_rows_are_flagged_with_the_fix(overrides: dict, code: str, text: str) -> None:
    quality = assess(stored(**overrides), NOW)
    assert quality.status == TEGENSTRIJDIG
    assert code in quality.codes
    assert any(text in signal for signal in quality.signalen), quality.signalen
    assert quality.signalen[0].startswith(("Tegenstrijdig:", "Ongeldige waarde:"))  # contradictions come first


@pytest.mark.parametrize(
    ("entries", "flagged"),
    [
        ({"competenties": [{"code": "lassen", "niveau": 3.0}, {"code": "koken", "niveau": 1}]}, False),
        ({"competenties": [{"code": "lassen", "niveau": 2.5}, {"code": "koken"}]}, False),
        ({"competenties": [{"code": "lassen", "niveau": True}]}, True),  # a bool is no niveau
        ({"competenties": [{"code": "lassen", "niveau": "2"}]}, True),
        ({"competenties": [{"code": "lassen", "niveau": float("nan")}]}, True),
        ({"competenties": [{"code": "lassen", "niveau": 0}]}, True),
        ({"competenties": [{"code": "   ", "niveau": 2}]}, True),  # a blank code is no name
        ({"competenties": [{"code": 12, "niveau": 2}]}, True),
        ({"werkervaring": [{"beroepCode": "kok", "jaren": 60}, {"beroepCode": "kok", "jaren": 0}]}, False),
        ({"werkervaring": [{"beroepCode": "kok", "jaren": "5"}, {"beroepCode": "kok", "jaren": True}]}, False),
        ({"werkervaring": [{"beroep_code": "kok", "jaren": 3}]}, False),  # the old snake_case key
        ({"werkervaring": [{"beroepCode": "kok", "jaren": 60.5}]}, True),
        ({"werkervaring": [{"beroepCode": " ", "jaren": 2}]}, True),
    ],
)
def test_entries_at_the_edges_of_sound_are_judged_by_the_full_checks(entries: dict, flagged: bool) -> None:
    """A sound competence or experience entry is passed at once; anything at its edges gets every check."""
    codes = assess(stored(**entries), NOW).codes
    assert any(code in ("tegenstrijdig:competentie", "tegenstrijdig:werkervaring") for code in codes) == flagged


def test_a_date_in_the_future_is_a_contradiction() -> None:
    quality = assess(stored(days_old=-40), NOW)
    assert quality.status == TEGENSTRIJDIG and quality.days_since_update == 0
    assert quality.signalen == (
        "Tegenstrijdig: laatst bijgewerkt op 2026-04-10, dat ligt in de toekomst; controleer de import.",
    )


def test_trede_0_or_1_with_route_werk_is_only_a_check_not_a_contradiction() -> None:
    quality = assess(stored(trede=1, route="werk"), NOW)
    assert quality.status == OK
    assert quality.signalen == (
        "Controleer: trede 1 (sociale contacten buitenshuis) met route werk is ongebruikelijk; klopt de trede nog?",
    )


def test_the_worst_status_wins() -> None:
    everything = assess(stored(days_old=500, competenties=[], trede=5, route="meedoen"), NOW)
    assert everything.status == TEGENSTRIJDIG
    stale_and_incomplete = assess(stored(days_old=500, competenties=[]), NOW)
    assert stale_and_incomplete.status == VEROUDERD
    assert [code.split(":")[0] for code in stale_and_incomplete.codes] == ["verouderd", "onvolledig"]
    assert STATUS_ORDER == (TEGENSTRIJDIG, VEROUDERD, ONVOLLEDIG, OK)


def test_garbage_in_json_columns_never_raises() -> None:
    row = stored(competenties="geen lijst", werkervaring=[None, 3], wensen=None, vervoermiddel=None)
    quality = assess(row, NOW)
    assert quality.status == TEGENSTRIJDIG  # the two experience entries have no occupation
    assert "Profiel onvolledig: voeg competenties toe." in quality.signalen


def test_a_naive_updated_at_is_read_as_utc() -> None:
    row = stored()
    row.updated_at = (NOW - timedelta(days=400)).replace(tzinfo=None)  # what SQLite hands back
    assert assess(row, NOW).days_since_update == 400


def test_signals_never_name_the_client_or_a_beperking() -> None:
    row = stored(
        client_nummer="K-GEHEIM",
        beperkingen=[{"aspect": "tillen", "ernst": 3, "categorie": "fysiek"}],
        competenties=[],
        trede=5,
        route="meedoen",
        days_old=900,
    )
    text = " ".join(assess(row, NOW).signalen)
    assert "K-GEHEIM" not in text and "tillen" not in text and "beperking" not in text


def test_summarise_counts_statuses_and_each_kind_of_signal_once_per_profile() -> None:
    qualities = [
        assess(stored(), NOW),
        assess(stored(competenties=[]), NOW),
        assess(stored(competenties=[], werkervaring=[{"jaren": 1}, {"jaren": 2}]), NOW),
    ]
    summary = summarise(qualities)
    assert summary["profielen"] == 3
    assert summary["perStatus"] == {"tegenstrijdig": 1, "verouderd": 0, "onvolledig": 1, "ok": 1}
    counts = {item["code"]: item["aantal"] for item in summary["signalen"]}
    assert counts == {"onvolledig:competenties": 2, "tegenstrijdig:werkervaring": 1, "onvolledig:werkervaring": 1}
    assert summary["signalen"][0]["omschrijving"] == "Ontbreekt: voeg competenties toe"
    assert summarise([])["gemiddeldeScore"] is None


# ------------------------------------------------------------------------------------------ API


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[TestClient]:
    def records(session: Session) -> None:
        make_client(session, client_nummer="K-GOED", consulent="wc-a", zelfbeschrijving="Ik pak alles aan.")
        make_client(session, client_nummer="K-LEEG", consulent="wc-a", competenties=[], wensen={})
        make_client(session, client_nummer="K-ANDER", consulent="wc-b", competenties=[])

    with running_app(app_settings(tmp_path_factory.mktemp("quality") / "var"), embedder, records) as client:
        # Rows as an old system left them; written after the index is built, and no search runs here.
        with Session(client.app.state.matcher.engine) as session:
            now = datetime.now(UTC)
            for number, changes in [
                ("K-OUD", {"updated_at": now - timedelta(days=500)}),
                ("K-FOUT", {"trede": 5, "route": "meedoen", "uren_min": 40, "uren_max": 20}),
            ]:
                row = Client(**client_from_input(client_in(client_nummer=number, consulent="wc-a")))
                for key, value in changes.items():
                    setattr(row, key, value)
                session.add(row)
            session.commit()
        yield client


def test_the_profile_carries_its_data_quality(http, tokens) -> None:
    good = http.get("/api/v1/klanten/K-GOED", headers=tokens["consulent1"]).json()["datakwaliteit"]
    assert good == {
        "score": 1.0,
        "status": "ok",
        "signalen": [],
        "volledigheid": 1.0,
        "versheid": 1.0,
        "dagenSindsWijziging": 0,
    }
    wrong = http.get("/api/v1/klanten/K-FOUT", headers=tokens["consulent1"]).json()["datakwaliteit"]
    assert wrong["status"] == "tegenstrijdig"
    assert (
        "Tegenstrijdig: trede 5 (betaald werk) past niet bij route meedoen; controleer de trede of de route."
        in (wrong["signalen"])
    )
    assert (
        "Tegenstrijdig: minimaal 40 uur per week is meer dan maximaal 20 uur; corrigeer de uren." in wrong["signalen"]
    )


def test_the_caseload_list_shows_what_needs_attention_worst_first(http, tokens) -> None:
    response = http.get("/api/v1/klanten/datakwaliteit", headers=tokens["consulent1"])
    assert response.status_code == 200, response.text
    page = response.json()
    assert [row["klantNummer"] for row in page["resultaten"]] == ["K-FOUT", "K-OUD", "K-LEEG"]
    assert [row["datakwaliteit"]["status"] for row in page["resultaten"]] == [
        "tegenstrijdig",
        "verouderd",
        "onvolledig",
    ]
    assert page["aantallen"] == {"ok": 1, "onvolledig": 1, "verouderd": 1, "tegenstrijdig": 1}
    assert (page["totaal"], page["aantalPaginas"], page["pagina"]) == (3, 1, 1)
    assert "K-ANDER" not in json.dumps(page) and "beperkingen" not in page["resultaten"][0]
    assert page["resultaten"][1]["datakwaliteit"]["signalen"][0].startswith("Profiel verouderd: 16 maanden")

    second = http.get(
        "/api/v1/klanten/datakwaliteit", params={"paginaGrootte": 2, "pagina": 2}, headers=tokens["consulent1"]
    ).json()
    assert [row["klantNummer"] for row in second["resultaten"]] == ["K-LEEG"] and second["aantalPaginas"] == 2
    everyone = http.get("/api/v1/klanten/datakwaliteit", params={"alle": "true"}, headers=tokens["consulent1"]).json()
    assert everyone["resultaten"][-1]["klantNummer"] == "K-GOED" and everyone["totaal"] == 4

    audit = http.post(
        "/api/v1/audit/zoeken", json={"actie": "datakwaliteit_opgevraagd"}, headers=tokens["beheerder"]
    ).json()["regels"]
    assert {"K-FOUT", "K-OUD", "K-LEEG"} <= {subject for entry in audit for subject in entry["betrokkenen"]}


@pytest.mark.parametrize(
    ("user", "params", "expected"),
    [
        (None, {}, 401),
        ("accountmanager", {}, 403),
        ("datascientist", {}, 403),
        ("beheerder", {}, 403),
        ("consulent1", {"pagina": 0}, 400),
        ("consulent1", {"paginaGrootte": 101}, 400),
        ("consulent1", {"alle": "misschien"}, 400),
    ],
)
def test_the_data_quality_list_is_for_the_own_werkconsulent_only(http, tokens, user, params, expected) -> None:
    response = http.get("/api/v1/klanten/datakwaliteit", params=params, headers=tokens[user])
    assert_problem(response, expected)


def test_a_write_to_the_literal_path_is_not_a_klant_update(http, tokens) -> None:
    response = http.put("/api/v1/klanten/datakwaliteit", json={}, headers=tokens["consulent1"])
    assert_problem(response, 405)


# ------------------------------------------------------------------------------------------ CLI


def test_the_cli_reports_the_bestand_and_one_caseload(http, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(http.app.state.settings.data_dir))
    runner = CliRunner()
    whole = runner.invoke(cli_app, ["quality", "--json"])
    assert whole.exit_code == 0, whole.output
    report = json.loads(whole.stdout)
    assert report["profielen"] == 5
    assert report["perStatus"] == {"tegenstrijdig": 1, "verouderd": 1, "onvolledig": 2, "ok": 1}
    top = report["signalen"][0]
    assert top == {
        "code": "onvolledig:competenties",
        "omschrijving": "Ontbreekt: voeg competenties toe",
        "aantal": 2,
    }

    own = json.loads(runner.invoke(cli_app, ["quality", "--consulent", "wc-b", "--json"]).stdout)
    assert own["profielen"] == 1 and own["perStatus"]["onvolledig"] == 1

    text = runner.invoke(cli_app, ["quality"])
    assert text.exit_code == 0, text.output
    assert "5 profielen" in text.output and "tegenstrijdig" in text.output
    assert "Ontbreekt: voeg competenties toe" in text.output
