"""-vrouw after a person's noun with a linking -s, and after a compound whose agent noun the dictionary lists whole.

Session 46 (issue 19 item 5, the rules written after data/eval/gendered_heldout14.tsv's unseen run): a -vrouw after a
noun in an agent ending that the lexicons take for a person, with a linking -s, names his wife and stays whole (before,
"stropersvrouw" took "stropersman"); a -vrouw after a noun compound whose agent noun the dictionary or the word-class
table lists whole takes that agent, not the -man compound ("autoverhuurvrouw" → autoverhuurder, before autoverhuurman).
None of the words below is a word of data/eval/gendered_heldout14.tsv.
"""

from __future__ import annotations

import pytest

from matching.gendered import neutral_form
from matching.gendered_rules import _listed_whole, _wife_link

# A person's noun with a linking -s: his wife, no -man compound of hers.
WIVES = ["toplopersvrouw", "kappersvrouw", "schaatstoppersvrouw", "tennistoppersvrouw", "snellopersvrouw"]


@pytest.mark.parametrize("word", WIVES)
def test_a_vrouw_after_a_persons_noun_with_a_linking_s_stays_whole(word: str) -> None:
    assert neutral_form(word) == word


# Not a thing's noun with an -s ("kamer" of kamen names a room first), a noun no dictionary lists ("kikvor"), or a
# head of four letters ("vak" + "beur"): their -man compounds stay.
THINGS_WITH_S = {
    "eetkamersvrouw": "eetkamersman",
    "kikvorsvrouw": "kikvorsman",
    "vakbeursvrouw": "vakbeursman",
    "vijfdeursvrouw": "vijfdeursman",
}


@pytest.mark.parametrize(("feminine", "masculine"), sorted(THINGS_WITH_S.items()))
def test_a_vrouw_after_a_things_noun_with_an_s_keeps_its_man_compound(feminine: str, masculine: str) -> None:
    assert neutral_form(feminine) == masculine


def test_the_wife_link_needs_a_person_noun_the_dictionary_lists() -> None:
    assert _wife_link("stropers")
    assert _wife_link("toplopers")  # "loper" at a compound boundary
    assert not _wife_link("eetkamers")
    assert not _wife_link("kikvors")
    assert not _wife_link("stroper")  # no linking -s


# A noun compound whose agent noun the dictionary lists whole: the agent, not the -man compound.
LISTED_AGENTS = {
    "plaatdrukvrouw": "plaatdrukker",
    "koperdrukvrouw": "koperdrukker",
    "seizoensarbeidvrouw": "seizoensarbeider",
    "brugklasvrouw": "brugklasser",
    "plaatdrukvrouwen": "plaatdrukkers",
}


@pytest.mark.parametrize(("feminine", "masculine"), sorted(LISTED_AGENTS.items()))
def test_a_vrouw_after_a_compound_whose_agent_is_listed_whole_takes_the_agent(feminine: str, masculine: str) -> None:
    assert neutral_form(feminine) == masculine


# A stem of one part keeps the -man compound though the dictionary lists its agent ("krasser", "klasser"); a place
# whose agent no list holds keeps it too, as before.
@pytest.mark.parametrize(
    ("feminine", "masculine"),
    [("krasvrouw", "krasman"), ("klasvrouw", "klasman"), ("dansschoolvrouw", "dansschoolman")],
)
def test_a_one_part_stem_or_an_unlisted_agent_keeps_the_man_compound(feminine: str, masculine: str) -> None:
    assert neutral_form(feminine) == masculine


def test_listed_whole_reads_the_dictionary_and_the_noun_lemmas() -> None:
    assert _listed_whole("autoverhuurder")  # the dictionary
    assert _listed_whole("effectenhandelaar")  # the word-class table's noun lemmas
    assert not _listed_whole("kringloper")
