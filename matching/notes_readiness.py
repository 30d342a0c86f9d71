"""Readiness read from what the client and the consulent wrote, as a saved artefact (issue 19, item 2).

The ranker's profile features miss the hidden motivation, reliability and ability that show only in
free text (``zelfbeschrijving``, ``notities``). :class:`NotesReadiness` turns those two texts into one
number per client, ``notes_readiness``, with nothing learned at apply time:

1. **Fragments.** Each text is cut into sentences and the comma, semicolon and slash clauses of
   consulent shorthand (:func:`fragments`), feminine job forms folded first (no gender in a vector).
2. **Health out.** A fragment is dropped when a Dutch health stem starts a word (:data:`HEALTH_STEMS`,
   general vocabulary) or when a logistic detector on its vector (fitted on the bestand: which
   wordings are written about people with a recorded beperking) says so; the rest is averaged per
   text and scaled to unit length (own words and notes side by side, ``2 x dimension`` numbers).
3. **Projected.** Every saved direction along which a linear model told clients with a recorded
   beperking from those without is removed, in the order they were found (iterative null-space
   projection, Ravfogel et al. 2020).
4. **Scored.** A ridge regression of the projected vector gives the column.

The fit lives in :mod:`training.notes_fit`; this module only applies and stores. The artefact names
the embedding model its vectors came from and is refused for another (:meth:`NotesReadiness.load`):
a readiness read from another model's vectors is noise that looks like a signal.

A ranker whose spec lists :data:`FEATURE` after the pair features carries its artefact in its own directory
(:func:`matching.ranker.load_ranker`) and reads the column through :class:`NotesColumn`: the artefact applied to
each client's current texts, remembered per (client, ``updated_at``), so a search computes it only for clients
it has not seen since their last change; the index writer computes every client's once its records are embedded.
``werkmatch train`` fits it (:mod:`training.notes_fit`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from matching.domain import Client
from matching.errors import ModelError
from matching.gendered import neutral_text
from matching.index import atomic_write
from matching.lookup import in_chunks
from matching.structured import epoch_seconds

SCHEMA_VERSION = 1
FEATURE = "notes_readiness"
"""The column's name in a ranker's spec (after :data:`matching.features.FEATURE_NAMES`); more never lowers a score."""
MONOTONE = +1
CONFIG_FILE = "notes_readiness.json"
ARRAYS_FILE = "notes_readiness.npz"
VALUES_PREFIX = "notities-"  # + the artefact's key + ".npz": the values kept beside the index (NotesColumn.save)
LEARNED_THRESHOLD = 0.7  # the fragment detector's probability at or above which a fragment is dropped
EXPLANATION = "Wat klant en consulent over inzet en afspraken schreven (zonder gezondheid)"
"""The Dutch line the column shows in the explanations once it is served."""

# Health, illness and disability in general Dutch, matched at a word start (so "angst" is not "ontvangst").
HEALTH_STEMS = (
    "gezond", "ziek", "medisch", "medic", "beperk", "handicap", "invalide", "arbeidsongeschikt", "verzuim",
    "psychi", "diagnose", "therap", "burn-out", "burnout", "zwanger", "klacht", "pijn", "last van", "allerg",
    "astma", "angst", "depress", "stress", "prikkel", "adhd", "autis", "leerprobl", "dyslex", "epilep", "diabet",
    "migraine", "reuma", "operatie", "revalid", "arts", "medicij", "verslav", "trauma", "fysiek", "lichamelijk",
    "belastba", "vermoeid", "slaap", "rug", "knie", "schouder", "nek", "long", "hart", "gehoor", "doof", "blind",
    "rolstoel", "loopvermogen", "mantelzorg", "zorgtaken",
)  # fmt: skip
_HEALTH = re.compile(r"(?<![a-zà-ÿ])(?:" + "|".join(map(re.escape, HEALTH_STEMS)) + ")", re.IGNORECASE)
_CLAUSES = re.compile(r"\s*(?:[.;!?]\s+|,\s+|\s+/\s+|\n+)\s*")


def fragments(text: str | None) -> list[str]:
    """Sentences and shorthand clauses, feminine job forms folded as the index folds them."""
    return [neutral_text(part.strip(" .;,/")) for part in _CLAUSES.split(text or "") if part.strip(" .;,/")]


def health_stem(piece: str) -> bool:
    """True when a Dutch health or beperking stem starts a word of ``piece``."""
    return bool(_HEALTH.search(piece))


def client_matrix(
    texts: Sequence[tuple[str, str]], pieces: Sequence[str], vectors: np.ndarray, drop: np.ndarray
) -> np.ndarray:
    """Per client, the unit mean vector of its kept own-words fragments beside that of its notes (zeros when none).

    Args:
        texts: Per client, (zelfbeschrijving, notities).
        pieces: Every fragment of ``texts`` (:func:`fragments`), each once.
        vectors: The fragments' document vectors, row ``i`` for ``pieces[i]``.
        drop: Per piece, True when it must not count (health content).
    """
    row_of = {piece: row for row, piece in enumerate(pieces)}
    width = vectors.shape[1]
    out = np.zeros((len(texts), 2 * width), np.float32)
    for position, written in enumerate(texts):
        for side, text in enumerate(written):
            rows = [row_of[piece] for piece in fragments(text) if not drop[row_of[piece]]]
            if rows:
                mean = vectors[rows].mean(axis=0)
                out[position, side * width : (side + 1) * width] = mean / max(float(np.linalg.norm(mean)), 1e-9)
    return out


def remove_directions(matrix: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """``matrix`` with each unit row of ``directions`` projected away, in order (the null-space projection)."""
    out = np.asarray(matrix, np.float32).copy()
    for direction in np.asarray(directions, np.float32):
        out -= np.outer(_row_dot(out, direction), direction)
    return out


def _row_dot(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """Each row's dot product with ``vector``, the same bits whatever the other rows (a matrix product's blocking
    depends on the number of rows): a client's value must not depend on who was computed beside it."""
    return (matrix * vector).sum(axis=1)


@dataclass(frozen=True)
class NotesReadiness:
    """A fitted notes-readiness column: the detector, the projection and the ridge, for one embedding model."""

    model_id: str  # the embedder's model_id the fragment vectors came from
    detector_coef: np.ndarray  # (dimension,) logistic detector of health fragments
    detector_intercept: float
    directions: np.ndarray  # (rounds, 2 * dimension) unit directions removed in order
    ridge_coef: np.ndarray  # (2 * dimension,)
    ridge_intercept: float
    threshold: float = LEARNED_THRESHOLD
    provenance: dict[str, Any] | None = None

    @property
    def dimension(self) -> int:
        return len(self.detector_coef)

    @property
    def key(self) -> str:
        """16 hex digits of a digest of everything that computes a value: one artefact, one file of values."""
        digest = hashlib.sha256(
            json.dumps([self.model_id, self.threshold, self.detector_intercept, self.ridge_intercept]).encode()
        )
        for array in (self.detector_coef, self.directions, self.ridge_coef):
            digest.update(np.ascontiguousarray(array, np.float64).tobytes())
        return digest.hexdigest()[:16]

    def dropped(self, pieces: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """Per fragment: health content by a stem or by the detector (probability ≥ threshold)."""
        logits = _row_dot(np.asarray(vectors, np.float64), self.detector_coef) + self.detector_intercept
        learned = 1.0 / (1.0 + np.exp(-logits)) >= self.threshold
        return np.array([health_stem(piece) for piece in pieces], bool) | learned

    def score_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """The column for client rows of :func:`client_matrix`: projected, then the ridge."""
        projected = remove_directions(matrix, self.directions)
        return _row_dot(projected.astype(np.float64), self.ridge_coef) + self.ridge_intercept

    def scores(self, texts: Sequence[tuple[str, str]], embed: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """The column per client from its (zelfbeschrijving, notities); ``embed`` maps fragments to document vectors."""
        pieces = sorted({piece for written in texts for text in written for piece in fragments(text)})
        vectors = embed(pieces) if pieces else np.zeros((0, self.dimension), np.float32)
        if vectors.shape != (len(pieces), self.dimension):
            raise ModelError(
                f"de notities-kolom verwacht vectoren van {self.dimension} getallen, niet {vectors.shape[1:]}"
            )
        return self.score_matrix(client_matrix(texts, pieces, vectors, self.dropped(pieces, vectors)))

    def save(self, directory: Path) -> Path:
        """Write the arrays and ``notes_readiness.json`` beside them; each file is replaced whole or not at all."""
        directory.mkdir(parents=True, exist_ok=True)
        config = {
            "schemaVersion": SCHEMA_VERSION,
            "modelId": self.model_id,
            "dimension": self.dimension,
            "rounds": len(self.directions),
            "threshold": self.threshold,
            "detectorIntercept": self.detector_intercept,
            "ridgeIntercept": self.ridge_intercept,
            "explanation": EXPLANATION,
            "provenance": self.provenance or {},
        }
        arrays = {"detector_coef": self.detector_coef, "directions": self.directions, "ridge_coef": self.ridge_coef}
        _write_npz(directory / ARRAYS_FILE, arrays)
        text = json.dumps(config, indent=2, ensure_ascii=False) + "\n"
        atomic_write(directory / CONFIG_FILE, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        return directory

    @classmethod
    def load(cls, directory: Path, model_id: str | None = None) -> NotesReadiness:
        """Read a saved column; refused (Dutch :class:`ModelError`) when unreadable or made with another model
        (``model_id``; None: checked later, :meth:`NotesColumn.bind`)."""
        config_path, arrays_path = Path(directory) / CONFIG_FILE, Path(directory) / ARRAYS_FILE
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
            with np.load(arrays_path, allow_pickle=False) as arrays:
                detector, directions, ridge = (arrays[k] for k in ("detector_coef", "directions", "ridge_coef"))
        except (OSError, ValueError, KeyError) as error:
            raise ModelError(f"de notities-kolom in {directory} is niet leesbaar: {error}") from error
        if config.get("schemaVersion") != SCHEMA_VERSION:
            raise ModelError(
                f"de notities-kolom in {directory} heeft schemaversie {config.get('schemaVersion')}, deze versie "
                f"van werkmatch leest {SCHEMA_VERSION}; train de ranker opnieuw (werkmatch train)"
            )
        if model_id is not None and config.get("modelId") != model_id:
            raise ModelError(
                f"de notities-kolom in {directory} is gemaakt met embeddingmodel {config.get('modelId')!r}, "
                f"de index gebruikt {model_id!r}; train de ranker opnieuw met dit model (werkmatch train)"
            )
        width = 2 * len(detector)
        if directions.ndim != 2 or directions.shape[1] != width or ridge.shape != (width,):
            raise ModelError(f"de notities-kolom in {directory} heeft arrays van de verkeerde vorm")
        return cls(
            model_id=str(config.get("modelId")),
            detector_coef=detector,
            detector_intercept=float(config["detectorIntercept"]),
            directions=directions,
            ridge_coef=ridge,
            ridge_intercept=float(config["ridgeIntercept"]),
            threshold=float(config["threshold"]),
            provenance=config.get("provenance") or {},
        )


Embed = Callable[[list[str]], np.ndarray]
"""Fragments to document vectors; a NaN row for a fragment it did not embed (a search's limit, below)."""

SEARCH_EMBED_MAX = 16
"""At most this many fragments a live search embeds itself (a client saved a moment ago); a client with more missing
is read as the ridge's centre (0, no signal) until the index writer has embedded its fragments
(:meth:`NotesColumn.fill`), as dense search covers what is embedded so far."""
SEARCH_CLIENTS_MAX = 64
"""At most this many clients' values a live search computes itself (those changed since the writer's fill; none while a
fill runs, which gets there); the rest read 0 in that search, and the matcher has the writer fill them
(:attr:`NotesColumn.lacking`)."""
FILL_CHUNK = 500  # clients per step of a fill, their texts read and values computed together (close waits for one)


class NotesColumn:
    """One ranker's notes column for the clients it scores: :class:`NotesReadiness` applied to their current texts.

    Bound to a database and an embedder (:meth:`bind`: the artefact must name the embedder's model) before use.
    A client's value is computed once per ``updated_at`` of their profile (every save moves it, and the texts are
    part of the profile) from their ``zelfbeschrijving`` and ``notities`` read from the database; the fragments'
    vectors come through the embedding cache (:func:`matching.embedding.embed_cached`). The index writer computes
    every client's value after it has embedded the records (:meth:`fill`, which embeds the fragments the cache
    lacks); a search computes only the clients changed since, embedding at most :data:`SEARCH_EMBED_MAX` fragments.
    One ranker, one process: searches hold the index lock; a fill runs beside them (each value is written once,
    whole, into a dict).
    """

    def __init__(self, artefact: NotesReadiness) -> None:
        self.artefact = artefact
        self._engine: Engine | None = None
        self._embed: Embed | None = None
        self._embed_all: Embed | None = None
        self._known: dict[int, tuple[float, float]] = {}  # client id -> (updated_at, value)
        self._sorted: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # _known as arrays (:meth:`_arrays`)
        self._clients_max: int | None = None
        self.lacking = False  # a call read 0 for a client it left out: a fill would complete the column
        self._filling = 0  # fills running: a live search then computes nothing itself (the fill gets there)

    def bind(
        self,
        engine: Engine,
        model_id: str,
        embed: Embed,
        embed_all: Embed | None = None,
        saved: Path | None = None,
        clients_max: int | None = None,
    ) -> None:
        """Read texts from ``engine`` and embed fragments with ``embed`` in a call of :meth:`values` (a NaN row: not
        embedded now) and with ``embed_all`` in :meth:`fill` (default ``embed``); refused for vectors of another
        model. ``saved``: the index directory, whose file of this artefact's values (:meth:`save`) is read, if there
        is one. ``clients_max``: at most this many clients' values computed in one call of :meth:`values` (a live
        search, :data:`SEARCH_CLIENTS_MAX`); None: all."""
        if model_id != self.artefact.model_id:
            raise ModelError(
                f"de notities-kolom van deze ranker is gemaakt met embeddingmodel {self.artefact.model_id!r}, "
                f"de index gebruikt {model_id!r}; train de ranker opnieuw met dit model (werkmatch train)"
            )
        self._engine, self._embed, self._embed_all, self._known = engine, embed, embed_all or embed, {}
        self._sorted = None
        self._clients_max, self.lacking = clients_max, False
        path = self.values_path(saved) if saved is not None else None
        if path is not None and path.exists():
            try:
                with np.load(path, allow_pickle=False) as kept:
                    ids, moments, values = kept["ids"], kept["updated_at"], kept["values"]
            except (OSError, ValueError, KeyError):  # unreadable: computed again by the next fill
                return
            self._known = dict(zip(ids.tolist(), zip(moments.tolist(), values.tolist(), strict=True), strict=True))

    def values_path(self, directory: Path) -> Path:
        """The file of this artefact's values in the index directory ``directory``."""
        return Path(directory) / f"{VALUES_PREFIX}{self.artefact.key}.npz"

    def save(self, directory: Path, client_ids: np.ndarray) -> int:
        """Write the known values of ``client_ids`` (the bestand now: an erased client's value is never written
        again) to :meth:`values_path`, replaced whole; returns how many."""
        known = self._known
        rows = [(cid, *known[cid]) for cid in np.asarray(client_ids).tolist() if cid in known]
        ids, moments, values = (np.array(column) for column in zip(*rows, strict=True)) if rows else ([], [], [])
        columns = {
            "ids": np.asarray(ids, np.int64),
            "updated_at": np.asarray(moments, np.float64),
            "values": np.asarray(values, np.float64),
        }
        _write_npz(self.values_path(directory), columns)
        return len(rows)

    def fill(self, client_ids: np.ndarray, updated_at: np.ndarray, stop: Callable[[], bool] | None = None) -> int:
        """Compute the value of every client of ``client_ids`` not known at its ``updated_at``, embedding every
        fragment the cache lacks, :data:`FILL_CHUNK` clients at a time (``stop``: asked before each step, True ends
        the fill); returns how many were computed."""
        if self._engine is None or self._embed_all is None:
            raise ModelError("de notities-kolom is niet gekoppeld aan een database en embedder (NotesColumn.bind)")
        known = self._known
        moments = np.asarray(updated_at, np.float64).tolist()
        stale = [
            cid
            for cid, at in zip(np.asarray(client_ids).tolist(), moments, strict=True)
            if known.get(cid, (None,))[0] != at
        ]
        done, left_out, self.lacking = 0, False, False  # a search during the fill may set it again
        self._filling += 1
        try:
            for start in range(0, len(stale), FILL_CHUNK):
                if stop is not None and stop():
                    self.lacking = True  # unfinished
                    return done
                left_out = self._refresh(stale[start : start + FILL_CHUNK], self._embed_all) or left_out
                done += len(stale[start : start + FILL_CHUNK])
        finally:
            self._filling -= 1
        self.lacking = self.lacking or left_out
        return done

    def values(
        self,
        client_ids: np.ndarray,
        updated_at: np.ndarray | None = None,
        texts: Mapping[int, tuple[str, str]] | None = None,
    ) -> np.ndarray:
        """The column per client id (float32); ``updated_at`` (epoch seconds, as :class:`ClientArrays` holds them)
        lets known clients skip the database; None: every client's moment is read from the database. ``texts``:
        per client id, (zelfbeschrijving, notities) to read instead of the stored ones (a counterfactual test's
        swapped texts); their values are computed for this call only, never remembered."""
        if self._engine is None or self._embed is None:
            raise ModelError("de notities-kolom is niet gekoppeld aan een database en embedder (NotesColumn.bind)")
        ids = np.asarray(client_ids, np.int64)
        looked = None if updated_at is None else self._lookup(ids)  # read again below only after a refresh
        if looked is None:
            stale = np.unique(ids).tolist()
        else:  # a client is stale unless known at its moment (a NaN moment, never computed, equals nothing)
            asked = ids[~(looked[0] == np.asarray(updated_at, np.float64))]
            stale = asked[np.sort(np.unique(asked, return_index=True)[1])].tolist()  # in the order first asked
        instead = {cid: texts[cid] for cid in np.unique(ids).tolist() if cid in texts} if texts else {}
        stale = [cid for cid in stale if cid not in instead]
        if self._clients_max is not None and len(stale) > (limit := 0 if self._filling else self._clients_max):
            stale, self.lacking = stale[:limit], True
        if stale and self._refresh(stale):
            self.lacking = True
        value = (self._lookup(ids) if stale or looked is None else looked)[1].astype(np.float32)
        if instead:
            computed = self.artefact.scores(list(instead.values()), self._embed).tolist()
            for cid, one in zip(instead, computed, strict=True):
                value[ids == cid] = np.float32(one)
        return value

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The known clients' ids (ascending), moments and values as arrays, made again after ``_known`` changed:
        a nightly partition asks about 25,000 pool rows at once, a dictionary lookup each was 17 % of its CPU."""
        if self._sorted is None:
            ids = np.fromiter(self._known, np.int64, len(self._known))
            order = np.argsort(ids)
            pairs = np.array(list(self._known.values()), np.float64).reshape(-1, 2)[order]
            self._sorted = (ids[order], pairs[:, 0].copy(), pairs[:, 1].copy())
        return self._sorted

    def _lookup(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per id of ``ids``: its known moment and value (NaN and 0 where not known)."""
        known_ids, moments, values = self._arrays()
        if not len(known_ids):
            return np.full(len(ids), np.nan), np.zeros(len(ids))
        at = np.minimum(np.searchsorted(known_ids, ids), len(known_ids) - 1)
        known = known_ids[at] == ids
        return np.where(known, moments[at], np.nan), np.where(known, values[at], 0.0)

    def _remember(self, items: Iterable[tuple[int, tuple[float, float]]]) -> None:
        """``_known`` updated with ``items`` (client id, (moment, value)); the arrays are made again when next read."""
        self._known.update(items)
        self._sorted = None

    def _refresh(self, ids: list[int], embed: Embed | None = None) -> bool:
        """Read the texts of ``ids`` and compute the values of those changed since they were computed (a client
        no longer in the database gets 0: the ridge's centre, no signal); a client with a fragment ``embed`` (default:
        the search's) left out is not remembered and reads 0 this time. True when such a client was left out."""
        assert self._engine is not None and self._embed is not None
        embed = embed or self._embed
        rows: list[tuple[int, float, str, str]] = []
        with Session(self._engine) as session:
            for chunk in in_chunks(ids):
                asked = select(Client.id, Client.updated_at, Client.zelfbeschrijving, Client.notities).where(
                    Client.id.in_(chunk)  # type: ignore[union-attr]
                )
                rows.extend(
                    (int(cid), epoch_seconds(at), own or "", notes or "") for cid, at, own, notes in session.exec(asked)
                )
        changed = [row for row in rows if self._known.get(row[0], (None,))[0] != row[1]]
        left_out = False
        if changed:
            scores = self.artefact.scores([(own, notes) for _, _, own, notes in changed], embed)
            finite = np.isfinite(scores)
            left_out = not finite.all()
            self._remember(
                (cid, (at, float(value)))
                for (cid, at, _, _), value, kept in zip(changed, scores, finite, strict=True)
                if kept
            )
        found = {row[0] for row in rows}
        self._remember((cid, (float("nan"), 0.0)) for cid in ids if cid not in found)
        return left_out


def remove_saved_values(directory: Path, client_ids: np.ndarray) -> int:
    """Take ``client_ids`` off every file of notes values in the index directory now (an erasure), each file
    replaced whole; returns how many values were removed."""
    removed = 0
    for path in sorted(Path(directory).glob(f"{VALUES_PREFIX}*.npz")):
        try:
            with np.load(path, allow_pickle=False) as kept:
                columns = {name: kept[name] for name in ("ids", "updated_at", "values")}
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)  # unreadable: nothing can use it, and it may hold the client
            continue
        keep = ~np.isin(columns["ids"], np.asarray(client_ids, np.int64))
        if keep.all():
            continue
        removed += int((~keep).sum())
        _write_npz(path, {name: column[keep] for name, column in columns.items()})
    return removed


def _write_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """``arrays`` as one ``.npz`` file, replacing ``path`` whole (:func:`matching.index.atomic_write`)."""

    def write(tmp: Path) -> None:
        with tmp.open("wb") as handle:
            np.savez(handle, **arrays)

    atomic_write(path, write)
