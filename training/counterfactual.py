"""Counterfactual fairness: does swapping gendered Dutch job words in profiles change who is in the top 10?

Dutch marks gender in many job titles (schoonmaakster / schoonmaker, verpleegster / verpleegkundige,
medewerkster / medewerker). A profile that says "schoonmaakster" and one that says "schoonmaker" ask
for the same work; an embedding that places them apart ranks women and men differently for the same
experience (arXiv 2509.13803 measured exactly this for multilingual job-title matching, with RBO).

The test:

1. every client profile text gets its gendered word forms swapped (:func:`swap_gendered`: whole
   words and compounds such as "magazijnmedewerker", case kept, plurals too);
2. the profiles that changed are re-embedded with the real embedding model (their unchanged pieces
   come from the embedding cache, the swapped ones from the model; nothing is written) and their
   BM25 is recomputed on the swapped corpus; the other features of the pair do not read the text;
3. for every vacancy in the given pools the ranker's top 10 with the original and with the swapped
   texts are compared with rank-biased overlap (:func:`rbo`, p = 0.9): 1 is the same list in the
   same order; lower means the swap moved people in or out of the list.

What it found: the embedding is nearly indifferent to the swap (dense signal alone: RBO 0.995 on
the test world), but BM25 was not — the Dutch stemmer keeps "medewerker" and "medewerk(ster)",
"schoonmaker" and "schoonmaak(ster)" apart, so a profile in the feminine form lost the word match
with a vacancy written in the masculine one (both signals: RBO 0.887 with the shipped baseline on
the test world). Since then BM25 folds feminine job forms before stemming (:mod:`matching.gendered`,
the same word list as the swap here), and the word match no longer moves a list.

The pools are held fixed (the same candidates, re-ranked): the question is whether the ranking of
a candidate list depends on the grammatical gender of a job word, not whether retrieval finds them.
The text features enter as deltas (swapped minus original, both recomputed here), so the measured
change is the swap's alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from matching.embedding import embed_cached
from matching.gendered import PAIRS
from matching.lexical import LexicalIndex
from matching.matcher import Matcher
from training.dataset import RankingData

P = 0.9
TOP_K = 10
TEXT_FEATURES = ("dense_similarity", "lexical_similarity")  # the only features that read profile text

SWAP: dict[str, str] = {**{f: m for f, m, _ in PAIRS}, **{m: f for f, m, _ in PAIRS}}
_COMPOUND = sorted({form for f, m, ok in PAIRS if ok for form in (f, m)}, key=len, reverse=True)
_WHOLE = sorted({form for f, m, ok in PAIRS if not ok for form in (f, m)}, key=len, reverse=True)
# A lazy letter prefix, then a form that ends the word; whole-word forms take no prefix.
_PATTERN = re.compile(
    rf"\b(?:(?P<prefix>[^\W\d_]*?)(?P<tail>{'|'.join(_COMPOUND)})|(?P<word>{'|'.join(_WHOLE)}))\b",
    re.IGNORECASE,
)


def _keep_case(found: str, replacement: str) -> str:
    if found.isupper() and len(found) > 1:
        return replacement.upper()
    if found[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def _replace(match: re.Match[str]) -> str:
    if match.group("word") is not None:
        found = match.group("word")
        return _keep_case(found, SWAP[found.lower()])
    prefix, tail = match.group("prefix"), match.group("tail")
    if prefix and prefix.isupper() and tail.isupper():
        return prefix + SWAP[tail.lower()].upper()
    return prefix + (_keep_case(tail, SWAP[tail.lower()]) if not prefix else SWAP[tail.lower()])


def swap_gendered(text: str) -> str:
    """``text`` with every gendered Dutch job word swapped to its counterpart (both directions at once)."""
    return _PATTERN.sub(_replace, text)


def swap_record(record: str | Mapping[str, list[str]]) -> str | dict[str, list[str]]:
    """The same for what the embedder reads: a text, or fields of pieces (``embedding.compose``)."""
    if isinstance(record, str):
        return swap_gendered(record)
    return {name: [swap_gendered(piece) for piece in pieces] for name, pieces in record.items()}


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


def _best_scaled(index: LexicalIndex, query: str, client_ids: np.ndarray) -> np.ndarray:
    """BM25 of ``client_ids`` for ``query`` divided by the best of all records (as the matcher scales it)."""
    ids, scores = index.scores(query)
    best = float(scores.max()) if len(scores) else 0.0
    position = {int(key): row for row, key in enumerate(ids)}
    picked = np.array([scores[position[int(c)]] if int(c) in position else 0.0 for c in client_ids], np.float32)
    return picked / best if best > 0 else np.zeros(len(client_ids), np.float32)


def counterfactual_rankings(
    matcher: Matcher,
    data: RankingData,
    score: Callable[[np.ndarray], np.ndarray],
    k: int = TOP_K,
    p: float = P,
    signals: tuple[str, ...] = TEXT_FEATURES,
) -> dict[str, Any]:
    """Top-``k`` lists per vacancy of ``data`` with original vs gender-swapped profile texts.

    Args:
        matcher: a synced matcher: its client texts, lexical texts, embedder and vacancy texts are read.
        data: whole candidate pools (:func:`training.pool_eval.pool_holdout` or ``pool_features`` rows).
        score: the ranker (features -> scores), e.g. ``LearnedRanker.score``.
        signals: which text features take the swap (default both); one of them alone says which
            signal moves the lists (diagnosis).

    Returns:
        ``rbo`` (mean over vacancies whose pool holds a swapped profile), ``min``, ``vacancies`` (that
        many), ``vacanciesAll``, ``changedTop10`` (lists that are not identical), ``swappedProfiles``
        (pool clients whose text changed), ``p`` and ``k``; ``rbo`` is None when nothing was swapped.
    """
    clients = matcher.sides["clients"]
    in_pools = [int(c) for c in np.unique(data.client_ids)]
    originals = {cid: clients.texts[cid] for cid in in_pools if cid in clients.texts}
    swapped = {cid: swap_record(record) for cid, record in originals.items()}
    changed = sorted(cid for cid in originals if swapped[cid] != originals[cid])
    features = np.array(data.features, np.float32, copy=True)
    if changed:
        _apply_swap(matcher, data, features, [(cid, originals[cid], swapped[cid]) for cid in changed], signals)
    original_scores = np.asarray(score(data.features), np.float64)
    swapped_scores = np.asarray(score(features), np.float64)
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


def _apply_swap(
    matcher: Matcher,
    data: RankingData,
    features: np.ndarray,
    changed: list[tuple[int, Record, Record]],
    signals: tuple[str, ...],
) -> None:
    """Move the text features of the pool rows of ``changed`` (client id, original, swapped record) in place.

    The dense similarity moves by (swapped − original profile vector) · vacancy query; the lexical one
    is recomputed against a BM25 index of the swapped texts (every client's, as BM25 is corpus-wide).
    """
    clients = matcher.sides["clients"]
    dense_column = data.feature_names.index("dense_similarity")
    lexical_column = data.feature_names.index("lexical_similarity")
    # The original pieces were embedded when the bestand was indexed: read them from the cache.
    # Only the swapped pieces that are new reach the model (on the demo bestand: 5,000 profiles
    # change, but their swapped pieces are mostly shared occupation sentences).
    known = list(dict.fromkeys(piece for _, original, _ in changed for piece in _pieces(original)))
    fresh = sorted({piece for _, _, swapped in changed for piece in _pieces(swapped)} - set(known), key=len)
    vectors = dict(zip(known, embed_cached(matcher.engine, matcher.embedder, known, "document"), strict=True))
    vectors.update(zip(fresh, matcher.embedder.embed(fresh, "document"), strict=True))
    before = np.stack([_compose(original, vectors) for _, original, _ in changed])
    after = np.stack([_compose(swapped, vectors) for _, _, swapped in changed])
    row_of_changed = {cid: row for row, (cid, _, _) in enumerate(changed)}
    lexical_before, lexical_after = LexicalIndex(), LexicalIndex()
    ids = list(clients.lexical_texts)
    lexical_before.upsert(ids, [clients.lexical_texts[i] for i in ids])
    lexical_after.upsert(ids, [swap_gendered(clients.lexical_texts[i]) for i in ids])
    for vacancy_id in np.unique(data.vacancy_ids).tolist():
        rows = np.flatnonzero(data.vacancy_ids == vacancy_id)
        query = matcher.index.vectors_for([matcher.sides["vacancies"].texts[vacancy_id]], "query")[0]
        hit = np.array([int(c) in row_of_changed for c in data.client_ids[rows]])
        if hit.any() and "dense_similarity" in signals:
            which = [row_of_changed[int(c)] for c in data.client_ids[rows][hit]]
            features[rows[hit], dense_column] += (after[which] - before[which]) @ query
        if "lexical_similarity" not in signals:
            continue
        text = matcher.sides["vacancies"].lexical_texts[vacancy_id]
        features[rows, lexical_column] += _best_scaled(lexical_after, text, data.client_ids[rows]) - _best_scaled(
            lexical_before, text, data.client_ids[rows]
        )
