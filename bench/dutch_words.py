"""Build data/dutch_words.txt.gz: every single lower-case word of the OpenTaal Dutch spelling dictionary.

Run: .venv/bin/python bench/dutch_words.py [--dic /usr/share/hunspell/nl.dic] [--aff /usr/share/hunspell/nl.aff]
(Debian: ``apt-get install hunspell-nl``, OpenTaal 2.20.x; revised BSD or CC BY 3.0.) A build-time source only: the
derived file is committed, and neither the tests nor the app need hunspell.

:mod:`matching.gendered_rules` weighs two masculine candidates of a -vrouw form by where the part that a lexicon attests
starts; a head that starts inside the first part of a compound crosses its boundary ("graankoopvrouw": "aankoper"
starts inside "graan", so "graankoper" is no better attested than "graankoopman"). Whether the letters before a
candidate's head form a word, so that its start is a compound boundary, this list decides: a source written
independently of the project, never from the counterfactual's held-out pairs (``data/eval/gendered_heldout*.tsv`` are
not read here). Compressed (132,247 words, 1.5 MB as text): it is read once, only when such a head is weighed.
"""

from __future__ import annotations

import gzip

from bench.opentaal import arguments, entries, version
from matching.gendered_lexicon import WORDS_FILE

HEADER = """# Dutch words, for matching/gendered_rules.py: whether the letters before a head form a word.
# Every single lower-case entry of the OpenTaal Dutch dictionary of two letters or more, accents removed, one a line.
# Built by bench/dutch_words.py from {source} (https://opentaal.org, (c) OpenTaal; revised BSD License or CC BY 3.0,
# at the user's choice). Never from data/eval/gendered_heldout*.tsv.
"""


def main() -> None:
    parser = arguments(WORDS_FILE)
    args = parser.parse_args()
    words = sorted({word for word, _ in entries(args.dic) if len(word) >= 2})
    source = f"{args.dic.name}, {version(args.aff)}"
    text = HEADER.format(source=source) + "".join(f"{word}\n" for word in words)
    args.out.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    print(f"{len(words)} woorden: {args.out}")


if __name__ == "__main__":
    main()
