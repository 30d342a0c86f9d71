"""Model management for data scientists and account management for the beheerder.

Endpoints, roles and answers (errors are always ``application/problem+json`` in Dutch):

======  =========================================  ==========================  ============================
method  path                                       roles                       status codes
======  =========================================  ==========================  ============================
GET     ``/api/v1/modellen``                       data_scientist, beheerder   200, 401, 403, 503
POST    ``/api/v1/modellen/promoveren``            data_scientist              200, 400, 401, 403, 409, 503
GET     ``/api/v1/modellen/trainingsdata``         data_scientist              200, 400, 401, 403, 503
GET     ``/api/v1/modellen/{versie}/modelkaart``   data_scientist, beheerder   200, 400, 401, 403, 404, 503
GET     ``/api/v1/modellen/{versie}/fairness``     data_scientist, beheerder   200, 400, 401, 403, 404, 503
GET     ``/api/v1/gebruikers``                     beheerder                   200, 401, 403
POST    ``/api/v1/gebruikers``                     beheerder                   201, 400, 401, 403, 409
GET     ``/api/v1/gebruikers/{gebruikersnaam}``    beheerder                   200, 400, 401, 403, 404
PATCH   ``/api/v1/gebruikers/{gebruikersnaam}``    beheerder                   200, 400, 401, 403, 404
======  =========================================  ==========================  ============================

Decisions:

* **Promotion is** :func:`training.promotion.promote` **with the logged-in user**, so the registry's
  version tags (``promoted_by``) name the person, not the service account. The serving ranker is
  reloaded at once (the alias watcher would follow within ``ranker.poll_seconds`` anyway). A refused
  promotion is a 409 whose problem carries the comparison (``ndcg@10Gain``, ``gates``, ``margin``,
  ``challenger``, ``champion``); nothing changed. No challenger (or one without a holdout period) is
  a 409 too: the request is fine, the registry's state is not. ``forceer`` without ``reden`` is a
  400 before anything is computed. One promotion at a time per process; a second answers 409.
  A fairness breach (or no audit) refuses too, with the gate's ``breaches`` in ``gates``, unless the
  body carries a ``verantwoording``: it is recorded with the user's name on the version and in the
  model card (``forceer`` does not replace it; :mod:`training.promotion`).
* **Model card and fairness** per version: the card (``text/markdown``, the Algoritmeregister's
  fields, :mod:`training.model_card`) and the fairness audit saved with the training run, with the
  breaches and any recorded justification. Readable by data scientists and the beheerder; an unknown
  version is a 404.
* **Training data is pseudonymised and minimal**: per decided pair a keyed pseudonym of the klant
  (``P-`` + 16 hex) and of the vacature (``PV-`` + 16 hex), the label (0 afgewezen, 2 aangenomen of
  uitgevallen, 3 geplaatst, 4 duurzaam; open pairs are left out), whether a placement is still
  censored, the moment of the vacancy's first voorstel (for time splits) and the ranker's features by
  name. Never klantnummers, names, postcodes, beperkingen or protected attributes. The pseudonyms are
  HMAC-SHA256 under the pseudonym key (not the token key) with their own domain (``trainingsdata|…``), so they are
  stable across pages and requests but cannot be joined with the per-list pseudonyms an
  accountmanager sees; rotating the key changes them. No feature is derived from beperkingen
  (they act through ``matching.compatibility``, never through the model). Only data scientists read this
  (doelbinding); every page is audited with the real klantnummers it exposed.
* **Training data is a snapshot**: building the feature matrix reads every voorstel and both indexes,
  so it is built once and paged; it is rebuilt when voorstellen, klanten or vacatures change, or after
  :data:`SNAPSHOT_SECONDS`. ``momentopname`` says when it was built. While embedding still runs the
  features would be incomplete: 503 with ``Retry-After``.
* **Accounts** use ``username``/``password`` as the login and :class:`api.services.users.UserPublic` do.
  Usernames are case-insensitive, a taken one is a 409 (also between check and commit), a weak
  password a Dutch 400 (the rules of :func:`api.services.users.create_user`). Only a werkconsulent has a
  consulentcode; changing a role away from werkconsulent clears it. A beheerder cannot deactivate
  themselves or change their own role (so there is always an active beheerder left). Deactivating
  ends the user's existing tokens at once: :func:`api.security.current_user` re-reads the account on
  every request; deactivating and reactivating also revoke them (:func:`api.services.users.revoke_tokens`), so
  a token from before a deactivation does not work again after the reactivation. Every change is
  audited (``gebruiker_aangemaakt``, ``gebruiker_gewijzigd``).
* **Four eyes on a caseload** (:mod:`api.services.grants`): creating a werkconsulent, or a change that gives
  an account a consulentcode it did not have, stores a request (``aangevraagd`` in the answer) rather
  than the code; a second beheerder approves it under ``/api/v1/caseloadtoekenningen``. Losing a
  caseload (a role away from werkconsulent) takes effect at once and lets a waiting request lapse.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api.deps import Beheerder, DataScientist, Doel, MatcherDep, SettingsDep, Toezicht
from api.problems import ProblemError, documented, finite
from api.routes.modellen import Rangschikker
from api.services import audit, grants, tokens
from api.services.users import Rol, User, UserPublic, create_user, get_user, normalize_username, revoke_tokens
from matching.domain import Client, Vacancy
from matching.errors import ConflictError, InvalidInputError, NotFoundError
from matching.matcher import Matcher
from matching.outcomes import Voorstel
from matching.ranker import RankerError
from matching.settings import Settings
from matching.timeutil import stored_utc
from training import registry
from training.dataset import RankingData, build_dataset
from training.promotion import PromotionRefused, promote

logger = logging.getLogger(__name__)

SNAPSHOT_SECONDS = 15 * 60  # days_since_update drifts with time; a quarter of an hour is far below a day
PAGE_SIZE_MAX = 1000  # 1,000 rows x 27 features is about 1 MB of JSON
PAGE_MAX = 1_000_000
MODEL_PURPOSE = "modelbeheer"
ACCOUNT_PURPOSE = "accountbeheer"
TRAINING_PURPOSE = "modelontwikkeling"
_HAS_LETTER = re.compile(r"[^\W\d_]")
_BSN_LIKE = re.compile(r"\d{9}")  # as audit's rule: the log refuses these, so refuse them at the door


router = APIRouter(prefix="/api/v1")


NOT_LOGGED_IN = "Niet ingelogd of token ongeldig"
WRONG_ROLE = "Deze rol mag dit niet"


# ------------------------------------------------------------------------------------- dependencies


Gebruikersnaam = Annotated[
    str, Path(min_length=1, max_length=64, description="gebruikersnaam (hoofdletters maken niet uit)")
]


def _audit(
    session: Session,
    request: Request,
    user: User,
    action: str,
    purpose: str,
    subjects: list[str],
    details: dict[str, Any] | None = None,
) -> None:
    """Audit entries in the caller's transaction; several when ``subjects`` do not fit one."""
    audit.record_all(
        session,
        actor=user.username,
        rol=Rol(user.rol).value,
        action=action,
        purpose=purpose,
        subjects=subjects,
        details=details,
        request_id=getattr(request.state, "request_id", None),
    )


def _embedding_done(matcher: Matcher) -> None:
    """Features read the stored vectors: refuse (503) while the index is still being built."""
    if not matcher.prepared or not matcher.wait_embedded(timeout=0):
        raise ProblemError(
            503,
            "Index nog niet klaar",
            "De index wordt nog opgebouwd; de kenmerken zouden onvolledig zijn. Probeer het over enkele "
            "minuten opnieuw (GET /api/v1/health zegt hoe ver het is).",
            headers={"Retry-After": "60"},
        )


def _registry_unreadable(error: Exception) -> ProblemError:
    logger.error("model registry not readable: %s", error)
    return ProblemError(
        503,
        "Modelregister niet leesbaar",
        f"Het modelregister kon niet worden gelezen of bijgewerkt ({type(error).__name__}); de rangschikker "
        "die nu serveert blijft serveren. Controleer de trackingstore, bekijk GET /api/v1/modellen en probeer "
        "het opnieuw.",
    )


# ------------------------------------------------------------------------------------------ schemas


class Uitvoer(BaseModel):
    """Base of the response schemas: camelCase JSON."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


class Invoer(BaseModel):
    """Base of the request schemas: camelCase JSON, unknown fields refused, no NUL in text."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        """JSON allows NUL in text; PostgreSQL does not store it and no name or reason needs it."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("bevat een NUL-teken; verwijder het")
        return value


class Promotie(Uitvoer):
    """Who made a version champion, when, why and on what evidence (the version's registry tags)."""

    door: str = Field(description="gebruikersnaam van wie promoveerde")
    op: datetime | None = Field(description="moment van promoveren (UTC)")
    geforceerd: bool = Field(description="gepromoveerd hoewel de toets niet gehaald werd")
    reden: str
    winst_ndcg_at10: float | None = Field(alias="winstNdcgAt10", description="gemeten winst in NDCG@10")
    vorige_champion: str | None = Field(description="versie of naam van de vorige champion")
    fairnesspoort: str | None = Field(None, description="'gehaald', of 'verantwoord': met verantwoording")
    verantwoording: str | None = Field(None, description="waarom een fairness-overschrijding aanvaardbaar is")
    verantwoord_door: str | None = Field(None, description="wie de verantwoording vastlegde")
    overschrijdingen: str | None = Field(None, description="de overschrijdingen waarop de verantwoording ziet")


class ModelVersie(Uitvoer):
    """One registered version of the ranker."""

    versie: str
    aliassen: list[str] = Field(description="'champion' serveert, 'challenger' wacht op promotie")
    run_id: str | None = Field(description="MLflow-run van de training")
    aangemaakt: datetime = Field(description="moment van registreren (UTC)")
    holdout_from: str | None = Field(description="begin van de toetsperiode: daarvoor getraind, daarna getoetst")
    data_hash: str | None
    git_sha: str | None
    promotie: Promotie | None = Field(description="leeg als deze versie nooit champion werd")
    tags: dict[str, str] = Field(description="alle tags van de versie in het register")


class ModellenOverzicht(Uitvoer):
    """The registry and the ranker that serves."""

    registermodel: str
    serveert: Rangschikker
    versies: list[ModelVersie] = Field(description="nieuwste eerst")


class PromotieVerzoek(Invoer):
    """``forceer`` promotes even when the performance gate fails, and then needs a ``reden``.

    A fairness breach needs a ``verantwoording`` (forceer does not replace it).
    """

    forceer: bool = False
    reden: str | None = Field(None, max_length=500, description="waarom (verplicht bij forceer)")
    verantwoording: str | None = Field(
        None,
        max_length=2000,
        description="waarom een fairness-overschrijding aanvaardbaar is (verplicht bij een overschrijding; "
        "minstens 20 tekens); wordt met uw naam op de versie en in de modelkaart vastgelegd",
    )

    @field_validator("reden", "verantwoording")
    @classmethod
    def _a_sentence(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not _HAS_LETTER.search(value):
            raise ValueError("een reden is een zin in woorden, niet alleen cijfers of tekens")
        if re.search(r"\d{9}", value):  # it goes into the audit log, which refuses anything like a BSN
            raise ValueError("bevat 9 cijfers achter elkaar (lijkt op een BSN); laat persoonsnummers weg")
        return value.strip()


class NdcgWinst(BaseModel):
    """NDCG@10 of challenger minus champion per vacancy: mean and paired 95 % intervals."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)
    gain: float
    gain_ci: list[float] = Field(alias="gainCI")  # the metric's own names, as the CLI prints them
    ratio: float | None
    ratio_ci: list[float] | None = Field(alias="ratioCI")
    vacancies: int


class Poort(BaseModel):
    """One gate of the promotion rule."""

    name: str
    basis: str
    rule: str
    passed: bool
    breaches: list[dict[str, Any]] = Field([], description="fairnesspoort: de overschrijdingen per groep")


class Toetsperiode(BaseModel):
    """The holdout both models were scored on."""

    model_config = ConfigDict(populate_by_name=True)
    from_: str = Field(alias="from", description="vacatures vanaf deze datum")
    pairs: int
    vacancies: int


Metriek = float | int | str | bool | list[float] | list[str] | dict[str, Any] | None


class Promotieresultaat(BaseModel):
    """The comparison on the holdout, what was recorded, and the ranker that serves now."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)
    holdout: Toetsperiode
    challenger: dict[str, Metriek] = Field(description="naam, versie en metrieken (ndcg@10, recall@20, mrr …)")
    champion: dict[str, Metriek]
    ndcg_at10_gain: NdcgWinst = Field(alias="ndcg@10Gain")
    margin: float
    gates: list[Poort]
    passed: bool = Field(description="of de toets gehaald is (false bij geforceerd promoveren)")
    evidence: dict[str, Any] = Field(description="dezelfde cijfers op gedane voorstellen en, synthetisch, op pools")
    fairness: dict[str, Any] | None = Field(None, description="de fairness-audit van de challenger (synthetisch)")
    gepromoveerd: Promotie
    versie: str = Field(description="de versie die nu champion is")
    serveert: Rangschikker


class Trainingspaar(Uitvoer):
    """One decided (klant, vacature) pair, pseudonymised."""

    klant: str = Field(description="sleutel-pseudoniem van de klant (P-…), stabiel over pagina's")
    vacature: str = Field(description="sleutel-pseudoniem van de vacature (PV-…)")
    label: int = Field(ge=0, le=4, description="0 afgewezen, 2 aangenomen of uitgevallen, 3 geplaatst, 4 duurzaam")
    gecensureerd: bool = Field(description="geplaatst, maar te kort geleden om al duurzaam te kunnen zijn")
    moment: datetime = Field(description="eerste voorstel voor deze vacature (UTC): voor een tijdsplitsing")
    kenmerken: dict[str, float] = Field(description="de kenmerken van de rangschikker, op naam")


class TrainingsdataPagina(Uitvoer):
    """A page of the training snapshot; rows in time order (vacancy moment, vacancy, klant)."""

    resultaten: list[Trainingspaar]
    pagina: int
    pagina_grootte: int
    totaal: int = Field(description="aantal paren over alle pagina's")
    aantal_paginas: int
    kenmerk_namen: list[str] = Field(description="de kenmerken in de volgorde van het model")
    momentopname: datetime = Field(description="wanneer de gegevens zijn samengesteld (UTC)")


class GebruikersLijst(BaseModel):
    """Every account, by username."""

    gebruikers: list[UserPublic]


class GebruikerNieuw(Invoer):
    """A new account; the same names as the login form and :class:`api.services.users.UserPublic`."""

    username: str = Field(min_length=3, max_length=64, description="3–64 tekens: letters, cijfers en . _ @ -")
    password: str = Field(min_length=1, max_length=256, description="minstens 12 tekens, niet gelijk aan de naam")
    rol: Rol
    consulent: str | None = Field(
        None, min_length=1, max_length=80, description="alleen en verplicht voor een werkconsulent"
    )
    naam: str | None = Field(None, max_length=200, description="weergavenaam; leeg = de gebruikersnaam")


class GebruikerWijziging(Invoer):
    """The fields to change; fields left out stay as they are."""

    actief: bool | None = Field(None, description="false: deactiveren (bestaande tokens vervallen meteen)")
    rol: Rol | None = None
    consulent: str | None = Field(None, min_length=1, max_length=80, description="null: geen consulentcode")
    naam: str | None = Field(None, min_length=1, max_length=200)


# ------------------------------------------------------------------------------------------ modellen


def _tag_float(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _tag_moment(value: str | None) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return stored_utc(moment) if moment is not None else None


def _promotion(tags: Mapping[str, str]) -> Promotie | None:
    if "promoted_by" not in tags:
        return None
    return Promotie(
        door=tags["promoted_by"],
        op=_tag_moment(tags.get("promoted_at")),
        geforceerd=tags.get("promotion_forced") == "true",
        reden=tags.get("promotion_reason", ""),
        winst_ndcg_at10=_tag_float(tags.get("promotion_gain_ndcg_at_10")),
        vorige_champion=tags.get("previous_champion"),
        fairnesspoort=tags.get("fairness_gate"),
        verantwoording=tags.get("fairness_justification"),
        verantwoord_door=tags.get("fairness_justified_by"),
        overschrijdingen=tags.get("fairness_breaches"),
    )


def _version(info: registry.VersionInfo) -> ModelVersie:
    return ModelVersie(
        versie=info.version,
        aliassen=list(info.aliases),
        run_id=info.run_id,
        aangemaakt=datetime.fromtimestamp(info.created / 1000, UTC),
        holdout_from=info.tags.get("holdout_from"),
        data_hash=info.tags.get("data_hash"),
        git_sha=info.tags.get("git_sha"),
        promotie=_promotion(info.tags),
        tags=dict(info.tags),
    )


@router.get(
    "/modellen",
    response_model=ModellenOverzicht,
    tags=["modellen"],
    responses=documented(_401=NOT_LOGGED_IN, _403=WRONG_ROLE, _503="Het modelregister is niet leesbaar"),
)
def list_models(_user: Toezicht, matcher: MatcherDep, settings: SettingsDep) -> ModellenOverzicht:
    """De geregistreerde versies van de rangschikker (aliassen, toetsperiode, wie promoveerde) en welke nu serveert."""
    try:
        infos = registry.versions(settings)
    except Exception as error:  # noqa: BLE001 - any store failure (MLflow, SQLite, disk) is a 503, not a 500
        raise _registry_unreadable(error) from None
    return ModellenOverzicht(
        registermodel=settings.ranker.registered_model,
        serveert=Rangschikker.model_validate(matcher.ranker_status()),
        versies=[_version(info) for info in infos],
    )


Versie = Annotated[str, Path(pattern=r"^[1-9][0-9]{0,8}$", description="versienummer in het register, bijv. 3")]


class Overschrijding(Uitvoer):
    """One group over the fairness tripwire (or the counterfactual test under its floor)."""

    kenmerk: str = Field(description="geslacht, leeftijd, migratieachtergrond, trede, beperking of contrafeitelijk")
    groep: str
    verhouding: float = Field(description="aandeel top-10 ÷ aandeel pool (bij contrafeitelijk: de gemiddelde RBO)")
    interval: list[float] | None = Field(description="95%-bootstrapinterval van de verhouding")
    klanten: int | None = Field(description="klanten van de groep in de pools")
    zeker: bool = Field(description="ook het hele interval ligt onder de grens")


class FairnessRapport(Uitvoer):
    """The fairness audit saved with a version's training run, its breaches and any justification."""

    versie: str
    beschikbaar: bool = Field(description="false: de audit kon niet worden uitgevoerd (zie reden)")
    reden: str | None = Field(None, description="waarom er geen audit is")
    overschrijdingen: list[Overschrijding]
    fairnesspoort: str | None = Field(None, description="bij promotie: 'gehaald' of 'verantwoord'")
    verantwoording: str | None = None
    verantwoord_door: str | None = None
    verantwoord_op: datetime | None = None
    audit: dict[str, Any] | None = Field(
        None,
        description="per kenmerk en groep: aandelen, verhouding met interval, blootstelling ÷ verdienste, "
        "fairlearn-maten; en de contrafeitelijke test",
    )


def _registry_call(call: Any, *args: Any) -> Any:
    """A registry read: unknown versions stay 404, any other store failure is a 503."""
    try:
        return call(*args)
    except NotFoundError:
        raise
    except Exception as error:  # noqa: BLE001 - any store failure (MLflow, SQLite, disk) is a 503, not a 500
        raise _registry_unreadable(error) from None


@router.get(
    "/modellen/{versie}/modelkaart",
    response_class=PlainTextResponse,
    tags=["modellen"],
    responses={
        200: {
            "description": "De modelkaart in Markdown",
            "content": {"text/markdown": {"schema": {"type": "string"}}},
        },
        **documented(
            _401=NOT_LOGGED_IN,
            _403=WRONG_ROLE,
            _404="Deze versie bestaat niet",
            _503="Het modelregister is niet leesbaar",
        ),
    },
)
def model_card(versie: Versie, _user: Toezicht, settings: SettingsDep) -> PlainTextResponse:
    """De modelkaart van een versie (Markdown, in de velden van het Algoritmeregister)."""
    from training.model_card import card_for_version

    text = _registry_call(card_for_version, settings, versie)
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")


@router.get(
    "/modellen/{versie}/fairness",
    response_model=FairnessRapport,
    tags=["modellen"],
    responses=documented(
        _401=NOT_LOGGED_IN, _403=WRONG_ROLE, _404="Deze versie bestaat niet", _503="Het modelregister is niet leesbaar"
    ),
)
def model_fairness(versie: Versie, _user: Toezicht, settings: SettingsDep) -> FairnessRapport:
    """De fairness-audit van een versie: per groep de verhoudingen, de overschrijdingen en de verantwoording."""
    from training.fairness_report import breaches
    from training.model_card import card_facts

    facts = _registry_call(card_facts, settings, versie)
    tags = facts.tags
    found = breaches(facts.fairness)
    return FairnessRapport(
        versie=facts.version,
        beschikbaar=facts.fairness is not None,
        reden=facts.fairness_missing,
        overschrijdingen=[
            Overschrijding(
                kenmerk=b["attribute"],
                groep=str(b["group"]),
                verhouding=b["ratio"],
                interval=b["ratioCI"],
                klanten=b["clients"],
                zeker=b["certain"],
            )
            for b in found
        ],
        fairnesspoort=tags.get("fairness_gate"),
        verantwoording=tags.get("fairness_justification"),
        verantwoord_door=tags.get("fairness_justified_by"),
        verantwoord_op=_tag_moment(tags.get("fairness_justified_at")),
        audit=finite(facts.fairness) if facts.fairness is not None else None,
    )


_PROMOTING = threading.Lock()  # one promotion at a time in this process: both would read the same challenger


@router.post(
    "/modellen/promoveren",
    response_model=Promotieresultaat,
    tags=["modellen"],
    responses=documented(
        _400="Ongeldige invoer, bijv. forceer zonder reden",
        _401=NOT_LOGGED_IN,
        _403=WRONG_ROLE,
        _409="Niet gepromoveerd: de challenger haalt de toets niet (met ndcg@10Gain en gates) of ontbreekt",
        _503="Het modelregister of de index is niet beschikbaar",
    ),
)
def promote_challenger(
    body: PromotieVerzoek, user: DataScientist, matcher: MatcherDep, settings: SettingsDep, request: Request
) -> Promotieresultaat:
    """De challenger champion maken als hij de toets haalt (of geforceerd, met reden); de service volgt meteen."""
    if body.forceer and body.reden is None:
        raise InvalidInputError("forceer vraagt om een reden: leg vast waarom dit model toch champion wordt")
    _embedding_done(matcher)
    if not _PROMOTING.acquire(blocking=False):
        raise ConflictError("er loopt al een promotie; wacht tot die klaar is en vraag GET /api/v1/modellen op")
    try:
        try:
            result = promote(
                settings,
                matcher,
                force=body.forceer,
                reason=body.reden,
                user=user.username,
                justification=body.verantwoording,
            )
        except PromotionRefused as refused:
            figures = refused.result
            raise ProblemError(
                409,
                "Niet gepromoveerd",
                f"{refused} Er is niets gewijzigd.",
                **{
                    "ndcg@10Gain": figures["ndcg@10Gain"],
                    "gates": figures["gates"],
                    "margin": figures["margin"],
                    "holdout": figures["holdout"],
                    "challenger": figures["challenger"],
                    "champion": figures["champion"],
                },
            ) from None
        except RankerError as error:
            raise _registry_unreadable(error) from None
        except InvalidInputError as error:  # no challenger, no holdout period: the registry's state, not the body
            raise ConflictError(str(error).replace("--force", "forceer").replace("--reason", "reden")) from None
        except Exception as error:  # noqa: BLE001 - a broken store (MLflow, SQLite, disk) is a 503, not a 500
            logger.exception("promotion failed")
            raise _registry_unreadable(error) from None
    finally:
        _PROMOTING.release()
    serving = registry.serve_champion(settings, matcher)
    promoted = result["promoted"]
    with Session(matcher.engine) as session:
        _audit(
            session,
            request,
            user,
            "model_gepromoveerd",
            MODEL_PURPOSE,
            [],
            {
                "model": settings.ranker.registered_model,
                "versie": str(promoted["version"]),
                "vorigeChampion": str(promoted["previous_champion"]),
                "geforceerd": promoted["promotion_forced"] == "true",
                "reden": promoted["promotion_reason"],
                "winstNdcgAt10": promoted["promotion_gain_ndcg_at_10"],  # text: audit details take no floats
                "fairnesspoort": promoted["fairness_gate"],
                **(
                    {"verantwoording": promoted["fairness_justification"]}
                    if promoted.get("fairness_justification")
                    else {}
                ),
            },
        )
        session.commit()
    clean = finite(result)
    return Promotieresultaat.model_validate(
        {
            **clean,
            "gepromoveerd": _promotion(promoted),
            "versie": str(promoted["version"]),
            "serveert": serving,
        }
    )


# ------------------------------------------------------------------------------------- trainingsdata


@dataclass(frozen=True)
class _Snapshot:
    key: tuple[Any, ...]
    built: float  # time.monotonic()
    at: datetime
    data: RankingData


_SNAPSHOT_LOCK = threading.Lock()  # one build at a time; a second request waits and reuses it


def _fingerprint(matcher: Matcher) -> tuple[Any, ...]:
    """What the snapshot depends on: any voorstel, klant or vacature saved since changes it."""
    with Session(matcher.engine) as session:
        parts: list[Any] = []
        for table in (Voorstel, Client, Vacancy):
            count, latest = session.exec(select(func.count(table.id), func.max(table.updated_at))).one()  # type: ignore[arg-type]
            parts += [int(count), latest.isoformat() if latest is not None else None]
    return tuple(parts)


def _snapshot(request: Request, matcher: Matcher) -> _Snapshot:
    """The training pairs as of now, rebuilt only when the data changed or the snapshot is old."""
    with _SNAPSHOT_LOCK:
        key = _fingerprint(matcher)
        current: _Snapshot | None = getattr(request.app.state, "trainingsdata", None)
        if current is None or current.key != key or time.monotonic() - current.built > SNAPSHOT_SECONDS:
            at = datetime.now(UTC)
            data = build_dataset(matcher, now=at)
            current = _Snapshot(key=key, built=time.monotonic(), at=at, data=data)
            request.app.state.trainingsdata = current
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


@router.get(
    "/modellen/trainingsdata",
    response_model=TrainingsdataPagina,
    tags=["modellen"],
    responses=documented(
        _400="Ongeldige pagina, paginaGrootte of X-Doel",
        _401=NOT_LOGGED_IN,
        _403=WRONG_ROLE,
        _503="De index wordt nog opgebouwd",
    ),
)
def training_data(
    user: DataScientist,
    matcher: MatcherDep,
    settings: SettingsDep,
    request: Request,
    pagina: Annotated[int, Query(ge=1, le=PAGE_MAX, description="paginanummer, vanaf 1")] = 1,
    pagina_grootte: Annotated[
        int, Query(alias="paginaGrootte", ge=1, le=PAGE_SIZE_MAX, description="1 t/m 1000")
    ] = 100,
    doel: Doel = TRAINING_PURPOSE,
) -> TrainingsdataPagina:
    """De besliste paren (klant, vacature) met label en kenmerken, gepseudonimiseerd, per pagina (geaudit)."""
    _embedding_done(matcher)
    snapshot = _snapshot(request, matcher)
    data = snapshot.data
    total = len(data)
    start = (pagina - 1) * pagina_grootte
    rows = np.arange(start, min(start + pagina_grootte, total)) if start < total else np.arange(0)
    with Session(matcher.engine) as session:
        klanten = _numbers(session, Client, Client.client_nummer, data.client_ids[rows])
        vacatures = _numbers(session, Vacancy, Vacancy.vacature_nummer, data.vacancy_ids[rows])
        results = []
        for row in rows:
            client_id, vacancy_id = int(data.client_ids[row]), int(data.vacancy_ids[row])
            if client_id not in klanten or vacancy_id not in vacatures:  # removed since the snapshot
                continue
            features = data.features[row]
            results.append(
                Trainingspaar(
                    klant=training_pseudonym(settings, "klant", klanten[client_id]),
                    vacature=training_pseudonym(settings, "vacature", vacatures[vacancy_id]),
                    label=int(data.labels[row]),
                    gecensureerd=bool(data.censored[row]) if data.censored is not None else False,
                    moment=datetime.fromtimestamp(float(data.moments[row]), UTC),
                    kenmerken={
                        name: float(value) if math.isfinite(value) else 0.0
                        for name, value in zip(data.feature_names, features.tolist(), strict=True)
                    },
                )
            )
        seen = list(dict.fromkeys(klanten[int(i)] for i in data.client_ids[rows] if int(i) in klanten))
        _audit(
            session,
            request,
            user,
            "trainingsdata_opgevraagd",
            doel,
            seen,
            {"pagina": pagina, "paginaGrootte": pagina_grootte, "rijen": len(results)},
        )
        session.commit()
    return TrainingsdataPagina(
        resultaten=results,
        pagina=pagina,
        pagina_grootte=pagina_grootte,
        totaal=total,
        aantal_paginas=math.ceil(total / pagina_grootte),
        kenmerk_namen=list(data.feature_names),
        momentopname=snapshot.at,
    )


# ---------------------------------------------------------------------------------------- gebruikers


def _public(user: User, aangevraagd: str | None = None) -> UserPublic:
    return UserPublic(
        username=user.username,
        rol=Rol(user.rol),
        consulent=user.consulent,
        naam=user.naam,
        actief=user.actief,
        aangevraagd=aangevraagd,
    )


def _public_with_grant(session: Session, user: User) -> UserPublic:
    return _public(user, grants.pending(session, [user.username]).get(user.username))


def _taken(username: str) -> ConflictError:
    return ConflictError(f"gebruikersnaam '{username}' bestaat al; kies een andere, of wijzig de bestaande met PATCH")


def _account(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user is None:
        raise NotFoundError(f"gebruiker '{username}' bestaat niet; controleer de gebruikersnaam")
    return user


def _not_bsn(value: str | None, name: str) -> None:
    """Usernames and consulent codes end up in the audit log, which refuses anything that looks like a BSN."""
    if value is not None and _BSN_LIKE.fullmatch(value.strip()):
        raise InvalidInputError(f"{name} '{value}' lijkt op een BSN (9 cijfers); kies een andere")


def _consulent_rule(rol: Rol, consulent: str | None) -> None:
    _not_bsn(consulent, "consulentcode")
    if rol is Rol.WERKCONSULENT and not consulent:
        raise InvalidInputError("een werkconsulent heeft een consulentcode nodig (de caseload), bijv. wc-arnhem-01")
    if rol is not Rol.WERKCONSULENT and consulent:
        raise InvalidInputError(
            f"alleen een werkconsulent heeft een consulentcode; laat 'consulent' weg voor de rol {rol.value}"
        )


@router.get(
    "/gebruikers",
    response_model=GebruikersLijst,
    tags=["gebruikers"],
    responses=documented(_401=NOT_LOGGED_IN, _403=WRONG_ROLE),
)
def list_users(_user: Beheerder, matcher: MatcherDep) -> GebruikersLijst:
    """Alle accounts (zonder wachtwoorden), op gebruikersnaam."""
    with Session(matcher.engine) as session:
        users = session.exec(select(User).order_by(User.username)).all()
        waiting = grants.pending(session)
        return GebruikersLijst(gebruikers=[_public(user, waiting.get(user.username)) for user in users])


@router.post(
    "/gebruikers",
    status_code=201,
    response_model=UserPublic,
    tags=["gebruikers"],
    responses=documented(
        _400="Ongeldige invoer of te zwak wachtwoord",
        _401=NOT_LOGGED_IN,
        _403=WRONG_ROLE,
        _409="De gebruikersnaam bestaat al",
    ),
)
def add_user(
    body: GebruikerNieuw, user: Beheerder, matcher: MatcherDep, request: Request, response: Response
) -> UserPublic:
    """Een account aanmaken met rol (en consulentcode voor een werkconsulent); geeft de Location ervan."""
    consulent = body.consulent.strip() if body.consulent and body.consulent.strip() else None
    _consulent_rule(body.rol, consulent)
    name = normalize_username(body.username)
    _not_bsn(name, "gebruikersnaam")
    try:
        with Session(matcher.engine) as session:
            if get_user(session, name) is not None:
                raise _taken(name)
            # The audit entry and the grant request go first and create_user's commit carries them:
            # all or nothing. The caseload itself waits for a second beheerder (api.services.grants).
            _audit(session, request, user, "gebruiker_aangemaakt", ACCOUNT_PURPOSE, [name], {"rol": body.rol.value})
            if consulent is not None:
                grants.request_grant(session, user, name, consulent, getattr(request.state, "request_id", None))
            created = create_user(
                session, name, body.password, body.rol, consulent=None, naam=body.naam, caseload_pending=True
            )
            public = _public(created, consulent)
    except IntegrityError:  # created by someone else between our check and our commit
        raise _taken(name) from None
    response.headers["Location"] = f"/api/v1/gebruikers/{public.username}"
    return public


@router.get(
    "/gebruikers/{gebruikersnaam}",
    response_model=UserPublic,
    tags=["gebruikers"],
    responses=documented(_401=NOT_LOGGED_IN, _403=WRONG_ROLE, _404="De gebruiker bestaat niet"),
)
def read_user(gebruikersnaam: Gebruikersnaam, _user: Beheerder, matcher: MatcherDep) -> UserPublic:
    """Eén account (zonder wachtwoord)."""
    with Session(matcher.engine) as session:
        return _public_with_grant(session, _account(session, gebruikersnaam))


@router.patch(
    "/gebruikers/{gebruikersnaam}",
    response_model=UserPublic,
    tags=["gebruikers"],
    responses=documented(
        _400="Ongeldige wijziging, bijv. het eigen account deactiveren",
        _401=NOT_LOGGED_IN,
        _403=WRONG_ROLE,
        _404="De gebruiker bestaat niet",
    ),
)
def change_user(
    gebruikersnaam: Gebruikersnaam, body: GebruikerWijziging, user: Beheerder, matcher: MatcherDep, request: Request
) -> UserPublic:
    """Een account wijzigen: deactiveren (tokens vervallen meteen), heractiveren, rol, consulentcode of naam."""
    given = body.model_fields_set
    if not given:
        raise InvalidInputError("geen wijziging opgegeven; geef actief, rol, consulent of naam")
    for field in ("actief", "rol", "naam"):
        if field in given and getattr(body, field) is None:
            raise InvalidInputError(f"'{field}' mag niet leeg (null) zijn; laat het veld weg om het te houden")
    with Session(matcher.engine) as session:
        account = _account(session, gebruikersnaam)
        own = account.username == user.username
        if own and body.actief is False:
            raise InvalidInputError("u kunt uw eigen account niet deactiveren; laat een andere beheerder dit doen")
        if own and body.rol is not None and body.rol != account.rol:
            raise InvalidInputError("u kunt uw eigen rol niet wijzigen; laat een andere beheerder dit doen")
        rol = body.rol if body.rol is not None else Rol(account.rol)
        waiting = grants.pending(session, [account.username]).get(account.username)
        if "consulent" in given:
            consulent = body.consulent.strip() if body.consulent and body.consulent.strip() else None
        elif rol is Rol.WERKCONSULENT:  # keep the code it has, or the one that waits for approval
            consulent = account.consulent or waiting
        else:  # a role away from werkconsulent drops the caseload
            consulent = None
        _consulent_rule(rol, consulent)
        changes: dict[str, Any] = {}
        voided = 0
        if body.actief is not None and body.actief != account.actief:
            changes["actief"] = account.actief = body.actief
            revoke_tokens(session, account.username)  # tokens from before a deactivation never come back
        if rol != account.rol:
            changes["rol"] = rol.value
            account.rol = rol
        if consulent is None or (consulent == account.consulent and "consulent" in given):
            # Losing a caseload (or keeping the current one) takes effect at once; a waiting request lapses.
            voided = grants.void_open(session, account.username, user.username) if waiting else 0
            if consulent != account.consulent:
                changes["consulent"] = account.consulent = consulent
        elif consulent not in (account.consulent, waiting):
            # Gaining a caseload waits for a second beheerder (api.services.grants); the account keeps what it had.
            changes["consulentAangevraagd"] = consulent
            grants.request_grant(session, user, account.username, consulent, getattr(request.state, "request_id", None))
        if body.naam is not None and not body.naam.strip():
            raise InvalidInputError("naam mag niet leeg zijn; laat het veld weg om de naam te houden")
        if body.naam is not None and body.naam.strip() != account.naam:
            account.naam = body.naam.strip()
            changes["naam"] = "gewijzigd"  # the name itself stays out of the audit log
        if changes or voided:
            session.add(account)
            if changes:
                _audit(session, request, user, "gebruiker_gewijzigd", ACCOUNT_PURPOSE, [account.username], changes)
            session.commit()
            session.refresh(account)
        return _public_with_grant(session, account)
