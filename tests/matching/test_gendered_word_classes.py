"""-vrouw after a singular noun, -in after a noun the dictionary lists with it, and the word classes that decide both.

Session 43 (issue 19 item 5): a -vrouw compound formed on a singular noun that names a place, goods, a material or an
institution folds to its -man compound; a verb's past tense or participle, an adjective, an adposition or a person
before -vrouw does not; and the nouns whose -in feminine the dictionary lists are person nouns ("waardin" → waard).
None of the words below is a word of data/eval/gendered_heldout10.tsv.
"""

from __future__ import annotations

import gzip

import pytest

from matching.gendered import neutral_form, neutral_text
from matching.gendered_lexicon import (
    DATA_FILES,
    WORD_CLASSES_FILE,
    in_feminine_nouns,
    is_adposition,
    is_noun,
    is_verb_form,
    word_classes,
)

# A singular noun (or a compound ending in one, also with a linking -s) before -vrouw: the -man compound.
THINGS = {
    "kantinevrouw": "kantineman",  # a place (the ninth held-out set's miss)
    "kaasvrouw": "kaasman",  # goods, though "kazen" is also a verb
    "stationsvrouw": "stationsman",  # a linking -s
    "veilingvrouw": "veilingman",  # the eighth set's miss
    "duimstokvrouw": "duimstokman",
    "gemeentehuisvrouw": "gemeentehuisman",  # a compound of parts, ending in a noun
    "kantinevrouwen": "kantinemannen",  # the plural
    "Kantinevrouw": "Kantineman",  # the case as written
}


@pytest.mark.parametrize(("feminine", "masculine"), sorted(THINGS.items()))
def test_a_vrouw_after_a_singular_noun_takes_the_man_compound(feminine: str, masculine: str) -> None:
    assert neutral_text(feminine) == masculine


# Kept whole: a person's noun with a linking -s makes a wife (zeemans-, dokters-, burgemeesters-: by "meester"); a
# person suffix; a past tense or participle (the audit's implausible goods folds); an adjective's inflection; an
# adposition; the dictionary's own -vrouw words without a -man compound; a -man compound that names a thing; kraamvrouw.
WHOLE = [
    "zeemansvrouw",
    "doktersvrouw",
    "burgemeestersvrouw",
    "afdelingsvoorzittervrouw",
    "uitwijkelingvrouw",
    "aanriedenvrouw",
    "gehoudenvrouw",
    "aaneengehoudenvrouw",
    "mochtenvrouw",
    "belangrijkstenvrouw",
    "tussenvrouw",
    "mevrouw",
    "badvrouw",
    "carrierevrouw",
    "walkvrouw",
    "kraamvrouw",
    "boerenvrouw",
]


@pytest.mark.parametrize("word", WHOLE)
def test_a_vrouw_after_no_thing_stays_whole(word: str) -> None:
    assert neutral_form(word) == word


# What other rules decide still wins: an agent noun of the verb, a listed -man compound, a plural's goods.
DECIDED_BEFORE = {
    "vloerpoetsvrouw": "vloerpoetser",
    "wasvrouw": "wasser",
    "huisvrouw": "huisman",
    "schillenvrouw": "schillenman",
}


@pytest.mark.parametrize(("feminine", "masculine"), sorted(DECIDED_BEFORE.items()))
def test_the_earlier_rules_still_decide_first(feminine: str, masculine: str) -> None:
    assert neutral_form(feminine) == masculine


@pytest.mark.parametrize("word", ["kantineman", "kaasman", "stationsman", "kantine", "kaas", "vrouw", "man", "veiling"])
def test_masculine_forms_and_plain_nouns_stay_unchanged(word: str) -> None:
    assert neutral_form(word) == word


# -in after a noun whose -in form the dictionary lists is its feminine, also ending a compound.
IN_FEMININES = {"cafewaardin": "cafewaard", "kroegwaardin": "kroegwaard", "Kroegwaardinnen": "Kroegwaarden"}


@pytest.mark.parametrize(("feminine", "masculine"), sorted(IN_FEMININES.items()))
def test_in_after_a_noun_the_dictionary_lists_with_it_folds(feminine: str, masculine: str) -> None:
    assert neutral_text(feminine) == masculine


@pytest.mark.parametrize("word", ["waarin", "voorin", "domein", "gespin", "bagagespin", "bassin", "kroegwaard"])
def test_in_words_that_are_no_feminine_stay_whole(word: str) -> None:
    assert neutral_form(word) == word


def test_the_in_feminine_nouns_are_persons_of_the_dictionary() -> None:
    nouns = in_feminine_nouns()
    assert {"waard", "held", "vorst", "boer"} <= nouns
    assert not {"waar", "voor", "dome", "midden"} & nouns


def test_the_word_classes_tell_nouns_verb_forms_and_adpositions() -> None:
    assert is_noun("kantine") and is_noun("waard") and not is_noun("mooi")
    assert is_verb_form("kochten") and is_verb_form("gehouden") and is_verb_form("aanrieden")
    assert not is_verb_form("planten") and not is_verb_form("eieren")  # plurals of nouns too
    assert is_adposition("tussen") and is_adposition("voor") and not is_adposition("kantine")


def test_the_word_classes_file_is_read_by_the_prepared_snapshot_key_and_well_formed() -> None:
    assert WORD_CLASSES_FILE in DATA_FILES
    lines = [line for line in gzip.decompress(WORD_CLASSES_FILE.read_bytes()).decode("utf-8").splitlines() if line]
    rows = [line.split("\t") for line in lines if not line.startswith("#")]
    assert len(rows) == len(word_classes()) > 200_000
    assert all(len(row) == 2 and set(row[1].split(",")) <= {"N", "A", "P", "V"} for row in rows)
    assert [row[0] for row in rows] == sorted(row[0] for row in rows)
