"""Build data/dutch_person_nouns.tsv: masculine person nouns whose feminine the OpenTaal dictionary lists.

Run: .venv/bin/python bench/dutch_person_nouns.py [--dic /usr/share/hunspell/nl.dic] [--aff /usr/share/hunspell/nl.aff]
(Debian: ``apt-get install hunspell-nl``, OpenTaal 2.20.x; revised BSD or CC BY 3.0.) A build-time source only: the
derived file is committed, and neither the tests nor the app need hunspell.

:mod:`matching.gendered` folds a feminine in -e, -in, -es, -aresse or -vrouw to its masculine when that is a known job
word of the occupation vocabulary; "diplomate", "voogdes" and "ploegbazin" stayed whole, because "diplomaat", "voogd"
and "ploegbaas" are none. This script lists masculine nouns that the dictionary shows to be **persons**, by the
dictionary's own marks and never from the counterfactual's held-out pairs (``data/eval/gendered_heldout*.tsv`` are
not read here):

- ``Xe``: the affix file's flag "for female form of noun (bassist => bassiste)" on the masculine ("chirurg",
  "laborant": their -e form is their feminine);
- ``innen`` / ``essen``: the dictionary lists the feminine in -in or -es with the plural of the person suffix, its
  last consonant doubled ("godin" → "godinnen", "voogdes" → "voogdessen"; not "bassin" → "bassins", nor "kapitein"
  → "kapiteins"), and its masculine (by :func:`matching.gendered.person_candidates`) as a noun;
- ``entry``: the dictionary lists the -e or -aresse feminine as an entry of its own ("fotografe", "diplomate") and
  its masculine as a noun, where the masculine ends in a suffix that forms persons (:data:`PERSON_SUFFIXES`), and
  the masculine is no adjective, whose -e form is its inflection ("verwant": "verwante beroepen");
- ``vrouw``: the dictionary lists a compound in -vrouw and the same compound in -man as a noun ("raadsvrouw",
  "raadsman");
- ``man``: the dictionary lists a compound in -man with the plural of the noun "man", -mannen, -lieden or -lui
  ("stuurman"/"stuurmannen", "koopman"/"kooplieden"), and not its -vrouw form. Its -vrouw form is hardly ever listed
  (the dictionary forms "zakenvrouw", "brandweervrouw" and nearly every other by compounding, from "vrouw": it has
  30 words in -vrouw against 280 in -man), so the -vrouw form is the compound's own: "stuurvrouw" → "stuurman". The
  plural is the mark that says the ending is the person "man": "roman", "walkman" and "dragoman" take -mans and stay
  out; a -man entry listed with no plural ("horecaman", "communicatieman") is not read as a noun here, as no entry is.
  "huisvrouw" → "huisman" and "zakenvrouw" → "zakenman" are such pairs: the dictionary lists huisman and zakenman
  with the -mannen plural, and they are what Dutch calls a man in that role.

-ica is left out: the dictionary gives the field and the person the same marks ("grammatica" and "historica" are both
listed with a plural, "grammaticus" and "historicus" both with the flag that forms -ica), and most -ica words are
fields ("elektronica", "statistica", "esthetica"). Feminines the marks pair with a masculine though they name no
female person ("karate", "uitgave", "bijles") are :data:`matching.gendered.NOT_PERSONS`.

A second kind of row, ``agent``, lists the nouns in -tor, -teur and -deur: which of them the dictionary writes decides
between the Latin and the French masculine of an -trice form ("lectrice" → "lector", "taxatrice" → "taxateur").
Where it lists both forms of one stem ("auditor", "auditeur"; 18 stems), its marks cannot decide: they are the same
kind of noun, and the -trice form, where listed, names neither. Usage decides: the less frequent of the two in Dutch
text is a ``rarer`` row, which the -trice rule does not take (frequencies of the ``wordfreq`` package's Dutch list,
:func:`dutch_frequency`, needed only to rebuild, like hunspell: ``pip install wordfreq==3.1.1``; equal frequencies, or
both unknown, leave both rows ``agent``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench.opentaal import (
    LICENCE,
    PLURAL,
    arguments,
    commented_flag,
    forms,
    raw_entries,
    suffix_rules,
    tagged_flags,
    version,
)
from matching.gendered import PERSONS_FILE, fold, is_no_person, person_candidates, plural

ADJECTIVE_E = "ts:AJe"  # the tag of a rule that inflects an adjective with -e ("verwant" → "verwante")

HEADER = """# Masculine Dutch person nouns whose feminine the OpenTaal dictionary shows, for matching/gendered.py: the
# masculine of an -e, -in, -es, -aresse or -vrouw form is taken when it is one of these (or a compound ending in
# one), and the masculine of an -trice form is the -tor, -teur or -deur noun listed here ("agent" rows). Evidence:
# Xe (the dictionary's female-form flag on the masculine), innen/essen (the feminine listed with that plural), entry
# (the feminine listed as an entry, the masculine a noun in a person suffix), vrouw (both compounds listed), man (the
# -man compound listed with the plural -mannen, -lieden or -lui; its -vrouw form built), agent, rarer (the less
# frequent of a -tor and a -teur noun of one stem, by the Dutch frequencies of wordfreq 3.1.1, Robyn Speer, Apache-2.0,
# its data CC BY-SA 4.0: not an -trice's masculine).
# One noun a line, lower case, accents removed; the plural is the one the dictionary forms. Built by
# bench/dutch_person_nouns.py from the OpenTaal Dutch dictionary {source}
# ({licence}). Never from data/eval/gendered_heldout*.tsv.
masculine\tplural\tfeminine\tevidence
"""
# Suffixes that form persons from Latin, Greek or French stems, whose feminine is the -e form ("diplomaat",
# "fotograaf", "psycholoog", "chirurg", "laborant", "docent", "pianist", "therapeut"; -aris: -aresse, "archivaris").
PERSON_SUFFIXES = ("aat", "aaf", "oof", "oom", "eet", "urg", "ect", "ant", "ent", "ist", "eut", "oog", "aris")
AGENT_SUFFIXES = ("tor", "teur", "deur")
MIN_PREFIX = 2  # "stuurman": the -man compound has something in front of "man"


def dutch_frequency(word: str) -> float:
    """How often a word occurs in Dutch text: the ``wordfreq`` package's Zipf value for "nl" (0 for a word it does
    not know). Imported here, at build time only."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "nl")


def person_nouns(
    dic: Path, aff: Path, frequency: Callable[[str], float] = dutch_frequency
) -> dict[str, tuple[str, str, str]]:
    """masculine → (its plural, its feminine, the evidence) for every person noun the dictionary shows (the module);
    ``frequency`` decides between a -tor and a -teur noun of one stem."""
    listed = raw_entries(dic)
    rules, adjective = suffix_rules(aff), tagged_flags(aff, ADJECTIVE_E)
    feminine_flag = commented_flag(aff, "female form of noun")
    plurals: dict[str, set[str]] = {}
    for word, entry_flags in listed:
        made = {fold(form) for form in forms(word, entry_flags, rules, PLURAL) if form.isalpha()}
        if made:
            plurals.setdefault(fold(word), set()).update(made)
    nouns = set(plurals)
    adjectives = {fold(word) for word, entry_flags in listed if entry_flags & adjective}  # "verwant": verwante
    out: dict[str, tuple[str, str, str]] = {}

    def keep(masculine: str, feminine: str, evidence: str) -> None:
        if not is_no_person(feminine) and not (feminine == masculine + "e" and masculine in adjectives):
            out.setdefault(masculine, (listed_plural(masculine, plurals[masculine]), feminine, evidence))

    for word, entry_flags in listed:
        masculine = fold(word)
        if masculine not in nouns:
            continue
        if feminine_flag in entry_flags:
            keep(masculine, masculine + "e", "Xe")
    for word, entry_flags in listed:
        feminine = fold(word)
        if feminine.endswith(("in", "es")):
            if word + word[-1] + "en" not in forms(word, entry_flags, rules, PLURAL):  # godinnen, voogdessen
                continue
            evidence = {"n": "innen", "s": "essen"}[word[-1]]
        elif feminine.endswith("vrouw"):
            if feminine[:-5] + "man" in nouns:  # raadsvrouw, raadsman
                keep(feminine[:-5] + "man", feminine, "vrouw")
            continue
        elif feminine.endswith("e"):
            evidence = "entry"
        else:
            continue
        for masculine in person_candidates(feminine):
            if masculine in nouns and (evidence != "entry" or masculine.endswith(PERSON_SUFFIXES)):
                keep(masculine, feminine, evidence)
                break
    words = {fold(word) for word, _ in listed}
    for noun in sorted(word for word in words if word.endswith("man") and len(word) >= MIN_PREFIX + 3):
        if people := man_plural(noun, plurals.get(noun, set()), words):  # "stuurman", "koopman"; not "roman"
            out.setdefault(noun, (people, noun[:-3] + "vrouw", "man"))
    for noun in sorted(nouns):
        if noun.endswith(AGENT_SUFFIXES):
            out.setdefault(noun, (listed_plural(noun, plurals[noun]), "", agent_evidence(noun, nouns, frequency)))
    return out


def man_plural(noun: str, listed: set[str], words: set[str]) -> str | None:
    """The plural of a -man compound as a person: the -mannen the dictionary forms ("stuurmannen"), else the -lieden or
    -lui form it lists as a word of its own ("kooplieden" of "koopman", which has no plural flag); None where it forms
    neither ("romans", "walkmans"; "horecaman", listed with no plural)."""
    if noun + "nen" in listed:
        return noun + "nen"
    return next((noun[:-3] + ending for ending in ("lieden", "lui") if noun[:-3] + ending in words), None)


def agent_evidence(noun: str, nouns: set[str], frequency: Callable[[str], float]) -> str:
    """ "rarer" for the less frequent of a -tor and a -teur noun of one stem that the dictionary both lists ("auditeur"
    beside "auditor", "restaurator" beside "restaurateur"), else "agent"."""
    twin = noun[:-3] + "teur" if noun.endswith("tor") else noun[:-4] + "tor" if noun.endswith("teur") else None
    if twin is None or twin not in nouns:
        return "agent"
    return "rarer" if frequency(twin) > frequency(noun) else "agent"


def listed_plural(noun: str, listed: set[str]) -> str:
    """The plural the dictionary forms of a noun: the fold's regular one where the dictionary forms it too, else one in
    -en, else the shortest ("graaf" → "graven", "fotograaf" → "fotografen", "kok" → "koks", not "graafen";
    "kandidaat" → "kandidaten", not "kandidaats")."""
    regular = plural(noun)
    return regular if regular in listed else min(listed, key=lambda form: (not form.endswith("en"), len(form), form))


def main() -> None:
    parser = arguments(PERSONS_FILE)
    args = parser.parse_args()
    persons = person_nouns(args.dic, args.aff)
    source = f"{args.dic.name}, {version(args.aff)}"
    body = "".join("\t".join((noun, *row)) + "\n" for noun, row in sorted(persons.items()))
    args.out.write_text(HEADER.format(source=source, licence=LICENCE) + body, encoding="utf-8")
    kinds = sorted({row[-1] for row in persons.values()})
    counts = ", ".join(f"{kind} {sum(row[-1] == kind for row in persons.values())}" for kind in kinds)
    print(f"{len(persons)} naamwoorden ({counts}): {args.out}")


if __name__ == "__main__":
    main()
