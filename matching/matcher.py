"""The façade: one object that keeps store, embeddings, indexes and arrays in step and answers searches.

The API, the CLI and the benchmarks call only this. Searching goes encode → filter → retrieve
(dense and lexical, plus the structured signals) → score → explain:

1. hard filters over *all* records (vectorised): hours overlap, within the client's travel wish,
   workable working times, vacancy open;
2. a candidate pool: the top ``pool_size`` eligible records by each of dense similarity (FAISS with
   an id selector), BM25 and structured fit — so a profile with an empty text is still found by its
   structured fields, and one with no coded fields by its text;
3. the transparent weighted score (:mod:`matching.scoring`) over the pool, then Dutch reasons
   (:mod:`matching.explain`) for the top N.

Every search first catches up with changes saved by any process (rows whose ``updated_at`` moved
past the last sync), so a changed profile is searchable on the next search after it is saved.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np
from sqlalchemy import func
from sqlmodel import Session, select
from tqdm import tqdm

from matching import annotate, compatibility, disclosure, exposure, oversight_state, quality, scoring
from matching.compatibility import Status
from matching.disclosure import EVERYONE, Viewer
from matching.domain import Client, Vacancy, utcnow
from matching.embedding import Embedder, Role, embed_cached, embed_fields, load_embedder
from matching.errors import InvalidInputError
from matching.explain import PairFacts
from matching.features import FEATURE_NAMES, ROUTE_BAND_HIGH, ROUTE_BAND_LOW, pair_matrix
from matching.index import VectorIndex
from matching.lexical import LexicalIndex
from matching.lookup import find_client, find_vacancy
from matching.ranker import WEIGHTED, LearnedRanker, RankerError, load_ranker
from matching.settings import RetrievalSettings, Settings
from matching.store import init_db, make_engine
from matching.structured import ROUTES, ClientArrays, VacancyArrays, Vocabularies
from matching.taxonomy import load_taxonomy
from matching.text import (
    Fields,
    client_fields,
    content_hash,
    fields_hash,
    render_client,
    render_vacancy,
    vacancy_fields,
)
from matching.vocab import READINESS

logger = logging.getLogger(__name__)

Side = Literal["clients", "vacancies"]
EMBED_CHUNK = 64  # records per embedding step: a search waits for the model at most one step
QUERY_MEMO = 4096  # query vectors remembered (384 floats each: ≈ 6 MB)
SAVE_EVERY_S = 20.0  # a changed index is written within this (index status of another process reads it)
ADVICE = "Dit is een suggestie om met de klant te bespreken, geen besluit. De consulent beoordeelt of een match past."


@dataclass(frozen=True)
class CandidateFilters:
    """What a consulent narrows a candidate list to; every field optional.

    ``whole_bestand`` lifts the client's own travel wish (the one hard filter that is a wish, not a
    fact), so a consulent can see who would fit if they travelled further; hours and working times
    still apply.
    """

    max_km: float | None = None  # straal: at most this far from the work location
    trede: frozenset[int] | None = None
    route: frozenset[str] | None = None
    min_hours: float | None = None  # at least this many shared hours per week
    # candidates for whom one of these plaatsingsvormen suits their route (inside the route's band)
    plaatsingsvorm: frozenset[str] | None = None
    whole_bestand: bool = False

    def mask(
        self, clients: ClientArrays, features: scoring.PairFeatures, banded: np.ndarray | None = None
    ) -> np.ndarray:
        """Who passes the filters; ``banded`` rows (outside the viewer's caseload) meet the radius by
        distance band (:func:`matching.disclosure.radius_for_outsiders`), so a radius cannot measure them."""
        keep = np.ones(len(clients.ids), bool)
        if self.max_km is not None:
            within = features.distance_km <= self.max_km
            if banded is not None:
                within |= banded & (features.distance_km <= disclosure.radius_for_outsiders(self.max_km))
            keep &= within
        if self.trede is not None:
            keep &= np.isin(clients.trede, list(self.trede))
        if self.route is not None:
            codes = [ROUTES.index(route) for route in self.route if route in ROUTES]
            keep &= np.isin(clients.route, codes)
        if self.min_hours is not None:
            keep &= features.hours_overlap >= self.min_hours
        if self.plaatsingsvorm is not None:
            suits = np.zeros(len(clients.ids), bool)
            for vorm in self.plaatsingsvorm:
                readiness = READINESS.get(vorm)
                if readiness is not None:
                    suits |= (ROUTE_BAND_LOW[clients.route] <= readiness) & (
                        readiness <= ROUTE_BAND_HIGH[clients.route]
                    )
            keep &= suits
        return keep


NO_FILTERS = CandidateFilters()


@dataclass
class CandidatePool:
    """One vacancy's candidate pool: features of all clients, who passed the hard filters, and the pool."""

    features: scoring.PairFeatures  # of *all* clients
    mask: np.ndarray  # passed every hard filter
    rows: np.ndarray  # the pool's client rows
    dense_raw: np.ndarray  # raw cosine per pool row
    lexical_raw: np.ndarray  # BM25 per pool row, divided by the best of all records
    signals: dict[str, np.ndarray]  # the weighted score's signals per pool row
    outside_filters: np.ndarray  # of all clients: left out by the consulent's filters
    full_view: np.ndarray  # of all clients: seen in full by the viewer (matching.disclosure)
    hard_rows: np.ndarray  # client rows left out for a hard beperking conflict (full-view rows only)
    hard_counts: dict[str, int]  # per aspect, how many of them


@dataclass
class SideState:
    """Everything held in memory for one side (clients or vacancies)."""

    vectors: VectorIndex | None = None
    lexical: LexicalIndex = field(default_factory=LexicalIndex)
    texts: dict[int, str | Fields] = field(default_factory=dict)  # what is embedded (text or fields)
    lexical_texts: dict[int, str] = field(default_factory=dict)  # what BM25 reads (adds synonyms)
    queue: dict[int, str] = field(default_factory=dict)  # id → digest of records still to embed
    unsaved: bool = False  # vectors changed since the index was last written
    watermark: datetime | None = None
    count: int = 0


class Matcher:
    """Holds the store, the embedder, both vector and lexical indexes, and answers match requests."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.engine = make_engine(settings.resolved_database_url)
        init_db(self.engine)
        self.taxonomy = load_taxonomy()
        self._embedder = embedder
        self._lock = threading.RLock()
        self.sides: dict[Side, SideState] = {"clients": SideState(), "vacancies": SideState()}
        self.vocab = Vocabularies()
        self._clients: ClientArrays | None = None
        self._vacancies: VacancyArrays | None = None
        self._worker: threading.Thread | None = None
        self._stopping = threading.Event()
        self._saver: threading.Timer | None = None
        # A vacancy's query vector by the digest of what is embedded: a search embeds nothing it already has
        # (a cache read per search cost ≈ 2.5 ms of the ≈ 40 ms a candidate search takes on 2 cores).
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self.embedding_error: str | None = None
        self.baseline: LearnedRanker | None = None
        self.ranker_error: str | None = None
        if settings.ranker.baseline_dir is not None:
            try:
                self.baseline = load_ranker(settings.ranker.baseline_dir, "baseline")
            except RankerError as error:
                self.ranker_error = str(error)
                logger.warning("shipped baseline ranker not usable, ranking by the weighted score: %s", error)
        self.ranker = self.baseline

    # ------------------------------------------------------------------ embedding and sync
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.embedding)
        return self._embedder

    def _rows(self, session: Session, side: Side) -> list[Any]:
        table = Client if side == "clients" else Vacancy
        return list(session.exec(select(table).order_by(table.id)))  # type: ignore[arg-type]

    def _render(self, side: Side, row: Any, lexical: bool = False) -> str:
        if side == "clients":
            return render_client(row, self.taxonomy, lexical)
        return render_vacancy(row, self.taxonomy, lexical)

    def _dense_input(self, side: Side, row: Any) -> str | Fields:
        """What the embedder reads of a record: the rendered text, or its fields (``embedding.compose``)."""
        if self.settings.embedding.compose == "fields":
            return client_fields(row, self.taxonomy) if side == "clients" else vacancy_fields(row, self.taxonomy)
        return self._render(side, row)

    @property
    def prepared(self) -> bool:
        """True once :meth:`sync` has loaded both sides (search works; embedding may still run)."""
        return all(state.vectors is not None for state in self.sides.values())

    @staticmethod
    def _digest(item: str | Fields) -> str:
        return fields_hash(item) if isinstance(item, dict) else content_hash(item)

    def _vectors_for(self, items: list[str | Fields], role: Role, progress: bool = False) -> np.ndarray:
        if items and isinstance(items[0], dict):
            return embed_fields(self.engine, self.embedder, items, role, progress)  # type: ignore[arg-type]
        return embed_cached(self.engine, self.embedder, items, role, progress)  # type: ignore[arg-type]

    def _query_vector(self, item: str | Fields) -> np.ndarray:
        """The query vector of one record, remembered (by content digest) for the last QUERY_MEMO searches."""
        digest = self._digest(item)
        vector = self._query_vectors.get(digest)
        if vector is None:
            vector = self._vectors_for([item], "query")[0]
            self._query_vectors[digest] = vector
            if len(self._query_vectors) > QUERY_MEMO:
                self._query_vectors.popitem(last=False)
        else:
            self._query_vectors.move_to_end(digest)
        return vector

    def sync(self, progress: bool = False, background: bool = False) -> dict[str, Any]:
        """Bring the indexes in line with the database: load from disk, then embed and index what differs.

        Lexical and structured search work as soon as this returns. With ``background=True`` the
        embedding runs in a worker thread and dense search covers more records as it goes (``status``
        says how far it is); otherwise it is done before returning.
        """
        with self._lock:
            report: dict[str, Any] = {}
            with Session(self.engine) as session:
                for side in ("clients", "vacancies"):
                    report[side] = self._prepare_side(side, self._rows(session, side))
            self._clients = self._vacancies = None
            if background:
                self._start_worker(progress)
                return report
        self._drain(progress)
        return report

    def _start_worker(self, progress: bool) -> None:
        with self._lock:
            if self._worker is None and any(state.queue for state in self.sides.values()):
                self._worker = threading.Thread(target=self._drain, args=(progress,), name="embedden", daemon=True)
                self._worker.start()

    def wait_embedded(self, timeout: float | None = None) -> bool:
        """Wait for background embedding to finish; True when nothing is left to embed."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
        return self._worker is None and not any(state.queue for state in self.sides.values())

    def close(self) -> None:
        """Stop background embedding after its current step and write what is not saved yet."""
        self._stopping.set()
        worker = self._worker
        if worker is not None:
            worker.join()
        self._stopping.clear()
        self._flush()

    def _save_soon(self, side: Side) -> None:
        """Write a changed index within ``SAVE_EVERY_S``, not on every save of a record.

        Writing 100,000 vectors takes about a second; the database is the truth and an index that
        missed its last writes is caught up from the embedding cache at the next start.
        """
        self.sides[side].unsaved = True
        with self._lock:
            if self._saver is None:
                self._saver = threading.Timer(SAVE_EVERY_S, self._flush)
                self._saver.daemon = True
                self._saver.start()

    def _flush(self) -> None:
        with self._lock:
            if self._saver is not None:
                self._saver.cancel()
                self._saver = None
            for name, state in self.sides.items():
                if state.vectors is not None and state.unsaved:
                    state.vectors.save(self.settings.index_dir, name)
                    state.unsaved = False

    def _drain(self, progress: bool = False) -> None:
        """Embed every queued record, a chunk at a time, and save the indexes now and then."""
        total = sum(len(state.queue) for state in self.sides.values())
        try:
            with tqdm(total=total, desc="embedden", unit="record", disable=not progress) as bar:
                while True:
                    with self._lock:
                        side = next((name for name, state in self.sides.items() if state.queue), None)
                        if side is None or self._stopping.is_set():
                            self._flush()
                            if threading.current_thread() is self._worker:
                                self._worker = None
                            return
                        state = self.sides[side]
                        chunk = list(itertools.islice(state.queue.items(), EMBED_CHUNK))
                        items = [state.texts[key] for key, _ in chunk]
                    vectors = self._vectors_for(items, "document")  # outside the lock: searches go on
                    with self._lock:
                        # A record saved again meanwhile was re-embedded by refresh: keep the newer vector.
                        keep = [i for i, (key, digest) in enumerate(chunk) if state.queue.get(key) == digest]
                        for key, _ in chunk:
                            state.queue.pop(key, None)
                        assert state.vectors is not None
                        state.vectors.upsert(
                            np.array([chunk[i][0] for i in keep], np.int64),
                            vectors[keep],
                            [chunk[i][1] for i in keep],
                        )
                        self._save_soon(side)
                    bar.update(len(chunk))
        except Exception:
            logger.exception("embedding in the background failed; dense search covers only what was embedded")
            with self._lock:
                self.embedding_error = "embedden is mislukt; zie het log van de service"
                if threading.current_thread() is self._worker:
                    self._worker = None
            raise

    def _load_vectors(self, side: Side) -> VectorIndex:
        directory = self.settings.index_dir
        if (directory / f"{side}.faiss").exists():
            try:
                index = VectorIndex.load(directory, side)
                if index.model_id == self.embedder.model_id:
                    return index
                logger.warning(
                    "index %s was built with %s; rebuilding for %s", side, index.model_id, self.embedder.model_id
                )
            except (ValueError, RuntimeError, OSError, KeyError) as error:
                logger.warning("index %s unreadable (%s); rebuilding", side, error)
        return VectorIndex(self.embedder.dimension, self.embedder.model_id)

    def _prepare_side(self, side: Side, rows: list[Any]) -> dict[str, int]:
        """Everything but embedding: texts, lexical index, stale vectors removed, changed ones queued."""
        state = self.sides[side]
        texts = {row.id: self._dense_input(side, row) for row in rows}
        hashes = {key: self._digest(text) for key, text in texts.items()}
        if state.vectors is None:
            state.vectors = self._load_vectors(side)
        vectors = state.vectors
        stale = [key for key in vectors.hashes if key not in texts]
        if stale:
            vectors.remove(np.array(stale, np.int64))
        state.queue = {key: digest for key, digest in hashes.items() if vectors.hashes.get(key) != digest}
        state.unsaved = bool(stale) or not (self.settings.index_dir / f"{side}.faiss").exists()
        state.lexical = LexicalIndex()
        state.lexical_texts = {row.id: self._render(side, row, lexical=True) for row in rows}
        state.lexical.upsert(list(state.lexical_texts), list(state.lexical_texts.values()))
        state.texts = texts
        state.count = len(rows)
        state.watermark = max((row.updated_at for row in rows), default=None)
        return {"records": len(rows), "embedded": len(state.queue), "removed": len(stale)}

    def refresh(self, side: Side, ids: list[int] | None = None) -> None:
        """Re-index records changed since the last sync (or the given ids); removes deleted ones."""
        with self._lock, Session(self.engine) as session:
            table = Client if side == "clients" else Vacancy
            state = self.sides[side]
            count = session.exec(select(func.count()).select_from(table)).one()
            query = select(table)
            if ids is not None:
                query = query.where(table.id.in_(ids))  # type: ignore[union-attr]
            elif state.watermark is not None:
                query = query.where(table.updated_at > state.watermark)  # type: ignore[operator]
            changed = list(session.exec(query))
            if count != state.count + sum(1 for row in changed if row.id not in state.texts):
                # Something was deleted (or inserted without a newer timestamp): a full sync is cheap, the
                # embedding cache answers for every unchanged text.
                self._prepare_side(side, self._rows(session, side))
                self._clients = self._vacancies = None
                if self._worker is None:
                    self._drain()
                return
            if not changed:
                return
            assert state.vectors is not None
            texts = {row.id: self._dense_input(side, row) for row in changed}
            fresh = [key for key, text in texts.items() if state.texts.get(key) != text]
            if fresh:
                embedded = self._vectors_for([texts[k] for k in fresh], "document")
                state.vectors.upsert(np.array(fresh, np.int64), embedded, [self._digest(texts[k]) for k in fresh])
                for key in fresh:
                    state.queue.pop(key, None)
                self._save_soon(side)
            lexical_texts = {row.id: self._render(side, row, lexical=True) for row in changed}
            state.lexical.upsert(list(lexical_texts), list(lexical_texts.values()))
            state.lexical_texts.update(lexical_texts)
            state.texts.update(texts)
            state.count = count
            newest = max(row.updated_at for row in changed)
            state.watermark = max(state.watermark, newest) if state.watermark else newest
            if side == "clients" and self._clients is not None:
                self._clients = self._clients.merged(ClientArrays.build(changed, self.vocab))
            elif side == "vacancies" and self._vacancies is not None:
                self._vacancies = self._vacancies.merged(VacancyArrays.build(changed, self.vocab))

    def _catch_up(self) -> None:
        if self.sides["clients"].vectors is None:
            self.sync()
        self.refresh("clients")
        self.refresh("vacancies")

    def _arrays(self) -> tuple[ClientArrays, VacancyArrays]:
        with Session(self.engine) as session:
            if self._clients is None:
                self._clients = ClientArrays.build(self._rows(session, "clients"), self.vocab)
            if self._vacancies is None:
                self._vacancies = VacancyArrays.build(self._rows(session, "vacancies"), self.vocab)
        self._clients.widen(self.vocab)
        self._vacancies.widen(self.vocab)
        return self._clients, self._vacancies

    # ------------------------------------------------------------------ search
    def _pool(
        self,
        eligible_rows: np.ndarray,
        ids: np.ndarray,
        side: Side,
        query_vector: np.ndarray,
        query_text: str,
        structured: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pool rows, their raw cosine with the query, and their BM25 divided by the best of *all* records.

        The raw values are the ranker's features (as :mod:`training.dataset` computes them); the
        weighted score scales them over the pool with :func:`scoring.text_signals`.
        """
        state = self.sides[side]
        assert state.vectors is not None
        pool_size = self.settings.retrieval.pool_size
        dense_ids, _ = state.vectors.search(query_vector, pool_size, allowed=ids[eligible_rows])
        lex_ids, lex_scores = state.lexical.scores(query_text)
        lex_rows = np.searchsorted(ids, lex_ids)
        lexical_full = np.zeros(len(ids), np.float32)
        lexical_full[lex_rows] = lex_scores
        lexical_eligible = lexical_full[eligible_rows]
        top_lexical = eligible_rows[np.argsort(-lexical_eligible)[:pool_size]]
        top_structured = eligible_rows[np.argsort(-structured)[:pool_size]]
        pool = np.unique(np.concatenate([np.searchsorted(ids, dense_ids), top_lexical, top_structured]))
        dense = state.vectors.vectors(ids[pool]) @ query_vector if len(pool) else np.zeros(0, np.float32)
        best = float(lexical_full.max()) if len(lexical_full) else 0.0
        lexical = lexical_full[pool] / best if best > 0 else np.zeros(len(pool), np.float32)
        return pool, dense.astype(np.float32), lexical

    def _candidate_pool(
        self,
        clients: ClientArrays,
        vacancies: VacancyArrays,
        vacancy_id: int,
        filters: CandidateFilters = NO_FILTERS,
        full_view: np.ndarray | None = None,
    ) -> CandidatePool:
        """Hard filters over all clients, then the pool and its signals.

        ``full_view`` (per client row; default: every row) says whose beperkingen may exclude them
        and whose distance counts exactly (:mod:`matching.disclosure`).
        """
        v_row = vacancies.position[vacancy_id]
        n = len(clients.ids)
        if full_view is None:
            full_view = np.ones(n, bool)
        features = scoring.pair_features(clients, np.arange(n), vacancies, np.full(n, v_row))
        if filters.whole_bestand:
            mask = (features.hours_overlap >= 0) & features.times_ok
        else:
            mask = scoring.eligible(features, np.ones(n, bool))
        one = slice(v_row, v_row + 1)
        offers = (vacancies.jobcarving[one], vacancies.jobcoach[one], vacancies.guided[one])
        closed = compatibility.accommodated(*offers)[0]
        compat = compatibility.statuses(clients.beperking_ernst, vacancies.belasting[v_row], closed)
        hard = (compat == Status.HARD) & full_view  # beperkingen outside the view shape nothing (rule 1)
        outside_filters = ~filters.mask(clients, features, banded=~full_view)
        mask &= ~hard & ~outside_filters
        structured = scoring.structured_signals(features, clients.max_km)
        query = self._query_vector(self.sides["vacancies"].texts[vacancy_id])
        eligible_rows = np.flatnonzero(mask)
        struct_score = (structured["competences"] + structured["occupation"])[eligible_rows]
        pool, dense_raw, lexical_raw = self._pool(
            eligible_rows,
            clients.ids,
            "clients",
            query,
            self.sides["vacancies"].lexical_texts[vacancy_id],
            struct_score,
        )
        dense, lexical = scoring.text_signals(dense_raw, lexical_raw)
        signals = {"dense": dense, "lexical": lexical, **{k: v[pool] for k, v in structured.items()}}
        hard_rows = np.flatnonzero(hard)
        return CandidatePool(
            features=features,
            mask=mask,
            rows=pool,
            dense_raw=dense_raw,
            lexical_raw=lexical_raw,
            signals=signals,
            outside_filters=outside_filters,
            full_view=full_view,
            hard_rows=hard_rows,
            hard_counts=compatibility.hard_reason_counts(
                clients.beperking_ernst, vacancies.belasting[v_row], closed, hard_rows
            ),
        )

    @staticmethod
    def _full_view(session: Session, viewer: Viewer, ids: np.ndarray) -> np.ndarray:
        """Per client row: does ``viewer`` see that client in full (own caseload, or everyone)?"""
        if viewer.everyone:
            return np.ones(len(ids), bool)
        if viewer.caseload is None:
            return np.zeros(len(ids), bool)
        own = session.exec(select(Client.id).where(Client.consulent == viewer.caseload)).all()
        return np.isin(ids, np.fromiter(own, np.int64, len(own)))

    def pool_features(self, vacancy_id: int, now: datetime | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The client ids a candidate search for this vacancy would rank, and their ranker features.

        For evaluation: works for closed vacancies too (the holdout's vacancies are mostly filled).
        """
        with self._lock:
            self._catch_up()
            clients, vacancies = self._arrays()
            pool = self._candidate_pool(clients, vacancies, vacancy_id)
            v_rows = np.full(len(pool.rows), vacancies.position[vacancy_id])
            pairs = pair_matrix(
                clients, pool.rows, vacancies, v_rows, pool.dense_raw, pool.lexical_raw, now or utcnow()
            )
            return clients.ids[pool.rows], pairs

    def ranking_mode(self) -> dict[str, Any]:
        """The kill switch's position (:mod:`matching.oversight_state`), read from the database."""
        with Session(self.engine) as session:
            return oversight_state.ranking_mode(session, self.settings.ranker.mode)

    def candidates(
        self,
        vacancy_ref: str | int,
        top: int = 20,
        weights: RetrievalSettings | None = None,
        filters: CandidateFilters = NO_FILTERS,
        served: bool = False,
        viewer: Viewer = EVERYONE,
    ) -> dict[str, Any]:
        """The best-fitting clients for one vacancy, each with a score, Dutch reasons and kansen.

        Args:
            vacancy_ref: vacaturenummer or database id.
            top: how many candidates (1–500).
            weights: other signal weights than the configured ones (evaluation of single signals);
                ranks by the weighted score.
            filters: what the consulent narrows the list to (radius, trede, route, hours, whole bestand).
            served: the list is shown to a person (API, CLI): it is re-ranked for exposure and its top
                enters the exposure ledger. Evaluations leave it False and change nothing.
            viewer: whose eyes the list is for (:mod:`matching.disclosure`): beperkingen of clients outside
                ``viewer.caseload`` shape nothing and their distance is a band. With a caseload, "niet
                getoond, omdat…" names that caseload's clients a hard beperking conflict left out, with the
                reasons (``nietGetoond.eigenKlanten``); without one (and not ``everyone``) it has no
                beperking counts at all.
        """
        if top < 1 or top > 500:
            raise InvalidInputError(f"top moet tussen 1 en 500 liggen, niet {top}")
        with self._lock:
            self._catch_up()
            clients, vacancies = self._arrays()
            with Session(self.engine) as session:
                vacancy = find_vacancy(session, vacancy_ref)
                if not vacancy.is_open:
                    raise InvalidInputError(
                        f"vacature {vacancy.vacature_nummer} is {vacancy.status}; "
                        "kandidaten zoeken kan alleen voor open vacatures"
                    )
                vacancy_id: int = vacancy.id  # type: ignore[assignment]
                full_view = self._full_view(session, viewer, clients.ids)
                pool = self._candidate_pool(clients, vacancies, vacancy_id, filters, full_view)
                mode = oversight_state.ranking_mode(session, self.settings.ranker.mode)["modus"]
                ranker = self.ranker if weights is None and mode == "model" else None
                now = utcnow()
                v_rows = np.full(len(pool.rows), vacancies.position[vacancy_id])
                pairs = None
                if ranker is not None:
                    pairs = pair_matrix(clients, pool.rows, vacancies, v_rows, pool.dense_raw, pool.lexical_raw, now)
                    score = ranker.score(pairs)
                else:
                    score = scoring.combine(pool.signals, weights or self.settings.retrieval)
                strength = self.settings.ranker.exposure_strength if served and ranker is not None else 0.0
                if strength > 0:
                    shown_before, average = oversight_state.exposure(session, clients.ids[pool.rows], vacancy_id, now)
                    order = exposure.rerank(
                        score, shown_before, clients.trede[pool.rows], strength=strength, mean_exposure=average
                    )[:top]
                else:
                    order = np.argsort(-score, kind="stable")[:top]
                shown_rows = pool.rows[order]
                shown_pairs = (
                    pairs[order]
                    if pairs is not None
                    else pair_matrix(
                        clients,
                        shown_rows,
                        vacancies,
                        v_rows[order],
                        pool.dense_raw[order],
                        pool.lexical_raw[order],
                        now,
                    )
                )
                contributions = (
                    annotate.learned_contributions(ranker, shown_pairs)
                    if ranker is not None
                    else annotate.weighted_contributions(pool.signals, weights or self.settings.retrieval, order)
                )
                rows_by_id = {
                    row.id: row
                    for row in session.exec(select(Client).where(Client.id.in_(clients.ids[shown_rows].tolist())))
                }  # type: ignore[union-attr]
                results = []
                for rank, position in enumerate(order, start=1):
                    row = pool.rows[position]
                    client = rows_by_id[int(clients.ids[row])]
                    pair_signals = {name: float(values[position]) for name, values in pool.signals.items()}
                    full = bool(pool.full_view[row])
                    distance = float(pool.features.distance_km[row])
                    facts = PairFacts(
                        distance_km=distance,
                        max_km=float(clients.max_km[row]),
                        mode=clients.mode[row],
                        values=dict(zip(FEATURE_NAMES, shown_pairs[rank - 1].tolist(), strict=True)),
                        distance_band=None if full else disclosure.distance_band(distance),
                    )
                    results.append(
                        {
                            "rank": rank,
                            "score": round(float(score[position]), 4 if full else disclosure.OUTSIDER_SCORE_DECIMALS),
                            "clientId": client.client_nummer,
                            "trede": client.trede,
                            "route": client.route,
                            **annotate.explained(
                                client, vacancy, contributions[rank - 1], facts, pair_signals, self.taxonomy
                            ),
                            # stale or contradictory profiles are flagged, not silently ranked low
                            "datakwaliteit": quality.assess(client, now).to_json(),
                            "ontbrekendeGegevens": client.missing_fields(),
                        }
                    )
                if served:
                    oversight_state.record_shown(
                        session, vacancy_id, clients.ids[shown_rows[: exposure.LIST_SIZE]].tolist()
                    )
                    session.commit()
                n = len(clients.ids)
                not_shown = {
                    **self._excluded_summary(pool.features, np.ones(n, bool)),
                    **(
                        annotate.hard_summary(pool.hard_counts, len(pool.hard_rows))
                        if viewer.everyone or viewer.caseload is not None
                        else {}
                    ),
                    "buitenFilters": int(pool.outside_filters.sum()),
                }
                side = "klanten" if viewer.everyone else "klanten uit uw eigen caseload"
                not_shown["toelichting"] = annotate.explain_not_shown(not_shown, "klanten", beperking_side=side)
                if viewer.caseload is not None:
                    not_shown["eigenKlanten"] = annotate.own_left_out(
                        session, clients.ids[pool.hard_rows].tolist(), viewer.caseload, vacancy
                    )
                return {
                    "vacancyId": vacancy.vacature_nummer,
                    "titel": vacancy.titel,
                    "advies": ADVICE,
                    "rankedBy": ranker.describe() if ranker is not None else self._weighted_description(weights),
                    "rangschikking": {
                        "modus": "model" if ranker is not None else "transparant",
                        "blootstellingSterkte": strength,
                    },
                    "aantalGeschikt": int(pool.mask.sum()),
                    "nietGetoond": not_shown,
                    "results": results,
                }

    def vacancies_for(self, client_ref: str | int, top: int = 20) -> dict[str, Any]:
        """The best-fitting open vacancies for one client (the options at intake), with Dutch reasons."""
        if top < 1 or top > 500:
            raise InvalidInputError(f"top moet tussen 1 en 500 liggen, niet {top}")
        with self._lock:
            self._catch_up()
            clients, vacancies = self._arrays()
            with Session(self.engine) as session:
                client = find_client(session, client_ref)
                c_row = clients.position[client.id]  # type: ignore[index]
                n = len(vacancies.ids)
                v_rows = np.arange(n)
                c_rows = np.full(n, c_row)
                features = scoring.pair_features(clients, c_rows, vacancies, v_rows)
                compat = compatibility.statuses(
                    clients.beperking_ernst[c_row],
                    vacancies.belasting,
                    compatibility.accommodated(vacancies.jobcarving, vacancies.jobcoach, vacancies.guided),
                )
                hard = (compat == Status.HARD) & vacancies.open
                mask = scoring.eligible(features, vacancies.open) & ~hard
                structured = scoring.structured_signals(features, clients.max_km[c_rows])
                query = self._query_vector(self.sides["clients"].texts[client.id])  # type: ignore[index]
                eligible_rows = np.flatnonzero(mask)
                struct_score = (structured["competences"] + structured["occupation"])[eligible_rows]
                pool, dense_raw, lexical_raw = self._pool(
                    eligible_rows,
                    vacancies.ids,
                    "vacancies",
                    query,
                    self.sides["clients"].lexical_texts[client.id],  # type: ignore[index]
                    struct_score,
                )
                dense, lexical = scoring.text_signals(dense_raw, lexical_raw)
                signals = {"dense": dense, "lexical": lexical, **{k: v[pool] for k, v in structured.items()}}
                score = scoring.combine(signals, self.settings.retrieval)
                order = np.argsort(-score, kind="stable")[:top]
                now = utcnow()
                shown_pairs = pair_matrix(
                    clients,
                    np.full(len(order), c_row),
                    vacancies,
                    pool[order],
                    dense_raw[order],
                    lexical_raw[order],
                    now,
                )
                contributions = annotate.weighted_contributions(signals, self.settings.retrieval, order)
                rows_by_id = {
                    row.id: row
                    for row in session.exec(select(Vacancy).where(Vacancy.id.in_(vacancies.ids[pool[order]].tolist())))
                }  # type: ignore[union-attr]
                results = []
                for rank, position in enumerate(order, start=1):
                    row = pool[position]
                    vacancy = rows_by_id[int(vacancies.ids[row])]
                    pair_signals = {name: float(values[position]) for name, values in signals.items()}
                    facts = PairFacts(
                        distance_km=float(features.distance_km[row]),
                        max_km=float(clients.max_km[c_row]),
                        mode=clients.mode[c_row],
                        values=dict(zip(FEATURE_NAMES, shown_pairs[rank - 1].tolist(), strict=True)),
                    )
                    results.append(
                        {
                            "rank": rank,
                            "score": round(float(score[position]), 4),
                            "vacancyId": vacancy.vacature_nummer,
                            "titel": vacancy.titel,
                            "werkgever": vacancy.werkgever,
                            "bron": vacancy.bron,
                            "plaatsingsvorm": vacancy.plaatsingsvorm,
                            **annotate.explained(
                                client, vacancy, contributions[rank - 1], facts, pair_signals, self.taxonomy
                            ),
                        }
                    )
                not_shown = {
                    **self._excluded_summary(features, vacancies.open),
                    "beperkingOnverenigbaar": int(hard.sum()),
                }
                not_shown["toelichting"] = annotate.explain_not_shown(not_shown, "vacatures")
                return {
                    "clientId": client.client_nummer,
                    "advies": ADVICE,
                    "rankedBy": self._weighted_description(None),
                    "ontbrekendeGegevens": client.missing_fields(),
                    "datakwaliteit": quality.assess(client, now).to_json(),
                    "aantalGeschikt": int(mask.sum()),
                    "nietGetoond": not_shown,
                    "results": results,
                }

    @staticmethod
    def _excluded_summary(features: scoring.PairFeatures, open_: np.ndarray) -> dict[str, int]:
        """How many pairs each hard filter removed ("niet getoond, omdat…"); a pair can count more than once."""
        return {
            "vacatureNietOpen": int((~open_).sum()),
            "urenPassenNiet": int((features.hours_overlap < 0).sum()),
            "buitenReisbereik": int((~features.within_reach).sum()),
            "werktijdenPassenNiet": int((~features.times_ok).sum()),
        }

    # ------------------------------------------------------------------ ranking model
    def use_ranker(self, ranker: LearnedRanker | None) -> None:
        """Rank candidate lists with ``ranker`` from the next search on (None: the shipped baseline)."""
        with self._lock:
            self.ranker = ranker or self.baseline
            self.ranker_error = None

    def ranker_failed(self, error: str) -> None:
        """Record why a wanted ranker could not be loaded; the last good one keeps serving."""
        with self._lock:
            self.ranker_error = error

    def _weighted_description(self, weights: RetrievalSettings | None) -> dict[str, Any]:
        if weights is not None:
            return {**WEIGHTED, "source": "gewichten van deze aanvraag"}
        return dict(WEIGHTED)

    def ranker_status(self) -> dict[str, Any]:
        current = self.ranker.describe() if self.ranker is not None else dict(WEIGHTED)
        return {**current, **({"error": self.ranker_error} if self.ranker_error else {})}

    # ------------------------------------------------------------------ status
    def status(self) -> dict[str, Any]:
        with self._lock, Session(self.engine) as session:
            out: dict[str, Any] = {
                "modelId": self.embedder.model_id,
                "dimension": self.embedder.dimension,
                "ranker": self.ranker_status(),
            }
            for side in ("clients", "vacancies"):
                table = Client if side == "clients" else Vacancy
                db_count = session.exec(select(func.count()).select_from(table)).one()
                state = self.sides[side]
                indexed = len(state.vectors) if state.vectors is not None else None
                if indexed is None and (self.settings.index_dir / f"{side}.faiss").exists():
                    try:
                        loaded = VectorIndex.load(self.settings.index_dir, side)
                        indexed, model = len(loaded), loaded.model_id
                    except (ValueError, RuntimeError, OSError, KeyError):
                        indexed, model = None, None
                else:
                    model = state.vectors.model_id if state.vectors is not None else None
                out[side] = {
                    "database": int(db_count),
                    "indexed": indexed,
                    # Another process (a running service) may be embedding: then the files tell how far it is.
                    "toEmbed": len(state.queue)
                    if state.vectors is not None
                    else max(int(db_count) - (indexed or 0), 0),
                    "progress": round(min((indexed or 0) / db_count, 1.0), 3) if db_count else 1.0,
                    "modelId": model,
                    "inSync": indexed == db_count and model == self.embedder.model_id and not state.queue,
                }
            out["embedding"] = "bezig" if self._worker is not None else ("fout" if self.embedding_error else "klaar")
            if self.embedding_error:
                out["embeddingError"] = self.embedding_error
            out["checkedAt"] = time.strftime("%Y-%m-%dT%H:%M:%S")
            return out
