"""Today's schema (December 2026): every table of werkmatch as ``api.services.schema.create_all`` made it.

Every database werkmatch created before migrations existed has exactly this schema; such a database
is adopted at this revision (:func:`api.services.migrations.prepare`).

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import matching.columns

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_anchor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("at", matching.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("rol", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column(
            "subjects", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "details", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False
        ),
        sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index(op.f("ix_audit_log_action"), "audit_log", ["action"], unique=False)
    op.create_index(op.f("ix_audit_log_actor"), "audit_log", ["actor"], unique=False)
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_table(
        "audit_redaction",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("tombstone_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index(op.f("ix_audit_redaction_tombstone_seq"), "audit_redaction", ["tombstone_seq"], unique=False)
    op.create_table(
        "caseload_toekenning",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("consulent", sa.String(length=80), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("aangevraagd_door", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("aangevraagd_op", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("beoordeeld_door", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("beoordeeld_op", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_caseload_toekenning_consulent"), "caseload_toekenning", ["consulent"], unique=False)
    op.create_index(op.f("ix_caseload_toekenning_status"), "caseload_toekenning", ["status"], unique=False)
    op.create_index(op.f("ix_caseload_toekenning_username"), "caseload_toekenning", ["username"], unique=False)
    op.create_table(
        "client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_nummer", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("consulent", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("trede", sa.Integer(), nullable=False),
        sa.Column("route", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("postcode", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("competenties", sa.JSON(), nullable=False),
        sa.Column("werkervaring", sa.JSON(), nullable=False),
        sa.Column("opleidingsniveau", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("taalniveau", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("certificaten", sa.JSON(), nullable=False),
        sa.Column("rijbewijs", sa.JSON(), nullable=False),
        sa.Column("vervoermiddel", sa.JSON(), nullable=False),
        sa.Column("uren_min", sa.Integer(), nullable=False),
        sa.Column("uren_max", sa.Integer(), nullable=False),
        sa.Column("beschikbaar_per", sa.Date(), nullable=True),
        sa.Column("wensen", sa.JSON(), nullable=False),
        sa.Column("beperkingen", sa.JSON(), nullable=False),
        sa.Column("zelfbeschrijving", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("notities", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_client_client_nummer"), "client", ["client_nummer"], unique=True)
    op.create_index(op.f("ix_client_consulent"), "client", ["consulent"], unique=False)
    op.create_index(op.f("ix_client_updated_at"), "client", ["updated_at"], unique=False)
    op.create_table(
        "embedding_cache",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model_id", "content_hash"),
    )
    op.create_index(op.f("ix_embedding_cache_model_id"), "embedding_cache", ["model_id"], unique=False)
    op.create_table(
        "gebruiker",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column(
            "rol",
            sa.Enum(
                "werkconsulent",
                "accountmanager",
                "data_scientist",
                "beheerder",
                name="rol",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("consulent", sa.String(length=80), nullable=True),
        sa.Column("naam", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("actief", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_gebruiker_consulent"), "gebruiker", ["consulent"], unique=False)
    op.create_index(op.f("ix_gebruiker_username"), "gebruiker", ["username"], unique=True)
    op.create_table(
        "inference_floor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("upto", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "inference_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", matching.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("query_ref", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("model", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False),
        sa.Column("index", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False),
        sa.Column("inputs", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False),
        sa.Column("output", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_inference_log_at"), "inference_log", ["at"], unique=False)
    op.create_index(op.f("ix_inference_log_query_ref"), "inference_log", ["query_ref"], unique=False)
    op.create_index(op.f("ix_inference_log_request_id"), "inference_log", ["request_id"], unique=False)
    op.create_table(
        "inference_redaction",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("tombstone_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_inference_redaction_tombstone_seq"), "inference_redaction", ["tombstone_seq"], unique=False
    )
    op.create_table(
        "runtime_setting",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("changed_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "synthetic_latent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("factors", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "entity_id"),
    )
    op.create_index(op.f("ix_synthetic_latent_entity_id"), "synthetic_latent", ["entity_id"], unique=False)
    op.create_index(op.f("ix_synthetic_latent_kind"), "synthetic_latent", ["kind"], unique=False)
    op.create_table(
        "token_generatie",
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("generatie", sa.Integer(), nullable=False),
        sa.Column("gewijzigd_op", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )
    op.create_table(
        "vacancy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vacature_nummer", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("bron", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("werkgever", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("titel", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("beroep_code", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("beroep_label", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("omschrijving", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("postcode", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("uren_min", sa.Integer(), nullable=False),
        sa.Column("uren_max", sa.Integer(), nullable=False),
        sa.Column("werktijden", sa.JSON(), nullable=False),
        sa.Column("belasting", sa.JSON(), nullable=False),
        sa.Column("competenties_vereist", sa.JSON(), nullable=False),
        sa.Column("competenties_gewenst", sa.JSON(), nullable=False),
        sa.Column("certificaten", sa.JSON(), nullable=False),
        sa.Column("taalniveau", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("rijbewijs", sa.JSON(), nullable=False),
        sa.Column("plaatsingsvorm", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("jobcoach", sa.Boolean(), nullable=False),
        sa.Column("jobcarving", sa.Boolean(), nullable=False),
        sa.Column("aantal_plaatsen", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("sluitingsdatum", sa.Date(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_vacancy_beroep_code"), "vacancy", ["beroep_code"], unique=False)
    op.create_index(op.f("ix_vacancy_bron"), "vacancy", ["bron"], unique=False)
    op.create_index(op.f("ix_vacancy_status"), "vacancy", ["status"], unique=False)
    op.create_index(op.f("ix_vacancy_updated_at"), "vacancy", ["updated_at"], unique=False)
    op.create_index(op.f("ix_vacancy_vacature_nummer"), "vacancy", ["vacature_nummer"], unique=True)
    op.create_table(
        "audit_kenmerken",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("geslacht", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("geboortejaar", sa.Integer(), nullable=True),
        sa.Column("migratieachtergrond", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("client_id"),
    )
    op.create_table(
        "caseload_melding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consulent", sa.String(length=80), nullable=False),
        sa.Column("toekenning_id", sa.Integer(), nullable=False),
        sa.Column("tekst", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["toekenning_id"],
            ["caseload_toekenning.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_caseload_melding_consulent"), "caseload_melding", ["consulent"], unique=False)
    op.create_index(op.f("ix_caseload_melding_toekenning_id"), "caseload_melding", ["toekenning_id"], unique=False)
    op.create_table(
        "client_personalia",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("voornaam", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("achternaam", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("telefoon", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("client_id"),
    )
    op.create_table(
        "exposure_entry",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("vacancy_id", sa.Integer(), nullable=False),
        sa.Column("shown_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["vacancy_id"], ["vacancy.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("client_id", "vacancy_id"),
    )
    op.create_index(op.f("ix_exposure_entry_shown_at"), "exposure_entry", ["shown_at"], unique=False)
    op.create_index(op.f("ix_exposure_entry_vacancy_id"), "exposure_entry", ["vacancy_id"], unique=False)
    op.create_table(
        "kandidaat_afwijzing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("vacancy_id", sa.Integer(), nullable=False),
        sa.Column("consulent", sa.String(length=80), nullable=False),
        sa.Column("reason_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("toelichting", sa.String(length=500), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("at", matching.columns.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["vacancy_id"], ["vacancy.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_kandidaat_afwijzing_actor"), "kandidaat_afwijzing", ["actor"], unique=False)
    op.create_index(op.f("ix_kandidaat_afwijzing_at"), "kandidaat_afwijzing", ["at"], unique=False)
    op.create_index(op.f("ix_kandidaat_afwijzing_client_id"), "kandidaat_afwijzing", ["client_id"], unique=False)
    op.create_index(op.f("ix_kandidaat_afwijzing_consulent"), "kandidaat_afwijzing", ["consulent"], unique=False)
    op.create_index(op.f("ix_kandidaat_afwijzing_vacancy_id"), "kandidaat_afwijzing", ["vacancy_id"], unique=False)
    op.create_table(
        "voorstel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("vacancy_id", sa.Integer(), nullable=False),
        sa.Column("made_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("made_by_role", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("model_version", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("created_at", matching.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", matching.columns.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["vacancy_id"], ["vacancy.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_voorstel_client_id"), "voorstel", ["client_id"], unique=False)
    op.create_index(op.f("ix_voorstel_made_by"), "voorstel", ["made_by"], unique=False)
    op.create_index(op.f("ix_voorstel_status"), "voorstel", ["status"], unique=False)
    op.create_index(op.f("ix_voorstel_updated_at"), "voorstel", ["updated_at"], unique=False)
    op.create_index(op.f("ix_voorstel_vacancy_id"), "voorstel", ["vacancy_id"], unique=False)
    op.create_index(
        "uq_voorstel_open_pair",
        "voorstel",
        ["client_id", "vacancy_id"],
        unique=True,
        sqlite_where=sa.text("status IN ('aangenomen', 'geplaatst', 'uitgenodigd', 'voorgesteld')"),
        postgresql_where=sa.text("status IN ('aangenomen', 'geplaatst', 'uitgenodigd', 'voorgesteld')"),
    )
    op.create_table(
        "zoekopdracht",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consulent", sa.String(length=80), nullable=False),
        sa.Column("made_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("min_score", sa.Float(), nullable=False),
        sa.Column("top", sa.Integer(), nullable=False),
        sa.Column("created_at", matching.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_run_at", matching.columns.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_zoekopdracht_client_id"), "zoekopdracht", ["client_id"], unique=False)
    op.create_index(op.f("ix_zoekopdracht_consulent"), "zoekopdracht", ["consulent"], unique=False)
    op.create_index(op.f("ix_zoekopdracht_created_at"), "zoekopdracht", ["created_at"], unique=False)
    op.create_table(
        "inbox_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("soort", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("consulent", sa.String(length=80), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("vacancy_id", sa.Integer(), nullable=False),
        sa.Column("voorstel_id", sa.Integer(), nullable=True),
        sa.Column("zoekopdracht_id", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("uitkomst", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("sender", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("toelichting", sa.String(length=500), nullable=True),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("model_version", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("maanden", sa.Integer(), nullable=True),
        sa.Column("created_at", matching.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("handled_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("handled_at", matching.columns.UTCDateTime(timezone=True), nullable=True),
        sa.Column("handled_note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["vacancy_id"], ["vacancy.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["voorstel_id"], ["voorstel.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["zoekopdracht_id"], ["zoekopdracht.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_inbox_item_client_id"), "inbox_item", ["client_id"], unique=False)
    op.create_index(op.f("ix_inbox_item_consulent"), "inbox_item", ["consulent"], unique=False)
    op.create_index(op.f("ix_inbox_item_created_at"), "inbox_item", ["created_at"], unique=False)
    op.create_index(op.f("ix_inbox_item_due"), "inbox_item", ["due"], unique=False)
    op.create_index(op.f("ix_inbox_item_soort"), "inbox_item", ["soort"], unique=False)
    op.create_index(op.f("ix_inbox_item_status"), "inbox_item", ["status"], unique=False)
    op.create_index(op.f("ix_inbox_item_vacancy_id"), "inbox_item", ["vacancy_id"], unique=False)
    op.create_index(op.f("ix_inbox_item_voorstel_id"), "inbox_item", ["voorstel_id"], unique=False)
    op.create_index(
        "uq_inbox_nazorg",
        "inbox_item",
        ["voorstel_id", "maanden"],
        unique=True,
        sqlite_where=sa.text("soort = 'nazorg'"),
        postgresql_where=sa.text("soort = 'nazorg'"),
    )
    op.create_index(
        "uq_inbox_zoekopdracht_pair",
        "inbox_item",
        ["client_id", "vacancy_id"],
        unique=True,
        sqlite_where=sa.text("soort = 'zoekopdracht'"),
        postgresql_where=sa.text("soort = 'zoekopdracht'"),
    )
    op.create_table(
        "voorstel_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("voorstel_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("to_status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reason_code", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("toelichting", sa.String(length=500), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("at", matching.columns.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["voorstel_id"], ["voorstel.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_voorstel_event_voorstel_id"), "voorstel_event", ["voorstel_id"], unique=False)
    op.create_table(
        "voorstel_motivatie",
        sa.Column("voorstel_id", sa.Integer(), nullable=False),
        sa.Column("reason_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("at", matching.columns.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["voorstel_id"], ["voorstel.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("voorstel_id"),
    )
    op.create_index(op.f("ix_voorstel_motivatie_at"), "voorstel_motivatie", ["at"], unique=False)
    op.create_table(
        "inbox_afwijzing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inbox_item_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("vacancy_id", sa.Integer(), nullable=False),
        sa.Column("soort", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("reason_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("toelichting", sa.String(length=500), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("at", matching.columns.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["inbox_item_id"], ["inbox_item.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["vacancy_id"], ["vacancy.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("inbox_item_id"),
    )
    op.create_index(op.f("ix_inbox_afwijzing_at"), "inbox_afwijzing", ["at"], unique=False)
    op.create_index(op.f("ix_inbox_afwijzing_client_id"), "inbox_afwijzing", ["client_id"], unique=False)
    op.create_index(op.f("ix_inbox_afwijzing_vacancy_id"), "inbox_afwijzing", ["vacancy_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_inbox_afwijzing_vacancy_id"), table_name="inbox_afwijzing")
    op.drop_index(op.f("ix_inbox_afwijzing_client_id"), table_name="inbox_afwijzing")
    op.drop_index(op.f("ix_inbox_afwijzing_at"), table_name="inbox_afwijzing")
    op.drop_table("inbox_afwijzing")
    op.drop_index(op.f("ix_voorstel_motivatie_at"), table_name="voorstel_motivatie")
    op.drop_table("voorstel_motivatie")
    op.drop_index(op.f("ix_voorstel_event_voorstel_id"), table_name="voorstel_event")
    op.drop_table("voorstel_event")
    op.drop_index(
        "uq_inbox_zoekopdracht_pair",
        table_name="inbox_item",
        sqlite_where=sa.text("soort = 'zoekopdracht'"),
        postgresql_where=sa.text("soort = 'zoekopdracht'"),
    )
    op.drop_index(
        "uq_inbox_nazorg",
        table_name="inbox_item",
        sqlite_where=sa.text("soort = 'nazorg'"),
        postgresql_where=sa.text("soort = 'nazorg'"),
    )
    op.drop_index(op.f("ix_inbox_item_voorstel_id"), table_name="inbox_item")
    op.drop_index(op.f("ix_inbox_item_vacancy_id"), table_name="inbox_item")
    op.drop_index(op.f("ix_inbox_item_status"), table_name="inbox_item")
    op.drop_index(op.f("ix_inbox_item_soort"), table_name="inbox_item")
    op.drop_index(op.f("ix_inbox_item_due"), table_name="inbox_item")
    op.drop_index(op.f("ix_inbox_item_created_at"), table_name="inbox_item")
    op.drop_index(op.f("ix_inbox_item_consulent"), table_name="inbox_item")
    op.drop_index(op.f("ix_inbox_item_client_id"), table_name="inbox_item")
    op.drop_table("inbox_item")
    op.drop_index(op.f("ix_zoekopdracht_created_at"), table_name="zoekopdracht")
    op.drop_index(op.f("ix_zoekopdracht_consulent"), table_name="zoekopdracht")
    op.drop_index(op.f("ix_zoekopdracht_client_id"), table_name="zoekopdracht")
    op.drop_table("zoekopdracht")
    op.drop_index(
        "uq_voorstel_open_pair",
        table_name="voorstel",
        sqlite_where=sa.text("status IN ('aangenomen', 'geplaatst', 'uitgenodigd', 'voorgesteld')"),
        postgresql_where=sa.text("status IN ('aangenomen', 'geplaatst', 'uitgenodigd', 'voorgesteld')"),
    )
    op.drop_index(op.f("ix_voorstel_vacancy_id"), table_name="voorstel")
    op.drop_index(op.f("ix_voorstel_updated_at"), table_name="voorstel")
    op.drop_index(op.f("ix_voorstel_status"), table_name="voorstel")
    op.drop_index(op.f("ix_voorstel_made_by"), table_name="voorstel")
    op.drop_index(op.f("ix_voorstel_client_id"), table_name="voorstel")
    op.drop_table("voorstel")
    op.drop_index(op.f("ix_kandidaat_afwijzing_vacancy_id"), table_name="kandidaat_afwijzing")
    op.drop_index(op.f("ix_kandidaat_afwijzing_consulent"), table_name="kandidaat_afwijzing")
    op.drop_index(op.f("ix_kandidaat_afwijzing_client_id"), table_name="kandidaat_afwijzing")
    op.drop_index(op.f("ix_kandidaat_afwijzing_at"), table_name="kandidaat_afwijzing")
    op.drop_index(op.f("ix_kandidaat_afwijzing_actor"), table_name="kandidaat_afwijzing")
    op.drop_table("kandidaat_afwijzing")
    op.drop_index(op.f("ix_exposure_entry_vacancy_id"), table_name="exposure_entry")
    op.drop_index(op.f("ix_exposure_entry_shown_at"), table_name="exposure_entry")
    op.drop_table("exposure_entry")
    op.drop_table("client_personalia")
    op.drop_index(op.f("ix_caseload_melding_toekenning_id"), table_name="caseload_melding")
    op.drop_index(op.f("ix_caseload_melding_consulent"), table_name="caseload_melding")
    op.drop_table("caseload_melding")
    op.drop_table("audit_kenmerken")
    op.drop_index(op.f("ix_vacancy_vacature_nummer"), table_name="vacancy")
    op.drop_index(op.f("ix_vacancy_updated_at"), table_name="vacancy")
    op.drop_index(op.f("ix_vacancy_status"), table_name="vacancy")
    op.drop_index(op.f("ix_vacancy_bron"), table_name="vacancy")
    op.drop_index(op.f("ix_vacancy_beroep_code"), table_name="vacancy")
    op.drop_table("vacancy")
    op.drop_table("token_generatie")
    op.drop_index(op.f("ix_synthetic_latent_kind"), table_name="synthetic_latent")
    op.drop_index(op.f("ix_synthetic_latent_entity_id"), table_name="synthetic_latent")
    op.drop_table("synthetic_latent")
    op.drop_table("runtime_setting")
    op.drop_index(op.f("ix_inference_redaction_tombstone_seq"), table_name="inference_redaction")
    op.drop_table("inference_redaction")
    op.drop_index(op.f("ix_inference_log_request_id"), table_name="inference_log")
    op.drop_index(op.f("ix_inference_log_query_ref"), table_name="inference_log")
    op.drop_index(op.f("ix_inference_log_at"), table_name="inference_log")
    op.drop_table("inference_log")
    op.drop_table("inference_floor")
    op.drop_index(op.f("ix_gebruiker_username"), table_name="gebruiker")
    op.drop_index(op.f("ix_gebruiker_consulent"), table_name="gebruiker")
    op.drop_table("gebruiker")
    op.drop_index(op.f("ix_embedding_cache_model_id"), table_name="embedding_cache")
    op.drop_table("embedding_cache")
    op.drop_index(op.f("ix_client_updated_at"), table_name="client")
    op.drop_index(op.f("ix_client_consulent"), table_name="client")
    op.drop_index(op.f("ix_client_client_nummer"), table_name="client")
    op.drop_table("client")
    op.drop_index(op.f("ix_caseload_toekenning_username"), table_name="caseload_toekenning")
    op.drop_index(op.f("ix_caseload_toekenning_status"), table_name="caseload_toekenning")
    op.drop_index(op.f("ix_caseload_toekenning_consulent"), table_name="caseload_toekenning")
    op.drop_table("caseload_toekenning")
    op.drop_index(op.f("ix_audit_redaction_tombstone_seq"), table_name="audit_redaction")
    op.drop_table("audit_redaction")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_actor"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_action"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("audit_head")
    op.drop_table("audit_anchor")
