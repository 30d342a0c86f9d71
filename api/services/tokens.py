"""Access tokens and pseudonyms: the keys, issuing and checking tokens, logging out. No HTTP here.

The token carries ``sub`` (the username), ``rol``, ``iat``, ``exp``, a ``jti`` and ``gen`` (the
account's token generation); it is signed HS256 with :func:`signing_key`, the installation's own random
key (:mod:`api.services.keys`), never a key in the source. :func:`user_for_token` reads the user from
the database again, so deactivating an account or changing a role takes effect at once; the ``rol``
claim is information for the client, never what is checked.

* **Lifetime**: a token whose ``exp - iat`` is longer than ``auth.token_minutes``, or whose ``iat``
  lies in the future, is refused, whoever signed it.
* **Revocation**: :func:`log_out`, and deactivating or reactivating an account, raise its generation
  (:func:`api.services.users.revoke_tokens`); a token of an older generation is refused. Logging out
  ends *all* the account's tokens, on every device.
* **Pseudonyms** (:func:`pseudonym`) are keyed with :func:`pseudonym_key`, apart from the token key.

A refusal raises :class:`NotAuthenticated`; the API answers it with 401 problem+json and
``WWW-Authenticate`` (:mod:`api.problems`), the web UI with its login page.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.services import keys
from api.services.users import Rol, User, get_user, revoke_tokens, token_generation
from matching.errors import InvalidInputError
from matching.settings import Settings

logger = logging.getLogger(__name__)

ALGORITHM = "HS256"
# SHA-256 of keys that were published (the fixed demo key of werkmatch before issue 15): refused
# everywhere, in case one was copied into WERKMATCH_AUTH__SECRET_KEY.
PUBLISHED_KEY_DIGESTS = frozenset({"4ae44bc65aed6c6f1854d62c085b480d40ba789ed399228605e1182e0a2928db"})
# Clocks of the processes that issue and check tokens agree (one host, or NTP): a token "issued" later
# than this in the future was not issued by werkmatch.
CLOCK_SKEW_SECONDS = 5
# RFC 7518 §3.2: an HS256 key must be at least as long as the hash output, 256 bits.
MIN_KEY_LENGTH = 32
NOT_LOGGED_IN = "Niet ingelogd"


class NotAuthenticated(Exception):
    """A request that cannot be tied to an active account (the HTTP 401: who are you?).

    Attributes:
        detail: Dutch: what is wrong with the token or login, and what to do.
        title: Dutch, short.
        code: The RFC 6750 error code of the challenge (``invalid_token``); None when no token was sent.
    """

    def __init__(self, detail: str, code: str | None = "invalid_token", title: str = NOT_LOGGED_IN) -> None:
        super().__init__(detail)
        self.detail = detail
        self.title = title
        self.code = code


def _configured_key(settings: Settings, secret: str, variable: str) -> str:
    """A key set in the environment: never a published one; in production at least 32 characters."""
    if hashlib.sha256(secret.encode()).hexdigest() in PUBLISHED_KEY_DIGESTS:
        raise InvalidInputError(
            f"{variable} is een openbaar bekende sleutel uit een oudere versie van werkmatch; stel een eigen "
            "willekeurige sleutel in (bijv. met: openssl rand -hex 32), of laat de variabele leeg voor de "
            "eigen sleutel van deze installatie"
        )
    if settings.environment == "production" and len(secret) < MIN_KEY_LENGTH:
        raise InvalidInputError(
            f"{variable} is te kort ({len(secret)} tekens); stel een sleutel van minstens "
            f"{MIN_KEY_LENGTH} tekens in, bijv. met: openssl rand -hex 32"
        )
    return secret


def signing_key(settings: Settings) -> str:
    """The HS256 key for access tokens (and the web UI's CSRF tokens).

    Args:
        settings: ``auth.secret_key``, ``data_dir`` and ``environment``.

    Returns:
        ``auth.secret_key`` when set; otherwise the installation's own random key in
        ``<data_dir>/sleutels/token.key``, created on first need (:mod:`api.services.keys`).

    Raises:
        InvalidInputError: In Dutch, for a published key, a configured key shorter than 32
            characters in production, or a key file that is broken (or readable by others, in
            production): the service then refuses to start.
    """
    secret = settings.auth.secret_key
    if secret:
        return _configured_key(settings, secret, "WERKMATCH_AUTH__SECRET_KEY")
    return keys.file_key(settings, keys.TOKEN_KEY)


def pseudonym_key(settings: Settings) -> str:
    """The HMAC key of the pseudonyms: apart from the token key, so one cannot reverse the other.

    Returns:
        ``auth.pseudonym_key`` when set; otherwise ``<data_dir>/sleutels/pseudoniem.key``.

    Raises:
        InvalidInputError: As :func:`signing_key`, and when the configured key equals the token key.
    """
    secret = settings.auth.pseudonym_key
    if not secret:
        return keys.file_key(settings, keys.PSEUDONYM_KEY)
    _configured_key(settings, secret, "WERKMATCH_AUTH__PSEUDONYM_KEY")
    if secret == settings.auth.secret_key:
        raise InvalidInputError(
            "WERKMATCH_AUTH__PSEUDONYM_KEY is gelijk aan WERKMATCH_AUTH__SECRET_KEY; kies een andere sleutel, "
            "anders kan wie tokens kan ondertekenen ook pseudoniemen terugrekenen"
        )
    return secret


def check_keys(settings: Settings) -> None:
    """Read (and on first start make) both keys now: a production service with a bad key refuses to start.

    Raises:
        InvalidInputError: For a key :func:`signing_key` or :func:`pseudonym_key` refuses.
    """
    signing_key(settings)
    pseudonym_key(settings)


def create_access_token(
    settings: Settings,
    user: User,
    now: datetime | None = None,
    generation: int = 0,
    lifetime: timedelta | None = None,
    marks: Mapping[str, str] | None = None,
) -> str:
    """A signed access token for ``user``, valid ``auth.token_minutes`` from ``now``.

    Args:
        settings: The signing key and the lifetime.
        user: Becomes ``sub`` (username) and ``rol``.
        now: The issue time (tests pass one in the past); default: the current time.
        generation: The account's token generation (:func:`api.services.users.token_generation`); a token
            with an older one is refused.
        lifetime: Shorter than ``auth.token_minutes`` (the CLI's tokens live two minutes).
        marks: Extra claims that say who issued it, e.g. ``{"via": "cli", "osGebruiker": "jan"}``
            (:mod:`api.cli.remote`); the matches routes write them into the audit entry.

    Returns:
        The encoded JWT.
    """
    issued = now or datetime.now(UTC)
    longest = timedelta(minutes=settings.auth.token_minutes)
    claims = {
        **(marks or {}),
        "sub": user.username,
        "rol": Rol(user.rol).value,
        "iat": issued,
        "exp": issued + min(lifetime or longest, longest),
        "jti": uuid.uuid4().hex,
        "gen": generation,
    }
    return jwt.encode(claims, signing_key(settings), algorithm=ALGORITHM)


def _decoded(settings: Settings, token: str) -> dict[str, Any]:
    """The claims of a token signed with this service's key, or a Dutch refusal of why not."""
    try:
        return jwt.decode(
            token,
            signing_key(settings),
            algorithms=[ALGORITHM],
            options={"require": ["sub", "rol", "iat", "exp", "jti", "gen"]},
            leeway=0,
        )
    except jwt.ExpiredSignatureError:
        raise NotAuthenticated("Het token is verlopen; log opnieuw in.", title="Token verlopen") from None
    except jwt.InvalidSignatureError:
        raise NotAuthenticated(
            "De handtekening van het token klopt niet: het is gewijzigd of niet door werkmatch uitgegeven; "
            "log opnieuw in."
        ) from None
    except jwt.MissingRequiredClaimError as error:
        raise NotAuthenticated(
            f"Het token mist het gegeven '{error.claim}'; het is niet door werkmatch uitgegeven. Log opnieuw in."
        ) from None
    except jwt.ImmatureSignatureError:
        raise NotAuthenticated(
            "Het token is uitgegeven in de toekomst; het is niet door werkmatch uitgegeven."
        ) from None
    except jwt.DecodeError:
        raise NotAuthenticated(
            "Het token is onleesbaar: geen geldig JWT. Stuur het access_token uit POST /api/v1/token mee "
            "als 'Authorization: Bearer <token>'."
        ) from None
    except jwt.InvalidTokenError as error:
        logger.info("token refused: %s", error)
        raise NotAuthenticated("Het token is ongeldig; log opnieuw in.") from None


def decode_access_token(settings: Settings, token: str) -> dict[str, Any]:
    """The claims of a valid token.

    Args:
        settings: The signing key and the lifetime.
        token: The encoded JWT from the ``Authorization`` header.

    Returns:
        The claims; ``sub``, ``rol``, ``iat``, ``exp``, ``jti`` and ``gen`` are present.

    Raises:
        NotAuthenticated: With a Dutch detail that says whether the token expired, was altered, is
            not a token of this service, or lives longer than this service allows.
    """
    claims = _decoded(settings, token)
    issued, expires, generation = claims["iat"], claims["exp"], claims["gen"]
    if not all(isinstance(value, int | float) and not isinstance(value, bool) for value in (issued, expires)):
        raise NotAuthenticated("Het token is ongeldig: iat en exp moeten tijdstippen zijn. Log opnieuw in.")
    if not isinstance(generation, int) or isinstance(generation, bool):
        raise NotAuthenticated("Het token is ongeldig: gen moet een geheel getal zijn. Log opnieuw in.")
    if issued > datetime.now(UTC).timestamp() + CLOCK_SKEW_SECONDS:
        raise NotAuthenticated("Het token is uitgegeven in de toekomst; het is niet door werkmatch uitgegeven.")
    if expires - issued > settings.auth.token_minutes * 60:
        raise NotAuthenticated(
            f"Het token is langer geldig dan de {settings.auth.token_minutes} minuten die deze service toestaat; "
            "het is niet door werkmatch uitgegeven. Log opnieuw in."
        )
    return claims


def user_for_token(settings: Settings, engine: Engine, token: str) -> tuple[User, dict[str, Any]]:
    """The active user a token belongs to, and its claims: what the API and the web UI both check.

    Raises:
        NotAuthenticated: For an unreadable, altered, expired or revoked token, or for a user that no
            longer exists or is deactivated.
    """
    claims = decode_access_token(settings, token)
    with Session(engine, expire_on_commit=False) as session:
        user = get_user(session, str(claims["sub"]))
        generation = token_generation(session, str(claims["sub"]))
    if user is None:
        raise NotAuthenticated(f"De gebruiker '{claims['sub']}' van dit token bestaat niet (meer).")
    if not user.actief:
        raise NotAuthenticated(f"Het account '{user.username}' is gedeactiveerd; neem contact op met een beheerder.")
    if claims["gen"] != generation:
        raise NotAuthenticated(
            "Dit token is ingetrokken: er is sindsdien uitgelogd, of het account is gedeactiveerd of heractiveerd. "
            "Log opnieuw in.",
            title="Token ingetrokken",
        )
    return user, claims


def log_out(engine: Engine, username: str) -> None:
    """End every token of ``username`` (API and web UI alike)."""
    with Session(engine) as session:
        revoke_tokens(session, username)
        session.commit()
    logger.info("logout %s: earlier tokens revoked", username)


def pseudonym(settings: Settings, vacancy: str, klantnummer: str) -> str:
    """A stable pseudonym for one client *within one vacancy's list*: lists cannot be joined on it.

    Keyed with :func:`pseudonym_key`, never the token key: whoever can sign tokens cannot reverse it.
    """
    digest = hmac.new(pseudonym_key(settings).encode(), f"{vacancy}|{klantnummer}".encode(), hashlib.sha256)
    return f"P-{digest.hexdigest()[:12]}"
