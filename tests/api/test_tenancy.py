"""Gemeenten as tenants (:mod:`matching.tenancy`): the boundary held by PostgreSQL's row-level security.

Each test gets a database owned by a table owner that runs the migrations, and connects the code as the
service role the README prescribes (owns nothing, cannot bypass row-level security).
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ProgrammingError
from sqlmodel import Session, select
from typer.testing import CliRunner

from api.cli import app as cli_app
from api.services import matches, users
from api.services.users import Rol
from matching import tenancy
from matching.domain import Client, ClientPersonalia
from matching.store import make_engine
from tests.factories import TEST_AUTH, app_settings, audit_entries, login, make_client, make_vacancy, running_app
from tests.postgres import PostgresServer

GEMEENTEN = {"Duiven": ("K-DUI-1", "K-DUI-2"), "Zevenaar": ("K-ZEV-1",)}


def _fill(session: Session) -> None:
    for gemeente, numbers in GEMEENTEN.items():
        for number in numbers:
            client = make_client(session, client_nummer=number, consulent=f"wc-{gemeente.lower()}", gemeente=gemeente)
            session.add(ClientPersonalia(client_id=client.id, voornaam="Test", achternaam=gemeente))
    users.create_user(
        session, "wc-duiven", "wachtwoord-duiven-1", Rol.WERKCONSULENT, "wc-duiven", gemeente="Duiven", auth=TEST_AUTH
    )
    session.commit()


def _fill_with_zevenaar_consulent(session: Session) -> None:
    """:func:`_fill` and a werkconsulent of Zevenaar (wc-zev), hashed at the test cost."""
    _fill(session)
    users.create_user(
        session, "wc-zev", "wc-zev-wachtwoord-1", Rol.WERKCONSULENT, "wc-zevenaar", gemeente="Zevenaar", auth=TEST_AUTH
    )


@pytest.fixture
def tenant_urls(postgres: PostgresServer) -> Iterator[tuple[str, str]]:
    """(owner URL, service URL) of a migrated database with two gemeenten's clients, granted to the service role."""
    with postgres.service_database() as (owner_url, service_url):
        owner = make_engine(owner_url)
        with Session(owner) as session:  # the owner too is subject to the (forced) policies: regional scope
            _fill(session)
        owner.dispose()
        yield owner_url, service_url


def _numbers(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(session.exec(select(Client.client_nummer)))


def test_a_session_without_a_gemeente_sees_no_client_rows(tenant_urls: tuple[str, str]) -> None:
    owner_url, service_url = tenant_urls
    for url in (service_url, owner_url):  # forced: the owner of the tables sees nothing either
        bare = create_engine(url)  # no werkmatch.gemeente set: not through matching.store.make_engine
        with bare.connect() as connection:
            for table in ("client", "client_personalia"):
                assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0, (url, table)
        bare.dispose()


def test_a_gemeente_sees_only_its_own_clients_even_without_the_applications_filter(
    tenant_urls: tuple[str, str],
) -> None:
    _owner_url, service_url = tenant_urls
    engine = make_engine(service_url)
    assert _numbers(engine) == sorted(n for numbers in GEMEENTEN.values() for n in numbers)  # regional scope
    with tenancy.scope("Duiven"):
        assert _numbers(engine) == ["K-DUI-1", "K-DUI-2"]
        with Session(engine) as session:  # no filter at all, by number, by a joined table, by a write
            assert session.exec(select(Client).where(Client.client_nummer == "K-ZEV-1")).first() is None
            assert sorted(session.exec(select(ClientPersonalia.achternaam))) == ["Duiven", "Duiven"]
            changed = session.execute(text("UPDATE client SET notities = 'x' WHERE client_nummer = 'K-ZEV-1'"))
            assert changed.rowcount == 0
            session.rollback()
        with Session(engine) as session, pytest.raises(ProgrammingError, match="row-level security"):
            make_client(session, client_nummer="K-ZEV-9", consulent="wc-zevenaar", gemeente="Zevenaar")
    with tenancy.scope("Zevenaar"):
        assert _numbers(engine) == ["K-ZEV-1"]
    engine.dispose()


def test_only_the_service_role_may_serve(tenant_urls: tuple[str, str], postgres: PostgresServer) -> None:
    owner_url, service_url = tenant_urls
    assert tenancy.refusal(make_engine(service_url)) is None
    owner_refusal = tenancy.refusal(make_engine(owner_url))
    assert owner_refusal is not None and "eigenaar van" in owner_refusal and "client" in owner_refusal
    superuser_url = owner_url.replace("werkmatch_eigenaar@", postgres.url().split("//")[1].split("@")[0] + "@")
    superuser_refusal = tenancy.refusal(make_engine(superuser_url))
    assert superuser_refusal is not None and "superuser" in superuser_refusal


def test_serve_refuses_a_role_that_could_read_every_gemeente(
    tenant_urls: tuple[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    owner_url, _service_url = tenant_urls
    monkeypatch.setenv("WERKMATCH_DATABASE_URL", owner_url)
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(tmp_path))
    refused = CliRunner().invoke(cli_app, ["serve", "--port", "9"])
    assert refused.exit_code == 1
    [line] = refused.output.strip().splitlines()
    assert line.startswith("Fout: databaserol 'werkmatch_eigenaar' is eigenaar van") and "dienstrol" in line


def test_only_the_owner_scrubs_and_is_told_what_its_rights_left_undone(
    tenant_urls: tuple[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``werkmatch db schoonmaken``: the service role is refused (VACUUM would skip its tables silently); the
    owner rewrites every table, and without pg_checkpoint is told that the WAL is not retired."""
    owner_url, service_url = tenant_urls
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WERKMATCH_DATABASE_URL", service_url)
    refused = CliRunner().invoke(cli_app, ["db", "schoonmaken"])
    assert refused.exit_code == 1
    assert refused.output.strip().splitlines() == [
        "Fout: de rol 'werkmatch_dienst' is geen eigenaar van de tabellen van werkmatch; schoonmaken kan alleen "
        "de eigenaar (de rol die ook 'werkmatch db upgrade' draait)"
    ]
    monkeypatch.setenv("WERKMATCH_DATABASE_URL", owner_url)
    done = CliRunner().invoke(cli_app, ["db", "schoonmaken", "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    with create_engine(owner_url).connect() as connection:
        tables = connection.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar_one()
    assert report["tabellen"] == tables and report["walGewisseld"] is False
    assert [line.split(":")[0] for line in report["waarschuwingen"]] == ["het WAL is niet gewisseld"]
    with Session(make_engine(owner_url)) as session:  # rewritten, not emptied
        assert len(session.exec(select(Client.client_nummer)).all()) == 3


def test_another_gemeentes_client_is_unknown_also_when_the_caseload_check_is_gone(
    tenant_urls: tuple[str, str], embedder: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GET /klanten/{nr} of a Zevenaar client by a Duiven consulent: 404 from the database itself."""
    klanten = importlib.import_module("api.routes.klanten")  # the module, not the router api.routes exports
    owner_url, service_url = tenant_urls
    monkeypatch.setattr(klanten, "_caseload", lambda user: "wc-zevenaar")  # the application's filters, removed
    as_viewer = matches.viewer_for
    monkeypatch.setattr(
        matches, "viewer_for", lambda user, doel: replace(as_viewer(user, doel), caseload="wc-zevenaar")
    )
    settings = app_settings(tmp_path, database_url=service_url)
    with running_app(settings, embedder, wait=False) as http:
        headers = {**login(http, "wc-duiven", "wachtwoord-duiven-1"), "X-Doel": "bemiddeling"}
        answer = http.get("/api/v1/klanten/K-ZEV-1", headers=headers)
        assert answer.status_code == 404, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        browser = TestClient(http.app, follow_redirects=False)  # the web UI's client page: the same boundary
        form = {"gebruikersnaam": "wc-duiven", "wachtwoord": "wachtwoord-duiven-1"}
        assert browser.post("/inloggen", data=form).status_code == 303
        page = browser.get("/klanten/K-ZEV-1")
        assert page.status_code == 404 and "text/html" in page.headers["content-type"], page.text[:300]
        # the control: the same request by the same account made regional is answered (so the 404 was the database's)
        owner = make_engine(owner_url)
        with owner.begin() as connection:
            connection.execute(text("UPDATE gebruiker SET gemeente = NULL WHERE username = 'wc-duiven'"))
        owner.dispose()
        assert http.get("/api/v1/klanten/K-ZEV-1", headers=headers).status_code == 200
        assert browser.get("/klanten/K-ZEV-1").status_code == 200


def test_a_consulent_sees_other_gemeenten_candidates_under_a_pseudonym_and_the_audit_names_the_gemeente(
    embedder: object, tmp_path: Path
) -> None:
    """A WSP vacancy's candidates: Duiven's own by number, Zevenaar's as an accountmanager sees them."""

    def records(session: Session) -> None:
        _fill(session)
        make_vacancy(session, vacature_nummer="WSP-REGIO-1", postcode="6921")

    with running_app(app_settings(tmp_path), embedder, records) as http:
        headers = {**login(http, "wc-duiven", "wachtwoord-duiven-1"), "X-Doel": "bemiddeling"}
        listed = http.post("/api/v1/matches/kandidaten", json={"vacatureId": "WSP-REGIO-1", "top": 10}, headers=headers)
        assert listed.status_code == 200, listed.text
        shown = {item["klantId"]: item.get("eigenKlant") for item in listed.json()["resultaten"]}
        assert {"K-DUI-1", "K-DUI-2"} <= set(shown) and shown["K-DUI-1"] is True
        assert "K-ZEV-1" not in shown and len(shown) == 3  # Zevenaar's client is there, under a pseudonym
        [pseudonym] = set(shown) - {"K-DUI-1", "K-DUI-2"}
        assert shown[pseudonym] is False
        entries = audit_entries(http, {"beheerder": login(http, "beheerder")}, actie="kandidatenlijst_opgevraagd")
        assert [entry["gemeente"] for entry in entries] == ["Duiven"]


def test_a_gemeentes_beheerder_manages_only_the_own_gemeentes_accounts(embedder: object, tmp_path: Path) -> None:
    def records(session: Session) -> None:
        _fill_with_zevenaar_consulent(session)

    with running_app(app_settings(tmp_path), embedder, records, wait=False) as http:
        duiven = login(http, "beheerder-duiven")  # a demo account per gemeente (api.services.users)
        listed = http.get("/api/v1/gebruikers", headers=duiven).json()["gebruikers"]
        assert {u["gemeente"] for u in listed} == {"Duiven"}
        assert {"beheerder-duiven", "wc-duiven"} <= {u["gebruikersnaam"] for u in listed}
        for other in ("wc-zev", "beheerder"):  # another gemeente's, and a regional account: as if unknown
            assert http.get(f"/api/v1/gebruikers/{other}", headers=duiven).status_code == 404
            assert http.patch(f"/api/v1/gebruikers/{other}", json={"actief": False}, headers=duiven).status_code == 404
        new = {"gebruikersnaam": "wc-duiven-2", "wachtwoord": "nieuw-wachtwoord-12", "rol": "werkconsulent"}
        made = http.post("/api/v1/gebruikers", json={**new, "consulent": "wc-duiven"}, headers=duiven)
        assert made.status_code == 201 and made.json()["gemeente"] == "Duiven", made.text
        zevenaar = {"gemeente": "Zevenaar", "consulent": "wc-zevenaar"}
        elsewhere = http.post("/api/v1/gebruikers", json={**new, **zevenaar, "gebruikersnaam": "x-zev"}, headers=duiven)
        assert elsewhere.status_code == 400 and "niet uw gemeente 'Duiven'" in elsewhere.json()["detail"]
        regional = http.post(
            "/api/v1/gebruikers", json={**new, "gebruikersnaam": "am-2", "rol": "accountmanager"}, headers=duiven
        )
        assert regional.status_code == 400 and "regionale beheerder" in regional.json()["detail"]

        region = login(http, "beheerder")  # the regional beheerder: every account, any gemeente
        everyone = {u["gebruikersnaam"] for u in http.get("/api/v1/gebruikers", headers=region).json()["gebruikers"]}
        assert {"beheerder-duiven", "wc-duiven", "wc-zev", "beheerder", "wc-duiven-2"} <= everyone
        zev = http.post("/api/v1/gebruikers", json={**new, **zevenaar, "gebruikersnaam": "wc-zev-2"}, headers=region)
        assert zev.status_code == 201 and zev.json()["gemeente"] == "Zevenaar", zev.text

        # caseload grants (a second beheerder approves): per gemeente as well
        def waiting(headers: dict[str, str]) -> dict[str, int]:
            found = http.get("/api/v1/caseloadtoekenningen", params={"status": "open"}, headers=headers)
            return {grant["gebruikersnaam"]: grant["id"] for grant in found.json()["toekenningen"]}

        assert set(waiting(duiven)) == {"wc-duiven-2"} and {"wc-duiven-2", "wc-zev-2"} <= set(waiting(region))
        foreign = waiting(region)["wc-zev-2"]
        assert http.post(f"/api/v1/caseloadtoekenningen/{foreign}/goedkeuren", headers=duiven).status_code == 404


def test_a_consulent_hands_another_gemeentes_candidate_to_that_clients_consulent(
    embedder: object, tmp_path: Path
) -> None:
    def records(session: Session) -> None:
        _fill_with_zevenaar_consulent(session)
        make_vacancy(session, vacature_nummer="WSP-REGIO-2", postcode="6921")
        make_vacancy(session, vacature_nummer="WSP-REGIO-3", postcode="6921")

    with running_app(app_settings(tmp_path), embedder, records) as http:
        duiven = {**login(http, "wc-duiven", "wachtwoord-duiven-1"), "X-Doel": "bemiddeling"}
        listed = http.post("/api/v1/matches/kandidaten", json={"vacatureId": "WSP-REGIO-2", "top": 10}, headers=duiven)
        [pseudonym] = [item["klantId"] for item in listed.json()["resultaten"] if not item["klantId"].startswith("K-")]
        third = http.post("/api/v1/matches/kandidaten", json={"vacatureId": "WSP-REGIO-3", "top": 10}, headers=duiven)
        [pseudonym_3] = [item["klantId"] for item in third.json()["resultaten"] if item["klantId"].startswith("P-")]
        path = "/api/v1/vacatures/WSP-REGIO-2/doorsturen"
        handed = http.post(path, json={"referentie": pseudonym, "toelichting": "past bij haar wens"}, headers=duiven)
        assert handed.status_code == 200, handed.text
        answer = handed.json()
        assert answer["aangemaakt"] == 1 and answer["nietBereikt"] is None
        [receiver] = answer["ontvangers"]
        assert receiver["consulent"] == "wc-zevenaar" and "wc-zev" in receiver["namen"] and receiver["aantal"] == 1
        assert "K-ZEV-1" not in handed.text  # who the client is stays with the client's consulent
        again = http.post(path, json={"referentie": pseudonym}, headers=duiven)
        assert again.json()["aangemaakt"] == 0  # the pair has an open suggestion already
        unknown = http.post(path, json={"referentie": "P-onbekend"}, headers=duiven)
        assert unknown.status_code == 404 and "staat niet (meer) op de kandidatenlijst" in unknown.json()["detail"]

        # the same from the web candidate card (another candidate list, so the pair is new: a new vacancy)
        browser = TestClient(http.app, follow_redirects=False)
        web_login = {"gebruikersnaam": "wc-duiven", "wachtwoord": "wachtwoord-duiven-1"}
        assert browser.post("/inloggen", data=web_login).status_code == 303
        card = browser.get("/vacatures/WSP-REGIO-3?eigen=nee")
        assert f"Doorsturen: {pseudonym_3}" in card.text and "K-ZEV-1" not in card.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', card.text).group(1)  # type: ignore[union-attr]
        form = {"referentie": pseudonym_3, "toelichting": "", "filters": "eigen=nee", "csrf": csrf}
        sent = browser.post("/vacatures/WSP-REGIO-3/doorsturen", data=form)
        assert sent.status_code == 303 and sent.headers["location"].endswith(f"#kandidaat-{pseudonym_3}")
        assert "Doorgestuurd naar" in browser.get(sent.headers["location"]).text

        zevenaar = login(http, "wc-zev", "wc-zev-wachtwoord-1")
        items = http.get("/api/v1/inbox", headers=zevenaar).json()["items"]
        assert sorted(i["vacatureId"] for i in items) == ["WSP-REGIO-2", "WSP-REGIO-3"]
        [item] = [i for i in items if i["vacatureId"] == "WSP-REGIO-2"]
        assert (item["klantId"], item["vacatureId"], item["toelichting"]) == (
            "K-ZEV-1",
            "WSP-REGIO-2",
            "past bij haar wens",
        )
