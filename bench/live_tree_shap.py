"""The live searches at national size with the shown rows' SHAP values from LightGBM (before) and from the
per-leaf tables (after, :mod:`matching.tree_shap`), alternating in one process.

Run: ``WERKMATCH_DATA_DIR=<copy of the demo world, its bench-400000 a copy of the national one>
PYTHONPATH=. nice -n 10 .venv/bin/python bench/live_tree_shap.py [--queries 40] > result.json``
(``WERKMATCH_BEFORE``: the base commit, default ``b910274``; ``WERKMATCH_BEFORE_REPO``: the checkout to read it
from, default the working directory).

Before: the base commit's candidate ranking (``matching/matcher.py``'s ``_CandidateRanking``) and
``LearnedRanker.contributions`` (``matching/ranker.py``), read from git: LightGBM's ``pred_contrib`` on the matcher's
own thread, two LightGBM threads for 16 rows or more, while the shown rows are read. After: the working tree's, the
tables on the search's thread. Every list (candidates within reach, heleBestand, a client's vacancies) is asserted
the same JSON both ways (:mod:`bench.live_alternating`).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from bench.live_alternating import at_commit, compare
from matching import matcher, ranker

BEFORE = os.environ.get("WERKMATCH_BEFORE", "b910274")
OLD_MATCHER, OLD_RANKER = at_commit(matcher, BEFORE), at_commit(ranker, BEFORE)
NEW_RANKING, NEW_CONTRIBUTIONS = matcher._CandidateRanking, ranker.LearnedRanker.contributions
# the base's ranking submits the SHAP values to the matcher's thread, which the working tree no longer has
matcher.Matcher.contributing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bijdragen")  # type: ignore[attr-defined]


def _variant(new: bool) -> None:
    matcher._CandidateRanking = NEW_RANKING if new else OLD_MATCHER._CandidateRanking  # type: ignore[misc]
    ranker.LearnedRanker.contributions = NEW_CONTRIBUTIONS if new else OLD_RANKER.LearnedRanker.contributions  # type: ignore[method-assign]


def main() -> None:
    compare(_variant, default_queries=40)


if __name__ == "__main__":
    main()
