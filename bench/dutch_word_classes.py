"""Build data/dutch_word_classes.tsv.gz: which Dutch words are nouns, adjectives or a verb's inflected forms.

Run: .venv/bin/python bench/dutch_word_classes.py --lookups DIR, where DIR holds ``nl_lemma_index.json.gz``,
``nl_lemma_exc.json.gz`` and ``nl_lemma_lookup.json.gz`` of the PyPI package ``spacy-lookups-data`` (1.0.5, MIT
License; ``pip download --no-deps spacy-lookups-data==1.0.5`` and unzip ``spacy_lookups_data/data/nl_*``). A
build-time source only: the derived file is committed, and neither the tests nor the app need the package (98 MB).

:mod:`matching.gendered_rules` folds a -vrouw form to its -man compound where the first part names a thing, a place or
an institution ("kantinevrouw" → kantineman, "schillenvrouw" → schillenman), and must not where the first part is a
verb's past tense or participle ("aanriedenvrouw", "gehoudenvrouw"), an adjective, or no noun at all: the OpenTaal
word list (:data:`matching.gendered_lexicon.WORDS_FILE`) lists those forms as words but says nothing of their class,
and session 42's audit found 22 of its 24 implausible folds there. This list, written independently of the project
(never from ``data/eval/gendered_heldout*.tsv``), says the class. One word a line, lower case, accents removed, a tab,
its classes:

- ``N``: a noun lemma of the lemma index;
- ``A``: an adjective lemma;
- ``P``: an adposition ("voor", "tegen": "voorin" is no feminine of "voor");
- ``V``: a verb's inflected form that is no noun form (past tense, participle: "kochten" → kopen, "gebakken" →
  bakken), by the lookup table and the verbs' exceptions, neither the lemma itself nor a form the lookup or the nouns'
  exceptions give a noun lemma ("planten" is the plural of plant too, "eieren" of ei).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from pathlib import Path

from matching.gendered_lexicon import WORD_CLASSES_FILE, fold

HEADER = """# Dutch word classes, for matching/gendered_rules.py: whether a compound's first part is a noun, adjective,
# adposition or a verb's inflected form (N, A, P, V; comma-separated where a word has more than one).
# Built by bench/dutch_word_classes.py from the Dutch lemma tables (nl_lemma_index, nl_lemma_exc, nl_lemma_lookup) of
# spacy-lookups-data {version} (MIT License, (c) Explosion AI). Never from data/eval/gendered_heldout*.tsv.
"""
_WORD = re.compile(r"^[a-z]+$")  # a single lower-case word after folding: no hyphens, apostrophes or digits


def _load(directory: Path, name: str) -> dict:
    return json.loads(gzip.decompress((directory / f"nl_lemma_{name}.json.gz").read_bytes()))


def word_classes(directory: Path) -> dict[str, set[str]]:
    """Each folded single word of the tables → its classes (see the module docstring)."""
    index, exceptions, lookup = (_load(directory, name) for name in ("index", "exc", "lookup"))
    nouns, verbs = set(index["noun"]), set(index["verb"])
    noun_forms = set(exceptions["noun"]) | {form for form, lemma in lookup.items() if lemma in nouns}
    verb_forms = set(exceptions["verb"]) | {form for form, lemma in lookup.items() if lemma in verbs and form != lemma}
    classes: dict[str, set[str]] = {}
    for mark, words in (
        ("N", nouns),
        ("A", index["adj"]),
        ("P", index["adp"]),
        ("V", verb_forms - noun_forms - nouns - verbs),
    ):
        for word in words:
            if _WORD.match(folded := fold(word)):
                classes.setdefault(folded, set()).add(mark)
    return classes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=Path, required=True, help="the folder with spacy-lookups-data's nl_* tables")
    parser.add_argument("--version", default="1.0.5")
    parser.add_argument("--out", type=Path, default=WORD_CLASSES_FILE)
    args = parser.parse_args()
    classes = word_classes(args.lookups)
    lines = "".join(f"{word}\t{','.join(sorted(marks))}\n" for word, marks in sorted(classes.items()))
    text = HEADER.format(version=args.version) + lines
    args.out.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    print(f"{len(classes)} woorden: {args.out}")  # noqa: T201


if __name__ == "__main__":
    main()
