"""``werkmatch batch``: resumable batches on Ray, ``embed`` and ``match`` (``training.batch_embed``, ``batch_match``).

On this machine it starts Ray itself; with ``RAY_ADDRESS`` set (``ray://head:10001`` or ``auto``) the
same command runs its workers on that cluster. Stopped or killed, it is started again with the same
command: what is in the embedding cache is not embedded again, a partition of lists already stored is
not computed again.
"""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import JsonFlag, database, emit, friendly_errors, settings

batch_app = typer.Typer(help="Batchtaken over het hele bestand (op Ray).", no_args_is_help=True)


@batch_app.command("embed")
@friendly_errors
def batch_embed(
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Ray-werkers (standaard: zoveel als er CPU's zijn).")
    ] = None,
    threads: Annotated[int, typer.Option("--threads", min=1, help="CPU's per werker.")] = 1,
    partition: Annotated[int, typer.Option("--partition", min=1, help="Stukken tekst per Ray-taak.")] = 512,
    object_store_mb: Annotated[
        int, typer.Option("--object-store-mb", min=80, help="Objectopslag van de lokale Ray (MB).")
    ] = 1024,
    json_out: JsonFlag = False,
) -> None:
    """Alle klanten en vacatures embedden die nog niet in de cache staan; hervat waar een vorige run stopte."""
    from matching.taxonomy import load_taxonomy
    from training.batch_embed import RaySizing, embed_bestand  # ray: only for this command

    config = settings()
    engine = database(config)
    sizing = RaySizing(object_store_mb=object_store_mb)
    report = embed_bestand(
        config,
        engine,
        load_taxonomy(),
        workers=workers,
        threads=threads,
        partition=partition,
        sizing=sizing,
        progress=not json_out,
    )
    if json_out:
        emit(report.to_json())
        return
    typer.echo(
        f"{report.pieces} stukken tekst: {report.cached_before} stonden al in de cache, "
        f"{report.embedded} nu ge-embed door {report.workers} werker(s) "
        f"in {report.seconds:.1f} s ({report.pieces_per_s:.1f} stukken/s)."
    )


@batch_app.command("match")
@friendly_errors
def batch_match(
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Ray-werkers (standaard: zoveel als er CPU's zijn).")
    ] = None,
    partition: Annotated[
        int,
        typer.Option(
            "--partition",
            min=1,
            help="Hoogstens zoveel vacatures of klanten van één woonplaats per partitie "
            "(een nieuwe run; een hervatte houdt de zijne).",
        ),
    ] = 100,
    object_store_mb: Annotated[
        int, typer.Option("--object-store-mb", min=80, help="Objectopslag van de lokale Ray (MB).")
    ] = 1024,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            min=1,
            help="Hoogstens zoveel partities per kant in deze start (een meting op een deel); "
            "de run blijft dan onaf en de volgende start hervat hem.",
        ),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """De lijsten van vannacht: per open vacature de beste 50 kandidaten, per klant de beste 20 vacatures.

    Hervat een onderbroken run: opgeslagen partities worden niet opnieuw berekend.
    """
    from training.batch_embed import RaySizing  # ray: only for the batch commands
    from training.batch_match import match_bestand

    config = settings()
    engine = database(config)
    report = match_bestand(
        config,
        engine,
        workers=workers,
        partition_ids=partition,
        sizing=RaySizing(object_store_mb=object_store_mb),
        progress=not json_out,
        limit=limit,
    )
    if json_out:
        emit(report.to_json())
        return
    rest = "" if report.finished else " De run is nog niet af: start opnieuw om hem af te maken."
    typer.echo(
        f"Run {report.run_id}{' (hervat)' if report.resumed else ''}: {report.vacancy_lists} kandidatenlijsten "
        f"en {report.client_lists} vacaturelijsten ({report.rows} regels) door {report.workers} werker(s) "
        f"in {report.seconds:.1f} s ({report.rows_per_s:.1f} regels/s).{rest}"
    )
