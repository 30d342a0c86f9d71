"""Read the OpenTaal Dutch spelling dictionary (hunspell ``nl.dic`` / ``nl.aff``): one reader for every data file
that :mod:`matching.gendered` builds from it (``bench/gendered_attested.py``, ``bench/dutch_verbs.py``,
``bench/dutch_person_nouns.py``, ``bench/dutch_words.py``).

Debian: ``apt-get install hunspell-nl`` (OpenTaal 2.20.x; revised BSD or CC BY 3.0). A build-time source only: the
derived files are committed, and neither the tests nor the app need hunspell.

Two details every reader must get the same way, and two readers once got differently:

- a morphology tag of the affix file is a **token** of a rule line (``ts:NN2``, a noun's plural), never a substring:
  ``ts:NN2r`` (a diminutive's plural, "kweekje" → "kweekjes") and ``ts:NN2d`` (an inhabitant's plural) are other
  tags, and the flags that carry only them (Ya…Yg, PK) form no plural of the word itself;
- the dictionary writes "ij" as the ligature "ĳ" ("schrĳven", "termĳn"); :func:`matching.gendered.fold` writes it
  as "ij", so a word with the ligature is read, not skipped.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from matching.gendered import fold

DIC = Path("/usr/share/hunspell/nl.dic")
AFF = Path("/usr/share/hunspell/nl.aff")
PLURAL = "ts:NN2"  # the tag of a rule that forms a noun's plural
PARTICIPLE = "ts:PPn"  # the tag of a rule that forms a present participle ("kwekend"): an infinitive's flag
LICENCE = "(c) OpenTaal, https://opentaal.org; revised BSD License or CC BY 3.0, at the user's choice"
_WORD = re.compile(r"[a-zà-ÿĳ]+")  # a single lower-case word: no names, no hyphens, no digits


def flags(field: str) -> set[str]:
    """The flags of a dictionary entry: the affix file's ``FLAG long``, two characters a flag."""
    return {field[i : i + 2] for i in range(0, len(field), 2)}


def tagged_flags(aff: Path, tag: str) -> set[str]:
    """The affix flags whose suffix rules carry a morphology tag, as a token of the rule line (``ts:NN2``, not
    ``ts:NN2r``)."""
    out = set()
    for line in aff.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) > 4 and parts[0] == "SFX" and tag in parts:
            out.add(parts[1])
    return out


def suffix_rules(aff: Path) -> dict[str, list[tuple[str, str, re.Pattern[str], list[str]]]]:
    """Every suffix flag's rules: (strip, add, the condition on the word's end, the rule's morphology tags)."""
    out: dict[str, list[tuple[str, str, re.Pattern[str], list[str]]]] = {}
    for line in aff.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) > 4 and parts[0] == "SFX":
            strip, add = ("" if parts[2] == "0" else parts[2]), parts[3].split("/")[0]
            condition = re.compile(("" if parts[4] == "." else parts[4]) + "$")
            out.setdefault(parts[1], []).append((strip, "" if add == "0" else add, condition, parts[5:]))
    return out


def forms(word: str, word_flags: set[str], rules: dict, tag: str) -> set[str]:
    """The forms that the flags of an entry make of it by the suffix rules tagged ``tag`` ("voogdes" with a plural
    flag → "voogdessen"), the entry written as the dictionary writes it."""
    out = set()
    for flag in word_flags & rules.keys():
        for strip, add, condition, tags in rules[flag]:
            if tag in tags and condition.search(word) and word.endswith(strip):
                out.add(word[: len(word) - len(strip)] + add)
    return out


def commented_flag(aff: Path, comment: str) -> str:
    """The flag of the first suffix rule after the affix file's comment that contains ``comment`` ("FLAG for female
    form of noun (bassist => bassiste)" → "Xe")."""
    lines = aff.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("#") and comment in line)
    return next(line.split()[1] for line in lines[start:] if line.startswith("SFX "))


def prefixes(aff: Path) -> dict[str, str]:
    """The affix flags that put a separable prefix before a verb ("PFX Pn 0 voor ." → {"Pn": "voor"})."""
    out = {}
    for line in aff.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[0] == "PFX" and parts[2] == "0":
            out[parts[1]] = fold(parts[3])
    return out


def raw_entries(dic: Path) -> list[tuple[str, set[str]]]:
    """(word as written, its flags) of every single-word lower-case entry (the ligature "ĳ" kept)."""
    out = []
    for line in dic.read_text(encoding="utf-8").splitlines()[1:]:  # the first line is the entry count
        word, _, field = line.partition("/")
        if _WORD.fullmatch(word):
            out.append((word, flags(field.split()[0] if field else "")))
    return out


def entries(dic: Path) -> list[tuple[str, set[str]]]:
    """(lower-case accent-free word, its flags) of every single-word lower-case entry, the ligature "ĳ" as "ij"."""
    return [(fold(word), entry_flags) for word, entry_flags in raw_entries(dic)]


def nouns(dic: Path, aff: Path) -> set[str]:
    """The entries the dictionary lists with a plural flag (:data:`PLURAL`): its nouns."""
    plural = tagged_flags(aff, PLURAL)
    return {word for word, entry_flags in entries(dic) if entry_flags & plural}


def version(aff: Path) -> str:
    """The dictionary's date and version line ("2020-12-24 15:42:49 2.20.18"), from the affix file's header."""
    line = next((line for line in aff.read_text(encoding="utf-8").splitlines() if "version" in line), "")
    return line.split(":", 1)[-1].strip()


def arguments(out: Path) -> argparse.ArgumentParser:
    """The command line every build script of this dictionary shares: ``--dic``, ``--aff`` and the data file it
    writes, ``--out`` (default ``out``); a script adds its own options before parsing."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--dic", type=Path, default=DIC)
    parser.add_argument("--aff", type=Path, default=AFF)
    parser.add_argument("--out", type=Path, default=out)
    return parser
