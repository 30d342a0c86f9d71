"""Split a pairs file into ``<name>_tuning.tsv`` and ``<name>_heldout.tsv`` beside it.

The half of each pair is :func:`training.embedding_eval.split_half` of its query (the first byte of its
SHA-256, even: tuning), so the split does not depend on row order and a pair added later never moves
another. Rows keep their order within each half. The source file is left in place: remove it after
splitting, or the leak check of ``werkmatch embeddings eval --pairs data/eval`` refuses the copies.

    .venv/bin/python bench/split_pairs.py data/eval/nl_pairs.tsv
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from training.embedding_eval import HALVES, numbered_pairs, split_half, write_pairs

logger = logging.getLogger("split_pairs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rows = numbered_pairs(args.pairs)  # refuses duplicates and empty rows before anything is written
    stem = args.pairs.name.removesuffix(".tsv")
    for half in HALVES:
        chosen = [(query, document) for _, query, document in rows if split_half(query) == half]
        write_pairs(args.pairs.with_name(f"{stem}_{half}.tsv"), chosen)
        logger.info("%s: %d pairs", half, len(chosen))


if __name__ == "__main__":
    main()
