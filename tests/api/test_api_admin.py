"""Model management and accounts over HTTP: roles, promotion recorded by user, pseudonymised training data."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.app import create_app
from matching.domain import Client
from matching.features import FEATURE_NAMES
from matching.matcher import Matcher
from matching.settings import RankerSettings, Settings
from tests.factories import audit_entries, copied_world, login, logins
from training import registry
from training.dataset import build_dataset
from training.train import train

USERS = ("consulent1", "accountmanager", "datascientist", "beheerder")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, simulated_template: Path, embedder) -> tuple[Settings, Matcher]:
    """500 clients, 200 vacancies, two simulated years of voorstellen, and one trained challenger."""
    settings, matcher = copied_world(simulated_template, tmp_path_factory.mktemp("admin") / "var", embedder)
    train(settings, matcher, user="ds-test")
    return settings, matcher


@pytest.fixture(scope="module")
def http(world) -> TestClient:
    settings, matcher = world
    with TestClient(create_app(settings, matcher)) as client:
        yield client


@pytest.fixture(scope="module")
def tokens(http: TestClient) -> dict[str, dict[str, str]]:
    return logins(http, *USERS)


MODELS = ("get", "/api/v1/modellen", None)
PROMOTE_WITHOUT_REASON = ("post", "/api/v1/modellen/promoveren", {"forceer": True})
TRAINING = ("get", "/api/v1/modellen/trainingsdata?paginaGrootte=2", None)
USERS_LIST = ("get", "/api/v1/gebruikers", None)
WEAK_USER = ("post", "/api/v1/gebruikers", {"gebruikersnaam": "zwak", "wachtwoord": "kort", "rol": "data_scientist"})
CHANGE_UNKNOWN = ("patch", "/api/v1/gebruikers/niemand", {"actief": False})

COLUMNS = (None, "consulent1", "accountmanager", "datascientist", "beheerder")
MATRIX = [
    (MODELS,                 (401, 403, 403, 200, 200)),
    (PROMOTE_WITHOUT_REASON, (401, 403, 403, 400, 403)),
    (TRAINING,               (401, 403, 403, 200, 403)),
    (USERS_LIST,             (401, 403, 403, 403, 200)),
    (WEAK_USER,              (401, 403, 403, 403, 400)),
    (CHANGE_UNKNOWN,         (401, 403, 403, 403, 404)),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(
    ("endpoint", "user", "expected"),
    [(endpoint, user, status) for endpoint, row in MATRIX for user, status in zip(COLUMNS, row, strict=True)],
    ids=lambda value: value[1] if isinstance(value, tuple) else str(value),
)
def test_role_endpoint_matrix(http, tokens, endpoint, user, expected) -> None:
    method, path, body = endpoint
    response = http.request(method, path, json=body, headers=tokens[user] if user else {})
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"]


@pytest.mark.slow
def test_the_data_scientist_sees_the_registry_and_the_serving_ranker(http, tokens, world) -> None:
    settings, matcher = world
    response = http.get("/api/v1/modellen", headers=tokens["datascientist"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["registermodel"] == settings.ranker.registered_model
    assert body["serveert"]["naam"] == matcher.ranker_status()["name"]
    newest = body["versies"][0]
    info = registry.versions(settings)[0]
    assert newest["versie"] == info.version and newest["toetsperiodeVanaf"] == info.tags["holdout_from"]
    assert set(newest["aliassen"]) == set(info.aliases) and newest["tags"]["data_hash"] == newest["dataHash"]
    browser = TestClient(http.app, follow_redirects=False)  # the web page shows the API's object
    form = {"gebruikersnaam": "datascientist", "wachtwoord": "datascientist-demo-wachtwoord"}
    assert browser.post("/inloggen", data=form).status_code == 303
    page = browser.get("/modellen").text
    assert f"Nu rangschikt: <strong>{body['serveert']['naam']}</strong>" in page
    assert f"<td>{newest['toetsperiodeVanaf']}</td>" in page


@pytest.mark.slow
def test_promotion_is_recorded_with_the_users_name_and_serving_follows(http, tokens, world) -> None:
    settings, matcher = world
    if registry.by_alias(settings, registry.CHALLENGER) is None:
        train(settings, matcher, user="ds-test")
    challenger = registry.by_alias(settings, registry.CHALLENGER).version
    headers = tokens["datascientist"]
    response = http.post("/api/v1/modellen/promoveren", json={}, headers=headers)
    if response.status_code == 409:  # not better than the ranker that serves, on this small world
        refused = response.json()
        assert refused["title"] == "Niet gepromoveerd" and "wordt geen champion" in refused["detail"]
        assert {"winst", "winstInterval"} <= set(refused["winstNdcgAt10"]) and refused["poorten"][0]["gehaald"] is False
        assert registry.by_alias(settings, registry.CHALLENGER).version == challenger  # nothing changed
        body = {
            "forceer": True,
            "reden": "eerste eigen model, test",
            "verantwoording": "Testopzet: klein synthetisch model, overschrijdingen bekend.",
        }
        response = http.post("/api/v1/modellen/promoveren", json=body, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["gepromoveerd"]["geforceerd"] is True
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["versie"] == challenger and result["gepromoveerd"]["door"] == "datascientist"
    assert result["serveert"]["versie"] == challenger and {"winst", "winstInterval"} <= set(result["winstNdcgAt10"])
    tags = {v.version: v for v in registry.versions(settings)}[challenger]
    assert tags.aliases == ("champion",) and tags.tags["promoted_by"] == "datascientist"
    assert matcher.ranker_status()["version"] == challenger  # serving reloaded, no wait for the watcher
    listed = http.get("/api/v1/modellen", headers=tokens["beheerder"]).json()
    promoted = next(v for v in listed["versies"] if v["versie"] == challenger)
    assert promoted["promotie"]["door"] == "datascientist" and promoted["aliassen"] == ["champion"]
    [entry] = audit_entries(http, tokens, actie="model_gepromoveerd")
    assert entry["gebruiker"] == "datascientist" and entry["details"]["versie"] == challenger

    again = http.post("/api/v1/modellen/promoveren", json={}, headers=headers)  # the challenger alias is gone
    assert again.status_code == 409 and "geen challenger" in again.json()["detail"]


@pytest.mark.slow
def test_a_bad_promotion_body_is_a_dutch_400(http, tokens) -> None:
    headers = tokens["datascientist"]
    for body in ({"forceer": True, "reden": "   "}, {"forceer": True, "reden": "123456789"}, {"onbekend": 1}):
        response = http.post("/api/v1/modellen/promoveren", json=body, headers=headers)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.slow
def test_training_data_is_pseudonymised_stable_and_complete(http, tokens, world) -> None:
    settings, matcher = world
    headers = tokens["datascientist"]
    response = http.get("/api/v1/modellen/trainingsdata?pagina=1&paginaGrootte=50", headers=headers)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["totaal"] == len(build_dataset(matcher)) > 50 and page["aantalPaginas"] >= 2
    assert page["kenmerkNamen"] == list(FEATURE_NAMES) and len(page["resultaten"]) == 50
    for row in page["resultaten"]:
        assert set(row) == {"klant", "vacature", "label", "gecensureerd", "moment", "kenmerken"}
        assert row["klant"].startswith("P-") and row["vacature"].startswith("PV-")
        assert list(row["kenmerken"]) == list(FEATURE_NAMES) and row["label"] in {0, 2, 3, 4}
    with Session(matcher.engine) as session:
        numbers = session.exec(select(Client.client_nummer)).all()
        postcodes = session.exec(select(Client.postcode)).all()
    text = response.text
    assert not any(number in text for number in numbers) and not any(f'"{p}"' in text for p in postcodes)
    for key in ("klantnummer", "klantNummer", "postcode", "beperkingen", "naam", "K-"):
        assert key not in text

    again = http.get("/api/v1/modellen/trainingsdata?pagina=1&paginaGrootte=50", headers=headers).json()
    assert [r["klant"] for r in again["resultaten"]] == [r["klant"] for r in page["resultaten"]]
    bigger = http.get("/api/v1/modellen/trainingsdata?pagina=1&paginaGrootte=100", headers=headers).json()
    assert bigger["resultaten"][:50] == page["resultaten"]  # pages of one snapshot line up
    second = http.get("/api/v1/modellen/trainingsdata?pagina=2&paginaGrootte=50", headers=headers).json()
    assert second["resultaten"] == bigger["resultaten"][50:]
    past = http.get(f"/api/v1/modellen/trainingsdata?pagina={page['aantalPaginas'] + 1}", headers=headers)
    assert past.status_code == 200 and past.json()["resultaten"] == []

    entries = audit_entries(http, tokens, actie="trainingsdata_opgevraagd", gebruiker="datascientist")
    assert entries and entries[-1]["doel"] == "modelontwikkeling"
    assert set(entries[-1]["betrokkenen"]) <= set(numbers) and entries[-1]["betrokkenen"]  # the real numbers, for audit


@pytest.mark.slow
@pytest.mark.parametrize("query", ["pagina=0", "paginaGrootte=0", "paginaGrootte=1001", "pagina=x"])
def test_a_bad_page_is_a_dutch_400(http, tokens, query) -> None:
    response = http.get(f"/api/v1/modellen/trainingsdata?{query}", headers=tokens["datascientist"])
    assert response.status_code == 400 and response.json()["invalidParams"]


@pytest.mark.slow
def test_the_beheerder_manages_accounts_and_deactivation_ends_tokens_at_once(http, tokens) -> None:
    admin = tokens["beheerder"]
    new = {"gebruikersnaam": "Nieuwe.Consulent", "wachtwoord": "een-lang-genoeg-wachtwoord", "rol": "werkconsulent"}
    missing_code = http.post("/api/v1/gebruikers", json=new, headers=admin)
    assert missing_code.status_code == 400 and "consulentcode" in missing_code.json()["detail"]
    created = http.post("/api/v1/gebruikers", json={**new, "consulent": "wc-x"}, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json() == {
        "gebruikersnaam": "nieuwe.consulent",
        "rol": "werkconsulent",
        "consulent": None,  # the caseload waits for a second beheerder (four eyes, tests/api/test_hardening_auth.py)
        "gemeente": "Arnhem",  # a werkconsulent works for a gemeente: by default this installation's
        "naam": "nieuwe.consulent",
        "actief": True,
        "aangevraagd": "wc-x",
    }
    assert created.headers["Location"] == "/api/v1/gebruikers/nieuwe.consulent"
    duplicate = http.post(
        "/api/v1/gebruikers", json={**new, "gebruikersnaam": "NIEUWE.consulent", "consulent": "wc-y"}, headers=admin
    )
    assert duplicate.status_code == 409 and "bestaat al" in duplicate.json()["detail"]

    theirs = login(http, "nieuwe.consulent", new["wachtwoord"])
    assert http.get("/api/v1/modellen", headers=theirs).status_code == 403  # logged in, wrong role
    listed = http.get("/api/v1/gebruikers", headers=admin).json()["gebruikers"]
    assert "nieuwe.consulent" in [u["gebruikersnaam"] for u in listed]
    assert not any("hash" in key for user in listed for key in user)

    deactivated = http.patch("/api/v1/gebruikers/nieuwe.consulent", json={"actief": False}, headers=admin)
    assert deactivated.status_code == 200 and deactivated.json()["actief"] is False
    refused = http.get("/api/v1/modellen", headers=theirs)
    assert refused.status_code == 401 and "gedeactiveerd" in refused.json()["detail"]
    relogin = http.post("/api/v1/token", data={"username": "nieuwe.consulent", "password": new["wachtwoord"]})
    assert relogin.status_code == 401

    changed = http.patch(
        "/api/v1/gebruikers/Nieuwe.Consulent", json={"actief": True, "rol": "data_scientist"}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["rol"], changed.json()["consulent"]) == ("data_scientist", None)  # caseload dropped
    assert changed.json()["aangevraagd"] is None  # the waiting request lapsed with the role
    assert http.get("/api/v1/modellen", headers=theirs).status_code == 401  # reactivation revoked the old token
    theirs = login(http, "nieuwe.consulent", new["wachtwoord"])
    assert http.get("/api/v1/modellen", headers=theirs).status_code == 200  # a new token, the new role

    entries = audit_entries(http, tokens, betrokkene="nieuwe.consulent")
    assert [e["actie"] for e in entries] == [
        "gebruiker_gewijzigd",
        "gebruiker_gewijzigd",
        "caseload_aangevraagd",
        "gebruiker_aangemaakt",
    ]
    assert entries[0]["details"] == {"actief": True, "rol": "data_scientist"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"gebruikersnaam": "zwak.wachtwoord", "wachtwoord": "kort", "rol": "accountmanager"}, "te zwak"),
        ({"gebruikersnaam": "gelijk.aan.naam", "wachtwoord": "GELIJK.AAN.NAAM", "rol": "accountmanager"}, "te zwak"),
        ({"gebruikersnaam": "a b", "wachtwoord": "een-lang-genoeg-wachtwoord", "rol": "accountmanager"}, "ongeldig"),
        (
            {
                "gebruikersnaam": "acc.met.code",
                "wachtwoord": "een-lang-genoeg-wachtwoord",
                "rol": "accountmanager",
                "consulent": "wc-a",
            },
            "alleen een werkconsulent",
        ),
    ],
)
def test_invalid_accounts_are_refused_in_dutch(http, tokens, body, fragment) -> None:
    response = http.post("/api/v1/gebruikers", json=body, headers=tokens["beheerder"])
    assert response.status_code == 400, response.text
    assert fragment in response.json()["detail"] and response.headers["content-type"] == "application/problem+json"


@pytest.mark.slow
def test_a_beheerder_cannot_lock_themselves_out(http, tokens) -> None:
    admin = tokens["beheerder"]
    for body in ({"actief": False}, {"rol": "data_scientist"}):
        response = http.patch("/api/v1/gebruikers/beheerder", json=body, headers=admin)
        assert response.status_code == 400 and "eigen" in response.json()["detail"]
    assert http.get("/api/v1/gebruikers/beheerder", headers=admin).json()["actief"] is True
    empty = http.patch("/api/v1/gebruikers/beheerder", json={}, headers=admin)
    assert empty.status_code == 400


def test_a_broken_registry_is_a_503_and_the_serving_ranker_stays(tmp_path, embedder) -> None:
    settings = Settings(data_dir=tmp_path / "var", ranker=RankerSettings(poll_seconds=0))
    with TestClient(create_app(settings, Matcher(settings, embedder=embedder))) as client:
        (tmp_path / "var" / "mlflow.db").write_bytes(b"geen sqlite" * 100)  # after start: serving is settled
        headers = login(client, "datascientist")
        for method, path in (("get", "/api/v1/modellen"), ("post", "/api/v1/modellen/promoveren")):
            response = client.request(method, path, json={} if method == "post" else None, headers=headers)
            assert response.status_code == 503, response.text
            assert response.json()["title"] == "Modelregister niet leesbaar"
        assert client.get("/api/v1/health").json()["index"]["rangschikker"]["naam"] == "baseline"
