"""Lexical retrieval: Okapi BM25 over Dutch-stemmed words, updatable one record at a time.

Why not ``bm25s``: it indexes a fixed corpus, and a changed profile must be searchable within
seconds without re-indexing the whole bestand. Here term frequencies live in a hashed sparse
matrix (scikit-learn's ``HashingVectorizer``, so no vocabulary to refit) with one row per record;
a save replaces one row, and the BM25 weights are recomputed lazily (vectorised, ~20 ms for 9,000
profiles) on the next search. Words are lower-cased, stripped of accents and Dutch stopwords, and
stemmed with the Snowball Dutch stemmer (PyStemmer), so "schoonmaken" and "schoonmaker" meet;
feminine job forms are folded to their counterpart first, by suffix rules (:mod:`matching.gendered`:
"schoonmaakster" → "schoonmaker", "magazijnmedewerkster" → "magazijnmedewerker", "schoonmaakvrouw"
→ "schoonmaker"), because the stemmer keeps them apart and a profile's grammatical gender must not
change its word match. The rendered texts are folded already (:mod:`matching.text`); queries typed
by a person are not, so the analyzer folds every text it reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import Stemmer
from scipy import sparse
from scipy.sparse import _sparsetools
from sklearn.feature_extraction.text import HashingVectorizer

from matching.bm25_maxscore import BLOCK, PrunedBm25, Seen, ascending
from matching.bm25_rows import K1, B, weighed
from matching.gendered import fold, neutral_form
from matching.sparse_splice import TermCounts, same_row

N_FEATURES = 2**20

# Bm25Buffer's pruned reading (MaxScore), see its docstring
ROWS_SHARE = 1 / 8  # asked for more than this share of the records (heleBestand), the full scatter is cheaper


DUTCH_STOPWORDS = frozenset(
    """aan al alles als altijd andere ben bij daar dan dat de der deze die dit doch doen door dus een
    eens en er ge geen geweest haar had heb hebben heeft hem het hier hij hoe hun iemand iets ik in is
    ja je kan kon kunnen maar me meer men met mij mijn moet na naar niet niets nog nu of om omdat onder
    ons ook op over reeds te tegen toch toen tot u uit uw van veel voor want waren was wat werd wezen
    wie wil worden wordt zal ze zelf zich zij zijn zo zonder zou per uur week graag
    """.split()
)
WORD = re.compile(r"[a-z0-9]+")


class DutchAnalyzer:
    """Text → stemmed tokens. A class (not a closure) so the vectorizer pickles."""

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("dutch")

    def __call__(self, text: str) -> list[str]:
        words = [
            neutral_form(word) for word in WORD.findall(fold(text)) if word not in DUTCH_STOPWORDS and len(word) > 1
        ]
        return self._stemmer.stemWords(words)


@dataclass
class LexicalIndex:
    """BM25 scores of every record for a query text.

    The term frequencies are one sparse matrix, a row per id in ascending id order (as the structured
    arrays hold them, so scores need no lookup per record); an upsert or removal waits in ``_pending``
    until the next search merges it. One matrix, not a small matrix object per record: at 400,000
    clients those objects alone held about a gigabyte.

    Once the weights were built, changed records (and records appended with ids above every held id) are
    spliced in (:mod:`matching.sparse_splice`): the term frequencies by record and by term, each record's
    length and each term's document count follow the change, and the weights are computed again from them
    in one vectorised pass (every weight depends on the average length), with no sort or conversion of the
    whole matrix. The same numbers as a build from scratch, bit for bit (``tests/matching/test_lexical_splice.py``).
    A removal or an id inserted among the held ones rebuilds. ``analyzer``: text → tokens (:class:`DutchAnalyzer`).
    """

    analyzer: Callable[[str], list[str]] = field(default_factory=DutchAnalyzer, repr=False)
    _vectorizer: HashingVectorizer = field(init=False, repr=False)
    _tf: sparse.csr_matrix | None = field(default=None, repr=False)  # term frequencies, a row per id of _ids
    _ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    _pending: dict[int, sparse.csr_matrix | None] = field(default_factory=dict, repr=False)  # None: removed
    _weights: sparse.csc_matrix | None = field(default=None, repr=False)
    _idf: np.ndarray | None = field(default=None, repr=False)
    # Kept after a build, spliced after: tf by term (canonical CSC, the weights' rows), lengths, document counts
    _by_term: sparse.csc_matrix | None = field(default=None, repr=False)
    _lengths: np.ndarray | None = field(default=None, repr=False)
    _df: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._vectorizer = HashingVectorizer(
            analyzer=self.analyzer, n_features=N_FEATURES, alternate_sign=False, norm=None, dtype=np.float32
        )

    def __len__(self) -> int:
        self._merge()
        return len(self._ids)

    def upsert(self, ids: list[int] | np.ndarray, texts: list[str]) -> None:
        if not len(texts):
            return
        matrix = self._vectorizer.transform(texts).tocsr()
        keys = np.asarray(ids, np.int64)
        if self._tf is None and not self._pending and len(np.unique(keys)) == len(keys):
            order = np.argsort(keys, kind="stable")  # the first fill: no row objects at all
            self._tf, self._ids = matrix[order], keys[order]
            self._forget_counts()
        else:
            at = np.searchsorted(self._ids, keys) if self._tf is not None else np.full(len(keys), len(self._ids))
            for row, (key, held) in enumerate(zip(keys.tolist(), at.tolist(), strict=True)):
                # a record whose words stay as held (a change of hours or place) changes no weight
                if key in self._pending or held >= len(self._ids) or self._ids[held] != key:
                    self._pending[key] = matrix[row]
                elif not same_row(self._tf, held, matrix[row]):
                    self._pending[key] = matrix[row]
            if not self._pending:
                return
        self._weights = None

    def term_frequencies(self, texts: list[str]) -> sparse.csr_matrix:
        """The term-frequency rows of ``texts``, for :meth:`fill` (an index built a chunk of records at a time)."""
        return self._vectorizer.transform(texts).tocsr()

    def fill(self, ids: np.ndarray, parts: list[sparse.csr_matrix]) -> None:
        """Hold exactly these records: ``parts`` (from :meth:`term_frequencies`) stacked, a row per id of ``ids``.

        The texts themselves are not kept: the term frequencies are all BM25 needs.
        """
        keys = np.asarray(ids, np.int64)
        tf = sparse.vstack(parts, format="csr", dtype=np.float32) if parts else None
        if tf is None or not tf.shape[0]:
            self._tf, self._ids = None, keys[:0]
        elif len(keys) > 1 and (np.diff(keys) <= 0).any():
            order = np.argsort(keys, kind="stable")
            self._tf, self._ids = tf[order], keys[order]
        else:
            self._tf, self._ids = tf, keys
        self._pending, self._weights = {}, None
        self._forget_counts()

    def _forget_counts(self) -> None:
        self._by_term = self._lengths = self._df = None

    def term_rows(self) -> tuple[np.ndarray, sparse.csr_matrix | None]:
        """(ids, term frequencies: a row per id, None when empty), what :meth:`fill` takes back."""
        self._merge()
        return self._ids, self._tf

    def remove(self, ids: list[int] | np.ndarray) -> None:
        for key in np.asarray(ids).tolist():
            self._pending[key] = None
        self._weights = None

    @property
    def nbytes(self) -> int:
        """Bytes of the term frequencies and the BM25 weights (the index's memory)."""
        held = [part.data for part in (self._tf, self._weights, self._by_term) if part is not None]
        held += [part.indices for part in (self._tf, self._weights) if part is not None]
        held += [part.indptr for part in (self._tf, self._weights) if part is not None]
        counts = [part for part in (self._lengths, self._df) if part is not None]
        return sum(part.nbytes for part in held + counts) + self._ids.nbytes

    def _merge(self) -> None:
        """Fold the pending upserts and removals into the matrix, rows in ascending id order."""
        if not self._pending:
            return
        if self._spliced():
            return
        self._forget_counts()
        changed = np.fromiter(self._pending, np.int64, len(self._pending))
        kept = np.flatnonzero(~np.isin(self._ids, changed))
        added = [(key, row) for key, row in self._pending.items() if row is not None]
        parts = [self._tf[kept]] if self._tf is not None else []
        parts += [row for _, row in added]
        ids = np.concatenate([self._ids[kept], np.fromiter((key for key, _ in added), np.int64, len(added))])
        order = np.argsort(ids, kind="stable")
        tf = sparse.vstack(parts, format="csr", dtype=np.float32) if parts else None
        self._tf = tf[order] if tf is not None and tf.shape[0] else None
        self._ids, self._pending = ids[order], {}

    def _spliced(self) -> bool:
        """Fold the pending upserts in by splicing (see the class), where the counts are kept and no record is
        removed or inserted among the held ids; False where the caller must merge and rebuild."""
        if self._by_term is None or self._tf is None or self._lengths is None or self._df is None:
            return False
        counts = TermCounts(self._ids, self._tf, self._by_term, self._lengths, self._df)
        spliced = counts.spliced(self._pending)
        if spliced is None:
            return False
        self._ids, self._tf, self._by_term = spliced.ids, spliced.by_record, spliced.by_term
        self._lengths, self._df = spliced.lengths, spliced.df
        self._pending, self._weights = {}, None
        return True

    def _build(self) -> None:
        self._merge()
        if self._tf is None or not len(self._ids):
            self._weights, self._idf = sparse.csc_matrix((0, N_FEATURES), dtype=np.float32), np.zeros(N_FEATURES)
            self._ids = np.zeros(0, np.int64)
            self._forget_counts()
            return
        tf = self._tf
        if self._by_term is None or self._lengths is None or self._df is None:
            self._by_term = tf.tocsc()
            self._lengths = np.asarray(tf.sum(axis=1)).ravel()
            self._df = np.bincount(tf.indices, minlength=N_FEATURES)
        by_term, df = self._by_term, self._df
        n = tf.shape[0]
        self._idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        data = weighed(by_term.data, self._norm()[by_term.indices])
        self._weights = sparse.csc_matrix((data, by_term.indices, by_term.indptr), shape=tf.shape)
        self._weights.has_canonical_format = bool(by_term.has_canonical_format)

    def _norm(self) -> np.ndarray:
        """Per record, BM25's length normalisation ``K1 · (1 − B + B · length / average length)``."""
        lengths = self._lengths
        assert lengths is not None
        return K1 * (1 - B + B * lengths / max(lengths.mean(), 1.0))

    def record_counts(self) -> tuple[sparse.csr_matrix, np.ndarray] | None:
        """(The term frequencies by record, each record's length normalisation) the weights were built from, for the
        pruned reading to weigh the rows it gathers itself (:class:`PrunedBm25`: no pass over every posting): None where
        those rows are not canonical or the weights were not built from the counts held (then the weights are
        converted by record)."""
        tf, weights, by_term = self._tf, self._weights, self._by_term
        if weights is None or by_term is None or not np.may_share_memory(weights.indices, by_term.indices):
            return None  # weights set from elsewhere
        if tf is None or self._lengths is None or not tf.has_canonical_format or tf.indptr.dtype != tf.indices.dtype:
            return None
        return tf, self._norm()

    def scores(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """(ids, BM25 scores) over all records, ids ascending."""
        return self._scores_of(self._terms(query))

    def _terms(self, query: str) -> np.ndarray:
        return np.unique(self._vectorizer.transform([query]).indices)

    def asked(self, queries: list[str]) -> list[np.ndarray]:
        """Each query's terms (matrix columns, ascending, each once) as :meth:`scores` reads them, many at once."""
        matrix = self._vectorizer.transform(queries).tocsr()
        matrix.sum_duplicates()  # sorted, unique terms per query, as np.unique gives them
        return [matrix.indices[matrix.indptr[at] : matrix.indptr[at + 1]] for at in range(len(queries))]

    def add_term_columns(self, terms: np.ndarray, scores: np.ndarray, column: np.ndarray) -> None:
        """Add each asked term's column (weight × idf) to ``scores`` in place, in column order, with scipy's
        own ``csc_matvec`` on one column at a time; ``column`` is a 2-entry offsets buffer of the index's dtype."""
        assert self._weights is not None and self._idf is not None
        weights, idf = self._weights, self._idf
        indptr, indices, data = weights.indptr, weights.indices, weights.data
        for term in np.asarray(terms).tolist():
            start, end = int(indptr[term]), int(indptr[term + 1])
            if start == end:
                continue
            column[1] = end - start
            _sparsetools.csc_matvec(
                len(scores), 1, column, indices[start:end], data[start:end], idf[term : term + 1], scores
            )

    def scores_by_term(self, terms: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """:meth:`scores_for_terms` bit for bit, without copying the terms' columns out of the weights first.

        The product adds, per record, each asked column's weight × idf in column order; here each column is
        added to the scores in place, in that same order and in the same precision (scipy's own ``csc_matvec``
        on one column at a time), so every score is the same number. For the nightly batch, which scores
        every record for every owner: the column copy was about half the product's time at national size.
        """
        if self._weights is None:
            self._build()
        assert self._weights is not None and self._idf is not None
        weights, idf = self._weights, self._idf
        kind = np.result_type(weights.data, idf)
        if not len(terms) or not len(self._ids) or weights.data.dtype != kind or idf.dtype != kind:
            return self.scores_for_terms(terms, ids)
        if weights.indptr.dtype != weights.indices.dtype:
            return self.scores_for_terms(terms, ids)
        scores = np.zeros(len(self._ids), kind)
        self.add_term_columns(terms, scores, np.zeros(2, weights.indptr.dtype))
        if len(self._ids) == len(ids) and np.array_equal(self._ids, ids):
            return np.asarray(scores, np.float32)
        out = np.zeros(len(ids), np.float32)
        out[np.searchsorted(ids, self._ids)] = scores
        return out

    def terms_of(self, ids: list[int]) -> list[np.ndarray | None]:
        """The terms of each indexed record's own text (as :meth:`asked` reads that text), from its row of term
        frequencies: nothing rendered or analysed again. None for an id not indexed."""
        self._merge()
        if self._tf is None or not len(ids):
            return [None] * len(ids)
        keys = np.asarray(ids, np.int64)
        at = np.minimum(np.searchsorted(self._ids, keys), len(self._ids) - 1)
        indptr, indices = self._tf.indptr, self._tf.indices
        return [
            np.unique(indices[indptr[row] : indptr[row + 1]]) if self._ids[row] == key else None
            for row, key in zip(at.tolist(), keys.tolist(), strict=True)
        ]

    def _scores_of(self, terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._weights is None:
            self._build()
        assert self._weights is not None and self._idf is not None
        if not len(terms) or not len(self._ids):
            return self._ids, np.zeros(len(self._ids), np.float32)
        return self._ids, np.asarray(self._weights[:, terms] @ self._idf[terms]).ravel()

    def scores_for(self, query: str, ids: np.ndarray) -> np.ndarray:
        """BM25 of ``query`` per id of ``ids`` (ascending; every indexed id among them), 0 where no word matches."""
        return self.scores_for_terms(self._terms(query), ids)

    def scores_for_terms(self, terms: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """:meth:`scores_for` of a query given by its terms (:meth:`asked`: a partition's queries read at once)."""
        found, scores = self._scores_of(terms)
        if len(found) == len(ids) and np.array_equal(found, ids):
            return np.asarray(scores, np.float32)  # the usual case: the same records in the same order
        out = np.zeros(len(ids), np.float32)
        out[np.searchsorted(ids, found)] = scores
        return out


class Bm25Buffer:
    """BM25 of many queries over one searched side's records, one query at a time, read only where needed.

    Used by the nightly batch (:mod:`matching.batch_rank`) and the live search
    (:class:`matching.matcher.Matcher`). It does not add every asked column over every record
    (``scores_by_term``, about 2 million postings a list at national size, most of them the few common
    terms'): the eligible rows are scored from the weights by record (each row × the query vector: the same
    additions in the same order in the same precision as :meth:`LexicalIndex.scores_by_term`, so the same
    bits), and the best over every record, which scales the lexical feature and must be exact, is found by
    MaxScore (Turtle & Flood 1995): the best eligible score is a lower bound; the asked terms whose bounds (a
    term's largest weight × idf), smallest first, sum to at most a share of it are not read; the other
    (rarer) terms' columns are added over every record into one buffer per searched side, and only the
    records whose part plus the unread terms' bounds can beat the known best are scored exactly (from their
    rows); where that would read about as much, every column is added over every record. Only the eligible
    rows are converted to float32 (the best over every record is the converted best: rounding is monotone).
    ``tests/matching/test_batch_bm25_pruned.py`` holds the pruned reading to the full scatter bit for bit on
    random indexes; ``bench/batch_bm25_pruned.py`` times both at national size.

    Made per partition (the index may change between partitions, never within one: the batch holds the
    index lock). For ``ids`` (the searched side's arrays' ids) that are the index's own ids, in order, and
    weights in canonical form (each column's rows ascending, each once); otherwise, and for weights that
    :meth:`LexicalIndex.scores_by_term` would not add in place, every query goes the index's own way.
    """

    def __init__(self, lexical: LexicalIndex, ids: np.ndarray) -> None:
        self.lexical, self.ids = lexical, ids
        if lexical._weights is None:
            lexical._build()
        weights, idf = lexical._weights, lexical._idf
        assert weights is not None and idf is not None
        kind = np.result_type(weights.data, idf)
        own = (
            len(lexical._ids) == len(ids)
            and bool(len(ids))
            and weights.data.dtype == kind
            and idf.dtype == kind
            and weights.indptr.dtype == weights.indices.dtype
            and np.array_equal(lexical._ids, ids)
        )
        padded = np.zeros(-(-len(ids) // BLOCK) * BLOCK, kind) if own else None  # whole blocks, zeros beyond
        self._scores, self._blocks = (None, None) if padded is None else (padded[: len(ids)], padded)
        self._column = np.zeros(2, weights.indptr.dtype)
        self._pruned = PrunedBm25.of(lexical) if own else None

    def scores(self, terms: np.ndarray, rows: np.ndarray, shared: Seen | None = None) -> tuple[np.ndarray, float]:
        """(BM25 of the query ``terms`` for the records at ``rows`` as float32, its best over every record):
        ``scores_by_term(terms, ids)[rows]`` and ``float(scores_by_term(terms, ids).max())``, the same bits.
        ``shared``: the nightly batch's place (:data:`Seen`): the query's exact BM25 at the ascending rows in reach
        that hold ``rows`` (:meth:`matching.batch_bm25.SharedBm25.shared_exact`; None: not computed, ``rows`` scored
        here), read instead of computing it again, and MaxScore's start (:meth:`PrunedBm25._known`)."""
        scores, pruned = self._scores, self._pruned
        if scores is None or not len(terms):
            every = self.lexical.scores_by_term(terms, self.ids)
            return every[rows], float(every.max()) if len(every) else 0.0
        if pruned is None or len(rows) > ROWS_SHARE * len(scores):
            return self._every(terms, rows)
        rows = np.asarray(rows)
        if not ascending(rows):
            found, back = np.unique(rows, return_inverse=True)
            near, best = self.scores(terms, found, shared)
            return near[back], best
        assert self._blocks is not None
        reach, column, _ = shared if shared is not None else (None, None, None)
        known = None if column is None else column[np.searchsorted(reach, rows)]
        found = pruned.read(self.lexical, terms, rows, self._blocks, near=known, seen=shared)
        if found is None:
            return self._every(terms, rows)
        return found[0].astype(np.float32), float(np.float32(found[1]))

    def at(self, terms: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``scores(terms, rows)[0]``, the same bits, without the best over every record: for a caller that reads
        the rows' scores alone (the gate's negation-free and identifier-token BM25,
        :mod:`matching.identifier_query`)."""
        terms, rows, pruned = np.asarray(terms), np.asarray(rows), self._pruned
        if (
            pruned is None
            or not (len(terms) and ascending(terms) and ascending(rows))
            or len(rows) > ROWS_SHARE * len(self.ids)
        ):
            return self.scores(terms, rows)[0]  # the full scatter's cases, and rows out of order (the live search's)
        return pruned.at(terms, rows).astype(np.float32)

    def _every(self, terms: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, float]:
        """Every record's BM25 (each asked column added in place), then read at ``rows`` and its best."""
        scores = self._scores
        assert scores is not None
        scores.fill(0)
        self.lexical.add_term_columns(terms, scores, self._column)
        return scores[rows].astype(np.float32), float(np.float32(scores.max()))
