"""``werkmatch sleutels roteren``: new random keys for this installation (:mod:`api.services.keys`)."""

from __future__ import annotations

from typing import Annotated

import typer

from api.services import keys
from matching.settings import Settings

keys_app = typer.Typer(help="De geheime sleutels van deze installatie (tokens en pseudoniemen).", no_args_is_help=True)


@keys_app.command("roteren")
def rotate_keys(
    token: Annotated[bool, typer.Option("--token", help="alleen de sleutel van de tokens")] = False,
    pseudoniem: Annotated[bool, typer.Option("--pseudoniem", help="alleen de sleutel van de pseudoniemen")] = False,
) -> None:
    """Nieuwe willekeurige sleutels schrijven (zonder optie: allebei); een draaiende service neemt ze meteen over.

    Een nieuwe tokensleutel logt iedereen uit; een nieuwe pseudoniemsleutel verandert elk pseudoniem.
    """
    settings = Settings()
    if not token and not pseudoniem:
        token = pseudoniem = True
    for path in keys.rotate(settings, token=token, pseudonym=pseudoniem):
        typer.echo(f"Nieuwe sleutel geschreven: {path} (alleen leesbaar voor deze gebruiker)")
    if token:
        typer.echo("Alle uitgegeven tokens zijn nu ongeldig: iedereen logt opnieuw in.")
    if pseudoniem:
        typer.echo("Alle pseudoniemen zijn veranderd: oude exports zijn niet meer te koppelen aan nieuwe.")
    overridden = [
        name
        for name, wanted, value in [
            ("WERKMATCH_AUTH__SECRET_KEY", token, settings.auth.secret_key),
            ("WERKMATCH_AUTH__PSEUDONYM_KEY", pseudoniem, settings.auth.pseudonym_key),
        ]
        if wanted and value
    ]
    if overridden:
        typer.echo(
            f"Let op: {' en '.join(overridden)} is ingesteld en gaat voor het bestand; vervang die waarde om te "
            "roteren.",
            err=True,
        )
