"""The published OpenAPI document, shaped to the NL API Design Rules (checked by Spectral in the tests).

FastAPI generates the document from the routes; this module adjusts what the rules ask and FastAPI
does not do by itself, for every route, so a new router needs nothing special:

* ``servers`` is ``/api/v1`` (the major version in the URI) and paths are relative to it;
* ``info.contact`` names who answers questions about the API;
* validation errors are ``400`` ``application/problem+json`` (RFC 9457), not FastAPI's ``422``;
  every operation that takes input documents that ``400``; every 4xx/5xx is problem+json;
* every 2xx/3xx response documents the ``API-Version`` header the middleware sets;
* an operation's summary is the first line of its (Dutch) docstring;
* an operation on a template that a literal path shadows documents the ``405`` it then gets: a literal
  path beats a template (:func:`api.problems.allowed_methods`), so ``GET /vacatures/import`` is not a
  read of vacancy "import" but a 405 naming ``POST``.

The ruleset is Logius' (``api/openapi/nl-api-adr-ruleset.yaml``, a copy of the one on
developer.overheid.nl); ``tests/api/test_openapi_lint.py`` runs ``spectral lint`` on this document.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.problems import PROBLEM, PROBLEM_SCHEMA

API_VERSION = "3.0.0"
BASE = "/api/v1"
CONTACT = {
    "name": "Team werkmatch, Werk & Inkomen",
    "email": "werkmatch@gemeente.example.nl",
    "url": "https://gemeente.example.nl/werkmatch",
}
PROBLEM_REF = {"$ref": "#/components/schemas/Probleem"}
VERSION_HEADER = {
    "API-Version": {
        "description": "De volledige versie van de API.",
        "schema": {"type": "string", "example": API_VERSION},
    }
}
METHODS = ("get", "post", "put", "patch", "delete")
DESCRIPTIONS = {"400": "Ongeldige invoer", "401": "Niet ingelogd", "403": "Geen toegang", "404": "Niet gevonden"}


def _problem_response(status: str, description: str | None = None) -> dict[str, Any]:
    return {
        "description": description or DESCRIPTIONS.get(status, "Fout"),
        "content": {PROBLEM: {"schema": PROBLEM_REF}},
    }


def _operation(method: str, operation: dict[str, Any]) -> None:
    description = (operation.get("description") or "").strip()
    if description:  # the docstring's first line is Dutch; FastAPI's default summary is the function name
        operation["summary"] = description.splitlines()[0].rstrip(".")
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    takes_input = method in ("post", "put", "patch") or bool(operation.get("parameters"))
    if takes_input and "400" not in responses:
        responses["400"] = _problem_response("400")
    for status, response in responses.items():
        if status[0] in "45":
            response["content"] = {PROBLEM: {"schema": PROBLEM_REF}}
            response.setdefault("description", DESCRIPTIONS.get(status, "Fout"))
        elif status[0] in "23":
            response.setdefault("headers", {}).update(VERSION_HEADER)


def build(app: FastAPI) -> dict[str, Any]:
    """The document for ``app`` (cached on the app, as FastAPI does)."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=API_VERSION,
        description=app.description,
        routes=app.routes,
        contact=CONTACT,
        servers=[{"url": BASE, "description": "deze server"}],
    )
    paths = {}
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in METHODS:
                _operation(method, operation)
        paths[path.removeprefix(BASE) or "/"] = item
    _shadowed_templates(paths)
    document["paths"] = paths
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["Probleem"] = PROBLEM_SCHEMA
    document = _upper_camel_schema_names(document)
    app.openapi_schema = document
    return document


def _shadowed_templates(paths: dict[str, Any]) -> None:
    """Add the 405 to every operation of a template that a literal path with fewer parameters shadows."""
    parts = {path: path.strip("/").split("/") for path in paths}
    for template, segments in parts.items():
        literals = [
            literal
            for literal, literal_segments in parts.items()
            if len(literal_segments) == len(segments)
            and literal.count("{") < template.count("{")
            and all(a == b or a.startswith("{") for a, b in zip(segments, literal_segments, strict=True))
        ]
        for method, operation in paths[template].items():
            shadowing = [literal for literal in literals if method in METHODS and method not in paths[literal]]
            if shadowing:
                text = f"Methode niet toegestaan: het vaste pad {' of '.join(shadowing)} gaat voor"
                operation["responses"]["405"] = _problem_response("405", text)


def _upper_camel_schema_names(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI names form bodies ``Body_<function>_<path>``; the rules want UpperCamelCase names."""
    schemas = document["components"]["schemas"]
    renames = {
        name: "".join(part[:1].upper() + part[1:] for part in name.split("_")) for name in schemas if "_" in name
    }
    if not renames:
        return document
    text = json.dumps(document)
    for old, new in renames.items():
        text = text.replace(f'"#/components/schemas/{old}"', f'"#/components/schemas/{new}"')
    renamed = json.loads(text)
    renamed["components"]["schemas"] = {renames.get(k, k): v for k, v in renamed["components"]["schemas"].items()}
    return renamed


def install(app: FastAPI) -> None:
    app.openapi = lambda: build(app)  # type: ignore[method-assign]
