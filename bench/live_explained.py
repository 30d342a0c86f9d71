"""The live searches at national size with the shown results built as at a base commit (before) and as now
(after), alternating in one process.

Run: ``WERKMATCH_DATA_DIR=<copy of the demo world, its bench-400000 a copy of the national one>
PYTHONPATH=. nice -n 10 .venv/bin/python bench/live_explained.py [--queries 40] > result.json``
(``WERKMATCH_BEFORE``: the base commit, default ``0a58d9e``; ``WERKMATCH_BEFORE_REPO``: the checkout to read it
from, default the working directory).

Before: the base commit's ``matching/matcher.py``, ``matching/quality.py`` and ``matching/annotate.py``, read
from git into modules of their own (each old module calls the other old ones), so the candidate ranking
(``_CandidateRanking``, and the quality and annotate modules the client's vacancies use) is the old one
throughout: the shown rows' SHAP values on the search's own thread
before their records are read, every value read per row. After: the working tree's. Per query each variant
runs once, the first of the two alternating; every list (candidates within reach, heleBestand, a client's
vacancies) is asserted the same JSON both ways (:mod:`bench.live_alternating`).
"""

from __future__ import annotations

import os
from types import ModuleType

from bench.live_alternating import at_commit, compare
from matching import annotate, matcher, quality

BEFORE = os.environ.get("WERKMATCH_BEFORE", "0a58d9e")


def before(module: ModuleType) -> ModuleType:
    return at_commit(module, BEFORE)


OLD_QUALITY, OLD_ANNOTATE, OLD_MATCHER = before(quality), before(annotate), before(matcher)
OLD_MATCHER.quality, OLD_MATCHER.annotate = OLD_QUALITY, OLD_ANNOTATE  # the old ranking calls the old parts
NEW_RANKING = matcher._CandidateRanking


def _variant(new: bool) -> None:
    """The candidate ranking and, for the client's vacancies, the quality and annotate modules the matcher calls."""
    matcher._CandidateRanking = NEW_RANKING if new else OLD_MATCHER._CandidateRanking  # type: ignore[misc]
    matcher.quality, matcher.annotate = (quality, annotate) if new else (OLD_QUALITY, OLD_ANNOTATE)  # type: ignore[misc]


def main() -> None:
    compare(_variant, default_queries=40)


if __name__ == "__main__":
    main()
