"""Accounts of the API: who may log in, with which role, and (for a werkconsulent) which caseload.

Passwords are stored as argon2id hashes (pwdlib's recommended parameters, unless ``AuthSettings``
sets a cost: the test suite's apps); only this module touches them. Usernames are case-insensitive: stored and looked
up in lower case.

Roles (:class:`Rol`):

* ``werkconsulent``: sees the clients of their own caseload, linked by :attr:`User.consulent`
  (the code in ``Client.consulent``, e.g. ``wc-arnhem-01`` in the demo data);
* ``accountmanager``: holds vacancies and employers;
* ``data_scientist``: trains, evaluates and promotes rankers;
* ``beheerder``: manages accounts and the service.

Demo accounts (``create_demo_users``, development only), password ``<username>-demo-wachtwoord``:

* ``consulent1`` / ``consulent1-demo-wachtwoord``: werkconsulent of the consulent code with the most clients;
* ``consulent2`` / ``consulent2-demo-wachtwoord``: werkconsulent of the code with the second most;
* ``accountmanager`` / ``accountmanager-demo-wachtwoord``: accountmanager;
* ``datascientist`` / ``datascientist-demo-wachtwoord``: data_scientist;
* ``beheerder`` / ``beheerder-demo-wachtwoord``: beheerder of the region (every gemeente's accounts);
* in a region (clients of more than one gemeente), per gemeente, e.g. Duiven: ``consulent-duiven``
  (werkconsulent of that gemeente's busiest caseload that ``consulent1``/``consulent2`` do not hold) and
  ``beheerder-duiven`` (beheerder of that gemeente's accounts).
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from pwdlib import PasswordHash
from pwdlib.exceptions import PwdlibError
from pwdlib.hashers.argon2 import Argon2Hasher
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Column, String, func, update
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Engine
from sqlmodel import Field as SQLField
from sqlmodel import Session, SQLModel, select

from api.services import audit
from matching import tenancy
from matching.domain import Client, utcnow
from matching.errors import InvalidInputError
from matching.settings import AuthSettings, Settings

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12
# argon2 hashes any length cheaply, but nobody types more; a bound keeps request bodies sane.
MAX_PASSWORD_LENGTH = 256
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{2,63}")
DEMO_PASSWORD_SUFFIX = "-demo-wachtwoord"


class Rol(StrEnum):
    """What a user may do; the API checks it per route with ``api.security.require``."""

    WERKCONSULENT = "werkconsulent"
    ACCOUNTMANAGER = "accountmanager"
    DATA_SCIENTIST = "data_scientist"
    BEHEERDER = "beheerder"


class User(SQLModel, table=True):
    """A stored account. ``password_hash`` never leaves this module's functions; show :class:`UserPublic`."""

    __tablename__ = "gebruiker"

    id: int | None = SQLField(default=None, primary_key=True)
    username: str = SQLField(index=True, unique=True, max_length=64)
    password_hash: str
    # Stored as the value ("data_scientist"), read back as a Rol; unknown strings are refused.
    rol: Rol = SQLField(
        sa_column=Column(
            SAEnum(Rol, values_callable=lambda roles: [r.value for r in roles], native_enum=False, length=32),
            nullable=False,
        )
    )
    # A werkconsulent's code in Client.consulent: their caseload. None for the other roles.
    consulent: str | None = SQLField(default=None, sa_column=Column(String(80), index=True, nullable=True))
    # The gemeente the account works for; None: the region (WSP accountmanager, data scientist, regional beheerder).
    gemeente: str | None = SQLField(default=None, max_length=tenancy.NAME_MAX, index=True)
    naam: str = ""
    actief: bool = True
    created_at: datetime = SQLField(default_factory=utcnow)


class UserPublic(BaseModel):
    """What the API may show of an account; in JSON the name is ``gebruikersnaam`` (API 2.0.0)."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)
    username: str = Field(alias="gebruikersnaam", description="inlognaam, in kleine letters")
    rol: Rol
    consulent: str | None
    gemeente: str | None = None
    naam: str
    actief: bool
    # The consulentcode this account waits for: asked by one beheerder, to be approved by a second
    # (api.services.grants); until then ``consulent`` is empty or the code it had.
    aangevraagd: str | None = None


class TokenGeneratie(SQLModel, table=True):
    """Per account, the generation its access tokens must carry (claim ``gen``).

    Logging out, deactivating and reactivating raise it (:func:`revoke_tokens`), so every token issued
    before is refused from then on, in every process. A counter rather than a "not before" moment:
    ``iat`` has whole seconds, and a token issued in the same second as a logout must not survive it,
    while a login just after the logout must work. Keyed by username, not id: a deleted and re-created
    account does not bring old tokens back to life. A new table, so an existing database keeps working.
    """

    __tablename__ = "token_generatie"

    username: str = SQLField(primary_key=True, max_length=64)
    generatie: int = 0
    gewijzigd_op: datetime = SQLField(default_factory=utcnow)


def token_generation(session: Session, username: str) -> int:
    """The generation new tokens of ``username`` get, and old ones must still match (0 if never revoked)."""
    row = session.get(TokenGeneratie, normalize_username(username))
    return row.generatie if row is not None else 0


def revoke_tokens(session: Session, username: str) -> int:
    """End every access token issued so far to ``username``; the caller commits (with its own change).

    Returns:
        The new generation.
    """
    name = normalize_username(username)
    # One UPDATE (or INSERT) statement: two revocations at once both count, neither is lost.
    updated = session.execute(
        update(TokenGeneratie)
        .where(TokenGeneratie.username == name)  # type: ignore[arg-type]
        .values(generatie=TokenGeneratie.generatie + 1, gewijzigd_op=utcnow())
    )
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        session.add(TokenGeneratie(username=name, generatie=1))
        session.flush()
    row = session.get(TokenGeneratie, name, populate_existing=True)
    return row.generatie if row is not None else 1


@functools.cache
def _cost(time_cost: int | None, memory_kib: int | None) -> PasswordHash:
    """One hasher per cost; unset: exactly ``PasswordHash.recommended()``."""
    if time_cost is None and memory_kib is None:
        return PasswordHash.recommended()
    given = {"time_cost": time_cost, "memory_cost": memory_kib}
    return PasswordHash((Argon2Hasher(**{name: value for name, value in given.items() if value is not None}),))


def _hasher(auth: AuthSettings | None = None) -> PasswordHash:
    """argon2id with pwdlib's recommended parameters, or the cost ``auth`` sets (built on first use, not at import)."""
    return _cost(None, None) if auth is None else _cost(auth.password_time_cost, auth.password_memory_kib)


def hash_password(password: str, auth: AuthSettings | None = None) -> str:
    """An argon2id hash (``$argon2id$v=19$m=65536,t=3,p=4$…``) of ``password`` with a fresh salt."""
    return _hasher(auth).hash(password)


def verify_password(password: str, password_hash: str, auth: AuthSettings | None = None) -> tuple[bool, str | None]:
    """Check ``password`` against a stored hash.

    Args:
        password: What the user typed.
        password_hash: The stored hash.
        auth: The hashing cost (:attr:`AuthSettings.password_time_cost`, ``password_memory_kib``); None: recommended.

    Returns:
        ``(matches, new_hash)``: ``new_hash`` is set when the password matches and the stored hash
        uses outdated parameters or another algorithm; store it. A hash pwdlib cannot read never matches.
    """
    try:
        return _hasher(auth).verify_and_update(password, password_hash)
    except PwdlibError:
        logger.warning("a stored password hash is not readable by pwdlib")
        return False, None


@functools.cache
def _dummy_hash(hasher: PasswordHash) -> str:
    return hasher.hash("werkmatch-onbekende-gebruiker")


def normalize_username(username: str) -> str:
    """Usernames are compared in lower case without surrounding spaces: ``" Beheerder"`` is ``beheerder``."""
    return username.strip().lower()


def get_user(session: Session, username: str) -> User | None:
    """The account with this username (case-insensitive), or None."""
    return session.exec(select(User).where(User.username == normalize_username(username))).first()


def create_user(
    session: Session,
    username: str,
    password: str,
    rol: Rol | str,
    consulent: str | None = None,
    naam: str | None = None,
    caseload_pending: bool = False,
    gemeente: str | None = None,
    auth: AuthSettings | None = None,
) -> User:
    """Store a new active account with an argon2id hash of its password; commits.

    Args:
        session: An open session.
        username: 3 to 64 characters: letters, digits and ``. _ @ -``; stored in lower case.
        password: At least 12 characters.
        rol: One of :class:`Rol` (or its value).
        consulent: The consulent code of a werkconsulent's caseload (``Client.consulent``); required
            for a werkconsulent.
        naam: The display name; defaults to the username.
        caseload_pending: A werkconsulent created without a code because their caseload waits for a
            second beheerder's approval (:mod:`api.services.grants`); until then they see no clients.
        gemeente: The gemeente the account works for; a werkconsulent always has one (default: this
            installation's, :func:`matching.tenancy.home`), None makes any other role regional.
        auth: The hashing cost; None: pwdlib's recommended parameters.

    Returns:
        The stored user.

    Raises:
        InvalidInputError: In Dutch, for a taken or malformed username, a weak password, an unknown
            role or a werkconsulent without consulent code.
    """
    name = normalize_username(username)
    if not _USERNAME.fullmatch(name):
        raise InvalidInputError(
            f"gebruikersnaam '{username}' is ongeldig; gebruik 3 tot 64 tekens: letters, cijfers en . _ @ -"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(
            f"wachtwoord is te zwak: {len(password)} tekens; gebruik er minstens {MIN_PASSWORD_LENGTH}"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInputError(f"wachtwoord is te lang; gebruik hoogstens {MAX_PASSWORD_LENGTH} tekens")
    if password.strip().lower() == name:
        raise InvalidInputError("wachtwoord is te zwak: het is gelijk aan de gebruikersnaam; kies een ander")
    try:
        role = Rol(rol)
    except ValueError:
        raise InvalidInputError(f"'{rol}' is geen geldige rol; kies uit: {', '.join(r.value for r in Rol)}") from None
    code = consulent.strip() if consulent else None
    if role is Rol.WERKCONSULENT and not code and not caseload_pending:
        raise InvalidInputError(
            f"werkconsulent '{name}' heeft geen consulentcode; geef de code van de caseload op, bijv. wc-arnhem-01"
        )
    if get_user(session, name) is not None:
        raise InvalidInputError(f"gebruikersnaam '{name}' bestaat al; kies een andere")
    try:
        tenant = tenancy.gemeente_name(gemeente) if gemeente else None
    except ValueError as error:
        raise InvalidInputError(str(error)) from None
    user = User(
        username=name,
        password_hash=hash_password(password, auth),
        rol=role,
        consulent=code,
        gemeente=tenant or (tenancy.home() if role is Rol.WERKCONSULENT else None),
        naam=(naam or "").strip() or name,
    )
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def authenticate(session: Session, username: str, password: str, auth: AuthSettings | None = None) -> User | None:
    """The user whose password matches, or None; the caller decides what an inactive user may do.

    An unknown username costs one argon2 verification too (against a dummy hash), so the response
    time does not tell which usernames exist. A matching hash with outdated parameters is replaced
    by a fresh one (committed).

    Args:
        session: An open session.
        username: As typed (case-insensitive).
        password: As typed.
        auth: The hashing cost a matching hash must have (else it is replaced); None: recommended.

    Returns:
        The user, active or not, when the password matches; otherwise None.
    """
    user = get_user(session, username)
    if user is None:
        verify_password(password, _dummy_hash(_hasher(auth)), auth)
        return None
    matches, new_hash = verify_password(password, user.password_hash, auth)
    if not matches:
        return None
    if new_hash is not None:
        user.password_hash = new_hash
        session.add(user)
        session.commit()
        session.refresh(user)
        logger.info("rehashed the password of %s with current argon2 parameters", user.username)
    return user


def _caseload_sizes(session: Session) -> list[tuple[str, str, int]]:
    """(gemeente, consulent code, clients) of every caseload in each gemeente, biggest first (ties by code)."""
    clients = func.count(Client.id)  # type: ignore[arg-type]
    rows = session.exec(select(Client.gemeente, Client.consulent, clients).group_by(Client.gemeente, Client.consulent))
    return sorted(
        ((gemeente, code, count) for gemeente, code, count in rows), key=lambda row: (-row[2], row[1], row[0])
    )


def _busiest_consulenten(sizes: list[tuple[str, str, int]], count: int) -> list[tuple[str, str | None]]:
    """The consulent codes owning the most clients, most first (ties by code), with their clients' gemeente."""
    per_code: dict[str, tuple[int, str]] = {}
    for gemeente, code, clients in sizes:
        total, first = per_code.get(code, (0, gemeente))
        per_code[code] = (total + clients, min(first, gemeente))
    ranked = sorted(per_code, key=lambda code: (-per_code[code][0], code))[:count]
    return [(code, per_code[code][1]) for code in ranked]


def gemeente_slug(gemeente: str) -> str:
    """A gemeente's name as part of a username: ``"'s-Hertogenbosch"`` -> ``"s-hertogenbosch"``."""
    plain = unicodedata.normalize("NFKD", gemeente).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def _gemeente_caseloads(sizes: list[tuple[str, str, int]], taken: set[str]) -> list[tuple[str, str | None]]:
    """Per gemeente with clients, most clients first: (gemeente, its busiest consulent code not in ``taken``).

    None when every caseload of the gemeente is taken (then it gets no demo werkconsulent of its own).
    """
    totals: dict[str, int] = {}
    busiest: dict[str, str] = {}
    for gemeente, code, clients in sizes:  # biggest first: a gemeente's first free code is its busiest
        totals[gemeente] = totals.get(gemeente, 0) + clients
        if code not in taken:
            busiest.setdefault(gemeente, code)
    return [(gemeente, busiest.get(gemeente)) for gemeente in sorted(totals, key=lambda g: (-totals[g], g))]


def create_demo_users(engine: Engine, settings: Settings) -> list[dict[str, Any]]:
    """Create one demo account per role (two werkconsulenten), and per gemeente a werkconsulent and a beheerder.

    Accounts that exist are skipped.

    The first werkconsulent gets the consulent code with the most clients in the database, the second
    the code with the second most, so their caseloads are non-empty with demo data (``wc-demo-01`` /
    ``wc-demo-02`` when there are no clients yet). Passwords are ``<username>-demo-wachtwoord``.

    Args:
        engine: The service database; the ``gebruiker`` table is created if needed.
        settings: Refused when ``environment`` is ``production``.

    Returns:
        One dict per demo account: ``username``, ``password``, ``rol``, ``consulent``, ``gemeente`` and ``created``
        (False when the account already existed: it was left as it is, password included).

    Raises:
        InvalidInputError: In production, in Dutch.
    """
    if settings.environment == "production":
        raise InvalidInputError(
            "demo-gebruikers met bekende wachtwoorden zijn niet toegestaan in productie; "
            "maak echte accounts aan of zet WERKMATCH_ENVIRONMENT=development"
        )
    result: list[dict[str, Any]] = []
    with Session(engine, expire_on_commit=False) as session:
        sizes = _caseload_sizes(session)
        codes = _busiest_consulenten(sizes, 2)
        codes += [(f"wc-demo-{i:02d}", None) for i in range(len(codes) + 1, 3)]
        accounts = [
            ("consulent1", Rol.WERKCONSULENT, codes[0], "Demo werkconsulent 1"),
            ("consulent2", Rol.WERKCONSULENT, codes[1], "Demo werkconsulent 2"),
            ("accountmanager", Rol.ACCOUNTMANAGER, (None, None), "Demo accountmanager"),
            ("datascientist", Rol.DATA_SCIENTIST, (None, None), "Demo data scientist"),
            ("beheerder", Rol.BEHEERDER, (None, None), "Demo beheerder (regio)"),
        ]
        per_gemeente = _gemeente_caseloads(sizes, {codes[0][0], codes[1][0]})
        for gemeente, code in per_gemeente if len(per_gemeente) > 1 else []:  # a region; one gemeente: the above
            slug = gemeente_slug(gemeente)
            if code is not None:
                accounts.append(
                    (f"consulent-{slug}", Rol.WERKCONSULENT, (code, gemeente), f"Demo werkconsulent {gemeente}")
                )
            accounts.append((f"beheerder-{slug}", Rol.BEHEERDER, (None, gemeente), f"Demo beheerder {gemeente}"))
        for username, rol, (code, gemeente), naam in accounts:
            password = username + DEMO_PASSWORD_SUFFIX
            user = get_user(session, username)
            created = user is None
            if user is None:
                user = create_user(
                    session, username, password, rol, consulent=code, naam=naam, gemeente=gemeente, auth=settings.auth
                )
            result.append(
                {
                    "username": user.username,
                    "password": password,
                    "rol": user.rol.value,
                    "consulent": user.consulent,
                    "gemeente": user.gemeente,
                    "created": created,
                }
            )
    return result


def record_as(
    session: Session,
    user: User,
    *,
    action: str,
    purpose: str,
    subjects: Sequence[str],
    details: Mapping[str, Any] | None = None,
    request_id: str | None = None,
) -> list[audit.AuditEntry]:
    """:func:`api.services.audit.record_all` as a logged-in user: username and role, caller's transaction."""
    return audit.record_all(
        session,
        actor=user.username,
        rol=Rol(user.rol).value,
        action=action,
        purpose=purpose,
        subjects=subjects,
        details=details,
        request_id=request_id,
        gemeente=user.gemeente,
    )
