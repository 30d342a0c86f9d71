"""argon2id's cost follows ``AuthSettings.password_time_cost``/``password_memory_kib``: unset, pwdlib's recommended
parameters, which the service uses; the suite's cheaper ``TEST_AUTH`` only where a test sets it."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from api.services import schema
from api.services.users import Rol, User, authenticate, create_demo_users, create_user, get_user, hash_password
from matching.settings import AuthSettings, Settings
from matching.store import make_engine
from tests.factories import TEST_AUTH

PASSWORD = "correct-paard-batterij"
RECOMMENDED = "$argon2id$v=19$m=65536,t=3,p=4$"
CHEAP = "$argon2id$v=19$m=1024,t=1,p=4$"


def test_the_services_default_is_the_recommended_cost(tmp_path: Path) -> None:
    auth = Settings(data_dir=tmp_path).auth
    assert (auth.password_time_cost, auth.password_memory_kib) == (None, None)
    assert hash_password(PASSWORD).startswith(RECOMMENDED)
    assert hash_password(PASSWORD, auth).startswith(RECOMMENDED)
    assert hash_password(PASSWORD, TEST_AUTH).startswith(CHEAP)
    assert hash_password(PASSWORD, AuthSettings(password_time_cost=2)).startswith("$argon2id$v=19$m=65536,t=2,p=4$")


def test_demo_accounts_and_logins_follow_the_configured_cost(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'werkmatch.db'}")
    schema.create_all(engine)
    accounts = create_demo_users(engine, Settings(data_dir=tmp_path, auth=TEST_AUTH))
    with Session(engine) as session:
        stored = session.exec(select(User)).all()
        assert len(stored) == len(accounts) and all(user.password_hash.startswith(CHEAP) for user in stored)
        # the same cost at login: the hash stays as it is
        before = get_user(session, "beheerder").password_hash
        assert authenticate(session, "beheerder", "beheerder-demo-wachtwoord", TEST_AUTH) is not None
        assert get_user(session, "beheerder").password_hash == before
        assert authenticate(session, "beheerder", "fout-wachtwoord-123", TEST_AUTH) is None
        assert authenticate(session, "niemand", "beheerder-demo-wachtwoord", TEST_AUTH) is None
        # a service at the recommended cost replaces a cheaper hash at the next login
        assert authenticate(session, "beheerder", "beheerder-demo-wachtwoord") is not None
        assert get_user(session, "beheerder").password_hash.startswith(RECOMMENDED)
        created = create_user(session, "marieke", PASSWORD, Rol.ACCOUNTMANAGER)
        assert created.password_hash.startswith(RECOMMENDED)
    engine.dispose()
