"""The Prometheus metrics of one app: requests per route template, match requests, refusals, what serves.

``GET /metrics`` (:mod:`api.ops`) exposes them; each app has its own registry (tests build many apps).
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector

MATCHES_PREFIX = "/api/v1/matches/"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Searches take 10-300 ms; an import or a cold index can take seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class RequestMetrics:
    """The request counters and histograms of one app, in their own registry (tests build many apps)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "werkmatch_http_requests",
            "HTTP requests by method, route template and status code.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "werkmatch_http_request_duration_seconds",
            "Time from the request to the end of the answer, by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.matches = Counter(
            "werkmatch_match_requests",
            "Match requests by kind (kandidaten: clients for a vacancy, vacatures: options for a client).",
            ["kind", "status"],
            registry=registry,
        )
        self.searches_waiting = Gauge(
            "werkmatch_searches_waiting",
            "Searches waiting for a slot (ops.search_concurrency run at once; the rest wait here).",
            registry=registry,
        )
        self.refused = Counter(
            "werkmatch_requests_refused",
            "Requests refused before the app ran: body too large (413) or rate limit (429).",
            ["reason", "route"],
            registry=registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        method = method if method in METHODS else "OTHER"  # no label per invented method
        self.requests.labels(method, route, str(status)).inc()
        self.duration.labels(method, route).observe(seconds)
        if route.startswith(MATCHES_PREFIX):
            self.matches.labels(route.removeprefix(MATCHES_PREFIX), str(status)).inc()


class ServingCollector(Collector):
    """What serves right now, read from ``app.state.matcher`` at every scrape (the ranker can reload)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        """The ranker and embedding model as info metrics, index and ranker health as gauges."""
        matcher = getattr(self.app.state, "matcher", None)
        if matcher is None:  # before lifespan start
            return
        ranker = matcher.ranker_status()
        yield InfoMetricFamily(
            "werkmatch_ranker",
            "The model that orders candidate lists.",
            value={key: str(ranker.get(key) or "") for key in ("name", "version")},  # no source: it is a path
        )
        yield GaugeMetricFamily(
            "werkmatch_ranker_error", "1 when the last ranker (re)load failed.", value=float("error" in ranker)
        )
        prepared = matcher.prepared
        yield GaugeMetricFamily(
            "werkmatch_indexes_loaded", "1 when both indexes are loaded and searchable.", value=float(prepared)
        )
        if prepared:  # the embedder is loaded by then; asking earlier would load it here
            yield InfoMetricFamily(
                "werkmatch_embedding", "The embedding model of the indexes.", value={"model": matcher.embedder.model_id}
            )
