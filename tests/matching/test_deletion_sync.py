"""A deleted record leaves the live index by its id alone: the side's ids read, not its rows (no re-read of every
record, rendering and BM25 counting: minutes at national size), and what is held then equals the side read again
from the database: arrays, BM25 scores, vectors, digests and the list a search gives. Real SQLite, model, FAISS."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest
from scipy import sparse
from sqlmodel import Session, select

from matching import index_sync
from matching.domain import Client, utcnow
from matching.matcher import Matcher
from tests.factories import SCHOONMAAKWERK, SCHOONMAKER, make_client, make_vacancy

TEXTS = [
    "Ik werkte jaren als orderpicker in een magazijn.",
    "Schoonmaker in kantoren en scholen, ook in de avond.",
    "Heftruckchauffeur met certificaat en VCA, zoekt werk in logistiek.",
    "Kassamedewerker in een supermarkt, klantvriendelijk.",
    "Zorgmedewerker in de thuiszorg, wil graag in een verpleeghuis werken.",
    "Bakker met ervaring in een ambachtelijke bakkerij.",
    "Magazijnmedewerker, orderpicken en inpakken.",
]


@pytest.fixture
def world(settings, embedder) -> Matcher:
    matcher = Matcher(settings, embedder=embedder)
    with Session(matcher.engine) as session:
        for at, text in enumerate(TEXTS):
            fields_of = {**SCHOONMAKER, "zelfbeschrijving": text} if at == 1 else {"zelfbeschrijving": text}
            make_client(session, client_nummer=f"K-{at}", **fields_of)
        make_vacancy(session, vacature_nummer="V-ORDER")
        make_vacancy(session, vacature_nummer="V-SCHOON", **SCHOONMAAKWERK)
    matcher.sync()
    matcher.search_candidates("V-ORDER", top=5)  # lookups and BM25 built, as after any search
    return matcher


def _held(matcher: Matcher) -> dict[str, object]:
    """What the index holds of the clients' side after two searches (which catch up first), to compare."""
    lists = [matcher.search_candidates(ref, top=10).to_json() for ref in ("V-ORDER", "V-SCHOON")]
    index = matcher.index
    state = index.sides["clients"]
    arrays = index._clients
    assert arrays is not None and state.vectors is not None
    ids = arrays.ids
    return {
        "arrays": {item.name: getattr(arrays, item.name) for item in fields(arrays) if item.name != "position"},
        "position": dict(arrays.position),
        "bm25": [state.lexical.scores_for(query, ids) for query in ("magazijn orderpicker", "schoonmaker", "bakker")],
        "identifierBm25": [state.identifiers.bm25.scores_for(query, ids) for query in ("VCA heftruck", "CE", "EPT")],
        "held": dict(zip(ids.tolist(), state.identifiers.held.among(ids), strict=True)),
        "negated": dict(zip(ids.tolist(), state.identifiers.negated.among(ids), strict=True)),
        "vectors": sorted(state.vectors.hashes.items()),
        "digests": sorted(state.digests.items()),
        "count": state.count,
        "lists": lists,
    }


def _same(left: object, right: object, where: str = "") -> None:
    if isinstance(left, dict):
        assert isinstance(right, dict) and left.keys() == right.keys(), where
        for key in left:
            _same(left[key], right[key], f"{where}.{key}")
    elif sparse.issparse(left):
        assert sparse.issparse(right) and left.shape == right.shape, where
        assert left.dtype == right.dtype and (left != right).nnz == 0, where
    elif isinstance(left, np.ndarray):
        assert isinstance(right, np.ndarray) and left.dtype == right.dtype, where
        assert np.array_equal(left, right, equal_nan=left.dtype.kind == "f"), where
    elif isinstance(left, list) and left and isinstance(left[0], np.ndarray):
        assert len(left) == len(right), where
        for at, (one, other) in enumerate(zip(left, right, strict=True)):
            _same(one, other, f"{where}[{at}]")
    else:
        assert left == right, where


def _delete(matcher: Matcher, *refs: str) -> None:
    with Session(matcher.engine) as session:
        for ref in refs:
            session.delete(session.exec(select(Client).where(Client.client_nummer == ref)).one())
        session.commit()


def test_a_deletion_and_a_change_are_taken_up_without_reading_the_side_again(
    world: Matcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = []
    read_side = index_sync.read_side
    monkeypatch.setattr(index_sync, "read_side", lambda *args: reads.append(args) or read_side(*args))
    _delete(world, "K-0", "K-3")
    with Session(world.engine) as session:  # and a change in the same catch-up
        row = session.exec(select(Client).where(Client.client_nummer == "K-6")).one()
        row.zelfbeschrijving, row.updated_at = "Bakker en magazijnmedewerker, rijbewijs CE.", utcnow()
        session.add(row)
        session.commit()
        make_client(session, client_nummer="K-NIEUW", zelfbeschrijving="Orderpicker met EPT en VCA, geen BHV.")
    held = _held(world)
    assert not reads  # the deletion was read from the ids alone
    shown = [item["klantId"] for item in held["lists"][0]["resultaten"]]  # type: ignore[index]
    assert "K-0" not in shown and "K-3" not in shown and len(world.index._clients.ids) == len(TEXTS) - 1
    names = {name for found in held["held"].values() for name in found}  # type: ignore[attr-defined]
    assert {"cert:ept", "cert:vca", "rijbewijs:ce"} <= names and "cert:bhv" not in names  # the change and the insert
    assert {"cert:bhv"} in held["negated"].values()  # type: ignore[attr-defined]
    with Session(world.engine) as session:
        world.index._prepare_side(session, "clients")  # the side read again from the database
    assert len(reads) == 1
    _same(held, _held(world))


def test_the_writer_drops_a_deleted_record_by_its_id_and_writes_its_files(
    world: Matcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = []
    read_side = index_sync.read_side
    monkeypatch.setattr(index_sync, "read_side", lambda *args: reads.append(args) or read_side(*args))
    _delete(world, "K-6")
    assert world.index.catch_up_deletions()
    assert not reads and world.index.sides["clients"].count == len(TEXTS) - 1
    assert not world.index.sides["clients"].unsaved  # the files written
    held = _held(world)
    with Session(world.engine) as session:
        world.index._prepare_side(session, "clients")
    _same(held, _held(world))


def test_a_row_inserted_without_a_newer_timestamp_reads_the_side_again(
    world: Matcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = []
    read_side = index_sync.read_side
    monkeypatch.setattr(index_sync, "read_side", lambda *args: reads.append(args) or read_side(*args))
    watermark = world.index.sides["clients"].watermark
    with Session(world.engine) as session:
        row = make_client(session, client_nummer="K-OUD", zelfbeschrijving="Orderpicker in een magazijn.")
        row.updated_at = watermark  # not after the watermark: no change read finds it
        session.add(row)
        session.commit()
    shown = [i["klantId"] for i in world.search_candidates("V-ORDER", top=10).to_json()["resultaten"]]
    assert len(reads) == 1 and "K-OUD" in shown  # its id is not held: the side read again
    _delete(world, "K-OUD")
    shown = [i["klantId"] for i in world.search_candidates("V-ORDER", top=10).to_json()["resultaten"]]
    assert len(reads) == 1 and "K-OUD" not in shown
