"""What every command shares: Dutch errors instead of tracebacks, settings, JSON output, the database."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from matching.errors import WerkmatchError
from matching.settings import Settings, load_settings
from matching.store import make_engine, unreachable

F = TypeVar("F", bound=Callable[..., Any])
JsonFlag = Annotated[bool, typer.Option("--json", help="Uitvoer als JSON.")]
Gebruiker = Annotated[
    str,
    typer.Option(
        "--gebruiker",
        envvar="WERKMATCH_GEBRUIKER",
        help="De werkmatch-gebruiker namens wie u zoekt of leest (komt met uw OS-gebruiker in het auditlog).",
    ),
]
DoelOptie = Annotated[
    str,
    typer.Option("--doel", help="Waarom u deze gegevens nodig hebt (doelbinding, 3-200 tekens; in het auditlog)."),
]
UrlOptie = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="WERKMATCH_URL",
        help="Adres van de draaiende service (standaard http://WERKMATCH_HOST:WERKMATCH_PORT).",
    ),
]


def friendly_errors(command: F) -> F:
    """Domain errors become one Dutch line on stderr and exit code 1, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except WerkmatchError as error:
            typer.echo(f"Fout: {error}", err=True)
            raise typer.Exit(1) from None
        except OperationalError as error:  # the database cannot be reached: where, never the password
            typer.echo(f"Fout: {unreachable(load_settings().resolved_database_url, error)}", err=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def settings() -> Settings:
    """The settings from the environment (one Dutch line for a bad one), with warnings on stderr."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return load_settings()


def emit(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def database(config: Settings) -> Engine:
    """The database with every table (:func:`api.services.schema.create_all`)."""
    from api.services import schema  # the services' tables pull lightgbm and training: not for every command

    engine = make_engine(config.resolved_database_url)
    schema.create_all(engine)
    return engine


def matcher(config: Settings, may_write: bool = True, champion: bool = True) -> Any:
    """The façade; with ``champion``, ranking with the registered champion (as the service does)."""
    from matching.matcher import Matcher  # faiss, scikit-learn and lightgbm: only commands that search
    from training.registry import serve_champion  # mlflow

    found = Matcher(config, may_write=may_write)
    if champion:
        serve_champion(config, found)
    return found


def print_matches(result: dict[str, Any], id_key: str) -> None:
    """A list of matches as lines: rank, id, score, the first reasons and points of attention."""
    for item in result["resultaten"]:
        typer.echo(f"{item['rang']:>3}. {item[id_key]}  kans op aanname {item['score']} %")
        for reason in item["redenen"][:3]:
            typer.echo(f"       + {reason}")
        for point in item["aandachtspunten"][:2]:
            typer.echo(f"       ! {point}")
        for point in item.get("aandachtspuntenBeperkingen", []):
            typer.echo(f"       ~ {point}")
        if item.get("bijnaPassend"):
            typer.echo(f"       > bijna passend: {'; '.join(item['bijnaPassend']['advies'])}")
    for line in result.get("nietGetoond", {}).get("toelichting", []):
        typer.echo(f"niet getoond: {line}")
    typer.echo(result["advies"])
