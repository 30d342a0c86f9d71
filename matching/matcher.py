"""The façade: both search directions over the indexes that :mod:`matching.index_sync` keeps in step.

The matches service (:mod:`api.services.matches`), the evaluations and the benchmarks call this. A
search catches up with saved changes, encodes the query, runs :mod:`matching.pipeline` (filter → pool
→ score → order), explains the shown pairs (:mod:`matching.annotate`) and answers a typed result
(:mod:`matching.results`). Who asks (a :class:`matching.disclosure.Viewer`) decides what is computed:
beperkingen of a client outside the viewer's caseload shape nothing and their kansen are never made.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import numpy as np
from sqlmodel import Session, select

from matching import (
    annotate,
    disclosure,
    display_score,
    exposure,
    floor_state,
    hard_filters,
    identifier_query,
    oversight_state,
    pipeline,
    quality,
)
from matching.disclosure import EVERYONE, Viewer
from matching.domain import Client, Vacancy, utcnow
from matching.embedding import Embedder
from matching.errors import InvalidInputError, NotFoundError
from matching.explain import PairFacts
from matching.features import FEATURE_NAMES, pair_matrix
from matching.hard_filters import NO_FILTERS, CandidateFilters, Listing
from matching.index import best
from matching.index_sync import IndexSync, Side
from matching.lookup import find_client, find_vacancy
from matching.notes_fill import NotesFill
from matching.pipeline import Pool
from matching.ranker import WEIGHTED, LearnedRanker, RankerError, load_ranker
from matching.results import CandidateList, CandidateResult, NotShown, VacancyList, VacancyResult
from matching.settings import RetrievalSettings, Settings
from matching.side_state import SideState
from matching.structured import ClientArrays, VacancyArrays

logger = logging.getLogger(__name__)

ADVICE = "Dit is een suggestie om met de klant te bespreken, geen besluit. De consulent beoordeelt of een match past."
TOP_MAX = 500


def _check_top(top: int) -> None:
    if top < 1 or top > TOP_MAX:
        raise InvalidInputError(f"top moet tussen 1 en {TOP_MAX} liggen, niet {top}")


class Matcher:
    """The indexes (:attr:`index`), the ranker that serves, and the two searches.

    Args:
        settings: Data directory, database, model, weights, ranker.
        embedder: A loaded embedder (tests share one); default: loaded on first use.
        may_write: False for a process that must never write the index files (a CLI search).
    """

    def __init__(self, settings: Settings, embedder: Embedder | None = None, may_write: bool = True) -> None:
        self.settings = settings
        self.index = IndexSync(settings, embedder, may_write)
        self.engine = self.index.engine
        self.taxonomy = self.index.taxonomy
        self.baseline: LearnedRanker | None = None
        self.ranker_error: str | None = None
        if settings.ranker.baseline_dir is not None:
            try:  # a ranker that cannot be bound (its notes column read with another embedding model) does not serve
                baseline = load_ranker(settings.ranker.baseline_dir, "baseline")
                baseline.bind(self.engine, self.embedder, settings.index_dir, live=True)  # nothing without a column
                self.baseline = baseline
            except RankerError as error:
                self.ranker_error = str(error)
                logger.warning("shipped baseline ranker not usable, ranking by the weighted score: %s", error)
        self.ranker = self.baseline
        self.notes_fill = NotesFill(self.index, lambda: self.ranker, settings.index_dir)  # matching.notes_fill
        # Step 1 skips the costly work on records out of reach (hard_filters.candidate_reach);
        # False: the plain pass over every record, for the benchmark's before/after and the equality test.
        self.prefilter = True

    # ------------------------------------------------------------------ the indexes (matching.index_sync)
    @property
    def embedder(self) -> Embedder:
        return self.index.embedder

    @property
    def sides(self) -> dict[Side, SideState]:
        """What each side holds in memory (read-only use: status, evaluations)."""
        return self.index.sides

    @property
    def prepared(self) -> bool:
        return self.index.prepared

    @property
    def embedding_error(self) -> str | None:
        return self.index.embedding_error

    def sync(self, progress: bool = False, background: bool = False) -> dict[str, Any]:
        """:meth:`matching.index_sync.IndexSync.sync`, then (the writer) every client's notes value for a serving
        ranker that reads the notes column (:attr:`notes_fill`; ``background``: after the background embedding)."""
        report = self.index.sync(progress, background)
        self.notes_fill.after_sync(background)
        return report

    def refresh(self, side: Side, ids: list[int] | None = None) -> None:
        """Re-index records changed since the last sync (or the given ids); removes deleted ones."""
        self.index.refresh(side, ids)

    def wait_embedded(self, timeout: float | None = None) -> bool:
        """Wait for background embedding to finish; True when nothing is left to embed."""
        return self.index.wait_embedded(timeout)

    def close(self) -> None:
        """Stop embedding, write what is unsaved, hand the writer's lock back."""
        self.notes_fill.close(self.index.close)

    def status(self) -> dict[str, Any]:
        """The indexes against the database (counted), the role of this process, the ranker."""
        head = {"modelId": self.embedder.model_id, "dimension": self.embedder.dimension}
        return {**head, "ranker": self.ranker_status(), **self.index.status()}

    # ------------------------------------------------------------------ search
    @contextmanager
    def _session(self, session: Session | None, commit: bool) -> Iterator[Session]:
        """The caller's session (the caller commits), or one of our own, committed when ``commit``."""
        if session is not None:
            yield session
            return
        with Session(self.engine) as own:
            yield own
            if commit:
                own.commit()

    def _text_query(
        self, query_side: Side, query_id: int, searched: Side, ids: np.ndarray, eligible: np.ndarray
    ) -> pipeline.TextQuery:
        """The query record's vector, BM25 and identifiers (:func:`matching.identifier_query.gate_query`) against the
        ``eligible`` records of ``searched`` (rows of ``ids``, ascending), as :func:`matching.pipeline.pool_among` asks.

        Each eligible row's cosine is computed once (:meth:`VectorIndex.cosines`, the same bits as
        :meth:`VectorIndex.nearest` and the pool's raw cosines computing them apart); the dense top leaves out
        records not (yet) embedded, as ``nearest`` does. BM25 as the nightly batch reads it
        (:class:`matching.lexical.Bm25Buffer`): the eligible rows from the weights by record, the best over every
        record by MaxScore, bit for bit the full scatter. Made per search (the weights after its catch-up).
        """
        asking, state = self.index.sides[query_side], self.index.sides[searched]
        vector = self.index.query_vector(asking.texts[query_id])
        vectors = state.vectors
        assert vectors is not None
        embedded = np.flatnonzero(vectors.positions(ids)[eligible] >= 0)
        cosines = vectors.cosines(vector, ids, eligible)
        bm25, terms, gate = identifier_query.record_query(asking, state, query_id, ids)

        def dense_top(rows: np.ndarray, k: int) -> np.ndarray:
            assert rows is eligible  # pool_among asks among the eligible rows it was given
            return eligible[embedded[best(cosines[embedded], k)]]

        return pipeline.TextQuery(
            dense_top=dense_top,
            dense_raw=lambda rows: cosines[np.searchsorted(eligible, rows)],
            lexical=np.zeros(0, np.float32),
            lexical_among=lambda rows: bm25.scores(terms, rows),
            gate=gate,
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
        """The client ids a candidate search for this vacancy would rank, and their ranker features. For evaluation:
        works for closed vacancies too (the holdout's vacancies are mostly filled)."""
        with self.index.lock:
            self.index.catch_up()
            clients, vacancies = self.index.arrays()
            v_row = vacancies.position[vacancy_id]
            everyone = np.ones(len(clients.ids), bool)
            listed = hard_filters.candidate_listing(clients, vacancies, v_row, NO_FILTERS, everyone, self.prefilter)
            text = self._text_query("vacancies", vacancy_id, "clients", clients.ids, listed.eligible)
            pool = pipeline.listed_pool(listed, text, self.settings.retrieval.pool_size)
            at = np.searchsorted(listed.eligible, pool.rows)  # as the live search reads step 1's fit fields
            fit = {name: values[at] for name, values in listed.fit.items()}
            v_rows = np.full(len(pool.rows), v_row)
            pairs = pair_matrix(
                clients, pool.rows, vacancies, v_rows, pool.dense_raw, pool.lexical_raw, now or utcnow(), fit
            )
            return clients.ids[pool.rows], pairs

    def ranking_mode(self) -> dict[str, Any]:
        """The kill switch's position (:mod:`matching.oversight_state`), read from the database."""
        with Session(self.engine) as session:
            return oversight_state.ranking_mode(session, self.settings.ranker.mode)

    def search_candidates(
        self,
        vacancy_ref: str | int,
        top: int = 20,
        weights: RetrievalSettings | None = None,
        filters: CandidateFilters = NO_FILTERS,
        served: bool = False,
        viewer: Viewer = EVERYONE,
        session: Session | None = None,
    ) -> CandidateList:
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
                ``viewer.caseload`` shape nothing, their kansen are not computed and their distance is a
                band. With a caseload, each result says whether it is the viewer's own client, and "niet
                getoond, omdat…" names that caseload's clients a hard beperking conflict left out, with the
                reasons (``nietGetoond.eigenKlanten``); without one (and not ``everyone``) it has no
                beperking counts at all.
            session: the caller's session, which then also commits the exposure ledger (the matches
                service writes its audit entry in the same transaction); default: one of our own.
        """
        _check_top(top)
        with self._session(session, commit=served) as db:
            with self.index.lock:
                found, vacancy_id, shown, floor = self._rank_candidates(
                    db, vacancy_ref, top, weights, filters, served, viewer
                )
            # The ledger is the search's only write: made after the index lock is released, so a search
            # waiting for the database's write lock (another process's, or this one's audit entry) never
            # holds up the searches of the other threads.
            if served:
                floor_state.record_served(db, vacancy_id, floor)  # before the ledger: first showing only
                oversight_state.record_shown(db, vacancy_id, shown)
            return found

    def count_candidates(
        self, vacancy_ids: list[int], filters: CandidateFilters, viewer: Viewer, session: Session | None = None
    ) -> dict[int, int]:
        """How many clients pass every hard filter and ``filters`` per open vacancy (``aantalGeschikt``).

        Step 1 of :meth:`search_candidates` only (no text, no ranking), so a page of vacancies can say
        how many of the viewer's own clients fit each. Vacancies not open (or unknown) are left out.
        """
        with self.index.lock, self._session(session, commit=False) as db:
            self.index.catch_up(db)
            clients, vacancies = self.index.arrays()
            full_view = self._full_view(db, viewer, clients.ids)
            rows = np.flatnonzero(full_view) if filters.own_only else None  # nobody else can pass
            counts = {}
            for vacancy_id in vacancy_ids:
                v_row = vacancies.position.get(vacancy_id)
                if v_row is None or not vacancies.open[v_row]:
                    continue
                if rows is None and self.prefilter:  # over every client: read from the reach, as a list is
                    reach = hard_filters.candidate_reach(clients, vacancies, v_row, filters, full_view)
                    counts[vacancy_id] = len(reach.eligible)
                else:  # a caseload's rows (or the plain pass): every one of them compared
                    found = hard_filters.candidate_eligibility(clients, vacancies, v_row, filters, full_view, rows)
                    counts[vacancy_id] = int(found.mask.sum())
            return counts

    def _rank_candidates(
        self,
        db: Session,
        vacancy_ref: str | int,
        top: int,
        weights: RetrievalSettings | None,
        filters: CandidateFilters,
        served: bool,
        viewer: Viewer,
    ) -> tuple[CandidateList, int, list[int], floor_state.ServedFloor | None]:
        """:meth:`search_candidates` under the index lock: the list, the vacancy's id, the clients its top shows, and
        the amortised floor that ordered it (None: the merit floor or no re-ranking)."""
        self.index.catch_up(db)
        clients, vacancies = self.index.arrays()
        vacancy = find_vacancy(db, vacancy_ref)
        if not vacancy.is_open:
            raise InvalidInputError(
                f"vacature {vacancy.vacature_nummer} is {vacancy.status}; "
                "kandidaten zoeken kan alleen voor open vacatures"
            )
        vacancy_id: int = vacancy.id  # type: ignore[assignment]
        full_view = self._full_view(db, viewer, clients.ids)
        v_row = vacancies.position[vacancy_id]
        listed = hard_filters.candidate_listing(clients, vacancies, v_row, filters, full_view, self.prefilter)
        text = self._text_query("vacancies", vacancy_id, "clients", clients.ids, listed.eligible)
        pool = pipeline.listed_pool(listed, text, self.settings.retrieval.pool_size, weights or self.settings.retrieval)
        mode = oversight_state.ranking_mode(db, self.settings.ranker.mode)["modus"]
        ranker = self.ranker if weights is None and mode == "model" else None
        strength = self.settings.ranker.exposure_strength if served and ranker is not None else 0.0
        listing = _CandidateRanking(self, db, clients, vacancies, vacancy, pool, listed, full_view, viewer)
        results = listing.rank(ranker, weights or self.settings.retrieval, top, strength)
        shown = clients.ids[pool.rows[listing.order[: exposure.LIST_SIZE]]].tolist() if served else []
        found = CandidateList(
            vacancy_id=vacancy.vacature_nummer,
            titel=vacancy.titel,
            advies=ADVICE,
            ranked_by=ranker.describe() if ranker is not None else self._weighted_description(weights),
            rangschikking={
                "modus": "model" if ranker is not None else "transparant",
                "blootstellingSterkte": strength,
            },
            aantal_geschikt=len(listed.eligible),
            niet_getoond=self._candidates_not_shown(db, listed, viewer, clients, vacancy),
            results=results,
            index=self.index.summary(),
        )
        return found, vacancy_id, shown, listing.amortised

    @staticmethod
    def _candidates_not_shown(
        session: Session, listed: Listing, viewer: Viewer, clients: ClientArrays, vacancy: Vacancy
    ) -> NotShown:
        """ "Niet getoond, omdat…" of a candidate list: beperking counts only where the viewer sees beperkingen."""
        counted = viewer.everyone or viewer.caseload is not None
        hard_rows = listed.hard
        own = None
        if viewer.caseload is not None:
            own = annotate.own_left_out(session, clients.ids[hard_rows].tolist(), viewer.caseload, vacancy)
        return annotate.not_shown(
            listed.counts,
            "klanten",
            hard=len(hard_rows) if counted else None,
            per_aspect=listed.hard_counts if counted else None,
            outside_filters=listed.outside_filters,
            per_filter=listed.filter_counts,
            empty=not len(listed.eligible),
            own=own,
            beperking_side="klanten" if viewer.everyone else "klanten uit uw eigen caseload",
        )

    def search_vacancies(
        self,
        client_ref: str | int,
        top: int = 20,
        viewer: Viewer = EVERYONE,
        session: Session | None = None,
    ) -> VacancyList:
        """The best-fitting open vacancies for one client (the options at intake), with Dutch reasons.

        A viewer with a caseload finds only a client of that caseload: another's answers as an unknown
        klantnummer does, so existence does not leak.
        """
        _check_top(top)
        with self.index.lock, self._session(session, commit=False) as db:
            self.index.catch_up(db)
            clients, vacancies = self.index.arrays()
            client = find_client(db, client_ref)
            if not viewer.everyone and client.consulent != viewer.caseload:
                raise NotFoundError(f"klant '{client_ref}' bestaat niet; controleer het klantnummer")
            c_row = clients.position[client.id]  # type: ignore[index]
            listed = hard_filters.vacancy_listing(clients, c_row, vacancies, self.prefilter)
            text = self._text_query("clients", client.id, "vacancies", vacancies.ids, listed.eligible)  # type: ignore[arg-type]
            pool = pipeline.listed_pool(listed, text, self.settings.retrieval.pool_size, self.settings.retrieval)
            score = pipeline.weighted_score(pool, self.settings.retrieval)
            order = pipeline.order(score, top)
            now = utcnow()
            results = self._vacancy_results(db, client, c_row, clients, vacancies, listed, pool, score, order, now)
            assessed = quality.assess(client, now)
            return VacancyList(
                client_id=client.client_nummer,
                advies=ADVICE,
                ranked_by=self._weighted_description(None),
                ontbrekende_gegevens=list(assessed.missing),
                datakwaliteit=assessed.to_json(),
                aantal_geschikt=len(listed.eligible),
                niet_getoond=annotate.not_shown(listed.counts, "vacatures", hard=len(listed.hard)),
                results=results,
                index=self.index.summary(),
            )

    def _vacancy_results(
        self,
        session: Session,
        client: Client,
        c_row: int,
        clients: ClientArrays,
        vacancies: VacancyArrays,
        listed: Listing,
        pool: Pool,
        score: np.ndarray,
        order: np.ndarray,
        now: datetime,
    ) -> list[VacancyResult]:
        """Step 5 for a client's options: the shown vacancies, explained (the client's kansen included)."""
        shown_rows = pool.rows[order]
        at = np.searchsorted(listed.eligible, shown_rows)  # shown rows are eligible: step 1 has their values
        fit = {name: values[at] for name, values in listed.fit.items()}
        dense, lexical = pool.dense_raw[order], pool.lexical_raw[order]
        shown_pairs = pair_matrix(clients, np.full(len(order), c_row), vacancies, shown_rows, dense, lexical, now, fit)
        contributions = annotate.weighted_contributions(pool.signals, self.settings.retrieval, order)
        shown = display_score.breakdowns(shown_pairs)
        wanted = vacancies.ids[shown_rows].tolist()
        rows_by_id = {row.id: row for row in session.exec(select(Vacancy).where(Vacancy.id.in_(wanted)))}  # type: ignore[union-attr]
        results = []
        for rank, position in enumerate(order, start=1):
            row = pool.rows[position]
            vacancy = rows_by_id[int(vacancies.ids[row])]
            facts = PairFacts(
                distance_km=float(listed.distance[at[rank - 1]]),
                max_km=float(clients.max_km[c_row]),
                mode=clients.mode[c_row],
                values=dict(zip(FEATURE_NAMES, shown_pairs[rank - 1].tolist(), strict=True)),
            )
            signals = {name: float(values[position]) for name, values in pool.signals.items()}
            results.append(
                VacancyResult(
                    rank=rank,
                    ranking_score=round(float(score[position]), 4),
                    display=shown[rank - 1],
                    vacancy_id=vacancy.vacature_nummer,
                    titel=vacancy.titel,
                    werkgever=vacancy.werkgever,
                    bron=vacancy.bron,
                    plaatsingsvorm=vacancy.plaatsingsvorm,
                    explained=annotate.explained(
                        client, vacancy, contributions[rank - 1], facts, signals, self.taxonomy
                    ),
                )
            )
        return results

    # ------------------------------------------------------------------ ranking model
    def use_ranker(self, ranker: LearnedRanker | None) -> None:
        """Rank candidate lists with ``ranker`` from the next search on (None: the shipped baseline).

        Raises:
            RankerError: ``ranker`` reads a notes column made with another embedding model; the ranker that
                serves now keeps serving.
        """
        if ranker is not None and ranker.notes is not None:
            ranker.bind(self.engine, self.embedder, self.settings.index_dir, live=True)
        with self.index.lock:
            self.ranker = ranker or self.baseline
            self.ranker_error = None
        self.notes_fill.soon()

    def ranker_failed(self, error: str) -> None:
        """Record why a wanted ranker could not be loaded; the last good one keeps serving."""
        with self.index.lock:
            self.ranker_error = error

    def _weighted_description(self, weights: RetrievalSettings | None) -> dict[str, Any]:
        if weights is not None:
            return {**WEIGHTED, "source": "gewichten van deze aanvraag"}
        return dict(WEIGHTED)

    def ranker_status(self) -> dict[str, Any]:
        current = self.ranker.describe() if self.ranker is not None else dict(WEIGHTED)
        return {**current, **({"error": self.ranker_error} if self.ranker_error else {})}


class _CandidateRanking:
    """Steps 3–5 of one candidate search: score the pool, order it, explain the shown clients."""

    def __init__(
        self,
        matcher: Matcher,
        session: Session,
        clients: ClientArrays,
        vacancies: VacancyArrays,
        vacancy: Vacancy,
        pool: Pool,
        listed: Listing,
        full_view: np.ndarray,
        viewer: Viewer,
    ) -> None:
        self.matcher, self.session, self.clients, self.vacancies = matcher, session, clients, vacancies
        at = np.searchsorted(listed.eligible, pool.rows)  # the pool's rows are eligible: step 1 has their values
        self.vacancy, self.pool, self.distance_km = vacancy, pool, listed.distance[at]
        self.fit = {name: values[at] for name, values in listed.fit.items()}
        self.full_view, self.viewer = full_view, viewer
        self.v_row = vacancies.position[vacancy.id]  # type: ignore[index]
        self.now = utcnow()
        self.order = np.zeros(0, np.int64)
        self.amortised: floor_state.ServedFloor | None = None

    def _pairs(self, positions: np.ndarray | slice) -> np.ndarray:
        pool = self.pool
        rows = pool.rows[positions]
        v_rows = np.full(len(rows), self.v_row)
        fit = {name: values[positions] for name, values in self.fit.items()}
        dense, lexical = pool.dense_raw[positions], pool.lexical_raw[positions]
        return pair_matrix(self.clients, rows, self.vacancies, v_rows, dense, lexical, self.now, fit)

    def rank(
        self, ranker: LearnedRanker | None, weights: RetrievalSettings, top: int, strength: float
    ) -> list[CandidateResult]:
        """Score (the learned ranker, or the weighted score), order (exposure-aware when served), explain."""
        pool, clients = self.pool, self.clients
        pairs = self._pairs(slice(None)) if ranker is not None else None
        ids, changed = clients.ids[pool.rows], clients.updated_at[pool.rows]  # the notes column's clients
        score = ranker.score(pairs, ids, changed) if ranker is not None else pipeline.weighted_score(pool, weights)
        self.matcher.notes_fill.when_lacking()  # clients this search read as 0: the writer computes them
        exposed = None
        if strength > 0:
            before, average = oversight_state.exposure(self.session, ids, self.vacancy.id, self.now)  # type: ignore[arg-type]
            floor = self.matcher.settings.ranker.exposure_floor
            self.amortised = self._amortised(ranker, score, top)  # type: ignore[arg-type]
            exposed = pipeline.Exposure(before, clients.trede[pool.rows], strength, average, floor, self.amortised)
        self.order = order = pipeline.order(score, top, exposed)
        shown_pairs = pairs[order] if pairs is not None else self._pairs(order)
        if ranker is not None:  # the shown rows' SHAP values
            shown = ranker.contributions(shown_pairs, ids[order], changed[order])
            contributions = annotate.grouped_contributions(shown, ranker.feature_names)
        else:
            contributions = annotate.weighted_contributions(pool.signals, weights, order)
        results = self._explained(score, shown_pairs, contributions)
        if self.amortised is not None and self.amortised.plan is not None:
            entered = set(self.amortised.plan.entered.tolist())
            for result, position in zip(results, order.tolist(), strict=True):
                if position in entered:  # swapped in by the floor: the list says why
                    result.explained.reasons.append(floor_state.FAIR_ATTENTION)
        return results

    def _amortised(self, ranker: LearnedRanker, score: np.ndarray, top: int) -> floor_state.ServedFloor | None:
        """The amortised floor for a served list of ``ranker``; None for a model without Platt parameters."""
        rows, clients = self.pool.rows, self.clients
        pool = (clients.ids[rows], clients.trede[rows], clients.route[rows])
        described = ranker.describe()
        return floor_state.served_floor(self.session, described, ranker.spec, score, pool, self.vacancy.id, top)  # type: ignore[arg-type]

    def _explained(
        self, score: np.ndarray, shown_pairs: np.ndarray, grouped: list[dict[str, float]]
    ) -> list[CandidateResult]:
        """The shown clients' results, with ``grouped`` the contributions per shown row; each array is read once for
        all shown rows (``tolist``: the values ``float`` gives)."""
        pool, clients, taxonomy, order = self.pool, self.clients, self.matcher.taxonomy, self.order
        rows = pool.rows[order]
        wanted = clients.ids[rows].tolist()
        shown = display_score.breakdowns(shown_pairs)
        rows_by_id = {row.id: row for row in self.session.exec(select(Client).where(Client.id.in_(wanted)))}  # type: ignore[union-attr]
        listed = [rows_by_id[client_id] for client_id in wanted]
        full_view, distances, max_km = (
            self.full_view[rows].tolist(),
            self.distance_km[order].tolist(),
            clients.max_km[rows].tolist(),
        )
        checked = [quality.assess(client, self.now) for client in listed]
        parts = [annotate.pair_parts(c, self.vacancy, taxonomy, f) for c, f in zip(listed, full_view, strict=True)]
        modes = [clients.mode[row] for row in rows.tolist()]
        values, scores = shown_pairs.tolist(), score[order].tolist()
        signals = {name: column[order].tolist() for name, column in pool.signals.items()}
        results = []
        for at, client in enumerate(listed):
            full, distance = full_view[at], distances[at]
            facts = PairFacts(
                distance_km=distance,
                max_km=max_km[at],
                mode=modes[at],
                values=dict(zip(FEATURE_NAMES, values[at], strict=True)),
                distance_band=None if full else disclosure.distance_band(distance),
            )
            results.append(
                CandidateResult(
                    rank=at + 1,
                    ranking_score=round(scores[at], 4 if full else disclosure.OUTSIDER_SCORE_DECIMALS),
                    display=shown[at] if full else shown[at].hiding(display_score.OUTSIDER_HIDDEN),
                    client_id=client.client_nummer,
                    trede=client.trede,
                    route=client.route,
                    explained=annotate.explained(
                        client,
                        self.vacancy,
                        grouped[at],
                        facts,
                        {name: column[at] for name, column in signals.items()},
                        taxonomy,
                        beperkingen=full,
                        parts=parts[at],
                    ),
                    # stale or contradictory profiles are flagged, not silently ranked low
                    datakwaliteit=checked[at].to_json(),
                    ontbrekende_gegevens=list(checked[at].missing),
                    eigen_klant=full if self.viewer.caseload is not None else None,
                )
            )
        return results
