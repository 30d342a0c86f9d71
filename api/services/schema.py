"""Every table of werkmatch, in one place: :func:`create_all` at every start, :func:`upgrade` to migrate.

Each module owns its tables (the domain core in :mod:`matching`, training's latent factors, and each
service its own); this module lists them. :func:`create_all` brings an empty or unversioned database
to the code's schema version through Alembic's migrations (:mod:`api.services.migrations`; a database
at an older version is refused with the command that migrates it), protects the audit log
(:func:`api.services.audit_guard.protect`) and makes the database count inserted and deleted records
(:func:`matching.store.track_changes`). The app calls it once at start (its lifespan), the CLI
before a command that writes, and the tests for their databases. :data:`TABLES` is the migrations'
metadata (``api/migrations/env.py``).

SQLite and PostgreSQL are both supported: the tables are plain SQLAlchemy, the protection has a
branch for each.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from api.services import audit, audit_guard, grants, inbox, migrations, users, voorstellen, zoekopdrachten
from matching import batch_lists, floor_state, store
from training.latent import SyntheticLatent

TABLES: tuple[type[SQLModel], ...] = (
    *store.TABLES,
    *batch_lists.TABLES,
    *floor_state.TABLES,
    SyntheticLatent,
    users.User,
    users.TokenGeneratie,
    grants.CaseloadToekenning,
    grants.CaseloadMelding,
    audit.AuditHead,
    audit.AuditEntry,
    audit.InferenceEntry,
    audit.AuditAnchor,
    audit.AuditRedaction,
    audit.InferenceFloor,
    audit.InferenceRedaction,
    inbox.InboxItem,
    inbox.InboxAfwijzing,
    zoekopdrachten.Zoekopdracht,
    voorstellen.VoorstelMotivatie,
    voorstellen.KandidaatAfwijzing,
)
"""Every table, by its owner; ``tests/api/test_schema.py`` checks that no table is missing."""


def metadata() -> MetaData:
    """The metadata of :data:`TABLES` alone (what the migrations compare against)."""
    return SQLModel.metadata


def _tables() -> list[SQLModel]:
    return [model.__table__ for model in TABLES]  # type: ignore[attr-defined]


def create_all(engine: Engine) -> None:
    """Bring an empty or unversioned database to the code's schema, protect the audit log, count changes; idempotent.

    Raises:
        SchemaTooOld: The database is at an older schema version (``werkmatch db upgrade``).
        SchemaTooNew: The database was migrated by a newer werkmatch.
        NotImplementedError: A database other than SQLite or PostgreSQL (the audit log would go unprotected).
    """
    migrations.prepare(engine, _tables())
    audit_guard.protect(engine)
    store.track_changes(engine)


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """``werkmatch db upgrade``: every missing migration, then the audit log's protection; (version before, after)."""
    done = migrations.upgrade(engine, _tables())
    audit_guard.protect(engine)
    store.track_changes(engine)
    return done
