"""The audit log's protection in the database: append-only triggers and the single-row heads.

:func:`protect` (idempotent; :func:`api.services.schema.create_all` runs it at every start, after the
tables exist) makes the database itself refuse what :mod:`api.services.audit` never does: triggers
refuse every ``UPDATE`` and ``DELETE`` on ``audit_log`` and ``inference_log`` (and ``TRUNCATE`` on
PostgreSQL), refuse an ``audit_log`` insert that does not extend the head by exactly one with the
head's hash, refuse deleting the head and moving it back or onto a hash that is not in the log.
The only changes the logs allow are retention's and erasure's (below). Triggers stop the application
and anyone with plain write rights; someone who may drop triggers or tables can still rewrite
history, which :func:`api.services.audit.verify_chain` then shows unless they recompute every later
hash. To make that visible too, publish or countersign the head (``seq``, ``hash``) outside the
database regularly; on PostgreSQL also run the service under a role without ``TRIGGER``/DDL rights
and without ``UPDATE``/``DELETE`` grants on these tables.

The statements name tables and columns only; what is hashed is :func:`api.services.audit.canonical_json`'s.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from api.services.audit import GENESIS_HASH, TOMBSTONE_ACTION

# The only changes the logs allow (retention and erasure, see api.services.retention and api.services.erasure): deleting
# rows up to the retention anchor / floor, and replacing an erased client's klantnummer in a row that a
# tombstone has registered for redaction; the identity, time and chain fields of a row never change.
_AUDIT_FIXED = ("seq", "at", "actor", "rol", "action", "purpose", "request_id", "prev_hash", "hash")
_INFERENCE_FIXED = ("id", "at", "actor", "kind", "request_id", "model", "index")
_LOG_GUARDS = {
    ("audit_log", "UPDATE"): "NOT EXISTS (SELECT 1 FROM audit_redaction WHERE seq = OLD.seq) OR "
    + " OR ".join(f'NEW."{column}" IS NOT OLD."{column}"' for column in _AUDIT_FIXED),
    ("audit_log", "DELETE"): "OLD.seq > COALESCE((SELECT seq FROM audit_anchor WHERE id = 1), 0) "
    "OR OLD.seq >= COALESCE((SELECT seq FROM audit_head WHERE id = 1), 0)",
    ("inference_log", "UPDATE"): "NOT EXISTS (SELECT 1 FROM inference_redaction WHERE id = OLD.id) OR "
    + " OR ".join(f'NEW."{column}" IS NOT OLD."{column}"' for column in _INFERENCE_FIXED),
    ("inference_log", "DELETE"): "OLD.id > COALESCE((SELECT upto FROM inference_floor WHERE id = 1), 0)",
}

_VERBS = {"UPDATE": "wijzigen", "DELETE": "verwijderen"}
_SQLITE_TRIGGERS = (
    [
        statement
        for (table, op), guard in _LOG_GUARDS.items()
        for statement in (
            # Dropped and made again at every start: databases from before retention had unconditional ones.
            f"DROP TRIGGER IF EXISTS {table}_no_{op.lower()}",
            f"""CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} WHEN {guard}
        BEGIN SELECT RAISE(ABORT, '{table} is alleen-toevoegen: {_VERBS[op]} is niet toegestaan'); END""",
        )
    ]
    + [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_change BEFORE {op} ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} is alleen-toevoegen'); END"""
        for table in ("audit_redaction", "inference_redaction")
        for op in ("UPDATE", "DELETE")
    ]
    + [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_by_tombstone BEFORE INSERT ON {table}
        WHEN NOT EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.tombstone_seq AND action = '{TOMBSTONE_ACTION}')
          {"OR NEW.seq >= NEW.tombstone_seq" if table == "audit_redaction" else ""}
        BEGIN SELECT RAISE(ABORT, '{table}: alleen met een eerdere regel {TOMBSTONE_ACTION} in audit_log'); END"""
        for table in ("audit_redaction", "inference_redaction")
    ]
    + [
        """CREATE TRIGGER IF NOT EXISTS audit_anchor_forward BEFORE UPDATE ON audit_anchor
        WHEN NEW.id IS NOT OLD.id OR NEW.seq < OLD.seq
          OR (NEW.seq = OLD.seq AND NEW.hash IS NOT OLD.hash)
          OR (NEW.seq > OLD.seq AND (NEW.seq >= (SELECT seq FROM audit_head WHERE id = 1)
                                     OR NEW.hash IS NOT (SELECT hash FROM audit_log WHERE seq = NEW.seq)))
        BEGIN SELECT RAISE(ABORT, 'audit_anchor mag alleen vooruit, naar een bestaande regel voor de kop'); END""",
        """CREATE TRIGGER IF NOT EXISTS inference_floor_forward BEFORE UPDATE ON inference_floor
        WHEN NEW.id IS NOT OLD.id OR NEW.upto < OLD.upto
        BEGIN SELECT RAISE(ABORT, 'inference_floor mag alleen vooruit'); END""",
        *[
            f"""CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} mag niet verwijderd worden'); END"""
            for table in ("audit_anchor", "inference_floor")
        ],
        """CREATE TRIGGER IF NOT EXISTS audit_log_extends_head BEFORE INSERT ON audit_log
        WHEN NEW.seq IS NOT (SELECT seq + 1 FROM audit_head WHERE id = 1)
          OR NEW.prev_hash IS NOT (SELECT hash FROM audit_head WHERE id = 1)
        BEGIN SELECT RAISE(ABORT, 'audit_log: een nieuwe regel moet de keten precies één stap verlengen'); END""",
        """CREATE TRIGGER IF NOT EXISTS audit_head_no_delete BEFORE DELETE ON audit_head
        BEGIN SELECT RAISE(ABORT, 'audit_head mag niet verwijderd worden'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS audit_head_forward BEFORE UPDATE ON audit_head
        WHEN NEW.id IS NOT OLD.id OR NEW.seq < OLD.seq
          OR NEW.hash IS NOT (CASE WHEN NEW.seq = 0 THEN '{GENESIS_HASH}'
                                   ELSE (SELECT hash FROM audit_log WHERE seq = NEW.seq) END)
        BEGIN SELECT RAISE(ABORT, 'audit_head mag alleen vooruit, naar een bestaande regel van audit_log'); END""",
    ]
)

# No '%' anywhere: the driver could read it as a parameter marker.
_POSTGRES_DDL = [
    """CREATE OR REPLACE FUNCTION werkmatch_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = TG_TABLE_NAME || ' is alleen-toevoegen: ' || TG_OP || ' is niet toegestaan';
    END $$""",
    """CREATE OR REPLACE FUNCTION werkmatch_audit_extends_head() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        head_seq bigint;
        head_hash text;
    BEGIN
        SELECT seq, hash INTO head_seq, head_hash FROM audit_head WHERE id = 1;
        IF head_seq IS NULL OR NEW.seq IS DISTINCT FROM head_seq + 1 OR NEW.prev_hash IS DISTINCT FROM head_hash THEN
            RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
                MESSAGE = 'audit_log: een nieuwe regel moet de keten precies één stap verlengen';
        END IF;
        RETURN NEW;
    END $$""",
    f"""CREATE OR REPLACE FUNCTION werkmatch_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = 'audit_head mag niet verwijderd worden';
        END IF;
        IF NEW.id IS DISTINCT FROM OLD.id OR NEW.seq < OLD.seq OR NEW.hash IS DISTINCT FROM (
            CASE WHEN NEW.seq = 0 THEN '{GENESIS_HASH}' ELSE (SELECT hash FROM audit_log WHERE seq = NEW.seq) END
        ) THEN
            RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
                MESSAGE = 'audit_head mag alleen vooruit, naar een bestaande regel van audit_log';
        END IF;
        RETURN NEW;
    END $$""",
    *[
        f"""CREATE OR REPLACE FUNCTION werkmatch_{table}_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            IF NOT ({_LOG_GUARDS[(table, "DELETE")]}) THEN
                RETURN OLD;
            END IF;
        ELSIF NOT ({_LOG_GUARDS[(table, "UPDATE")].replace(" IS NOT ", " IS DISTINCT FROM ")}) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = TG_TABLE_NAME || ' is alleen-toevoegen: ' || TG_OP || ' is niet toegestaan';
    END $$"""
        for table in ("audit_log", "inference_log")
    ],
    f"""CREATE OR REPLACE FUNCTION werkmatch_redaction_by_tombstone() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.tombstone_seq AND action = '{TOMBSTONE_ACTION}')
           OR (TG_TABLE_NAME = 'audit_redaction' AND to_jsonb(NEW) ->> 'seq' IS NOT NULL
               AND (to_jsonb(NEW) ->> 'seq')::bigint >= NEW.tombstone_seq) THEN
            RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
                MESSAGE = TG_TABLE_NAME || ': alleen met een eerdere regel {TOMBSTONE_ACTION} in audit_log';
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE OR REPLACE FUNCTION werkmatch_audit_anchor_forward() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' OR NEW.id IS DISTINCT FROM OLD.id OR NEW.seq < OLD.seq
           OR (NEW.seq = OLD.seq AND NEW.hash IS DISTINCT FROM OLD.hash)
           OR (NEW.seq > OLD.seq AND (NEW.seq >= (SELECT seq FROM audit_head WHERE id = 1) OR
               NEW.hash IS DISTINCT FROM (SELECT hash FROM audit_log WHERE seq = NEW.seq))) THEN
            RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
                MESSAGE = 'audit_anchor mag alleen vooruit, naar een bestaande regel voor de kop';
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE OR REPLACE FUNCTION werkmatch_inference_floor_forward() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' OR NEW.id IS DISTINCT FROM OLD.id OR NEW.upto < OLD.upto THEN
            RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
                MESSAGE = 'inference_floor mag alleen vooruit';
        END IF;
        RETURN NEW;
    END $$""",
    *[
        statement
        for table in ("audit_anchor", "inference_floor")
        for statement in (
            f"DROP TRIGGER IF EXISTS {table}_forward ON {table}",
            f"""CREATE TRIGGER {table}_forward BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION werkmatch_{table}_forward()""",
        )
    ],
    *[
        statement
        for table in ("audit_redaction", "inference_redaction")
        for statement in (
            f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}",
            f"""CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION werkmatch_append_only()""",
            f"DROP TRIGGER IF EXISTS {table}_by_tombstone ON {table}",
            f"""CREATE TRIGGER {table}_by_tombstone BEFORE INSERT ON {table}
                FOR EACH ROW EXECUTE FUNCTION werkmatch_redaction_by_tombstone()""",
        )
    ],
    *[
        statement
        for table in ("audit_log", "inference_log")
        for statement in (
            f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}",
            f"""CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION werkmatch_{table}_guard()""",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION werkmatch_append_only()""",
        )
    ],
    "DROP TRIGGER IF EXISTS audit_log_extends_head ON audit_log",
    """CREATE TRIGGER audit_log_extends_head BEFORE INSERT ON audit_log
        FOR EACH ROW EXECUTE FUNCTION werkmatch_audit_extends_head()""",
    "DROP TRIGGER IF EXISTS audit_head_forward ON audit_head",
    """CREATE TRIGGER audit_head_forward BEFORE UPDATE OR DELETE ON audit_head
        FOR EACH ROW EXECUTE FUNCTION werkmatch_audit_head_forward()""",
    "DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_head",
    """CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
        FOR EACH STATEMENT EXECUTE FUNCTION werkmatch_append_only()""",
]


def protect(engine: Engine) -> None:
    """The append-only triggers and the rows of ``audit_head``, ``audit_anchor`` and ``inference_floor``; idempotent.

    The tables must exist (:func:`api.services.schema.create_all` creates them first).

    Raises:
        NotImplementedError: A database other than SQLite or PostgreSQL, which would go unprotected.
    """
    dialect = engine.dialect.name
    if dialect == "sqlite":
        statements = _SQLITE_TRIGGERS
    elif dialect == "postgresql":
        statements = _POSTGRES_DDL
    else:
        raise NotImplementedError(
            f"geen alleen-toevoegen-bescherming voor database '{dialect}'; gebruik SQLite of PostgreSQL"
        )
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :genesis) ON CONFLICT (id) DO NOTHING"),
            {"genesis": GENESIS_HASH},
        )
        connection.execute(
            text("INSERT INTO audit_anchor (id, seq, hash) VALUES (1, 0, :genesis) ON CONFLICT (id) DO NOTHING"),
            {"genesis": GENESIS_HASH},
        )
        connection.execute(text("INSERT INTO inference_floor (id, upto) VALUES (1, 0) ON CONFLICT (id) DO NOTHING"))
        if dialect == "postgresql" and not _owns_audit_log(connection):
            return  # the service role (matching.tenancy): the owner installed the triggers, it may not replace them
        for statement in statements:
            connection.exec_driver_sql(statement)


def _owns_audit_log(connection: Connection) -> bool:
    """Whether the connected PostgreSQL role owns ``audit_log``; a role that does not finds the triggers in place.

    Raises:
        RuntimeError: The triggers are missing and this role may not make them (Dutch, names the command).
    """
    owner = connection.execute(
        text("SELECT pg_get_userbyid(relowner) = current_user FROM pg_class WHERE relname = 'audit_log'")
    ).scalar_one()
    if owner:
        return True
    present = connection.execute(
        text("SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_log_extends_head' AND NOT tgisinternal")
    ).scalar_one()
    if not present:
        raise RuntimeError(
            "de bescherming van het auditlog ontbreekt en deze databaserol mag haar niet maken; "
            "draai 'werkmatch db upgrade' als eigenaar van de tabellen"
        )
    return False
