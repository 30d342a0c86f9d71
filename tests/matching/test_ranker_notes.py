"""A ranker that reads the notes column: its inputs, its per-client memory, its refusals and its explanation."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.services import erasure, schema
from matching import notes_readiness
from matching.annotate import grouped_contributions
from matching.domain import Client, EmbeddingCache
from matching.embedding import Embedder
from matching.errors import ModelError
from matching.explain import GROUP_LABELS, PairFacts, explain_pair
from matching.features import FEATURE_NAMES
from matching.matcher import Matcher
from matching.notes_fill import fill_saved
from matching.notes_readiness import NotesColumn, NotesReadiness
from matching.ranker import RankerError, load_ranker
from matching.settings import Settings
from matching.store import upsert_client
from matching.structured import epoch_seconds
from matching.taxonomy import load_taxonomy
from matching.text import content_hash
from tests.factories import client_in, make_client, make_vacancy, notes_artefact, notes_ranker_dir

DIMENSION = 8
MODEL_ID = "toets-model"
NEW_WORDS = "Nieuw begin. Komt afspraken na"
WORDS = ("Komt altijd op tijd", "Wil graag aan de slag", "Belt zelden terug", "Werkt graag buiten", "Is vaak te laat")


def _artefact(seed: int = 0, dimension: int = DIMENSION, model_id: str = MODEL_ID) -> NotesReadiness:
    return notes_artefact(dimension, model_id, seed)


class _Embed:
    """Fragments to fixed pseudo-random unit vectors; counts what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, pieces: list[str]) -> np.ndarray:
        self.asked.extend(pieces)
        rows = [np.random.default_rng(zlib.crc32(piece.encode())).normal(size=DIMENSION) for piece in pieces]
        matrix = np.array(rows, np.float32).reshape(-1, DIMENSION)
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def _clients(engine: Engine, count: int = 12) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str]]]:
    """Clients with own words and notes; their ids, ``updated_at`` (epoch seconds) and texts."""
    rows = []
    with Session(engine) as session:
        for n in range(count):
            own, notes = f"{WORDS[n % 5]}. {WORDS[(n + 2) % 5]}", f"{WORDS[(n + 1) % 5]}, {WORDS[(n + 3) % 5]}"
            client = make_client(session, zelfbeschrijving=own, notities=notes)
            rows.append((client.id, epoch_seconds(client.updated_at), (own, notes)))
    ids, moments, texts = zip(*rows, strict=True)
    return np.array(ids, np.int64), np.array(moments, np.float64), list(texts)


def _ranker_dir(directory: Path, with_notes: bool = True, artefact: NotesReadiness | None = None) -> Path:
    return notes_ranker_dir(directory, (artefact or _artefact()) if with_notes else None)


def test_a_ranker_reads_its_notes_column_after_the_pair_features(engine: Engine, tmp_path: Path) -> None:
    ids, moments, texts = _clients(engine)
    ranker = load_ranker(_ranker_dir(tmp_path / "ranker"), "toets")
    assert ranker.notes is not None and ranker.feature_names == (*FEATURE_NAMES, notes_readiness.FEATURE)
    embed = _Embed()
    ranker.notes.bind(engine, MODEL_ID, embed)
    pairs = np.random.default_rng(1).random((len(ids), len(FEATURE_NAMES))).astype(np.float32)
    column = _artefact().scores(texts, _Embed()).astype(np.float32)
    expected = ranker.booster.predict(np.hstack([pairs, column[:, None]]))
    assert np.array_equal(ranker.score(pairs, ids, moments), expected)
    assert np.array_equal(ranker.score(pairs, ids), expected)  # the moments read from the database
    shap = ranker.contributions(pairs, ids, moments)
    assert shap.shape == (len(ids), len(FEATURE_NAMES) + 1)
    with pytest.raises(RankerError, match="notities-kolom"):
        ranker.score(pairs)  # without the clients it cannot read the column


def test_the_column_is_computed_once_per_change_of_the_profile(engine: Engine) -> None:
    ids, moments, texts = _clients(engine, 6)
    column, embed = NotesColumn(_artefact()), _Embed()
    column.bind(engine, MODEL_ID, embed)
    first = column.values(ids, moments)
    asked = len(embed.asked)
    assert asked and np.array_equal(column.values(ids[::-1], moments[::-1]), first[::-1])
    assert len(embed.asked) == asked  # nothing read or embedded again for unchanged profiles
    with Session(engine) as session:  # the first client's notes change: a save moves updated_at
        again_in = client_in(client_nummer=_number(engine, ids[0]), notities=texts[0][1])
        changed, _ = upsert_client(session, again_in.model_copy(update={"zelfbeschrijving": NEW_WORDS}))
        session.commit()
        moment = epoch_seconds(changed.updated_at)
    again = column.values(ids, np.concatenate([[moment], moments[1:]]))
    assert np.array_equal(again[1:], first[1:]) and again[0] != first[0]
    expected = _artefact().scores([(NEW_WORDS, texts[0][1])], _Embed())
    assert again[0] == np.float32(expected[0])
    assert column.values(np.array([10**9]), np.array([0.0]))[0] == 0.0  # a client no longer there: no signal


def test_a_partitions_pool_rows_read_each_clients_own_value_repeated_and_in_any_order(engine: Engine) -> None:
    ids, moments, _ = _clients(engine, 8)
    column, embed = NotesColumn(_artefact()), _Embed()
    column.bind(engine, MODEL_ID, embed)
    alone = np.array([column.values(ids[at : at + 1], moments[at : at + 1])[0] for at in range(len(ids))])
    asked = len(embed.asked)
    order = np.random.default_rng(3).choice(len(ids), 40)  # a pool's rows: repeats, no order
    rows = np.concatenate([ids[order], [10**9, 10**9 + 1]])  # and clients no longer there
    got = column.values(rows, np.concatenate([moments[order], [0.0, 0.0]]))
    assert got.dtype == np.float32 and np.array_equal(got, np.concatenate([alone[order], [0.0, 0.0]]))
    assert len(embed.asked) == asked  # every known client read from memory, nothing embedded again


def _number(engine: Engine, client_id: int) -> str:
    with Session(engine) as session:
        return session.get(Client, int(client_id)).client_nummer  # type: ignore[union-attr]


def test_a_notes_column_of_another_embedding_model_is_refused(engine: Engine, tmp_path: Path) -> None:
    column = NotesColumn(_artefact())
    with pytest.raises(ModelError, match="ander|embeddingmodel"):
        column.bind(engine, "een-ander-model", _Embed())
    with pytest.raises(ModelError, match="niet gekoppeld"):
        NotesColumn(_artefact()).values(np.array([1]))
    directory = _ranker_dir(tmp_path / "zonder-artefact")
    (directory / notes_readiness.CONFIG_FILE).unlink()
    with pytest.raises(RankerError, match="notities-kolom"):
        load_ranker(directory, "toets")


def test_a_ranker_of_the_pair_features_alone_still_loads_and_ranks(tmp_path: Path) -> None:
    ranker = load_ranker(_ranker_dir(tmp_path / "oud", with_notes=False), "toets")
    assert ranker.notes is None and ranker.feature_names == FEATURE_NAMES
    pairs = np.random.default_rng(2).random((5, len(FEATURE_NAMES))).astype(np.float32)
    assert np.array_equal(ranker.score(pairs), ranker.booster.predict(pairs))
    assert np.array_equal(ranker.score_inputs(pairs), ranker.score(pairs))


def test_the_notes_column_is_explained_as_inzet_without_quoting_what_was_written(engine: Engine) -> None:
    names = (*FEATURE_NAMES, notes_readiness.FEATURE)
    row = np.zeros((1, len(names)))
    row[0, -1], row[0, 0] = 0.9, 0.1
    grouped = grouped_contributions(row, names)[0]
    assert grouped["inzet"] == pytest.approx(0.9) and "Inzet" in GROUP_LABELS["inzet"]
    facts = PairFacts(distance_km=3.0, max_km=10.0, mode="fiets", values=dict.fromkeys(FEATURE_NAMES, 0.0))
    with Session(engine) as session:
        client = make_client(session, notities="Komt altijd op tijd")
        vacancy = make_vacancy(session)
        up = explain_pair(client, vacancy, grouped, facts, load_taxonomy())
        row[0, -1] = -0.9
        down = explain_pair(client, vacancy, grouped_contributions(row, names)[0], facts, load_taxonomy())
    assert any("inzet en afspraken" in reason for reason in up.reasons)
    assert not any("op tijd" in text for text in up.reasons + up.aandachtspunten)
    assert any("een gesprek zegt meer" in point for point in down.aandachtspunten)


def test_a_candidate_search_ranks_by_the_notes_column_and_explains_it(settings, embedder, tmp_path: Path) -> None:
    matcher = Matcher(settings, embedder=embedder)
    with Session(matcher.engine) as session:
        for number, notes in (
            ("K-OP-TIJD", "Komt altijd op tijd, afspraken nagekomen"),
            ("K-BELT", "Belt zelden terug"),
        ):
            make_client(
                session, client_nummer=number, zelfbeschrijving="Ik werkte jaren als orderpicker.", notities=notes
            )
        make_vacancy(session, vacature_nummer="V-ORDER")
    matcher.sync()
    artefact = _artefact(dimension=embedder.dimension, model_id=embedder.model_id)
    ranker = load_ranker(_ranker_dir(tmp_path / "notities", artefact=artefact), "notities-toets")
    matcher.use_ranker(ranker)
    result = matcher.search_candidates("V-ORDER", top=5).to_json()
    assert result["gerangschiktDoor"]["naam"] == "notities-toets"
    listed = [item["klantId"] for item in result["resultaten"]]
    assert set(listed) >= {"K-OP-TIJD", "K-BELT"}
    for item in result["resultaten"]:
        assert "inzet" in {part["kenmerk"] for part in item["bijdragen"]}
    with pytest.raises(RankerError, match="embeddingmodel"):  # a column of another model never serves
        matcher.use_ranker(load_ranker(_ranker_dir(tmp_path / "ander", artefact=_artefact()), "ander"))
    assert matcher.ranker is ranker
    assert matcher.notes_fill.wait(timeout=60)  # the promotion's fill (the writer's) is done
    # the fragments' vectors are cached like every piece, and an erasure forgets the erased client's own
    assert _cached(matcher.engine, "Belt zelden terug") and _cached(matcher.engine, "Komt altijd op tijd")
    schema.create_all(matcher.engine)  # the audit chain's head, as the service's start makes it
    erasure.erase_client(settings, matcher.engine, "K-BELT", actor="test", rol="beheerder", reden="verzoek_klant")
    assert not _cached(matcher.engine, "Belt zelden terug") and _cached(matcher.engine, "Komt altijd op tijd")


def _cached(engine: Engine, piece: str) -> bool:
    with Session(engine) as session:
        return (
            session.exec(select(EmbeddingCache.id).where(EmbeddingCache.content_hash == content_hash(piece))).first()
            is not None
        )


def test_texts_given_for_a_call_are_read_instead_of_the_stored_ones_and_never_remembered(engine: Engine) -> None:
    ids, moments, texts = _clients(engine, 4)
    column = NotesColumn(_artefact())
    column.bind(engine, MODEL_ID, _Embed())
    stored = column.values(ids, moments)
    swapped = {int(ids[1]): (NEW_WORDS, texts[1][1])}  # as a counterfactual test swaps a client's own words
    read = column.values(ids, moments, swapped)
    assert read[1] == np.float32(_artefact().scores([swapped[int(ids[1])]], _Embed())[0]) != stored[1]
    assert np.array_equal(np.delete(read, 1), np.delete(stored, 1))
    assert np.array_equal(column.values(ids, moments), stored)  # the stored texts again, not the swapped ones


class _Limited(_Embed):
    """As a search's embedding: the first ``limit`` fragments asked embedded, NaN rows for the rest."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def __call__(self, pieces: list[str]) -> np.ndarray:
        vectors = super().__call__(pieces)
        vectors[self.limit :] = np.nan
        return vectors


def test_a_client_with_fragments_not_embedded_yet_reads_no_signal_until_the_fill(engine: Engine) -> None:
    ids, moments, texts = _clients(engine, 6)
    column = NotesColumn(_artefact())
    column.bind(engine, MODEL_ID, _Limited(2), _Embed())
    assert not column.values(ids, moments).any()  # each client has four fragments: none complete, none remembered
    assert column.lacking
    assert column.fill(ids, moments, stop=lambda: True) == 0 and column.lacking
    assert column.fill(ids, moments) == len(ids) and not column.lacking
    assert column.values(ids, moments).all() and not column.lacking
    expected = _artefact().scores(texts, _Embed()).astype(np.float32)
    assert np.array_equal(column.values(ids, moments), expected)
    assert column.fill(ids, moments) == 0  # nothing changed since


def test_a_call_computes_at_most_clients_max_values_and_says_what_it_lacks(engine: Engine) -> None:
    ids, moments, texts = _clients(engine, 5)
    column = NotesColumn(_artefact())
    column.bind(engine, MODEL_ID, _Embed(), clients_max=2)
    first = column.values(ids, moments)
    assert np.count_nonzero(first) == 2 and column.lacking  # two computed, three read 0 this time
    expected = _artefact().scores(texts, _Embed()).astype(np.float32)
    assert column.fill(ids, moments) == 3 and not column.lacking
    assert np.array_equal(column.values(ids, moments), expected)


def test_a_search_while_a_fill_runs_computes_nothing_itself(engine: Engine) -> None:
    ids, moments, _ = _clients(engine, 4)
    column, searching, read = NotesColumn(_artefact()), _Embed(), []

    def filling(pieces: list[str]) -> np.ndarray:  # the fill's embedding: a search comes in meanwhile
        read.append(column.values(ids[-1:], moments[-1:]))
        return _Embed()(pieces)

    column.bind(engine, MODEL_ID, searching, filling, clients_max=64)
    assert column.fill(ids[:2], moments[:2]) == 2
    assert read and not read[0].any() and not searching.asked  # read 0, nothing embedded or computed by it
    assert column.lacking  # the client it left out waits for the next fill


def _serving_notes(settings: Settings, embedder: Embedder, tmp_path: Path, notes: str) -> Matcher:
    """A matcher whose shipped baseline reads a notes column of ``embedder``'s model, over three clients whose notes
    are ``notes`` with their number, and one vacancy, V-ORDER; nothing indexed yet."""
    artefact = _artefact(dimension=embedder.dimension, model_id=embedder.model_id)
    directory = _ranker_dir(tmp_path / "notities", artefact=artefact)
    config = settings.model_copy(update={"ranker": settings.ranker.model_copy(update={"baseline_dir": directory})})
    matcher = Matcher(config, embedder=embedder)
    with Session(matcher.engine) as session:
        for number in ("K-EEN", "K-TWEE", "K-DRIE"):
            make_client(session, client_nummer=number, notities=notes.format(number))
        make_vacancy(session, vacature_nummer="V-ORDER")
    return matcher


def test_a_live_search_that_left_clients_out_has_the_writer_fill_them(
    settings, embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notes_readiness, "SEARCH_CLIENTS_MAX", 1)
    matcher = _serving_notes(settings, embedder, tmp_path, "Schreef {} op, komt afspraken na")
    matcher.index.sync()  # the records only: no value computed yet
    matcher.search_candidates("V-ORDER", top=5)
    assert matcher.notes_fill.wait(timeout=60)
    clients, _ = matcher.index.arrays()
    assert matcher.ranker is not None and matcher.ranker.notes is not None
    assert matcher.ranker.notes.fill(clients.ids, clients.updated_at) == 0  # the search's fill did them all
    assert not matcher.ranker.notes.lacking
    matcher.close()


def test_the_index_writer_computes_every_clients_value_once_the_records_are_embedded(
    settings, embedder, tmp_path: Path
) -> None:
    matcher = _serving_notes(settings, embedder, tmp_path, "Nieuwe notitie van {}, komt afspraken na")
    config = matcher.settings
    matcher.sync()
    assert matcher.ranker is not None and matcher.ranker.notes is not None
    assert _cached(matcher.engine, "Nieuwe notitie van K-TWEE")  # the fragments embedded by the writer
    clients, _ = matcher.index.arrays()
    assert matcher.ranker.notes.fill(clients.ids, clients.updated_at) == 0  # every value known already
    before = _cache_size(matcher.engine)
    matcher.search_candidates("V-ORDER", top=5)
    assert _cache_size(matcher.engine) == before  # a search embeds no fragment of an unchanged client
    saved = matcher.ranker.notes.values_path(config.index_dir)
    assert _saved_ids(saved) == set(clients.ids.tolist())  # kept beside the index for readers and restarts
    reader = Matcher(config, embedder=embedder, may_write=False)
    reader.index.prepare()
    assert reader.ranker is not None and reader.ranker.notes is not None
    assert reader.ranker.notes.fill(clients.ids, clients.updated_at) == 0  # read from the file, nothing computed
    schema.create_all(matcher.engine)
    erasure.erase_client(config, matcher.engine, "K-TWEE", actor="test", rol="beheerder", reden="verzoek_klant")
    assert len(_saved_ids(saved)) == 2  # an erasure takes the client's value off the file at once
    matcher.close()
    reader.close()


def _saved_ids(path: Path) -> set[int]:
    with np.load(path) as kept:
        return set(kept["ids"].tolist())


def _cache_size(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(EmbeddingCache.id)).all())


def test_a_nights_driver_fills_and_saves_the_column_once_for_its_workers(settings, embedder, tmp_path: Path) -> None:
    matcher = _serving_notes(settings, embedder, tmp_path, "Notitie over {}, komt afspraken na")
    matcher.index.sync()  # the records only: the service wrote no values
    config, directory = matcher.settings, tmp_path / "notities"
    assert fill_saved(config, matcher.engine, embedder, load_ranker(directory, "notities")) == 3
    assert fill_saved(config, matcher.engine, embedder, load_ranker(directory, "notities")) == 0  # read, not redone
    worker = Matcher(config, embedder=embedder, may_write=False)  # a night's worker binds the same column
    worker.index.prepare()
    assert worker.notes_fill.now() == 0
    plain = load_ranker(_ranker_dir(tmp_path / "zonder", with_notes=False), "zonder")
    assert fill_saved(config, matcher.engine, embedder, plain) is None  # a ranker without the column: nothing to do
    worker.close()
    matcher.close()
