"""Gemeenten as tenants: whose clients a database transaction may see.

A region's gemeenten share one database: the WSP's vacancies belong to the region, each client (and
what hangs off a client: personalia, voorstellen, inbox items, saved searches, the exposure ledger)
to one gemeente. The application filters by caseload and gemeente; on PostgreSQL the database
enforces the boundary as well, so a query that forgets the filter still returns nothing of another
gemeente:

* migration ``0002`` turns on row-level security, **forced** (also for the tables' owner), on every
  table holding client data, with one policy: a row is visible when its gemeente is the transaction's
  ``werkmatch.gemeente`` setting, or when that setting is :data:`REGIONAL`;
* the service connects as a role that owns no table and cannot bypass row-level security
  (:func:`refusal` checks it at start, ``werkmatch serve`` refuses otherwise);
* :func:`install` makes every transaction of an engine begin with ``set_config('werkmatch.gemeente',
  …, true)`` (``true``: for this transaction only) from :func:`scope`'s context. A connection that
  sets nothing sees no client row at all.

The default scope of a process is the region: the index, the batch jobs and the statistics work on
every client of the region and show a person only what :mod:`matching.disclosure` allows. A request
of a user who belongs to one gemeente to the client profiles (:mod:`api.routes.klanten`) enters the
user's gemeente first (:func:`api.security.gemeente_scope`), so there the database itself hides every
other gemeente's rows.

SQLite has no row-level security: there the application's filters are the boundary (one gemeente
per file is the embedded default).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine

SETTING = "werkmatch.gemeente"
REGIONAL = "*"
"""The scope of work for the whole region: the index, batch jobs, regional roles."""

NAME_MAX = 60
_NAME = re.compile(r"^(?:'s-)?[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ' .-]{0,55}$")
HOME_VARIABLE = "WERKMATCH_GEMEENTE"
HOME_DEFAULT = "Arnhem"

_scope: ContextVar[str] = ContextVar("werkmatch_gemeente", default=REGIONAL)


def gemeente_name(value: str) -> str:
    """A gemeente's name as stored (``"Duiven"``, ``"'s-Hertogenbosch"``), stripped and checked.

    Raises:
        ValueError: Empty, too long or with characters no Dutch gemeente has (Dutch message).
    """
    name = value.strip()
    if not _NAME.match(name):
        raise ValueError(f"'{value}' is geen geldige gemeentenaam (letters, spatie, '-', hoogstens {NAME_MAX} tekens)")
    return name


def home() -> str:
    """The gemeente of this installation (``WERKMATCH_GEMEENTE``, default Arnhem): clients stored without one."""
    return gemeente_name(os.environ.get(HOME_VARIABLE) or HOME_DEFAULT)


def current() -> str:
    """The gemeente this context's transactions are limited to, or :data:`REGIONAL`."""
    return _scope.get()


def enter(gemeente: str | None) -> None:
    """Limit this context's transactions to ``gemeente`` from here on (a request: its own context)."""
    _scope.set(gemeente or REGIONAL)


@contextmanager
def scope(gemeente: str | None) -> Iterator[str]:
    """Limit the transactions begun inside the block to ``gemeente`` (None: the region)."""
    token = _scope.set(gemeente or REGIONAL)
    try:
        yield _scope.get()
    finally:
        _scope.reset(token)


def install(engine: Engine) -> Engine:
    """Make every transaction on a PostgreSQL ``engine`` start in the current scope; SQLite is left as is."""
    if engine.dialect.name == "postgresql":
        event.listen(engine, "begin", _set_scope)
    return engine


def _set_scope(connection: Connection) -> None:
    connection.exec_driver_sql("SELECT set_config(%(name)s, %(value)s, true)", {"name": SETTING, "value": current()})


_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def grant(engine: Engine, role: str) -> None:
    """Give the service role ``role`` what it needs on every table (``werkmatch db upgrade --dienstrol``).

    Reading and writing rows, using the sequences, and emptying the nightly lists' tables (``TRUNCATE``, which
    row-level security does not limit: the lists are remade every night and name no one beyond an id); nothing
    else: it owns no table, cannot change the schema or the row-level security, and only reads the schema version.

    Raises:
        ValueError: Not PostgreSQL, or not a plain lower-case role name (Dutch message).
    """
    if engine.dialect.name != "postgresql":
        raise ValueError("een dienstrol bestaat alleen op PostgreSQL; SQLite kent geen databaserollen")
    if not _ROLE.match(role):
        raise ValueError(f"'{role}' is geen geldige rolnaam (kleine letters, cijfers en _, hoogstens 63 tekens)")
    with engine.begin() as connection:
        for statement in (
            f"GRANT USAGE ON SCHEMA public TO {role}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
            f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {role}",
        ):
            connection.exec_driver_sql(statement)
        # the nightly batch empties a slot's list tables as a whole (matching.batch_lists.SLOT_TABLES, migration 0011)
        lists = connection.exec_driver_sql(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND starts_with(tablename, 'nacht_')"
        ).scalars()
        for table in lists.all():
            connection.exec_driver_sql(f"GRANT TRUNCATE ON {table} TO {role}")


def refusal(engine: Engine) -> str | None:
    """Why the service must not run on ``engine``'s role, in one Dutch line; None when it may.

    On PostgreSQL the role may be neither a superuser nor a role with BYPASSRLS, and may own none of
    the tables under row-level security: each of those would see every gemeente's clients.
    """
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        role: Any = connection.execute(
            text("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        ).one()
        owned = connection.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
                "WHERE c.relrowsecurity AND r.rolname = current_user ORDER BY c.relname"
            )
        ).scalars()
        owned_tables = list(owned)
    if role.rolsuper or role.rolbypassrls:
        kind = "superuser" if role.rolsuper else "rol met BYPASSRLS"
        return (
            f"databaserol '{role.rolname}' is een {kind} en ziet de klanten van elke gemeente; "
            "start de service als de dienstrol (zie README, PostgreSQL)"
        )
    if owned_tables:
        return (
            f"databaserol '{role.rolname}' is eigenaar van {', '.join(owned_tables[:3])}"
            f"{' …' if len(owned_tables) > 3 else ''}; start de service als de dienstrol, "
            "niet als de eigenaar die 'werkmatch db upgrade' draait (zie README, PostgreSQL)"
        )
    return None
