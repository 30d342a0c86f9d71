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

import difflib
import re
from collections.abc import Callable, Collection
from datetime import UTC, date, datetime
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from matching import geo, pii, tenancy
from matching.errors import UNPRINTABLE, printable
from matching.taxonomy import load_taxonomy
from matching.vocab import (
    ASPECTS,
    SECTOREN,
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

# At most this many items in any list of a profile or vacancy. The longest list in the 9,000 demo
# profiles holds 12 items; an audit's single POST with 3,000 unique competence codes (108 KB) was
# accepted and then stalled every candidate search for 46 s (20,000 codes: 159 s, /health silent).
MAX_ITEMS = 50
# Dates a profile or vacancy may carry (beschikbaarPer, sluitingsdatum): year 1 or 9999 is a typo,
# and one day past 9999-12-31 overflows every date computation that follows.
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2100, 12, 31)
# Characters allowed in text although UNPRINTABLE matches them: tab and line breaks.
_WHITESPACE = "\t\n\r"


def utcnow() -> datetime:
    return datetime.now(UTC)


def _quoted(value: str) -> str:
    """A sender's value in a message: quoted, shortened, never unprintable."""
    return "'" + printable(value if len(value) <= 40 else value[:37] + "...") + "'"


def _printable(text: str) -> None:
    for found in UNPRINTABLE.finditer(text):
        if found.group() not in _WHITESPACE:
            raise ValueError(
                f"bevat een onzichtbaar stuurteken (U+{ord(found.group()):04X}) dat niet in tekst hoort; verwijder het"
            )


def _known(what: str, codes: Callable[[], Collection[str]], source: str) -> Callable[[str], str]:
    """A validator that refuses a code outside a vocabulary, naming the code and where the codes are."""

    def check(value: str) -> str:
        known = codes()
        if value in known:
            return value
        close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.8)
        hint = f"bedoelt u '{close[0]}'? " if close else ""
        raise ValueError(f"onbekende {what} {_quoted(value)}; {hint}{source}")

    return check


def in_date_range(value: date | None) -> date | None:
    """``value`` unchanged when it lies in 1900–2100; otherwise a Dutch ``ValueError``."""
    if value is not None and not DATE_MIN <= value <= DATE_MAX:
        raise ValueError(
            f"{value.isoformat()} ligt buiten {DATE_MIN.year}–{DATE_MAX.year}; vul een datum in als 2025-03-01"
        )
    return value


def _free_text(kinds: tuple[str, ...]) -> Callable[[str | None], str | None]:
    def check(value: str | None) -> str | None:
        return None if value is None else pii.refuse_identifiers(value, kinds)

    return check


_CODE = Field(min_length=1, max_length=80)
CompetenceCode = Annotated[
    str,
    _CODE,
    AfterValidator(_known("competentiecode", lambda: load_taxonomy().competences, "zie data/competenties.csv")),
]
OccupationCode = Annotated[
    str, _CODE, AfterValidator(_known("beroepcode", lambda: load_taxonomy().occupations, "zie data/beroepen.csv"))
]
CertificateCode = Annotated[
    str,
    _CODE,
    AfterValidator(_known("certificaatcode", lambda: load_taxonomy().certificates, "zie data/certificaten.csv")),
]
SectorCode = Annotated[
    str, _CODE, AfterValidator(_known("sector", lambda: SECTOREN, "kies uit: " + ", ".join(SECTOREN)))
]
Datum = Annotated[date, AfterValidator(in_date_range)]
# A client's free text: no BSN, phone number or e-mail address (personalia have their own table).
ClientText = Annotated[str, AfterValidator(_free_text((pii.BSN, pii.TELEFOON, pii.EMAIL)))]


def _printable_text(value: str) -> str:
    _printable(value)
    return value


# A note the API takes beside a record (a voorstel's or an afwijzing's toelichting, a push's note): printable,
# and like a client's free text without BSN, phone number or e-mail address (it sits next to a client).
Note = Annotated[str, AfterValidator(_printable_text), AfterValidator(_free_text((pii.BSN, pii.TELEFOON, pii.EMAIL)))]
# A vacancy's text may name the employer's phone number or e-mail (published on purpose); never a BSN.
VacancyText = Annotated[str, AfterValidator(_free_text((pii.BSN,)))]


def _items(default: list[Any] | None = None) -> Any:
    """A list field of at most :data:`MAX_ITEMS` items."""
    return Field(default if default is not None else [], max_length=MAX_ITEMS)


class Schema(BaseModel):
    """Base of every input schema: camelCase JSON, snake_case Python, unknown fields refused."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", str_strip_whitespace=True
    )

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        """NUL and other control characters, bidi overrides and lone surrogates are refused in every text."""
        if isinstance(value, str):
            _printable(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    _printable(item)
        return value


class Competentie(Schema):
    code: CompetenceCode
    label: str | None = Field(None, max_length=200)
    esco_uri: str | None = Field(None, max_length=300)
    niveau: int = Field(2, ge=1, le=3, description="1 beginner, 2 ervaren, 3 zeer ervaren")


class Werkervaring(Schema):
    beroep_code: OccupationCode
    beroep_label: str | None = Field(None, max_length=200)
    jaren: float = Field(ge=0, le=60)


class Wensen(Schema):
    beroepen: list[OccupationCode] = _items()
    sectoren: list[SectorCode] = _items()
    max_reisafstand_km: float | None = Field(None, gt=0, le=250)
    max_reistijd_min: int | None = Field(None, gt=0, le=240)
    werktijden_uitgesloten: list[Werktijd] = Field(
        [], max_length=MAX_ITEMS, description="werktijden die de klant niet kan of wil, bijv. nacht of weekend"
    )
    plaatsingsvormen: list[Plaatsingsvorm] = _items()


class Beperking(Schema):
    """A limitation on one aspect of work, in the same vocabulary as vacancy demands."""

    aspect: str = Field(max_length=80)
    ernst: int = Field(ge=1, le=3, description="1 licht, 2 matig, 3 ernstig")
    categorie: BeperkingCategorie | None = None
    toelichting: ClientText | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _aspect_known(self) -> Self:
        if self.aspect not in ASPECTS:
            raise ValueError(f"onbekend aspect {_quoted(self.aspect)} bij beperking; kies uit: {', '.join(ASPECTS)}")
        expected = ASPECTS[self.aspect][0]
        if self.categorie is None:
            self.categorie = expected
        elif self.categorie != expected:
            raise ValueError(f"aspect '{self.aspect}' hoort bij categorie '{expected}', niet '{self.categorie}'")
        return self


class Belasting(Schema):
    """How much a vacancy demands of one aspect of work (niveau 1 laag … 3 hoog)."""

    aspect: str = Field(max_length=80)
    niveau: int = Field(ge=1, le=3)

    @field_validator("aspect")
    @classmethod
    def _aspect_known(cls, value: str) -> str:
        if value not in ASPECTS:
            raise ValueError(f"onbekend aspect {_quoted(value)}; kies uit: {', '.join(ASPECTS)}")
        return value


class _PlaceHoursLanguage(Schema):
    """What a client and a vacancy check alike: a postcode that exists, a known taalniveau, urenMin ≤ urenMax."""

    @field_validator("postcode", check_fields=False)
    @classmethod
    def _postcode(cls, value: str) -> str:
        normalised = geo.normalise_postcode(value)
        if normalised is None:
            raise ValueError(f"{_quoted(value)} is geen geldige postcode; gebruik 4 cijfers, eventueel met 2 letters")
        if not geo.pc4_exists(normalised[:4]):
            raise ValueError(f"postcode {_quoted(value)} bestaat niet (onbekend postcodegebied {normalised[:4]})")
        return normalised

    @field_validator("taalniveau", check_fields=False)
    @classmethod
    def _taal(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.upper()
        if value not in TAALNIVEAUS:
            raise ValueError(f"onbekend taalniveau {_quoted(value)}; kies uit {', '.join(TAALNIVEAUS)}")
        return value

    @model_validator(mode="after")
    def _hours(self) -> Self:
        uren_min, uren_max = self.uren_min, self.uren_max  # type: ignore[attr-defined]
        if uren_min > uren_max:
            raise ValueError(f"urenMin ({uren_min}) is groter dan urenMax ({uren_max})")
        return self


Gemeente = Annotated[str, Field(max_length=tenancy.NAME_MAX), AfterValidator(tenancy.gemeente_name)]


class ClientIn(_PlaceHoursLanguage):
    """A client profile as it comes in (import, API). Missing optional fields are allowed: incomplete ≠ invalid."""

    client_nummer: str = Field(alias="klantNummer", description="pseudoniem klantnummer, nooit een BSN")
    consulent: str = Field(min_length=1, max_length=80)
    gemeente: Gemeente | None = Field(
        None, description="gemeente van de klant; leeg: de gemeente van deze installatie (WERKMATCH_GEMEENTE)"
    )
    trede: Trede
    route: Route
    postcode: str = Field(max_length=12)
    competenties: list[Competentie] = _items()
    werkervaring: list[Werkervaring] = _items()
    opleidingsniveau: Opleidingsniveau | None = None
    taalniveau: str | None = Field(None, max_length=10)
    certificaten: list[CertificateCode] = _items()
    rijbewijs: list[Rijbewijs] = _items()
    vervoermiddel: list[Vervoermiddel] = _items()
    uren_min: int = Field(0, ge=0, le=60)
    uren_max: int = Field(40, ge=1, le=60)
    beschikbaar_per: Datum | None = None
    wensen: Wensen = Wensen()
    beperkingen: list[Beperking] = _items()
    zelfbeschrijving: ClientText = Field("", max_length=4000)
    notities: ClientText = Field("", max_length=4000)

    @field_validator("client_nummer")
    @classmethod
    def _pseudonymous(cls, value: str) -> str:
        if BSN_LIKE.match(value):
            raise ValueError("klantnummer lijkt op een BSN (9 cijfers); gebruik het pseudonieme klantnummer")
        if not EXTERNAL_ID.match(value):
            raise ValueError("klantnummer mag alleen letters, cijfers, '-', '_' en '.' bevatten (max. 64 tekens)")
        return value


class VacancyIn(_PlaceHoursLanguage):
    """A vacancy as it comes in from WSP or Scalabor."""

    vacature_nummer: str
    bron: Bron
    gemeente: Gemeente | None = Field(None, description="gemeente van een Scalabor-vacature; leeg: de hele regio (WSP)")
    werkgever: VacancyText = Field(min_length=1, max_length=200)
    titel: VacancyText = Field(min_length=1, max_length=200)
    beroep_code: OccupationCode | None = None
    beroep_label: VacancyText | None = Field(None, max_length=200)
    omschrijving: VacancyText = Field("", max_length=8000)
    postcode: str = Field(max_length=12)
    uren_min: int = Field(0, ge=0, le=60)
    uren_max: int = Field(40, ge=1, le=60)
    werktijden: list[Werktijd] = _items([Werktijd.DAG])
    belasting: list[Belasting] = _items()
    competenties_vereist: list[Competentie] = _items()
    competenties_gewenst: list[Competentie] = _items()
    certificaten: list[CertificateCode] = _items()
    taalniveau: str | None = Field(None, max_length=10)
    rijbewijs: list[Rijbewijs] = _items()
    plaatsingsvorm: Plaatsingsvorm = Plaatsingsvorm.REGULIER
    jobcoach: bool = False
    jobcarving: bool = False
    aantal_plaatsen: int = Field(1, ge=1, le=500)
    status: VacancyStatus = VacancyStatus.OPEN
    sluitingsdatum: Datum | None = None

    @field_validator("vacature_nummer")
    @classmethod
    def _external_id(cls, value: str) -> str:
        if not EXTERNAL_ID.match(value):
            raise ValueError("vacaturenummer mag alleen letters, cijfers, '-', '_' en '.' bevatten (max. 64 tekens)")
        return value


def _json_column() -> Any:
    return SQLField(default_factory=list, sa_column=Column(JSON, nullable=False))


class Client(SQLModel, table=True):
    """A stored client profile. Nested fields are JSON, validated by :class:`ClientIn` on the way in."""

    id: int | None = SQLField(default=None, primary_key=True)
    client_nummer: str = SQLField(index=True, unique=True)
    consulent: str = SQLField(index=True)
    # The tenant: on PostgreSQL row-level security shows a row only in its gemeente's transactions (matching.tenancy).
    gemeente: str = SQLField(default_factory=tenancy.home, max_length=tenancy.NAME_MAX, index=True)
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
    gemeente: str | None = SQLField(default=None, max_length=tenancy.NAME_MAX, index=True)  # None: the region (WSP)
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
    if values["gemeente"] is None:  # new: this installation's gemeente (the column default); stored: unchanged
        del values["gemeente"]
    return values


def vacancy_from_input(data: VacancyIn) -> dict[str, Any]:
    """Column values for a :class:`Vacancy` row from a validated input."""
    values = data.model_dump(mode="json", by_alias=False)
    for key in ("belasting", "competenties_vereist", "competenties_gewenst"):
        values[key] = [item.model_dump(mode="json", by_alias=True, exclude_none=True) for item in getattr(data, key)]
    values["sluitingsdatum"] = data.sluitingsdatum
    return values
