"""Exposure-aware re-ranking of a candidate list: fewer repeats of the same few clients (afromen).

A list ordered by relevance alone shows the same most promising clients in vacancy after vacancy:
the ranker rates generalists with a strong profile highly for many vacancies, consulenten propose
from the top, and the rest of the bestand is never looked at (``DOMAIN.md``, "afromen"). This
module re-orders one candidate pool so that, among candidates of *comparable* relevance, those who
have been shown rarely move up, and clients in the lower tredes (0–2) who fit get a small push.

The score of candidate ``i`` in a pool, for strength ``s``::

    z_i        = (score_i - mean(score)) / std(score)            relevance, standardised per pool
    penalty_i  = min(log1p(exposure_i / max(mean_exposure, 1)), PENALTY_CAP)
    boost_i    = LOW_TREDE_BOOST  if trede_i <= LOW_TREDE_MAX and score_i >= the pool's fit quantile, else 0
    adjusted_i = z_i - s * (penalty_i - boost_i)

* ``exposure_i`` is how often the client was in the top :data:`LIST_SIZE` of an earlier list,
  ``mean_exposure`` the average over the clients who could have been (see :class:`ExposureLedger`).
  Dividing by the average (once it passes one list per client) keeps the meaning of ``s`` the same
  after a month of lists and after three years; ``log1p`` makes the first repeats count most.
* Only the top :data:`TOP_K` by relevance are re-ordered; everyone below keeps their place, so a
  candidate outside the relevance top 50 never enters the list. Within the top K the adjustment
  lies in ``[-s·PENALTY_CAP, +s·LOW_TREDE_BOOST]``: a candidate never passes one whose ``z`` is
  more than ``s·(PENALTY_CAP + LOW_TREDE_BOOST)`` higher (3.5 standard deviations at ``s = 1``).
  Relevance stays the main signal; exposure only decides between near-equals.
* ``s = 0`` is the relevance order exactly (a stable sort: ties keep their pool order).

**The strength setting.** :data:`DEFAULT_STRENGTH` is the point the measurement chose
(``training/exposure_eval.py``, ``bench/exposure.py`` → ``bench/results/exposure-3y.json``, with the
shipped baseline ranker): the largest strength of the sweep whose NDCG@10 loss against
relevance-only ranking stays within 5 % both on 300 held-out vacancies and over the whole three-year
history. At 0.25 that is Gini 0.860 → 0.839 for −0.8 % on the held-out vacancies (0.799 → 0.738 for
−2.7 % over the history), and suitable trede-0–2 clients fill 9.5 % instead of 8.1 % of top-10
places; 0.5 costs 6.1 % over the history. Halving the Gini is not reachable within that loss:
3,000 list places over ~8,000 eligible clients cannot give a Gini below 0.63, and in this world true
suitability itself is concentrated (ranking by the hidden truth gives a Gini of 0.93), so every
further spread shows less suitable people. Higher ``s`` spreads exposure further at a steeper price;
0 switches the re-ranking off. Serving reads ``WERKMATCH_RANKER__EXPOSURE_STRENGTH``.

**Exposure in proportion to merit: the merit floor** (:func:`merit_floor`, issue 19). The penalty
above spreads attention over people but not over the ladder: with it alone, suitable trede-1 clients
still get about half the top-10 share their suitability earns (``werkmatch evaluate --json`` →
``fairness.served``). After :func:`rerank`, the first :data:`LIST_SIZE` places give every trede at
least ``floor`` × its *merit share*: its share of the pool's relevance top 10 %, as the ranker
itself judges it. The floor decides only *who* is in the top 10; they are shown in the re-ranked
order, so a lifted candidate takes one of the last places (exposure counts top-10 membership; NDCG@10
weighs the head): that cut the floor's NDCG@10 cost to a third at the same exposure. Trede is not a
protected attribute and is what the ranker over-weights; the protected attributes, beperkingen and
the route are never read here. Why this method and this floor: the README, "Exposure across the
bestand", and ``bench/results/exposure-served-3y.json``.
Serving reads ``WERKMATCH_RANKER__EXPOSURE_FLOOR`` (0: off); a strength of 0 switches both off.

**A model with Platt parameters** (``werkmatch train`` since session 31) is served with the amortised floor by
expected merit instead of the merit floor (:mod:`matching.exposure_amortised`, its lasting state
:mod:`matching.floor_state`; :func:`matching.pipeline.order` calls it after :func:`rerank`); the shipped baseline,
without them, keeps the merit floor. The strength and the kill switch (``transparant``) switch it off alike. Its
state is one per model for the whole region, fed once per (model, vacancy) whoever shows the list, and decays with
a 62-day half life (the mean age of this ledger's 180-day window); a process reads it from its own copy, checked per
search by one marker row (session 32).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import numpy as np

DEFAULT_STRENGTH = 0.25
"""Chosen on the measurement (module docstring): the largest swept strength within 5 % NDCG@10 loss."""
LIST_SIZE = 10  # a "shown" client is one in the top 10 of a list: what a consulent reads
TOP_K = 50  # only the relevance top 50 of a pool (≈ 575) is re-ordered
PENALTY_CAP = 3.0  # log1p(exposure / average) capped: ≈ 19× the average exposure and more count alike
LOW_TREDE_MAX = 2  # tredes 0–2 (official 1–3): far from work, the people afromen leaves behind
LOW_TREDE_BOOST = 0.5  # in penalty units: offsets having been shown at ~0.65× the average (log1p(0.65) ≈ 0.5)
FIT_SHARE = 0.10  # "fits": relevance in the pool's top 10 % (≈ 57 of 575; the top K is 50)
DEFAULT_FLOOR = 1.0  # merit_floor: every trede gets its full estimated merit share of the top 10 (settings)
# merit_floor: "fits" is the relevance top 10 % of the pool (≈ 57 of 575; in pools under 100 the top 10
# itself, where the floor changes nothing). Chosen with the floor and the strength on the tuning
# vacancies (bench/results/exposure-served-3y.json: 3 strengths x 5 shares x 6 floors) as the setting
# meeting both goals there with the widest margin: every group of >= 30 clients at >= 0.92 of merit for
# 3.6 % NDCG@10; the cheapest that met both (0.05/0.9, 1.7 %) had its lowest group at 0.87.
MERIT_SHARE = 0.1


def exposure_penalty(exposure: np.ndarray, mean_exposure: float) -> np.ndarray:
    """``log1p(exposure / max(mean_exposure, 1))``, capped at :data:`PENALTY_CAP`; 0 for the never shown."""
    relative = np.asarray(exposure, np.float64) / max(float(mean_exposure), 1.0)
    return np.minimum(np.log1p(relative), PENALTY_CAP)


def fits(scores: np.ndarray, fit_share: float = FIT_SHARE) -> np.ndarray:
    """Per candidate: is their relevance within the pool's top ``fit_share`` (the pool's own quantile)."""
    scores = np.asarray(scores, np.float64)
    if not len(scores):
        return np.zeros(0, bool)
    return scores >= np.quantile(scores, 1.0 - fit_share)


def rerank(
    scores: np.ndarray,
    exposure: np.ndarray,
    trede: np.ndarray,
    strength: float = DEFAULT_STRENGTH,
    mean_exposure: float = 0.0,
    top_k: int = TOP_K,
    penalty: np.ndarray | None = None,
) -> np.ndarray:
    """The order (positions into the pool, best first) of one candidate pool, exposure-aware.

    Args:
        scores: Relevance per candidate (the ranker's score; any scale, it is standardised here).
        exposure: Per candidate, how often they were in the top :data:`LIST_SIZE` of earlier lists.
        trede: Per candidate, their trede 0–5.
        strength: ``s`` of the module docstring; 0 gives the relevance order exactly.
        mean_exposure: The average exposure over the clients who could have been shown.
        top_k: Only the relevance top ``top_k`` are re-ordered.
        penalty: Per candidate, a penalty to use instead of :func:`exposure_penalty` of ``exposure``
            (research: :mod:`matching.exposure_own_merit`, attention against a client's own merit; it may be
            negative, a push up, so the bound of the module docstring widens by ``s`` × its lowest value).

    Returns:
        A permutation of ``range(len(scores))``: ``scores[order]`` is the list as shown.

    Raises:
        ValueError: Arrays of different lengths, or a negative strength.
    """
    scores = np.asarray(scores, np.float64)
    exposure = np.asarray(exposure, np.float64)
    trede = np.asarray(trede)
    if not (len(scores) == len(exposure) == len(trede)):
        raise ValueError(
            f"scores, exposure en trede verschillen in lengte: {len(scores)}, {len(exposure)}, {len(trede)}"
        )
    if strength < 0:
        raise ValueError(f"de sterkte moet 0 of groter zijn, niet {strength}")
    if penalty is not None and len(penalty) != len(scores):
        raise ValueError(f"één straf per kandidaat nodig ({len(scores)}), niet {len(penalty)}")
    order = np.argsort(-scores, kind="stable")
    if strength == 0 or len(scores) < 2:
        return order
    top = order[:top_k]
    spread = float(scores.std())
    z = (scores[top] - scores.mean()) / (spread if spread > 0 else 1.0)
    boost = LOW_TREDE_BOOST * ((trede[top] <= LOW_TREDE_MAX) & fits(scores)[top])
    penalised = exposure_penalty(exposure[top], mean_exposure) if penalty is None else np.asarray(penalty)[top]
    adjusted = z - strength * (penalised - boost)
    return np.concatenate([top[np.argsort(-adjusted, kind="stable")], order[top_k:]])


def merit_floor(
    order: np.ndarray,
    scores: np.ndarray,
    groups: np.ndarray,
    floor: float = DEFAULT_FLOOR,
    merit_share: float = MERIT_SHARE,
    length: int = LIST_SIZE,
) -> np.ndarray:
    """``order`` with every group given at least ``floor`` × its merit share of the first ``length`` places.

    FA*IR-style minimum counts (Zehlike et al., CIKM 2017), with the proportions estimated per pool
    from the ranker itself instead of fixed: a group's *merit share* is its share of the pool's
    relevance top ``merit_share`` (the ranker's own broad judgement of who fits), not of its top 10,
    where a small edge in score becomes nearly all the places. By list position ``k`` group ``g`` must
    hold ``floor · k · share_g`` places, rounded by systematic sampling with one ``u`` uniform in
    [0, 1) per pool (group ``g`` needs ``⌊floor·k·S_g + u⌋ − ⌊floor·k·S_{g−1} + u⌋``, ``S`` the
    cumulative shares): the needs never sum to more than ``k``, and a group with an expected 0.4
    places gets one in 40 % of the lists instead of never — exposure in expectation, as Diaz et al.
    (CIKM 2020). The draw is seeded by the scores, so the same pool gives the same list.

    A short group's best remaining candidate in ``order`` is taken (the group furthest below its
    need, as a share of it, first) — but only a candidate within the relevance top
    ``merit_share``: nobody the ranker rates below that passes anyone. That decides *who* fills the
    first ``length`` places; they are then shown in ``order``'s order, so a lifted candidate takes
    the place of the last ones ``order`` would have shown, never one at its head (top-``length``
    membership is what exposure counts; the head is where NDCG@10 weighs most). Positions past
    ``length`` keep ``order``.

    Args:
        order: A permutation of the pool (e.g. :func:`rerank`'s), best first.
        scores: Relevance per candidate (pool order).
        groups: Per candidate, its group (here: the trede; never a protected attribute).
        floor: ``0`` returns ``order`` unchanged; ``1`` asks for the full merit share.
        merit_share: Which top share of the pool by relevance counts as "fits".
        length: How many places are constrained (the shown top).

    Returns:
        A permutation of ``range(len(scores))``.
    """
    order = np.asarray(order)
    scores = np.asarray(scores, np.float64)
    n = len(order)
    if floor <= 0 or n <= length:
        return order
    fits = np.zeros(n, bool)
    fits[np.argsort(-scores, kind="stable")[: max(length, int(np.ceil(merit_share * n)))]] = True
    labels, index = np.unique(np.asarray(groups), return_inverse=True)
    share = np.bincount(index[fits], minlength=len(labels)) / fits.sum()
    upto = np.cumsum(share)  # systematic rounding: one draw, the needs sum to the places, never more
    offset = np.random.default_rng(zlib.crc32(scores.tobytes())).random()
    queues = [order[(index[order] == g) & fits[order]] for g in range(len(labels))]
    heads, held = np.zeros(len(labels), np.int64), np.zeros(len(labels), np.int64)
    taken = np.zeros(n, bool)
    first: list[int] = []
    for position in range(1, length + 1):
        need = np.diff(np.floor(floor * position * upto + offset), prepend=np.floor(offset))
        short = [g for g in range(len(labels)) if held[g] < need[g] and heads[g] < len(queues[g])]
        if short:
            # the group furthest below its need (as a share of it) first; between equals, the best score
            group = max(short, key=lambda g: ((need[g] - held[g]) / need[g], scores[queues[g][heads[g]]]))
            pick = int(queues[group][heads[group]])
        else:
            pick = int(order[~taken[order]][0])
        taken[pick] = True
        first.append(pick)
        group = index[pick]
        held[group] += 1
        while heads[group] < len(queues[group]) and taken[queues[group][heads[group]]]:
            heads[group] += 1
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    shown = np.array(sorted(first, key=rank.__getitem__), np.int64)  # the set is chosen; its order is ``order``'s
    return np.concatenate([shown, order[~taken[order]]])


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative counts: 0 when all are equal, ``(n-1)/n`` when one holds all."""
    values = np.sort(np.asarray(values, np.float64))
    n, total = len(values), float(values.sum())
    if n == 0 or total == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float(((2 * ranks - n - 1) * values).sum() / (n * total))


class ExposureLedger:
    """Top-:data:`LIST_SIZE` appearances per client so far, and over whom the average is taken.

    Evaluation replays lists in time order through one ledger; serving would fill it from the
    inference log (the lists that were shown). A client counts in the average from the first pool
    they were a candidate in (:meth:`candidates`), shown or not.
    """

    def __init__(self) -> None:
        self.shown_: dict[int, int] = {}
        self.total_ = 0

    def candidates(self, client_ids: Iterable[int]) -> np.ndarray:
        """Register a pool's candidates (new ones at 0) and return their exposure, in order."""
        return np.array([self.shown_.setdefault(int(c), 0) for c in client_ids], np.float64)

    def record(self, client_ids: Iterable[int]) -> None:
        """The clients shown in one list (its top :data:`LIST_SIZE`)."""
        for client in client_ids:
            self.shown_[int(client)] = self.shown_.get(int(client), 0) + 1
            self.total_ += 1

    def mean(self) -> float:
        """Average exposure over the clients registered so far (0 before any)."""
        return self.total_ / len(self.shown_) if self.shown_ else 0.0

    def counts(self) -> np.ndarray:
        """Exposure of every registered client (zeros included), for :func:`gini`."""
        return np.fromiter(self.shown_.values(), np.float64, len(self.shown_))
