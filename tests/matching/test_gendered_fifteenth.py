"""-vrouw after a device in -or, -meter or -teller: the dense model's cue of meaning (matching/gendered_lexicon.py).

Session 47 (issue 19 item 5, the rule written after data/eval/gendered_heldout15.tsv's unseen run): a -vrouw after a
noun in -or, -meter or -teller that the lexicons take for a person by its form or marks, but that the dense model puts
nearer to device words than to person words, takes the -man compound ("stralingsmetervrouw" → stralingsmeterman; before,
it stayed whole). Persons in the same endings stay whole ("strafrechtervrouw", "commentatorvrouw"). None of the words
below is a word of data/eval/gendered_heldout15.tsv.
"""

from __future__ import annotations

import pytest

from matching import gendered_lexicon
from matching.gendered import neutral_form
from matching.gendered_lexicon import device_margin, names_device

DEVICES = {
    "stralingsmetervrouw": "stralingsmeterman",
    "calculatorvrouw": "calculatorman",
    "psychrometervrouw": "psychrometerman",
    "druppeltellervrouw": "druppeltellerman",
    "acceleratorvrouw": "acceleratorman",
}


@pytest.mark.parametrize(("feminine", "masculine"), sorted(DEVICES.items()))
def test_a_vrouw_after_a_device_takes_the_man_compound(feminine: str, masculine: str) -> None:
    assert neutral_form(feminine) == masculine


# Persons in -er or -or that no list holds as a job: the model keeps them persons, the word stays whole.
PERSONS = [
    "strafrechtervrouw",
    "kantonrechtervrouw",
    "onderzoeksrechtervrouw",
    "commentatorvrouw",
    "dictatorvrouw",
    "broedervrouw",
    "bankrovervrouw",
    "belastingontduikervrouw",
    "doodetervrouw",
    "concertpromotorvrouw",
    "schoenmakervrouw",
    "flexwerkervrouw",
]


@pytest.mark.parametrize("word", PERSONS)
def test_a_vrouw_after_a_person_in_an_agent_ending_stays_whole(word: str) -> None:
    assert neutral_form(word) == word


def test_the_margin_puts_devices_above_persons() -> None:
    assert device_margin("stralingsmeter") > gendered_lexicon.MIN_DEVICE_MARGIN > device_margin("strafrechter")
    assert names_device("calculator") and not names_device("commentator")


def test_only_nouns_in_an_agent_ending_are_asked() -> None:
    assert not names_device("machine")  # no instrument's ending: the lexicons decide alone
    assert not names_device("laserprinter")  # an -er noun: too many persons share it ("schoenmaker")
    assert not names_device("or")


def test_a_later_part_that_names_a_person_decides() -> None:
    assert device_margin("concertpromotor") > gendered_lexicon.MIN_DEVICE_MARGIN
    assert not names_device("concertpromotor")  # "promotor" names a person


def test_without_the_engine_the_fold_is_that_of_before(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gendered_lexicon, "_dense_model", lambda: None)
    gendered_lexicon._anchors.cache_clear()
    gendered_lexicon.device_margin.cache_clear()
    try:
        assert device_margin("stralingsmeter") is None
        assert not names_device("stralingsmeter")
    finally:
        gendered_lexicon._anchors.cache_clear()
        gendered_lexicon.device_margin.cache_clear()
