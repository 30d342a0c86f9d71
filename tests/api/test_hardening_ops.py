"""Issue 15, the service under load and what it shows anonymously.

* ``/health`` and ``/gereedheid`` answer while searches hold the matcher (they used to wait behind
  every running search: 45 s at 32 users);
* at most ``ops.search_concurrency`` searches run at once, the rest wait without a thread;
* security headers on every answer, a docs page whose own inline script is the only one allowed;
* no server file path in anonymous ``/health``, ``/gereedheid``, ``/metrics`` or in ``rankedBy``;
* ``/metrics`` only from the loopback address unless ``ops.metrics_allow`` lists a network;
* the database file (and its ``-wal``/``-shm``) mode 0600, a new data directory 0700.
"""

from __future__ import annotations

import base64
import hashlib
import re
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlmodel import Session

from api.app import create_app
from api.ops import CSP
from api.services.status import without_paths
from matching import store
from matching.matcher import Matcher
from matching.settings import OpsSettings, RankerSettings, Settings
from tests.factories import app_settings, login, make_client, make_vacancy, running_app

SEARCH = "/api/v1/matches/kandidaten"
LOOPBACK = ("127.0.0.1", 50000)
HOLD_S = 60  # how long a test holds the matcher at most; a probe that waits for it fails the test


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[TestClient]:
    settings = app_settings(
        tmp_path_factory.mktemp("hardening") / "var",
        ops=OpsSettings(search_concurrency=1, rate_per_minute=1e6, rate_burst=1000, access_log=False),
    )

    def records(session: Session) -> None:
        make_client(session, client_nummer="K-HARD", consulent="wc-a")
        make_vacancy(session, vacature_nummer="V-HARD")

    with running_app(settings, embedder, records, client=LOOPBACK) as client:
        yield client


class HeldMatcher:
    """Holds the matcher's lock in another thread, as a long search does, until released (or ``HOLD_S``)."""

    def __init__(self, matcher: Matcher) -> None:
        self.taken, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold, args=(matcher,), daemon=True)

    def _hold(self, matcher: Matcher) -> None:
        with matcher.index.lock:  # what Matcher.search_candidates holds for the whole search
            self.taken.set()
            self.release.wait(HOLD_S)

    def __enter__(self) -> HeldMatcher:
        self.thread.start()
        self.taken.wait()
        return self

    @property
    def held(self) -> bool:
        return not self.release.is_set() and self.thread.is_alive()

    def __exit__(self, *_exc: object) -> None:
        self.release.set()
        self.thread.join()


def gauge(http: TestClient, name: str) -> float:
    families = text_string_to_metric_families(http.get("/metrics").text)
    return next(sample.value for family in families for sample in family.samples if sample.name == name)


# ---------------------------------------------------------------------------------------------- probes under load
def test_probes_answer_while_a_search_holds_the_matcher(http: TestClient) -> None:
    """Before: /health called Matcher.status, which waits for the lock every search holds."""
    with HeldMatcher(http.app.state.matcher) as search:
        health = http.get("/api/v1/health")
        ready = http.get("/api/v1/gereedheid")
        answered_while_held = search.held
    assert answered_while_held, "a probe waited for the running search"
    assert health.status_code == 200 and ready.status_code == 200, ready.text
    index = health.json()["index"]
    assert index["embedding"] == "klaar" and index["klanten"]["actueel"] and index["klanten"]["database"] == 1
    assert ready.json()["indexen"]["vacatures"] == index["vacatures"]


def test_waiting_searches_hold_no_thread_and_probes_still_answer(http: TestClient) -> None:
    """search_concurrency=1: one search runs (here: stuck on the held matcher), three wait in the event loop."""
    headers = login(http, "consulent1")
    answers: list[int] = []

    def search() -> None:
        answers.append(http.post(SEARCH, json={"vacatureId": "V-HARD", "top": 5}, headers=headers).status_code)

    with HeldMatcher(http.app.state.matcher) as held:
        workers = [threading.Thread(target=search) for _ in range(4)]
        for worker in workers:
            worker.start()
        for _ in range(600):  # the three others reach the slot's queue within a few ms
            if gauge(http, "werkmatch_searches_waiting") == 3:
                break
            time.sleep(0.1)
        waiting = gauge(http, "werkmatch_searches_waiting")
        health = http.get("/api/v1/health").status_code
        answered_while_held = held.held
    for worker in workers:
        worker.join()
    assert waiting == 3 and health == 200 and answered_while_held
    assert answers == [200] * 4
    assert gauge(http, "werkmatch_searches_waiting") == 0


# ---------------------------------------------------------------------------------------------- headers
@pytest.mark.parametrize(
    "path", ["/inloggen", "/api/v1/health", "/api/v1/bestaat-niet", "/vacatures", "/static/werkmatch.css"]
)
def test_every_answer_carries_the_security_headers(http: TestClient, path: str) -> None:
    response = http.get(path, follow_redirects=False)
    assert response.headers["Content-Security-Policy"] == CSP
    assert (
        "frame-ancestors 'none'" in CSP
        and "default-src 'self'" in CSP
        and "'unsafe-inline'" not in CSP.replace("style-src-attr 'unsafe-inline'", "")
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_refusals_of_the_middleware_carry_them_too(http: TestClient) -> None:
    too_large = http.post(SEARCH, content=b"x" * (2 * 1024 * 1024), headers={"Content-Type": "application/json"})
    assert too_large.status_code == 413 and too_large.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/inloggen", "/bestaat-niet"])
def test_the_web_pages_need_no_inline_script_or_style_element(http: TestClient, path: str) -> None:
    page = http.get(path).text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.DOTALL)
    assert scripts and page.count("<script") == len(scripts)  # static/werkmatch.js labels table cells on a phone
    for attributes, body in scripts:  # only files of this site ('self'), never code in the page
        assert re.search(r'\ssrc="/static/[\w.-]+\.js"', attributes) and not body.strip(), attributes
    assert "<style" not in page and not re.search(r"\son[a-z]+=", page)


def test_the_docs_page_may_run_its_own_inline_script_and_no_other(http: TestClient) -> None:
    response = http.get("/api/v1/docs")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    scripts = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert scripts  # Swagger UI is started by an inline script
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "https://cdn.jsdelivr.net" in script_src
    assert "frame-ancestors 'none'" in policy


# ---------------------------------------------------------------------------------------------- no paths
def test_anonymous_answers_and_ranked_lists_name_no_server_path(http: TestClient, tmp_path: Path) -> None:
    settings: Settings = http.app.state.settings
    baseline = settings.ranker.baseline_dir
    assert baseline is not None
    secret_paths = {str(settings.data_dir), str(settings.data_dir.resolve()), str(baseline), str(baseline.resolve())}
    listing = http.post(SEARCH, json={"vacatureId": "V-HARD", "top": 5}, headers=login(http, "consulent1"))
    assert listing.status_code == 200
    assert "bron" not in listing.json()["gerangschiktDoor"]
    answers = [listing.text]
    for path in ("/api/v1/health", "/api/v1/gereedheid", "/metrics"):
        response = http.get(path)
        assert response.status_code == 200, (path, response.text)
        answers.append(response.text)
    for answer in answers:
        for secret in secret_paths:
            assert secret not in answer


def test_a_ranker_error_is_shown_without_its_path(http: TestClient) -> None:
    matcher = http.app.state.matcher
    matcher.ranker_failed("geen ranker in /srv/werkmatch/var/models/7/artifacts/ranker: model.txt is nodig")
    try:
        error = http.get("/api/v1/health").json()["index"]["rangschikker"]["fout"]
    finally:
        matcher.use_ranker(matcher.ranker)  # clears the error
    assert error == "geen ranker in <pad>: model.txt is nodig"


def test_without_paths_leaves_words_urls_and_model_uris_alone() -> None:
    sentence = "uren/werktijden via models:/werkmatch-ranker@champion en https://example.nl/a/b in C:/data/x"
    assert (
        without_paths(sentence)
        == "uren/werktijden via models:/werkmatch-ranker@champion en https://example.nl/a/b in <pad>"
    )
    assert without_paths("in data/var/models/3 mislukt", ["data/var", "var"]) == "in <pad>/models/3 mislukt"
    assert without_paths("variabele in var") == "variabele in var"


# ---------------------------------------------------------------------------------------------- /metrics
@pytest.mark.parametrize(
    ("address", "status"), [("127.0.0.1", 200), ("::1", 200), ("192.168.1.5", 403), ("testclient", 403)]
)
def test_metrics_answer_only_the_loopback_address_by_default(tmp_path: Path, address: str, status: int) -> None:
    app = create_app(Settings(data_dir=tmp_path / "var", ranker=RankerSettings(poll_seconds=0)))  # no lifespan needed
    response = TestClient(app, client=(address, 40000)).get("/metrics")
    assert response.status_code == status
    if status == 403:
        assert response.headers["content-type"] == "application/problem+json"
        assert "WERKMATCH_OPS__METRICS_ALLOW" in response.json()["detail"]


# ---------------------------------------------------------------------------------------------- file modes
def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_and_its_wal_are_private_and_a_new_data_dir_too(tmp_path: Path) -> None:
    data_dir = tmp_path / "nieuw" / "var"
    engine = store.make_engine(f"sqlite:///{data_dir}/werkmatch.db")
    store.init_db(engine)
    with engine.connect() as connection:  # a write makes SQLite create -wal and -shm
        connection.execute(text("CREATE TABLE proef (x INTEGER)"))
        connection.execute(text("INSERT INTO proef VALUES (1)"))
        connection.commit()
        files = sorted(data_dir.glob("werkmatch.db*"))
        assert [file.name for file in files] == ["werkmatch.db", "werkmatch.db-shm", "werkmatch.db-wal"]
        assert {file.name: mode(file) for file in files} == {file.name: 0o600 for file in files}
    engine.dispose()
    assert mode(data_dir) == 0o700


def test_an_existing_world_readable_database_is_narrowed(tmp_path: Path) -> None:
    database = tmp_path / "werkmatch.db"
    engine = store.make_engine(f"sqlite:///{database}")
    store.init_db(engine)
    engine.dispose()
    database.chmod(0o644)  # as every install before this change made it
    store.make_engine(f"sqlite:///{database}").dispose()
    assert mode(database) == 0o600
    assert mode(tmp_path) == stat.S_IMODE(tmp_path.stat().st_mode)  # an existing directory is left as it was
