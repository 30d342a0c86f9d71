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
from dataclasses import dataclass, field

import numpy as np
import Stemmer
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer

from matching.gendered import fold, neutral_form

N_FEATURES = 2**20
K1 = 1.2
B = 0.75

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
    """BM25 scores of every record for a query text."""

    _vectorizer: HashingVectorizer = field(init=False, repr=False)
    _rows: dict[int, sparse.csr_matrix] = field(default_factory=dict, repr=False)
    _ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    _weights: sparse.csc_matrix | None = field(default=None, repr=False)
    _idf: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._vectorizer = HashingVectorizer(
            analyzer=DutchAnalyzer(), n_features=N_FEATURES, alternate_sign=False, norm=None, dtype=np.float32
        )

    def __len__(self) -> int:
        return len(self._rows)

    def upsert(self, ids: list[int] | np.ndarray, texts: list[str]) -> None:
        if not len(texts):
            return
        matrix = self._vectorizer.transform(texts).tocsr()
        for row, key in enumerate(np.asarray(ids).tolist()):
            self._rows[key] = matrix[row]
        self._weights = None

    def remove(self, ids: list[int] | np.ndarray) -> None:
        for key in np.asarray(ids).tolist():
            self._rows.pop(key, None)
        self._weights = None

    def _build(self) -> None:
        self._ids = np.fromiter(self._rows.keys(), dtype=np.int64, count=len(self._rows))
        if not len(self._ids):
            self._weights, self._idf = sparse.csc_matrix((0, N_FEATURES), dtype=np.float32), np.zeros(N_FEATURES)
            return
        tf = sparse.vstack(list(self._rows.values()), format="csr", dtype=np.float32)
        lengths = np.asarray(tf.sum(axis=1)).ravel()
        avg = max(lengths.mean(), 1.0)
        df = np.bincount(tf.indices, minlength=N_FEATURES)
        n = tf.shape[0]
        self._idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        norm = K1 * (1 - B + B * lengths / avg)
        row_of_entry = np.repeat(np.arange(n), np.diff(tf.indptr))
        data = tf.data * (K1 + 1) / (tf.data + norm[row_of_entry])
        self._weights = sparse.csr_matrix((data, tf.indices, tf.indptr), shape=tf.shape).tocsc()

    def scores(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """(ids, BM25 scores) over all records, in a fixed internal order."""
        if self._weights is None:
            self._build()
        assert self._weights is not None and self._idf is not None
        terms = np.unique(self._vectorizer.transform([query]).indices)
        if not len(terms) or not len(self._ids):
            return self._ids, np.zeros(len(self._ids), np.float32)
        return self._ids, np.asarray(self._weights[:, terms] @ self._idf[terms]).ravel()
