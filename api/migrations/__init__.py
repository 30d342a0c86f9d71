"""Alembic's migrations of werkmatch's database (:mod:`api.services.migrations` runs them)."""
