"""Structured fields of every client and vacancy as numpy arrays, for vectorised filtering and scoring.

One row per record, in a fixed order with its database id in ``ids``. Competences, occupations and
certificates become sparse indicator matrices over the taxonomy's codes (codes outside the taxonomy
get their own columns, so nothing a consulent typed is lost). Beperkingen and vacancy belasting become
dense (n, len(ASPECTS)) int8 matrices: 15 small columns, so sparse would cost more than it saves. Built
once from all records (about a second for 9,000 clients); a changed record is merged in
(:meth:`RecordArrays.merged`), so saving one profile among 100,000 does not rebuild the rest.

Only profile columns are read here: never personalia or the protected audit attributes (see
:mod:`matching.domain`), and the postcode only as coordinates for distances.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cached_property
from typing import Any, ClassVar, Self

import numpy as np
from scipy import sparse

from matching import geo
from matching.compatibility import GUIDED_FORMS, accommodated
from matching.domain import Client, Vacancy
from matching.sparse_splice import splice_axis, splice_columns, splice_rows
from matching.taxonomy import load_taxonomy
from matching.timeutil import stored_utc
from matching.vocab import (
    ASPECTS,
    OPLEIDING_ORDER,
    READINESS,
    TAALNIVEAUS,
    Plaatsingsvorm,
    Route,
    Werktijd,
)

WERKTIJD_BIT = {value.value: 1 << position for position, value in enumerate(Werktijd)}
# With no stated travel wish, assume a client will travel up to 45 minutes by their fastest mode
# (by bike about 8.6 km, by ov or car about 25 km): a common reasonable-commute norm.
DEFAULT_MAX_MINUTES = 45.0
ASPECT_COLUMN = {aspect: column for column, aspect in enumerate(ASPECTS)}
ROUTES = tuple(Route)
# Trede 0–3 is not yet (unsupported) paid work: such a client needs begeleiding at a workplace.
COACHING_TREDE = 3
MAX_LEVEL = 3  # ernst and niveau run 1–3


@dataclass
class Vocabulary:
    """Stable column numbers for codes; grows when a new code appears."""

    columns: dict[str, int] = field(default_factory=dict)

    def column(self, code: str) -> int:
        if code not in self.columns:
            self.columns[code] = len(self.columns)
        return self.columns[code]

    def __len__(self) -> int:
        return len(self.columns)


def _indicator(rows: list[list[tuple[str, float]]], vocab: Vocabulary) -> sparse.csr_matrix:
    indptr, indices, data = [0], [], []
    for items in rows:
        merged: dict[int, float] = {}
        for code, value in items:
            column = vocab.column(code)
            merged[column] = max(merged.get(column, 0.0), value)
        indices.extend(merged)
        data.extend(merged.values())
        indptr.append(len(indices))
    return sparse.csr_matrix(
        (np.asarray(data, np.float32), np.asarray(indices, np.int64), np.asarray(indptr, np.int64)),
        shape=(len(rows), max(len(vocab), 1)),
    )


def _widen(matrix: sparse.csr_matrix, width: int) -> sparse.csr_matrix:
    if matrix.shape[1] == width:
        return matrix
    return sparse.csr_matrix((matrix.data, matrix.indices, matrix.indptr), shape=(matrix.shape[0], width))


@dataclass
class Vocabularies:
    competences: Vocabulary = field(default_factory=Vocabulary)
    occupations: Vocabulary = field(default_factory=Vocabulary)
    certificates: Vocabulary = field(default_factory=Vocabulary)
    sectors: Vocabulary = field(default_factory=Vocabulary)


def _coded(items: list[dict], key: str = "code") -> list[dict]:
    """Entries that name their code: a row from an older system may lack it (matching.quality flags it)."""
    return [item for item in items if item.get(key)]


def _language_rank(level: str | None) -> int:
    return TAALNIVEAUS.index(level) if level in TAALNIVEAUS else -1


def max_travel_km(wensen: Mapping[str, Any], mode: str) -> float:
    """How far (straight line) a client travels by ``mode``: the stated distance, else the stated or default time."""
    if wensen.get("maxReisafstandKm") is not None:
        return float(wensen["maxReisafstandKm"])
    minutes = float(wensen["maxReistijdMin"]) if wensen.get("maxReistijdMin") is not None else DEFAULT_MAX_MINUTES
    speed, overhead = geo.MODE_SPEED_KMH[mode], geo.MODE_OVERHEAD_MIN[mode]
    return max(minutes - overhead, 0.0) / 60.0 * speed / geo.DETOUR_FACTOR


def epoch_seconds(moment: datetime) -> float:
    """Seconds since 1970 UTC; a naive datetime (as SQLite returns it) is read as UTC."""
    return stored_utc(moment).timestamp()


def _per_aspect(rows: list[list[dict]], key: str) -> np.ndarray:
    """(n, len(ASPECTS)) int8: the highest ``key`` (ernst or niveau, 1–3) per aspect, 0 where none is recorded."""
    matrix = np.zeros((len(rows), len(ASPECTS)), np.int8)
    for row, items in enumerate(rows):
        for item in items:
            column = ASPECT_COLUMN.get(item.get("aspect", ""))
            if column is not None:
                matrix[row, column] = max(matrix[row, column], int(item.get(key, 0)))
    return matrix


def _needs_coaching(client: Client) -> bool:
    """Trede 0–3: not yet in (unsupported) paid work. Deliberately not read from beperkingen (health data)."""
    return client.trede <= COACHING_TREDE


def _by_column(matrix: sparse.csr_matrix) -> sparse.csc_matrix:
    by_column = matrix.tocsc()
    by_column.sort_indices()
    return by_column


class RecordArrays:
    """Row-wise merge shared by :class:`ClientArrays` and :class:`VacancyArrays`.

    The lookups below (``buckets``, ``full_ernst``, …) are built on first use and belong to these rows: a
    merge makes new arrays. Where the changed records replace rows or are appended (ids above every held
    id: a new record), the new arrays are these with those rows spliced in (:mod:`matching.sparse_splice`),
    and every lookup already built here follows the change the same way (``ROW_LOOKUPS`` along an axis,
    ``BY_RECORD`` by row, ``BY_COLUMN`` by column, the buckets by place): the same arrays as built from every
    record, bit for bit (``tests/matching/test_structured_splice.py``), without the sorts and conversions of
    every record that cost about 2 s at national size on the first search after a save.
    """

    ids: np.ndarray
    position: dict[int, int]
    ROW_LOOKUPS: ClassVar[dict[str, int]] = {}  # a dense lookup: the axis its rows run along
    BY_RECORD: ClassVar[tuple[str, ...]] = ()  # a sparse lookup by record (CSR)
    BY_COLUMN: ClassVar[dict[str, str]] = {}  # a sparse lookup by column (CSC, rows ascending): its CSR field

    def merged(self, changed: Self) -> Self:
        """These rows with ``changed``'s rows replacing (same id) or joining them; ids stay sorted."""
        order = np.argsort(changed.ids, kind="stable")
        at = np.searchsorted(self.ids, changed.ids[order])
        held = at < len(self.ids)
        held[held] = self.ids[at[held]] == changed.ids[order][held]
        above = changed.ids[order] > (self.ids[-1] if len(self.ids) else -1)
        if len(self.ids) and bool((held | above).all()) and len(np.unique(changed.ids)) == len(changed.ids):
            at[~held] = len(self.ids) + np.arange(int((~held).sum()))
            return self._spliced(changed, at, order)
        return self._merged_anew(changed)

    def _merged_anew(self, changed: Self) -> Self:
        """:meth:`merged` by stacking and sorting every row: new arrays whose lookups are built on first use."""
        keep = np.flatnonzero(~np.isin(self.ids, changed.ids))
        order = np.argsort(np.concatenate([self.ids[keep], changed.ids]), kind="stable")
        values: dict[str, object] = {}
        for item in fields(self):  # type: ignore[arg-type]
            if item.name == "position":
                continue
            old, new = getattr(self, item.name), getattr(changed, item.name)
            if sparse.issparse(old):
                width = max(old.shape[1], new.shape[1])
                values[item.name] = sparse.vstack([_widen(old[keep], width), _widen(new, width)], format="csr")[order]
            elif isinstance(old, list):
                joined = [old[row] for row in keep] + list(new)
                values[item.name] = [joined[row] for row in order]
            else:  # numpy, 1-D or (n, k): rows are the first axis
                values[item.name] = np.concatenate([old[keep], new])[order]
        return type(self).of_rows(values)

    def without(self, gone: np.ndarray) -> Self:
        """These rows less those of the ids ``gone`` (deleted records): new arrays whose lookups are built on first
        use, the same as built from the remaining records."""
        keep = np.flatnonzero(~np.isin(self.ids, gone))
        values: dict[str, object] = {}
        for item in fields(self):  # type: ignore[arg-type]
            if item.name != "position":
                old = getattr(self, item.name)
                values[item.name] = [old[row] for row in keep.tolist()] if isinstance(old, list) else old[keep]
        return type(self).of_rows(values)

    def _spliced(self, changed: Self, rows: np.ndarray, order: np.ndarray) -> Self:
        """These arrays with ``changed``'s row ``order[i]`` at row ``rows[i]`` (ascending), lookups followed."""
        for name in [*self.ROW_LOOKUPS, *self.BY_RECORD, *self.BY_COLUMN]:
            if name in self.__dict__:  # built on ``changed`` first: as here, that may sort its sparse rows in place
                getattr(changed, name)
        values: dict[str, object] = {}
        for item in fields(self):  # type: ignore[arg-type]
            if item.name == "position":
                continue
            old, new = getattr(self, item.name), getattr(changed, item.name)
            if sparse.issparse(old):
                values[item.name] = splice_rows(old, rows, new[order])
            elif isinstance(old, list):
                joined = old + [None] * (int(rows[-1]) + 1 - len(old)) if len(rows) else list(old)
                for row, source in zip(rows.tolist(), order.tolist(), strict=True):
                    joined[row] = new[source]
                values[item.name] = joined
            else:
                values[item.name] = splice_axis(old, rows, new[order])
        arrays = type(self)(position={}, **values)  # type: ignore[arg-type]
        if len(arrays.ids) == len(self.ids):  # the same ids at the same rows: the same map (nobody writes into it)
            arrays.position = self.position
        else:
            arrays.position = dict(self.position)
            arrays.position.update(zip(arrays.ids[rows].tolist(), rows.tolist(), strict=True))
        self._follow(arrays, changed, rows, order)
        return arrays

    def _follow(self, arrays: Self, changed: Self, rows: np.ndarray, order: np.ndarray) -> None:
        """Give ``arrays`` (these with ``changed`` spliced in at ``rows``) every lookup built here, followed."""
        built = self.__dict__
        for name, axis in self.ROW_LOOKUPS.items():
            if name in built:
                part = getattr(changed, name)
                arrays.__dict__[name] = splice_axis(built[name], rows, np.take(part, order, axis=axis), axis)
        for name in self.BY_RECORD:
            if name in built:
                arrays.__dict__[name] = splice_rows(built[name], rows, getattr(changed, name)[order])
        for name, source in self.BY_COLUMN.items():
            if name in built:
                old, new = getattr(self, source)[rows[rows < len(self.ids)]], getattr(arrays, source)[rows]
                gone = (old.indices, np.repeat(rows[rows < len(self.ids)], np.diff(old.indptr)))
                fresh = (new.indices, np.repeat(rows, np.diff(new.indptr)), new.data)
                shape = (len(arrays.ids), max(built[name].shape[1], new.shape[1]))
                arrays.__dict__[name] = splice_columns(built[name], gone, fresh, shape)
        if "buckets" in built:
            arrays.__dict__["buckets"] = built["buckets"].moved(rows, arrays.lat, arrays.lon, arrays._reach())

    def _reach(self) -> np.ndarray | None:
        """Each record's travel reach for the buckets (None: none)."""
        return None

    @classmethod
    def of_rows(cls, values: dict[str, object]) -> Self:
        """Arrays of ``values`` (every field but ``position``, rows in ascending id) with their id→row map."""
        arrays = cls(position={}, **values)  # type: ignore[arg-type]
        arrays.position = {int(key): row for row, key in enumerate(arrays.ids)}
        return arrays

    @classmethod
    def joined(cls, parts: list[Self]) -> Self:
        """The rows of ``parts`` one after another (chunks of one read in id order: ids stay sorted)."""
        values: dict[str, object] = {}
        for item in fields(cls):  # type: ignore[arg-type]
            if item.name == "position":
                continue
            pieces = [getattr(part, item.name) for part in parts]
            if sparse.issparse(pieces[0]):
                width = max(piece.shape[1] for piece in pieces)
                values[item.name] = sparse.vstack([_widen(piece, width) for piece in pieces], format="csr")
            elif isinstance(pieces[0], list):
                values[item.name] = [value for piece in pieces for value in piece]
            else:
                values[item.name] = np.concatenate(pieces)
        return cls.of_rows(values)


@dataclass
class ClientArrays(RecordArrays):
    ids: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    uren_min: np.ndarray
    uren_max: np.ndarray
    max_km: np.ndarray
    mode: list[str]
    excluded_times: np.ndarray  # bitmask of Werktijd the client cannot work
    trede: np.ndarray
    language: np.ndarray  # index in TAALNIVEAUS, -1 unknown
    education: np.ndarray  # index in Opleidingsniveau order, -1 unknown
    competences: sparse.csr_matrix  # niveau 1–3 per competence
    experience: sparse.csr_matrix  # years per occupation
    wished_occupations: sparse.csr_matrix
    certificates: sparse.csr_matrix
    has_licence_b: np.ndarray
    route: np.ndarray  # index in ROUTES, -1 unknown
    travel_speed_kmh: np.ndarray  # of the fastest mode, for travel time
    travel_overhead_min: np.ndarray
    beperking_ernst: np.ndarray  # (n, len(ASPECTS)) int8: ernst 1–3 per aspect, 0 none recorded
    needs_coaching: np.ndarray  # trede ≤ 3
    wished_sectors: sparse.csr_matrix
    updated_at: np.ndarray  # epoch seconds (UTC)
    missing_fields: np.ndarray  # count of empty profile fields (Client.missing_fields)
    position: dict[int, int]
    ROW_LOOKUPS: ClassVar[dict[str, int]] = {"full_ernst": 1}
    BY_RECORD: ClassVar[tuple[str, ...]] = ("has_competences",)
    BY_COLUMN: ClassVar[dict[str, str]] = {
        "experience_by_occupation": "experience",
        "wished_by_occupation": "wished_occupations",
    }

    @classmethod
    def build(cls, clients: list[Client], vocab: Vocabularies) -> ClientArrays:
        coords = np.array([geo.coordinates(c.postcode) for c in clients], np.float64).reshape(-1, 2)
        modes = [geo.fastest_mode(c.vervoermiddel) for c in clients]
        arrays = cls(
            ids=np.array([c.id for c in clients], np.int64),
            lat=coords[:, 0],
            lon=coords[:, 1],
            uren_min=np.array([c.uren_min for c in clients], np.float32),
            uren_max=np.array([c.uren_max for c in clients], np.float32),
            max_km=np.array([max_travel_km(c.wensen, m) for c, m in zip(clients, modes, strict=True)], np.float64),
            mode=modes,
            excluded_times=np.array(
                [sum(WERKTIJD_BIT[t] for t in c.wensen.get("werktijdenUitgesloten", [])) for c in clients], np.int64
            ),
            trede=np.array([c.trede for c in clients], np.int64),
            language=np.array([_language_rank(c.taalniveau) for c in clients], np.int64),
            education=np.array(
                [OPLEIDING_ORDER.get(c.opleidingsniveau, -1) if c.opleidingsniveau else -1 for c in clients],  # type: ignore[call-overload]
                np.int64,
            ),
            competences=_indicator(
                [[(item["code"], float(item.get("niveau", 2))) for item in _coded(c.competenties)] for c in clients],
                vocab.competences,
            ),
            experience=_indicator(
                [
                    [(job["beroepCode"], float(job.get("jaren") or 0)) for job in _coded(c.werkervaring, "beroepCode")]
                    for c in clients
                ],
                vocab.occupations,
            ),
            wished_occupations=_indicator(
                [[(code, 1.0) for code in c.wensen.get("beroepen", [])] for c in clients], vocab.occupations
            ),
            certificates=_indicator([[(code, 1.0) for code in c.certificaten] for c in clients], vocab.certificates),
            has_licence_b=np.array([bool({"B", "C", "CE", "D"} & set(c.rijbewijs)) for c in clients], bool),
            route=np.array([ROUTES.index(c.route) if c.route in ROUTES else -1 for c in clients], np.int64),
            travel_speed_kmh=np.array([geo.MODE_SPEED_KMH[m] for m in modes], np.float64),
            travel_overhead_min=np.array([geo.MODE_OVERHEAD_MIN[m] for m in modes], np.float64),
            beperking_ernst=_per_aspect([c.beperkingen for c in clients], "ernst"),
            needs_coaching=np.array([_needs_coaching(c) for c in clients], bool),
            wished_sectors=_indicator(
                [[(code, 1.0) for code in c.wensen.get("sectoren", [])] for c in clients], vocab.sectors
            ),
            updated_at=np.array([epoch_seconds(c.updated_at) for c in clients], np.float64),
            missing_fields=np.array([len(c.missing_fields()) for c in clients], np.int64),
            position={},
        )
        arrays.position = {int(key): row for row, key in enumerate(arrays.ids)}
        return arrays

    @cached_property
    def buckets(self) -> geo.Buckets:
        """The clients by place, each place with the largest reach of its clients (the search's prefilter)."""
        return geo.Buckets.build(self.lat, self.lon, self.max_km)

    def _reach(self) -> np.ndarray | None:
        return self.max_km

    @cached_property
    def full_ernst(self) -> np.ndarray:
        """(A, n) bool, one contiguous row per aspect: ernst 3 there, the only ernst a hard conflict can have.

        A hard conflict needs ernst + niveau - 3 ≥ FULL_CONFLICT (3), with both at most 3: ernst 3
        against niveau 3 (:func:`matching.compatibility.statuses`). So a search ORs the rows of the
        aspects its vacancy asks at niveau 3 without a remedy, instead of comparing every client.
        """
        return np.ascontiguousarray((self.beperking_ernst >= MAX_LEVEL).T)

    @cached_property
    def has_competences(self) -> sparse.csr_matrix:
        """1 per competence a client has (the niveau dropped), for the competence match of a search."""
        return self.competences.sign()

    @cached_property
    def experience_by_occupation(self) -> sparse.csc_matrix:
        """:attr:`experience` by column: a search reads one occupation's column, not a cell per client."""
        return _by_column(self.experience)

    @cached_property
    def wished_by_occupation(self) -> sparse.csc_matrix:
        """:attr:`wished_occupations` by column (as :attr:`experience_by_occupation`)."""
        return _by_column(self.wished_occupations)

    def widen(self, vocab: Vocabularies) -> None:
        """Give the sparse matrices the current vocabulary width (a vacancy may have added codes)."""
        self.wished_sectors = _widen(self.wished_sectors, max(len(vocab.sectors), 1))
        self.competences = _widen(self.competences, max(len(vocab.competences), 1))
        self.experience = _widen(self.experience, max(len(vocab.occupations), 1))
        self.wished_occupations = _widen(self.wished_occupations, max(len(vocab.occupations), 1))
        self.certificates = _widen(self.certificates, max(len(vocab.certificates), 1))
        built = self.__dict__  # lookups followed through a change (:meth:`RecordArrays.merged`) as if built now
        if "has_competences" in built:
            built["has_competences"] = _widen(built["has_competences"], self.competences.shape[1])
        for name, source in self.BY_COLUMN.items():
            if name in built and built[name].shape[1] < getattr(self, source).shape[1]:
                matrix, width = built[name], getattr(self, source).shape[1]
                extra = np.full(width - matrix.shape[1], matrix.indptr[-1], matrix.indptr.dtype)
                pointers = np.concatenate([matrix.indptr, extra])
                built[name] = sparse.csc_matrix((matrix.data, matrix.indices, pointers), shape=(matrix.shape[0], width))


@dataclass
class VacancyArrays(RecordArrays):
    ids: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    uren_min: np.ndarray
    uren_max: np.ndarray
    times: np.ndarray  # bitmask of Werktijd the job needs
    open: np.ndarray
    occupation: np.ndarray  # column in the occupation vocabulary, -1 none
    required: sparse.csr_matrix
    optional: sparse.csr_matrix
    certificates: sparse.csr_matrix
    language: np.ndarray
    needs_licence_b: np.ndarray
    readiness: np.ndarray  # READINESS of the plaatsingsvorm (trede scale)
    jobcoach: np.ndarray
    jobcarving: np.ndarray
    guided: np.ndarray  # a plaatsingsvorm with begeleiding on the work floor (compatibility.GUIDED_FORMS)
    belasting: np.ndarray  # (n, len(ASPECTS)) int8: niveau 1–3 per aspect, 0 not asked
    sector: np.ndarray  # column in the sector vocabulary (the occupation's sector), -1 unknown
    position: dict[int, int]
    ROW_LOOKUPS: ClassVar[dict[str, int]] = {"full_unclosed": 1, "required_totals": 0, "optional_totals": 0}

    @classmethod
    def build(cls, vacancies: list[Vacancy], vocab: Vocabularies) -> VacancyArrays:
        coords = np.array([geo.coordinates(v.postcode) for v in vacancies], np.float64).reshape(-1, 2)
        occupations = load_taxonomy().occupations
        sectors = [occupations[v.beroep_code].sector if v.beroep_code in occupations else None for v in vacancies]
        arrays = cls(
            ids=np.array([v.id for v in vacancies], np.int64),
            lat=coords[:, 0],
            lon=coords[:, 1],
            uren_min=np.array([v.uren_min for v in vacancies], np.float32),
            uren_max=np.array([v.uren_max for v in vacancies], np.float32),
            times=np.array([sum(WERKTIJD_BIT[t] for t in v.werktijden) for v in vacancies], np.int64),
            open=np.array([v.is_open for v in vacancies], bool),
            occupation=np.array(
                [vocab.occupations.column(v.beroep_code) if v.beroep_code else -1 for v in vacancies], np.int64
            ),
            required=_indicator(
                [[(item["code"], 1.0) for item in _coded(v.competenties_vereist)] for v in vacancies], vocab.competences
            ),
            optional=_indicator(
                [[(item["code"], 1.0) for item in _coded(v.competenties_gewenst)] for v in vacancies], vocab.competences
            ),
            certificates=_indicator([[(code, 1.0) for code in v.certificaten] for v in vacancies], vocab.certificates),
            language=np.array([_language_rank(v.taalniveau) for v in vacancies], np.int64),
            needs_licence_b=np.array([bool({"B", "C", "CE", "D"} & set(v.rijbewijs)) for v in vacancies], bool),
            readiness=np.array(
                [READINESS.get(v.plaatsingsvorm, READINESS[Plaatsingsvorm.REGULIER]) for v in vacancies], np.float32
            ),
            jobcoach=np.array([v.jobcoach for v in vacancies], bool),
            jobcarving=np.array([v.jobcarving for v in vacancies], bool),
            guided=np.array([v.plaatsingsvorm in GUIDED_FORMS for v in vacancies], bool),
            belasting=_per_aspect([v.belasting for v in vacancies], "niveau"),
            sector=np.array([vocab.sectors.column(s) if s else -1 for s in sectors], np.int64),
            position={},
        )
        arrays.position = {int(key): row for row, key in enumerate(arrays.ids)}
        return arrays

    @cached_property
    def buckets(self) -> geo.Buckets:
        """The vacancies by place (a client's options read only those within the client's reach)."""
        return geo.Buckets.build(self.lat, self.lon)

    @cached_property
    def full_unclosed(self) -> np.ndarray:
        """(A, m) bool, one contiguous row per aspect: niveau 3 there and no remedy the vacancy offers
        closes a conflict on it; a client with ernst 3 on such an aspect has a hard conflict with the
        vacancy (:attr:`ClientArrays.full_ernst`)."""
        closed = accommodated(self.jobcarving, self.jobcoach, self.guided)
        return np.ascontiguousarray(((self.belasting >= MAX_LEVEL) & ~closed).T)

    @cached_property
    def required_totals(self) -> np.ndarray:
        """How many competences each vacancy requires (float32, as the pair features hold it)."""
        return np.asarray(self.required.sum(axis=1), np.float32).ravel()

    @cached_property
    def optional_totals(self) -> np.ndarray:
        """How many optional competences each vacancy asks."""
        return np.asarray(self.optional.sum(axis=1), np.float32).ravel()

    def widen(self, vocab: Vocabularies) -> None:
        self.required = _widen(self.required, max(len(vocab.competences), 1))
        self.optional = _widen(self.optional, max(len(vocab.competences), 1))
        self.certificates = _widen(self.certificates, max(len(vocab.certificates), 1))
