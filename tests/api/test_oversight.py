"""Human oversight: reasons on every decision, rejections on a list, and the deviation report.

The report is tested twice: on rows written straight into a real SQLite database (the thresholds of
its warnings need 20+ decisions), and end to end through HTTP on one small world with the real
embedding model, where a consulent is shown a list, proposes two candidates and rejects one.
Only :func:`test_the_report_shows_exactly_the_ranks_and_codes_of_a_shown_list` decides as
consulent1; every other test decides as consulent2, so consulent1's part of the report is exact.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from api.cli import app as cli_app
from api.services import audit, oversight, voorstellen
from matching import outcomes
from matching.domain import Client, Vacancy, utcnow
from matching.errors import InvalidInputError
from tests.factories import (
    app_settings,
    assert_problem,
    audit_entries,
    item_for,
    make_client,
    make_vacancy,
    push,
    running_app,
)

# ------------------------------------------------------------------------------- the report on rows


def shown_then_proposed(engine: Engine, pick: int, lists: int, reden: str | None, own: int = 6) -> None:
    """``lists`` vacancies, each shown to consulent9 as a list of ``own`` clients; the ``pick``-th is proposed."""
    with Session(engine, expire_on_commit=False) as session:
        clients = [make_client(session, consulent="wc-z") for _ in range(own)]
        for _ in range(lists):
            vacancy = make_vacancy(session)
            audit.log_inference(
                session,
                request_id=None,
                actor="consulent9",
                kind="kandidaten",
                query_ref=vacancy.vacature_nummer,
                model={"name": "test"},
                index={},
                inputs={},
                output=[[client.client_nummer, 1.0 - i / 10] for i, client in enumerate(clients)],
            )
            session.commit()
            voorstel = outcomes.propose(session, clients[pick - 1].id, vacancy.id, "consulent9", "consulent")
            if reden is not None:
                voorstellen.record_motivation(session, voorstel.id, reden, "consulent9")
                session.commit()


def report(engine: Engine, consulent: str | None = None) -> dict[str, Any]:
    now = utcnow()
    with Session(engine) as session:
        return oversight.deviation_report(session, now - timedelta(hours=1), now + timedelta(hours=1), consulent)


def counts(buckets: list[dict[str, Any]]) -> dict[str, int]:
    return {bucket["rang"]: bucket["aantal"] for bucket in buckets}


def test_always_following_the_number_one_warns_of_over_reliance(engine) -> None:
    shown_then_proposed(engine, pick=1, lists=20, reden="hoogste_match")
    total = report(engine)["totaal"]
    assert counts(total["voorstellen"]["eigenRang"]) == {
        "1": 20,
        "2-3": 0,
        "4-10": 0,
        ">10": 0,
        oversight.NOT_SHOWN: 0,
    }
    assert total["voorstellen"]["eigenRang"][0]["aandeel"] == 1.0
    assert total["signalen"] == [
        "Consulenten volgen de rangorde bijna altijd (100 % van de voorstellen is de bovenste eigen kandidaat); "
        "controleer of lijsten echt beoordeeld worden."
    ]
    assert total["lijsten"]["aantal"] == 20 and total["lijsten"]["top3Gepasseerd"]["aantal"] == 0


def test_rarely_picking_from_the_top_three_questions_the_model_and_missing_reasons_are_named(engine) -> None:
    shown_then_proposed(engine, pick=5, lists=20, reden=None)
    result = report(engine, consulent="consulent9")
    total = result["totaal"]
    assert counts(total["voorstellen"]["rang"])["4-10"] == 20
    assert total["voorstellen"]["redenen"] == [{"code": "niet_opgegeven", "aantal": 20}]
    assert total["lijsten"]["top3Gepasseerd"] == {"aantal": 20, "aandeel": 1.0}
    assert total["signalen"] == [
        "Slechts 0 % van de voorstellen komt uit de eigen top 3; de rangorde helpt mogelijk niet. "
        "Laat een data scientist de lijsten en de redenen bekijken.",
        "Bij 100 % van de voorstellen is geen reden vastgelegd; vraag consulenten de redencode op te geven.",
    ]
    assert [group["consulent"] for group in result["perConsulent"]] == ["consulent9"]
    assert report(engine, consulent="iemand-anders")["totaal"]["beslissingen"] == 0


def test_few_decisions_say_so_and_a_voorstel_without_a_list_is_not_shown(engine) -> None:
    shown_then_proposed(engine, pick=2, lists=3, reden="kent_klant")
    with Session(engine) as session:
        client, vacancy = make_client(session, consulent="wc-z"), make_vacancy(session)
        outcomes.propose(session, client.id, vacancy.id, "consulent9", "consulent")  # no list was shown
    total = report(engine)["totaal"]
    assert counts(total["voorstellen"]["eigenRang"]) == {
        "1": 0,
        "2-3": 3,
        "4-10": 0,
        ">10": 0,
        oversight.NOT_SHOWN: 1,
    }
    assert total["signalen"][0] == (
        "Te weinig voorstellen uit een getoonde kandidatenlijst (3) om afwijkingen van de rangorde te beoordelen; "
        "daarvoor zijn er minstens 20 nodig."
    )


def test_a_list_shown_after_the_voorstel_does_not_count(engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        client, vacancy = make_client(session, consulent="wc-z"), make_vacancy(session)
        outcomes.propose(session, client.id, vacancy.id, "consulent9", "consulent")
        audit.log_inference(
            session,
            request_id=None,
            actor="consulent9",
            kind="kandidaten",
            query_ref=vacancy.vacature_nummer,
            model={},
            index={},
            inputs={},
            output=[[client.client_nummer, 0.9]],
        )
        session.commit()
    assert counts(report(engine)["totaal"]["voorstellen"]["rang"])[oversight.NOT_SHOWN] == 1


def test_the_period_must_be_aware_and_in_order(engine) -> None:
    now = utcnow()
    with Session(engine) as session:
        with pytest.raises(InvalidInputError, match="geen tijdzone"):
            oversight.deviation_report(session, now.replace(tzinfo=None), now)
        with pytest.raises(InvalidInputError, match="niet vóór"):
            oversight.deviation_report(session, now, now)


def test_reason_codes_are_checked_in_dutch() -> None:
    assert voorstellen.voorstel_reden(None, None) == "niet_opgegeven"
    assert voorstellen.voorstel_reden(" Kent_Klant ", None) == "kent_klant"
    with pytest.raises(InvalidInputError, match="kies uit: hoogste_match"):
        voorstellen.voorstel_reden("niet_opgegeven", None)  # stored, never accepted as input
    with pytest.raises(InvalidInputError, match="toelichting"):
        voorstellen.voorstel_reden("anders", "  ")
    with pytest.raises(InvalidInputError, match="belastbaarheid"):
        voorstellen.afwijs_reden("gezondheid", None)
    assert voorstellen.afwijs_reden("anders", " te ver van huis ") == ("anders", "te ver van huis")


# ------------------------------------------------------------------------------- through HTTP

OWN = ("K-A1", "K-A2", "K-A3", "K-A4", "K-A5")  # wc-a, the most clients: consulent1
OTHER = ("K-B1", "K-B2")  # wc-b: consulent2


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory, embedder, module_database: str) -> Iterator[TestClient]:
    def records(session: Session) -> None:
        for years, number in enumerate(OWN, start=1):
            make_client(
                session,
                client_nummer=number,
                consulent="wc-a",
                werkervaring=[{"beroep_code": "orderpicker", "jaren": years}],
            )
        for number in OTHER:
            make_client(session, client_nummer=number, consulent="wc-b")
        for number in ("V-LIJST", "V-ROL", "V-REDEN", "V-PUSH", "V-LABEL"):
            make_vacancy(session, vacature_nummer=number)

    with running_app(
        app_settings(tmp_path_factory.mktemp("oversight") / "var", database_url=module_database), embedder, records
    ) as client:
        yield client


def reject(http: TestClient, headers: dict[str, str], vacature: str, klant: str, reden: str, **extra: str):
    return http.post(
        f"/api/v1/vacatures/{vacature}/afwijzingen", json={"klantId": klant, "reden": reden, **extra}, headers=headers
    )


def propose(http: TestClient, headers: dict[str, str], klant: str, vacature: str, **extra: str):
    return http.post("/api/v1/voorstellen", json={"klantId": klant, "vacatureId": vacature, **extra}, headers=headers)


def deviations(http: TestClient, tokens, user: str = "beheerder", **params: str) -> dict[str, Any]:
    response = http.get("/api/v1/rapportages/afwijkingen", params=params, headers=tokens[user])
    assert response.status_code == 200, response.text
    return response.json()


def group_of(report_: dict[str, Any], consulent: str) -> dict[str, Any]:
    return next(group for group in report_["perConsulent"] if group["consulent"] == consulent)


def expected_buckets(ranks: list[int]) -> dict[str, int]:
    out = {"1": 0, "2-3": 0, "4-10": 0, ">10": 0, oversight.NOT_SHOWN: 0}
    for rank in ranks:
        out["1" if rank == 1 else "2-3" if rank <= 3 else "4-10" if rank <= 10 else ">10"] += 1
    return out


def test_the_report_shows_exactly_the_ranks_and_codes_of_a_shown_list(http, tokens) -> None:
    shown = http.post(
        "/api/v1/matches/kandidaten", json={"vacatureId": "V-LIJST", "top": 20}, headers=tokens["consulent1"]
    )
    assert shown.status_code == 200, shown.text
    own = [item for item in shown.json()["resultaten"] if item["eigenKlant"]]
    assert len(own) == len(OWN)
    first, second, fourth = own[0], own[1], own[3]

    assert propose(http, tokens["consulent1"], first["klantId"], "V-LIJST", reden="hoogste_match").status_code == 201
    made = propose(http, tokens["consulent1"], fourth["klantId"], "V-LIJST", reden="kent_klant")
    assert made.status_code == 201, made.text
    assert made.json()["reden"] == "kent_klant"
    rejected = reject(
        http, tokens["consulent1"], "V-LIJST", second["klantId"], "reisafstand", toelichting="Geen vervoer 's nachts"
    )
    assert rejected.status_code == 201, rejected.text
    assert rejected.json() | {"id": None, "op": None} == {
        "id": None,
        "klantId": second["klantId"],
        "vacatureId": "V-LIJST",
        "reden": "reisafstand",
        "toelichting": "Geen vervoer 's nachts",
        "leerlabel": True,
        "rang": second["rang"],
        "door": "consulent1",
        "op": None,
    }

    mine = group_of(deviations(http, tokens), "consulent1")
    assert mine["beslissingen"] == 3
    voorstellen, afwijzingen = mine["voorstellen"], mine["afwijzingen"]
    assert (voorstellen["aantal"], voorstellen["viaInbox"], afwijzingen["aantal"]) == (2, 0, 1)
    assert counts(voorstellen["eigenRang"]) == {"1": 1, "2-3": 0, "4-10": 1, ">10": 0, oversight.NOT_SHOWN: 0}
    assert counts(voorstellen["rang"]) == expected_buckets([first["rang"], fourth["rang"]])
    assert counts(afwijzingen["eigenRang"]) == {"1": 0, "2-3": 1, "4-10": 0, ">10": 0, oversight.NOT_SHOWN: 0}
    assert counts(afwijzingen["rang"]) == expected_buckets([second["rang"]])
    assert voorstellen["redenen"] == [{"code": "hoogste_match", "aantal": 1}, {"code": "kent_klant", "aantal": 1}]
    assert afwijzingen["redenen"] == [{"code": "reisafstand", "aantal": 1}]
    assert mine["lijsten"] == {
        "aantal": 1,
        "top3Gepasseerd": {"aantal": 1, "aandeel": 1.0},  # own #4 proposed while #2 and #3 were not
        "top3Afgewezen": {"aantal": 1, "aandeel": 1.0},  # own #2 rejected
    }
    assert mine["signalen"][0].startswith("Te weinig voorstellen uit een getoonde kandidatenlijst (2)")

    entry = audit_entries(http, tokens, actie="kandidaat_afgewezen", gebruiker="consulent1")[0]
    assert entry["betrokkenen"] == [second["klantId"], "V-LIJST"] and entry["details"] == {"reden": "reisafstand"}


def test_the_data_scientist_sees_consulenten_as_pseudonyms(http, tokens) -> None:
    reject(http, tokens["consulent2"], "V-ROL", "K-B2", "past_niet_bij_wensen")
    named = deviations(http, tokens, "beheerder")
    hidden = deviations(http, tokens, "datascientist")
    names = {group["consulent"] for group in named["perConsulent"]}
    pseudonyms = {group["consulent"] for group in hidden["perConsulent"]}
    assert "consulent2" in names and len(pseudonyms) == len(names)
    assert all(name.startswith("P-") for name in pseudonyms) and not names & pseudonyms
    assert hidden["totaal"] == named["totaal"]
    assert deviations(http, tokens, "datascientist")["perConsulent"] == hidden["perConsulent"]  # stable
    assert hidden["drempels"] == {
        "minimumBeslissingen": 20,
        "volgtRangordeVanaf": 0.9,
        "top3NuttigVanaf": 0.3,
        "zonderRedenVanaf": 0.5,
    }


def test_a_rejection_is_a_training_label_unless_the_reason_is_situational(http, tokens) -> None:
    assert reject(http, tokens["consulent2"], "V-LABEL", "K-B1", "vaardigheden").status_code == 201
    situational = reject(http, tokens["consulent2"], "V-LABEL", "K-B2", "al_bemiddeld")
    assert situational.status_code == 201 and situational.json()["leerlabel"] is False
    with Session(http.app.state.matcher.engine) as session:
        ids = dict(session.exec(select(Client.client_nummer, Client.id)).all())
        vacancy = session.exec(select(Vacancy.id).where(Vacancy.vacature_nummer == "V-LABEL")).one()
        labels = {(label.client_id, label.vacancy_id): label.label for label in voorstellen.training_labels(session)}
        declined = {(label.client_id, label.vacancy_id) for label in voorstellen.declined_labels(session)}
    assert labels[(ids["K-B1"], vacancy)] == 0 and (ids["K-B1"], vacancy) in declined
    assert (ids["K-B2"], vacancy) not in labels


@pytest.mark.parametrize(
    ("reden", "extra", "message"),
    [
        ("gezondheid", {}, "kies 'belastbaarheid'"),
        ("anders", {}, "vraagt een toelichting"),
        ("te_duur", {}, "kies uit: past_niet_bij_wensen"),
    ],
)
def test_a_bad_rejection_reason_is_a_dutch_400_and_writes_nothing(http, tokens, reden, extra, message) -> None:
    before = len(audit_entries(http, tokens, actie="kandidaat_afgewezen", betrokkene="K-B1"))
    response = reject(http, tokens["consulent2"], "V-REDEN", "K-B1", reden, **extra)
    assert message in assert_problem(response, 400)["detail"]
    assert len(audit_entries(http, tokens, actie="kandidaat_afgewezen", betrokkene="K-B1")) == before


def test_a_candidate_with_an_open_voorstel_is_rejected_through_the_voorstel(http, tokens) -> None:
    made = propose(http, tokens["consulent2"], "K-B2", "V-PUSH", reden="wens_klant")
    assert made.status_code == 201, made.text
    response = reject(http, tokens["consulent2"], "V-PUSH", "K-B2", "vaardigheden")
    assert f"/api/v1/voorstellen/{made.json()['id']}/overgangen" in assert_problem(response, 400)["detail"]


def test_a_voorstel_records_its_reason_or_that_none_was_given(http, tokens) -> None:
    bad = propose(http, tokens["consulent2"], "K-B1", "V-REDEN", reden="gokje")
    assert "geen geldige reden voor een voorstel" in assert_problem(bad, 400)["detail"]
    assert_problem(propose(http, tokens["consulent2"], "K-B1", "V-REDEN", reden="anders"), 400)
    with Session(http.app.state.matcher.engine) as session:  # nothing was written
        vacancy = session.exec(select(Vacancy.id).where(Vacancy.vacature_nummer == "V-REDEN")).one()
        assert session.exec(select(outcomes.Voorstel).where(outcomes.Voorstel.vacancy_id == vacancy)).all() == []

    made = propose(http, tokens["consulent2"], "K-B1", "V-REDEN", reden="anders", toelichting="Oud-collega")
    assert made.status_code == 201, made.text
    read = http.get(f"/api/v1/voorstellen/{made.json()['id']}", headers=tokens["consulent2"])
    assert read.json()["reden"] == "anders"
    entry = audit_entries(http, tokens, actie="voorstel_gedaan", betrokkene="K-B1")[0]
    assert entry["details"] == {"reden": "anders"}

    silent = propose(http, tokens["consulent2"], "K-B1", "V-ROL")  # existing clients send no reden
    assert silent.status_code == 201 and silent.json()["reden"] == "niet_opgegeven"


def test_an_accepted_suggestion_carries_its_reason_and_counts_as_via_inbox(http, tokens) -> None:
    push(http, tokens, "V-LIJST", aantal=len(OWN) + len(OTHER))
    item = item_for(http, tokens["consulent2"], "V-LIJST")
    bad = http.post(f"/api/v1/inbox/{item['id']}/accepteren", json={"reden": "gokje"}, headers=tokens["consulent2"])
    assert_problem(bad, 400)
    accepted = http.post(
        f"/api/v1/inbox/{item['id']}/accepteren", json={"reden": "werkgever_vraagt"}, headers=tokens["consulent2"]
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["voorstel"]["reden"] == "werkgever_vraagt"
    theirs = group_of(deviations(http, tokens), "consulent2")
    assert theirs["voorstellen"]["viaInbox"] == 1
    assert {"code": "werkgever_vraagt", "aantal": 1} in theirs["voorstellen"]["redenen"]


ROLE_CASES = [
    # (method, path, body or params, user, expected status)
    ("post", "/api/v1/vacatures/V-ROL/afwijzingen", {"klantId": "K-B1", "reden": "reisafstand"}, None, 401),
    ("post", "/api/v1/vacatures/V-ROL/afwijzingen", {"klantId": "K-B1", "reden": "reisafstand"}, "accountmanager", 403),
    ("post", "/api/v1/vacatures/V-ROL/afwijzingen", {"klantId": "K-B1", "reden": "reisafstand"}, "beheerder", 403),
    ("post", "/api/v1/vacatures/V-ROL/afwijzingen", {"klantId": "K-B1", "reden": "reisafstand"}, "datascientist", 403),
    ("post", "/api/v1/vacatures/V-ROL/afwijzingen", {"klantId": "K-A1", "reden": "reisafstand"}, "consulent2", 404),
    (
        "post",
        "/api/v1/vacatures/V-ONBEKEND/afwijzingen",
        {"klantId": "K-B1", "reden": "reisafstand"},
        "consulent2",
        404,
    ),
    (
        "post",
        "/api/v1/vacatures/V-ROL/afwijzingen",
        {"klantId": "K-NIEMAND", "reden": "reisafstand"},
        "consulent2",
        404,
    ),
    ("post", "/api/v1/vacatures/V-ROL/afwijzingen", {"klantId": "K-B1"}, "consulent2", 400),
    ("get", "/api/v1/rapportages/afwijkingen", {}, None, 401),
    ("get", "/api/v1/rapportages/afwijkingen", {}, "consulent1", 403),
    ("get", "/api/v1/rapportages/afwijkingen", {}, "accountmanager", 403),
    ("get", "/api/v1/rapportages/afwijkingen", {"vanaf": "2026-02-01", "tot": "2026-01-01"}, "beheerder", 400),
    # found by fuzzing: the default 'vanaf' four weeks before year 1 overflowed (500)
    ("get", "/api/v1/rapportages/afwijkingen", {"tot": "0001-01-01"}, "beheerder", 400),
    ("get", "/api/v1/rapportages/afwijkingen", {"tot": "9999-12-31"}, "beheerder", 400),
    ("get", "/api/v1/rapportages/afwijkingen", {"vanaf": "gisteren"}, "datascientist", 400),
]


@pytest.mark.parametrize(("method", "path", "data", "user", "expected"), ROLE_CASES)
def test_role_rules(http, tokens, method, path, data, user, expected) -> None:
    if method == "get":
        response = http.get(path, params=data, headers=tokens[user])
    else:
        response = http.post(path, json=data, headers=tokens[user])
    assert_problem(response, expected)
    if expected == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_cli_prints_the_deviation_report(http, tokens, monkeypatch) -> None:
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(http.app.state.settings.data_dir))
    monkeypatch.setenv("WERKMATCH_DATABASE_URL", http.app.state.settings.database_url)
    runner = CliRunner()
    today = datetime.now(UTC).date()
    monkeypatch.setenv("WERKMATCH_GEBRUIKER", "beheerder")
    since = ["--since", str(today - timedelta(days=2))]
    as_json = runner.invoke(cli_app, ["report", "deviations", *since, "--json"])
    assert as_json.exit_code == 0, as_json.output
    report_ = json.loads(as_json.stdout)
    assert group_of(report_, "consulent1")["voorstellen"]["aantal"] == 2  # names: the beheerder's report
    names = [group["consulent"] for group in report_["perConsulent"]]
    assert names == [group["consulent"] for group in deviations(http, tokens, vanaf=since[1])["perConsulent"]]
    text = runner.invoke(cli_app, ["report", "deviations"])
    assert text.exit_code == 0, text.output
    assert "consulent1: 3 beslissingen, 2 voorstellen" in text.output and "! Te weinig voorstellen" in text.output
    only = json.loads(runner.invoke(cli_app, ["report", "deviations", "--consulent", "consulent2", "--json"]).stdout)
    assert [group["consulent"] for group in only["perConsulent"]] == ["consulent2"]
    hidden = runner.invoke(cli_app, ["report", "deviations", *since, "--json", "--gebruiker", "datascientist"])
    assert hidden.exit_code == 0, hidden.output
    pseudonyms = [group["consulent"] for group in json.loads(hidden.stdout)["perConsulent"]]
    api = deviations(http, tokens, "datascientist", vanaf=since[1])["perConsulent"]
    assert pseudonyms == [group["consulent"] for group in api] and "consulent1" not in pseudonyms  # as the API's
    refused = runner.invoke(cli_app, ["report", "deviations", "--gebruiker", "consulent1"])
    assert refused.exit_code == 1 and "data_scientist of beheerder nodig" in refused.output
    entries = audit_entries(http, tokens, gebruiker="datascientist", actie="afwijkingsrapport_opgevraagd")
    assert any(entry["verzoekId"].startswith("cli-") for entry in entries)  # the CLI's read is audited too
    wrong = runner.invoke(cli_app, ["report", "deviations", "--since", "morgen"])
    assert wrong.exit_code == 1 and "--since verwacht een datum" in wrong.output
