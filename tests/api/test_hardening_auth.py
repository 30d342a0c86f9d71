"""Issue 15, keys and logins: the attacks of the audit, replayed against a real app on a real SQLite file.

Forged tokens (the published demo key, a 10-year lifetime, an iat in the future), pseudonyms reversed
with the token key, tokens that outlive a logout or a deactivation, password guessing without a
limit, and an account oracle in the login answer.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from api import problems, security
from api.cli import app as cli_app
from api.security import CurrentUser, install, router
from api.services import keys, schema, tokens
from api.services.login_throttle import LoginThrottle
from api.services.tokens import create_access_token, pseudonym, signing_key
from api.services.users import Rol, create_user, get_user, revoke_tokens
from api.web.session import COOKIE, csrf_token
from matching.errors import InvalidInputError
from matching.settings import AuthSettings, Settings
from matching.store import make_engine
from tests.factories import app_settings, login, make_client, running_app

PASSWORD = "correct-paard-batterij"
NEW = {"gebruikersnaam": "nieuwe.consulent", "wachtwoord": "een-lang-genoeg-wachtwoord", "rol": "werkconsulent"}
# The key every werkmatch before issue 15 signed its tokens with in development, published in its source.
OLD_DEMO_KEY = "werkmatch-demo-sleutel-alleen-voor-ontwikkeling"


@pytest.fixture
def engine(settings: Settings) -> Engine:
    engine = make_engine(settings.resolved_database_url)
    schema.create_all(engine)
    with Session(engine) as session:
        # hashed at the settings' cost, the one their logins check (not the hashing under test here)
        create_user(session, "marieke", PASSWORD, Rol.WERKCONSULENT, consulent="wc-arnhem-01", auth=settings.auth)
        create_user(session, "beheer", PASSWORD, Rol.BEHEERDER, auth=settings.auth)
        for number in range(3):
            create_user(session, f"collega{number}", PASSWORD, Rol.ACCOUNTMANAGER, auth=settings.auth)
    return engine


@pytest.fixture
def http(settings: Settings, engine: Engine) -> TestClient:
    app = FastAPI()
    install(app, settings)
    problems.install(app)
    app.include_router(router)
    app.state.settings = settings
    app.state.engine = engine

    @app.get("/api/v1/ik")
    def me(user: CurrentUser) -> dict[str, str]:
        return {"username": user.username}

    return TestClient(app)


def token_for(http: TestClient, username: str, password: str = PASSWORD) -> str:
    response = http.post("/api/v1/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def me(http: TestClient, token: str) -> int:
    return http.get("/api/v1/ik", headers=bearer(token)).status_code


def forged(key: str, **claims: object) -> str:
    now = datetime.now(UTC)
    base = {"sub": "beheer", "rol": "beheerder", "iat": now, "exp": now + timedelta(minutes=30), "jti": "x" * 32}
    return jwt.encode({**base, "gen": 0, **claims}, key, algorithm="HS256")


# --- finding 1: no constant key ---------------------------------------------------------------------


def test_a_token_signed_with_the_published_demo_key_is_refused(http: TestClient) -> None:
    """The audit's attack: a hand-made beheerder token signed with the key from the source."""
    response = http.get("/api/v1/ik", headers=bearer(forged(OLD_DEMO_KEY)))
    assert response.status_code == 401 and "handtekening" in response.json()["detail"]
    assert not hasattr(security, "DEMO_SIGNING_KEY") and not hasattr(tokens, "DEMO_SIGNING_KEY")


def test_the_published_demo_key_is_refused_as_configuration(settings: Settings) -> None:
    configured = settings.model_copy(update={"auth": AuthSettings(secret_key=OLD_DEMO_KEY)})
    with pytest.raises(InvalidInputError, match="openbaar bekende sleutel"):
        signing_key(configured)


def test_keys_are_random_per_installation_private_and_apart(tmp_path: Path) -> None:
    first, second = Settings(data_dir=tmp_path / "een"), Settings(data_dir=tmp_path / "twee")
    assert signing_key(first) != signing_key(second)
    assert tokens.pseudonym_key(first) != signing_key(first)
    directory = keys.key_dir(first)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for name in (keys.TOKEN_KEY, keys.PSEUDONYM_KEY):
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600
    assert sorted(p.name for p in directory.iterdir()) == [keys.PSEUDONYM_KEY, keys.TOKEN_KEY]  # no temp files left
    assert signing_key(first) == (directory / keys.TOKEN_KEY).read_text().strip()  # stable once made


def test_nothing_is_made_before_a_key_is_needed(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    install(FastAPI(), settings)  # building an app in development makes no key yet
    assert not keys.key_dir(settings).exists()


def test_pseudonyms_cannot_be_reversed_with_the_token_key(settings: Settings) -> None:
    """The audit reversed 72 pseudonyms with the token key: now they are keyed with a key of their own."""
    with_token_key = hmac.new(signing_key(settings).encode(), b"V-1|K0000042", hashlib.sha256).hexdigest()[:12]
    assert pseudonym(settings, "V-1", "K0000042") != f"P-{with_token_key}"
    assert pseudonym(settings, "V-1", "K0000042") == pseudonym(settings, "V-1", "K0000042")


def test_a_configured_pseudonym_key_must_differ_from_the_token_key(settings: Settings) -> None:
    same = settings.model_copy(update={"auth": AuthSettings(secret_key="k" * 40, pseudonym_key="k" * 40)})
    with pytest.raises(InvalidInputError, match="gelijk aan"):
        tokens.pseudonym_key(same)


def test_production_refuses_a_key_file_others_can_read(settings: Settings) -> None:
    path = keys.key_dir(settings) / keys.TOKEN_KEY
    signing_key(settings)
    path.chmod(0o644)
    production = settings.model_copy(update={"environment": "production"})
    with pytest.raises(InvalidInputError, match="chmod 600"):
        install(FastAPI(), production)


def test_rotating_the_token_key_logs_everybody_out_and_keeps_the_pseudonyms(
    http: TestClient, settings: Settings
) -> None:
    token = token_for(http, "marieke")
    before = pseudonym(settings, "V-1", "K1")
    result = CliRunner().invoke(cli_app, ["sleutels", "roteren", "--token"])  # WERKMATCH_DATA_DIR is the test's
    assert result.exit_code == 0, result.output
    assert "opnieuw in" in result.output
    assert me(http, token) == 401  # the running app reads the new key at the next request
    assert me(http, token_for(http, "marieke")) == 200
    assert pseudonym(settings, "V-1", "K1") == before
    assert CliRunner().invoke(cli_app, ["sleutels", "roteren", "--pseudoniem"]).exit_code == 0
    assert pseudonym(settings, "V-1", "K1") != before


# --- finding 1: a maximum lifetime on the server ----------------------------------------------------


def test_a_ten_year_token_signed_with_the_right_key_is_refused(http: TestClient, settings: Settings) -> None:
    now = datetime.now(UTC)
    ten_years = forged(signing_key(settings), exp=now + timedelta(days=3650))
    response = http.get("/api/v1/ik", headers=bearer(ten_years))
    assert response.status_code == 401 and "langer geldig" in response.json()["detail"]
    assert me(http, forged(signing_key(settings))) == 200  # the same claims with a normal lifetime pass


def test_a_token_issued_in_the_future_is_refused(http: TestClient, settings: Settings) -> None:
    later = datetime.now(UTC) + timedelta(days=365)
    token = forged(signing_key(settings), iat=later, exp=later + timedelta(minutes=30))
    response = http.get("/api/v1/ik", headers=bearer(token))
    assert response.status_code == 401 and "toekomst" in response.json()["detail"]


# --- logout and reactivation revoke earlier tokens ---------------------------------------------------


def test_logout_revokes_every_earlier_token_also_one_from_the_same_second(
    http: TestClient, settings: Settings, engine: Engine
) -> None:
    phone, laptop = token_for(http, "marieke"), token_for(http, "marieke")
    response = http.post("/api/v1/token/intrekken", headers=bearer(phone))
    assert response.status_code == 204, response.text
    refused = http.get("/api/v1/ik", headers=bearer(phone))
    assert refused.status_code == 401 and refused.json()["title"] == "Token ingetrokken"
    assert me(http, laptop) == 401  # logging out ends the account's tokens on every device
    with Session(engine) as session:
        user = get_user(session, "marieke")
    # A token of the old generation stamped in this very second: iat's whole seconds do not save it.
    assert me(http, create_access_token(settings, user, now=datetime.now(UTC).replace(microsecond=0))) == 401
    assert me(http, token_for(http, "marieke")) == 200  # logging in again right away works
    assert http.post("/api/v1/token/intrekken").status_code == 401


def test_a_revoked_generation_stays_revoked_after_reactivation(http: TestClient, engine: Engine) -> None:
    token = token_for(http, "marieke")
    for actief in (False, True):  # what PATCH /gebruikers does: the flag and a revocation, one commit
        with Session(engine) as session:
            user = get_user(session, "marieke")
            user.actief = actief
            session.add(user)
            revoke_tokens(session, "marieke")
            session.commit()
    assert me(http, token) == 401


# --- one answer for every failed login ----------------------------------------------------------------


def test_a_deactivated_account_with_the_right_password_looks_like_a_wrong_password(
    http: TestClient, engine: Engine
) -> None:
    with Session(engine) as session:
        user = get_user(session, "marieke")
        user.actief = False
        session.add(user)
        session.commit()
    right = http.post("/api/v1/token", data={"username": "marieke", "password": PASSWORD})
    wrong = http.post("/api/v1/token", data={"username": "marieke", "password": "fout-wachtwoord-1"})
    unknown = http.post("/api/v1/token", data={"username": "niemand", "password": PASSWORD})
    assert right.status_code == wrong.status_code == unknown.status_code == 401
    assert right.json() == wrong.json() == unknown.json()
    assert right.headers["www-authenticate"] == wrong.headers["www-authenticate"]


# --- finding 5: login throttling ------------------------------------------------------------------------


def test_guessing_one_account_is_stopped_even_for_the_right_password(
    http: TestClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    limit = settings.auth.login_failures_per_account
    caplog.set_level(logging.WARNING, logger="api.security")
    for attempt in range(limit):
        response = http.post("/api/v1/token", data={"username": "Marieke", "password": f"gok-{attempt}-geheim"})
        assert response.status_code == 401
    throttled = http.post("/api/v1/token", data={"username": "marieke", "password": PASSWORD})
    assert throttled.status_code == 429, throttled.text
    assert throttled.headers["content-type"] == "application/problem+json"
    assert throttled.json()["title"] == "Te veel inlogpogingen"
    wait = int(throttled.headers["retry-after"])
    assert 0 < wait <= settings.auth.login_window_minutes * 60
    assert f"{wait} seconden" in throttled.json()["detail"]
    assert me(http, token_for(http, "beheer")) == 200  # another account from the same address still logs in
    failures = [r for r in caplog.records if r.levelno == logging.WARNING and r.getMessage().startswith("failed login")]
    assert len(failures) == limit and "'marieke'" in failures[0].getMessage()
    assert not any("gok-" in r.getMessage() or PASSWORD in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_guessing_from_one_address_across_accounts_is_stopped(http: TestClient, settings: Settings) -> None:
    names = ["marieke", "beheer", "collega0", "collega1", "collega2", "niemand"]
    for attempt in range(settings.auth.login_failures_per_address):  # at most 4 per account: under its limit
        name = names[attempt % len(names)]
        assert http.post("/api/v1/token", data={"username": name, "password": "fout-wachtwoord-1"}).status_code == 401
    throttled = http.post("/api/v1/token", data={"username": "collega2", "password": PASSWORD})
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0


@pytest.mark.slow
def test_a_good_login_clears_the_accounts_count(http: TestClient, settings: Settings) -> None:
    for _round in range(3):
        for _ in range(settings.auth.login_failures_per_account - 1):
            http.post("/api/v1/token", data={"username": "marieke", "password": "fout-wachtwoord-1"})
        assert me(http, token_for(http, "marieke")) == 200


def test_the_throttle_window_slides() -> None:
    now = [1000.0]
    throttle = LoginThrottle(per_account=2, per_address=3, window_seconds=60, clock=lambda: now[0])
    throttle.failed("a", "1.2.3.4")
    now[0] += 30
    throttle.failed("a", "1.2.3.4")
    assert throttle.retry_after("a", "5.6.7.8") == 30  # the first failure leaves the window in 30 s
    assert throttle.retry_after("b", "1.2.3.4") is None
    throttle.failed("b", "1.2.3.4")
    assert throttle.retry_after("b", "1.2.3.4") == 30  # the address reached 3
    now[0] += 30
    assert throttle.retry_after("a", "5.6.7.8") is None
    throttle.succeeded("a")
    assert throttle.retry_after("a", "9.9.9.9") is None


# --- finding 7: four eyes before a caseload is granted -------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, embedder, module_database: str) -> Iterator[TestClient]:
    """The real app on a small database: wc-a (consulent1) holds a client with a beperking, wc-b (consulent2) one."""

    def records(session: Session) -> None:
        make_client(session, client_nummer="K-VIER-1", consulent="wc-a", beperkingen=[{"aspect": "tillen", "ernst": 2}])
        make_client(session, client_nummer="K-VIER-3", consulent="wc-a")
        make_client(session, client_nummer="K-VIER-2", consulent="wc-b")

    settings = app_settings(tmp_path_factory.mktemp("vier-ogen") / "var", database_url=module_database)
    with running_app(settings, embedder, records, wait=False) as client:
        yield client


def test_granting_an_existing_caseload_needs_a_second_beheerder(world: TestClient) -> None:
    """The audit's attack: a beheerder creates a werkconsulent with an existing code and reads beperkingen at once."""
    first = login(world, "beheerder")
    assert world.post("/api/v1/gebruikers", json={**NEW, "gebruikersnaam": "tweede.beheerder", "rol": "beheerder"},
                      headers=first).status_code == 201  # fmt: skip
    second = login(world, "tweede.beheerder", NEW["wachtwoord"])
    created = world.post("/api/v1/gebruikers", json={**NEW, "consulent": "wc-a"}, headers=first)
    assert created.status_code == 201, created.text
    assert (created.json()["consulent"], created.json()["aangevraagd"]) == (None, "wc-a")

    intruder = login(world, "nieuwe.consulent", NEW["wachtwoord"])
    refused = world.get("/api/v1/klanten/K-VIER-1", headers=intruder)
    assert refused.status_code == 403, refused.text  # not yet: no caseload until a second beheerder approves
    assert "tillen" not in refused.text

    notices = world.get("/api/v1/meldingen", headers=login(world, "consulent1")).json()["meldingen"]
    assert len(notices) == 1 and "nieuwe.consulent" in notices[0]["tekst"] and "beheerder" in notices[0]["tekst"]
    assert world.get("/api/v1/meldingen", headers=login(world, "consulent2")).json()["meldingen"] == []

    waiting = world.get("/api/v1/caseloadtoekenningen?status=open", headers=first).json()["toekenningen"]
    assert [(g["gebruikersnaam"], g["consulent"], g["aangevraagdDoor"]) for g in waiting] == [
        ("nieuwe.consulent", "wc-a", "beheerder")
    ]
    grant = waiting[0]["id"]
    own = world.post(f"/api/v1/caseloadtoekenningen/{grant}/goedkeuren", headers=first)
    assert own.status_code == 403 and own.json()["title"] == "Vier ogen nodig", own.text
    assert world.get("/api/v1/klanten/K-VIER-1", headers=intruder).status_code == 403

    approved = world.post(f"/api/v1/caseloadtoekenningen/{grant}/goedkeuren", headers=second)
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["beoordeeldDoor"]) == ("goedgekeurd", "tweede.beheerder")
    assert world.get("/api/v1/klanten/K-VIER-1", headers=intruder).status_code == 200  # now, with the same token
    again = world.post(f"/api/v1/caseloadtoekenningen/{grant}/goedkeuren", headers=second)
    assert again.status_code == 409
    account = world.get("/api/v1/gebruikers/nieuwe.consulent", headers=first).json()
    assert (account["consulent"], account["aangevraagd"]) == ("wc-a", None)
    notices = world.get("/api/v1/meldingen", headers=login(world, "consulent1")).json()["meldingen"]
    assert len(notices) == 2 and "goedgekeurd door tweede.beheerder" in notices[0]["tekst"]
    entries = world.post("/api/v1/audit/zoeken", json={"betrokkene": "nieuwe.consulent"}, headers=first).json()[
        "regels"
    ]
    actions = [e["actie"] for e in entries]
    assert "caseload_aangevraagd" in actions and actions[0] == "caseload_goedgekeurd"


def test_moving_a_consulent_to_another_caseload_waits_and_can_be_refused(world: TestClient) -> None:
    first = login(world, "beheerder")
    moved = world.patch("/api/v1/gebruikers/consulent2", json={"consulent": "wc-a"}, headers=first)
    assert moved.status_code == 200, moved.text
    assert (moved.json()["consulent"], moved.json()["aangevraagd"]) == ("wc-b", "wc-a")  # keeps what it had
    consulent2 = login(world, "consulent2")
    assert world.get("/api/v1/klanten/K-VIER-1", headers=consulent2).status_code == 404
    assert world.get("/api/v1/klanten/K-VIER-2", headers=consulent2).status_code == 200
    waiting = world.get("/api/v1/caseloadtoekenningen?status=open", headers=first).json()["toekenningen"]
    grant = next(g["id"] for g in waiting if g["gebruikersnaam"] == "consulent2")
    refused = world.post(f"/api/v1/caseloadtoekenningen/{grant}/afwijzen", headers=first)  # the asker withdraws
    assert refused.status_code == 200 and refused.json()["status"] == "afgewezen"
    assert world.get("/api/v1/gebruikers/consulent2", headers=first).json()["aangevraagd"] is None
    assert world.get("/api/v1/klanten/K-VIER-1", headers=consulent2).status_code == 404
    assert world.post("/api/v1/caseloadtoekenningen/999999/goedkeuren", headers=first).status_code == 404
    assert world.get("/api/v1/caseloadtoekenningen", headers=consulent2).status_code == 403


def _web_login(app: FastAPI, username: str, password: str) -> TestClient:
    browser = TestClient(app, follow_redirects=False)
    response = browser.post("/inloggen", data={"gebruikersnaam": username, "wachtwoord": password})
    assert response.status_code == 303, response.text
    return browser


def _csrf(browser: TestClient, settings: Settings) -> str:
    claims = jwt.decode(browser.cookies[COOKIE], signing_key(settings), algorithms=["HS256"])
    return csrf_token(settings, claims["jti"])


def test_the_second_beheerder_approves_on_the_web_page_and_not_the_first(world: TestClient) -> None:
    settings, first = world.app.state.settings, login(world, "beheerder")
    world.post(
        "/api/v1/gebruikers", json={**NEW, "gebruikersnaam": "tweede.beheerder", "rol": "beheerder"}, headers=first
    )
    body = {**NEW, "gebruikersnaam": "web.consulent", "consulent": "wc-b"}
    assert world.post("/api/v1/gebruikers", json=body, headers=first).status_code == 201
    grant = next(
        g["id"]
        for g in world.get("/api/v1/caseloadtoekenningen?status=open", headers=first).json()["toekenningen"]
        if g["gebruikersnaam"] == "web.consulent"
    )
    asker = _web_login(world.app, "beheerder", "beheerder-demo-wachtwoord")
    page = asker.get("/beheer/gebruikers")
    row = page.text[page.text.index(f'id="toekenning-{grant}"') :]
    row = row[: row.index("</tr>")]
    assert "wc-b" in row and "Intrekken" in row and "Goedkeuren" not in row  # no button for one's own request
    own = asker.post(f"/beheer/toekenningen/{grant}", data={"besluit": "goedkeuren", "csrf": _csrf(asker, settings)})
    assert own.status_code == 403 and "tweede beheerder" in own.text

    second = _web_login(world.app, "tweede.beheerder", NEW["wachtwoord"])
    approve = {"besluit": "goedkeuren", "csrf": _csrf(second, settings)}
    decided = second.post(f"/beheer/toekenningen/{grant}", data=approve)
    assert decided.status_code == 303, decided.text
    assert world.get("/api/v1/gebruikers/web.consulent", headers=first).json()["consulent"] == "wc-b"


def test_web_logout_revokes_the_session_token(world: TestClient) -> None:
    settings = world.app.state.settings
    browser = _web_login(world.app, "consulent1", "consulent1-demo-wachtwoord")
    copied = browser.cookies[COOKIE]  # what a thief of the cookie holds
    assert world.get("/api/v1/meldingen", headers=bearer(copied)).status_code == 200
    out = browser.post("/uitloggen", data={"csrf": _csrf(browser, settings)})
    assert out.status_code == 303 and out.headers["location"] == "/inloggen?melding=uitgelogd"
    assert world.get("/api/v1/meldingen", headers=bearer(copied)).status_code == 401
    thief = TestClient(world.app, follow_redirects=False, cookies={COOKIE: copied})
    assert thief.get("/inbox").status_code == 303  # to the login page


def test_the_web_login_form_is_throttled_too(world: TestClient) -> None:
    first = login(world, "beheerder")
    body = {"gebruikersnaam": "slot.test", "wachtwoord": NEW["wachtwoord"], "rol": "accountmanager"}
    assert world.post("/api/v1/gebruikers", json=body, headers=first).status_code == 201
    browser = TestClient(world.app, follow_redirects=False)
    limit = world.app.state.settings.auth.login_failures_per_account
    for attempt in range(limit):
        wrong = browser.post("/inloggen", data={"gebruikersnaam": "slot.test", "wachtwoord": f"fout-{attempt}-xxxxx"})
        assert wrong.status_code == 400 and "klopt niet" in wrong.text
    throttled = browser.post("/inloggen", data={"gebruikersnaam": "slot.test", "wachtwoord": NEW["wachtwoord"]})
    assert throttled.status_code == 429, throttled.text
    assert int(throttled.headers["retry-after"]) > 0 and "Probeer het over" in throttled.text
    assert COOKIE not in throttled.cookies
