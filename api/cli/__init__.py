"""The ``werkmatch`` command line: one module per command group, each command a thin wrapper over a service.

========================  ===================================================================
module                    commands
========================  ===================================================================
:mod:`api.cli.search`     ``match candidates|vacancies``, ``clients list``, ``vacancies list``
:mod:`api.cli.index`      ``index build|status``
:mod:`api.cli.data`       ``demo-data``, ``import clients|vacancies``, ``serve``
:mod:`api.cli.models`     ``train``, ``promote``, ``evaluate``, ``models …``, ``eval retrieval``,
                          ``embeddings eval``, ``bench search``, ``simulate outcomes``
:mod:`api.cli.oversight`  ``ranking``, ``quality``, ``report deviations``
:mod:`api.cli.privacy`    ``klant verwijderen``, ``retentie``
:mod:`api.cli.keys`       ``sleutels roteren``
:mod:`api.cli.db`         ``db upgrade|current|schoonmaken``, ``backup``, ``restore``
:mod:`api.cli.batch`      ``batch embed`` (on Ray)
========================  ===================================================================

Searches and profile reads go through the running service when there is one (:mod:`api.cli.remote`),
as a werkmatch user (``--gebruiker``) with a purpose (``--doel``), audited. Every module is imported to
build this app, so each imports at its top only what starts fast; a command loads its heavy part (the
matcher, MLflow, the web app) when it runs, which keeps ``werkmatch match …`` quick.
"""

from __future__ import annotations

import sys

import typer

from api.cli import batch, data, db, index, models, oversight, privacy, search
from api.cli.keys import keys_app

app = typer.Typer(help="werkmatch: kandidaten en vacatures matchen voor Werk & Inkomen.", no_args_is_help=True)
app.command("demo-data")(data.demo_data)
app.command("serve")(data.serve)
app.command("evaluate")(models.evaluate)
app.command("train")(models.train)
app.command("promote")(models.promote)
app.command("ranking")(oversight.ranking)
app.command("quality")(oversight.quality)
app.command("retentie")(privacy.retention)
app.command("backup")(db.backup_command)
app.command("restore")(db.restore_command)
for group, name in [
    (index.index_app, "index"),
    (search.clients_app, "clients"),
    (search.vacancies_app, "vacancies"),
    (search.match_app, "match"),
    (data.import_app, "import"),
    (models.bench_app, "bench"),
    (models.eval_app, "eval"),
    (models.embeddings_app, "embeddings"),
    (models.simulate_app, "simulate"),
    (models.models_app, "models"),
    (oversight.report_app, "report"),
    (keys_app, "sleutels"),
    (db.db_app, "db"),
    (batch.batch_app, "batch"),
    (privacy.klant_app, "klant"),
]:
    app.add_typer(group, name=name)


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())
