"""Operations: readiness, /metrics, the JSON access log, body limits and the per-user rate limit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session

from api.access_log import ACCESS_LOGGER
from api.app import create_app
from api.limits import TokenBuckets
from api.ops import Operations
from matching.matcher import Matcher
from matching.settings import OpsSettings, Settings
from tests.factories import app_settings, logins, make_client, make_vacancy, running_app

SEARCH = "/api/v1/matches/kandidaten"
BODY = {"vacatureId": "V-OPS", "top": 5}
LOOPBACK = ("127.0.0.1", 50000)  # the address a scraper on the same machine comes from
SMALL = OpsSettings(
    max_body_bytes=2000,
    body_limits={"*/import": 5000},
    rate_per_minute=60,  # one token a second
    rate_burst=3,
)


class FakeClock:
    """A monotonic clock that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def ops_settings(data_dir: Path, **ops: object) -> Settings:
    return app_settings(data_dir, ops=SMALL.model_copy(update=ops))


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[TestClient]:
    def records(session: Session) -> None:
        make_client(session, client_nummer="K-OPS", consulent="wc-a")
        make_vacancy(session, vacature_nummer="V-OPS")

    # From the loopback address, as a scraper on the same machine: /metrics answers nobody else by default.
    settings = ops_settings(tmp_path_factory.mktemp("ops") / "var")
    with running_app(settings, embedder, records, client=LOOPBACK) as client:
        yield client


@pytest.fixture(scope="module")
def tokens(http: TestClient) -> dict[str, dict[str, str]]:
    return logins(http, "consulent1", "accountmanager")


@pytest.fixture
def clock(http: TestClient) -> FakeClock:
    """Fresh, full buckets for every test, on a clock the test moves."""
    fake = FakeClock()
    ops: Operations = http.app.state.ops
    ops.limiter = TokenBuckets(ops.ops.rate_per_minute, ops.ops.rate_burst, clock=fake)
    return fake


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text exposition, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


# ---------------------------------------------------------------------------------------------- readiness
def test_readiness_names_the_ranker_and_the_indexes_that_serve(http: TestClient) -> None:
    response = http.get("/api/v1/gereedheid")
    assert response.status_code == 200, response.text
    body = response.json()
    matcher = http.app.state.matcher
    assert body["status"] == "gereed" and body["database"] == "bereikbaar"
    ranker = matcher.ranker_status()
    assert (body["rangschikker"]["naam"], body["rangschikker"]["versie"]) == (ranker["name"], ranker["version"])
    assert body["rangschikker"]["naam"]  # the shipped baseline at least
    assert body["embedding"] == {"model": matcher.embedder.model_id, "dimensie": matcher.embedder.dimension} | {
        "status": "klaar"
    }
    assert body["indexen"]["klanten"]["database"] == body["indexen"]["klanten"]["geindexeerd"] == 1
    assert (
        body["indexen"]["vacatures"]["actueel"]
        and body["indexen"]["vacatures"]["modelId"] == body["embedding"]["model"]
    )
    assert http.get("/api/v1/health").status_code == 200  # liveness is still there


def test_readiness_is_503_while_the_indexes_load(http: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Matcher, "prepared", property(lambda _self: False))
    response = http.get("/api/v1/gereedheid")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["Retry-After"] == "10"
    assert response.json()["checks"] == {"database": "bereikbaar", "indexen": "niet geladen"}
    assert "worden nog geladen" in response.json()["detail"]


def test_readiness_is_503_when_the_database_is_gone(tmp_path: Path, embedder) -> None:
    settings = ops_settings(tmp_path / "var")
    matcher = Matcher(settings, embedder=embedder)
    with Session(matcher.engine) as session:
        make_vacancy(session, vacature_nummer="V-WEG")
    with TestClient(create_app(settings, matcher)) as http:
        assert matcher.wait_embedded(timeout=120)
        assert http.get("/api/v1/gereedheid").status_code == 200
        matcher.engine.dispose()
        for file in (tmp_path / "var").glob("werkmatch.db*"):
            file.unlink()  # SQLite opens a new, empty file in its place: no client table
        http.app.state.ops.database.check()  # what its thread does every ops.status_seconds
        response = http.get("/api/v1/gereedheid")
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == 503 and problem["title"] == "Niet gereed"
        assert problem["checks"] == {"database": "onbereikbaar"}
        assert "De database antwoordt niet" in problem["detail"] and "WERKMATCH_DATABASE_URL" in problem["detail"]


# ---------------------------------------------------------------------------------------------- metrics
def test_metrics_count_per_route_template_and_match_kind(http: TestClient, tokens, clock) -> None:
    assert http.post(SEARCH, json=BODY, headers=tokens["consulent1"]).status_code == 200
    assert http.post(SEARCH, json=BODY, headers=tokens["accountmanager"]).status_code == 200
    assert http.get("/api/v1/onbekend-pad/V-GEHEIM-77?klant=K-OPS").status_code == 404  # no route: no raw path label
    response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    by_route = frozenset({("method", "POST"), ("route", SEARCH), ("status", "200")})
    assert found[("werkmatch_http_requests_total", by_route)] >= 2
    assert found[("werkmatch_match_requests_total", frozenset({("kind", "kandidaten"), ("status", "200")}))] >= 2
    assert found[("werkmatch_http_request_duration_seconds_count", by_route - {("status", "200")})] >= 2
    unmatched = frozenset({("method", "GET"), ("route", "onbekend"), ("status", "404")})
    assert found[("werkmatch_http_requests_total", unmatched)] >= 1
    assert "V-GEHEIM" not in response.text and "K-OPS" not in response.text and "V-OPS" not in response.text
    ranker = http.app.state.matcher.ranker_status()
    info = {
        dict(labels)["version"]: value for (name, labels), value in found.items() if name == "werkmatch_ranker_info"
    }
    assert info == {str(ranker["version"] or ""): 1.0}
    assert found[("werkmatch_indexes_loaded", frozenset())] == 1.0


def test_metrics_are_not_in_the_public_openapi_document(http: TestClient) -> None:
    paths = http.get("/api/v1/openapi.json").json()["paths"]
    assert not [path for path in paths if path.endswith("/metrics")]
    readiness = next(spec for path, spec in paths.items() if path.endswith("/gereedheid"))  # relative to servers
    assert "503" in readiness["get"]["responses"]


def test_metrics_can_be_restricted_to_the_scrapers_network(tmp_path: Path) -> None:
    app = create_app(ops_settings(tmp_path / "var", metrics_allow=["10.0.0.0/8"]))  # no lifespan needed
    assert TestClient(app, client=("10.1.2.3", 40000)).get("/metrics").status_code == 200
    refused = TestClient(app, client=("192.168.1.5", 40000)).get("/metrics")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert "ops.metrics_allow" in refused.json()["detail"]


# ---------------------------------------------------------------------------------------------- access log
def access_lines(err: str) -> list[dict]:
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("logger") == ACCESS_LOGGER]


def test_one_json_line_per_request_without_body_or_query(http: TestClient, tokens, clock, capsys) -> None:
    capsys.readouterr()
    body = {"vacatureId": "V-OPS", "top": 5, "doel": "gesprek met mevrouw Jansen"}
    response = http.post(f"{SEARCH}?bsn=123456782", json=body, headers=tokens["consulent1"])
    assert response.status_code == 200, response.text
    anonymous = http.post(SEARCH, json=BODY)
    assert anonymous.status_code == 401
    err = capsys.readouterr().err
    lines = access_lines(err)
    line = next(item for item in lines if item["requestId"] == response.headers["X-Request-ID"])
    assert line["method"] == "POST" and line["route"] == SEARCH and line["status"] == 200
    assert line["user"] == "consulent1" and line["level"] == "INFO"
    assert isinstance(line["durationMs"], float) and line["durationMs"] >= 0
    assert line["time"].endswith("+00:00")
    refused = next(item for item in lines if item["requestId"] == anonymous.headers["X-Request-ID"])
    assert refused["status"] == 401 and refused["user"] is None
    for secret in ("123456782", "bsn", "Jansen", "V-OPS", "Bearer"):
        assert secret not in err


# ---------------------------------------------------------------------------------------------- body limit
def test_a_body_over_the_content_length_limit_is_a_dutch_413(http: TestClient, tokens, clock) -> None:
    padded = json.dumps({**BODY, "doel": "x" * 3000})
    response = http.post(SEARCH, content=padded, headers={**tokens["consulent1"], "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Verzoek te groot" and "2.000 bytes" in response.json()["detail"]
    assert response.headers["X-Request-ID"]


def test_a_chunked_body_over_the_limit_is_a_413(http: TestClient, tokens, clock) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"vacatureId": "V-OPS", "doel": "'
        yield b"x" * 3000
        yield b'"}'

    response = http.post(SEARCH, content=chunks(), headers={**tokens["consulent1"], "Content-Type": "application/json"})
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    assert response.status_code == 413 and response.json()["status"] == 413


def test_a_streamed_body_is_cut_off_at_the_limit_not_read_to_the_end(tmp_path: Path) -> None:
    app = create_app(ops_settings(tmp_path / "var"))
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(50):  # 50 kB in 1 kB chunks against a limit of 2,000 bytes
            pulled += 1
            yield b"x" * 1000

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://werkmatch") as client:
            return await client.post(SEARCH, content=body(), headers={"Content-Type": "application/json"})

    response = asyncio.run(post())
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert pulled == 3  # the third kilobyte passed the limit; the other 47 were never read


def test_import_routes_have_their_own_larger_limit(http: TestClient, tokens, clock) -> None:
    ops: Operations = http.app.state.ops
    assert ops.body_limit("/api/v1/klanten/import") == 5000
    assert ops.body_limit(SEARCH) == 2000
    big = b"x" * 3000  # over the default, under the import limit: the request reaches the app (no such route)
    assert http.post("/api/v1/bestaat-niet/import", content=big, headers=tokens["consulent1"]).status_code == 404
    assert (
        http.post("/api/v1/bestaat-niet/import", content=b"x" * 6000, headers=tokens["consulent1"]).status_code == 413
    )


# ---------------------------------------------------------------------------------------------- rate limit
def test_searches_past_the_burst_get_429_per_user(http: TestClient, tokens, clock: FakeClock) -> None:
    for _ in range(3):
        assert http.post(SEARCH, json=BODY, headers=tokens["consulent1"]).status_code == 200
    refused = http.post(SEARCH, json=BODY, headers=tokens["consulent1"])
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["title"] == "Te veel verzoeken" and "60 per minuut" in refused.json()["detail"]
    assert refused.headers["X-Request-ID"]
    # another user has a bucket of their own; other routes are not limited
    assert http.post(SEARCH, json=BODY, headers=tokens["accountmanager"]).status_code == 200
    assert http.get("/api/v1/gereedheid", headers=tokens["consulent1"]).status_code == 200
    assert http.post(SEARCH, json=BODY, headers=tokens["consulent1"]).status_code == 429  # still empty
    clock.advance(1.0)
    assert http.post(SEARCH, json=BODY, headers=tokens["consulent1"]).status_code == 200
    assert http.post(SEARCH, json=BODY, headers=tokens["consulent1"]).status_code == 429
    found = samples(http.get("/metrics").text)
    assert found[("werkmatch_requests_refused_total", frozenset({("reason", "te_veel"), ("route", SEARCH)}))] >= 3


def test_without_a_token_the_client_address_is_limited(http: TestClient, clock: FakeClock) -> None:
    statuses = [http.post(SEARCH, json=BODY).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert http.post("/api/v1/audit/zoeken", json={}).status_code == 429  # every */zoeken shares the bucket


def test_web_candidate_lists_share_the_users_search_bucket_and_log_the_user(
    http: TestClient, tokens, clock: FakeClock, capsys
) -> None:
    web = TestClient(http.app)  # its own cookie jar: the web UI's session, not the bearer header
    login_page = web.post(
        "/inloggen", data={"gebruikersnaam": "consulent1", "wachtwoord": "consulent1-demo-wachtwoord"}
    )
    assert login_page.status_code == 200 and login_page.url.path == "/vacatures"
    capsys.readouterr()
    assert http.post(SEARCH, json=BODY, headers=tokens["consulent1"]).status_code == 200  # one API search
    assert [web.get("/vacatures/V-OPS").status_code for _ in range(2)] == [200, 200]  # then two on the page
    refused = web.get("/vacatures/V-OPS")  # the burst (3) is spent across API and web together
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert refused.headers["content-type"].startswith("text/html") and "Te veel verzoeken" in refused.text
    assert http.post(SEARCH, json=BODY, headers=tokens["consulent1"]).status_code == 429
    assert web.get("/vacatures").status_code == 200  # the vacancy overview is no candidate search
    lines = [line for line in access_lines(capsys.readouterr().err) if line["route"].startswith("/vacatures")]
    assert lines and all(line["user"] == "consulent1" for line in lines)  # the user of the session cookie
    assert [line["status"] for line in lines if line["route"] == "/vacatures/{nummer}"] == [200, 200, 429]


def test_token_buckets_refill_at_the_rate_up_to_the_burst() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(per_minute=30, burst=2, clock=clock)  # a token every 2 s
    assert [buckets.take("a"), buckets.take("a")] == [0.0, 0.0]
    assert buckets.take("a") == pytest.approx(2.0)
    clock.advance(1.0)
    assert buckets.take("a") == pytest.approx(1.0)  # half a token back
    clock.advance(1.0)
    assert buckets.take("a") == 0.0
    assert buckets.take("b") == 0.0  # keys are independent
    clock.advance(3600)
    assert [buckets.take("a"), buckets.take("a"), buckets.take("a") > 0] == [0.0, 0.0, True]  # capped at the burst


def test_token_buckets_forget_full_buckets_when_there_are_too_many() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(per_minute=60, burst=1, clock=clock, max_keys=2)
    buckets.take("a")
    buckets.take("b")
    clock.advance(5)  # a and b are full again
    buckets.take("c")
    assert set(buckets._buckets) == {"c"}


def test_route_templates_come_from_included_routers_with_their_parameters(tmp_path: Path) -> None:
    from fastapi import APIRouter, FastAPI

    router = APIRouter()

    @router.get("/api/v1/dossiers/{dossier_id}/stukken")
    def stukken(dossier_id: str) -> dict[str, str]:
        return {}

    app = FastAPI()
    app.include_router(router)
    ops = Operations(app, ops_settings(tmp_path / "var"))

    def scope(method: str, path: str) -> dict:
        return {"type": "http", "method": method, "path": path, "root_path": ""}

    assert (
        ops.route_template(scope("GET", "/api/v1/dossiers/K0000042/stukken")) == "/api/v1/dossiers/{dossier_id}/stukken"
    )
    assert (
        ops.route_template(scope("POST", "/api/v1/dossiers/K0000042/stukken"))
        == "/api/v1/dossiers/{dossier_id}/stukken"
    )
    assert ops.route_template(scope("GET", "/api/v1/dossiers/K0000042")) is None
