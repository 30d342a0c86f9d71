"""Build data/dutch_verbs.tsv: the verb infinitives of the OpenTaal Dutch spelling dictionary.

Run: .venv/bin/python bench/dutch_verbs.py [--dic /usr/share/hunspell/nl.dic] [--aff /usr/share/hunspell/nl.aff]
(Debian: ``apt-get install hunspell-nl``, OpenTaal 2.20.x; revised BSD or CC BY 3.0.) A build-time source
only: the derived file is committed, and neither the tests nor the app need hunspell.

:mod:`matching.gendered` folds a feminine agent noun in -ster on a verb stem ("opvoedster", "boomkweekster",
"voorleesster") to its -er noun when the **verb** is a Dutch verb ("opvoeden", "kweken", "voorlezen"), not
only when the -er noun is a job word of the occupation vocabulary. Which words are verbs comes from this
list, a source written independently of the project, never from the counterfactual's held-out pairs
(``data/eval/gendered_heldout*.tsv`` are not read here).

An infinitive is an entry carrying an affix flag that forms the present participle (a rule tagged
``ts:PPn``, "kwekend"): the dictionary gives that flag to infinitives only ("kweken/PbViPp"), while a verb's
stem is a separate entry ("kweek/PbV3Vq"). Single lower-case words only (no names, no hyphens), read by
:mod:`bench.opentaal` (the ligature "ĳ" as "ij", tags as tokens), as every data file built from the dictionary is.
"""

from __future__ import annotations

import re
from pathlib import Path

from bench.opentaal import PARTICIPLE, PLURAL, arguments, entries, prefixes, tagged_flags, version
from matching.gendered import VERBS_FILE

HEADER = """# Dutch verb infinitives and their -er agent nouns, for matching/gendered.py: a feminine agent noun in -ster
# on a verb stem folds to the agent noun of its verb (opvoedster: opvoeden, opvoeder). One verb a line (lower
# case, accents removed, separable prefixes of the dictionary's prefix flags included); the second column is the
# verb's agent noun (base + "-er", after an r the stem + "-der") when the dictionary lists it as a noun, else empty.
# Built by bench/dutch_verbs.py from the OpenTaal Dutch dictionary {source} (https://opentaal.org,
# (c) OpenTaal; revised BSD License or CC BY 3.0, at the user's choice). Never from data/eval/gendered_heldout*.tsv.
verb\tagent
"""
# An r-stem's open syllable is written with one vowel in the infinitive and two in the stem: "besturen" → "bestuur".
_OPEN_R = re.compile(r"^(.*[^aeiou])([aeiou])r$")


def agent_nouns(infinitive: str) -> list[str]:
    """The regular -er agent nouns an infinitive may have: base + "er" ("kweken" → "kweker", "zitten" → "zitter",
    "schrijven" → "schrijver"), after an r the stem + "der" ("besturen" → "bestuurder", "voeren" → "voerder";
    "sorteren" → "sorteerder", or "-erder" where the -er is unstressed: which one, the dictionary's nouns decide)."""
    base = infinitive[:-2]
    if not base.endswith("r"):
        return [base + "er"]
    if base.endswith("rr"):  # sperren → sper
        return [base[:-1] + "der"]
    out = [open_r.group(1) + open_r.group(2) * 2 + "rder"] if (open_r := _OPEN_R.match(base)) else []
    return [*out, base + "der"]


def verb_agents(dic: Path, aff: Path) -> dict[str, str]:
    """Every infinitive of the dictionary (with its separable prefixes) → its agent noun if that is listed, else ""."""
    participle, plural, prefix = tagged_flags(aff, PARTICIPLE), tagged_flags(aff, PLURAL), prefixes(aff)
    listed = entries(dic)
    nouns = {word for word, flags in listed if flags & plural}
    verbs = set()
    for word, flags in listed:
        if word.endswith("en") and flags & participle:
            verbs |= {word} | {prefix[flag] + word for flag in flags if flag in prefix}
    return {verb: next((agent for agent in agent_nouns(verb) if agent in nouns), "") for verb in sorted(verbs)}


def main() -> None:
    parser = arguments(VERBS_FILE)
    args = parser.parse_args()
    agents = verb_agents(args.dic, args.aff)
    source = f"{args.dic.name}, {version(args.aff)}"
    body = "".join(f"{verb}\t{agent}\n" for verb, agent in agents.items())
    args.out.write_text(HEADER.format(source=source) + body, encoding="utf-8")
    print(f"{len(agents)} werkwoorden, {sum(map(bool, agents.values()))} met een -er-naamwoord: {args.out}")


if __name__ == "__main__":
    main()
