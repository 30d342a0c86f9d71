"""One language at the API edge (issue 17, item 6): no key of the API's JSON is an English word.

The sweep walks the published OpenAPI document: every property of every schema, at any depth, and
every query parameter. A name is split into its words (``winstNdcgAt10`` → winst, ndcg, at, 10) and
no word may be on :data:`ENGLISH`. Standards keep their own names: problem+json (RFC 9457) and the
OAuth2 token and login form. Free-form parts that the document cannot describe are checked on the
real functions that build them: the promotion report (:func:`api.services.models.promotion_report`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from api.app import create_app
from api.services.models import promotion_report
from training.fairness_report import breaches
from training.metrics import METRICS, paired, summarise
from training.promotion import fairness_gate

# English words that were (or could easily become) API keys. Words Dutch shares with English stay off
# the list: id, score, status, label, model, index, hash, code, route, basis, interval, details, tags,
# item(s), database, embedding, audit, top, ok. So do champion and challenger: the registry's alias
# names, which the Dutch UI uses as terms too.
ENGLISH = frozenset(
    """
    name names username password user users role email created updated update modified changed deleted
    from to since until limit offset page size count total results result rank ranked reasons reason
    client clients vacancy vacancies holdout gate gates gain margin passed pass failed evidence breach
    breaches rule rules pairs pair run checkpoint seq entries entry actor subject subjects action purpose
    request prev previous first broken source version versions aliases alias error errors dimension
    indexed progress sync ready message description search query filter distance hours days since
    number group groups ratio certain measure attribute scored fairness promoted forced justification
    metrics metric checked
    """.split()
)  # not "at": ``At10`` in a camelCase key (winstNdcgAt10) is the @ of NDCG@10
# The standards' own names: RFC 9457 problem details and OAuth2 (RFC 6749) token and password form.
STANDARDS = {"Probleem", "Token", "BodyIssueTokenApiV1TokenPost"}
METRIC_NAMES = tuple(METRICS)  # ndcg@10, recall@20, mrr: names of measures, like NDCG itself


def words(key: str) -> list[str]:
    """The words of a camelCase, snake_case or ``@``-joined key, lower case; metric names taken out first."""
    for metric in METRIC_NAMES:
        key = key.replace(metric, " ")
    return [word.lower() for word in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", key)]


def english(key: str) -> list[str]:
    return [word for word in words(key) if word in ENGLISH]


def properties(schema: Any, where: str) -> Iterator[tuple[str, str]]:
    """(where, property name) for every property under ``schema``, at any depth."""
    if isinstance(schema, dict):
        for name, inner in (schema.get("properties") or {}).items():
            yield where, name
            yield from properties(inner, f"{where}.{name}")
        for key, inner in schema.items():
            if key != "properties":
                yield from properties(inner, where)
    elif isinstance(schema, list):
        for inner in schema:
            yield from properties(inner, where)


def english_keys(document: dict[str, Any]) -> list[str]:
    """Every English key of the document, as ``Schema.path: key [words]``."""
    found = []
    for name, schema in document["components"]["schemas"].items():
        if name in STANDARDS:
            continue
        found += [f"{where}: {key} {english(key)}" for where, key in properties(schema, name) if english(key)]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and english(parameter["name"]):
                    found.append(f"{method.upper()} {path} ?{parameter['name']} {english(parameter['name'])}")
            found += [f"{method.upper()} {path}: {key}" for _, key in properties(operation, path) if english(key)]
    return found


def test_no_key_of_the_published_document_is_english(settings) -> None:
    document = create_app(settings).openapi()
    assert len(document["components"]["schemas"]) > 50  # the sweep saw the real document
    assert english_keys(document) == []


def test_the_sweep_finds_english_keys_and_passes_the_standards() -> None:
    document = {
        "components": {
            "schemas": {
                "Klant": {"properties": {"klantNummer": {}, "updatedAt": {}, "wensen": {"properties": {"from": {}}}}},
                "Rapport": {"properties": {"ndcg@10Gain": {}, "winstNdcgAt10": {}, "recall@20Interval": {}}},
                "Probleem": {"properties": {"title": {}, "invalidParams": {"items": {"properties": {"name": {}}}}}},
            }
        },
        "paths": {"/klanten": {"get": {"parameters": [{"in": "query", "name": "pageSize"}]}}},
    }
    assert english_keys(document) == [
        "Klant: updatedAt ['updated']",
        "Klant.wensen: from ['from']",
        "Rapport: ndcg@10Gain ['gain']",
        "GET /klanten ?pageSize ['page', 'size']",
    ]


def _keys(value: Any, skip: str = "fairnessaudit") -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            if key != skip:  # a measurement report with its own documented keys
                yield from _keys(inner, skip)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner, skip)


def _comparison(rng: np.random.Generator, labels: np.ndarray, groups: np.ndarray) -> dict[str, Any]:
    new, old = rng.random(len(labels)), rng.random(len(labels))
    return {
        "pairs": len(labels),
        "vacancies": len(np.unique(groups)),
        "challenger": {"name": "werkmatch-ranker", "version": "2", **summarise(labels, new, groups, resamples=50)},
        "champion": {"name": "baseline", "version": None, **summarise(labels, old, groups, resamples=50)},
        "ndcg@10Gain": paired(labels, new, old, groups, resamples=50),
    }


def test_the_promotion_report_is_dutch_to_its_last_key() -> None:
    """The report of :func:`training.promotion.promote`, from the real metric and gate functions."""
    rng = np.random.default_rng(7)
    groups = np.repeat(np.arange(12), 10)
    labels = rng.choice([0, 0, 0, 2, 3, 4], size=len(groups))
    part = _comparison(rng, labels, groups)
    audit = {"attributes": {"trede": {"groups": {"0": {"ratio": 0.5, "ratioCI": [0.4, 0.7], "clients": 40}}}}}
    gate = fairness_gate(None, "echte gegevens")
    gate["breaches"] = breaches(audit)
    result = {
        "holdout": {"from": "2026-06-01", "pairs": part["pairs"], "vacancies": part["vacancies"]},
        **{key: part[key] for key in ("challenger", "champion", "ndcg@10Gain")},
        "evidence": {"voorstellen": part, "pool": part},
        "margin": 0.01,
        "gates": [{"name": "ndcg@10-marge", "basis": "pool", "rule": "winst ≥ 0.01", "passed": False}, gate],
        "passed": False,
        "championUnusable": "champion versie 1 is onbruikbaar",
        "fairness": audit,
        "promoted": {"version": "2", "promoted_by": "ds", "promoted_at": "2026-12-04T10:00:00+00:00"},
    }
    report = promotion_report(result)
    assert sorted({key for key in _keys(report) if english(key)}) == []
    assert report["poorten"][1]["overschrijdingen"][0]["kenmerk"] == "trede"
    assert report["winstNdcgAt10"]["winst"] == part["ndcg@10Gain"]["gain"]
    assert report["challenger"]["ndcg@10Interval"] == part["challenger"]["ndcg@10CI"]
    assert report["gepromoveerd"]["door"] == "ds" and report["versie"] == "2"
    assert report["fairnessaudit"] is audit  # the measurement keeps its keys
