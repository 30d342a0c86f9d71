"""Counterfactual fairness: does swapping gendered Dutch job words in profiles change who is in the top 10?

Dutch marks gender in many job titles (schoonmaakster / schoonmaker, verpleegster / verpleegkundige,
medewerkster / medewerker). A profile that says "schoonmaakster" and one that says "schoonmaker" ask
for the same work; an embedding that places them apart ranks women and men differently for the same
experience (arXiv 2509.13803 measured exactly this for multilingual job-title matching, with RBO).

The test:

1. every client profile text gets its gendered word forms swapped (:class:`Swapper`: whole words and
   compounds such as "magazijnmedewerker", case kept, plurals too). The pairs are generated, not
   listed: :func:`feminine_of` forms the feminine of every job word of the occupation vocabulary by
   the inverse suffix rules (:func:`rule_pairs`), and a held-out file of pairs written before the
   rules (``data/eval/gendered_heldout.tsv``, :func:`read_heldout`) checks forms the rules never saw;
2. the swapped profile is read as werkmatch reads a profile: through the same fold that
   :mod:`matching.text` applies (:func:`matching.gendered.neutral_text`), then re-embedded with the
   real embedding model (unchanged pieces come from the embedding cache; nothing is written), and
   its BM25 is recomputed with its own swapped text in the unchanged bestand (the individual
   counterfactual: this client with the other word form, everyone else as they are; the corpus
   statistics, idf and average length, are the bestand's); the other features of the pair do not read
   the text. Only the pools' clients are read: at 400,000 clients, swapping every client's text to
   build a swapped corpus took longer than the rest of the audit (until session 26 the counterfactual
   swapped the whole bestand at once; the two agree wherever BM25 folds the swap, as it folds the rule
   pairs: every lexical delta is then 0 either way);
3. for every vacancy in the given pools the ranker's top 10 with the original and with the swapped
   texts are compared with rank-biased overlap (:func:`rbo`, p = 0.9): 1 is the same list in the
   same order; lower means the swap moved people in or out of the list.

What it found: the embedding alone is nearly indifferent to the swap (RBO 0.995 on the test world
without the fold), but BM25 was not — the Dutch stemmer keeps "medewerker" and "medewerk(ster)"
apart (RBO 0.887 with the shipped baseline before BM25 folded feminine forms). A word list fixed the
words it held and no others (a client writing an unlisted feminine form ranked 83rd instead of 15th),
so the fold is now by suffix rules (:mod:`matching.gendered`) on both the lexical and the dense path;
``bench/gendered_counterfactual.py`` measures it with the real search on rule and held-out pairs.

The pools are held fixed (the same candidates, re-ranked): the question is whether the ranking of
a candidate list depends on the grammatical gender of a job word, not whether retrieval finds them.
The text features enter as deltas (swapped minus original, both recomputed here), so the measured
change is the swap's alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sqlmodel import Session, select

from matching.domain import Client, Vacancy
from matching.embedding import embed_cached
from matching.gendered import IRREGULAR, fold, is_job_word, keep_case, neutral_form, neutral_text, plural
from matching.lexical import K1, N_FEATURES, WORD, B, DutchAnalyzer, LexicalIndex
from matching.matcher import Matcher
from matching.taxonomy import load_taxonomy
from training.dataset import RankingData

P = 0.9
TOP_K = 10
TEXT_FEATURES = ("dense_similarity", "lexical_similarity")  # the only features that read profile text

# Vocabulary words that end like an agent noun but name no person.
NOT_PERSONS = ("restaurant", "ambulant", "assistant", "roomattendant", "container")  # also ending a compound
_LONG_VOWEL = re.compile(r"^(.*[^aeiou])([aeou])([^aeiouy])$")  # mak -> maak, kop -> koop (not the i of beveilig)


def feminine_of(masculine: str) -> str | None:
    """The feminine of a masculine job word, by the inverse rules (a generator, not a list): "schoonmaker" →
    "schoonmaakster", "inpakker" → "inpakster", "chauffeur" → "chauffeuse", "barman" → "barvrouw",
    "assistent" → "assistente", "kok" → "kokkin"; None where no rule applies."""
    reverse: dict[str, str] = {}
    for feminine, counterpart in IRREGULAR.items():
        reverse.setdefault(counterpart, feminine)  # ober -> serveerster (not dienster)
    if masculine in reverse:
        return reverse[masculine]
    if masculine.endswith("kok"):
        return masculine + "kin"
    for ending, feminine in (("man", "vrouw"), ("eur", "euse"), ("ist", "iste"), ("ent", "ente"), ("ant", "ante")):
        if masculine.endswith(ending):
            return masculine[: -len(ending)] + feminine
    if masculine.endswith(("aar", "ier")):
        return masculine + "ster"
    if masculine.endswith("der") and masculine[-4:-3] == "r":  # sorteerder, bestuurder
        return masculine[:-3] + "ster"
    if masculine.endswith("er") and len(masculine) > 4:
        stem = masculine[:-2]
        if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "aeiou":  # inpakker, vakkenvuller
            return stem[:-1] + "ster"
        if long := _LONG_VOWEL.match(stem):  # schoonmaker, verkoper, werknemer
            return long.group(1) + long.group(2) * 2 + long.group(3) + "ster"
        return stem + "ster"
    return None


def _feminine_plural(feminine: str) -> str:
    if feminine.endswith("vrouw"):
        return feminine + "en"
    if feminine.endswith("in"):
        return feminine + "nen"
    if feminine.endswith("es"):
        return feminine + "sen"
    return feminine + "s"


@lru_cache(maxsize=1)
def rule_pairs() -> tuple[tuple[str, str, bool], ...]:
    """(feminine, masculine, compounds allowed) generated from the occupation vocabulary's job words.

    The sources are the first and last words of every occupation label and synonym that are job words
    (:func:`matching.gendered.is_job_word`), plus the irregulars; singular and plural. Forms of six
    letters or more may end a compound ("magazijnmedewerker"); shorter ones ("kok", "ober") only match
    whole words."""
    sources: set[str] = set()
    for occupation in load_taxonomy().occupations.values():
        for name in (occupation.label, *occupation.synoniemen):
            words = re.findall(r"[a-z]+", fold(name))
            sources.update(w for w in {words[0], words[-1]} if is_job_word(w) and not w.endswith(NOT_PERSONS))
    sources = {word for word in sources if neutral_form(word) == word}  # not the vocabulary's feminine forms
    sources |= set(IRREGULAR.values())
    pairs: dict[str, tuple[str, str, bool]] = {}
    taken: set[str] = set()
    for masculine in sorted(sources):
        feminine = feminine_of(masculine)
        if feminine is None or feminine in taken or masculine in taken:
            continue
        for f, m in ((feminine, masculine), (_feminine_plural(feminine), plural(masculine))):
            if f not in taken and m not in taken:
                pairs[f] = (f, m, len(m) >= 6 and len(f) >= 6)
                taken |= {f, m}
    return tuple(pairs.values())


def read_heldout(path: Path) -> tuple[tuple[str, str, bool], ...]:
    """The held-out pairs of a file like ``data/eval/gendered_heldout.tsv`` (whole words only)."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    rows = [line.split("\t") for line in lines[1:]]
    return tuple((fold(f), fold(m), False) for f, m in rows)


_RUN = re.compile(r"\w+")  # a word as ``\b`` delimits it


class Swapper:
    """Swaps gendered Dutch job words of a pair table in a text, both directions at once, keeping case.

    The pattern (a lazy letter prefix, then a form that ends the word) says what is swapped. A match spans
    one whole word (a run of ``\\w`` between two ``\\b``: the prefix is letters only), so a text is swapped a
    word at a time, each distinct word once: an ASCII word looks its endings up instead of trying every
    form at every prefix (≈ 100 times faster), another word takes the pattern itself.
    """

    MEMO = 200_000  # distinct words whose swap is remembered

    def __init__(self, pairs: tuple[tuple[str, str, bool], ...]) -> None:
        self.swap = {**{f: m for f, m, _ in pairs}, **{m: f for f, m, _ in pairs}}
        compound = sorted({form for f, m, ok in pairs if ok for form in (f, m)}, key=len, reverse=True)
        whole = sorted({form for f, m, ok in pairs if not ok for form in (f, m)}, key=len, reverse=True)
        # A lazy letter prefix, then a form that ends the word; whole-word forms take no prefix.
        tails, words = "|".join(compound) or "(?!)", "|".join(whole) or "(?!)"  # (?!) matches nothing
        self.pattern = re.compile(rf"\b(?:(?P<prefix>[^\W\d_]*?)(?P<tail>{tails})|(?P<word>{words}))\b", re.IGNORECASE)
        self.tails, self.words = frozenset(compound), frozenset(whole)
        self.lengths = sorted({len(form) for form in compound}, reverse=True)  # longest tail = shortest prefix
        forms = [*compound, *whole]
        self.fast = all(form.isascii() and form.isalpha() and form.islower() for form in forms)
        self.memo: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        if self.fast:
            return _RUN.sub(self._replace_run, text)
        return self.pattern.sub(self._replace, text)

    def _replace_run(self, match: re.Match[str]) -> str:
        word = match.group(0)
        if (found := self.memo.get(word)) is None:
            found = self._swap_word(word) if word.isascii() else self.pattern.sub(self._replace, word)
            if len(self.memo) < self.MEMO:
                self.memo[word] = found
        return found

    def _swap_word(self, word: str) -> str:
        """What :attr:`pattern` makes of one whole ASCII word: a match spans a whole word of letters, with the
        longest form that ends it (the lazy prefix), else a whole-word form."""
        if not word.isalpha():
            return word
        lower = word.lower()
        for length in self.lengths:
            if length <= len(word) and lower[-length:] in self.tails:
                return self._swapped(word[:-length], word[-length:])
        return keep_case(word, self.swap[lower]) if lower in self.words else word

    def _replace(self, match: re.Match[str]) -> str:
        if match.group("word") is not None:
            found = match.group("word")
            return keep_case(found, self.swap[fold(found)])
        return self._swapped(match.group("prefix"), match.group("tail"))

    def _swapped(self, prefix: str, tail: str) -> str:
        if prefix and prefix.isupper() and tail.isupper():
            return prefix + self.swap[fold(tail)].upper()
        return prefix + (keep_case(tail, self.swap[fold(tail)]) if not prefix else self.swap[fold(tail)])


@lru_cache(maxsize=1)
def _rule_swapper() -> Swapper:
    return Swapper(rule_pairs())


def swap_gendered(text: str) -> str:
    """``text`` with every gendered Dutch job word of :func:`rule_pairs` swapped to its counterpart (both ways)."""
    return _rule_swapper()(text)


def swap_record(
    record: str | Mapping[str, list[str]], swap: Callable[[str], str] = swap_gendered
) -> str | dict[str, list[str]]:
    """The same for what the embedder reads: a text, or fields of pieces (``embedding.compose``)."""
    if isinstance(record, str):
        return swap(record)
    return {name: [swap(piece) for piece in pieces] for name, pieces in record.items()}


def rbo(first: Iterable[Any], second: Iterable[Any], p: float = P) -> float:
    """Extrapolated rank-biased overlap (Webber, Moffat & Zobel 2010, eq. 32) of two rankings.

    For lists of equal depth k: ``X_k/k * p^k + (1-p)/p * sum_{d<=k} X_d/d * p^d``, with ``X_d`` the
    size of the overlap of the two top-d prefixes. 1 for the same order, 0 for nothing in common;
    top positions weigh most (with p = 0.9 the first 10 ranks carry about 86 % of the weight).
    Lists of unequal length are compared to the shorter one's depth.
    """
    a, b = list(first), list(second)
    depth = min(len(a), len(b))
    if depth == 0:
        return 1.0 if len(a) == len(b) else 0.0
    seen_a: set[Any] = set()
    seen_b: set[Any] = set()
    overlap = 0
    total = 0.0
    for d in range(1, depth + 1):
        x, y = a[d - 1], b[d - 1]
        if x == y:
            overlap += 1
        else:
            overlap += (x in seen_b) + (y in seen_a)
        seen_a.add(x)
        seen_b.add(y)
        total += overlap / d * p**d
    return float(overlap / depth * p**depth + (1 - p) / p * total)


Record = str | Mapping[str, list[str]]  # a client's embedding input: one text, or pieces per field


def _compose(record: Record, vectors: Mapping[str, np.ndarray]) -> np.ndarray:
    """A record's unit vector as :func:`matching.embedding.embed_fields` composes it (or one text's)."""
    if isinstance(record, str):
        return vectors[record]
    means = [np.mean([vectors[piece] for piece in pieces], axis=0) for pieces in record.values() if pieces]
    if not means:
        return np.zeros_like(next(iter(vectors.values())))
    out = np.mean(means, axis=0)
    norm = np.linalg.norm(out)
    return out / norm if norm > 0 else out


def _pieces(record: Record) -> list[str]:
    return [record] if isinstance(record, str) else [piece for pieces in record.values() for piece in pieces]


SWAP_CHUNK = 5_000  # pool clients whose texts are read (and their lexical text swapped) at a time


@dataclass
class SwappedRows:
    """The pool clients whose BM25 term frequencies the swap changes: ids (ascending) and their swapped rows."""

    ids: np.ndarray
    rows: sparse.csr_matrix

    @classmethod
    def of(cls, index: LexicalIndex, texts: Mapping[int, str], swap: Callable[[str], str]) -> SwappedRows:
        """The rows of those of ``texts`` (client id → lexical text) whose swapped text BM25 reads differently."""
        same = _SameTerms()
        pairs = [(cid, text, swapped) for cid, text in sorted(texts.items()) if not same(text, swapped := swap(text))]
        if not pairs:
            return cls.none()
        before = index.term_frequencies([text for _, text, _ in pairs])
        after = index.term_frequencies([swapped for _, _, swapped in pairs])
        difference = (before - after).tocsr()
        difference.eliminate_zeros()
        moved = np.flatnonzero(np.diff(difference.indptr))  # a swapped word BM25 does not fold
        return cls(np.array([pairs[at][0] for at in moved], np.int64), after[moved])

    @classmethod
    def none(cls) -> SwappedRows:
        return cls(np.zeros(0, np.int64), sparse.csr_matrix((0, N_FEATURES), dtype=np.float32))

    @classmethod
    def joined(cls, parts: list[SwappedRows]) -> SwappedRows:
        parts = [part for part in parts if len(part.ids)]
        if not parts:
            return cls.none()
        ids = np.concatenate([part.ids for part in parts])
        order = np.argsort(ids, kind="stable")
        return cls(ids[order], sparse.vstack([part.rows for part in parts], format="csr")[order])


_SEPARATOR = re.compile(r"\W")


@lru_cache(maxsize=4096)
def _separates(char: str) -> bool:
    """Whether a non-word character keeps BM25's words apart: folded, it is still there and no letter or digit."""
    folded = fold(char)
    return bool(folded) and not WORD.search(folded)


class _SameTerms:
    """Whether a text and its swapped text surely give the same BM25 term frequencies (False: maybe not).

    The swap replaces whole words (runs of ``\\w``), so where every character between the words keeps BM25's
    words apart (:func:`_separates`), BM25 reads a text as the words it reads in each run: the same
    analysed words for every swapped run, the same term frequencies. Each distinct run is analysed once."""

    def __init__(self) -> None:
        self.analyse = DutchAnalyzer()
        self.terms: dict[str, list[str]] = {}

    def __call__(self, text: str, swapped: str) -> bool:
        if swapped == text:
            return True
        if not all(_separates(char) for char in {*_SEPARATOR.findall(text), *_SEPARATOR.findall(swapped)}):
            return False
        before, after = _RUN.findall(text), _RUN.findall(swapped)
        return len(before) == len(after) and all(
            self._of(a) == self._of(b) for a, b in zip(before, after, strict=True) if a != b
        )

    def _of(self, word: str) -> list[str]:
        if word not in self.terms:
            if len(self.terms) >= Swapper.MEMO:
                self.terms.clear()
            self.terms[word] = self.analyse(word)
        return self.terms[word]


class _OwnSwap:
    """BM25 of a client with its own swapped text, everyone else in the bestand unchanged (the individual
    counterfactual): the swapped row is weighted with the matcher's corpus statistics (idf, average
    length), and scaled, as the matcher scales BM25, by the best record of that bestand (the others' best,
    or the client's own swapped score where it is higher). Only the pools' clients are read."""

    def __init__(self, index: LexicalIndex, swapped: SwappedRows) -> None:
        self.index, self.ids = index, swapped.ids
        index.scores("")  # builds the weights and idf of the current corpus (pending changes merged)
        tf = index._tf  # the index's own arrays, read as its _build reads them
        lengths = np.asarray(tf.sum(axis=1)).ravel() if tf is not None else np.zeros(0, np.float32)
        avg = max(lengths.mean(), 1.0) if len(lengths) else 1.0
        self.idf = index._idf
        rows = swapped.rows
        norm = K1 * (1 - B + B * np.asarray(rows.sum(axis=1)).ravel() / avg)
        row_of_entry = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
        data = rows.data * (K1 + 1) / (rows.data + norm[row_of_entry])
        self.weights = sparse.csr_matrix((data, rows.indices, rows.indptr), shape=rows.shape).tocsc()

    def deltas(self, query: str, client_ids: np.ndarray) -> np.ndarray:
        """Per client of ``client_ids`` (pool rows), its swapped minus its original scaled BM25 for ``query``;
        0 for clients the swap leaves as BM25 reads them."""
        out = np.zeros(len(client_ids), np.float32)
        at = np.searchsorted(self.ids, client_ids)
        moving = (at < len(self.ids)) & (self.ids[np.minimum(at, len(self.ids) - 1)] == client_ids)
        if not moving.any():
            return out
        ids, scores = self.index.scores(query)  # ids ascending
        terms = self.index.asked([query])[0]
        own = np.asarray(self.weights[:, terms] @ self.idf[terms]).ravel()[at[moving]].astype(np.float32)
        where = np.minimum(np.searchsorted(ids, client_ids[moving]), max(len(ids) - 1, 0))
        found = ids[where] == client_ids[moving] if len(ids) else np.zeros(int(moving.sum()), bool)
        original = np.where(found, scores[where] if len(ids) else 0.0, 0.0).astype(np.float32)
        best = float(scores.max()) if len(scores) else 0.0
        runner_up = float(np.partition(scores, -2)[-2]) if len(scores) > 1 else 0.0
        alone_best = found & (original == best) & (runner_up < best)  # the client is the bestand's best
        others = np.where(alone_best, runner_up, best)
        swapped_best = np.maximum(others, own)
        before = original / best if best > 0 else np.zeros_like(original)
        after = np.divide(own, swapped_best, out=np.zeros_like(own), where=swapped_best > 0)
        out[moving] = after - before
        return out


def counterfactual_rankings(
    matcher: Matcher,
    data: RankingData,
    score: Callable[[RankingData], np.ndarray],
    k: int = TOP_K,
    p: float = P,
    signals: tuple[str, ...] = TEXT_FEATURES,
    pairs: tuple[tuple[str, str, bool], ...] | None = None,
    fold: bool = True,
) -> dict[str, Any]:
    """Top-``k`` lists per vacancy of ``data`` with original vs gender-swapped profile texts.

    Args:
        matcher: a synced matcher: its client texts (of the pools' clients only), BM25 index, embedder and
            vacancy texts are read.
        data: whole candidate pools (:func:`training.pool_eval.pool_holdout` or ``pool_features`` rows).
        score: the ranker (pairs -> scores, :func:`training.rankers.scorer_of`); the swapped pairs carry the
            swapped zelfbeschrijving and notities of the clients whose texts changed (``texts``), which a ranker
            reading the notes column reads instead of the stored ones.
        signals: which text features take the swap (default both); one of them alone says which
            signal moves the lists (diagnosis).
        pairs: the word pairs to swap (default :func:`rule_pairs`; :func:`read_heldout` for held-out ones).
        fold: read the swapped profile as werkmatch does, through :func:`matching.gendered.neutral_text`
            (as :mod:`matching.text` renders it); False measures the model without the fold (diagnosis).

    Returns:
        ``rbo`` (mean over vacancies whose pool holds a swapped profile), ``min``, ``vacancies`` (that
        many), ``vacanciesAll``, ``changedTop10`` (lists that are not identical), ``swappedProfiles``
        (pool clients whose text changed), ``p`` and ``k``; ``rbo`` is None when nothing was swapped.
    """
    clients = matcher.sides["clients"]
    in_pools = [int(c) for c in np.unique(data.client_ids)]
    swapper = _rule_swapper() if pairs is None else Swapper(pairs)
    originals: dict[int, Record] = {}
    lexical_parts: list[SwappedRows] = []
    for start in range(0, len(in_pools), SWAP_CHUNK):  # both texts of a client rendered once
        rendered = clients.source.many(in_pools[start : start + SWAP_CHUNK])
        originals.update((cid, texts[0]) for cid, texts in rendered.items())
        if "lexical_similarity" in signals:
            lexical = {cid: texts[1] for cid, texts in rendered.items()}
            lexical_parts.append(SwappedRows.of(clients.lexical, lexical, swapper))
    swapped = {cid: swap_record(record, swapper) for cid, record in originals.items()}
    changed = sorted(cid for cid in originals if swapped[cid] != originals[cid])
    read = {cid: swap_record(swapped[cid], neutral_text) if fold else swapped[cid] for cid in changed}
    features = np.array(data.features, np.float32, copy=True)
    moved = [(cid, originals[cid], read[cid]) for cid in changed]
    _apply_swap(matcher, data, features, moved, signals, SwappedRows.joined(lexical_parts))
    original_scores = np.asarray(score(data), np.float64)
    swapped_pairs = RankingData(
        features, data.labels, data.vacancy_ids, data.client_ids, data.moments, data.feature_names,
        texts=_swapped_texts(matcher, changed, swapper),
    )  # fmt: skip
    swapped_scores = np.asarray(score(swapped_pairs), np.float64)
    changed_set = set(changed)
    overlaps: list[float] = []
    differing = 0
    vacancies_all = np.unique(data.vacancy_ids)
    for vacancy_id in vacancies_all.tolist():
        rows = np.flatnonzero(data.vacancy_ids == vacancy_id)
        if not any(int(c) in changed_set for c in data.client_ids[rows]):
            continue
        top_before = data.client_ids[rows[np.argsort(-original_scores[rows], kind="stable")[:k]]].tolist()
        top_after = data.client_ids[rows[np.argsort(-swapped_scores[rows], kind="stable")[:k]]].tolist()
        overlaps.append(rbo(top_before, top_after, p))
        differing += top_before != top_after
    return {
        "rbo": round(float(np.mean(overlaps)), 4) if overlaps else None,
        "min": round(float(np.min(overlaps)), 4) if overlaps else None,
        "vacancies": len(overlaps),
        "vacanciesAll": int(len(vacancies_all)),
        "changedTop10": int(differing),
        "swappedProfiles": len(changed),
        "p": p,
        "k": k,
        "signals": list(signals),
    }


def _swapped_texts(matcher: Matcher, ids: list[int], swap: Callable[[str], str]) -> dict[int, tuple[str, str]]:
    """(zelfbeschrijving, notities) swapped, of the clients among ``ids`` where the swap changes them."""
    out: dict[int, tuple[str, str]] = {}
    with Session(matcher.engine) as session:
        for start in range(0, len(ids), SWAP_CHUNK):
            asked = select(Client.id, Client.zelfbeschrijving, Client.notities).where(
                Client.id.in_(ids[start : start + SWAP_CHUNK])  # type: ignore[union-attr]
            )
            for cid, own, notes in session.exec(asked):
                written = (own or "", notes or "")
                turned = (swap(written[0]), swap(written[1]))
                if turned != written:
                    out[int(cid)] = turned
    return out


def _apply_swap(
    matcher: Matcher,
    data: RankingData,
    features: np.ndarray,
    changed: list[tuple[int, Record, Record]],
    signals: tuple[str, ...],
    lexical: SwappedRows,
) -> None:
    """Move the text features of the pool rows in place: the dense similarity of the clients of ``changed``
    (client id, original, swapped record), the lexical one of the clients of ``lexical``.

    The dense similarity moves by (swapped − original profile vector) · vacancy query; the lexical one by
    the client's swapped BM25 in the unchanged bestand minus its original (:class:`_OwnSwap`).
    """
    dense_column = data.feature_names.index("dense_similarity")
    lexical_column = data.feature_names.index("lexical_similarity")
    row_of_changed = {cid: row for row, (cid, _, _) in enumerate(changed)}
    if changed and "dense_similarity" in signals:
        # The original pieces were embedded when the bestand was indexed: read them from the cache.
        # Only the swapped pieces that are new reach the model (on the demo bestand: 5,000 profiles
        # change, but their swapped pieces are mostly shared occupation sentences).
        known = list(dict.fromkeys(piece for _, original, _ in changed for piece in _pieces(original)))
        fresh = sorted({piece for _, _, swapped in changed for piece in _pieces(swapped)} - set(known), key=len)
        vectors = dict(zip(known, embed_cached(matcher.engine, matcher.embedder, known, "document"), strict=True))
        vectors.update(zip(fresh, matcher.embedder.embed(fresh, "document"), strict=True))
        before = np.stack([_compose(original, vectors) for _, original, _ in changed])
        after = np.stack([_compose(swapped, vectors) for _, _, swapped in changed])
        for vacancy_id in np.unique(data.vacancy_ids).tolist():
            rows = np.flatnonzero(data.vacancy_ids == vacancy_id)
            hit = np.array([int(c) in row_of_changed for c in data.client_ids[rows]])
            if hit.any():
                query = matcher.index.vectors_for([matcher.sides["vacancies"].texts[vacancy_id]], "query")[0]
                which = [row_of_changed[int(c)] for c in data.client_ids[rows][hit]]
                features[rows[hit], dense_column] += (after[which] - before[which]) @ query
    if not len(lexical.ids) or "lexical_similarity" not in signals:  # no term frequency moved: every delta 0
        return
    own = _OwnSwap(matcher.sides["clients"].lexical, lexical)
    for vacancy_id in np.unique(data.vacancy_ids).tolist():
        rows = np.flatnonzero(data.vacancy_ids == vacancy_id)
        if np.isin(data.client_ids[rows], lexical.ids).any():
            text = matcher.sides["vacancies"].lexical_texts[vacancy_id]
            features[rows, lexical_column] += own.deltas(text, data.client_ids[rows])


SEARCH_TOP = 100


def _rewrite(matcher: Matcher, table: type[Client] | type[Vacancy], row_id: int, values: Mapping[str, Any]) -> dict:
    """Set ``values`` on one row and re-index it; returns the values it had."""
    with Session(matcher.engine) as session:
        row = session.get(table, row_id)
        before = {name: getattr(row, name) for name in values}
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)
        session.commit()
    matcher.refresh("clients" if table is Client else "vacancies", [row_id])
    return before


def _listed(matcher: Matcher, vacancy_id: int, top: int) -> list[str]:
    return [item.client_id for item in matcher.search_candidates(vacancy_id, top=top).results]


def search_counterfactual(
    matcher: Matcher, vacancy_id: int, feminine: str, masculine: str, top: int = SEARCH_TOP, position: int = 20
) -> dict[str, Any]:
    """One word pair through the real search: ranks of one client described with either word, and RBO.

    The vacancy is rewritten in the masculine/neutral form ("Schoonmaker", "Wij zoeken een
    schoonmaker…", no coded occupation); the client at ``position`` of its list then describes
    themself in one sentence with the masculine word, then with the feminine one ("Ik heb jaren als
    schoonmaakster gewerkt en wil dat weer doen."), re-indexed each time with the real embedding
    model; both whole lists (``top``) are compared. Both rows are restored afterwards. The lists are
    not served: nothing enters the exposure ledger.
    """
    vacancy = {
        "titel": masculine.capitalize(),
        "omschrijving": f"Wij zoeken een {masculine} voor ons team. Ervaring als {masculine} is een pré.",
        "beroep_code": None,
        "beroep_label": masculine,
    }
    saved_vacancy = _rewrite(matcher, Vacancy, vacancy_id, vacancy)
    listed = _listed(matcher, vacancy_id, top)
    number = listed[min(position, len(listed)) - 1]
    with Session(matcher.engine) as session:
        client_id = session.exec(select(Client.id).where(Client.client_nummer == number)).one()
    lists: dict[str, list[str]] = {}
    saved_clients = []
    for form in (masculine, feminine):
        sentence = {"zelfbeschrijving": f"Ik heb jaren als {form} gewerkt en wil dat weer doen."}
        saved_clients.append(_rewrite(matcher, Client, client_id, sentence))
        lists[form] = _listed(matcher, vacancy_id, top)
    _rewrite(matcher, Client, client_id, saved_clients[0])
    _rewrite(matcher, Vacancy, vacancy_id, saved_vacancy)
    ranks = {form: ids.index(number) + 1 if number in ids else None for form, ids in lists.items()}
    both = ranks[masculine] is not None and ranks[feminine] is not None
    return {
        "feminine": feminine,
        "masculine": masculine,
        "rankMasculine": ranks[masculine],
        "rankFeminine": ranks[feminine],
        "bothListed": both,
        "rankDifference": abs(ranks[masculine] - ranks[feminine]) if both else None,
        "rbo": round(rbo(lists[masculine], lists[feminine]), 4),
    }
