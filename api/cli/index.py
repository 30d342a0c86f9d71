"""``werkmatch index build`` and ``werkmatch index status``: the indexes, as the process that writes them sees them.

One process writes the index files of a data directory (:mod:`matching.index_lock`). ``status`` asks
the running service when there is one (``GET /api/v1/health``: what it holds in memory), and otherwise
reads the saved files and the database, naming the process that writes, if any. ``build`` embeds what
changed when no other process writes; with a service writing, it waits for the service's files and
says so.
"""

from __future__ import annotations

from typing import Any

import typer

from api.cli import remote
from api.cli.common import JsonFlag, UrlOptie, emit, friendly_errors, matcher, settings
from api.services.status import index_json
from matching.errors import WerkmatchError

index_app = typer.Typer(help="De zoekindexen (FAISS en lexicaal).", no_args_is_help=True)


@index_app.command("build")
@friendly_errors
def index_build(json_out: JsonFlag = False) -> None:
    """Index bijwerken: alleen wat veranderd is wordt opnieuw ge-embed (of wachten op de service die dat doet)."""
    config = settings()
    found = matcher(config, champion=False)
    if not found.index.writer:
        typer.echo(
            f"Proces {found.index.writer_pid()} (de service) houdt de indexen van {config.data_dir} bij; "
            "wachten tot de bestanden alles bevatten…",
            err=True,
        )
    report = found.sync(progress=not json_out)
    left = found.index.pending()
    found.close()
    if any(left.values()):
        raise WerkmatchError(
            f"de service heeft nog {left['clients']} klanten en {left['vacancies']} vacatures niet ingebed; "
            "die neemt ze op bij de volgende zoekopdracht (werkmatch index status laat zien hoe ver ze is)"
        )
    if json_out:
        emit(report)
        return
    typer.echo(
        f"klanten: {report['clients']['records']} (nieuw ge-embed {report['clients']['embedded']}), "
        f"vacatures: {report['vacancies']['records']} (nieuw ge-embed {report['vacancies']['embedded']})"
    )


def index_state(url: str | None = None) -> dict[str, Any]:
    """The indexes as the running service holds them, or else as saved, with who writes them (``bron``)."""
    config = settings()
    service = remote.running(config, url)
    if service is not None:
        index = service.ask("GET", "/api/v1/health").get("index")
        if index is None:
            raise WerkmatchError(f"de service op {service.url} start nog; de indexen zijn nog niet geladen")
        return {**index, "bron": service.url}
    return {**index_json(matcher(config, may_write=False).status()), "bron": "opgeslagen bestanden (geen service)"}


@index_app.command("status")
@friendly_errors
def index_status(url: UrlOptie = None, json_out: JsonFlag = False) -> None:
    """Laat zien of de indexen bij de database passen (volgens de draaiende service, anders de bestanden)."""
    status = index_state(url)
    if json_out:
        emit(status)
        return
    writer = f"proces {status['schrijver']}" if status.get("schrijver") is not None else "geen proces"
    typer.echo(f"bron: {status['bron']}; embedden: {status['embedding']}; schrijver van de indexen: {writer}")
    for side in ("klanten", "vacatures"):
        info = status[side]
        if info["actueel"]:
            state = "in orde"
        elif info["modelId"] not in (None, status["modelId"]):
            state = "gemaakt met een ander model (draai: werkmatch index build)"
        else:
            state = f"{info['voortgang']:.0%} ge-embed, nog {info['teEmbedden']} te gaan" + (
                "" if status.get("schrijver") is not None else " (start de service, of draai: werkmatch index build)"
            )
        typer.echo(f"{side}: {info['database']} in database, {info['geindexeerd'] or 0} in index — {state}")
