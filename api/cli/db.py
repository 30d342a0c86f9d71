"""``werkmatch db upgrade|current|schoonmaken``, ``backup``, ``restore``: the database itself (schema, copies)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import JsonFlag, emit, friendly_errors, settings
from api.services import backup, migrations, schema, scrub
from matching import tenancy
from matching.errors import InvalidInputError
from matching.store import make_engine

db_app = typer.Typer(help="Het databaseschema: versie bekijken en bijwerken.", no_args_is_help=True)


@db_app.command("upgrade")
@friendly_errors
def upgrade(
    dienstrol: Annotated[
        str | None,
        typer.Option(
            "--dienstrol",
            help="PostgreSQL: de rol waarmee de service verbindt rechten geven op de tabellen (geen eigenaar).",
        ),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Het databaseschema bijwerken naar de versie van deze werkmatch (alles of niets)."""
    engine = make_engine(settings().resolved_database_url)
    before, after = schema.upgrade(engine)
    if dienstrol is not None:
        try:
            tenancy.grant(engine, dienstrol)
        except ValueError as error:
            raise InvalidInputError(str(error)) from None
    engine.dispose()
    if json_out:
        emit({"van": before, "naar": after, "dienstrol": dienstrol})
    elif before == after:
        typer.echo(f"Het databaseschema is al bij: versie {after}.")
    else:
        typer.echo(f"Databaseschema bijgewerkt van versie {before or 'zonder versie'} naar {after}.")


@db_app.command("schoonmaken")
@friendly_errors
def scrub_command(json_out: JsonFlag = False) -> None:
    """Verwijderde en verlopen gegevens ook uit de bestanden van de database halen (als eigenaar, 's nachts)."""
    engine = make_engine(settings().resolved_database_url)
    done = scrub.scrub(engine)
    engine.dispose()
    if json_out:
        emit(done)
        return
    typer.echo(f"{done['tabellen']} tabellen herschreven in {done['duurS']:.1f} s.")
    for warning in done["waarschuwingen"]:
        typer.echo(f"Let op: {warning}", err=True)
    if not done["waarschuwingen"]:
        typer.echo("Verwijderde gegevens staan niet meer in de bestanden van de database.")


@db_app.command("current")
@friendly_errors
def current(json_out: JsonFlag = False) -> None:
    """De versie van het databaseschema, en die van deze werkmatch."""
    engine = make_engine(settings().resolved_database_url)
    found, code = migrations.current(engine), migrations.head()
    engine.dispose()
    if json_out:
        emit({"database": found, "code": code, "bijgewerkt": found == code})
        return
    state = "bijgewerkt" if found == code else f"draai '{migrations.UPGRADE_COMMAND}'"
    typer.echo(f"database: versie {found or 'zonder versie'}; deze werkmatch: versie {code} ({state})")


@friendly_errors
def backup_command(
    bestand: Annotated[Path, typer.Argument(help="nieuw bestand voor de back-up (wordt nooit overschreven)")],
    json_out: JsonFlag = False,
) -> None:
    """Een back-up van de database maken, ook terwijl de service draait (zonder sleutels en indexbestanden)."""
    made = backup.backup(settings().resolved_database_url, bestand)
    emit(made) if json_out else typer.echo(
        f"Back-up geschreven: {made['bestand']} ({made['bytes']} bytes, alleen voor u leesbaar)"
    )


@friendly_errors
def restore_command(
    bestand: Annotated[Path, typer.Argument(help="een back-up van werkmatch backup")],
    json_out: JsonFlag = False,
) -> None:
    """Een back-up terugzetten in een lege database (een nieuwe datamap); de index bouwt zich daarna op."""
    config = settings()
    done = backup.restore(config.resolved_database_url, bestand)
    engine = make_engine(config.resolved_database_url)
    schema.create_all(engine)  # the restored schema must be this code's (or is refused with the upgrade command)
    engine.dispose()
    if json_out:
        emit(done)
    else:
        typer.echo(f"Teruggezet uit {done['bestand']}; de index wordt bij de eerste start of zoekvraag bijgewerkt.")
