"""-vrouw after a thing whose noun the lexicons took for a person by its ending or by its verb.

Session 45 (issue 19 item 5, the rules written after data/eval/gendered_heldout13.tsv's unseen run): a noun that the
dictionary's person table marks only by its ending in -tor, -teur or -deur ("motor", "deur", "sector") and whose
compounds are mostly bare, with no office, feminine or linking -s, names no person, nor does a compound ending in one;
a verb's -er noun whose compounds are mostly bare and whose relation in -schap the dictionary does not list ("kamer" of
kamen, "ijzer" of ijzen) names no person. None of the words below is a word of data/eval/gendered_heldout13.tsv.
"""

from __future__ import annotations

import pytest

from matching import gendered_agents, gendered_rules
from matching.gendered import neutral_form
from matching.gendered_lexicon import _compounds_bare, _links_with_s, listed_persons, names_person

# The twelfth set's misses of this kind and other compounds of the same things: the -man compound.
THINGS = {
    "motorvrouw": "motorman",  # set 12's miss: "motor" was a person by its mark in the person table
    "buitenboordmotorvrouw": "buitenboordmotorman",
    "achterdeurvrouw": "achterdeurman",
    "postkamervrouw": "postkamerman",  # set 12's miss: "kamer" of kamen
    "oudijzervrouw": "oudijzerman",  # set 12's miss: "ijzer" of ijzen
    "slaapkamervrouw": "slaapkamerman",
    "strijkijzervrouw": "strijkijzerman",
    "radiozendervrouw": "radiozenderman",
    "postkamervrouwen": "postkamermannen",
}


@pytest.mark.parametrize(("feminine", "masculine"), sorted(THINGS.items()))
def test_a_vrouw_after_a_thing_the_lexicons_took_for_a_person_takes_the_man_compound(
    feminine: str, masculine: str
) -> None:
    assert neutral_form(feminine) == masculine


# Persons stay persons: an office in -schap (rechterschap, mentorschap), a person noun whose compounds link with -s, a
# -tor person with no compound at all, and "illustrator" does not end in the thing "tor" (a beetle: too short a head).
@pytest.mark.parametrize(
    "word",
    ["rechtersvrouw", "kinderrechtervrouw", "rectorsvrouw", "directeursvrouw", "illustratorvrouw", "mentorvrouw"],
)
def test_a_vrouw_after_a_person_with_an_office_or_no_compound_stays_whole(word: str) -> None:
    assert neutral_form(word) == word


def test_a_noun_marked_only_by_its_ending_is_listed_as_a_person_unless_its_compounds_are_bare() -> None:
    persons = listed_persons()
    assert not {"motor", "deur", "sector", "achterdeur", "elektromotor"} & persons
    assert {"rector", "directeur", "illustrator", "promotor", "mentor"} <= persons


@pytest.mark.parametrize("noun", ["kamer", "ijzer", "motor", "letter"])
def test_mostly_bare_compounds_mark_a_thing(noun: str) -> None:
    assert _compounds_bare(noun)
    assert not names_person(noun)


@pytest.mark.parametrize("noun", ["rechter", "bakker", "broeder", "dealer", "visser"])
def test_an_office_in_schap_or_linked_or_few_compounds_mark_no_thing(noun: str) -> None:
    assert not _compounds_bare(noun)


def test_a_thing_in_a_person_suffix_with_bare_compounds_still_takes_the_man_compound() -> None:
    assert not _links_with_s("schoolkrant") and not _links_with_s("papier")
    assert neutral_form("restaurantvrouw") == "restaurantman" and neutral_form("papiervrouw") == "papierman"


def test_the_verb_agents_module_is_what_the_rules_read() -> None:
    assert gendered_rules._verb_agent is gendered_agents._verb_agent
    assert gendered_rules._agent_candidates is gendered_agents._agent_candidates
    assert gendered_agents._verb_agent("boomkweekster") == "boomkweker"
    assert gendered_agents._verb_agent_at("tunnelwachtvrouw", "vrouw") == ("tunnelwachter", 6)
