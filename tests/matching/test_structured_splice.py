"""Structured arrays following changed records (:meth:`RecordArrays.merged` splicing rows) equal the arrays built
from every record bit for bit: every field, ``position`` and every lookup built before the change (buckets by
place, ``full_ernst``, the competence indicators, the occupation columns, the vacancies' lookups)."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest
from scipy import sparse

from matching import geo
from matching.domain import Client, Vacancy, client_from_input, vacancy_from_input
from matching.structured import ClientArrays, RecordArrays, VacancyArrays, Vocabularies
from training.synthetic import generate

CLIENT_LOOKUPS = ("buckets", "full_ernst", "has_competences", "experience_by_occupation", "wished_by_occupation")
VACANCY_LOOKUPS = ("buckets", "full_unclosed", "required_totals", "optional_totals")


def _same(left: object, right: object, name: str) -> None:
    if sparse.issparse(left):
        assert sparse.issparse(right) and left.format == right.format and left.shape == right.shape, name
        for part in ("data", "indices", "indptr"):
            a, b = getattr(left, part), getattr(right, part)
            assert a.dtype == b.dtype and np.array_equal(a, b), (name, part)
    elif isinstance(left, geo.Buckets):
        for item in fields(left):
            a, b = getattr(left, item.name), getattr(right, item.name)
            assert a.dtype == b.dtype and np.array_equal(a, b), (name, item.name)
    elif isinstance(left, np.ndarray):
        assert isinstance(right, np.ndarray) and left.dtype == right.dtype and left.shape == right.shape, name
        assert np.array_equal(left, right, equal_nan=left.dtype.kind == "f"), name
    else:
        assert left == right, name


def _same_arrays(spliced: RecordArrays, scratch: RecordArrays, lookups: tuple[str, ...]) -> None:
    _touch(scratch, lookups)  # first: scipy sorts a matrix's rows in place for ``sign`` (has_competences)
    for item in fields(scratch):  # type: ignore[arg-type]
        _same(getattr(spliced, item.name), getattr(scratch, item.name), item.name)
    for name in lookups:
        assert name in spliced.__dict__, f"{name} was not followed"
        _same(spliced.__dict__[name], getattr(scratch, name), name)


def _world(seed: int) -> tuple[dict[int, Client], dict[int, Vacancy], list, list]:
    data = generate(300, 120, seed)
    clients = {2 * i + 1: Client(id=2 * i + 1, **client_from_input(c)) for i, c in enumerate(data.clients[:200])}
    vacancies = {3 * i + 2: Vacancy(id=3 * i + 2, **vacancy_from_input(v)) for i, v in enumerate(data.vacancies[:80])}
    return clients, vacancies, list(data.clients[200:]), list(data.vacancies[80:])


def _scratch(kind: type[RecordArrays], records: dict[int, object], vocab: Vocabularies) -> RecordArrays:
    arrays = kind.build([records[key] for key in sorted(records)], vocab)  # type: ignore[attr-defined]
    arrays.widen(vocab)  # type: ignore[attr-defined]
    return arrays


def _touch(arrays: RecordArrays, lookups: tuple[str, ...]) -> None:
    for name in lookups:
        getattr(arrays, name)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_sequence_of_client_changes_equals_a_build_from_scratch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    clients, _, spare, _ = _world(seed)
    vocab = Vocabularies()
    arrays = _scratch(ClientArrays, clients, vocab)
    _touch(arrays, CLIENT_LOOKUPS)
    keys = sorted(clients)
    far = next(c.postcode for c in spare if c.postcode[:4] not in {x.postcode[:4] for x in clients.values()})
    steps = [
        [(keys[3], spare[0])],  # a client replaced by other content (place, travel, competences, …)
        [(keys[5], spare[1].model_copy(update={"postcode": far}))],  # moves to a place no client had
        [(keys[5], spare[2].model_copy(update={"postcode": clients[keys[0]].postcode}))],  # that place empties
        [(max(clients) + 2, spare[3]), (max(clients) + 9, spare[4])],  # new clients appended
        [(keys[int(i)], spare[5 + n]) for n, i in enumerate(rng.choice(len(keys), 12, replace=False))],
        [(keys[7], spare[20].model_copy(update={"postcode": clients[keys[7]].postcode}))],  # same place
    ]
    for step in steps:
        changed = [Client(id=key, **client_from_input(source)) for key, source in step]
        for row in changed:
            clients[row.id] = row
        arrays = arrays.merged(ClientArrays.build(changed, vocab))
        arrays.widen(vocab)
        _same_arrays(arrays, _scratch(ClientArrays, clients, vocab), CLIENT_LOOKUPS)


def test_a_sequence_of_vacancy_changes_equals_a_build_from_scratch() -> None:
    _, vacancies, _, spare = _world(4)
    vocab = Vocabularies()
    arrays = _scratch(VacancyArrays, vacancies, vocab)
    _touch(arrays, VACANCY_LOOKUPS)
    keys = sorted(vacancies)
    steps = [[(keys[0], spare[0]), (keys[10], spare[1])], [(max(vacancies) + 1, spare[2])], [(keys[2], spare[3])]]
    for step in steps:
        changed = [Vacancy(id=key, **vacancy_from_input(source)) for key, source in step]
        for row in changed:
            vacancies[row.id] = row
        arrays = arrays.merged(VacancyArrays.build(changed, vocab))
        arrays.widen(vocab)
        _same_arrays(arrays, _scratch(VacancyArrays, vacancies, vocab), VACANCY_LOOKUPS)


def test_an_id_among_the_held_merges_without_splicing_and_builds_its_lookups_anew() -> None:
    clients, _, spare, _ = _world(3)
    vocab = Vocabularies()
    arrays = _scratch(ClientArrays, clients, vocab)
    _touch(arrays, CLIENT_LOOKUPS)
    inserted = Client(id=2, **client_from_input(spare[0]))  # between held ids 1 and 3
    clients[2] = inserted
    merged = arrays.merged(ClientArrays.build([inserted], vocab))
    merged.widen(vocab)
    assert not any(name in merged.__dict__ for name in CLIENT_LOOKUPS)
    _touch(merged, CLIENT_LOOKUPS)
    _same_arrays(merged, _scratch(ClientArrays, clients, vocab), CLIENT_LOOKUPS)


def test_the_arrays_a_reader_holds_are_left_as_they_were() -> None:
    clients, _, spare, _ = _world(5)
    vocab = Vocabularies()
    arrays = _scratch(ClientArrays, clients, vocab)
    _touch(arrays, CLIENT_LOOKUPS)
    before = _scratch(ClientArrays, clients, vocab)
    _touch(before, CLIENT_LOOKUPS)
    key = sorted(clients)[4]
    arrays.merged(ClientArrays.build([Client(id=key, **client_from_input(spare[0]))], vocab))
    _same_arrays(arrays, before, CLIENT_LOOKUPS)
