"""Account management by the beheerder: create and change accounts, with four eyes on a caseload.

No HTTP here: :mod:`api.routes.gebruikers` and the web UI's account page call these functions.

* Usernames are case-insensitive; a taken one is a :class:`~matching.errors.ConflictError` (also
  between check and commit); a weak password a Dutch refusal (the rules of
  :func:`api.services.users.create_user`). Usernames and consulent codes go into the audit log, which
  refuses anything that looks like a BSN, so they are refused here first.
* Only a werkconsulent has a consulentcode; changing a role away from werkconsulent clears it. A
  beheerder cannot deactivate themselves or change their own role (so there is always an active
  beheerder left). Deactivating and reactivating revoke the account's tokens
  (:func:`api.services.users.revoke_tokens`), so a token from before a deactivation does not work
  again after the reactivation. Every change is audited (``gebruiker_aangemaakt``, ``gebruiker_gewijzigd``).
* **Four eyes on a caseload** (:mod:`api.services.grants`): creating a werkconsulent, or a change that
  gives an account a consulentcode it did not have, stores a request (``aangevraagd``) rather than
  the code; a second beheerder approves it. Losing a caseload takes effect at once and lets a
  waiting request lapse.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api.services import grants, users
from api.services.users import Rol, User, UserPublic, create_user, get_user, normalize_username, revoke_tokens
from matching import tenancy
from matching.errors import ConflictError, InvalidInputError, NotFoundError

ACCOUNT_PURPOSE = "accountbeheer"
_BSN_LIKE = re.compile(r"\d{9}")  # as audit's rule: the log refuses these, so refuse them at the door


def public(user: User, aangevraagd: str | None = None) -> UserPublic:
    """An account as shown (never the password), with the consulentcode that waits for approval."""
    return UserPublic(
        username=user.username,
        rol=Rol(user.rol),
        consulent=user.consulent,
        gemeente=user.gemeente,
        naam=user.naam,
        actief=user.actief,
        aangevraagd=aangevraagd,
    )


def _with_grant(session: Session, user: User) -> UserPublic:
    return public(user, grants.pending(session, [user.username]).get(user.username))


def _taken(username: str) -> ConflictError:
    return ConflictError(f"gebruikersnaam '{username}' bestaat al; kies een andere, of wijzig de bestaande met PATCH")


def _account(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user is None:
        raise NotFoundError(f"gebruiker '{username}' bestaat niet; controleer de gebruikersnaam")
    return user


def _not_bsn(value: str | None, name: str) -> None:
    """Usernames and consulent codes end up in the audit log, which refuses anything that looks like a BSN."""
    if value is not None and _BSN_LIKE.fullmatch(value.strip()):
        raise InvalidInputError(f"{name} '{value}' lijkt op een BSN (9 cijfers); kies een andere")


def _consulent_rule(rol: Rol, consulent: str | None) -> None:
    _not_bsn(consulent, "consulentcode")
    if rol is Rol.WERKCONSULENT and not consulent:
        raise InvalidInputError("een werkconsulent heeft een consulentcode nodig (de caseload), bijv. wc-arnhem-01")
    if rol is not Rol.WERKCONSULENT and consulent:
        raise InvalidInputError(
            f"alleen een werkconsulent heeft een consulentcode; laat 'consulent' weg voor de rol {rol.value}"
        )


def _blank_to_none(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def _audit(
    session: Session, by: User, action: str, username: str, details: dict[str, Any], request_id: str | None
) -> None:
    users.record_as(
        session, by, action=action, purpose=ACCOUNT_PURPOSE, subjects=[username], details=details, request_id=request_id
    )


def _managed(session: Session, by: User, username: str) -> User:
    """The account ``by`` manages: any for a regional beheerder, the own gemeente's for a gemeente's beheerder.

    Raises:
        NotFoundError: No such account, or one of another gemeente or of the region (answered alike).
    """
    user = _account(session, username)
    if by.gemeente is not None and user.gemeente != by.gemeente:
        raise NotFoundError(f"gebruiker '{username}' bestaat niet; controleer de gebruikersnaam")
    return user


def accounts(engine: Engine, by: User) -> list[UserPublic]:
    """Every account ``by`` manages (without passwords), by username: a gemeente's beheerder sees the own gemeente's."""
    with Session(engine) as session:
        found = select(User).order_by(User.username)
        if by.gemeente is not None:
            found = found.where(User.gemeente == by.gemeente)
        users = session.exec(found).all()
        waiting = grants.pending(session)
        return [public(user, waiting.get(user.username)) for user in users]


def account(engine: Engine, username: str, by: User) -> UserPublic:
    """One account ``by`` manages (without password).

    Raises:
        NotFoundError: No account has that username, or ``by`` does not manage it.
    """
    with Session(engine) as session:
        return _with_grant(session, _managed(session, by, username))


def _gemeente_of_new(by: User, rol: Rol, gemeente: str | None) -> str | None:
    """The gemeente of an account ``by`` creates: a gemeente's beheerder creates only in the own gemeente.

    Raises:
        InvalidInputError: Another gemeente, or a regional role, asked by a gemeente's beheerder; a bad name.
    """
    try:
        asked = tenancy.gemeente_name(gemeente) if gemeente else None
    except ValueError as error:
        raise InvalidInputError(str(error)) from None
    if by.gemeente is None:
        return asked
    if asked is not None and asked != by.gemeente:
        raise InvalidInputError(
            f"gemeente '{asked}' is niet uw gemeente '{by.gemeente}'; u beheert alleen accounts van uw eigen gemeente"
        )
    if rol not in (Rol.WERKCONSULENT, Rol.BEHEERDER):
        raise InvalidInputError(
            f"de rol {rol.value} werkt voor de hele regio; alleen een regionale beheerder maakt zo'n account"
        )
    return by.gemeente


def create_account(
    engine: Engine,
    by: User,
    *,
    username: str,
    password: str,
    rol: Rol,
    consulent: str | None,
    naam: str | None,
    request_id: str | None,
    gemeente: str | None = None,
) -> UserPublic:
    """A new account; a werkconsulent's caseload waits for a second beheerder (``aangevraagd``).

    The account works for ``gemeente`` (a gemeente's beheerder: always the own; a werkconsulent without
    one: this installation's), or for the region.

    Raises:
        ConflictError: The username is taken.
        InvalidInputError: In Dutch: a weak password, a consulentcode for another role (or none for a
            werkconsulent), or a username or code that looks like a BSN.
    """
    consulent = _blank_to_none(consulent)
    _consulent_rule(rol, consulent)
    tenant = _gemeente_of_new(by, rol, gemeente)
    name = normalize_username(username)
    _not_bsn(name, "gebruikersnaam")
    try:
        with Session(engine) as session:
            if get_user(session, name) is not None:
                raise _taken(name)
            # The audit entry and the grant request go first and create_user's commit carries them:
            # all or nothing. The caseload itself waits for a second beheerder (api.services.grants).
            _audit(session, by, "gebruiker_aangemaakt", name, {"rol": rol.value}, request_id)
            if consulent is not None:
                grants.request_grant(session, by, name, consulent, request_id)
            created = create_user(
                session, name, password, rol, consulent=None, naam=naam, caseload_pending=True, gemeente=tenant
            )
            return public(created, consulent)
    except IntegrityError:  # created by someone else between our check and our commit
        raise _taken(name) from None


def change_account(
    engine: Engine, by: User, username: str, given: dict[str, Any], request_id: str | None
) -> UserPublic:
    """Change ``actief``, ``rol``, ``consulent`` or ``naam`` of an account: the fields in ``given``.

    Raises:
        NotFoundError: No account has that username.
        InvalidInputError: In Dutch: nothing to change, a field set to null, the own account
            deactivated or the own role changed, a consulentcode that does not fit the role.
    """
    if not given:
        raise InvalidInputError("geen wijziging opgegeven; geef actief, rol, consulent of naam")
    for field in ("actief", "rol", "naam"):
        if field in given and given[field] is None:
            raise InvalidInputError(f"'{field}' mag niet leeg (null) zijn; laat het veld weg om het te houden")
    with Session(engine) as session:
        target = _managed(session, by, username)
        own = target.username == by.username
        if own and given.get("actief") is False:
            raise InvalidInputError("u kunt uw eigen account niet deactiveren; laat een andere beheerder dit doen")
        if own and given.get("rol") is not None and given["rol"] != target.rol:
            raise InvalidInputError("u kunt uw eigen rol niet wijzigen; laat een andere beheerder dit doen")
        changes, voided = _apply(session, by, target, given, request_id)
        if changes or voided:
            session.add(target)
            if changes:
                _audit(session, by, "gebruiker_gewijzigd", target.username, changes, request_id)
            session.commit()
            session.refresh(target)
        return _with_grant(session, target)


def _apply(
    session: Session, by: User, target: User, given: dict[str, Any], request_id: str | None
) -> tuple[dict[str, Any], int]:
    """Make the changes on ``target`` (not yet committed); the audit details and how many requests lapsed."""
    rol = Rol(given["rol"]) if given.get("rol") is not None else Rol(target.rol)
    waiting = grants.pending(session, [target.username]).get(target.username)
    if "consulent" in given:
        consulent = _blank_to_none(given["consulent"])
    elif rol is Rol.WERKCONSULENT:  # keep the code it has, or the one that waits for approval
        consulent = target.consulent or waiting
    else:  # a role away from werkconsulent drops the caseload
        consulent = None
    _consulent_rule(rol, consulent)
    changes: dict[str, Any] = {}
    voided = 0
    if given.get("actief") is not None and given["actief"] != target.actief:
        changes["actief"] = target.actief = given["actief"]
        revoke_tokens(session, target.username)  # tokens from before a deactivation never come back
    if rol != target.rol:
        changes["rol"] = rol.value
        target.rol = rol
    if consulent is None or (consulent == target.consulent and "consulent" in given):
        # Losing a caseload (or keeping the current one) takes effect at once; a waiting request lapses.
        voided = grants.void_open(session, target.username, by.username) if waiting else 0
        if consulent != target.consulent:
            changes["consulent"] = target.consulent = consulent
    elif consulent not in (target.consulent, waiting):
        # Gaining a caseload waits for a second beheerder (api.services.grants); the account keeps what it had.
        changes["consulentAangevraagd"] = consulent
        grants.request_grant(session, by, target.username, consulent, request_id)
    naam = given.get("naam")
    if naam is not None and not naam.strip():
        raise InvalidInputError("naam mag niet leeg zijn; laat het veld weg om de naam te houden")
    if naam is not None and naam.strip() != target.naam:
        target.naam = naam.strip()
        changes["naam"] = "gewijzigd"  # the name itself stays out of the audit log
    return changes, voided
