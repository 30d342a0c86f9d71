"""The MLflow side of the ranker: tracking store, registered model, aliases, and loading for serving.

* The tracking store is SQLite in the data directory (``Settings.tracking_uri``); artifacts sit next
  to it in ``<data_dir>/mlartifacts``. ``mlflow ui --backend-store-uri <uri>`` opens it.
* Every training run registers a new version of ``werkmatch-ranker`` and gives it the alias
  ``challenger``; :mod:`training.promotion` moves ``champion``.
* A version's model is an MLflow pyfunc (so ``mlflow.pyfunc.load_model`` works for a data scientist)
  whose artifact is a ranker directory (:mod:`matching.ranker`). Serving downloads that directory
  and loads the booster from its text file: nothing is unpickled from the registry.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from matching.exposure_amortised import SPEC_KEY
from matching.file_lock import exclusive
from matching.ranker import SPEC_FILE, LearnedRanker, RankerError, load_ranker
from matching.settings import Settings

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

    from matching.matcher import Matcher

logger = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"
EXPERIMENT = "werkmatch-ranker"
RANKER_ARTIFACT = "ranker"  # the key of the ranker directory among the pyfunc's artifacts
PYFUNC_CODE = Path(__file__).with_name("ranker_pyfunc.py")
# mlflow is imported inside the functions that use it: it takes about 1.5 s to import,
# and the service imports this module at start, when a fresh install has no store to read.


@dataclass(frozen=True)
class VersionInfo:
    """One registered version, as ``werkmatch models list`` and promotion see it."""

    version: str
    aliases: tuple[str, ...]
    run_id: str | None
    created: int  # epoch milliseconds
    tags: dict[str, str]


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return os.environ.get("USER", "onbekend")


def has_store(settings: Settings) -> bool:
    """Whether a tracking store exists (a fresh install has none; then nothing is imported or created)."""
    uri = settings.tracking_uri
    if not uri.startswith("sqlite:///"):
        return True
    return Path(uri.removeprefix("sqlite:///")).is_file()


def client(settings: Settings) -> MlflowClient:
    """An MLflow client on the configured store (created on first use, with the experiment)."""
    import mlflow  # lazy: see the note under PYFUNC_CODE
    from mlflow import MlflowClient

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.tracking_uri)
    with _opening(settings):
        tracking = MlflowClient(settings.tracking_uri, settings.tracking_uri)
        if tracking.get_experiment_by_name(EXPERIMENT) is None:
            artifacts = (settings.data_dir / "mlartifacts").resolve().as_uri()
            tracking.create_experiment(EXPERIMENT, artifact_location=artifacts)
    mlflow.set_experiment(EXPERIMENT)
    return tracking


@contextmanager
def _opening(settings: Settings) -> Iterator[None]:
    """One process at a time opens a SQLite store: MLflow makes its tables on a new store's first open, and two
    processes doing so at once both try ("table … already exists": a trainer and the serving processes that poll
    the registry, on a fresh data directory). A lock file beside the database; another store type opens freely."""
    uri = settings.tracking_uri
    if not uri.startswith("sqlite:///"):
        yield
        return
    with exclusive(Path(uri.removeprefix("sqlite:///") + ".lock")):
        yield


def _info(version: ModelVersion, aliases: tuple[str, ...] | None = None) -> VersionInfo:
    return VersionInfo(
        version=str(version.version),
        aliases=tuple(sorted(version.aliases or ())) if aliases is None else aliases,
        run_id=version.run_id,
        created=int(version.creation_timestamp or 0),
        tags=dict(version.tags or {}),
    )


def versions(settings: Settings) -> list[VersionInfo]:
    """Every registered version, newest first (empty without a store or a registered model)."""
    if not has_store(settings):
        return []
    from mlflow.exceptions import MlflowException  # lazy: see the note under PYFUNC_CODE

    tracking, name = client(settings), settings.ranker.registered_model
    try:
        alias_map = tracking.get_registered_model(name).aliases or {}
    except MlflowException:  # nothing registered yet
        return []
    # search results carry no aliases: take them from the registered model
    by_version: dict[str, list[str]] = {}
    for alias, version in alias_map.items():
        by_version.setdefault(str(version), []).append(alias)
    found = tracking.search_model_versions(f"name='{name}'")
    infos = (_info(v, tuple(sorted(by_version.get(str(v.version), [])))) for v in found)
    return sorted(infos, key=lambda v: int(v.version), reverse=True)


def by_alias(settings: Settings, alias: str) -> VersionInfo | None:
    from mlflow.exceptions import MlflowException  # lazy: see the note under PYFUNC_CODE

    if not has_store(settings):
        return None
    try:
        found = client(settings).get_model_version_by_alias(settings.ranker.registered_model, alias)
    except MlflowException as error:
        if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE") and "not found" in str(error):
            return None  # no such model or alias; anything else (a broken store) is raised
        raise
    return _info(found)


def download(settings: Settings, version: str) -> Path:
    """The ranker directory of one version, cached under ``<data_dir>/models/<name>/<version>``."""
    import mlflow  # lazy: see the note under PYFUNC_CODE

    client(settings)
    target = settings.data_dir / "models" / settings.ranker.registered_model / version
    ranker_dir = target / "artifacts" / RANKER_ARTIFACT
    if not (ranker_dir / SPEC_FILE).is_file():
        partial = target.with_name(f".{version}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{settings.ranker.registered_model}/{version}", dst_path=str(partial)
        )
        if not (partial / "artifacts" / RANKER_ARTIFACT / SPEC_FILE).is_file():
            shutil.rmtree(partial, ignore_errors=True)
            raise RankerError(f"versie {version} heeft geen rankerbestanden in het register")
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)  # a crash mid-download never leaves a half model that looks whole
    return ranker_dir


def load_version(settings: Settings, info: VersionInfo) -> LearnedRanker:
    return load_ranker(
        download(settings, info.version),
        settings.ranker.registered_model,
        info.version,
        aliases=list(info.aliases),
    )


def export(settings: Settings, number: str, target: Path, merit_floor: bool = False, **about: Any) -> Path:
    """Copy one version's ranker directory to ``target`` (how ``models/baseline-ranker`` is made).

    ``about`` is added to the feature spec (e.g. ``trainedOn``: which data, how to reproduce it). ``merit_floor``:
    without the amortised floor's Platt parameters and setting (:data:`matching.exposure_amortised.SPEC_KEY`), so
    the exported ranker is served with the merit floor: the shipped baseline is, until a model with the amortised
    floor passes the promotion gate (README, "The amortised floor, served").
    """
    source = download(settings, number)
    load_ranker(source, settings.ranker.registered_model, number)  # refuse to export what serving would refuse
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    spec = json.loads((target / SPEC_FILE).read_text(encoding="utf-8"))
    spec.update(about)
    if merit_floor:
        spec.pop(SPEC_KEY, None)
    (target / SPEC_FILE).write_text(json.dumps(spec, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def load_champion(settings: Settings) -> LearnedRanker | None:
    """The champion's ranker, or None when no version has that alias (then the shipped baseline serves).

    Raises:
        RankerError: the store or the model cannot be read (the caller keeps its last good ranker).
    """
    from mlflow.exceptions import MlflowException  # lazy: see the note under PYFUNC_CODE

    try:
        info = by_alias(settings, CHAMPION)
        return load_version(settings, info) if info is not None else None
    except (MlflowException, OSError, RankerError, SQLAlchemyError) as error:  # SQLAlchemy: a damaged mlflow.db
        raise RankerError(f"het champion-model kon niet worden geladen uit {settings.tracking_uri}: {error}") from error


def serving_ranker(settings: Settings) -> LearnedRanker | None:
    """The ranker a batch serves, as a matcher would: the champion, else the shipped baseline; None when there is
    neither or it cannot be loaded here (a night's workers report why)."""
    try:
        ranker = load_champion(settings)
        if ranker is None and settings.ranker.baseline_dir is not None:
            ranker = load_ranker(settings.ranker.baseline_dir, "baseline")
    except RankerError:
        return None
    return ranker


def serve_champion(settings: Settings, matcher: Matcher) -> dict[str, Any]:
    """Let ``matcher`` rank with the champion (or, without one, the shipped baseline).

    On a store or model that cannot be read, the ranker that serves now keeps serving and the error
    is recorded in its status (``GET /api/v1/health``). Returns that status.
    """
    try:
        matcher.use_ranker(load_champion(settings))
    except RankerError as error:
        logger.error("ranker not reloaded, the last good one keeps serving: %s", error)
        matcher.ranker_failed(str(error))
    return matcher.ranker_status()
