"""The HTTP API: health, both searches (logged in), problem+json errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import login, make_client, make_vacancy, running_app


@pytest.fixture
def client(settings, embedder) -> Iterator[TestClient]:
    def records(session: Session) -> None:
        make_client(session, client_nummer="K-API")
        make_vacancy(session, vacature_nummer="V-API")

    with running_app(settings, embedder, records, wait=False) as test_client:
        test_client.headers.update(login(test_client, "consulent1"))
        yield test_client


def test_health_reports_the_index(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.headers["API-Version"]
    assert response.json()["index"]["embedding"] in ("bezig", "klaar")
    assert client.app.state.matcher.wait_embedded(timeout=120)
    index = client.get("/api/v1/health").json()["index"]
    assert index["embedding"] == "klaar"
    assert index["klanten"]["actueel"] and index["klanten"]["teEmbedden"] == 0


def test_searches_return_explained_results(client: TestClient) -> None:
    response = client.post("/api/v1/matches/kandidaten", json={"vacatureId": "V-API", "top": 5})
    assert response.status_code == 200, response.text
    assert response.json()["resultaten"][0]["klantId"] == "K-API"
    response = client.post("/api/v1/matches/vacatures", json={"klantId": "K-API"})
    assert response.json()["resultaten"][0]["redenen"]


def test_errors_are_problem_json(client: TestClient) -> None:
    missing = client.post("/api/v1/matches/kandidaten", json={"vacatureId": "V-NIET"})
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert "bestaat niet" in missing.json()["detail"]
    invalid = client.post("/api/v1/matches/kandidaten", json={"vacatureId": "V-API", "top": 0})
    assert invalid.status_code == 400
    assert invalid.headers["content-type"] == "application/problem+json"
    assert invalid.json()["invalidParams"] == [{"name": "top", "reason": "moet minstens 1 zijn"}]
    assert client.get("/api/v1/health/").status_code == 404  # no trailing-slash redirect


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/api/v1/klanten/import", "POST"),  # Starlette said "Allow: GET" (of /klanten/{klantnummer})
        ("OPTIONS", "/api/v1/klanten/K-API", "DELETE, GET, PUT"),  # it said "GET" only, as JSON, not problem+json
        ("GET", "/api/v1/voorstellen/zoeken", "POST"),  # was a 400: read as GET /voorstellen/{voorstel_id}
        ("GET", "/api/v1/klanten/zoeken", "POST"),  # was a 404: read as klant 'zoeken'
        ("PUT", "/api/v1/zoekopdrachten/uitvoeren", "POST"),
    ],
)
def test_a_method_that_is_not_there_is_405_with_the_methods_of_that_path(client, method, path, allow) -> None:
    """Found by fuzzing the OpenAPI document (tests/api/test_fuzz_api.py): a literal path beats a template."""
    response = client.request(method, path)
    assert response.status_code == 405, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["Allow"] == allow
    assert response.json()["title"] == "Methode niet toegestaan"


@pytest.mark.parametrize(
    ("method", "template", "literal"),
    [
        ("get", "/vacatures/{vacaturenummer}", "/vacatures/import"),  # the fuzzer sent vacaturenummer "import"
        ("put", "/vacatures/{vacaturenummer}", "/vacatures/import"),
        ("delete", "/klanten/{klantnummer}", "/klanten/import"),
        ("get", "/voorstellen/{voorstel_id}", "/voorstellen/zoeken"),
    ],
)
def test_the_405_of_a_shadowed_template_is_documented(client, method, template, literal) -> None:
    """A number that spells a literal path (vacancy "import") gets that path's 405, and the document says so."""
    operation = client.app.openapi()["paths"][template][method]
    assert literal in operation["responses"]["405"]["description"]
    assert client.request(method.upper(), f"/api/v1{literal}").status_code == 405


def test_an_unknown_path_is_problem_json(client: TestClient) -> None:
    response = client.get("/api/v1/bestaat-niet")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["API-Version"]
