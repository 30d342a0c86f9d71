"""What an :class:`matching.index_sync.IndexSync` reports of itself: embedding state, counts against the database."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from matching.domain import Client, Vacancy
from matching.index import VectorIndex
from matching.side_state import side_status

IndexSync = Any  # matching.index_sync.IndexSync, which imports this module
TABLES = {"clients": Client, "vacancies": Vacancy}


def embedding_state(index: IndexSync) -> str:
    """``klaar``; ``bezig`` (this process embeds, or the writer embeds what this reader lacks);
    ``wacht`` (records lack a vector and no process embeds them); or ``fout``."""
    if index.embedding_error:
        return "fout"
    if index._worker is not None:
        return "bezig"
    if not any(state.queue for state in index.sides.values()):
        return "klaar"
    return "bezig" if not index.writer and index.writer_pid() is not None else "wacht"


def status(index: IndexSync) -> dict[str, Any]:
    """Indexes against the database (counted), this process's role and the writer's pid.

    Before this process has loaded anything (``werkmatch index status`` without a service) the
    saved files are read: they are what every process starts from.
    """
    with index.lock, Session(index.engine) as session:
        out: dict[str, Any] = {}
        for side in TABLES:
            count = int(session.exec(select(func.count()).select_from(TABLES[side])).one())
            out[side] = _side_status(index, side, count)
    writer = index.writer_pid()
    if index.prepared:
        out["embedding"] = embedding_state(index)
    elif any(out[side]["toEmbed"] for side in TABLES):
        out["embedding"] = "bezig" if writer is not None else "wacht"
    else:
        out["embedding"] = "klaar"
    if index.embedding_error:
        out["embeddingError"] = index.embedding_error
    out["rol"] = "schrijver" if index.writer else "lezer"
    out["schrijver"] = writer
    out["checkedAt"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    return out


def _side_status(index: IndexSync, side: str, db_count: int) -> dict[str, Any]:
    state = index.sides[side]
    model_id = index.embedder.model_id
    if state.vectors is None and index._files_stamp(side) is not None:
        try:  # not loaded here: what the files hold
            return side_status(VectorIndex.load(index.settings.index_dir, side), None, db_count, model_id)
        except (ValueError, RuntimeError, OSError, KeyError):
            pass
    return side_status(state.vectors, state.queue if state.vectors is not None else None, db_count, model_id)
