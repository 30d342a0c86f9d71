"""Random streams and weighted choice: the determinism of the synthetic population."""

from __future__ import annotations

import random
from typing import Any

import numpy as np

CLIENT_STREAM, VACANCY_STREAM, CONSULENT_STREAM, EMPLOYER_STREAM = 1, 2, 3, 4


def _weighted(mapping: dict[Any, float]) -> tuple[list[Any], list[float]]:
    keys = list(mapping)
    total = 0.0
    cumulative = []
    for key in keys:
        total += mapping[key]
        cumulative.append(total)
    return keys, cumulative


class Picker:
    """Weighted choice from a fixed distribution with precomputed cumulative weights."""

    def __init__(self, mapping: dict[Any, float]) -> None:
        self.keys, self.cumulative = _weighted(mapping)

    def __call__(self, rnd: random.Random) -> Any:
        return rnd.choices(self.keys, cum_weights=self.cumulative)[0]


# Pickers for the fixed distributions of the generator, built on first use (keyed by a name per distribution).
_PICKERS: dict[str, Picker] = {}


def picker(name: str, mapping: dict[Any, float]) -> Picker:
    """The cached :class:`Picker` of a fixed distribution; ``name`` must be unique per ``mapping``."""
    if name not in _PICKERS:
        _PICKERS[name] = Picker(mapping)
    return _PICKERS[name]


def stream(seed: int, kind: int, chunk: int) -> random.Random:
    """The random stream of one chunk: a pure function of (seed, kind, chunk)."""
    state = np.random.SeedSequence([seed, kind, chunk]).generate_state(2, np.uint64)
    return random.Random(int(state[0]) << 64 | int(state[1]))


def band(trede: int) -> str:
    """The trede band that several distributions are keyed by: low (0–1), mid (2–3), high (4–5)."""
    return "low" if trede <= 1 else "mid" if trede <= 3 else "high"
