"""The access log: one JSON line per request on the ``werkmatch.access`` logger (stderr).

:class:`api.ops.Operations` writes the lines (time, request id, method, route template, status,
duration in ms, user); this module formats them. Never a body, a query string or a raw path.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

ACCESS_LOGGER = "werkmatch.access"

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
