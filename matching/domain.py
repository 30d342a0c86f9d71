"""Domain tables (SQLModel) and the validated input schemas they are built from.

Field names follow the national VUM matching standard where it has one (``rijbewijs``,
``vervoermiddel``, ``werktijden``, ``taalbeheersing`` → ``taalniveau``, ``bemiddelingsberoep`` →
``wensen.beroepen``, ``sluitingsdatumVacature`` → ``sluitingsdatum``), so a VUM adapter only renames.
JSON uses camelCase, Python snake_case.

Three kinds of data are kept apart on purpose:

* the *profile* (:class:`Client`) — what matching may use;
* *personalia* (:class:`ClientPersonalia`) — name and contact, never rendered, embedded or scored;
* *protected attributes* (:class:`AuditKenmerken`) — gender, birth year, migration background,
  only for fairness audits, never in profile text, features or indexes.

Beperkingen are special-category (health) data: they live in the profile because matching needs
them, and the API decides who may see them.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from matching import geo
from matching.vocab import (
    ASPECTS,
    TAALNIVEAUS,
    BeperkingCategorie,
    Bron,
    Opleidingsniveau,
    Plaatsingsvorm,
    Rijbewijs,
    Route,
    Trede,
    VacancyStatus,
    Vervoermiddel,
    Werktijd,
)

EXTERNAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
BSN_LIKE = re.compile(r"^\d{9}$")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Schema(BaseModel):
    """Base of every input schema: camelCase JSON, snake_case Python, unknown fields refused."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", str_strip_whitespace=True
    )


class Competentie(Schema):
    code: str = Field(min_length=1, max_length=80)
    label: str | None = None
    esco_uri: str | None = None
    niveau: int = Field(2, ge=1, le=3, description="1 beginner, 2 ervaren, 3 zeer ervaren")


class Werkervaring(Schema):
    beroep_code: str = Field(min_length=1, max_length=80)
    beroep_label: str | None = None
    jaren: float = Field(ge=0, le=60)


class Wensen(Schema):
    beroepen: list[str] = []
    sectoren: list[str] = []
    max_reisafstand_km: float | None = Field(None, gt=0, le=250)
    max_reistijd_min: int | None = Field(None, gt=0, le=240)
    werktijden_uitgesloten: list[Werktijd] = Field(
        [], description="werktijden die de klant niet kan of wil, bijv. nacht of weekend"
    )
    plaatsingsvormen: list[Plaatsingsvorm] = []


class Beperking(Schema):
    """A limitation on one aspect of work, in the same vocabulary as vacancy demands."""

    aspect: str
    ernst: int = Field(ge=1, le=3, description="1 licht, 2 matig, 3 ernstig")
    categorie: BeperkingCategorie | None = None
    toelichting: str | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _aspect_known(self) -> Self:
        if self.aspect not in ASPECTS:
            raise ValueError(f"onbekend aspect '{self.aspect}' bij beperking; kies uit: {', '.join(ASPECTS)}")
        expected = ASPECTS[self.aspect][0]
        if self.categorie is None:
            self.categorie = expected
        elif self.categorie != expected:
            raise ValueError(f"aspect '{self.aspect}' hoort bij categorie '{expected}', niet '{self.categorie}'")
        return self


class Belasting(Schema):
    """How much a vacancy demands of one aspect of work (niveau 1 laag … 3 hoog)."""

    aspect: str
    niveau: int = Field(ge=1, le=3)

    @field_validator("aspect")
    @classmethod
    def _aspect_known(cls, value: str) -> str:
        if value not in ASPECTS:
            raise ValueError(f"onbekend aspect '{value}'; kies uit: {', '.join(ASPECTS)}")
        return value


def _check_hours(uren_min: int, uren_max: int) -> None:
    if uren_min > uren_max:
        raise ValueError(f"urenMin ({uren_min}) is groter dan urenMax ({uren_max})")


def _check_taalniveau(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.upper()
    if value not in TAALNIVEAUS:
        raise ValueError(f"onbekend taalniveau '{value}'; kies uit {', '.join(TAALNIVEAUS)}")
    return value


def _check_postcode(value: str) -> str:
    normalised = geo.normalise_postcode(value)
    if normalised is None:
        raise ValueError(f"'{value}' is geen geldige postcode; gebruik 4 cijfers, eventueel met 2 letters")
    if not geo.pc4_exists(normalised[:4]):
        raise ValueError(f"postcode '{value}' bestaat niet (onbekend postcodegebied {normalised[:4]})")
    return normalised


class ClientIn(Schema):
    """A client profile as it comes in (import, API). Missing optional fields are allowed: incomplete ≠ invalid."""

    client_nummer: str = Field(description="pseudoniem klantnummer, nooit een BSN")
    consulent: str = Field(min_length=1, max_length=80)
    trede: Trede
    route: Route
    postcode: str
    competenties: list[Competentie] = []
    werkervaring: list[Werkervaring] = []
    opleidingsniveau: Opleidingsniveau | None = None
    taalniveau: str | None = None
    certificaten: list[str] = []
    rijbewijs: list[Rijbewijs] = []
    vervoermiddel: list[Vervoermiddel] = []
    uren_min: int = Field(0, ge=0, le=60)
    uren_max: int = Field(40, ge=1, le=60)
    beschikbaar_per: date | None = None
    wensen: Wensen = Wensen()
    beperkingen: list[Beperking] = []
    zelfbeschrijving: str = Field("", max_length=4000)
    notities: str = Field("", max_length=4000)

    @field_validator("client_nummer")
    @classmethod
    def _pseudonymous(cls, value: str) -> str:
        if BSN_LIKE.match(value):
            raise ValueError("klantnummer lijkt op een BSN (9 cijfers); gebruik het pseudonieme klantnummer")
        if not EXTERNAL_ID.match(value):
            raise ValueError("klantnummer mag alleen letters, cijfers, '-', '_' en '.' bevatten (max. 64 tekens)")
        return value

    _postcode = field_validator("postcode")(classmethod(lambda cls, v: _check_postcode(v)))
    _taal = field_validator("taalniveau")(classmethod(lambda cls, v: _check_taalniveau(v)))

    @model_validator(mode="after")
    def _hours(self) -> Self:
        _check_hours(self.uren_min, self.uren_max)
        return self


class VacancyIn(Schema):
    """A vacancy as it comes in from WSP or Scalabor."""

    vacature_nummer: str
    bron: Bron
    werkgever: str = Field(min_length=1, max_length=200)
    titel: str = Field(min_length=1, max_length=200)
    beroep_code: str | None = None
    beroep_label: str | None = None
    omschrijving: str = Field("", max_length=8000)
    postcode: str
    uren_min: int = Field(0, ge=0, le=60)
    uren_max: int = Field(40, ge=1, le=60)
    werktijden: list[Werktijd] = [Werktijd.DAG]
    belasting: list[Belasting] = []
    competenties_vereist: list[Competentie] = []
    competenties_gewenst: list[Competentie] = []
    certificaten: list[str] = []
    taalniveau: str | None = None
    rijbewijs: list[Rijbewijs] = []
    plaatsingsvorm: Plaatsingsvorm = Plaatsingsvorm.REGULIER
    jobcoach: bool = False
    jobcarving: bool = False
    aantal_plaatsen: int = Field(1, ge=1, le=500)
    status: VacancyStatus = VacancyStatus.OPEN
    sluitingsdatum: date | None = None

    @field_validator("vacature_nummer")
    @classmethod
    def _external_id(cls, value: str) -> str:
        if not EXTERNAL_ID.match(value):
            raise ValueError("vacaturenummer mag alleen letters, cijfers, '-', '_' en '.' bevatten (max. 64 tekens)")
        return value

    _postcode = field_validator("postcode")(classmethod(lambda cls, v: _check_postcode(v)))
    _taal = field_validator("taalniveau")(classmethod(lambda cls, v: _check_taalniveau(v)))

    @model_validator(mode="after")
    def _hours(self) -> Self:
        _check_hours(self.uren_min, self.uren_max)
        return self


def _json_column() -> Any:
    return SQLField(default_factory=list, sa_column=Column(JSON, nullable=False))


class Client(SQLModel, table=True):
    """A stored client profile. Nested fields are JSON, validated by :class:`ClientIn` on the way in."""

    id: int | None = SQLField(default=None, primary_key=True)
    client_nummer: str = SQLField(index=True, unique=True)
    consulent: str = SQLField(index=True)
    trede: int
    route: str
    postcode: str
    competenties: list[dict[str, Any]] = _json_column()
    werkervaring: list[dict[str, Any]] = _json_column()
    opleidingsniveau: str | None = None
    taalniveau: str | None = None
    certificaten: list[str] = _json_column()
    rijbewijs: list[str] = _json_column()
    vervoermiddel: list[str] = _json_column()
    uren_min: int
    uren_max: int
    beschikbaar_per: date | None = None
    wensen: dict[str, Any] = SQLField(default_factory=dict, sa_column=Column(JSON, nullable=False))
    beperkingen: list[dict[str, Any]] = _json_column()
    zelfbeschrijving: str = ""
    notities: str = ""
    updated_at: datetime = SQLField(default_factory=utcnow, index=True)

    @property
    def pc4(self) -> str:
        return self.postcode[:4]

    def missing_fields(self) -> list[str]:
        """Dutch names of profile fields that are empty: shown to consulenten, never silently imputed."""
        checks = {
            "competenties": bool(self.competenties),
            "werkervaring": bool(self.werkervaring),
            "opleidingsniveau": self.opleidingsniveau is not None,
            "taalniveau": self.taalniveau is not None,
            "gewenste beroepen": bool(self.wensen.get("beroepen")),
            "gewenste sectoren": bool(self.wensen.get("sectoren")),
            "maximale reisafstand": self.wensen.get("maxReisafstandKm") is not None
            or self.wensen.get("maxReistijdMin") is not None,
            "vervoermiddel": bool(self.vervoermiddel),
        }
        return [name for name, present in checks.items() if not present]


class ClientPersonalia(SQLModel, table=True):
    """Name and contact of a client: never rendered to text, embedded, indexed or used as a feature."""

    __tablename__ = "client_personalia"

    client_id: int = SQLField(foreign_key="client.id", primary_key=True, ondelete="CASCADE")
    voornaam: str = ""
    achternaam: str = ""
    email: str | None = None
    telefoon: str | None = None


class AuditKenmerken(SQLModel, table=True):
    """Protected attributes, kept only for fairness audits. Never a feature, never in text or indexes."""

    __tablename__ = "audit_kenmerken"

    client_id: int = SQLField(foreign_key="client.id", primary_key=True, ondelete="CASCADE")
    geslacht: str | None = None
    geboortejaar: int | None = None
    migratieachtergrond: str | None = None


class Vacancy(SQLModel, table=True):
    id: int | None = SQLField(default=None, primary_key=True)
    vacature_nummer: str = SQLField(index=True, unique=True)
    bron: str = SQLField(index=True)
    werkgever: str
    titel: str
    beroep_code: str | None = SQLField(default=None, index=True)
    beroep_label: str | None = None
    omschrijving: str = ""
    postcode: str
    uren_min: int
    uren_max: int
    werktijden: list[str] = _json_column()
    belasting: list[dict[str, Any]] = _json_column()
    competenties_vereist: list[dict[str, Any]] = _json_column()
    competenties_gewenst: list[dict[str, Any]] = _json_column()
    certificaten: list[str] = _json_column()
    taalniveau: str | None = None
    rijbewijs: list[str] = _json_column()
    plaatsingsvorm: str
    jobcoach: bool = False
    jobcarving: bool = False
    aantal_plaatsen: int = 1
    status: str = SQLField(default=VacancyStatus.OPEN.value, index=True)
    sluitingsdatum: date | None = None
    updated_at: datetime = SQLField(default_factory=utcnow, index=True)

    @property
    def pc4(self) -> str:
        return self.postcode[:4]

    @property
    def is_open(self) -> bool:
        return self.status == VacancyStatus.OPEN.value


class EmbeddingCache(SQLModel, table=True):
    """Vectors by (model, content hash): an unchanged text is never embedded twice."""

    __tablename__ = "embedding_cache"
    __table_args__ = (UniqueConstraint("model_id", "content_hash"),)

    id: int | None = SQLField(default=None, primary_key=True)
    model_id: str = SQLField(index=True)
    content_hash: str
    vector: bytes


def client_from_input(data: ClientIn) -> dict[str, Any]:
    """Column values for a :class:`Client` row from a validated input (JSON-ready nested fields)."""
    values = data.model_dump(mode="json", by_alias=False)
    values["wensen"] = data.wensen.model_dump(mode="json", by_alias=True)
    for key in ("competenties", "werkervaring", "beperkingen"):
        values[key] = [item.model_dump(mode="json", by_alias=True, exclude_none=True) for item in getattr(data, key)]
    values["trede"] = int(data.trede)
    values["beschikbaar_per"] = data.beschikbaar_per
    return values


def vacancy_from_input(data: VacancyIn) -> dict[str, Any]:
    """Column values for a :class:`Vacancy` row from a validated input."""
    values = data.model_dump(mode="json", by_alias=False)
    for key in ("belasting", "competenties_vereist", "competenties_gewenst"):
        values[key] = [item.model_dump(mode="json", by_alias=True, exclude_none=True) for item in getattr(data, key)]
    values["sluitingsdatum"] = data.sluitingsdatum
    return values
