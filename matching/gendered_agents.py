"""The agent nouns of Dutch verbs that the fold of feminine job forms reads: what a verb stem is before "-en", the
verb's -er noun by the dictionary's verb lexicon, or formed by rule where it lists none.

:mod:`matching.gendered_rules` folds "-ster" on a verb stem ("boomkweekster" → boomkweker) and "-vrouw" after a
compound's first part on one ("tunnelwachtvrouw" → tunnelwachter) with these functions, and proposes the masculine
agent candidates of a stem by :func:`_agent_candidates`; what the lexicons hold is :mod:`matching.gendered_lexicon`.
Moved out of the rules module whole (session 45, test_layers' 600-line limit); behaviour unchanged.
"""

from __future__ import annotations

import re

from matching.gendered_lexicon import (
    MIN_HEAD,
    MIN_PART,
    MIN_PREFIX,
    dictionary_words,
    is_compound_part,
    is_compound_prefix,
    verb_agents,
)

MIN_VERB_STEM = 3  # the verb that closes a compound has a stem of three letters or more ("bak", "zit")


# -ster is also the noun "ster" (star: "filmster", a film star, not a woman who films) and part of a root
# ("pinkster"): words the verb lexicon would take for agent nouns (filmen, rocken, pinken; of the 390 -ster nouns
# of the OpenTaal dictionary that the lexicon newly folds, these three were wrong), also ending compounds.
NOT_AGENT_STER = ("filmster", "popster", "rockster", "pinkster")


# Where an -er noun is formed for a listed verb that has none (:func:`_formed_agent`), also the earthstar ("aard" of
# aarden): of the dictionary's 1,145 -ster words of seven letters or more, the one that newly folded wrong so (birds,
# holsters and hipsters have verb parts too short to form a noun: "klapekster", "pistoolholster"); at a compound
# boundary only (:func:`_ends_in_other_ster`).
NOT_FORMED_STER = (*NOT_AGENT_STER, "aardster", "poolster")


_DOUBLE_VOWEL = re.compile(r"^(.*[^aeiou])(aa|ee|oo|uu)([^aeiouj])$")  # maak, koop, neem (not "ooi")


_UNSTRESSED_END = re.compile(r"[aeiou].*[^aeiou](?:e[lnr]|ig)$")  # verzamel, teken, verdedig (and bestel)


_SHORT_VOWEL = re.compile(r"^(.*[^aeiou]|)([aeiou])([bdfgklmnprst])$")  # pak, kap, vul, was, plan


def _verb_bases(stem: str, dropped_d: bool = False) -> list[str]:
    """What a verb stem is before "-en" of its infinitive (and "-er" of its agent noun), by Dutch spelling: its
    long vowel undoubled ("kweek" → "kwek"), its last consonant doubled after a short vowel ("zit" → "zitt"; also
    as written, "verzamel", only after an unstressed -el/-en/-er/-ig), else as written ("opvoed"); each with a
    final -s/-f voiced as well ("lees" → "lez", "schrijf" → "schrijv": the stem is written unvoiced), and with
    ``dropped_d`` after -ij, -ou or -ui with the "d" a compound's first part drops ("snij" of snijden: "rietsnijvrouw",
    the eighth held-out set's, stayed whole; not for -ster, which keeps it: "snijdster", and "lijster" is a bird)."""
    if long := _DOUBLE_VOWEL.match(stem):
        bases = [long.group(1) + long.group(2)[0] + long.group(3)]
    elif short := _SHORT_VOWEL.match(stem):  # "hal" is never "halen" (that is "haal"), "zwem" is "zwemmen"
        bases = [stem + short.group(3)] + ([stem] if _UNSTRESSED_END.search(stem) else [])
    else:
        bases = [stem] + ([stem + "d"] if dropped_d and stem.endswith(("ij", "ou", "ui")) else [])  # snij(d)en
    return bases + [base[:-1] + {"s": "z", "f": "v"}[base[-1]] for base in bases if base.endswith(("s", "f"))]


def _verb_agent(word: str, suffix: str = "ster") -> str | None:
    """The masculine of a feminine agent noun in -ster on a verb stem, by an independent verb lexicon
    (:func:`verb_agents`): the -er noun of the verb that the stem, or the end of a compound's stem, is the stem of
    ("opvoedster" → "opvoeder", "boomkweekster" → "boomkweker"; the longest verb part, of
    :data:`MIN_VERB_STEM` letters or more after :data:`MIN_PREFIX`), when the dictionary lists that noun.
    None when the word is rather a verb's stem, in a reading that spans as much of it or more ("afluister":
    af + luisteren rather than aflui + -ster; "gefluister"; not "opvoedster", which ends in "voedster" of
    voedsteren, but whose verb opvoeden spans more), or when the longest verb part has no listed -er noun. Likewise
    for -vrouw (``suffix``), where the verb must follow a compound's first part, a word of the dictionary
    (:func:`is_compound_part`: "tunnelwachtvrouw" → tunnelwachter): a -vrouw on a bare stem is mostly a noun's compound
    ("kraamvrouw", a woman in childbed, not a "kramer"), and a verb inside a word is no verb part ("mantelvrouw" is
    no "man-teller")."""
    found = _verb_agent_at(word, suffix)
    return None if found is None else found[0]


def _verb_agent_at(word: str, suffix: str = "ster") -> tuple[str, int] | None:
    """:func:`_verb_agent` and where the verb starts. A verb the dictionary lists without an -er noun forms one by rule
    (:func:`_formed_agent`: "klokkenluidvrouw" → klokkenluider, "hondenuitlaatvrouw" → hondenuitlater, the seventh
    held-out set's misses; "zeepziedster" → zeepzieder, the eighth's; all stayed whole). Of the dictionary's 1,145
    -ster words of seven letters or more, 26 fold so that stayed whole: batikker, bergbeklimmer, handlanger,
    voorstander, schoonspringer, ...; "aardster" (:data:`NOT_FORMED_STER`) and "polijster", the -er noun of polijsten
    itself (:func:`_is_verbs_own_noun`), stay whole."""
    agents = verb_agents()
    stem = word[: -len(suffix)]
    starts: tuple[int, ...] = tuple(range(MIN_PREFIX, len(stem) - MIN_VERB_STEM + 1))
    if suffix == "vrouw":  # the verb after the compound's first part, at its boundary
        whole = is_compound_part(stem)  # a short first part inside a word or plural is no part: "boe|ren", "bi|jen"
        starts = tuple(at for at in starts if is_compound_part(stem[:at]) and not (whole and at <= MIN_PART))
    for start in starts if suffix == "vrouw" else (0, *starts):
        for base in _verb_bases(stem[start:], dropped_d=suffix == "vrouw"):
            if (agent := agents.get(base + "en")) is not None:
                if any(word[at:] + "en" in agents for at in range(start + 1)):  # the word is a verb's stem
                    return None
                if suffix == "vrouw" and not agent and _noun_stem(stem):  # "ijzersteen" is no verb part
                    return None
                if not agent and not (suffix == "ster" and _is_verbs_own_noun(word, agents)):
                    agent = _formed_agent(stem[start:], base, aar=suffix == "vrouw") or ""
                return (stem[:start] + agent, start) if agent else None
    return None


def _noun_stem(stem: str) -> bool:
    """Whether a -vrouw form's whole stem is a word of the dictionary that is no verb's stem itself: a noun or an
    adjective ("ijzersteen", "doorlaatbaar"), whose -vrouw compounds it, not a verb ("inweef" of inweven is a verb)."""
    agents = verb_agents()
    return stem in dictionary_words() and not any(base + "en" in agents for base in _verb_bases(stem))


def _is_verbs_own_noun(word: str, agents: dict[str, str]) -> bool:
    """Whether an -ster word is no feminine at all: the -er noun of a verb in -sten ("polijster" of polijsten), or a
    word of :data:`NOT_FORMED_STER` ("aardster", a fungus)."""
    return word[:-2] + "en" in agents or _ends_in_other_ster(word)


def _formed_agent(verb_stem: str, base: str, aar: bool = False) -> str | None:
    """The -er agent noun of a verb by rule, from its stem and what it is before "-en" (:func:`_verb_bases`): "-der"
    after a stressed r ("keur" → keurder, "sorteer" → sorteerder), else the base + "er" ("luid" → luider, "uitlat" →
    uitlater, "blaz" → blazer); None after an unstressed -el, -en or -er, where -aar or the stem itself competes
    ("wandelaar", "schilder"), except -aar after -el/-en for -vrouw (``aar``: "gevelmetselvrouw" → gevelmetselaar; an
    -ster there is mostly the star: "dubbelster"), and for a verb stem of fewer than :data:`MIN_HEAD` letters, too
    short to tell from a part of a name or another word ("Kolster", a firm of the demo world, is no "koller")."""
    if len(verb_stem) < MIN_HEAD or (verb_stem.endswith("er") and _UNSTRESSED_END.search(verb_stem)):
        return None
    if verb_stem.endswith(("el", "en")) and _UNSTRESSED_END.search(verb_stem):
        return verb_stem + "aar" if aar else None  # "gevelmetselvrouw" → -metselaar, as wandelaar; not "dubbelster"
    return verb_stem + "der" if verb_stem.endswith("r") else base + "er"


def _agent_candidates(stem: str) -> list[str]:
    """Masculine agent nouns a verb or noun stem can form: "maak" → maker, "pak" → pakker, "serveer" → serveerder."""
    out = []
    if stem.endswith(("ar", "ier", "eur", "oor")):
        out.append(stem)
    if stem.endswith("r") and not stem.endswith(("ar", "ier", "eur", "oor")) and not _UNSTRESSED_END.search(stem):
        out.append(stem + "der")  # not "schipper-der" nor "formulier-der": the stem is the agent noun or no verb
    if long := _DOUBLE_VOWEL.match(stem):
        out.append(long.group(1) + long.group(2)[0] + long.group(3) + "er")
    if short := _SHORT_VOWEL.match(stem):
        out.append(stem + short.group(3) + "er")
    out.append(stem + "er")
    return out


def _ends_in_other_ster(word: str) -> bool:
    """Whether ``word`` is a word of :data:`NOT_FORMED_STER` or a compound ending in one at a compound boundary
    (:func:`is_compound_prefix`): "aardster", "sterrenfilmster"; not where the letters before it are no parts."""
    return any(
        word == other or (word.endswith(other) and is_compound_prefix(word[: -len(other)])) for other in NOT_FORMED_STER
    )
