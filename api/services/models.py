"""The ranker's models as the service manages them: the registry, promotion, model cards, training data.

No HTTP here: :mod:`api.routes.modellen` and the web UI's model page call these functions.

* **Promotion** is :func:`training.promotion.promote` with the logged-in user, so the registry's
  version tags (``promoted_by``) name the person, not the service account. One promotion at a time
  per process (a second is a :class:`~matching.errors.ConflictError`); the serving ranker is reloaded
  at once and the promotion is audited (``model_gepromoveerd``).
* **Training data is a snapshot**: building the feature matrix reads every voorstel and both indexes,
  so it is built once and paged; it is rebuilt when voorstellen, klanten or vacatures change, or after
  :data:`SNAPSHOT_SECONDS`. The pairs are pseudonymised with :func:`training_pseudonym` (a domain of
  its own under the pseudonym key) and every page is audited with the real klantnummers it exposed.
* A store that cannot be read (MLflow, SQLite, disk) is :class:`RegistryUnreadable`; features asked
  for while the index is still being built are :class:`IndexNotReady`. The API answers both with 503.
* **The promotion report in Dutch** (:func:`promotion_report`, API 2.0.0): :func:`training.promotion.promote`
  keeps its keys (its tests and ``werkmatch evaluate`` read them); the API, the web UI and
  ``werkmatch promote --json`` answer the same report under the API's Dutch keys. The fairness audit in
  it (``fairnessaudit``) is a measurement report and keeps its own keys, as in ``GET /modellen/{versie}/fairness``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import func
from sqlmodel import Session, select

from api.services import tokens, users
from api.services.users import User
from matching.domain import Client, Vacancy
from matching.errors import ConflictError, InvalidInputError, NotFoundError
from matching.matcher import Matcher
from matching.outcomes import Voorstel
from matching.ranker import RankerError
from matching.results import ranker_json
from matching.settings import Settings
from matching.timeutil import stored_utc
from training import registry
from training.dataset import RankingData, build_dataset
from training.promotion import PromotionRefused, promote

logger = logging.getLogger(__name__)

SNAPSHOT_SECONDS = 15 * 60  # days_since_update drifts with time; a quarter of an hour is far below a day
MODEL_PURPOSE = "modelbeheer"
T = TypeVar("T")


class RegistryUnreadable(Exception):
    """The model registry could not be read or updated; the ranker that serves keeps serving."""


class IndexNotReady(Exception):
    """The index is still being built: features read from it would be incomplete."""


def embedding_done(matcher: Matcher) -> None:
    """Features read the stored vectors: refuse while the index is still being built.

    Raises:
        IndexNotReady: The indexes are not loaded yet, or records are still being embedded.
    """
    if not matcher.prepared or not matcher.wait_embedded(timeout=0):
        raise IndexNotReady("de index wordt nog opgebouwd")


def registry_call(call: Callable[..., T], *args: Any) -> T:
    """A registry read: unknown versions stay :class:`NotFoundError`, any other store failure is unreadable."""
    try:
        return call(*args)
    except NotFoundError:
        raise
    except Exception as error:  # noqa: BLE001 - any store failure (MLflow, SQLite, disk) is one refusal
        logger.error("model registry not readable: %s", error)
        raise RegistryUnreadable(type(error).__name__) from error


_PROMOTING = threading.Lock()  # one promotion at a time in this process: both would read the same challenger


@contextmanager
def _one_promotion() -> Iterator[None]:
    if not _PROMOTING.acquire(blocking=False):
        raise ConflictError("er loopt al een promotie; wacht tot die klaar is en vraag GET /api/v1/modellen op")
    try:
        yield
    finally:
        _PROMOTING.release()


def promote_challenger(
    settings: Settings,
    matcher: Matcher,
    user: User,
    *,
    force: bool,
    reason: str | None,
    justification: str | None,
    request_id: str | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Make the challenger champion when it passes the gates (or forced, with a reason); serve it at once.

    Returns:
        The comparison of :func:`training.promotion.promote` and the status of the ranker that serves now.

    Raises:
        training.promotion.PromotionRefused: The challenger did not pass; nothing changed.
        ConflictError: Another promotion runs, or the registry has no challenger (or no holdout period).
        IndexNotReady: The index is still being built.
        RegistryUnreadable: The registry could not be read or updated.
    """
    embedding_done(matcher)
    with _one_promotion():
        try:
            result = promote(
                settings, matcher, force=force, reason=reason, user=user.username, justification=justification
            )
        except PromotionRefused:
            raise
        except RankerError as error:
            raise RegistryUnreadable(type(error).__name__) from error
        except InvalidInputError as error:  # no challenger, no holdout period: the registry's state, not the body
            raise ConflictError(str(error).replace("--force", "forceer").replace("--reason", "reden")) from None
        except Exception as error:  # noqa: BLE001 - a broken store (MLflow, SQLite, disk) is one refusal
            logger.exception("promotion failed")
            raise RegistryUnreadable(type(error).__name__) from error
    serving = registry.serve_champion(settings, matcher)
    _audit_promotion(settings, matcher, user, result["promoted"], request_id)
    return result, serving


def _audit_promotion(
    settings: Settings, matcher: Matcher, user: User, promoted: dict[str, Any], request_id: str | None
) -> None:
    details = {
        "model": settings.ranker.registered_model,
        "versie": str(promoted["version"]),
        "vorigeChampion": str(promoted["previous_champion"]),
        "geforceerd": promoted["promotion_forced"] == "true",
        "reden": promoted["promotion_reason"],
        "winstNdcgAt10": promoted["promotion_gain_ndcg_at_10"],  # text: audit details take no floats
        "fairnesspoort": promoted["fairness_gate"],
    }
    if promoted.get("fairness_justification"):
        details["verantwoording"] = promoted["fairness_justification"]
    with Session(matcher.engine) as session:
        users.record_as(
            session,
            user,
            action="model_gepromoveerd",
            purpose=MODEL_PURPOSE,
            subjects=[],
            details=details,
            request_id=request_id,
        )
        session.commit()


# ------------------------------------------------------------------------------ the report, in Dutch

_GAIN_KEYS = {
    "gain": "winst",
    "gainCI": "winstInterval",
    "ratio": "verhouding",
    "ratioCI": "verhoudingInterval",
    "vacancies": "vacatures",
}
_COUNT_KEYS = {"pairs": "paren", "vacancies": "vacatures", "scoredVacancies": "vacaturesMetUitkomst"}
_GATE_KEYS = {"name": "naam", "basis": "basis", "rule": "regel", "passed": "gehaald"}
_BREACH_KEYS = {
    "attribute": "kenmerk",
    "group": "groep",
    "ratio": "verhouding",
    "ratioCI": "interval",
    "clients": "klanten",
    "certain": "zeker",
    "measure": "maat",
}


def _renamed(values: dict[str, Any], keys: dict[str, str]) -> dict[str, Any]:
    return {keys.get(key, key): value for key, value in values.items()}


def _contender(summary: dict[str, Any]) -> dict[str, Any]:
    """A ranker's name (:func:`matching.results.ranker_json`) and metrics; a metric keeps its name
    (``ndcg@10``), its interval ``<metric>CI`` becomes ``<metric>Interval``."""
    return {
        key[:-2] + "Interval" if key.endswith("CI") else _COUNT_KEYS.get(key, key): value
        for key, value in ranker_json(summary).items()
    }


def _comparison(part: dict[str, Any]) -> dict[str, Any]:
    """One basis of the comparison (the proposals made, or the synthetic pools)."""
    return {
        "paren": part["pairs"],
        "vacatures": part["vacancies"],
        "challenger": _contender(part["challenger"]),
        "champion": _contender(part["champion"]),
        "winstNdcgAt10": _renamed(part["ndcg@10Gain"], _GAIN_KEYS),
    }


def _gate(gate: dict[str, Any]) -> dict[str, Any]:
    named = _renamed({key: value for key, value in gate.items() if key != "breaches"}, _GATE_KEYS)
    return {**named, "overschrijdingen": [_renamed(breach, _BREACH_KEYS) for breach in gate.get("breaches", [])]}


def _tag_float(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def tag_moment(value: str | None) -> datetime | None:
    """A moment written as a version tag (ISO 8601), in UTC; None when absent or unreadable."""
    try:
        moment = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return stored_utc(moment) if moment is not None else None


def promotion_facts(tags: dict[str, str]) -> dict[str, Any] | None:
    """Who promoted a version, when, why and on what evidence, from its registry tags; None if never promoted."""
    if "promoted_by" not in tags:
        return None
    return {
        "door": tags["promoted_by"],
        "op": tag_moment(tags.get("promoted_at")),
        "geforceerd": tags.get("promotion_forced") == "true",
        "reden": tags.get("promotion_reason", ""),
        "winstNdcgAt10": _tag_float(tags.get("promotion_gain_ndcg_at_10")),
        "vorigeChampion": tags.get("previous_champion"),
        "fairnesspoort": tags.get("fairness_gate"),
        "verantwoording": tags.get("fairness_justification"),
        "verantwoordDoor": tags.get("fairness_justified_by"),
        "overschrijdingen": tags.get("fairness_breaches"),
    }


def version_facts(info: registry.VersionInfo) -> dict[str, Any]:
    """One registered version in the API's words: ``GET /api/v1/modellen`` and ``werkmatch models list --json``."""
    return {
        "versie": info.version,
        "aliassen": list(info.aliases),
        "trainingsrun": info.run_id,
        "aangemaakt": datetime.fromtimestamp(info.created / 1000, UTC),
        "toetsperiodeVanaf": info.tags.get("holdout_from"),
        "dataHash": info.tags.get("data_hash"),
        "gitSha": info.tags.get("git_sha"),
        "promotie": promotion_facts(dict(info.tags)),
        "tags": dict(info.tags),
    }


def promotion_report(result: dict[str, Any]) -> dict[str, Any]:
    """:func:`training.promotion.promote`'s comparison (or a refusal's) under the API's Dutch keys.

    ``gepromoveerd`` and ``versie`` are None for a refused promotion; challenger and champion keep their
    names: they are the registry's aliases, the terms the web UI uses too.
    """
    holdout, promoted = result["holdout"], result.get("promoted")
    return {
        "toetsperiode": {"vanaf": holdout["from"], "paren": holdout["pairs"], "vacatures": holdout["vacancies"]},
        "challenger": _contender(result["challenger"]),
        "champion": _contender(result["champion"]),
        "championOnbruikbaar": result.get("championUnusable"),
        "winstNdcgAt10": _renamed(result["ndcg@10Gain"], _GAIN_KEYS),
        "marge": result["margin"],
        "poorten": [_gate(gate) for gate in result["gates"]],
        "gehaald": result["passed"],
        "onderbouwing": {basis: _comparison(part) for basis, part in result["evidence"].items()},
        "fairnessaudit": result.get("fairness"),
        "gepromoveerd": promotion_facts(promoted) if promoted else None,
        "versie": str(promoted["version"]) if promoted else None,
    }


# ------------------------------------------------------------------------------------- trainingsdata


@dataclass(frozen=True)
class Snapshot:
    """The decided pairs with their features, as of ``at``."""

    key: tuple[Any, ...]
    built: float  # time.monotonic()
    at: datetime
    data: RankingData


@dataclass(frozen=True)
class TrainingPair:
    """One decided (klant, vacature) pair of a page, pseudonymised."""

    klant: str
    vacature: str
    label: int
    censored: bool
    moment: datetime
    features: dict[str, float]


_SNAPSHOT_LOCK = threading.Lock()  # one build at a time; a second request waits and reuses it


def _fingerprint(matcher: Matcher) -> tuple[Any, ...]:
    """What the snapshot depends on: any voorstel, klant or vacature saved since changes it."""
    with Session(matcher.engine) as session:
        parts: list[Any] = []
        for table in (Voorstel, Client, Vacancy):
            count, latest = session.exec(select(func.count(table.id), func.max(table.updated_at))).one()  # type: ignore[arg-type]
            parts += [int(count), latest.isoformat() if latest is not None else None]
    return tuple(parts)


def snapshot(matcher: Matcher, current: Snapshot | None) -> Snapshot:
    """The training pairs as of now: ``current`` again unless the data changed or it is old.

    Raises:
        IndexNotReady: The index is still being built.
    """
    embedding_done(matcher)
    with _SNAPSHOT_LOCK:
        key = _fingerprint(matcher)
        if current is None or current.key != key or time.monotonic() - current.built > SNAPSHOT_SECONDS:
            at = datetime.now(UTC)
            current = Snapshot(key=key, built=time.monotonic(), at=at, data=build_dataset(matcher, now=at))
        return current


def training_pseudonym(settings: Settings, kind: str, number: str) -> str:
    """A keyed pseudonym for a klant (``kind="klant"``) or vacature in the training data.

    HMAC-SHA256 under the pseudonym key, like :func:`api.services.tokens.pseudonym`, but in its own
    domain: stable across pages and requests, and not joinable with the per-list pseudonyms.
    """
    message = f"trainingsdata|{kind}|{number}".encode()
    digest = hmac.new(tokens.pseudonym_key(settings).encode(), message, hashlib.sha256).hexdigest()[:16]
    return f"{'P' if kind == 'klant' else 'PV'}-{digest}"


def _numbers(session: Session, table: Any, column: Any, ids: np.ndarray) -> dict[int, str]:
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return {}
    return dict(session.exec(select(table.id, column).where(table.id.in_(wanted))).all())


def training_page(
    settings: Settings,
    matcher: Matcher,
    data: RankingData,
    rows: np.ndarray,
    *,
    user: User,
    purpose: str,
    request_id: str | None,
    page: dict[str, int],
) -> list[TrainingPair]:
    """The pairs at ``rows`` of ``data``, pseudonymised, audited with the klantnummers they expose.

    Pairs whose klant or vacature was removed since the snapshot are left out. The audit entry
    (``trainingsdata_opgevraagd``) carries ``page`` (pagina, paginaGrootte) and the rows shown.
    """
    with Session(matcher.engine) as session:
        klanten = _numbers(session, Client, Client.client_nummer, data.client_ids[rows])
        vacatures = _numbers(session, Vacancy, Vacancy.vacature_nummer, data.vacancy_ids[rows])
        pairs = []
        for row in rows:
            client_id, vacancy_id = int(data.client_ids[row]), int(data.vacancy_ids[row])
            if client_id not in klanten or vacancy_id not in vacatures:  # removed since the snapshot
                continue
            pairs.append(
                TrainingPair(
                    klant=training_pseudonym(settings, "klant", klanten[client_id]),
                    vacature=training_pseudonym(settings, "vacature", vacatures[vacancy_id]),
                    label=int(data.labels[row]),
                    censored=bool(data.censored[row]) if data.censored is not None else False,
                    moment=datetime.fromtimestamp(float(data.moments[row]), UTC),
                    features={
                        name: float(value) if math.isfinite(value) else 0.0
                        for name, value in zip(data.feature_names, data.features[row].tolist(), strict=True)
                    },
                )
            )
        seen = list(dict.fromkeys(klanten[int(i)] for i in data.client_ids[rows] if int(i) in klanten))
        details = {**page, "rijen": len(pairs)}
        users.record_as(
            session,
            user,
            action="trainingsdata_opgevraagd",
            purpose=purpose,
            subjects=seen,
            details=details,
            request_id=request_id,
        )
        session.commit()
    return pairs
