"""Running the service: readiness, Prometheus metrics, a JSON access log, body limits, a rate limit on searches.

:func:`install` wires it all into the app (``api.app.create_app`` calls it after the routers); the
settings are ``Settings.ops`` (:class:`matching.settings.OpsSettings`, ``WERKMATCH_OPS__*``).

* The probes ``GET /api/v1/health`` and ``GET /api/v1/gereedheid`` are :mod:`api.routes.status`;
  the database check readiness reads (:class:`api.services.status.DatabaseWatch`) starts and stops
  with the app here.
* Searches (the rate-limited routes and the web UI's candidate pages) run at most
  ``ops.search_concurrency`` at a time (default: the number of CPUs); the others wait in the event
  loop, holding no thread and no GIL, so probes and light routes keep answering.
* ``GET /metrics``: Prometheus text format (:mod:`api.metrics`), left out of the OpenAPI document. Request count and
  latency per *route template* (``/api/v1/matches/kandidaten``, never a raw path with an id in it),
  match requests per kind, refused requests per reason, and the ranker and embedding model that
  serve as info metrics. It has no login, as usual for an internal scrape, so it answers only the
  loopback address (127.0.0.1, ::1) unless ``ops.metrics_allow`` lists the scraper's networks
  (others get 403). Each worker process counts its own requests; several uvicorn workers need
  prometheus_client's multiprocess mode.
* Security headers on every answer: ``Content-Security-Policy`` (:data:`CSP`; the API docs page gets
  its CDN and the hashes of its own inline scripts), ``X-Content-Type-Options: nosniff``,
  ``X-Frame-Options: DENY`` and ``Referrer-Policy: same-origin``.
* Access log (:mod:`api.access_log`): one JSON line per request on the ``werkmatch.access`` logger
  (stderr): time, request id, method, route template, status, duration in ms and the username of a
  valid bearer token (or, for the web UI, of the session cookie, which holds the same token). Never
  a body, a query string or a raw path. Probes and scrapes that succeed are logged at DEBUG.
  Run uvicorn with ``access_log=False``: its own access line carries the full path and query string.
* Body limit: more than ``ops.max_body_bytes`` (or the limit of the first ``ops.body_limits`` pattern
  that matches the route) is refused with 413 problem+json, on the Content-Length header before the
  app runs, and otherwise (chunked) as soon as the bytes received pass the limit; nothing reads the
  whole body first.
* Rate limit (:mod:`api.limits`): a token bucket per user (the token's ``sub``, else the client
  address) on the routes in ``ops.rate_limited_paths`` and on the web UI's candidate list
  (:data:`WEB_SEARCH_ROUTES`, the same search through a page, in the same bucket as the user's API
  searches); an empty bucket answers 429 problem+json with ``Retry-After`` (a short Dutch HTML page
  on the web routes). The
  buckets live in this process: with several workers or replicas each keeps its own, so the
  effective limit is multiplied by their number; a shared limit needs a shared store (Redis, or the
  API gateway).

One ASGI middleware does the per-request work, inside the request-id middleware (which gives every
answer ``X-Request-ID`` and ``API-Version``, so a 413 or 429 carries them too): find the route template →
rate limit → Content-Length → the app, reading the body through a counting ``receive`` → metrics
and the log line.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import logging
import math
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from fnmatch import fnmatchcase
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.access_log import access_logger
from api.limits import SearchSlots, TokenBuckets
from api.metrics import RequestMetrics, ServingCollector
from api.openapi_doc import API_VERSION
from api.problems import allowed_methods, answer, method_not_allowed, problem
from api.services import tokens
from api.services.status import DatabaseWatch
from api.web.session import COOKIE
from matching.settings import OpsSettings, Settings

try:  # FastAPI >= 0.16x keeps an included router as one lazy route; this lists the routes inside
    from fastapi.routing import iter_route_contexts
except ImportError:  # older FastAPI copies included routes into app.router.routes
    iter_route_contexts = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
# Successful calls of these are logged at DEBUG: a probe every few seconds would drown the log.
QUIET_PATHS = frozenset({"/api/v1/gereedheid", METRICS_PATH, "/api/v1/health"})
UNMATCHED = "onbekend"  # the route label of a path that no route serves (the raw path may hold anything)
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


def _bytes(count: int) -> str:
    """``1.048.576 bytes``: a byte count written the Dutch way."""
    return f"{count:,} bytes".replace(",", ".")


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
            return str(tokens.decode_access_token(self.settings, token.strip())["sub"])
        except tokens.NotAuthenticated:
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
            await answer(Request(scope), ops.too_large(limit))(scope, receive, send)  # a page: Dutch HTML
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
            await answer(Request(scope), ops.too_large(limit))(scope, receive, send)


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
    return cookie_parser(header).get(COOKIE, "") if header else ""


def _metrics_allowed(operations: Operations, request: Request) -> bool:
    """From ``ops.metrics_allow``; with none listed, from the loopback address only."""
    try:
        address = ipaddress.ip_address(request.client.host if request.client else "")
    except ValueError:
        return False
    return any(address in network for network in operations.metrics_allow or LOOPBACK)


def install(app: FastAPI, settings: Settings) -> None:
    """Add ``/metrics``, the access log, body limits, the rate limit, early 405s and request ids to ``app``.

    Args:
        app: The app; its routes may still be added after this call (the templates are looked up
            per request).
        settings: ``settings.ops`` holds the limits; the auth settings decode the bearer token.

    Raises:
        ValueError: An entry of ``ops.metrics_allow`` is not an address or network.
    """
    operations = Operations(app, settings)
    app.state.ops = operations

    @app.middleware("http")  # inside the ops middleware: its metrics and access log count these 405s
    async def literal_paths_first(request: Request, call_next: Any) -> Any:
        """``GET /api/v1/voorstellen/zoeken`` is 405 (only POST is there), not a read of voorstel "zoeken"."""
        allowed = allowed_methods(request.app, request.url.path)
        if allowed and request.method not in allowed:
            return answer(request, method_not_allowed(request.method, allowed))  # a page: Dutch HTML
        return await call_next(request)

    app.add_middleware(OpsMiddleware, operations=operations)
    app.router.lifespan_context = _watching_database(app.router.lifespan_context, operations)

    @app.middleware("http")  # added last, so outermost: the ops middleware above already knows the id
    async def request_id(request: Request, call_next: Any) -> Any:
        request.state.request_id = uuid.uuid4().hex
        response = await call_next(request)
        response.headers["API-Version"] = API_VERSION
        response.headers["X-Request-ID"] = request.state.request_id
        return response

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
