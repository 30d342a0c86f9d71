"""Feminine Dutch job forms folded to their masculine/neutral counterpart, in words and running text.

Dutch forms feminine job words productively (-ster, -e, -euse, -trice, -ière, -in, -es, -vrouw, -meisje, and every
compound of them); a list of pairs always misses the next one, so a word is folded by rule. The fold is three
modules, one concept each:

- :mod:`matching.gendered_lexicon`: what the fold knows, the known job words (the occupation vocabulary) and the
  OpenTaal dictionary's attested pairs, verbs and person nouns;
- :mod:`matching.gendered_rules`: the suffix rules that propose a masculine and weigh it against the lexicon
  (why each rule is as it is: that module's docstring);
- this module: plurals, case and running text, the functions the rest of werkmatch calls.

:func:`neutral_form` folds one lower-cased, accent-free word (BM25, :mod:`matching.lexical`); :func:`neutral_text`
folds the words of a running text keeping everything else (case, accents, punctuation), for what the embedder reads
(:mod:`matching.text`). The names below re-export what callers used from the single module this once was.
"""

from __future__ import annotations

import re
from functools import lru_cache

from matching.gendered_lexicon import (
    AGENT_ENDINGS,
    ATTESTED_FILE,
    DATA_FILES,
    IRREGULAR,
    MIN_HEAD,
    MIN_PREFIX,
    PERSONS_FILE,
    VERBS_FILE,
    attested_start,
    dictionary_plurals,
    fold,
    is_job_word,
    job_words,
    person_nouns,
    verb_agents,
    vocabulary_job_words,
)
from matching.gendered_rules import (
    GREEK_MASCULINE,
    NOT_PERSONS,
    VOWELS,
    is_no_person,
    masculine_candidates,
    masculine_singular,
    person_candidates,
)

__all__ = [
    "AGENT_ENDINGS",
    "ATTESTED_FILE",
    "DATA_FILES",
    "IRREGULAR",
    "NOT_PERSONS",
    "PERSONS_FILE",
    "VERBS_FILE",
    "attested_start",
    "fold",
    "is_job_word",
    "is_no_person",
    "job_words",
    "keep_case",
    "listed_plural",
    "masculine_candidates",
    "neutral_form",
    "neutral_text",
    "neutral_word",
    "person_candidates",
    "person_nouns",
    "plural",
    "verb_agents",
    "vocabulary_job_words",
]


def listed_plural(masculine: str) -> str:
    """The plural of a masculine as the dictionary forms it where :data:`PERSONS_FILE` lists it or the head of its
    compound ("ploegbaas" → "ploegbazen", "fotograaf" → "fotografen"), else :func:`plural`."""
    listed = dictionary_plurals()
    if masculine not in listed and (greek := _greek_plural(masculine)) is not None:
        return greek
    for start in (0, *range(MIN_PREFIX, len(masculine) - MIN_HEAD + 1)):
        if (head := masculine[start:]) in listed:
            return masculine[:start] + listed[head]
    return plural(masculine)


def _greek_plural(masculine: str) -> str | None:
    """The plural of a Greek agent noun (:data:`GREEK_MASCULINE`), its feminine + "n" ("typograaf" → "typografen",
    "filosoof" → "filosofen"); None for any other word, also for the count "graaf" ending a Dutch compound after a
    consonant ("markgraaf": markgraven)."""
    if not masculine.endswith(GREEK_MASCULINE):
        return None
    if masculine.endswith("graaf") and (len(masculine) < 6 or masculine[-6] not in VOWELS + "y"):  # polygraaf
        return None
    return masculine[:-2] + masculine[-1] + "en"


def plural(masculine: str) -> str:
    """The plural of a masculine job word: -ers, -eurs, -iers, koks; -isten, -enten; "-man" → "-mannen"."""
    if masculine.endswith("man"):
        return masculine + "nen"
    if masculine.endswith("heer"):
        return masculine[:-3] + "eren"
    if masculine.endswith(("er", "eur", "ier", "kok", "jongen", "ouder", "e")):
        return masculine + ("s" if not masculine.endswith("kundige") else "n")
    if masculine.endswith("aar"):
        return masculine[:-3] + "aren"
    if masculine.endswith("oog"):  # bioloog → biologen
        return masculine[:-3] + "ogen"
    if masculine.endswith("is"):
        return masculine + "sen"
    return masculine + "en"


# plural ending -> the singular's ending
_PLURALS = (("innen", "in"), ("essen", "es"), ("vrouwen", "vrouw"), ("s", ""))


@lru_cache(maxsize=65_536)
def neutral_form(word: str) -> str:
    """A lower-cased, accent-free word, with a feminine job form (singular or plural) folded to its counterpart."""
    for ending, singular in _PLURALS:  # plurals first: "receptionistes" is not a singular in -es
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            found = masculine_singular(word[: -len(ending)] + singular)
            if found is not None:
                return listed_plural(found)
    found = masculine_singular(word)
    return word if found is None else found


_WORD = re.compile(r"[^\W\d_]+")
_WORDS_BETWEEN = re.compile(r"([^\W\d_]+)")  # split() keeps the words at the odd places
_ASCII_WORDS_BETWEEN = re.compile(r"([A-Za-z]+)")  # the same on an ASCII text, twice as fast


def keep_case(found: str, replacement: str) -> str:
    """``replacement`` written in the case of ``found`` (all capitals, a capital first, or lower case)."""
    if found.isupper() and len(found) > 1:
        return replacement.upper()
    if found[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


@lru_cache(maxsize=131_072)
def neutral_word(found: str) -> str:
    """One word of a running text (any case, accents) with a feminine job form folded, in the word's case.

    Memoised per word as written: a start folds every word of every record, and the texts use few
    distinct words (bounded: the cache keeps the most recent 131,072, a few tens of MB at most;
    ``lru_cache`` is thread-safe)."""
    folded = fold(found)
    neutral = neutral_form(folded)
    return found if neutral == folded else keep_case(found, neutral)


def _fold_words(text: str) -> str:
    """``_WORD.sub`` with :func:`neutral_word` on each match, without a match object per word."""
    parts = (_ASCII_WORDS_BETWEEN if text.isascii() else _WORDS_BETWEEN).split(text)
    parts[1::2] = map(neutral_word, parts[1::2])
    return "".join(parts)


PIECE_MAX = 96  # a text this short is memoised whole: the fields' pieces (labels, short phrases) recur


@lru_cache(maxsize=32_768)
def _neutral_piece(text: str) -> str:
    return _fold_words(text)


def neutral_text(text: str) -> str:
    """``text`` with every feminine job form folded ("Ik was Kassière." → "Ik was Kassier."), the rest as is.

    Word by word through the memoised :func:`neutral_word`; a short text (at most :data:`PIECE_MAX`
    characters, as the pieces of :func:`matching.text.client_fields` mostly are: on the demo world 92 % of
    the calls, 8 % of them distinct) is memoised whole as well (at most 32,768 of them, a few MB)."""
    return _neutral_piece(text) if len(text) <= PIECE_MAX else _fold_words(text)
