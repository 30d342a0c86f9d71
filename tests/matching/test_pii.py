"""The free-text identifier detector: BSN-like numbers (elfproef), phone numbers, e-mail addresses."""

from __future__ import annotations

import pytest

from matching.pii import BSN, EMAIL, TELEFOON, elfproef, find_identifiers, refuse_identifiers


def test_the_elfproef_matches_worked_examples() -> None:
    # 111222333: 9+8+7+12+10+8+9+6-3 = 66 = 6·11; 123456782: 9+16+21+24+25+24+21+16-2 = 154 = 14·11
    assert elfproef("111222333") and elfproef("123456782")
    assert not elfproef("123456789") and not elfproef("000000000") and not elfproef("12345678")


@pytest.mark.parametrize(
    "text",
    [
        "mijn bsn is 123456782",
        "BSN: 1234.56.782, graag bewaren",
        "nummer 1234 56 782",
        "(111222333)",
    ],
)
def test_bsn_like_numbers_are_found(text: str) -> None:
    assert find_identifiers(text) == [BSN]


@pytest.mark.parametrize(
    "text",
    [
        "bel 06-12345678 na vijven",
        "0612345678",
        "telefoon +31 6 12345678",
        "0031612345678",
        "+31 (0)20 123 4567",
        "kantoor 020 123 4567",
        "(020) 123 4567",
        "werk 010-1234567.",
        "mobiel +32 470 12 34 56",
    ],
)
def test_phone_numbers_are_found(text: str) -> None:
    assert find_identifiers(text) == [TELEFOON]


@pytest.mark.parametrize("text", ["mail jan.jansen@example.nl", "JAN+werk@sub.voorbeeld.com!"])
def test_email_addresses_are_found(text: str) -> None:
    assert find_identifiers(text) == [EMAIL]


@pytest.mark.parametrize(
    "text",
    [
        "Ik heb van 2005-2015 in een magazijn gewerkt, 32-40 uur per week.",
        "Ordernummer 123456789 was fout",  # nine digits that fail the elfproef
        "Postcode 6811 AB, huisnummer 12; 0 tot 40 uur; 3 jaar ervaring; 1,5 km fietsen.",
        "Artikel 1234567890 in het systeem (tien cijfers, begint niet met 0)",
        "Heftruckcertificaat 2019; VCA 2021-03-01; 24/7 bereikbaar? nee.",
        "Ik ben goed met @mensen en met e-mail programma's.",
        "Scores: 0,75 en 0.5; versie 1.2.3",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert find_identifiers(text) == []


def test_every_kind_is_named_once_in_a_fixed_order() -> None:
    text = "a@b.nl 0612345678 123456782 c@d.nl 0687654321"
    assert find_identifiers(text) == [BSN, TELEFOON, EMAIL]


def test_refusal_names_what_was_found_but_not_the_value() -> None:
    with pytest.raises(ValueError, match="een telefoonnummer en een e-mailadres") as caught:
        refuse_identifiers("bel 0612345678 of mail jan@example.nl")
    assert "0612345678" not in str(caught.value) and "jan@" not in str(caught.value)
    assert refuse_identifiers("bel de werkgever op 0612345678", kinds=(BSN,)) == "bel de werkgever op 0612345678"
    with pytest.raises(ValueError, match="BSN"):
        refuse_identifiers("bsn 123456782", kinds=(BSN,))
