"""Accounts, login and access tokens against a real SQLite file and a small app with protected routes."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api import problems
from api.problems import ProblemError
from api.security import CurrentUser, install, require, router
from api.services import schema
from api.services.tokens import create_access_token, signing_key
from api.services.users import Rol, User, authenticate, create_demo_users, create_user, get_user
from matching.errors import InvalidInputError
from matching.settings import AuthSettings, Settings
from matching.store import make_engine
from tests.factories import assert_problem as assert_any_problem
from tests.factories import make_client

PASSWORD = "correct-paard-batterij"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """This module checks the password hashing: the service's own argon2id cost, not the suite's cheap one."""
    return settings.model_copy(update={"auth": AuthSettings()})


@pytest.fixture
def engine(settings: Settings) -> Engine:
    engine = make_engine(settings.resolved_database_url)
    schema.create_all(engine)
    return engine


@pytest.fixture
def users(engine: Engine) -> dict[str, User]:
    with Session(engine, expire_on_commit=False) as session:
        return {
            "consulent": create_user(session, "Marieke", PASSWORD, Rol.WERKCONSULENT, consulent="wc-arnhem-01"),
            "beheerder": create_user(session, "beheer", PASSWORD, "beheerder", naam="Beheer W&I"),
        }


@pytest.fixture
def http(settings: Settings, engine: Engine, users: dict[str, User]) -> TestClient:
    app = FastAPI()
    install(app, settings)
    problems.install(app)
    app.include_router(router)
    app.state.settings = settings
    app.state.engine = engine

    @app.get("/api/v1/ik")
    def me(user: CurrentUser) -> dict[str, str | None]:
        return {"username": user.username, "rol": user.rol.value, "consulent": user.consulent}

    @app.get("/api/v1/beheer")
    def admin(user: Annotated[User, Depends(require(Rol.BEHEERDER))]) -> dict[str, str]:
        return {"username": user.username}

    return TestClient(app)


def login(http: TestClient, username: str, password: str = PASSWORD) -> dict:
    return http.post("/api/v1/token", data={"username": username, "password": password}).json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response, status: int) -> dict:
    """Every refusal here also names a title."""
    return assert_any_problem(response, status, titled=True)


# --- accounts -------------------------------------------------------------------------------------


def test_passwords_are_stored_as_argon2id(engine: Engine, users: dict[str, User]) -> None:
    with Session(engine) as session:
        stored = session.exec(select(User)).all()
    assert len(stored) == 2
    for user in stored:
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
    # Same password, different salts.
    assert stored[0].password_hash != stored[1].password_hash


def test_username_is_case_insensitive_and_role_reads_back(engine: Engine, users: dict[str, User]) -> None:
    with Session(engine) as session:
        user = get_user(session, "  MARIEKE ")
        assert user is not None
        assert user.username == "marieke"
        assert user.rol is Rol.WERKCONSULENT
        assert user.consulent == "wc-arnhem-01"
        assert authenticate(session, "MariekE", PASSWORD) is not None


def test_duplicate_username_is_refused(engine: Engine, users: dict[str, User]) -> None:
    with Session(engine) as session, pytest.raises(InvalidInputError, match="bestaat al"):
        create_user(session, "marieke", "een-ander-wachtwoord", Rol.ACCOUNTMANAGER)


@pytest.mark.parametrize(
    ("username", "password", "rol", "consulent", "message"),
    [
        ("kees", "kort-11-tkn", Rol.ACCOUNTMANAGER, None, "te zwak: 11 tekens; gebruik er minstens 12"),
        ("kees", "", Rol.ACCOUNTMANAGER, None, "te zwak"),
        ("keesvandijk12", "KeesVanDijk12", Rol.ACCOUNTMANAGER, None, "gelijk aan de gebruikersnaam"),
        ("kees", PASSWORD, "directeur", None, "'directeur' is geen geldige rol"),
        ("kees", PASSWORD, Rol.WERKCONSULENT, None, "geen consulentcode"),
        ("k", PASSWORD, Rol.BEHEERDER, None, "gebruikersnaam 'k' is ongeldig"),
        ("kees de vries", PASSWORD, Rol.BEHEERDER, None, "ongeldig"),
    ],
)
def test_invalid_accounts_are_refused_in_dutch(
    engine: Engine, username: str, password: str, rol: str, consulent: str | None, message: str
) -> None:
    with Session(engine) as session:
        with pytest.raises(InvalidInputError, match=message):
            create_user(session, username, password, rol, consulent=consulent)
        assert session.exec(select(User)).all() == []


def test_authenticate(engine: Engine, users: dict[str, User]) -> None:
    with Session(engine) as session:
        user = authenticate(session, "marieke", PASSWORD)
        assert user is not None and user.username == "marieke"
        assert authenticate(session, "marieke", PASSWORD + "x") is None
        assert authenticate(session, "onbekend", PASSWORD) is None


def test_outdated_hash_is_replaced_at_login(engine: Engine, users: dict[str, User]) -> None:
    weak = Argon2Hasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    with Session(engine) as session:
        user = get_user(session, "marieke")
        user.password_hash = weak
        session.add(user)
        session.commit()
    with Session(engine) as session:
        assert authenticate(session, "marieke", PASSWORD) is not None
    with Session(engine) as session:
        stored = get_user(session, "marieke").password_hash
    assert stored != weak
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    with Session(engine) as session:
        assert authenticate(session, "marieke", PASSWORD) is not None


# --- login and tokens -----------------------------------------------------------------------------


def test_login_returns_a_bearer_token_with_the_claims(http: TestClient, settings: Settings) -> None:
    response = http.post("/api/v1/token", data={"username": "Marieke", "password": PASSWORD})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 60 * 60
    claims = jwt.decode(body["access_token"], signing_key(settings), algorithms=["HS256"])
    assert claims["sub"] == "marieke"
    assert claims["rol"] == "werkconsulent"
    assert claims["exp"] - claims["iat"] == 3600
    assert len(claims["jti"]) == 32
    # Every token is distinct, even within the same second.
    assert login(http, "marieke")["access_token"] != body["access_token"]


def test_token_gives_access(http: TestClient) -> None:
    token = login(http, "marieke")["access_token"]
    response = http.get("/api/v1/ik", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == {"username": "marieke", "rol": "werkconsulent", "consulent": "wc-arnhem-01"}


def test_wrong_password_and_unknown_user_get_the_same_answer(http: TestClient) -> None:
    wrong = http.post("/api/v1/token", data={"username": "marieke", "password": "fout-wachtwoord-1"})
    unknown = http.post("/api/v1/token", data={"username": "niemand", "password": PASSWORD})
    for response in (wrong, unknown):
        body = assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
        assert body["detail"].startswith("Onbekende gebruikersnaam of onjuist wachtwoord")
    assert wrong.json() == unknown.json()


def test_missing_token_is_401_with_a_challenge(http: TestClient) -> None:
    response = http.get("/api/v1/ik")
    body = assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"
    assert "POST /api/v1/token" in body["detail"]


def test_malformed_token_is_401(http: TestClient) -> None:
    response = http.get("/api/v1/ik", headers=bearer("geen-token"))
    body = assert_problem(response, 401)
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert "onleesbaar" in body["detail"]


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_tampered_token_is_401(http: TestClient) -> None:
    token = login(http, "marieke")["access_token"]
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    # A werkconsulent promotes herself to beheerder, keeping the old signature.
    forged = ".".join([header, _b64({**claims, "sub": "beheer", "rol": "beheerder"}), signature])
    response = http.get("/api/v1/beheer", headers=bearer(forged))
    body = assert_problem(response, 401)
    assert "handtekening" in body["detail"]


def test_token_signed_with_another_key_is_401(http: TestClient, settings: Settings, users: dict[str, User]) -> None:
    other = settings.model_copy(update={"auth": AuthSettings(secret_key="een-andere-sleutel-van-ruim-32-tekens")})
    token = create_access_token(other, users["beheerder"])
    body = assert_problem(http.get("/api/v1/ik", headers=bearer(token)), 401)
    assert "handtekening" in body["detail"]


def test_expired_token_is_401_verlopen(http: TestClient, settings: Settings, users: dict[str, User]) -> None:
    issued = datetime.now(UTC) - timedelta(minutes=settings.auth.token_minutes + 1)
    token = create_access_token(settings, users["consulent"], now=issued)
    response = http.get("/api/v1/ik", headers=bearer(token))
    body = assert_problem(response, 401)
    assert body["title"] == "Token verlopen"
    assert "verlopen" in body["detail"]
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    # One minute before expiry it still works.
    fresh = create_access_token(settings, users["consulent"], now=issued + timedelta(minutes=2))
    assert http.get("/api/v1/ik", headers=bearer(fresh)).status_code == 200


def test_token_without_required_claims_is_401(http: TestClient, settings: Settings) -> None:
    token = jwt.encode({"sub": "beheer"}, signing_key(settings), algorithm="HS256")
    body = assert_problem(http.get("/api/v1/ik", headers=bearer(token)), 401)
    assert "mist het gegeven" in body["detail"]


def test_deactivated_user_is_refused_at_once(http: TestClient, engine: Engine) -> None:
    token = login(http, "marieke")["access_token"]
    assert http.get("/api/v1/ik", headers=bearer(token)).status_code == 200
    with Session(engine) as session:
        user = get_user(session, "marieke")
        user.actief = False
        session.add(user)
        session.commit()
    body = assert_problem(http.get("/api/v1/ik", headers=bearer(token)), 401)
    assert "gedeactiveerd" in body["detail"]
    login_again = http.post("/api/v1/token", data={"username": "marieke", "password": PASSWORD})
    wrong_password = http.post("/api/v1/token", data={"username": "marieke", "password": "fout-wachtwoord-1"})
    # The right password of a deactivated account gets the answer of a wrong one: no account oracle.
    assert assert_problem(login_again, 401) == assert_problem(wrong_password, 401)
    assert "gedeactiveerd" not in login_again.text


def test_deleted_user_is_refused(http: TestClient, engine: Engine) -> None:
    token = login(http, "marieke")["access_token"]
    with Session(engine) as session:
        session.delete(get_user(session, "marieke"))
        session.commit()
    body = assert_problem(http.get("/api/v1/ik", headers=bearer(token)), 401)
    assert "bestaat niet" in body["detail"]


def test_wrong_role_is_403_naming_the_role(http: TestClient) -> None:
    token = login(http, "marieke")["access_token"]
    response = http.get("/api/v1/beheer", headers=bearer(token))
    body = assert_problem(response, 403)
    assert body["detail"] == "Hiervoor is de rol beheerder nodig; u bent ingelogd als werkconsulent."
    admin = login(http, "beheer")["access_token"]
    assert http.get("/api/v1/beheer", headers=bearer(admin)).json() == {"username": "beheer"}


def test_role_is_read_from_the_database_not_the_token(http: TestClient, engine: Engine) -> None:
    token = login(http, "beheer")["access_token"]
    with Session(engine) as session:
        user = get_user(session, "beheer")
        user.rol = Rol.ACCOUNTMANAGER
        session.add(user)
        session.commit()
    assert_problem(http.get("/api/v1/beheer", headers=bearer(token)), 403)


def test_require_names_every_allowed_role() -> None:
    with pytest.raises(ValueError):
        require()
    dependency = require(Rol.ACCOUNTMANAGER, Rol.DATA_SCIENTIST, Rol.BEHEERDER)
    user = User(username="x", password_hash="", rol=Rol.WERKCONSULENT, consulent="c")
    with pytest.raises(ProblemError, match="een van de rollen accountmanager, data_scientist of beheerder") as error:
        dependency(user)
    assert error.value.status == 403


# --- settings and demo accounts -------------------------------------------------------------------


def test_signing_key_in_development_and_production(settings: Settings) -> None:
    installed = signing_key(settings)  # the installation's own random key, made on first need
    assert len(installed) == 64 and signing_key(settings) == installed
    own = "x" * 40
    assert signing_key(settings.model_copy(update={"auth": AuthSettings(secret_key=own)})) == own
    production = settings.model_copy(update={"environment": "production"})
    assert signing_key(production) == installed  # a random per-installation key is fine in production
    install(FastAPI(), production)
    short = settings.model_copy(update={"environment": "production", "auth": AuthSettings(secret_key="kort")})
    with pytest.raises(InvalidInputError, match="te kort"):
        signing_key(short)
    with pytest.raises(InvalidInputError, match="WERKMATCH_AUTH__SECRET_KEY"):
        install(FastAPI(), short)
    good = settings.model_copy(update={"environment": "production", "auth": AuthSettings(secret_key=own)})
    assert signing_key(good) == own


def test_settings_read_from_the_environment(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WERKMATCH_ENVIRONMENT", "production")
    monkeypatch.setenv("WERKMATCH_AUTH__SECRET_KEY", "s" * 32)
    monkeypatch.setenv("WERKMATCH_AUTH__TOKEN_MINUTES", "15")
    settings = Settings()
    assert settings.environment == "production"
    assert settings.auth.token_minutes == 15
    assert signing_key(settings) == "s" * 32


def test_demo_users_own_clients_and_are_idempotent(settings: Settings, engine: Engine) -> None:
    with Session(engine) as session:
        for _ in range(3):
            make_client(session, consulent="wc-arnhem-01")
        for _ in range(2):
            make_client(session, consulent="wc-ede-02")
        make_client(session, consulent="wc-zevenaar-01")

    first = create_demo_users(engine, settings)
    assert [u["rol"] for u in first] == [
        "werkconsulent",
        "werkconsulent",
        "accountmanager",
        "data_scientist",
        "beheerder",
    ]  # one gemeente (this installation's): no accounts per gemeente (test_demo_region: a region has them)
    assert [u["consulent"] for u in first[:2]] == ["wc-arnhem-01", "wc-ede-02"]
    assert all(u["created"] for u in first)

    second = create_demo_users(engine, settings)
    assert [u["username"] for u in second] == [u["username"] for u in first]
    assert not any(u["created"] for u in second)
    with Session(engine) as session:
        assert len(session.exec(select(User)).all()) == 5
        for account in first:
            user = authenticate(session, account["username"], account["password"])
            assert user is not None and user.rol == account["rol"]


def test_demo_users_log_in_through_the_api(http: TestClient, settings: Settings, engine: Engine) -> None:
    with Session(engine) as session:
        make_client(session, consulent="wc-arnhem-01")
    accounts = create_demo_users(engine, settings)
    consulent = accounts[0]
    token = login(http, consulent["username"], consulent["password"])["access_token"]
    assert http.get("/api/v1/ik", headers=bearer(token)).json()["consulent"] == "wc-arnhem-01"


def test_demo_users_without_clients_get_placeholder_codes(settings: Settings, engine: Engine) -> None:
    accounts = create_demo_users(engine, settings)
    assert [u["consulent"] for u in accounts[:2]] == ["wc-demo-01", "wc-demo-02"]


def test_demo_users_are_refused_in_production(settings: Settings, engine: Engine) -> None:
    production = settings.model_copy(update={"environment": "production"})
    with pytest.raises(InvalidInputError, match="niet toegestaan in productie"):
        create_demo_users(engine, production)
    with Session(engine) as session:
        assert session.exec(select(User)).all() == []
