"""Every table of werkmatch, created in one place: :func:`create_all`.

Each module owns its tables (the domain core in :mod:`matching`, training's latent factors, and each
service its own); this module only lists them and creates them, idempotently, with the audit log's
protection (:func:`api.services.audit_guard.protect`). The app calls it once at start (its
lifespan), the CLI before a command that writes, and the tests for their databases. Nothing else
creates tables on the fly. A later migration tool (Alembic) takes :data:`TABLES` as its metadata.

SQLite and PostgreSQL are both supported: the tables are plain SQLAlchemy, the protection has a
branch for each.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from api.services import audit, audit_guard, grants, inbox, users, voorstellen, zoekopdrachten
from matching import store
from training.latent import SyntheticLatent

TABLES: tuple[type[SQLModel], ...] = (
    *store.TABLES,
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


def create_all(engine: Engine) -> None:
    """Create every table of :data:`TABLES` that does not exist, then protect the audit log; idempotent.

    Raises:
        NotImplementedError: A database other than SQLite or PostgreSQL (the audit log would go unprotected).
    """
    SQLModel.metadata.create_all(engine, tables=[model.__table__ for model in TABLES])  # type: ignore[attr-defined]
    audit_guard.protect(engine)
