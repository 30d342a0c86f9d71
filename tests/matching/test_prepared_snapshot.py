"""The prepared indexes on disk (:mod:`matching.prepared_snapshot`): a process that takes the file holds what reading
every record holds, sees every change made after the file was written, and never takes a file of other code.

Real parts, small: 40 generated clients and 15 vacancies (seed 7), the default model; the service's writer
syncs the index files first, then read-only matchers (as the nightly batch's workers are) prepare. SQLite,
and PostgreSQL in the whole suite.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse
from sqlalchemy import delete
from sqlmodel import Session, select

from api.services import schema
from matching import gendered, prepared_snapshot
from matching.disclosure import EVERYONE, OUTSIDER
from matching.domain import Client, Vacancy, utcnow
from matching.embedding import Embedder
from matching.index_sync import READER_EMBED_MAX, SIDES
from matching.matcher import Matcher
from matching.settings import Settings
from matching.store import make_engine
from tests.factories import app_settings, make_client
from training.synthetic import write_streaming

Lists = dict[tuple[str, int], list[tuple[int, float, int]]]


@pytest.fixture
def world(tmp_path: Path, database_url: str, embedder: Embedder) -> Iterator[Settings]:
    """A data directory whose index files the writer has brought up to date; the writer closed."""
    settings = app_settings(tmp_path / "var", database_url=database_url)
    settings.data_dir.mkdir(parents=True)
    engine = make_engine(settings.resolved_database_url)
    schema.create_all(engine)
    write_streaming(engine, 40, 15, seed=7, progress=False)
    writer = Matcher(settings, embedder)
    writer.sync()
    writer.close()
    engine.dispose()
    yield settings


def _reader(settings: Settings, embedder: Embedder) -> Matcher:
    return Matcher(settings, embedder, may_write=False)


def _lists(matcher: Matcher) -> Lists:
    """Every open vacancy's candidates (no caseload) and every client's vacancies, as the batch ranks them."""
    with Session(matcher.engine) as session:
        vacancies = [v.id for v in session.exec(select(Vacancy)) if v.is_open]
        clients = list(session.exec(select(Client.id)))
    lists: Lists = {}
    for ident in vacancies:
        found = matcher.search_candidates(ident, 50, viewer=OUTSIDER)  # type: ignore[arg-type]
        lists["vacatures", ident] = [(r.client_id, r.ranking_score, r.score) for r in found.results]  # type: ignore[index]
    for ident in clients:
        options = matcher.search_vacancies(ident, 20, viewer=EVERYONE)  # type: ignore[arg-type]
        lists["klanten", ident] = [(r.vacancy_id, r.ranking_score, r.score) for r in options.results]  # type: ignore[index]
    return lists


def _same_matrix(first: sparse.spmatrix, second: sparse.spmatrix, strict: bool = True) -> bool:
    """The same arrays, dtypes and all (``strict``), or the same values (a merge leaves a row's entries unsorted)."""
    first, second = first.tocsr(), second.tocsr()
    if not strict:
        return first.shape == second.shape and first.dtype == second.dtype and (first != second).nnz == 0
    parts = ("data", "indices", "indptr")
    return first.shape == second.shape and all(
        getattr(first, part).dtype == getattr(second, part).dtype
        and np.array_equal(getattr(first, part), getattr(second, part))
        for part in parts
    )


def _assert_same_state(taken: Matcher, read: Matcher, strict: bool = True) -> None:
    """Digests, BM25's term frequencies, the structured arrays and the vocabularies, field by field and dtype."""
    assert taken.index.vocab == read.index.vocab
    for side, arrays_taken, arrays_read in zip(SIDES, taken.index.arrays(), read.index.arrays(), strict=True):
        one, other = taken.sides[side], read.sides[side]
        assert one.digests == other.digests
        assert (one.count, one.watermark, one.queue) == (other.count, other.watermark, other.queue)
        (ids, tf), (ids_read, tf_read) = one.lexical.term_rows(), other.lexical.term_rows()
        assert np.array_equal(ids, ids_read) and _same_matrix(tf, tf_read, strict)
        (ids, tf), (ids_read, tf_read) = one.identifiers.bm25.term_rows(), other.identifiers.bm25.term_rows()
        assert np.array_equal(ids, ids_read) and _same_matrix(tf, tf_read, strict)
        assert list(one.identifiers.held.among(ids)) == list(other.identifiers.held.among(ids))
        assert list(one.identifiers.negated.among(ids)) == list(other.identifiers.negated.among(ids))
        assert arrays_taken.position == arrays_read.position
        for item in fields(arrays_read):
            mine, theirs = getattr(arrays_taken, item.name), getattr(arrays_read, item.name)
            if sparse.issparse(theirs):
                assert _same_matrix(mine, theirs, strict), item.name
            elif isinstance(theirs, np.ndarray):
                assert mine.dtype == theirs.dtype and np.array_equal(mine, theirs), item.name
            else:
                assert mine == theirs, item.name


def test_the_second_process_takes_the_file_and_holds_and_answers_what_the_first_read(
    world: Settings, embedder: Embedder
) -> None:
    first, second = _reader(world, embedder), _reader(world, embedder)
    assert prepared_snapshot.prepare(first.index) == "records"
    assert prepared_snapshot.snapshot_path(world).stat().st_size > 0
    assert prepared_snapshot.prepare(second.index) == "bestand"
    _assert_same_state(second, first)
    held = first.sides["vacancies"].identifiers.held
    assert held.names and any(held.among(first.index.arrays()[1].ids))  # the world's vacancies name identifiers
    lists = _lists(second)
    assert sum(len(items) for items in lists.values()) > 100
    assert lists == _lists(first)


@pytest.mark.slow  # its own 55-record world embedded (22 s set-up in a loaded quick run); the test above stays quick
def test_a_change_a_deletion_and_an_insert_after_the_file_are_seen(world: Settings, embedder: Embedder) -> None:
    assert prepared_snapshot.prepare(_reader(world, embedder).index) == "records"
    engine = make_engine(world.resolved_database_url)
    with Session(engine) as session:
        changed, gone = session.exec(select(Client).order_by(Client.id).limit(2)).all()  # type: ignore[arg-type]
        changed.competenties = [{"code": "schoonmaakwerk", "niveau": 3}]
        changed.zelfbeschrijving = "Ik maak graag kantoren schoon, 's avonds."
        changed.updated_at = utcnow()
        session.add(changed)
        session.commit()
        changed_id, gone_id = changed.id, gone.id
        session.execute(delete(Client).where(Client.id == gone_id))  # type: ignore[arg-type]
        closed = session.exec(select(Vacancy).order_by(Vacancy.id.desc())).first()  # type: ignore[union-attr]
        assert closed is not None
        session.execute(delete(Vacancy).where(Vacancy.id == closed.id))  # type: ignore[arg-type]
        session.commit()
        added = make_client(session, competenties=[{"code": "schoonmaakwerk"}]).id
    engine.dispose()
    taken, read = _reader(world, embedder), _reader(world, embedder)
    before = dict(taken.sides["clients"].digests)
    assert prepared_snapshot.prepare(taken.index) == "bestand"
    read.index.catch_up()  # every record read, no file
    digests = taken.sides["clients"].digests
    assert gone_id not in digests and added in digests and closed.id not in taken.sides["vacancies"].digests
    assert changed_id in digests and digests[changed_id] != before.get(changed_id, "")
    assert digests == read.sides["clients"].digests
    assert _lists(taken) == _lists(read)
    later = _reader(world, embedder)  # the next night: the file the catching-up process wrote, nothing to catch up
    assert prepared_snapshot.prepare(later.index) == "bestand"
    _assert_same_state(later, taken, strict=False)
    assert _lists(later) == _lists(read)


@pytest.mark.slow  # its own 55-record world embedded (22 s set-up in a loaded quick run); the test above stays quick
def test_a_file_of_other_code_or_a_broken_file_is_not_taken_and_is_written_again(
    world: Settings, embedder: Embedder
) -> None:
    path = prepared_snapshot.snapshot_path(world)
    assert prepared_snapshot.prepare(_reader(world, embedder).index) == "records"
    with np.load(path) as found:
        items = {name: found[name] for name in found.files}
    items["head"] = np.array(str(items["head"]).replace(prepared_snapshot.snapshot_key(world), "0" * 64))
    with path.open("wb") as out:
        np.savez(out, **items)
    assert prepared_snapshot.prepare(_reader(world, embedder).index) == "records"  # another key: read, written
    assert prepared_snapshot.prepare(_reader(world, embedder).index) == "bestand"
    path.write_bytes(path.read_bytes()[:1000])
    left = path.with_name(f".{path.name}.killed")  # a writer killed mid-write leaves its temporary file
    left.write_bytes(b"half")
    assert prepared_snapshot.prepare(_reader(world, embedder).index) == "records"  # half a file: read, written
    assert not left.exists()
    assert prepared_snapshot.prepare(_reader(world, embedder).index) == "bestand"


@pytest.mark.slow  # embeds its own world twice, reader and writer (49 s in a loaded quick run)
def test_a_file_written_before_the_index_files_existed_is_taken_with_the_vectors_written_since(
    tmp_path: Path, database_url: str, embedder: Embedder
) -> None:
    settings = app_settings(tmp_path / "var", database_url=database_url)
    settings.data_dir.mkdir(parents=True)
    engine = make_engine(settings.resolved_database_url)
    schema.create_all(engine)
    write_streaming(engine, 2 * READER_EMBED_MAX, 10, seed=3, progress=False)
    engine.dispose()
    early = _reader(settings, embedder)
    assert prepared_snapshot.prepare(early.index) == "records"
    assert early.index.pending()["clients"] == 2 * READER_EMBED_MAX  # no index files yet: every vector lacking
    writer = Matcher(settings, embedder)
    writer.sync()
    writer.close()
    taken, read = _reader(settings, embedder), _reader(settings, embedder)
    assert prepared_snapshot.prepare(taken.index) == "bestand"
    read.index.catch_up()
    assert taken.index.pending() == read.index.pending() == {"clients": 0, "vacancies": 0}
    _assert_same_state(taken, read)
    assert _lists(taken) == _lists(read)


def test_every_data_file_the_gendered_fold_reads_is_in_the_key() -> None:
    """The fold renders every record (its known job words, its verb lexicon): a changed file changes the texts."""
    assert gendered.DATA_FILES and set(gendered.DATA_FILES) <= set(prepared_snapshot.DATA_FILES)
    assert all(path.exists() for path in prepared_snapshot.DATA_FILES)
