"""The CLI as a client of the running service: find it, log in as a werkmatch user, ask it.

A search from the CLI goes through the service when one runs on this installation, so it takes the
same road as the API: the role cut applies, the audit entry names who asked, and it answers in the
time of one search instead of building the matcher in process (11.7 s on the demo before; ``bench/
cli_search.py`` measures it).

**Who asks.** The CLI mints a short token (:data:`TOKEN_LIFETIME`) for the werkmatch user named by
``--gebruiker``, signed with the installation's token key (``<data_dir>/sleutels/token.key``, mode
0600: only the operator of the host can read it, and only they can run this). The token is marked
``via: cli`` with the OS user who ran the command; the service checks it like any token (the account
exists, is active, its generation current) and writes both names into the audit entry. Only the
standard library talks HTTP here: the CLI adds no dependency and loads no web framework.
"""

from __future__ import annotations

import getpass
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from api.services import tokens
from api.services.users import User, get_user, token_generation
from matching.errors import NotFoundError, WerkmatchError
from matching.settings import Settings
from matching.store import make_engine

TOKEN_LIFETIME = timedelta(minutes=2)  # one command, not a session
PROBE_TIMEOUT_S = 1.0  # a service on this host answers /health in milliseconds, also under load
# a service named by --url is waited for longer: the operator says one runs there, and one that is still
# starting (loading its indexes and ranker beside the event loop) once took over a second to answer in CI
NAMED_PROBE_TIMEOUT_S = 15.0
ASK_TIMEOUT_S = 120.0


def cli_marks() -> dict[str, str]:
    """What marks a request as the CLI's, for the audit entry: the route and the OS user who ran it."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container): the uid says who it was
        who = "uid-unknown"
    return {"via": "cli", "osGebruiker": who[:64]}


def service_url(config: Settings, url: str | None = None) -> str:
    """``url``, or the service's address from the settings (a wildcard host is reached on loopback)."""
    if url:
        return url.rstrip("/")
    host = "127.0.0.1" if config.host in ("", "0.0.0.0", "::") else config.host
    return f"http://{host}:{config.port}"


def find_user(engine: Engine, username: str) -> tuple[User, int]:
    """The active werkmatch account ``username`` and its token generation.

    Raises:
        NotFoundError: No such (active) account, or no accounts at all in this database.
    """
    try:
        with Session(engine, expire_on_commit=False) as session:
            user = get_user(session, username)
            generation = token_generation(session, username)
    except OperationalError:  # no account table yet: no service ever started on this database
        user, generation = None, 0
    if user is None or not user.actief:
        raise NotFoundError(
            f"gebruiker '{username}' bestaat niet of is gedeactiveerd in {engine.url.database or 'de database'}; "
            "geef met --gebruiker een actief werkmatch-account op"
        )
    return user, generation


@dataclass(frozen=True)
class Service:
    """A running service, and the token of the user the CLI asks as (None: only public reads)."""

    url: str
    token: str | None = None

    def ask(self, method: str, path: str, body: Any = None) -> Any:
        """The JSON answer of ``method path``; a refusal becomes the service's own Dutch sentence.

        Raises:
            NotFoundError: The service answered 404 (an unknown vacancy or client).
            WerkmatchError: Any other refusal, or a service that stopped answering.
        """
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=ASK_TIMEOUT_S) as answer:  # noqa: S310 - our own service
                return json.loads(answer.read())
        except urllib.error.HTTPError as refused:
            raise _refusal(refused) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            raise WerkmatchError(f"de service op {self.url} antwoordt niet ({error}); probeer het opnieuw") from None

    def as_user(self, config: Settings, username: str) -> Service:
        """The same service, asked as ``username`` with a token minted here (see the module docstring)."""
        user, generation = find_user(make_engine(config.resolved_database_url), username)
        token = tokens.create_access_token(
            config, user, generation=generation, lifetime=TOKEN_LIFETIME, marks=cli_marks()
        )
        return Service(self.url, token)


def _refusal(refused: urllib.error.HTTPError) -> WerkmatchError:
    try:
        problem = json.loads(refused.read())
        detail = str(problem.get("detail") or problem.get("title"))
    except (ValueError, AttributeError):
        detail = f"HTTP {refused.code}"
    if refused.code == 401:
        detail += " (draait de service met een andere datamap of sleutel dan deze opdracht?)"
    return NotFoundError(detail) if refused.code == 404 else WerkmatchError(detail)


def running(config: Settings, url: str | None = None) -> Service | None:
    """The service at ``url`` (or the configured address) when it answers its liveness probe, else None.

    The configured address gets :data:`PROBE_TIMEOUT_S` (nothing there means: search in process); an
    address named by ``--url`` gets :data:`NAMED_PROBE_TIMEOUT_S`, as the operator says a service runs there.

    Raises:
        WerkmatchError: ``url`` was given (``--url``) and nothing werkmatch answers there.
    """
    service = Service(service_url(config, url))
    timeout = NAMED_PROBE_TIMEOUT_S if url else PROBE_TIMEOUT_S
    try:
        with urllib.request.urlopen(service.url + "/api/v1/health", timeout=timeout) as answer:  # noqa: S310
            if json.loads(answer.read()).get("status") == "ok":
                return service
    except (urllib.error.URLError, TimeoutError, ConnectionError, ValueError, AttributeError):
        pass
    if url:
        raise WerkmatchError(f"op {service.url} antwoordt geen werkmatch-service; controleer --url")
    return None
