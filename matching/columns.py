"""Columns for aware moments: stored as UTC, read back aware (SQLite itself keeps no time zone).

The tables of the voorstel lifecycle (:mod:`matching.outcomes`), the inbox and the logs
(:mod:`api.services`) use these, so a moment is never naive anywhere in the database layer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column
from sqlalchemy.engine import Dialect
from sqlalchemy.types import DateTime, TypeDecorator
from sqlmodel import Field as SQLField

from matching.domain import utcnow
from matching.timeutil import stored_utc


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and reads them back aware (SQLite itself keeps no time zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return stored_utc(value)


def moment_column(index: bool = False) -> Any:
    """A required aware moment, now by default (the tables of the voorstel lifecycle and the inbox)."""
    return SQLField(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=index))


def optional_moment_column() -> Any:
    """An aware moment that may be empty."""
    return SQLField(default=None, sa_column=Column(UTCDateTime(), nullable=True))
