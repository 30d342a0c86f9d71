"""One writer of index files per data directory (matching.index_lock, index_sync), with a real second process."""

from __future__ import annotations

import os
import subprocess
import textwrap
import time
from collections.abc import Iterator

import pytest
from sqlmodel import Session, delete, select

from matching import index_lock
from matching.domain import Client, utcnow
from matching.index import VectorIndex
from matching.matcher import Matcher
from matching.settings import Settings
from tests.factories import make_client, make_vacancy, writer_process

WRITER = textwrap.dedent(
    """
    import os
    import sys
    from matching import index_sync
    from matching.matcher import Matcher
    from matching.settings import Settings

    index_sync.SAVE_EVERY_S = float(os.environ["SAVE_EVERY_S"])  # the test waits for the writer's round
    matcher = Matcher(Settings())
    matcher.sync()
    print("schrijver" if matcher.index.writer else "lezer", flush=True)
    sys.stdin.readline()  # holds the lock until the test says so
    """
)


def saved_client_ids(settings: Settings) -> set[int]:
    """The ids in the writer's saved client index; a load caught between its two files is tried again.

    The writer replaces ``clients.faiss`` and then ``clients.json``: in between, the two disagree and a
    load says so (a reader's ``_reload`` skips such a moment the same way).
    """
    for _ in range(50):
        try:
            return set(VectorIndex.load(settings.index_dir, "clients").hashes)
        except ValueError:
            time.sleep(0.05)
    raise AssertionError("the saved client index stayed inconsistent")


def index_files(settings: Settings) -> dict[str, int]:
    return {path.name: path.stat().st_mtime_ns for path in sorted(settings.index_dir.glob("*"))}


@pytest.fixture
def writer(settings: Settings) -> Iterator[subprocess.Popen[str]]:
    """Another process that syncs the data directory and then holds the writer's lock."""
    engine = Matcher(settings, may_write=False).engine
    with Session(engine) as session:
        for number in ("K-1", "K-2", "K-3"):
            make_client(session, client_nummer=number)
        make_vacancy(session, vacature_nummer="V-1")
    env = {**os.environ, "WERKMATCH_DATA_DIR": str(settings.data_dir), "SAVE_EVERY_S": "0.5"}
    with writer_process(WRITER, env=env) as process:
        yield process


@pytest.mark.slow  # the quick subset stays under 3 minutes; CI runs it
def test_a_second_process_reads_the_writers_files_and_writes_none(settings, embedder, writer) -> None:
    before = index_files(settings)
    assert {"clients.faiss", "clients.json", "vacancies.faiss", "vacancies.json"} <= set(before)
    reader = Matcher(settings, embedder=embedder)  # may write, but another process does
    assert reader.sync() == {  # read from the writer's files: nothing left to embed
        "clients": {"records": 3, "embedded": 0, "removed": 0},
        "vacancies": {"records": 1, "embedded": 0, "removed": 0},
    }
    status = reader.status()
    assert status["rol"] == "lezer" and status["schrijver"] == writer.pid
    assert status["embedding"] == "klaar" and status["clients"]["inSync"]
    with Session(reader.engine) as session:  # a saved change: the reader embeds it in memory only
        row = session.exec(select(Client).where(Client.client_nummer == "K-2")).one()
        row.zelfbeschrijving, row.updated_at = "Ik wil als heftruckchauffeur werken.", utcnow()
        session.add(row)
        session.commit()
    assert {item["klantId"] for item in reader.search_candidates("V-1", 5).to_json()["resultaten"]} == {
        "K-1",
        "K-2",
        "K-3",
    }
    assert reader.index.pending() == {"clients": 0, "vacancies": 0}
    reader.close()
    assert index_files(settings) == before  # searched, changed, closed: not one index file written


@pytest.mark.slow  # the quick subset stays under 3 minutes; CI runs it
def test_the_writer_drops_a_deleted_record_from_its_files_without_a_search(settings, embedder, writer) -> None:
    """A row deleted by another process (an erasure on a reader) leaves the writer's files within SAVE_EVERY_S."""
    reader = Matcher(settings, embedder=embedder)
    reader.sync()
    with Session(reader.engine) as session:
        gone = session.exec(select(Client.id).where(Client.client_nummer == "K-2")).one()
        session.exec(delete(Client).where(Client.id == gone))  # type: ignore[call-overload]
        session.commit()
    assert gone in saved_client_ids(settings)
    deadline = time.monotonic() + 30
    while gone in saved_client_ids(settings) and time.monotonic() < deadline:
        time.sleep(0.2)  # nobody searches: the writer's own round (every 0.5 s here) takes it out
    assert saved_client_ids(settings) == {key for key in reader.index.sides["clients"].texts if key != gone}
    assert not reader.index.writer
    reader.close()


def test_the_writer_catches_up_with_deletions_in_process(settings, embedder) -> None:
    """The writer's own check: a count per side, and the files rewritten only when something was deleted."""
    matcher = Matcher(settings, embedder=embedder)
    with Session(matcher.engine) as session:
        for number in ("K-1", "K-2"):
            make_client(session, client_nummer=number)
        make_vacancy(session, vacature_nummer="V-1")
    matcher.sync()
    before = index_files(settings)
    assert matcher.index.catch_up_deletions() is False and index_files(settings) == before
    with Session(matcher.engine) as session:
        session.exec(delete(Client).where(Client.client_nummer == "K-1"))  # type: ignore[call-overload]
        session.commit()
    assert matcher.index.catch_up_deletions() is True
    assert len(VectorIndex.load(settings.index_dir, "clients")) == 1
    matcher.close()


@pytest.mark.slow  # the quick subset stays under 3 minutes; CI runs it
def test_a_reader_takes_over_when_the_writer_stops(settings, embedder, writer) -> None:
    reader = Matcher(settings, embedder=embedder)
    reader.sync()
    assert not reader.index.writer
    writer.stdin.write("stop\n")  # type: ignore[union-attr]
    writer.stdin.flush()  # type: ignore[union-attr]
    writer.wait(timeout=30)
    reader.search_candidates("V-1", 3).to_json()  # the next search asks for the lock again
    assert reader.index.writer and reader.status()["rol"] == "schrijver"
    reader.close()
    assert index_lock.writer_pid(settings.data_dir) is None


def test_a_process_that_may_not_write_stays_a_reader_and_says_what_is_missing(settings, embedder) -> None:
    reading = Matcher(settings, embedder=embedder, may_write=False)
    with Session(reading.engine) as session:
        make_client(session, client_nummer="K-1")
        make_vacancy(session, vacature_nummer="V-1")
    status = reading.status()
    assert status["rol"] == "lezer" and status["schrijver"] is None
    assert status["embedding"] == "wacht" and status["clients"]["toEmbed"] == 1  # nobody embeds: it says so
    reading.sync(background=True)  # loads what there is; a reader embeds only a few records itself
    assert reading.index.pending() == {"clients": 0, "vacancies": 0}
    assert index_files(settings) == {}  # and writes no index file
    assert not reading.index.writer and index_lock.writer_pid(settings.data_dir) is None


def test_the_lock_is_shared_within_a_process(settings, embedder) -> None:
    first = Matcher(settings, embedder=embedder)
    second = Matcher(settings, embedder=embedder)
    assert first.index.writer and second.index.writer
    assert index_lock.writer_pid(settings.data_dir) == os.getpid()
    first.close()
    assert index_lock.writer_pid(settings.data_dir) == os.getpid()  # the second still holds it
    second.close()
    assert index_lock.writer_pid(settings.data_dir) is None
