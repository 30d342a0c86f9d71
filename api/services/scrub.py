"""``werkmatch db schoonmaken``: rewrite the database's files so that erased and expired rows leave no bytes.

An erasure (:mod:`api.services.erasure`) or a retention run (:mod:`api.services.retention`) deletes rows
and redacts log rows in one transaction. What the database's own files still hold afterwards differs:

* **SQLite** overwrites freed bytes with zeros (``secure_delete``, :func:`matching.store.make_engine`)
  and the erasure checkpoints the write-ahead log, so the file is clean at once. ``VACUUM`` here only
  rebuilds the file without its free pages.
* **PostgreSQL** keeps a deleted or updated row as a dead tuple in the table's pages until they are
  rewritten, and the inserts that wrote it in its write-ahead log (WAL) until the segment is removed.
  The service's role can do neither (it owns no table, :mod:`matching.tenancy`), so the **owner**
  runs this, as it runs ``werkmatch db upgrade``: ``VACUUM (FULL, ANALYZE)`` rewrites every table of
  werkmatch into new files without dead tuples (the old files are emptied at once and removed at the
  next checkpoint); then ``pg_switch_wal()`` closes the WAL segment and ``CHECKPOINT`` makes every
  older segment unnecessary, so the server removes it, when ``wal_recycle = off`` (with the default
  ``on`` it renames old segments for reuse, old bytes and all, and this command says so).

``VACUUM FULL`` holds each table exclusively while it rewrites it (searches wait): run it in a quiet
hour, e.g. nightly after the retention run. Outside werkmatch's reach stay WAL archives and
replicas (``archive_command``, replication slots), backups and the file system's free blocks: the
operator's retention and an encrypted disk cover those (README, threat model).
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from api.services.erasure import checkpoint
from matching.errors import WerkmatchError


class NotOwner(WerkmatchError):
    """The connected role does not own werkmatch's tables: VACUUM would skip them without an error."""


def scrub(engine: Engine) -> dict[str, Any]:
    """Rewrite every table of the ``public`` schema (werkmatch's) and retire the WAL that held old rows.

    Returns:
        ``tabellen`` (how many were rewritten), ``walGewisseld`` (the WAL segments with old rows are no
        longer needed; on SQLite: the write-ahead log was checkpointed and emptied), ``walVerwijderd``
        (the server deletes them rather than reusing them), ``waarschuwingen`` (Dutch lines for what
        this role or configuration left undone), ``duurS``.

    Raises:
        NotOwner: PostgreSQL, and the role owns none of the tables (nor is it a superuser).
    """
    started = time.monotonic()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if engine.dialect.name == "sqlite":
            names = list(inspect(connection).get_table_names())
            connection.exec_driver_sql("VACUUM")
            emptied = checkpoint(engine)  # the erasure's own checkpoint: False while readers keep the log busy
            done: dict[str, Any] = {"walGewisseld": emptied, "walVerwijderd": emptied, "waarschuwingen": []}
        else:
            names = list(inspect(connection).get_table_names(schema="public"))
            _refuse_unless_owner(connection, names)
            for name in names:
                connection.execute(text(f'VACUUM (FULL, ANALYZE) "{name}"'))
            done = _retire_wal(connection)
    return {"tabellen": len(names), **done, "duurS": round(time.monotonic() - started, 2)}


def _refuse_unless_owner(connection: Connection, names: list[str]) -> None:
    owned = connection.execute(
        text(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
            "WHERE c.relname = ANY(:names) AND c.relkind = 'r' "
            "AND (pg_has_role(current_user, c.relowner, 'USAGE') "
            "OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user))"
        ),
        {"names": names},
    ).scalar_one()
    if owned < len(names):
        user = connection.execute(text("SELECT current_user")).scalar_one()
        raise NotOwner(
            f"de rol '{user}' is geen eigenaar van de tabellen van werkmatch; schoonmaken kan alleen de "
            "eigenaar (de rol die ook 'werkmatch db upgrade' draait)"
        )


def _retire_wal(connection: Connection) -> dict[str, Any]:
    """``pg_switch_wal()`` then ``CHECKPOINT``: the segments before it are no longer needed by the server."""
    warnings = []
    recycled = connection.execute(text("SHOW wal_recycle")).scalar_one() == "on"
    if recycled:
        warnings.append(
            "wal_recycle staat aan: PostgreSQL hergebruikt oude WAL-bestanden met oude rijen erin; "
            "zet 'wal_recycle = off' in postgresql.conf"
        )
    try:
        connection.execute(text("SELECT pg_switch_wal()"))
        connection.execute(text("CHECKPOINT"))
    except Exception as error:  # noqa: BLE001 - a missing right is reported, the tables are already clean
        if "permission denied" not in str(error).lower() and "must be superuser" not in str(error).lower():
            raise
        warnings.append(
            "het WAL is niet gewisseld: geef deze rol het recht (GRANT pg_checkpoint TO …; "
            "GRANT EXECUTE ON FUNCTION pg_switch_wal() TO …)"
        )
        return {"walGewisseld": False, "walVerwijderd": False, "waarschuwingen": warnings}
    return {"walGewisseld": True, "walVerwijderd": not recycled, "waarschuwingen": warnings}


__all__ = ["NotOwner", "scrub"]
