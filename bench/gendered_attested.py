"""Build data/gendered_attested.tsv: feminine/masculine person nouns that the OpenTaal dictionary lists both of.

Run: .venv/bin/python bench/gendered_attested.py [--dic /usr/share/hunspell/nl.dic] [--aff /usr/share/hunspell/nl.aff]
(Debian: ``apt-get install hunspell-nl``, OpenTaal 2.20.x; revised BSD or CC BY 3.0.)

The occupation vocabulary (``data/beroepen.csv``) lacks words such as "boer" and "typist", so
:mod:`matching.gendered` cannot fold "boerin" or "typiste": its rules take a masculine candidate only
when it is a known job word. This script grows that set of known words from a source written
independently of the project — the Dutch spelling dictionary — and never from the counterfactual's
held-out pairs (``data/eval/gendered_heldout.tsv`` is not read here).

A pair is kept when the dictionary lists both words as **nouns** (an entry carrying a plural flag of
the affix file, ``ts:NN2``, read by :mod:`bench.opentaal` as every file built from the dictionary is) and
the masculine is an agent noun (:data:`matching.gendered.AGENT_ENDINGS`),
for two suffixes only: ``-in`` ("boerin" → "boer", by :mod:`matching.gendered`'s own -in rule) and
``-iste`` ("typiste" → "typist"). The other suffixes are left out because the dictionary attests false
pairs there: "mevrouw" → "meer", "hamster" → "hamer", "popster" → "popper", "constante" → "constant".
Words the vocabulary already knows are not written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.opentaal import arguments, nouns, version
from matching import gendered_rules as gendered
from matching.gendered import (
    AGENT_ENDINGS,
    ATTESTED_FILE,
    is_job_word,
    masculine_candidates,
    neutral_form,
    vocabulary_job_words,
)

HEADER = """# Feminine/masculine Dutch person nouns that the OpenTaal spelling dictionary lists both of, for
# matching/gendered.py: the masculine forms are known job words there (the vocabulary lacks them).
# Built by bench/gendered_attested.py from {source} (OpenTaal, https://opentaal.org; revised BSD
# or CC BY 3.0); suffixes -in and -iste only; never from data/eval/gendered_heldout.tsv.
feminine\tmasculine
"""


def masculine_of(feminine: str) -> list[str]:
    """The masculine candidates of an -in or -iste noun, by :mod:`matching.gendered`'s own rules."""
    return masculine_candidates(feminine)[0] if feminine.endswith(("in", "iste")) else []


def attested_pairs(known_nouns: set[str]) -> list[tuple[str, str]]:
    """(feminine, masculine) for every attested pair whose masculine the vocabulary does not know yet."""
    pairs = []
    for feminine in sorted(known_nouns):
        for masculine in masculine_of(feminine):
            if masculine in known_nouns and masculine.endswith(AGENT_ENDINGS):
                if not is_job_word(masculine, vocabulary_job_words()):
                    pairs.append((feminine, masculine))
                break
    return pairs


def ster_check(known_nouns: set[str]) -> dict:
    """How the dictionary's -ster nouns on an agent-noun stem (-ier, -el/-en/-er + -aar) fold now and
    how the previous rule folded them (the first agent candidate the known-word check let through).

    A check of :mod:`matching.gendered`'s -ster rule against a source it was not written from: the
    stem is right when the dictionary lists no "<stem>der" noun (versierster: versierder)."""
    rows = []
    for feminine in sorted(word for word in known_nouns if word.endswith("ster") and len(word) > 6):
        stem = feminine[:-4]
        if not gendered._AGENT_NOUN_STEM.match(stem):
            continue
        previous = next((c for c in gendered._agent_candidates(stem) if is_job_word(c)), None)
        right = stem + "der" if stem + "der" in known_nouns else stem
        rows.append({"feminine": feminine, "now": neutral_form(feminine), "before": previous, "dictionary": right})
    return {
        "words": len(rows),
        "rightNow": sum(row["now"] == row["dictionary"] for row in rows),
        "rightBefore": sum(row["before"] == row["dictionary"] for row in rows),
        "foldedBefore": sum(row["before"] is not None for row in rows),
        "rows": rows,
    }


def main() -> None:
    parser = arguments(ATTESTED_FILE)
    parser.add_argument("--ster-check", type=Path, help="write the -ster check (ster_check) here instead")
    args = parser.parse_args()
    source = f"{args.dic.name} (Date and version: {version(args.aff)})"
    if args.ster_check:
        command = " ".join(["bench/gendered_attested.py", *sys.argv[1:]])
        checked = {"command": command, "source": source, **ster_check(nouns(args.dic, args.aff))}
        args.ster_check.write_text(json.dumps(checked, indent=2) + "\n", encoding="utf-8")
        print({key: value for key, value in checked.items() if key != "rows"})
        return
    pairs = attested_pairs(nouns(args.dic, args.aff))
    body = "".join(f"{feminine}\t{masculine}\n" for feminine, masculine in pairs)
    args.out.write_text(HEADER.format(source=source) + body, encoding="utf-8")
    print(f"{len(pairs)} paren geschreven: {args.out}")


if __name__ == "__main__":
    main()
