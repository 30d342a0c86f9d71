"""Attention against each client's own accumulated merit (amortised individual fairness; issue 19, research).

:func:`matching.exposure.rerank` penalises a client by ``log1p`` of their top-10 appearances relative to the
*average* client's. A client who truly fits many vacancies (merit concentrated in few people, as for
``geslacht=x`` on the validation pools: 24 merit clients, three of them carrying 61 % of its merit rows) is then
pushed down pool after pool for attention they deserve; session 33 measured exposureVsMerit falling from 1.97 for
clients suitable in one pool to 0.48 for those suitable in 32 or more (``bench/results/geslacht-x-s33.json``).
Amortised individual fairness (Biega et al., SIGIR 2018) compares each person's accumulated attention with their
**own** accumulated merit instead, so deserved repetition is not penalised and attention above merit (afromen)
still is. Per client, over the lists so far::

    earned_i  += places · p_i / Σ_pool p          every pool the client was a candidate in (p: calibrated probability)
    penalty_i  = log((shown_i + prior) / (earned_i + prior)),  clipped to [-cap, cap]  (one-sided: [0, cap])

* ``p`` is the model's calibrated probability of a good outcome (:func:`matching.exposure_amortised.probabilities`,
  the merit the amortised floor already reads; no hidden truth). The places of a list are shared out by ``p``, so
  the places earned over all clients equal the places shown, and a client shown exactly as often as they earned
  gets 0.
* ``prior`` (places) makes a new client neutral (0 shown, 0 earned: ``log 1``) and keeps one early appearance
  from weighing as much as ten.
* Two-sided, a client shown less than they earned gets a negative penalty: a push up, within the re-ordered top K
  as :func:`~matching.exposure.rerank` bounds every move. One-sided only stops attention above merit.

The penalty takes the place of :func:`matching.exposure.exposure_penalty` in :func:`~matching.exposure.rerank`
(its ``penalty``); the low-trede boost and the top-K bound stay. Measured on the validation pools by
``bench/individual_attention_validation.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from matching.exposure import LIST_SIZE, PENALTY_CAP, ExposureLedger

PRIOR = 1.0  # places: a client's first appearance against no earned merit reads log 2, not log(1 / 0)


def own_merit_penalty(
    shown: np.ndarray, earned: np.ndarray, prior: float = PRIOR, cap: float = PENALTY_CAP, one_sided: bool = False
) -> np.ndarray:
    """``log((shown + prior) / (earned + prior))`` per client, clipped to ``[-cap, cap]`` (``[0, cap]`` one-sided).

    Raises:
        ValueError: A prior that is not positive (a client never shown who earned nothing would read ``log 0/0``).
    """
    if prior <= 0:
        raise ValueError(f"de prior moet groter dan 0 zijn, niet {prior}")
    ratio = np.log((np.asarray(shown, np.float64) + prior) / (np.asarray(earned, np.float64) + prior))
    return np.clip(ratio, 0.0 if one_sided else -cap, cap)


class OwnMeritLedger:
    """Per client: top-:data:`~matching.exposure.LIST_SIZE` appearances (an :class:`~matching.exposure.ExposureLedger`)
    and the places their calibrated probability earned, over the lists so far."""

    def __init__(self) -> None:
        self.shown_ = ExposureLedger()
        self.earned_: dict[int, float] = {}

    def candidates(self, client_ids: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
        """Register a pool's candidates and return their appearances and earned places so far, in order."""
        ids = [int(c) for c in client_ids]
        return self.shown_.candidates(ids), np.array([self.earned_.get(c, 0.0) for c in ids], np.float64)

    def record(self, client_ids: np.ndarray, probs: np.ndarray, shown: np.ndarray) -> None:
        """One list: every candidate of the pool (``client_ids``, their ``probs``) earns its share of the list's
        places; the candidates at positions ``shown`` (its first places) were shown."""
        probs = np.asarray(probs, np.float64)
        places = min(LIST_SIZE, len(probs))
        share = places * probs / max(float(probs.sum()), 1e-12)
        for client, earned in zip(np.asarray(client_ids).tolist(), share.tolist(), strict=True):
            self.earned_[int(client)] = self.earned_.get(int(client), 0.0) + earned
        self.shown_.record(np.asarray(client_ids)[np.asarray(shown)])

    def mean(self) -> float:
        """Average appearances over the registered clients (:meth:`matching.exposure.ExposureLedger.mean`)."""
        return self.shown_.mean()
