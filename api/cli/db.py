"""``werkmatch db upgrade|current``: the database's schema version (:mod:`api.services.migrations`)."""

from __future__ import annotations

import typer

from api.cli.common import JsonFlag, emit, friendly_errors, settings
from api.services import migrations, schema
from matching.store import make_engine

db_app = typer.Typer(help="Het databaseschema: versie bekijken en bijwerken.", no_args_is_help=True)


@db_app.command("upgrade")
@friendly_errors
def upgrade(json_out: JsonFlag = False) -> None:
    """Het databaseschema bijwerken naar de versie van deze werkmatch (alles of niets)."""
    engine = make_engine(settings().resolved_database_url)
    before, after = schema.upgrade(engine)
    engine.dispose()
    if json_out:
        emit({"van": before, "naar": after})
    elif before == after:
        typer.echo(f"Het databaseschema is al bij: versie {after}.")
    else:
        typer.echo(f"Databaseschema bijgewerkt van versie {before or 'zonder versie'} naar {after}.")


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
