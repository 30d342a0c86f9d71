"""The ranker's models over HTTP: the registry, promotion, model cards, fairness audits, training data,
and the reload of the ranker that serves.

Endpoints, roles and answers (errors are always ``application/problem+json`` in Dutch):

======  =========================================  ==========================  ============================
method  path                                       roles                       status codes
======  =========================================  ==========================  ============================
GET     ``/api/v1/modellen``                       data_scientist, beheerder   200, 401, 403, 503
POST    ``/api/v1/modellen/promoveren``            data_scientist              200, 400, 401, 403, 409, 503
GET     ``/api/v1/modellen/trainingsdata``         data_scientist              200, 400, 401, 403, 503
GET     ``/api/v1/modellen/{versie}/modelkaart``   data_scientist, beheerder   200, 400, 401, 403, 404, 503
GET     ``/api/v1/modellen/{versie}/fairness``     data_scientist, beheerder   200, 400, 401, 403, 404, 503
POST    ``/api/v1/modellen/herladen``              data_scientist, beheerder   200, 401, 403
======  =========================================  ==========================  ============================

The work itself is :mod:`api.services.models`. Decisions:

* **Promotion is** :func:`training.promotion.promote` **with the logged-in user**, so the registry's
  version tags (``promoted_by``) name the person, not the service account. The serving ranker is
  reloaded at once (the alias watcher would follow within ``ranker.poll_seconds`` anyway). A refused
  promotion is a 409 whose problem carries the comparison (``winstNdcgAt10``, ``poorten``, ``marge``,
  ``toetsperiode``, ``challenger``, ``champion``: :func:`api.services.models.promotion_report`);
  nothing changed. No challenger (or one without a holdout period) is a 409 too: the request is fine,
  the registry's state is not. ``forceer`` without ``reden`` is a 400 before anything is computed.
  One promotion at a time per process; a second answers 409. A fairness breach (or no audit)
  refuses too, with the gate's ``overschrijdingen`` in ``poorten``, unless the body carries a
  ``verantwoording``: it is recorded with the user's name on the version and in the
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
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import Field, field_validator

from api.deps import DataScientist, Doel, MatcherDep, SettingsDep, Toezicht
from api.problems import ProblemError, documented, finite
from api.routes.common import PAGE_MAX, Invoer, Uitvoer, request_id
from api.services import models
from matching.errors import InvalidInputError
from matching.results import ranker_json
from training import registry
from training.fairness_report import breaches
from training.model_card import card_facts, card_for_version
from training.promotion import PromotionRefused

PAGE_SIZE_MAX = 1000  # 1,000 rows x 27 features is about 1 MB of JSON
TRAINING_PURPOSE = "modelontwikkeling"
UNREADABLE = "Het modelregister is niet leesbaar"
_HAS_LETTER = re.compile(r"[^\W\d_]")

router = APIRouter(prefix="/api/v1/modellen", tags=["modellen"])

Versie = Annotated[str, Path(pattern=r"^[1-9][0-9]{0,8}$", description="versienummer in het register, bijv. 3")]


@contextmanager
def _available() -> Iterator[None]:
    """The model services' refusals as the API's 503s (the ranker that serves keeps serving)."""
    try:
        yield
    except models.RegistryUnreadable as error:
        raise ProblemError(
            503,
            "Modelregister niet leesbaar",
            f"Het modelregister kon niet worden gelezen of bijgewerkt ({error}); de rangschikker die nu serveert "
            "blijft serveren. Controleer de trackingstore, bekijk GET /api/v1/modellen en probeer het opnieuw.",
        ) from None
    except models.IndexNotReady:
        raise ProblemError(
            503,
            "Index nog niet klaar",
            "De index wordt nog opgebouwd; de kenmerken zouden onvolledig zijn. Probeer het over enkele "
            "minuten opnieuw (GET /api/v1/health zegt hoe ver het is).",
            headers={"Retry-After": "60"},
        ) from None


class Rangschikker(Uitvoer):
    """The ranker that orders candidate lists now (the same keys as in ``GET /api/v1/health`` and a list's
    ``gerangschiktDoor``): :func:`matching.results.ranker_json` of its description."""

    naam: str = Field(description="registermodel, 'baseline' (meegeleverd) of 'baseline:weighted'")
    versie: str | None = Field(description="versie in het register of van de meegeleverde baseline")
    bron: str | None = Field(None, description="waar de gewichten vandaan komen (gewogen score)")
    aliassen: list[str] = Field([], description="aliassen van deze versie in het register")
    fout: str | None = Field(None, description="waarom het laatste herladen mislukte (de vorige serveert)")


class Promotie(Uitvoer):
    """Who made a version champion, when, why and on what evidence (the version's registry tags)."""

    door: str = Field(description="gebruikersnaam van wie promoveerde")
    op: datetime | None = Field(description="moment van promoveren (UTC)")
    geforceerd: bool = Field(description="gepromoveerd hoewel de toets niet gehaald werd")
    reden: str
    winst_ndcg_at10: float | None = Field(description="gemeten winst in NDCG@10")
    vorige_champion: str | None = Field(description="versie of naam van de vorige champion")
    fairnesspoort: str | None = Field(None, description="'gehaald', of 'verantwoord': met verantwoording")
    verantwoording: str | None = Field(None, description="waarom een fairness-overschrijding aanvaardbaar is")
    verantwoord_door: str | None = Field(None, description="wie de verantwoording vastlegde")
    overschrijdingen: str | None = Field(None, description="de overschrijdingen waarop de verantwoording ziet")


class ModelVersie(Uitvoer):
    """One registered version of the ranker."""

    versie: str
    aliassen: list[str] = Field(description="'champion' serveert, 'challenger' wacht op promotie")
    trainingsrun: str | None = Field(description="id van de MLflow-run van de training")
    aangemaakt: datetime = Field(description="moment van registreren (UTC)")
    toetsperiode_vanaf: str | None = Field(description="begin van de toetsperiode: daarvoor getraind, daarna getoetst")
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


class Overschrijding(Uitvoer):
    """One group over the fairness tripwire (or the counterfactual test under its floor)."""

    kenmerk: str = Field(description="geslacht, leeftijd, migratieachtergrond, trede, beperking of contrafeitelijk")
    groep: str
    verhouding: float = Field(description="aandeel top-10 ÷ aandeel pool (bij contrafeitelijk: de gemiddelde RBO)")
    interval: list[float] | None = Field(description="95%-bootstrapinterval van de verhouding")
    klanten: int | None = Field(description="klanten van de groep in de pools")
    zeker: bool = Field(description="ook het hele interval ligt onder de grens")
    maat: str | None = Field(None, description="de gemeten maat als het niet de verhouding is")


class Poort(Uitvoer):
    """One gate of the promotion rule."""

    naam: str
    basis: str
    regel: str
    gehaald: bool
    overschrijdingen: list[Overschrijding] = Field([], description="fairnesspoort: de overschrijdingen per groep")


class NdcgWinst(Uitvoer):
    """NDCG@10 of challenger minus champion per vacancy: mean and paired 95 % intervals."""

    winst: float = Field(description="gemiddelde winst in NDCG@10 per vacature")
    winst_interval: list[float] = Field(description="95%-interval van de winst (vacatures gepaard herbemonsterd)")
    verhouding: float | None = Field(description="NDCG@10 van de challenger ÷ die van de champion")
    verhouding_interval: list[float] | None
    vacatures: int


Metriek = float | int | str | bool | list[float] | list[str] | dict[str, Any] | None


class Vergelijking(Uitvoer):
    """Both rankers on one basis: the proposals made, or (synthetic data) the whole candidate pools."""

    paren: int
    vacatures: int
    challenger: dict[str, Metriek]
    champion: dict[str, Metriek]
    winst_ndcg_at10: NdcgWinst


class Toetsperiode(Uitvoer):
    """The holdout both models were scored on."""

    vanaf: str = Field(description="vacatures vanaf deze datum")
    paren: int
    vacatures: int


class Promotieresultaat(Uitvoer):
    """The comparison on the holdout, what was recorded, and the ranker that serves now."""

    toetsperiode: Toetsperiode
    challenger: dict[str, Metriek] = Field(
        description="naam, versie en metrieken (ndcg@10, recall@20, mrr …; met <metriek>Interval)"
    )
    champion: dict[str, Metriek]
    champion_onbruikbaar: str | None = Field(
        None, description="waarom de geregistreerde champion niet te laden was (vergeleken met wat nu rangschikt)"
    )
    winst_ndcg_at10: NdcgWinst
    marge: float = Field(description="de winst in NDCG@10 die de challenger minstens moet halen")
    poorten: list[Poort]
    gehaald: bool = Field(description="of de toets gehaald is (false bij geforceerd promoveren)")
    onderbouwing: dict[str, Vergelijking] = Field(
        description="dezelfde cijfers op gedane voorstellen (voorstellen) en, synthetisch, op pools (pool)"
    )
    fairnessaudit: dict[str, Any] | None = Field(
        None, description="de fairness-audit van de challenger (synthetisch; een meetrapport met eigen namen)"
    )
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


def _version(info: registry.VersionInfo) -> ModelVersie:
    return ModelVersie.model_validate(models.version_facts(info))


@router.get(
    "",
    response_model=ModellenOverzicht,
    responses=documented(401, 403, _503=UNREADABLE),
)
def list_models(_user: Toezicht, matcher: MatcherDep, settings: SettingsDep) -> ModellenOverzicht:
    """De geregistreerde versies van de rangschikker (aliassen, toetsperiode, wie promoveerde) en welke nu serveert."""
    with _available():
        infos = models.registry_call(registry.versions, settings)
    return ModellenOverzicht(
        registermodel=settings.ranker.registered_model,
        serveert=Rangschikker.model_validate(ranker_json(matcher.ranker_status())),
        versies=[_version(info) for info in infos],
    )


@router.get(
    "/{versie}/modelkaart",
    response_class=PlainTextResponse,
    responses={
        200: {
            "description": "De modelkaart in Markdown",
            "content": {"text/markdown": {"schema": {"type": "string"}}},
        },
        **documented(401, 403, _404="Deze versie bestaat niet", _503=UNREADABLE),
    },
)
def model_card(versie: Versie, _user: Toezicht, settings: SettingsDep) -> PlainTextResponse:
    """De modelkaart van een versie (Markdown, in de velden van het Algoritmeregister)."""
    with _available():
        text = models.registry_call(card_for_version, settings, versie)
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")


@router.get(
    "/{versie}/fairness",
    response_model=FairnessRapport,
    responses=documented(401, 403, _404="Deze versie bestaat niet", _503=UNREADABLE),
)
def model_fairness(versie: Versie, _user: Toezicht, settings: SettingsDep) -> FairnessRapport:
    """De fairness-audit van een versie: per groep de verhoudingen, de overschrijdingen en de verantwoording."""
    with _available():
        facts = models.registry_call(card_facts, settings, versie)
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
        verantwoord_op=models.tag_moment(tags.get("fairness_justified_at")),
        audit=finite(facts.fairness) if facts.fairness is not None else None,
    )


@router.post(
    "/promoveren",
    response_model=Promotieresultaat,
    responses=documented(
        401,
        403,
        _400="Ongeldige invoer, bijv. forceer zonder reden",
        _409="Niet gepromoveerd: de challenger haalt de toets niet (met winstNdcgAt10 en poorten) of ontbreekt",
        _503="Het modelregister of de index is niet beschikbaar",
    ),
)
def promote_challenger(
    body: PromotieVerzoek, user: DataScientist, matcher: MatcherDep, settings: SettingsDep, request: Request
) -> Promotieresultaat:
    """De challenger champion maken als hij de toets haalt (of geforceerd, met reden); de service volgt meteen."""
    if body.forceer and body.reden is None:
        raise InvalidInputError("forceer vraagt om een reden: leg vast waarom dit model toch champion wordt")
    try:
        with _available():
            result, serving = models.promote_challenger(
                settings,
                matcher,
                user,
                force=body.forceer,
                reason=body.reden,
                justification=body.verantwoording,
                request_id=request_id(request),
            )
    except PromotionRefused as refused:
        figures = finite(models.promotion_report(refused.result))
        shown = ("winstNdcgAt10", "poorten", "marge", "toetsperiode", "challenger", "champion")
        raise ProblemError(
            409, "Niet gepromoveerd", f"{refused} Er is niets gewijzigd.", **{key: figures[key] for key in shown}
        ) from None
    report = finite(models.promotion_report(result))
    return Promotieresultaat.model_validate({**report, "serveert": ranker_json(serving)})


@router.get(
    "/trainingsdata",
    response_model=TrainingsdataPagina,
    responses=documented(
        401, 403, _400="Ongeldige pagina, paginaGrootte of X-Doel", _503="De index wordt nog opgebouwd"
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
    with _available():
        snapshot = models.snapshot(matcher, getattr(request.app.state, "trainingsdata", None))
    request.app.state.trainingsdata = snapshot  # one snapshot per app, paged by every request after
    data = snapshot.data
    total = len(data)
    start = (pagina - 1) * pagina_grootte
    rows = np.arange(start, min(start + pagina_grootte, total)) if start < total else np.arange(0)
    pairs = models.training_page(
        settings,
        matcher,
        data,
        rows,
        user=user,
        purpose=doel,
        request_id=request_id(request),
        page={"pagina": pagina, "paginaGrootte": pagina_grootte},
    )
    return TrainingsdataPagina(
        resultaten=[
            Trainingspaar(
                klant=pair.klant,
                vacature=pair.vacature,
                label=pair.label,
                gecensureerd=pair.censored,
                moment=pair.moment,
                kenmerken=pair.features,
            )
            for pair in pairs
        ],
        pagina=pagina,
        pagina_grootte=pagina_grootte,
        totaal=total,
        aantal_paginas=math.ceil(total / pagina_grootte),
        kenmerk_namen=list(data.feature_names),
        momentopname=snapshot.at,
    )


@router.post(
    "/herladen", response_model=Rangschikker, response_model_exclude_unset=True, responses=documented(401, 403)
)
def reload_ranker(matcher: MatcherDep, settings: SettingsDep, _user: Toezicht) -> dict[str, Any]:
    """Het champion-model opnieuw laden uit het register (na werkmatch promote); zegt welk model rangschikt."""
    return ranker_json(registry.serve_champion(settings, matcher))
