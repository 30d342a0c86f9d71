"""Running the service: readiness, Prometheus metrics, a JSON access log, body limits, a rate limit on searches.

:func:`install` wires it all into the app (``api.app.create_app`` calls it after the routers); the
settings are ``Settings.ops`` (:class:`matching.settings.OpsSettings`, ``WERKMATCH_OPS__*``).

* ``GET /api/v1/health`` (liveness) and ``GET /api/v1/gereedheid`` (readiness) answer in
  milliseconds whatever the search load: both are ``async`` routes that read what the service holds
  in memory (:func:`service_status`, no lock, no query) and, for readiness, the last answer of the
  database check that :class:`DatabaseWatch` runs in its own thread every ``ops.status_seconds``.
  Before, ``/health`` waited for the matcher's lock behind every running search (45 s at 32 users).
  Readiness is 200 when the database answered and both indexes are loaded and searchable, with the
  ranker (name, version) and the embedding model and indexes that serve; otherwise 503
  problem+json that says what is missing. Neither names a file path (:func:`without_paths`).
* Searches (the rate-limited routes and the web UI's candidate pages) run at most
  ``ops.search_concurrency`` at a time (default: the number of CPUs); the others wait in the event
  loop, holding no thread and no GIL, so probes and light routes keep answering.
* ``GET /metrics``: Prometheus text format, left out of the OpenAPI document. Request count and
  latency per *route template* (``/api/v1/matches/kandidaten``, never a raw path with an id in it),
  match requests per kind, refused requests per reason, and the ranker and embedding model that
  serve as info metrics. It has no login, as usual for an internal scrape, so it answers only the
  loopback address (127.0.0.1, ::1) unless ``ops.metrics_allow`` lists the scraper's networks
  (others get 403). Each worker process counts its own requests; several uvicorn workers need
  prometheus_client's multiprocess mode.
* Security headers on every answer: ``Content-Security-Policy`` (:data:`CSP`; the API docs page gets
  its CDN and the hashes of its own inline scripts), ``X-Content-Type-Options: nosniff``,
  ``X-Frame-Options: DENY`` and ``Referrer-Policy: same-origin``.
* Access log: one JSON line per request on the ``werkmatch.access`` logger (stderr): time, request
  id, method, route template, status, duration in ms and the username of a valid bearer token (or,
  for the web UI, of the session cookie, which holds the same token). Never
  a body, a query string or a raw path. Probes and scrapes that succeed are logged at DEBUG.
  Run uvicorn with ``access_log=False``: its own access line carries the full path and query string.
* Body limit: more than ``ops.max_body_bytes`` (or the limit of the first ``ops.body_limits`` pattern
  that matches the route) is refused with 413 problem+json, on the Content-Length header before the
  app runs, and otherwise (chunked) as soon as the bytes received pass the limit; nothing reads the
  whole body first.
* Rate limit: a token bucket per user (the token's ``sub``, else the client address) on the routes in
  ``ops.rate_limited_paths`` and on the web UI's candidate list (:data:`WEB_SEARCH_ROUTES`, the same
  search through a page, in the same bucket as the user's API searches); an empty bucket answers 429
  problem+json with ``Retry-After`` (a short Dutch HTML page on the web routes). The
  buckets live in this process: with several workers or replicas each keeps its own, so the
  effective limit is multiplied by their number; a shared limit needs a shared store (Redis, or the
  API gateway).

One ASGI middleware does the per-request work, inside the app's request-id middleware (so the
request id is known and a 413 or 429 still carries ``X-Request-ID``): find the route template →
rate limit → Content-Length → the app, reading the body through a counting ``receive`` → metrics
and the log line.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
import json
import logging
import math
import os
import re
import sys
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import security
from api.security import PROBLEM, problem
from matching.domain import Client
from matching.settings import OpsSettings, Settings

try:  # FastAPI >= 0.16x keeps an included router as one lazy route; this lists the routes inside
    from fastapi.routing import iter_route_contexts
except ImportError:  # older FastAPI copies included routes into app.router.routes
    iter_route_contexts = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

ACCESS_LOGGER = "werkmatch.access"
READINESS_PATH = "/api/v1/gereedheid"
METRICS_PATH = "/metrics"
# Successful calls of these are logged at DEBUG: a probe every few seconds would drown the log.
QUIET_PATHS = frozenset({READINESS_PATH, METRICS_PATH, "/api/v1/health"})
UNMATCHED = "onbekend"  # the route label of a path that no route serves (the raw path may hold anything)
MATCHES_PREFIX = "/api/v1/matches/"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Searches take 10-300 ms; an import or a cold index can take seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
RETRY_LOADING_S = 10  # Retry-After of a 503 while the indexes load (they are searchable after ~10 s)
# The web UI's pages that run a candidate search (api.web.pages): limited as the API's searches are.
WEB_SEARCH_ROUTES = frozenset({"/vacatures/{nummer}", "/vacatures/{nummer}/kandidaten.{formaat}"})
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
# The web UI has no inline script and no <style>; api/web/charts.py gives its SVG a max-width in a
# style attribute, the one inline thing allowed (an attribute style cannot run script or load anything).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# FastAPI's docs pages load Swagger UI / ReDoc from a CDN and start it with an inline script: they get
# the CDN and the hash of exactly the scripts they serve (see OpsMiddleware._docs_page).
DOCS_CSP = (
    "default-src 'self'; script-src 'self' https://cdn.jsdelivr.net {hashes}; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)
# An absolute file path (POSIX, or a Windows drive); not the "/" inside words, URLs or "models:/…" URIs.
ABSOLUTE_PATH = re.compile(r"(?<![\w:/.>])(?:[A-Za-z]:)?(?:/[\w.@+~-]+)+/?")
HIDDEN_PATH = "<pad>"


def _bytes(count: int) -> str:
    """``1.048.576 bytes``: a byte count written the Dutch way."""
    return f"{count:,} bytes".replace(",", ".")


# ---------------------------------------------------------------------------------------------- rate limit
class TokenBuckets:
    """One token bucket per key: at most ``burst`` tokens, refilled at ``per_minute / 60`` a second.

    A request takes one token; an empty bucket refuses it and says how long until the next token.
    In-process and thread-safe; see the module docstring for several workers.

    Args:
        per_minute: The sustained rate.
        burst: How many requests may come at once after a quiet spell.
        clock: Seconds, monotonic; tests pass a fake one.
        max_keys: Above this many buckets, the full ones are forgotten (a full bucket is a new one).
    """

    def __init__(
        self,
        per_minute: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, when last counted)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take a token for ``key``.

        Returns:
            0.0 when the request may go ahead; otherwise the seconds until a token is available.
        """
        with self._lock:
            now = self.clock()
            tokens, then = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + max(now - then, 0.0) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > self.max_keys:
                    self._forget_full(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        refill_s = self.burst / self.rate
        self._buckets = {key: state for key, state in self._buckets.items() if now - state[1] < refill_s}


# ---------------------------------------------------------------------------------------------- metrics
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


# ---------------------------------------------------------------------------------------------- access log
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message and every ``extra`` field."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({key: value for key, value in vars(record).items() if key not in _RECORD_FIELDS})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class StderrJsonHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """JSON lines to the *current* ``sys.stderr`` (a test runner swaps it after the handler was made)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def access_logger() -> logging.Logger:
    """The ``werkmatch.access`` logger with its JSON handler (added once per process).

    It does not propagate: a root handler would print every line a second time, in another format.
    """
    log = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(handler, StderrJsonHandler) for handler in log.handlers):
        log.addHandler(StderrJsonHandler())
        log.setLevel(logging.INFO)
        log.propagate = False
    return log


# ---------------------------------------------------------------------------------------------- per request
def route_table(routes: list[BaseRoute]) -> list[tuple[re.Pattern[str], frozenset[str] | None, str]]:
    """(path regex, methods or None for any, template) of every route, included routers flattened."""
    flat: list[Any] = list(iter_route_contexts(routes)) if iter_route_contexts is not None else list(routes)
    table = []
    for route in flat:
        pattern, template = getattr(route, "path_regex", None), getattr(route, "path_format", None)
        if pattern is not None and template:
            methods = getattr(route, "methods", None)
            table.append((pattern, frozenset(methods) if methods else None, template))
    return table


class Operations:
    """What the middleware and the ops routes of one app share; ``app.state.ops``.

    Attributes:
        limiter: The token buckets (tests put in buckets on a fake clock).
        registry: The Prometheus registry that ``/metrics`` exposes.
    """

    def __init__(self, app: FastAPI, settings: Settings) -> None:
        self.settings = settings
        self.ops: OpsSettings = settings.ops
        self.routes: list[BaseRoute] = app.router.routes  # the live list: routes added later count too
        self._table: list[tuple[re.Pattern[str], frozenset[str] | None, str]] | None = None
        self._table_size = 0
        self.limiter = TokenBuckets(self.ops.rate_per_minute, self.ops.rate_burst)
        self.registry = CollectorRegistry()
        self.metrics = RequestMetrics(self.registry)
        self.registry.register(ServingCollector(app))
        self.metrics_allow = [ipaddress.ip_network(net, strict=False) for net in self.ops.metrics_allow]
        self.log = access_logger() if self.ops.access_log else None
        self.search_slots = SearchSlots(self.ops.search_concurrency or os.cpu_count() or 1)
        self.database = DatabaseWatch(self.ops.status_seconds)
        self.docs_paths = frozenset(
            path for path in (app.docs_url, app.swagger_ui_oauth2_redirect_url, app.redoc_url) if path
        )

    def table(self) -> list[tuple[re.Pattern[str], frozenset[str] | None, str]]:
        """:func:`route_table` of the app, built once (again only when routes are added)."""
        if self._table is None or self._table_size != len(self.routes):
            self._table, self._table_size = route_table(self.routes), len(self.routes)
        return self._table

    def route_template(self, scope: Scope) -> str | None:
        """The path template of the route that serves ``scope`` (or refuses its method), else None.

        Looked up here, before the app runs, so that a request refused with 413 or 429 gets its
        route label too; the table is built at the first request (all routes exist by then).
        """
        path = scope["path"].removeprefix(scope.get("root_path", "")) or "/"
        partial = None
        for pattern, methods, template in self.table():
            if pattern.match(path):
                if methods is None or scope["method"] in methods:
                    return template
                partial = partial or template
        return partial

    def username(self, scope: Scope) -> str | None:
        """The ``sub`` of a valid bearer token, else of the web UI's session cookie; None without either.

        The route itself answers the 401 (or the web UI its login page).
        """
        headers = Headers(scope=scope)
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            token = _session_cookie(headers.get("cookie", ""))
        if not token.strip():
            return None
        try:
            return str(security.decode_access_token(self.settings, token.strip())["sub"])
        except security.AuthError:
            return None

    def body_limit(self, path: str) -> int:
        """The largest body allowed on ``path``: the first matching ``body_limits`` pattern, else the default."""
        for pattern, limit in self.ops.body_limits.items():
            if fnmatchcase(path, pattern):
                return limit
        return self.ops.max_body_bytes

    def is_search(self, path: str, scope: Scope) -> bool:
        """A search: a route of ``ops.rate_limited_paths`` or a web page that runs a candidate search."""
        if path in WEB_SEARCH_ROUTES and scope["method"] in ("GET", "HEAD"):
            return True
        return any(fnmatchcase(path, pattern) for pattern in self.ops.rate_limited_paths)

    def rate_wait(self, path: str, user: str | None, scope: Scope) -> float:
        """0.0 when the request may go ahead, else seconds to wait (rate-limited paths and web searches only)."""
        if not self.is_search(path, scope):
            return 0.0
        client = scope.get("client")
        key = f"gebruiker:{user}" if user else f"adres:{client[0] if client else UNMATCHED}"
        return self.limiter.take(key)

    def too_many(self, wait: float) -> JSONResponse:
        """429 with ``Retry-After`` in whole seconds (at least 1)."""
        retry = max(1, math.ceil(wait))
        return problem(
            429,
            "Te veel verzoeken",
            f"Er zijn in korte tijd te veel zoekopdrachten gedaan: {self.ops.rate_burst} direct achter elkaar en "
            f"daarna {self.ops.rate_per_minute:g} per minuut per gebruiker. Probeer het over {retry} seconden "
            "opnieuw.",
            headers={"Retry-After": str(retry)},
        )

    def too_many_page(self, wait: float) -> HTMLResponse:
        """The web UI's 429: the same sentence as a short Dutch page (a person reads it, not a program)."""
        retry = max(1, math.ceil(wait))
        body = (
            '<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Te veel verzoeken – werkmatch'
            '</title><link rel="stylesheet" href="/static/werkmatch.css"></head><body><main class="wrap">'
            "<h1>Te veel verzoeken</h1><p>U heeft in korte tijd te veel kandidatenlijsten opgevraagd: "
            f"{self.ops.rate_burst} direct achter elkaar en daarna {self.ops.rate_per_minute:g} per minuut. "
            f'Wacht {retry} seconden en ververs dan de pagina.</p><p><a href="/">Naar de startpagina</a></p>'
            "</main></body></html>"
        )
        return HTMLResponse(body, status_code=429, headers={"Retry-After": str(retry), "Cache-Control": "no-store"})

    @staticmethod
    def too_large(limit: int) -> JSONResponse:
        """413 that names the limit of this route."""
        return problem(
            413,
            "Verzoek te groot",
            f"De inhoud van het verzoek is groter dan {_bytes(limit)}, de grens voor deze route. Stuur minder "
            "gegevens in één keer, of splits een importbestand in delen.",
        )

    def record(self, scope: Scope, route: str | None, status: int, seconds: float, user: str | None) -> None:
        """Count the request and write its access line."""
        label = route or UNMATCHED
        self.metrics.observe(scope["method"], label, status, seconds)
        if status in (413, 429):
            self.metrics.refused.labels("te_groot" if status == 413 else "te_veel", label).inc()
        if self.log is None:
            return
        level = logging.DEBUG if label in QUIET_PATHS and status < 400 else logging.INFO
        self.log.log(
            level,
            "%s %s %s",
            scope["method"],
            label,
            status,
            extra={
                "requestId": scope.get("state", {}).get("request_id"),
                "method": scope["method"],
                "route": label,
                "status": status,
                "durationMs": round(seconds * 1000, 1),
                "user": user,
            },
        )


class BodyTooLargeError(Exception):
    """The body received so far is over the route's limit (raised from ``receive``)."""


class OpsMiddleware:
    """The per-request work (see the module docstring), as a pure ASGI middleware."""

    def __init__(self, app: ASGIApp, operations: Operations) -> None:
        self.app = app
        self.operations = operations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Limit, run and observe one HTTP request; other scopes pass through."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        ops = self.operations
        route = ops.route_template(scope)
        user = ops.username(scope)
        status = 500  # what an exception out of the app becomes

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", CSP)
            await send(message)

        path = route or scope["path"]
        observed = _docs_page(send_observed) if path in ops.docs_paths else send_observed
        try:
            await self._limited(scope, receive, observed, path, user)
        finally:
            ops.record(scope, route, status, time.perf_counter() - started, user)

    async def _limited(self, scope: Scope, receive: Receive, send: Send, path: str, user: str | None) -> None:
        ops = self.operations
        wait = ops.rate_wait(path, user, scope)
        if wait > 0:
            refusal = ops.too_many_page(wait) if path in WEB_SEARCH_ROUTES else ops.too_many(wait)
            await refusal(scope, receive, send)
            return
        limit = ops.body_limit(path)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await ops.too_large(limit)(scope, receive, send)
            return
        if ops.is_search(path, scope):
            await self._in_search_slot(scope, receive, send, limit)
        else:
            await self._counted(scope, receive, send, limit)

    async def _in_search_slot(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Run a search once one of the ``ops.search_concurrency`` slots is free.

        Waiting here costs no thread: 32 searches at once on 2 cores used to be 32 threads taking
        turns at the GIL, and every probe and page waited among them.
        """
        waiting = self.operations.metrics.searches_waiting
        waiting.inc()
        slot = self.operations.search_slots.slot()
        try:
            await slot.acquire()
        finally:
            waiting.dec()
        try:
            await self._counted(scope, receive, send, limit)
        finally:
            slot.release()

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """The app, reading the body through a ``receive`` that stops at ``limit`` bytes."""
        ops = self.operations
        received = 0
        exceeded = started = False

        async def receive_counted() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # stop here: the rest of the body is never read
                    exceeded = True
                    raise BodyTooLargeError(f"{received} > {limit} bytes")
            return message

        async def send_unless_exceeded(message: Message) -> None:
            nonlocal started
            if exceeded:  # FastAPI turns an error while reading the body into a 400: the client gets the 413
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive_counted, send_unless_exceeded)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            await ops.too_large(limit)(scope, receive, send)


class SearchSlots:
    """At most ``size`` searches at once, per event loop (uvicorn has one; tests start several).

    An ``asyncio.Semaphore`` belongs to the loop it first waited in, so each loop gets its own.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def slot(self) -> asyncio.Semaphore:
        """The semaphore of the running loop."""
        loop = asyncio.get_running_loop()
        semaphore = self._by_loop.get(loop)
        if semaphore is None:
            semaphore = self._by_loop[loop] = asyncio.Semaphore(self.size)
        return semaphore


def _docs_page(send: Send) -> Send:
    """A ``send`` that holds a docs page back until it has it whole, then sends it with :data:`DOCS_CSP`.

    The policy lists the SHA-256 of each inline script the page holds, so those run and no other.
    """
    held: list[Message] = []

    async def send_docs(message: Message) -> None:
        held.append(message)
        if message["type"] != "http.response.body" or message.get("more_body", False):
            return
        body = b"".join(part.get("body", b"") for part in held if part["type"] == "http.response.body")
        hashes = " ".join(
            f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
            for script in INLINE_SCRIPT.findall(body)
        )
        for part in held:
            if part["type"] == "http.response.start":
                MutableHeaders(scope=part)["Content-Security-Policy"] = DOCS_CSP.format(hashes=hashes)
            await send(part)
        held.clear()

    return send_docs


def _session_cookie(header: str) -> str:
    """The web UI's session token (:data:`api.web.session.COOKIE`) from a ``Cookie`` header; '' without one."""
    from api.web.session import COOKIE  # here: api.web imports api.app, which imports this module

    return cookie_parser(header).get(COOKIE, "") if header else ""


# ---------------------------------------------------------------------------------------------- readiness
def database_error(engine: Any) -> str | None:
    """None when the database answers a query on the client table, else the kind of error.

    ``SELECT 1`` is not enough: SQLite happily opens a new, empty file where the database was.
    """
    try:
        with Session(engine) as session:
            session.exec(select(Client.id).limit(1)).all()
    except (SQLAlchemyError, OSError) as error:
        logger.warning("readiness: the database does not answer: %s", error)
        return type(error).__name__
    return None


def without_paths(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with every file path in it replaced by ``<pad>``: anonymous answers name no server paths.

    Args:
        text: A message, e.g. why a ranker could not be loaded.
        known: Paths to hide even when relative (the data directory, the baseline ranker's directory).
    """
    for path in sorted((str(item) for item in known if "/" in str(item)), key=len, reverse=True):
        text = text.replace(path, HIDDEN_PATH)  # a bare name such as "var" is a word as often as a path
    return ABSOLUTE_PATH.sub(HIDDEN_PATH, text)


def _public_ranker(settings: Settings, ranker: dict[str, Any]) -> dict[str, Any]:
    """The ranker's description without paths (its ``source`` directory, paths in an error)."""
    known = [settings.data_dir, settings.data_dir.resolve()]
    if settings.ranker.baseline_dir is not None:
        known += [settings.ranker.baseline_dir, settings.ranker.baseline_dir.resolve()]
    shown = {key: value for key, value in ranker.items() if key != "source"}
    if isinstance(shown.get("error"), str):
        shown["error"] = without_paths(shown["error"], [str(path) for path in known])
    return shown


def service_status(settings: Settings, matcher: Any) -> dict[str, Any]:
    """What ``Matcher.status`` says, from memory only: no lock, no query, no file read.

    ``Matcher.status`` takes the matcher's lock, which every search holds while it runs, and counts
    both tables; a probe that calls it waits behind the searches. Here ``database`` is the number
    of records the matcher holds (it catches up with the database at every search and save).
    """
    ranker = _public_ranker(settings, matcher.ranker_status())
    out: dict[str, Any] = {"modelId": None, "dimension": None, "ranker": ranker}
    for side in ("clients", "vacancies"):
        state = matcher.sides[side]
        vectors = state.vectors
        indexed = len(vectors) if vectors is not None else None
        model = vectors.model_id if vectors is not None else None
        if vectors is not None and out["modelId"] is None:
            out["modelId"], out["dimension"] = vectors.model_id, vectors.dimension
        waiting = len(state.queue)
        out[side] = {
            "database": state.count,
            "indexed": indexed,
            "toEmbed": waiting if vectors is not None else state.count,
            "progress": round(min((indexed or 0) / state.count, 1.0), 3) if state.count else 1.0,
            "modelId": model,
            "inSync": indexed == state.count and model is not None and not waiting,
        }
    busy = not matcher.wait_embedded(timeout=0)  # join(0): returns at once
    out["embedding"] = "fout" if matcher.embedding_error else ("bezig" if busy else "klaar")
    if matcher.embedding_error:
        out["embeddingError"] = without_paths(matcher.embedding_error)
    out["checkedAt"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    return out


class DatabaseWatch:
    """Readiness's database check, run every ``interval`` seconds in a thread of its own.

    A probe reads the last answer instead of querying: a readiness call never waits for the
    database (SQLite's busy timeout is 30 s). A check that has not come back for ``3 × interval``
    (at least 30 s) counts as a database that does not answer.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.engine: Any = None
        self.error: str | None = None
        self.checked: float | None = None  # time.monotonic() of the last finished check
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> str | None:
        """Check now (in the calling thread); None when the database answers."""
        self.error = database_error(self.engine)
        self.checked = time.monotonic()
        return self.error

    def start(self, engine: Any) -> None:
        """Check once, then keep checking in a daemon thread until :meth:`stop`."""
        self.engine = engine
        self._stop.clear()
        self.check()
        self._thread = threading.Thread(target=self._run, name="database-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.check()

    def stop(self) -> None:
        """End the thread (it finishes the check it is in)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 1)
            self._thread = None

    def last_error(self, engine: Any) -> str | None:
        """The last check's answer; without a running watch (an app used without its lifespan), checks now."""
        if self.checked is None or self._thread is None:
            self.engine = engine
            return self.check()
        if time.monotonic() - self.checked > max(3 * self.interval, 30.0):
            return "TimeoutError"
        return self.error


def readiness(request: Request) -> dict[str, Any] | JSONResponse:
    """The readiness answer for ``request.app`` (see :func:`install`): from memory and the last database check."""
    settings: Settings = request.app.state.settings
    matcher = getattr(request.app.state, "matcher", None)
    if matcher is None:
        return _not_ready("De service start nog; de indexen zijn nog niet aangemaakt.", {"indexen": "niet geladen"})
    error = request.app.state.ops.database.last_error(matcher.engine)
    if error is not None:
        return _not_ready(
            f"De database antwoordt niet ({error}). Controleer of de database draait en of WERKMATCH_DATABASE_URL "
            "klopt; de service neemt geen zoekopdrachten aan tot de database weer antwoordt.",
            {"database": "onbereikbaar"},
        )
    if not matcher.prepared:
        return _not_ready(
            "De indexen worden nog geladen; zoeken kan zodra ze klaar zijn (meestal binnen een minuut).",
            {"database": "bereikbaar", "indexen": "niet geladen"},
            retry_after=RETRY_LOADING_S,
        )
    status = service_status(settings, matcher)
    if settings.ops.ready_requires_embedding and status["embedding"] != "klaar":
        return _not_ready(
            f"De records worden nog ingebed (embedding: {status['embedding']}); deze service wacht daarop "
            "(WERKMATCH_OPS__READY_REQUIRES_EMBEDDING).",
            {"database": "bereikbaar", "indexen": "geladen", "embedding": status["embedding"]},
            retry_after=RETRY_LOADING_S,
        )
    return {
        "status": "gereed",
        "database": "bereikbaar",
        "ranker": status["ranker"],
        "embedding": {
            "model": status["modelId"],
            "dimensie": status["dimension"],
            "status": status["embedding"],
            **({"fout": status["embeddingError"]} if "embeddingError" in status else {}),
        },
        "indexen": {side: status[side] for side in ("clients", "vacancies")},
        "gecontroleerdOp": status["checkedAt"],
    }


def liveness(request: Request) -> dict[str, Any]:
    """``GET /api/v1/health``: the service lives; the state of the indexes and which model ranks, from memory."""
    matcher = getattr(request.app.state, "matcher", None)
    if matcher is None:
        return {"status": "ok", "index": None}
    return {"status": "ok", "index": service_status(request.app.state.settings, matcher)}


def _not_ready(detail: str, checks: dict[str, str], retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return problem(503, "Niet gereed", detail, headers=headers, checks=checks)


def _metrics_allowed(operations: Operations, request: Request) -> bool:
    """From ``ops.metrics_allow``; with none listed, from the loopback address only."""
    try:
        address = ipaddress.ip_address(request.client.host if request.client else "")
    except ValueError:
        return False
    return any(address in network for network in operations.metrics_allow or LOOPBACK)


def install(app: FastAPI, settings: Settings) -> None:
    """Add readiness, ``/metrics``, the access log, body limits and the rate limit to ``app``.

    Args:
        app: The app; its routes may still be added after this call (the templates are looked up
            per request).
        settings: ``settings.ops`` holds the limits; the auth settings decode the bearer token.

    Raises:
        ValueError: An entry of ``ops.metrics_allow`` is not an address or network.
    """
    operations = Operations(app, settings)
    app.state.ops = operations
    app.add_middleware(OpsMiddleware, operations=operations)
    app.router.lifespan_context = _watching_database(app.router.lifespan_context, operations)
    problem_schema = {"content": {PROBLEM: {"schema": security.Problem.model_json_schema()}}}

    @app.get(
        READINESS_PATH,
        tags=["beheer"],
        response_model=None,
        responses={503: {"description": "Niet gereed: database of indexen ontbreken", **problem_schema}},
    )
    async def ready(request: Request) -> dict[str, Any] | JSONResponse:
        """Gereedheid (readiness): antwoordt de database en zijn de indexen doorzoekbaar; welk model serveert."""
        return readiness(request)  # async and from memory: answers while every thread searches

    @app.get(METRICS_PATH, include_in_schema=False)
    async def metrics(request: Request) -> Response:
        """Prometheus-metrieken (zonder inloggen, voor een interne scrape; zie ``ops.metrics_allow``)."""
        if not _metrics_allowed(operations, request):
            return problem(
                403,
                "Geen toegang",
                "De metrieken zijn alleen te lezen vanaf dit apparaat (127.0.0.1) of vanaf de adressen in "
                "ops.metrics_allow (WERKMATCH_OPS__METRICS_ALLOW).",
            )
        return Response(generate_latest(operations.registry), media_type=CONTENT_TYPE_LATEST)


def _watching_database(lifespan: Any, operations: Operations) -> Callable[[Any], Any]:
    """The app's lifespan, with :class:`DatabaseWatch` started once the matcher exists and stopped at the end."""

    @asynccontextmanager
    async def watched(app: Any) -> AsyncIterator[Any]:
        async with lifespan(app) as state:
            operations.database.start(app.state.matcher.engine)
            try:
                yield state
            finally:
                operations.database.stop()

    return watched
